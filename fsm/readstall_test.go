package fsm

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

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
