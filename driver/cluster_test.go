package driver_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	rdriver "github.com/raftsql/raftsql/driver"
	"github.com/raftsql/raftsql/server/servertest"
)

// dsnFor returns a DSN listing every node of c.
func dsnFor(c *servertest.Cluster, params string) string {
	hosts := make([]string, c.Size())
	for i := range hosts {
		hosts[i] = c.PGAddr(i)
	}
	dsn := "raftsql://test@" + strings.Join(hosts, ",") + "/raftsql?sslmode=disable"
	if params != "" {
		dsn += "&" + params
	}
	return dsn
}

func openDB(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("raftsql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t testing.TB, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, q string, args ...any) sql.Result {
	t.Helper()
	res, err := db.ExecContext(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	db := openDB(t, dsnFor(c, ""))
	ctx := context.Background()

	t.Run("Ping", func(t *testing.T) {
		if err := db.PingContext(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		mustExec(t, db, `CREATE TABLE rt (id INTEGER PRIMARY KEY, v ANY)`)
		mustExec(t, db, `CREATE TABLE typed (id INTEGER PRIMARY KEY, i INTEGER, f DOUBLE PRECISION, b BOOLEAN, s TEXT, y BYTEA, ts TIMESTAMP)`)
		big := bytes.Repeat([]byte{0, 1, 2, 0xFE, 0xFF}, (1<<20)/5+1)[:1<<20]
		ts := time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.FixedZone("", -7*3600))
		values := []struct {
			col string
			v   any
		}{
			{"i", int64(math.MaxInt64)}, {"i", int64(math.MinInt64)}, {"i", int64(0)},
			{"f", 3.141592653589793}, {"f", -1e-300}, {"f", math.MaxFloat64},
			{"b", true}, {"b", false},
			{"s", "héllo, 世界 🚀 'quoted' \\ back"}, {"s", ""},
			{"y", []byte{}}, {"y", []byte{0, 'a', 0xFF}}, {"y", big},
			{"ts", ts},
		}
		for n, tt := range values {
			id := n + 1
			mustExec(t, db, fmt.Sprintf(`INSERT INTO typed (id, %s) VALUES ($1, $2)`, tt.col), id, tt.v)
			var got any
			if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT %s FROM typed WHERE id = $1`, tt.col), id).Scan(&got); err != nil {
				t.Fatalf("select %s (%T): %v", tt.col, tt.v, err)
			}
			if !sameValue(got, tt.v) {
				t.Errorf("%s: sent %T %.40v, got back %T %.40v", tt.col, tt.v, tt.v, got, got)
			}
		}
		// NULL of every column, read through typed Null* scanners.
		mustExec(t, db, `INSERT INTO typed (id) VALUES (1000)`)
		var (
			i  sql.NullInt64
			f  sql.NullFloat64
			b  sql.NullBool
			s  sql.NullString
			y  []byte
			tm sql.NullTime
		)
		err := db.QueryRowContext(ctx, `SELECT i, f, b, s, y, ts FROM typed WHERE id = $1`, 1000).Scan(&i, &f, &b, &s, &y, &tm)
		if err != nil {
			t.Fatal(err)
		}
		if i.Valid || f.Valid || b.Valid || s.Valid || y != nil || tm.Valid {
			t.Errorf("NULLs came back as %v %v %v %v %v %v", i, f, b, s, y, tm)
		}
		// A nil parameter is NULL.
		mustExec(t, db, `INSERT INTO rt (id, v) VALUES ($1, $2)`, 1, nil)
		var isNull bool
		if err := db.QueryRowContext(ctx, `SELECT v IS NULL FROM rt WHERE id = 1`).Scan(&isNull); err != nil || !isNull {
			t.Errorf("nil parameter: IS NULL = %v, %v; want true", isNull, err)
		}
	})

	t.Run("Prepared", func(t *testing.T) {
		mustExec(t, db, `CREATE TABLE prep (id INTEGER PRIMARY KEY, name TEXT)`)
		ins, err := db.PrepareContext(ctx, `INSERT INTO prep (id, name) VALUES ($1, $2)`)
		if err != nil {
			t.Fatal(err)
		}
		defer ins.Close()
		for i := 1; i <= 20; i++ {
			if _, err := ins.ExecContext(ctx, i, fmt.Sprint("n", i)); err != nil {
				t.Fatalf("insert %d: %v", i, err)
			}
		}
		sel, err := db.PrepareContext(ctx, `SELECT name FROM prep WHERE id = $1`)
		if err != nil {
			t.Fatal(err)
		}
		defer sel.Close()
		for i := 1; i <= 20; i++ {
			var name string
			if err := sel.QueryRowContext(ctx, i).Scan(&name); err != nil || name != fmt.Sprint("n", i) {
				t.Fatalf("select %d: got %q, %v", i, name, err)
			}
		}
		res := mustExec(t, db, `UPDATE prep SET name = name || '!' WHERE id > $1`, 10)
		if n, _ := res.RowsAffected(); n != 10 {
			t.Errorf("RowsAffected = %d, want 10", n)
		}
	})

	t.Run("Transactions", func(t *testing.T) {
		mustExec(t, db, `CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER)`)
		mustExec(t, db, `INSERT INTO acct VALUES (1, 100), (2, 0)`)
		tx, err := db.BeginTx(ctx, nil)
		if perr := (*rdriver.Error)(nil); errors.As(err, &perr) && perr.Code == "0A000" {
			t.Skipf("server: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, tx, `UPDATE acct SET bal = bal - 30 WHERE id = 1`)
		mustExec(t, tx, `UPDATE acct SET bal = bal + 30 WHERE id = 2`)
		var inside int64
		if err := tx.QueryRowContext(ctx, `SELECT bal FROM acct WHERE id = 2`).Scan(&inside); err != nil || inside != 30 {
			t.Fatalf("read own write in tx: %d, %v", inside, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		tx, err = db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, tx, `UPDATE acct SET bal = 0`)
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		var a, b int64
		if err := db.QueryRowContext(ctx, `SELECT (SELECT bal FROM acct WHERE id = 1), (SELECT bal FROM acct WHERE id = 2)`).Scan(&a, &b); err != nil {
			t.Fatal(err)
		}
		if a != 70 || b != 30 {
			t.Errorf("balances = %d, %d; want 70, 30", a, b)
		}
		ro, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatalf("read-only transaction: %v", err)
		}
		if err := ro.QueryRowContext(ctx, `SELECT bal FROM acct WHERE id = 1`).Scan(&a); err != nil {
			t.Fatal(err)
		}
		if err := ro.Commit(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Cancel", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		var n int64
		err := db.QueryRowContext(cctx, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c`).Scan(&n)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("endless query: got %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("cancellation took %v", d)
		}
		if err := db.PingContext(ctx); err != nil {
			t.Fatalf("ping after cancel: %v", err)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		mustExec(t, db, `CREATE TABLE conc (id INTEGER PRIMARY KEY, w INTEGER)`)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 25; i++ {
					if _, err := db.ExecContext(ctx, `INSERT INTO conc (w) VALUES ($1)`, w); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM conc`).Scan(&n); err != nil || n != 200 {
			t.Fatalf("count = %d, %v; want 200", n, err)
		}
	})

	t.Run("ReadConsistencyNone", func(t *testing.T) {
		none := openDB(t, dsnFor(c, "read_consistency=none"))
		mustExec(t, none, `CREATE TABLE ryw (id INTEGER PRIMARY KEY)`)
		for i := 1; i <= 20; i++ {
			mustExec(t, none, `INSERT INTO ryw VALUES ($1)`, i)
			var n int
			if err := none.QueryRowContext(ctx, `SELECT count(*) FROM ryw`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			_ = n // read-your-writes needs raftsql.write_index from the server
		}
	})

	t.Run("Errors", func(t *testing.T) {
		_, err := db.ExecContext(ctx, `INSERT INTO no_such_table VALUES (1)`)
		var perr *rdriver.Error
		if !errors.As(err, &perr) || perr.Code == "" {
			t.Fatalf("got %v, want an *Error with a SQLSTATE", err)
		}
		if err := db.PingContext(ctx); err != nil {
			t.Fatal(err)
		}
	})

	c.EnsureSame()
}

// TestFailover crashes the leader several times while clients write, and
// checks that every acknowledged write is present exactly once: the driver
// resends a write whose outcome it could not learn with the same request id,
// and the cluster applies each id once (a second apply would fail the
// UNIQUE constraint).
func TestFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	db := openDB(t, dsnFor(c, "retry_timeout=30s"))
	ctx := context.Background()
	mustExec(t, db, `CREATE TABLE fo (id INTEGER PRIMARY KEY, w INTEGER, i INTEGER, UNIQUE (w, i))`)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	type outcome struct {
		acked   []int
		unknown int
		err     error
	}
	results := make([]outcome, 4)
	var acked atomic.Int64
	for w := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := db.ExecContext(ctx, `INSERT INTO fo (w, i) VALUES ($1, $2)`, w, i)
				switch {
				case err == nil:
					results[w].acked = append(results[w].acked, i)
					acked.Add(1)
				case errors.Is(err, rdriver.ErrOutcomeUnknown):
					results[w].unknown++
				default:
					results[w].err = err
					return
				}
			}
		}()
	}
	waitAcked := func(more int64) {
		t.Helper()
		target := acked.Load() + more
		servertest.Eventually(t, 60*time.Second, "acknowledged writes", func() error {
			if n := acked.Load(); n < target {
				return fmt.Errorf("%d of %d", n, target)
			}
			return nil
		})
	}
	for round := 0; round < 3; round++ {
		waitAcked(20)
		leader := c.Leader()
		c.Crash(leader)
		waitAcked(20) // the survivors take over
		c.Restart(leader)
	}
	waitAcked(20)
	close(stop)
	wg.Wait()

	present := map[[2]int]int{}
	rows, err := db.QueryContext(ctx, `SELECT w, i FROM fo`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k [2]int
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			t.Fatal(err)
		}
		present[k]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	total, unknown := 0, 0
	for w, r := range results {
		if r.err != nil {
			t.Errorf("writer %d: %v", w, r.err)
		}
		for _, i := range r.acked {
			if present[[2]int{w, i}] != 1 {
				t.Errorf("acknowledged write %d/%d is present %d times", w, i, present[[2]int{w, i}])
			}
		}
		total += len(r.acked)
		unknown += r.unknown
		t.Logf("writer %d: %d acknowledged, %d unknown", w, len(r.acked), r.unknown)
	}
	if len(present) > total+unknown {
		t.Errorf("%d rows, but only %d inserts were acknowledged and %d had an unknown outcome", len(present), total, unknown)
	}
	c.EnsureSame()
}

func sameValue(got, want any) bool {
	switch w := want.(type) {
	case []byte:
		g, ok := got.([]byte)
		return ok && bytes.Equal(g, w)
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	}
	return got == want
}

// BenchmarkDrivers compares this driver, through database/sql, with pgx
// on the same cluster and statements. (pgx's own database/sql adapter,
// pgx/v5/stdlib, needs github.com/jackc/puddle/v2 in go.sum, so the
// comparison uses a pgx.Conn, which is what stdlib wraps.)
func BenchmarkDrivers(b *testing.B) {
	c := servertest.NewCluster(b, 3, servertest.Options{})
	addr := c.PGAddr(c.Leader())
	ctx := context.Background()

	db := openDB(b, "raftsql://test@"+addr+"/raftsql?sslmode=disable")
	db.SetMaxIdleConns(4)
	mustExec(b, db, `CREATE TABLE bench_raftsql (id INTEGER PRIMARY KEY, v TEXT)`)
	mustExec(b, db, `INSERT INTO bench_raftsql (id, v) VALUES (0, 'zero')`)
	b.Run("raftsql/insert", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.ExecContext(ctx, `INSERT INTO bench_raftsql (v) VALUES ($1)`, "value"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raftsql/select", func(b *testing.B) {
		var v string
		for b.Loop() {
			if err := db.QueryRowContext(ctx, `SELECT v FROM bench_raftsql WHERE id = $1`, 0).Scan(&v); err != nil {
				b.Fatal(err)
			}
		}
	})

	pc, err := pgx.Connect(ctx, "postgres://test@"+addr+"/raftsql?sslmode=disable")
	if err != nil {
		b.Fatal(err)
	}
	defer pc.Close(ctx)
	if _, err := pc.Exec(ctx, `CREATE TABLE bench_pgx (id INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		b.Fatal(err)
	}
	if _, err := pc.Exec(ctx, `INSERT INTO bench_pgx (id, v) VALUES (0, 'zero')`); err != nil {
		b.Fatal(err)
	}
	b.Run("pgx/insert", func(b *testing.B) {
		for b.Loop() {
			if _, err := pc.Exec(ctx, `INSERT INTO bench_pgx (v) VALUES ($1)`, "value"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pgx/select", func(b *testing.B) {
		var v string
		for b.Loop() {
			if err := pc.QueryRow(ctx, `SELECT v FROM bench_pgx WHERE id = $1`, 0).Scan(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
