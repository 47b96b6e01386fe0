package fsm

// This file keeps the parts of SQLite that are process-wide, rather than
// per connection, from making nodes differ: its pseudo-random generator,
// its idea of local time, and the amount of work a statement may do.

import (
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"sync"
	"unsafe"

	"github.com/raftsql/raftsql/fsm/command"
	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// ---- SQLite's generator --------------------------------------------------

// SQLite draws from one generator per process (sqlite3_randomness) when it
// picks a rowid past the largest (9223372036854775807), when it makes the
// column names of a view or CREATE TABLE ... AS SELECT unique, and for file
// names and WAL salts. Every statement the write connection runs for a
// command reseeds it from the command's seed and the statement's position
// (SQLITE_TESTCTRL_PRNG_SEED), and hands it back to real randomness after.
//
// prngMu makes that window exclusive in the process, where several state
// machines may live (tests, a demo cluster): it is held while the write
// connection of any of them runs a statement, commits or checkpoints (WAL
// salts, see wal.go), and shared while a read connection compiles one (the
// only time a read can draw: unique column names; reads need no order
// among themselves). random() and randomblob()
// never draw from it (they are the connections' own functions), and
// temporary storage is in memory, so no temporary file name is drawn. The
// price: while a write statement runs, new statements wait to be compiled
// (cached ones do not).
var prngMu sync.RWMutex

// testControlArgs is C memory for the arguments of sqlite3_test_control;
// prngMu guards it.
var testControlArgs uintptr

// testControl calls sqlite3_test_control with an int and a pointer.
// prngMu is held.
func testControl(tls *libc.TLS, op int32, x int32, p uintptr) {
	if testControlArgs == 0 {
		if testControlArgs = libc.Xmalloc(tls, 16); testControlArgs == 0 {
			panic("fsm: out of memory")
		}
	}
	sqlite3.Xsqlite3_test_control(tls, op, libc.VaList(testControlArgs, x, p))
}

// seedPRNG seeds SQLite's generator for statement i of a command with seed.
// prngMu is held.
func seedPRNG(tls *libc.TLS, seed uint64, i int) {
	x := uint32(mix64(seed ^ (uint64(i)+1)*0xd1b54a32d192ed03))
	if x == 0 {
		x = 1 // 0 would mean "real randomness"
	}
	testControl(tls, sqlite3.SQLITE_TESTCTRL_PRNG_SEED, int32(x), 0)
}

// mix64 is the finalizer of splitmix64.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// unseedPRNG returns SQLite's generator to real randomness. prngMu is held.
func unseedPRNG(tls *libc.TLS) {
	testControl(tls, sqlite3.SQLITE_TESTCTRL_PRNG_SEED, 0, 0)
}

// ---- Local time ----------------------------------------------------------

// SQLite's 'localtime' and 'utc' modifiers ask the C library for the local
// time zone, which follows each node's TZ and /etc/localtime. The process
// installs one localtime function (SQLITE_TESTCTRL_LOCALTIME_FAULT): on a
// write connection, local time is UTC, so that every node stores the same
// value; on any other connection it is the real local time.

var (
	localtimeOnce sync.Once
	// writeTLS holds the *libc.TLS of every write connection: SQLite calls
	// localtime on the thread state of the connection that asked.
	writeTLS sync.Map
)

func installLocaltime() {
	localtimeOnce.Do(func() {
		tls := libc.NewTLS()
		defer tls.Close()
		prngMu.Lock()
		defer prngMu.Unlock()
		testControl(tls, sqlite3.SQLITE_TESTCTRL_LOCALTIME_FAULT, 2, cFuncPointer(localtimeTrampoline))
	})
}

// localtimeTrampoline is SQLite's xAltLocaltime: it fills the struct tm at
// pTm for the time_t at t and returns 0, or non-zero on failure.
func localtimeTrampoline(tls *libc.TLS, t, pTm uintptr) int32 {
	var r uintptr
	if _, ok := writeTLS.Load(tls); ok {
		r = libc.Xgmtime_r(tls, t, pTm)
	} else {
		r = libc.Xlocaltime_r(tls, t, pTm)
	}
	if r == 0 {
		return 1
	}
	return 0
}

// ---- Step budget ---------------------------------------------------------

// progressOps is how many virtual machine steps SQLite takes between calls
// of the progress handler; the budget counts those calls.
const progressOps = 1000

// budget is C memory the progress handler of the write connection reads:
// how many calls the running command has left. It counts only while armed,
// that is while a statement of a command steps, not while SQLite compiles
// one or the state machine runs its own (BEGIN, SAVEPOINT, COMMIT).
type budget struct {
	left  int64
	armed int32
	hit   int32
}

const budgetSize = unsafe.Sizeof(budget{})

func progressTrampoline(tls *libc.TLS, p uintptr) int32 {
	b := (*budget)(cptr(p))
	if b.armed == 0 {
		return 0
	}
	if b.left <= 0 {
		b.hit = 1
		return 1
	}
	b.left--
	return 0
}

// setLimits sets the budget and the value size limit of the command about
// to run on w. 0 means none (SQLite's own maximum for the size).
func (e *applyEnv) setLimits(w *conn, maxSteps, maxValueSize int64) {
	b := e.budget()
	b.armed, b.hit = 0, 0
	e.steps = max(maxSteps, 0)
	b.left = (e.steps + progressOps - 1) / progressOps
	e.valueSize = max(maxValueSize, 0)
	w.setLength(e.valueSize)
}

// stepsLeft and setStepsLeft save and restore what is left of the budget.
func (e *applyEnv) stepsLeft() int64     { return e.budget().left }
func (e *applyEnv) setStepsLeft(n int64) { e.budget().left = n }

// setLength sets the largest string or blob c may make (SQLITE_LIMIT_LENGTH);
// n <= 0 means SQLite's own maximum.
func (c *conn) setLength(n int64) {
	if n <= 0 || n > maxLength {
		n = maxLength
	}
	sqlite3.Xsqlite3_limit(c.tls, c.db, sqlite3.SQLITE_LIMIT_LENGTH, int32(n))
}

// arm makes the budget count statement s, about to step on c. Every
// statement of the connection starts counting from zero, so that SQLite
// calls the handler at the same steps whatever the statements ran before:
// the phase of the handler depends on each statement's step counter
// (sqlite3VdbeExec starts from the statement's SQLITE_STMTSTATUS_VM_STEP).
// Of the state machine's statements only s steps while it runs; the
// statements that FTS and R*Tree tables prepare for themselves step inside
// it and live as long as the connection, so while the schema holds a
// virtual table every statement of the connection is reset, and otherwise
// s alone.
func (c *conn) arm(s *stmt) bool {
	if c.env == nil || c.env.steps == 0 {
		return false
	}
	if c.mayHoldVtabStmts() {
		for p := sqlite3.Xsqlite3_next_stmt(c.tls, c.db, 0); p != 0; p = sqlite3.Xsqlite3_next_stmt(c.tls, c.db, p) {
			sqlite3.Xsqlite3_stmt_status(c.tls, p, sqlite3.SQLITE_STMTSTATUS_VM_STEP, 1)
		}
	} else {
		sqlite3.Xsqlite3_stmt_status(c.tls, s.p, sqlite3.SQLITE_STMTSTATUS_VM_STEP, 1)
	}
	b := c.env.budget()
	b.armed, b.hit = 1, 0
	return true
}

// vtabSQL finds a virtual table in the schema, the temporary one included.
const vtabSQL = "SELECT 1 FROM sqlite_schema WHERE sql LIKE 'CREATE VIRTUAL%' " +
	"UNION ALL SELECT 1 FROM sqlite_temp_schema WHERE sql LIKE 'CREATE VIRTUAL%' LIMIT 1"

// mayHoldVtabStmts reports whether the schema the write connection sees
// holds a virtual table, whose module may keep statements of its own. It
// asks again whenever the epoch moved; when it cannot tell, it says yes.
func (c *conn) mayHoldVtabStmts() bool {
	if c.vtabKnown && c.vtabEpoch == c.epoch {
		return c.vtabs
	}
	c.vtabs, c.vtabKnown, c.vtabEpoch = true, false, c.epoch
	// What the prepare of the caller's statement left is kept.
	internal, refused, txVerb, prepDDL, prepSP := c.internal, c.refused, c.txVerb, c.prepDDL, c.prepSP
	reads, writes := c.prepReads, c.prepWrites
	c.internal = true
	s, err := c.prepare(vtabSQL, c.own)
	c.internal, c.refused, c.txVerb, c.prepDDL, c.prepSP = internal, refused, txVerb, prepDDL, prepSP
	c.prepReads, c.prepWrites = reads, writes
	if err != nil || s == nil {
		return true
	}
	rc := sqlite3.Xsqlite3_step(c.tls, s.p)
	sqlite3.Xsqlite3_reset(c.tls, s.p)
	switch rc {
	case sqlite3.SQLITE_ROW:
		c.vtabs, c.vtabKnown = true, true
	case sqlite3.SQLITE_DONE:
		c.vtabs, c.vtabKnown = false, true
	}
	return c.vtabs
}

func (c *conn) disarm() { c.env.budget().armed = 0 }

// overBudget reports whether the statement that just failed ran out of
// steps, and turns that into the error every node reports.
func (c *conn) overBudget() *command.Error {
	if c.env == nil || c.env.budget().hit == 0 {
		return nil
	}
	c.env.budget().hit = 0
	return &command.Error{Code: command.CodeLimit, Message: fmt.Sprintf(
		"statement exceeded the write budget of %d steps (the cluster's --max-write-steps)", c.env.steps)}
}

// tooBig explains a SQLITE_TOOBIG error of the write connection with the
// limit of the command.
func (c *conn) tooBig(e *command.Error) *command.Error {
	if c.env == nil || c.env.valueSize == 0 || e.Code&0xff != sqlite3.SQLITE_TOOBIG {
		return e
	}
	return &command.Error{Code: e.Code, Message: fmt.Sprintf(
		"%s: a value may hold at most %d bytes (the cluster's --max-value-size)", e.Message, c.env.valueSize)}
}

// registerProgress installs the budget's progress handler on the write
// connection.
func (c *conn) registerProgress(e *applyEnv) {
	c.env = e
	sqlite3.Xsqlite3_progress_handler(c.tls, c.db, progressOps, cFuncPointer(progressTrampoline), uintptr(unsafe.Pointer(e.budget())))
}

// ---- Randomness of reads -------------------------------------------------

func readRandomTrampoline(tls *libc.TLS, ctx uintptr, argc int32, argv uintptr) {
	r := rand.Int64()
	if rand.IntN(2) == 0 {
		r = -r
	}
	sqlite3.Xsqlite3_result_int64(tls, ctx, r)
}

func readRandomblobTrampoline(tls *libc.TLS, ctx uintptr, argc int32, argv uintptr) {
	resultRandomBlob(tls, ctx, argv, func(b []byte) { crand.Read(b) })
}

// registerReadRandom gives a read connection random() and randomblob()
// of real randomness from Go, so that reads never draw from SQLite's
// generator while a write statement may be using it.
func (c *conn) registerReadRandom() error {
	return c.registerFuncs(0, cFuncPointer(readRandomTrampoline), cFuncPointer(readRandomblobTrampoline))
}

func (c *conn) registerFuncs(app, random, randomblob uintptr) error {
	for _, f := range []struct {
		name string
		narg int32
		fn   uintptr
	}{
		{"random", 0, random},
		{"randomblob", 1, randomblob},
	} {
		z, err := libc.CString(f.name)
		if err != nil {
			return err
		}
		rc := sqlite3.Xsqlite3_create_function_v2(c.tls, c.db, z, f.narg,
			sqlite3.SQLITE_UTF8|sqlite3.SQLITE_INNOCUOUS, app, f.fn, 0, 0, 0)
		libc.Xfree(c.tls, z)
		if rc != sqlite3.SQLITE_OK {
			return fmt.Errorf("fsm: registering %s: %w", f.name, c.errorf(rc))
		}
	}
	return nil
}
