package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// numbers is a read whose rows never end.
const numbers = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"

// waitReadConnsIdle waits until no read holds a read connection of node i.
func waitReadConnsIdle(t *testing.T, c *servertest.Cluster, i int) {
	t.Helper()
	want := c.Config(i).ReadConns
	servertest.Eventually(t, 20*time.Second, "every read connection back in the pool", func() error {
		if got := server.IdleReadConns(c.Node(i)); got != want {
			return fmt.Errorf("%d of %d read connections idle", got, want)
		}
		return nil
	})
}

// TestEndlessSelectStreams reads rows of a statement that never ends: they
// can only arrive if they are sent as the statement steps. Cancelling the
// query (pgx sends a CancelRequest, then closes) must stop the statement
// and give its read connection back.
func TestEndlessSelectStreams(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	for _, level := range []string{"none", "linearizable", "weak"} {
		t.Run(level, func(t *testing.T) {
			l := c.Leader()
			conn := connect(t, c, l)
			mustExec(t, conn, "SET raftsql.read_consistency = "+level)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rows, err := conn.Query(ctx, numbers)
			if err != nil {
				t.Fatal(err)
			}
			var n int64
			for n < 1000 && rows.Next() {
				var x string
				if err := rows.Scan(&x); err != nil {
					t.Fatal(err)
				}
				n++
				if x != fmt.Sprint(n) {
					t.Fatalf("row %d holds %s", n, x)
				}
			}
			if n != 1000 {
				t.Fatalf("read %d rows, then: %v", n, rows.Err())
			}
			// The statement is still open on the node while the client
			// holds its rows.
			if idle := server.IdleReadConns(c.Node(l)); idle == c.Config(l).ReadConns {
				t.Fatalf("no read connection held while the rows stream")
			}
			cancel()
			rows.Close()
			waitReadConnsIdle(t, c, l)
		})
	}
}

// TestStreamStatementTimeout: statement_timeout ends a stream that has
// sent rows, with 57014 after the DataRows, and the connection goes back.
func TestStreamStatementTimeout(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	f := c.Follower()
	conn := connect(t, c, f)
	mustExec(t, conn, "SET raftsql.read_consistency = none")
	mustExec(t, conn, "SET statement_timeout = 300")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := conn.Query(ctx, numbers)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for rows.Next() {
		n++
	}
	var pe *pgconn.PgError
	if err := rows.Err(); !errors.As(err, &pe) || pe.Code != "57014" {
		t.Fatalf("after %d rows: got %v, want 57014", n, err)
	}
	if n == 0 {
		t.Fatal("no row before the timeout")
	}
	waitReadConnsIdle(t, c, f)
	// The session goes on.
	mustExec(t, conn, "SET statement_timeout = 0")
	if got := count(t, conn, "SELECT count(*) FROM (SELECT 1 UNION ALL SELECT 2)"); got != 2 {
		t.Fatalf("count %d", got)
	}
}

// TestLargeSelectBoundedMemory reads a table of 200 MiB of blobs from a
// node in the same process and checks that the heap does not grow with the
// result: rows go out as they are stepped.
func TestLargeSelectBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200 MiB on three nodes")
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	l := c.Leader()
	conn := connect(t, c, l)
	mustExec(t, conn, "CREATE TABLE big (id INTEGER PRIMARY KEY, b BLOB)")
	const rows, size = 200, 1 << 20
	for i := 0; i < rows; i += 20 {
		mustExec(t, conn, fmt.Sprintf("INSERT INTO big (b) SELECT randomblob(%d) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20) SELECT x FROM c)", size))
	}
	mustExec(t, conn, "SET raftsql.read_consistency = none")

	old := debug.SetGCPercent(50)
	defer debug.SetGCPercent(old)
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := heap()
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			if h := heap(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := conn.Query(ctx, "SELECT id, b FROM big ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	var n, total int
	for res.Next() {
		raw := res.RawValues()
		total += len(raw[1])
		n++
	}
	close(stop)
	<-sampled
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if n != rows || total != rows*size {
		t.Fatalf("read %d rows, %d bytes; want %d, %d", n, total, rows, rows*size)
	}
	growth := int64(peak.Load()) - int64(base)
	t.Logf("heap %d MiB before, peak %d MiB while reading %d MiB", base>>20, peak.Load()>>20, total>>20)
	if growth > 64<<20 {
		t.Fatalf("the heap grew by %d MiB while reading %d MiB: the result is held in memory", growth>>20, total>>20)
	}
	waitReadConnsIdle(t, c, l)
}

// execMsgs runs Execute(portal, maxRows) and flushes, then reads the
// answer up to PortalSuspended, CommandComplete or ErrorResponse. It
// returns the rows' first values as text and the final message.
func execMsgs(t *testing.T, fe *pgproto3.Frontend, portal string, maxRows uint32) ([]string, pgproto3.BackendMessage) {
	t.Helper()
	fe.Send(&pgproto3.Execute{Portal: portal, MaxRows: maxRows})
	fe.Send(&pgproto3.Flush{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		switch m := msg.(type) {
		case *pgproto3.DataRow:
			got = append(got, string(m.Values[0]))
		case *pgproto3.PortalSuspended, *pgproto3.ErrorResponse:
			return got, m
		case *pgproto3.CommandComplete:
			cp := *m
			cp.CommandTag = append([]byte(nil), m.CommandTag...)
			return got, &cp
		}
	}
}

// expect reads messages until one of type T, failing on an error.
func expect[T pgproto3.BackendMessage](t *testing.T, fe *pgproto3.Frontend) {
	t.Helper()
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := msg.(*pgproto3.ErrorResponse); ok {
			t.Fatalf("error %s: %s", e.Code, e.Message)
		}
		if _, ok := msg.(T); ok {
			return
		}
	}
}

// TestPortalMaxRows executes portals with a row limit, as pgx, JDBC's
// fetch size and psycopg's named cursors do: each Execute sends that many
// rows and suspends, the next goes on from the open cursor, a closed
// portal (or Sync outside a transaction) gives its read connection back.
func TestPortalMaxRows(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	l := c.Leader()
	conn := connect(t, c, l)
	mustExec(t, conn, "CREATE TABLE ten (x INTEGER)")
	mustExec(t, conn, "INSERT INTO ten SELECT x FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10) SELECT x FROM c)")
	pg := connect(t, c, l).PgConn()
	fe := pg.Frontend()

	// A finite result: 4, 4, then the last 2 and CommandComplete.
	fe.Send(&pgproto3.Parse{Name: "s", Query: "SELECT x FROM ten ORDER BY x"})
	fe.Send(&pgproto3.Bind{PreparedStatement: "s", DestinationPortal: "p"})
	fe.Send(&pgproto3.Flush{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	expect[*pgproto3.BindComplete](t, fe)
	var all []string
	for i, want := range []string{"suspended", "suspended", "SELECT 2"} {
		got, end := execMsgs(t, fe, "p", 4)
		all = append(all, got...)
		switch m := end.(type) {
		case *pgproto3.PortalSuspended:
			if want != "suspended" {
				t.Fatalf("execute %d: suspended, want %s", i, want)
			}
		case *pgproto3.CommandComplete:
			if string(m.CommandTag) != want {
				t.Fatalf("execute %d: %q, want %s", i, m.CommandTag, want)
			}
		default:
			t.Fatalf("execute %d: %#v", i, end)
		}
	}
	if fmt.Sprint(all) != "[1 2 3 4 5 6 7 8 9 10]" {
		t.Fatalf("rows %v", all)
	}
	fe.Send(&pgproto3.Sync{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	expect[*pgproto3.ReadyForQuery](t, fe)
	waitReadConnsIdle(t, c, l)

	// An endless result: the cursor is open between Executes; Close
	// gives its connection back.
	fe.Send(&pgproto3.Parse{Name: "e", Query: numbers})
	fe.Send(&pgproto3.Bind{PreparedStatement: "e", DestinationPortal: "q"})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	var seen []string
	for range 3 {
		got, end := execMsgs(t, fe, "q", 3)
		if _, ok := end.(*pgproto3.PortalSuspended); !ok {
			t.Fatalf("got %#v, want PortalSuspended", end)
		}
		seen = append(seen, got...)
		if idle := server.IdleReadConns(c.Node(l)); idle == c.Config(l).ReadConns {
			t.Fatal("the suspended portal holds no read connection")
		}
	}
	if fmt.Sprint(seen) != "[1 2 3 4 5 6 7 8 9]" {
		t.Fatalf("rows %v", seen)
	}
	fe.Send(&pgproto3.Close{ObjectType: 'P', Name: "q"})
	fe.Send(&pgproto3.Flush{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	expect[*pgproto3.CloseComplete](t, fe)
	waitReadConnsIdle(t, c, l)

	// Sync outside a transaction closes a suspended portal.
	fe.Send(&pgproto3.Bind{PreparedStatement: "e", DestinationPortal: "r"})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, end := execMsgs(t, fe, "r", 2); end == nil {
		t.Fatal("no answer")
	}
	fe.Send(&pgproto3.Sync{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	expect[*pgproto3.ReadyForQuery](t, fe)
	waitReadConnsIdle(t, c, l)
	fe.Send(&pgproto3.Execute{Portal: "r"})
	fe.Send(&pgproto3.Sync{})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	msg, err := fe.Receive()
	for err == nil {
		if e, ok := msg.(*pgproto3.ErrorResponse); ok {
			if e.Code != "34000" {
				t.Fatalf("executing a closed portal: %s %s", e.Code, e.Message)
			}
			break
		}
		msg, err = fe.Receive()
	}
	if err != nil {
		t.Fatal(err)
	}
	expect[*pgproto3.ReadyForQuery](t, fe)
}

// TestCancelledStreamsReleaseConnections cancels, on a follower, more
// streamed reads than it has read connections: were one kept, the later
// reads would wait for ever.
func TestCancelledStreamsReleaseConnections(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	f := c.Follower()
	conn := connect(t, c, f)
	mustExec(t, conn, "SET raftsql.read_consistency = none")
	for i := range 3 * c.Config(f).ReadConns {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		rows, err := conn.Query(ctx, numbers)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if !rows.Next() {
			t.Fatalf("read %d: no row: %v", i, rows.Err())
		}
		cancel()
		rows.Close()
		if !conn.IsClosed() {
			continue
		}
		conn = connect(t, c, f)
		mustExec(t, conn, "SET raftsql.read_consistency = none")
	}
	waitReadConnsIdle(t, c, f)
	var one int
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("read after the cancelled ones: %v", err)
	}
}

// TestMaxQuerySize: a message over --max-query-size is refused from its
// length with 54000, and one under it runs.
func TestMaxQuerySize(t *testing.T) {
	c := servertest.NewCluster(t, 1, servertest.Options{Configure: func(i int, cfg *server.Config) {
		cfg.MaxQuerySize = 1 << 20
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn := connect(t, c, 0)
	var n int
	if err := conn.QueryRow(ctx, "SELECT length('"+strings.Repeat("x", 1<<19)+"')").Scan(&n); err != nil || n != 1<<19 {
		t.Fatalf("a query under the limit: %d, %v", n, err)
	}
	_, err := conn.Exec(ctx, "SELECT length('"+strings.Repeat("x", 2<<20)+"')")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "54000" || !strings.Contains(pe.Message, "maximum query size") {
		t.Fatalf("a query over the limit: %v, want 54000", err)
	}
	conn = connect(t, c, 0)
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
		t.Fatal(err)
	}
}

// TestForwardedReadOverLimit: a follower's weak read, which the leader
// answers whole over the node-to-node channel, fails with 54000 when the
// answer outgrows the channel, and a smaller one still comes.
func TestForwardedReadOverLimit(t *testing.T) {
	restore := server.SetForwardedReadLimit(1 << 20)
	t.Cleanup(restore) // runs after the cluster's cleanup, registered later
	c := servertest.NewCluster(t, 3, servertest.Options{})
	conn := connect(t, c, c.Leader())
	mustExec(t, conn, "CREATE TABLE blobs (b BLOB)")
	mustExec(t, conn, "INSERT INTO blobs SELECT randomblob(100000) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20) SELECT x FROM c)")
	c.WaitSynced()
	fc := connect(t, c, c.Follower())
	mustExec(t, fc, "SET raftsql.read_consistency = weak")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var n int
	if err := fc.QueryRow(ctx, "SELECT count(*) FROM (SELECT b FROM blobs LIMIT 5)").Scan(&n); err != nil || n != 5 {
		t.Fatalf("a small forwarded read: %d, %v", n, err)
	}
	rows, _ := fc.Query(ctx, "SELECT b FROM blobs")
	for rows.Next() {
	}
	var pe *pgconn.PgError
	if err := rows.Err(); !errors.As(err, &pe) || pe.Code != "54000" || !strings.Contains(pe.Message, "node-to-node channel") {
		t.Fatalf("a forwarded read over the limit: %v, want 54000", err)
	}
	// The same read streams at consistency none on the follower.
	mustExec(t, fc, "SET raftsql.read_consistency = none")
	rows, _ = fc.Query(ctx, "SELECT b FROM blobs")
	n = 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil || n != 20 {
		t.Fatalf("streamed: %d rows, %v", n, err)
	}
}

// cancelAfter is a writer that cancels its context once it has seen n
// lines.
type cancelAfter struct {
	n      int
	cancel context.CancelFunc
}

func (w *cancelAfter) Write(p []byte) (int, error) {
	w.n -= strings.Count(string(p), "\n")
	if w.n <= 0 {
		w.cancel()
	}
	return len(p), nil
}

// TestCopyOutStreams: COPY … TO STDOUT of an endless query sends lines as
// the statement steps; cancelling it gives the read connection back.
func TestCopyOutStreams(t *testing.T) {
	c := servertest.NewCluster(t, 1, servertest.Options{})
	conn := connect(t, c, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := &cancelAfter{n: 1000, cancel: cancel}
	_, err := conn.PgConn().CopyTo(ctx, w, "COPY ("+numbers+") TO STDOUT")
	if w.n > 0 {
		t.Fatalf("%d lines short: %v", w.n, err)
	}
	if err == nil {
		t.Fatal("an endless COPY ended")
	}
	waitReadConnsIdle(t, c, 0)
}

// TestStreamValueNotFittingItsColumn: the column's type is chosen before
// the first row, from its declared type; a later value that does not read
// as that type ends the result with an error after the rows before it.
func TestStreamValueNotFittingItsColumn(t *testing.T) {
	c := servertest.NewCluster(t, 1, servertest.Options{})
	conn := connect(t, c, 0)
	mustExec(t, conn, "CREATE TABLE m (x INTEGER)")
	// A text the column's type would refuse gets in as an expression of
	// text (a literal alone is read as an integer, and refused).
	mustExec(t, conn, "INSERT INTO m VALUES (1), (2), ('abc'::text), (4)")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheDescribe} {
		rows, err := conn.Query(ctx, "SELECT x FROM m ORDER BY rowid", mode)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		var pe *pgconn.PgError
		if err := rows.Err(); !errors.As(err, &pe) || !strings.Contains(pe.Message, `column "x"`) || n != 2 {
			t.Fatalf("%v: %d rows, then %v; want 2 rows, then an error naming the column", mode, n, err)
		}
		if pe.Code == "XX000" || pe.Code == "" {
			t.Fatalf("%v: code %q", mode, pe.Code)
		}
	}
	waitReadConnsIdle(t, c, 0)
}

// TestClientThatStopsReading: a client that sends an endless SELECT and
// then reads nothing fills its socket's buffers; the node ends the
// connection after --client-write-timeout, which gives the stream's read
// connection (and the snapshot a restore would wait for) back.
func TestClientThatStopsReading(t *testing.T) {
	c := servertest.NewCluster(t, 1, servertest.Options{Configure: func(i int, cfg *server.Config) {
		cfg.ClientWriteTimeout = time.Second
	}})
	nc, err := net.DialTimeout("tcp", c.PGAddr(0), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "slow", "database": "raftsql", "options": "-c raftsql.read_consistency=none"}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatalf("startup: %v", err)
		}
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	fe.Send(&pgproto3.Query{String: numbers})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	// The statement holds a read connection while the client reads nothing.
	servertest.Eventually(t, 10*time.Second, "the stream holds a read connection", func() error {
		if got := server.IdleReadConns(c.Node(0)); got == c.Config(0).ReadConns {
			return errors.New("no read connection held yet")
		}
		return nil
	})
	waitReadConnsIdle(t, c, 0)
	// The node closed the connection: once the client drains what was
	// buffered, it finds the end.
	nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.Copy(io.Discard, nc); err != nil {
		t.Fatalf("the node did not end the connection: %v", err)
	}
}
