package server_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

func connect(t testing.TB, c *servertest.Cluster, i int) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN(i))
	if err != nil {
		t.Fatalf("connect to node %d: %v", i, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustExec(t testing.TB, conn *pgx.Conn, sql string, args ...any) pgconn.CommandTag {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tag, err := conn.Exec(ctx, sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return tag
}

func count(t testing.TB, conn *pgx.Conn, sql string, args ...any) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var n int64
	if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestWritesThroughFollowerReachEveryNode(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	f := c.Follower()
	conn := connect(t, c, f)
	mustExec(t, conn, "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)")
	for i := 0; i < 20; i++ {
		tag := mustExec(t, conn, "INSERT INTO kv VALUES ($1, $2)", fmt.Sprintf("k%d", i), i)
		if tag.String() != "INSERT 0 1" {
			t.Fatalf("tag = %q, want INSERT 0 1", tag)
		}
	}
	if got := mustExec(t, conn, "UPDATE kv SET v = v + 1 WHERE v < 5").RowsAffected(); got != 5 {
		t.Fatalf("updated %d rows, want 5", got)
	}
	c.EnsureSame()
	for i := 0; i < c.Size(); i++ {
		other := connect(t, c, i)
		if n := count(t, other, "SELECT count(*) FROM kv"); n != 20 {
			t.Fatalf("node %d has %d rows, want 20", i, n)
		}
	}
}

// TestConcurrentWritesShareEntries sends many writes at once, through the
// leader and through followers, some of them failing: the leader packs them
// into shared log entries, and each still gets its own outcome.
func TestConcurrentWritesShareEntries(t *testing.T) {
	// About grouping, not failover: each write must succeed.
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) { steady(cfg) }})
	leader := c.Leader()
	mustExec(t, connect(t, c, leader), "CREATE TABLE items (id INTEGER PRIMARY KEY, writer INTEGER, seq INTEGER, UNIQUE (writer, seq))")
	const writers, perWriter = 24, 20
	var wg sync.WaitGroup
	ids := make([][]int64, writers)
	for w := range writers {
		conn := connect(t, c, w%c.Size())
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := range perWriter {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				var id int64
				err := conn.QueryRow(ctx, "INSERT INTO items (writer, seq) VALUES ($1, $2) RETURNING id", w, seq).Scan(&id)
				if err != nil {
					cancel()
					t.Errorf("writer %d insert %d: %v", w, seq, err)
					return
				}
				ids[w] = append(ids[w], id)
				// A duplicate fails alone, whatever it shares an entry with.
				_, err = conn.Exec(ctx, "INSERT INTO items (writer, seq) VALUES ($1, $2)", w, seq)
				cancel()
				if sqlState(err) != "23505" {
					t.Errorf("writer %d duplicate %d: got %v, want SQLSTATE 23505", w, seq, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	c.EnsureSame()
	check := connect(t, c, leader)
	for w := range writers {
		for seq, id := range ids[w] {
			if n := count(t, check, "SELECT count(*) FROM items WHERE id = $1 AND writer = $2 AND seq = $3", id, w, seq); n != 1 {
				t.Fatalf("writer %d insert %d: RETURNING gave id %d, which holds %d matching rows", w, seq, id, n)
			}
		}
	}
	if n := count(t, check, "SELECT count(*) FROM items"); n != writers*perWriter {
		t.Fatalf("%d rows, want %d", n, writers*perWriter)
	}
	// Each node counts what it proposed while it led: on a loaded machine
	// the leadership may move during the test.
	var writes, entries uint64
	for i := range c.Size() {
		st := c.Node(i).LocalStatus()
		writes += st.Writes
		entries += st.WriteEntries
	}
	if writes < 2*writers*perWriter || entries >= writes {
		t.Errorf("the leaders committed %d writes in %d entries; want at least %d writes, in fewer entries", writes, entries, 2*writers*perWriter)
	}
	t.Logf("%d writes in %d entries", writes, entries)
}

// Writers in a closed loop each send their next write as soon as the last
// one is answered, and the leader holds the next entry open for them
// (group_test.go tests when it does): every write is applied once, with its
// own outcome, the same on every node. How many share an entry depends on
// the machine's timing, so it is logged, not asserted; docs/BENCHMARKS.md
// measures it.
func TestClosedLoopWritersShareEachEntry(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	leader := c.Leader()
	mustExec(t, connect(t, c, leader), "CREATE TABLE items (id INTEGER PRIMARY KEY, writer INTEGER)")
	const writers, perWriter = 12, 40
	conns := make([]*pgx.Conn, writers)
	for w := range conns {
		conns[w] = connect(t, c, leader)
	}
	before := c.Node(leader).LocalStatus()
	insertInClosedLoop(t, conns, perWriter)
	if t.Failed() {
		return
	}
	after := c.Node(leader).LocalStatus()
	writes, entries := after.Writes-before.Writes, after.WriteEntries-before.WriteEntries
	t.Logf("%d writes in %d entries", writes, entries)
	if writes != writers*perWriter {
		t.Fatalf("%d writes counted, want %d", writes, writers*perWriter)
	}
	if entries == 0 || entries > writes {
		t.Fatalf("%d writes in %d entries", writes, entries)
	}
	c.EnsureSame()
}

// insertInClosedLoop has each connection insert n rows into items, one
// after the other, each sent as soon as the last is answered.
func insertInClosedLoop(t *testing.T, conns []*pgx.Conn, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for w, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				_, err := conn.Exec(ctx, "INSERT INTO items (writer) VALUES ($1)", w)
				cancel()
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// With two entries in flight, at most one slot holds its entry open at a
// time, and every slot comes back: the writes all land and the nodes close.
func TestTwoProposalsInFlightWithHeldEntries(t *testing.T) {
	// About the write slots, not failover: at a load average of 15 the
	// default leases lapsed and every writer got 40003.
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) {
		steady(cfg)
		cfg.ProposalsInFlight = 2
	}})
	leader := c.Leader()
	mustExec(t, connect(t, c, leader), "CREATE TABLE items (id INTEGER PRIMARY KEY, writer INTEGER)")
	const writers, perWriter = 12, 30
	conns := make([]*pgx.Conn, writers)
	for w := range conns {
		conns[w] = connect(t, c, leader)
	}
	insertInClosedLoop(t, conns, perWriter)
	if n := count(t, connect(t, c, leader), "SELECT count(*) FROM items"); n != writers*perWriter {
		t.Fatalf("%d rows, want %d", n, writers*perWriter)
	}
	c.EnsureSame()
	closed := make(chan error, 1)
	go func() { closed <- c.Node(leader).Close() }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("the leader did not close: a write slot was never given back")
	}
}

func TestLinearizableReadOnFollowerSeesAcknowledgedWrites(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	leader := c.Leader()
	f := c.Follower()
	w := connect(t, c, leader)
	r := connect(t, c, f)
	mustExec(t, w, "CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)")
	mustExec(t, w, "INSERT INTO counter VALUES (1, 0)")
	for i := 1; i <= 50; i++ {
		mustExec(t, w, "UPDATE counter SET n = $1 WHERE id = 1", i)
		// The follower may not have applied the update yet; a
		// linearizable read must still see it.
		if got := count(t, r, "SELECT n FROM counter WHERE id = 1"); got != int64(i) {
			t.Fatalf("follower read %d after write %d was acknowledged", got, i)
		}
	}
}

func TestReadConsistencyLevels(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	f := c.Follower()
	conn := connect(t, c, f)
	mustExec(t, conn, "CREATE TABLE t (x INTEGER)")
	mustExec(t, conn, "INSERT INTO t VALUES (1)")
	for _, level := range []string{"linearizable", "strong", "weak", "none"} {
		mustExec(t, conn, "SET raftsql.read_consistency = "+level)
		var shown string
		if err := conn.QueryRow(context.Background(), "SHOW raftsql.read_consistency").Scan(&shown); err != nil {
			t.Fatal(err)
		}
		if shown != level {
			t.Fatalf("SHOW gave %q, want %q", shown, level)
		}
		if level == "none" {
			c.WaitSynced()
		}
		if n := count(t, conn, "SELECT count(*) FROM t"); n != 1 {
			t.Fatalf("%s read: %d rows, want 1", level, n)
		}
	}
	_, err := conn.Exec(context.Background(), "SET raftsql.read_consistency = sometimes")
	if sqlState(err) != "22023" {
		t.Fatalf("bad level: err %v, want SQLSTATE 22023", err)
	}
}

func TestLeaderCrashDuringWrites(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	conn := connect(t, c, c.Leader())
	mustExec(t, conn, "CREATE TABLE events (id INTEGER PRIMARY KEY, writer INTEGER, seq INTEGER)")

	var acked sync.Map // "writer/seq" -> true
	var ackedCount atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seq := 0
			var conn *pgx.Conn
			for {
				select {
				case <-stop:
					if conn != nil {
						conn.Close(context.Background())
					}
					return
				default:
				}
				if conn == nil {
					// Any running node will do: followers forward.
					for i := 0; i < c.Size() && conn == nil; i++ {
						if n := c.Node((w + i) % c.Size()); n != nil {
							ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
							conn, _ = pgx.Connect(ctx, c.DSN((w+i)%c.Size()))
							cancel()
						}
					}
					if conn == nil {
						continue
					}
				}
				seq++
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				_, err := conn.Exec(ctx, "INSERT INTO events (writer, seq) VALUES ($1, $2)", w, seq)
				cancel()
				if err == nil {
					acked.Store(fmt.Sprintf("%d/%d", w, seq), true)
					ackedCount.Add(1)
					continue
				}
				if conn.IsClosed() || sqlState(err) == "" {
					conn.Close(context.Background())
					conn = nil
				}
			}
		}()
	}
	servertest.Eventually(t, 30*time.Second, "writes before the crash", func() error {
		if ackedCount.Load() < 20 {
			return fmt.Errorf("%d writes", ackedCount.Load())
		}
		return nil
	})
	old := c.Leader()
	c.Crash(old)
	before := ackedCount.Load()
	servertest.Eventually(t, 60*time.Second, "writes after the crash", func() error {
		if ackedCount.Load() < before+20 {
			return fmt.Errorf("%d writes since the crash", ackedCount.Load()-before)
		}
		return nil
	})
	if c.Leader() == old {
		t.Fatal("crashed node still leads")
	}
	close(stop)
	wg.Wait()

	c.EnsureSame()
	check := connect(t, c, c.Leader())
	rows, err := check.Query(context.Background(), "SELECT writer, seq FROM events")
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]int{}
	for rows.Next() {
		var w, s int
		if err := rows.Scan(&w, &s); err != nil {
			t.Fatal(err)
		}
		present[fmt.Sprintf("%d/%d", w, s)]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	missing := 0
	acked.Range(func(k, _ any) bool {
		if present[k.(string)] == 0 {
			missing++
			t.Errorf("acknowledged write %s is missing", k)
		}
		return missing < 10
	})
	for k, n := range present {
		if n > 1 {
			t.Errorf("write %s applied %d times", k, n)
		}
	}

	c.Restart(old)
	c.EnsureSame()
}

func TestPartitionedLeaderCannotAcknowledge(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		cfg.ApplyTimeout = 3 * time.Second
		cfg.ReadTimeout = 3 * time.Second
	}})
	old := c.Leader()
	conn := connect(t, c, old)
	mustExec(t, conn, "CREATE TABLE t (x INTEGER)")
	mustExec(t, conn, "INSERT INTO t VALUES (1)")
	c.WaitSynced()

	c.Partition(old)
	_, err := conn.Exec(context.Background(), "INSERT INTO t VALUES (2)")
	if err == nil {
		t.Fatal("isolated old leader acknowledged a write")
	}
	if st := sqlState(err); st != server.StateOutcomeUnknown && st != server.StateNoLeader {
		t.Fatalf("write on isolated leader: %v (SQLSTATE %s), want %s or %s", err, st, server.StateOutcomeUnknown, server.StateNoLeader)
	}
	var n int64
	err = conn.QueryRow(context.Background(), "SELECT count(*) FROM t").Scan(&n)
	if err == nil {
		t.Fatalf("isolated old leader served a linearizable read (%d rows)", n)
	}

	// The majority elects a new leader and goes on.
	var newLeader int
	servertest.Eventually(t, 30*time.Second, "a new leader in the majority", func() error {
		for i := 0; i < c.Size(); i++ {
			if i != old && c.Node(i).IsLeader() {
				newLeader = i
				return nil
			}
		}
		return errors.New("none yet")
	})
	nc := connect(t, c, newLeader)
	mustExec(t, nc, "INSERT INTO t VALUES (3)")

	c.Heal()
	c.EnsureSame()
	rows := count(t, nc, "SELECT count(*) FROM t WHERE x IN (1, 3)")
	if rows != 2 {
		t.Fatalf("after heal: %d of the acknowledged rows, want 2", rows)
	}
}

func TestWipedFollowerCatchesUpFromSnapshot(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		cfg.SnapshotThreshold = 50
		cfg.SnapshotInterval = 100 * time.Millisecond
		cfg.TrailingLogs = 10
	}})
	leader := c.Leader()
	conn := connect(t, c, leader)
	mustExec(t, conn, "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
	for i := 0; i < 200; i++ {
		mustExec(t, conn, "INSERT INTO t (body) VALUES ($1)", strings.Repeat("x", i))
	}
	if _, err := c.Node(leader).Snapshot(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	f := c.Follower()
	c.Wipe(f)
	c.EnsureSame()
	fc := connect(t, c, f)
	mustExec(t, fc, "SET raftsql.read_consistency = none")
	if n := count(t, fc, "SELECT count(*) FROM t"); n != 200 {
		t.Fatalf("wiped follower has %d rows, want 200", n)
	}
}

func TestDeterministicFunctionsAgreeOnEveryNode(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	conn := connect(t, c, c.Follower())
	mustExec(t, conn, `CREATE TABLE d (
		id INTEGER PRIMARY KEY,
		created TEXT DEFAULT CURRENT_TIMESTAMP,
		r INTEGER DEFAULT (random()),
		b BLOB DEFAULT (randomblob(8)),
		note TEXT)`)
	mustExec(t, conn, `CREATE TABLE audit (id INTEGER PRIMARY KEY, at TEXT, r INTEGER)`)
	mustExec(t, conn, `CREATE TRIGGER d_audit AFTER INSERT ON d BEGIN
		INSERT INTO audit (at, r) VALUES (datetime('now'), random());
	END`)
	for i := 0; i < 10; i++ {
		mustExec(t, conn, "INSERT INTO d (note) VALUES ($1)", fmt.Sprint(i))
	}
	mustExec(t, conn, "INSERT INTO d (note, r) VALUES (strftime('%Y-%m-%d %H:%M:%f', 'now'), abs(random()) % 1000)")
	mustExec(t, conn, "UPDATE d SET note = julianday('now') || hex(randomblob(4)) WHERE id = 1")
	c.EnsureSame()
}

func TestRefusedStatementsChangeNothing(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	f := c.Follower()
	conn := connect(t, c, f)
	mustExec(t, conn, "CREATE TABLE t (x INTEGER)")
	before := c.Node(c.Leader()).AppliedIndex()
	refused := []string{
		"ATTACH DATABASE '/tmp/other.db' AS other",
		"DETACH DATABASE other",
		"VACUUM INTO '/tmp/copy.db'",
		"PRAGMA journal_mode = DELETE",
		"PRAGMA synchronous = FULL",
		"PRAGMA foreign_keys = OFF",
		"SELECT load_extension('/tmp/evil.so')",
	}
	for _, sql := range refused {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheDescribe} {
			_, err := conn.Exec(context.Background(), sql, mode)
			if err == nil {
				t.Errorf("%s was accepted", sql)
				continue
			}
			if st := sqlState(err); st != "42501" {
				t.Errorf("%s: %v (SQLSTATE %s), want 42501", sql, err, st)
			}
		}
	}
	if after := c.Node(c.Leader()).AppliedIndex(); after != before {
		t.Errorf("refused statements reached the log: applied index %d -> %d", before, after)
	}
	// The read-only pragmas that tools use still work.
	if _, err := conn.Exec(context.Background(), "PRAGMA table_info(t)"); err != nil {
		t.Errorf("PRAGMA table_info: %v", err)
	}
	c.EnsureSame()
}

func TestSQLErrorsCarrySQLState(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	conn := connect(t, c, c.Follower())
	mustExec(t, conn, "CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
	mustExec(t, conn, "CREATE TABLE ch (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id), n INTEGER CHECK (n > 0))")
	mustExec(t, conn, "INSERT INTO p VALUES (1, 'a')")
	cases := []struct{ sql, state string }{
		{"SELEC 1", "42601"},
		{"SELECT * FROM nope", "42P01"},
		{"INSERT INTO p VALUES (2, 'a')", "23505"},
		{"INSERT INTO p VALUES (1, 'b')", "23505"},
		{"INSERT INTO p (id) VALUES (3)", "23502"},
		{"INSERT INTO ch VALUES (1, 42, 1)", "23503"},
		{"INSERT INTO ch VALUES (1, 1, 0)", "23514"},
		{"SELECT nope FROM p", "42703"},
	}
	for _, tc := range cases {
		_, err := conn.Exec(context.Background(), tc.sql)
		if got := sqlState(err); got != tc.state {
			t.Errorf("%s: %v (SQLSTATE %q), want %s", tc.sql, err, got, tc.state)
		}
	}
	if n := count(t, conn, "SELECT count(*) FROM p"); n != 1 {
		t.Fatalf("failed statements left rows: %d, want 1", n)
	}
	c.EnsureSame()
}

func TestPsqlAgainstCluster(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (apt-get install postgresql-client)")
	}
	// About psql, not failover: under the race detector on a loaded
	// machine the default leases lapsed and a describe command failed
	// with "no leader reachable".
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) { steady(cfg) }})
	run := func(node int, args ...string) (string, error) {
		host, port, _ := strings.Cut(c.PGAddr(node), ":")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, psql, append([]string{"-h", host, "-p", port, "-U", "raftsql", "-d", "raftsql", "-X", "-v", "ON_ERROR_STOP=1"}, args...)...)
		cmd.Env = append(cmd.Environ(), "PGCONNECT_TIMEOUT=10")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run(0, "-c", "CREATE TABLE fruit (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
		"-c", "INSERT INTO fruit (name) VALUES ('apple'), ('pear')")
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	if !strings.Contains(out, "CREATE TABLE") || !strings.Contains(out, "INSERT 0 2") {
		t.Fatalf("psql output lacks the command tags:\n%s", out)
	}
	for i := 0; i < c.Size(); i++ {
		out, err = run(i, "-A", "-t", "-c", "SELECT name FROM fruit ORDER BY id")
		if err != nil {
			t.Fatalf("psql on node %d: %v\n%s", i, err, out)
		}
		if strings.TrimSpace(out) != "apple\npear" {
			t.Fatalf("node %d answered %q", i, out)
		}
	}
	// psql's describe commands, answered from the follower's copy.
	out, err = run(0, "-c", "CREATE INDEX fruit_name ON fruit (name)", "-c", "CREATE TABLE basket (fruit INTEGER REFERENCES fruit, n INTEGER DEFAULT 1, UNIQUE (fruit))",
		"-c", "CREATE VIEW named AS SELECT name FROM fruit")
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	for _, tc := range []struct{ cmd, want string }{
		{`\dt`, " public | basket | table | raftsql\n public | fruit  | table | raftsql\n(2 rows)"},
		{`\d fruit`, ` id     | integer |           | not null | nextval('fruit_id_seq'::regclass)
 name   | text    |           | not null | 
Indexes:
    "fruit_pkey" PRIMARY KEY, btree (id)
    "fruit_name" btree (name)`},
		{`\d basket`, ` fruit  | integer |           |          | 
 n      | integer |           |          | 1
Indexes:
    "basket_fruit_key" UNIQUE CONSTRAINT, btree (fruit)
Foreign-key constraints:
    "basket_fruit_fkey" FOREIGN KEY (fruit) REFERENCES fruit`},
		{`\d fruit`, `Referenced by:
    TABLE "basket" CONSTRAINT "basket_fruit_fkey" FOREIGN KEY (fruit) REFERENCES fruit`},
		{`\di`, " public | basket_fruit_key | index | raftsql | basket\n public | fruit_name       | index | raftsql | fruit\n public | fruit_pkey       | index | raftsql | fruit"},
		{`\d+ named`, "View definition:\n SELECT name FROM fruit;"},
		{`\d fruit_name`, "btree, for table \"public.fruit\""},
		{`\dn`, " public | raftsql"},
		{`\d FRUIT`, `Table "public.fruit"`},
		{`\l`, " raftsql | raftsql | UTF8"},
		{`\du`, " raftsql   | Superuser"},
		{`\dv`, " public | named | view | raftsql\n(1 row)"},
		{`\dt+`, " public | fruit  | table | raftsql | permanent"},
		{`\d+ fruit`, "Access method: heap"},
		{`\di basket*`, " public | basket_fruit_key | index | raftsql | basket\n(1 row)"},
		{`\df+`, "Source code | Description \n"},
		{`\dX`, "List of extended statistics"},
		// Catalogs are relations: a filter that matches nothing finds
		// nothing.
		{"SELECT c.relname FROM pg_catalog.pg_class c WHERE c.relname = 'no_such_table'", "(0 rows)"},
		{"SELECT relname, relkind FROM pg_class WHERE relname LIKE 'fruit%' ORDER BY 1", " fruit        | r\n fruit_id_seq | S\n fruit_name   | i\n fruit_pkey   | i\n(4 rows)"},
	} {
		out, err := run(1, "-c", tc.cmd)
		if err != nil || !strings.Contains(out, tc.want) {
			t.Errorf("psql %s: %v\n%s\nwant it to contain:\n%s", tc.cmd, err, out, tc.want)
		}
	}
	out, err = run(1, "-c", `\set VERBOSITY verbose`, "-c", "SELECT * FROM no_such_table")
	if err == nil {
		t.Fatalf("psql accepted a query on a missing table:\n%s", out)
	}
	if !strings.Contains(out, "42P01") {
		t.Fatalf("psql error lacks SQLSTATE 42P01:\n%s", out)
	}
}

func TestSessionsReportLeaderAndWriteIndex(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	leader := c.Leader()
	conn := connect(t, c, c.Follower())
	if got := conn.PgConn().ParameterStatus("raftsql.leader_pg_addr"); got != c.PGAddr(leader) {
		t.Fatalf("raftsql.leader_pg_addr = %q, want %q", got, c.PGAddr(leader))
	}
	mustExec(t, conn, "CREATE TABLE w (x INTEGER)")
	first := conn.PgConn().ParameterStatus("raftsql.write_index")
	mustExec(t, conn, "INSERT INTO w VALUES (1)")
	second := conn.PgConn().ParameterStatus("raftsql.write_index")
	var a, b uint64
	if _, err := fmt.Sscan(first, &a); err != nil {
		t.Fatalf("write_index %q after a write: %v", first, err)
	}
	if _, err := fmt.Sscan(second, &b); err != nil || b <= a {
		t.Fatalf("write_index went from %q to %q, want it to grow", first, second)
	}
	// Any node that has applied the reported index holds the write.
	other := connect(t, c, c.Follower())
	mustExec(t, other, "SET raftsql.read_consistency = none")
	mustExec(t, other, "SET raftsql.min_read_index = "+second)
	if n := count(t, other, "SELECT count(*) FROM w"); n != 1 {
		t.Fatalf("read at min_read_index saw %d rows, want 1", n)
	}
}

func TestMaxStalenessRefusesAnIsolatedFollower(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	f := c.Follower()
	conn := connect(t, c, f)
	mustExec(t, conn, "CREATE TABLE s (x INTEGER)")
	mustExec(t, conn, "SET raftsql.read_consistency = none")
	mustExec(t, conn, "SET raftsql.max_staleness = '300ms'")
	count(t, conn, "SELECT count(*) FROM s") // in touch with the leader: served
	c.Partition(f)
	defer c.Heal()
	servertest.Eventually(t, 10*time.Second, "a stale read refused", func() error {
		_, err := conn.Exec(context.Background(), "SELECT count(*) FROM s")
		if sqlState(err) != server.StateNoLeader {
			return fmt.Errorf("read on an isolated follower: %v", err)
		}
		return nil
	})
}

// TestSessionReadsItsWritesOnAFollower: a plain client (no driver token) on
// a follower reads each of its writes right after it at every consistency
// level, none included: the session's last write index makes the read wait
// until the follower applied it.
func TestSessionReadsItsWritesOnAFollower(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	f := c.Follower()
	setup := connect(t, c, c.Leader())
	mustExec(t, setup, "CREATE TABLE ryw (level TEXT, x INTEGER)")
	for _, level := range []string{server.ReadNone, server.ReadWeak, server.ReadLinearizable, server.ReadStrong} {
		conn := connect(t, c, f)
		mustExec(t, conn, "SET raftsql.read_consistency = "+level)
		for i := range 25 {
			mustExec(t, conn, "INSERT INTO ryw VALUES ($1, $2)", level, i)
			if n := count(t, conn, "SELECT count(*) FROM ryw WHERE level = $1 AND x = $2", level, i); n != 1 {
				t.Fatalf("at %s, the read after write %d on a follower saw %d rows, want 1", level, i, n)
			}
		}
	}
}
