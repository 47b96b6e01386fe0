package fsm

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	hraft "github.com/hashicorp/raft"
	"github.com/raftsql/raftsql/fsm/command"
)

// commitGate stops the next COMMIT of a write connection inside SQLite
// (its commit hook, called before the commit is made), until released.
type commitGate struct {
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

var commitGates sync.Map // uintptr key -> *commitGate

func commitHookTrampoline(tls *libc.TLS, p uintptr) int32 {
	if g, ok := commitGates.Load(p); ok {
		if g := g.(*commitGate); g.armed.CompareAndSwap(true, false) {
			close(g.entered)
			<-g.release
		}
	}
	return 0
}

var commitGateKeys atomic.Uintptr

// gateCommits installs a commitGate on f's write connection. Nothing may
// use the connection meanwhile.
func gateCommits(t *testing.T, f *FSM) *commitGate {
	g := &commitGate{entered: make(chan struct{}), release: make(chan struct{})}
	key := commitGateKeys.Add(1)
	commitGates.Store(key, g)
	sqlite3.Xsqlite3_commit_hook(f.w.tls, f.w.db, cFuncPointer(commitHookTrampoline), key)
	t.Cleanup(func() {
		g.armed.Store(false)
		select {
		case <-g.release:
		default:
			close(g.release)
		}
		commitGates.Delete(key)
	})
	return g
}

func countIn(ctx context.Context, t *testing.T, q func(context.Context, []command.Statement) (*command.Result, error), table string) int64 {
	t.Helper()
	res, err := q(ctx, stmts("SELECT count(*) FROM "+table))
	if err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	if e := res.Statements[0].Err; e != nil {
		t.Fatalf("count %s: %v", table, e)
	}
	return res.Statements[0].Rows[0][0].Int
}

// TestReadDoesNotWaitForCommit applies a batch of many megabytes and stops
// its COMMIT inside SQLite: reads of the state before it (plain queries
// and a read transaction) complete while it is stopped, and report the
// index before it; once it has committed, reads see its rows at its index.
func TestReadDoesNotWaitForCommit(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)", "INSERT INTO t(v) VALUES (x'00'), (x'01'), (x'02')")
	before := a.index
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The statements of the reads below are compiled now, on every read
	// connection: compiling waits while the write connection runs (prngMu),
	// running a compiled statement does not.
	for range 2 * f.nRead {
		countIn(ctx, t, f.Query, "t")
		rt, err := f.BeginRead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		countIn(ctx, t, rt.Query, "t")
		rt.Close()
	}

	g := gateCommits(t, f)
	g.armed.Store(true)
	const rows, size = 4096, 4096 // 16 MiB
	big := a.log(a.cmd(command.KindExecute, stmts(
		"INSERT INTO t(v) WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < 4096) SELECT randomblob(4096) FROM s")...))
	applied := make(chan any, 1)
	go func() { applied <- f.Apply(big) }()
	select {
	case <-g.entered:
	case r := <-applied:
		t.Fatalf("the batch was applied without committing through the hook: %v", describe(r))
	case <-ctx.Done():
		t.Fatal("the batch never reached its COMMIT")
	}

	// The COMMIT is stopped until g.release: these return first, or not
	// at all (the test's deadline).
	if n := countIn(ctx, t, f.Query, "t"); n != 3 {
		t.Errorf("a read during the commit counts %d rows, want the 3 before it", n)
	}
	rt, err := f.BeginRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rt.Index() != before {
		t.Errorf("a read transaction during the commit reports index %d, want %d", rt.Index(), before)
	}
	if n := countIn(ctx, t, rt.Query, "t"); n != 3 {
		t.Errorf("a read transaction during the commit counts %d rows, want 3", n)
	}
	rt.Close()
	select {
	case r := <-applied:
		t.Fatalf("the batch finished while its COMMIT was stopped: %v", describe(r))
	default:
	}

	close(g.release)
	var r any
	select {
	case r = <-applied:
	case <-ctx.Done():
		t.Fatal("the batch did not finish once its COMMIT went on")
	}
	if res, ok := r.(*command.Result); !ok || res.Statements[0].Err != nil || res.Statements[0].RowsAffected != rows {
		t.Fatalf("the batch: %v", describe(r))
	}
	// Applied (what read-your-writes and linearizable reads wait for):
	// reads see the batch, at its index.
	if n := countIn(ctx, t, f.Query, "t"); n != 3+rows {
		t.Errorf("a read after the commit counts %d rows, want %d", n, 3+rows)
	}
	rt, err = f.BeginRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if rt.Index() != big.Index {
		t.Errorf("a read transaction after the commit reports index %d, want %d", rt.Index(), big.Index)
	}
	if n := countIn(ctx, t, rt.Query, "t"); n != 3+rows {
		t.Errorf("a read transaction after the commit counts %d rows, want %d", n, 3+rows)
	}
	res, err := rt.Query(ctx, stmts("SELECT sum(length(v)) FROM t"))
	if err != nil || res.Statements[0].Err != nil {
		t.Fatalf("sum: %v %v", err, res)
	}
	if got := res.Statements[0].Rows[0][0].Int; got != 3+rows*size {
		t.Errorf("the rows hold %d bytes, want %d", got, 3+rows*size)
	}
}

// TestReadIndexIsReflected applies entries of one row each while reads
// begin: a read transaction reports at least the index applied before it
// began, and its snapshot holds the rows of every entry up to the index it
// reports, and none of an entry not yet committed.
func TestReadIndexIsReflected(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(x)")
	base := a.index // entry base+k inserts row k
	const n = 300
	logs := make([]*hraft.Log, n)
	for i := range logs {
		logs[i] = a.log(a.cmd(command.KindExecute, stmts("INSERT INTO t VALUES (1)")...))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var applied atomic.Uint64
	applied.Store(base)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, l := range logs {
			f.Apply(l)
			applied.Store(l.Index)
		}
	}()
	for reads := 0; ; reads++ {
		select {
		case <-done:
			if reads == 0 {
				t.Fatal("no read ran while the entries were applied")
			}
			return
		default:
		}
		after := applied.Load() // applied before the read began
		rt, err := f.BeginRead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := countIn(ctx, t, rt.Query, "t")
		idx := rt.Index()
		rt.Close()
		if idx < after {
			t.Fatalf("a read begun after entry %d was applied reports index %d", after, idx)
		}
		if got < int64(idx-base) {
			t.Fatalf("a read at index %d sees %d rows, want at least %d", idx, got, idx-base)
		}
		// At most the entry being applied now is visible beyond those
		// Apply has returned from.
		if limit := int64(applied.Load()-base) + 1; got > limit {
			t.Fatalf("a read sees %d rows, more than the %d entries applied since", got, limit)
		}
	}
}

// TestReadTablesFollowTheSchemaOfTheSnapshot redefines a view, over one
// table and then the other, while read transactions run a cached query of
// it: the tables each reports having read are those its snapshot's view
// reads, though the statement was compiled when the view read the other.
func TestReadTablesFollowTheSchemaOfTheSnapshot(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE a(x)", "CREATE TABLE b(x)", "INSERT INTO a VALUES (1)", "INSERT INTO b VALUES (2)",
		"CREATE VIEW v AS SELECT x FROM a")
	const n = 200
	logs := make([]*hraft.Log, n)
	for i := range logs {
		from := []string{"b", "a"}[i%2]
		logs[i] = a.log(a.cmd(command.KindExecute, stmts("DROP VIEW v", "CREATE VIEW v AS SELECT x FROM "+from)...))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, l := range logs {
			f.Apply(l)
		}
	}()
	for reads := 0; ; reads++ {
		select {
		case <-done:
			if reads == 0 {
				t.Fatal("no read ran while the view was redefined")
			}
			return
		default:
		}
		rt, err := f.BeginRead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		res, err := rt.Query(ctx, stmts("SELECT x FROM v"))
		if err != nil || res.Statements[0].Err != nil {
			t.Fatalf("SELECT x FROM v: %v %v", err, res)
		}
		x := res.Statements[0].Rows[0][0].Int
		tables := rt.Tables()
		rt.Close()
		want := map[int64]string{1: "a", 2: "b"}[x]
		if !slices.Contains(tables, want) {
			t.Fatalf("a read of v that found %d (table %s) reports reading %v", x, want, tables)
		}
	}
}
