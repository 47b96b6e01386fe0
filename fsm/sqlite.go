package fsm

// This file drives SQLite through the C API that modernc.org/sqlite
// transpiles to Go, without database/sql. The state machine needs what the
// database/sql driver hides or changes: exact storage classes and declared
// types of result columns (the driver turns DATE/DATETIME/TIMESTAMP text
// into time.Time), sqlite3_stmt_readonly, sqlite3_changes64 for statements
// that also return rows, extended error codes, statements cached under its
// own control, and per-connection functions, authorizer and VFS with no
// registration that other databases in the process could see.

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"github.com/raftsql/raftsql/fsm/command"
	"modernc.org/libc"
	_ "modernc.org/sqlite" // applies the library's process-wide patches
	sqlite3 "modernc.org/sqlite/lib"
)

// Extended result codes and primary codes used below.
const (
	codeError      = sqlite3.SQLITE_ERROR
	codeAbort      = sqlite3.SQLITE_ABORT
	codeRange      = sqlite3.SQLITE_RANGE
	codeConstraint = sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
)

// cptr turns an address of C memory into a pointer. Going through memory
// keeps vet's unsafeptr check quiet: the memory is not managed by Go.
func cptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// cFuncPointer converts a top-level Go function into a C function pointer
// for the transpiled library, as modernc.org/sqlite does internally (see
// https://golang.org/s/go11func for the representation it relies on).
func cFuncPointer[T any](f T) uintptr {
	return *(*uintptr)(unsafe.Pointer(&struct{ f T }{f}))
}

// sqliteError is an error reported by SQLite, with its extended code.
type sqliteError struct {
	code int
	msg  string
}

func (e *sqliteError) Error() string { return fmt.Sprintf("%s (%d)", e.msg, e.code) }

// fatalCode reports whether an error code means the local environment
// failed, so that the node cannot be sure it holds the same state as the
// others, as opposed to a SQL error every node computes alike.
func fatalCode(code int) bool {
	switch code & 0xff {
	case sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR,
		sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_BUSY,
		sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_PERM, sqlite3.SQLITE_MISUSE,
		sqlite3.SQLITE_INTERNAL, sqlite3.SQLITE_INTERRUPT:
		return true
	}
	return false
}

// conn is one SQLite connection. It is used by one goroutine at a time;
// only interrupt may be called concurrently.
type conn struct {
	tls *libc.TLS
	db  uintptr
	id  uintptr // key of connsByID, passed to the authorizer

	home chan *conn // the pool a read connection belongs to

	mu     sync.Mutex // guards db against interrupt racing close
	closed bool

	// Authorizer state, written by the authorizer during prepare.
	write    bool // opened to write: the state machine's, or a backup's or a restore check's
	apply    bool // the state machine's write connection, which holds prngMu while it runs
	internal bool // the connection's own transaction statements run
	setupSQL bool // Config.ConnInit runs: temporary objects may be created
	// needsSetup is set on a read connection until its first use runs
	// the setup of Config.Funcs and Config.ConnInit.
	needsSetup bool
	classify   bool   // transaction control is reported, not refused
	refused    string // why the last prepare was refused
	ddl        bool   // a statement prepared since the flag was cleared changes the schema
	prepDDL    bool   // the statement being prepared changes the schema
	prepSP     bool   // the statement being prepared is a savepoint statement
	prepStats  bool   // the statement being prepared writes a statistics table
	// prepWriteFunc: the statement being prepared calls a write function
	// (Func.Write), so it writes whatever SQLite says of it.
	prepWriteFunc bool
	// writeFuncs are the names (lower case) of the write functions
	// registered on the connection; nested holds the statements they run
	// on the write connection, and memo what they keep for the rest of
	// the command (funcwrite.go).
	writeFuncs map[string]bool
	nested     map[string]*stmt
	memo       map[string]any
	funcIDs    []uintptr // goFuncs entries bound to the connection
	// prepNodeDep, while classifying, is why the statement being prepared
	// may not write: it uses what depends on the node (nodeDependent).
	prepNodeDep string
	// funcSince is the Since of the Go functions that have one, by lower
	// case name (funcSinces); prepFuncSince and prepFunc are the highest
	// of the functions the statement being prepared calls, and its name.
	funcSince     map[string]int
	prepFuncSince int
	prepFunc      string
	// prepReads and prepWrites collect the tables the statement being
	// prepared reads and writes.
	prepReads, prepWrites []string
	// tables, when set, collects the tables the statements run on a read
	// connection read (a ReadTx's).
	tables   map[string]struct{}
	stepping bool    // a statement of the state machine's is stepping
	running  uintptr // the statement stepping, while stepping
	// epoch moves when the schema the write connection sees may have
	// changed (DDL ran, or was rolled back); cached statements of an older
	// epoch are compiled again before they run, never inside a step.
	epoch uint64
	// env is the apply environment, on the write connection only.
	env *applyEnv
	// seenSchema is the schema generation a read connection last loaded.
	seenSchema uint64
	// aliases caches rowidColumn's answers for the epoch and schema
	// generation they were found at.
	aliases     map[string]string
	aliasEpoch  uint64
	aliasSchema uint64
	txVerb      string // transaction control seen by the last prepare
	// vtabs says whether the schema held a virtual table at vtabEpoch
	// (mayHoldVtabStmts); vtabKnown is unset until it was asked.
	vtabs, vtabKnown bool
	vtabEpoch        uint64

	stmts   map[string]*stmt // statements of commands and queries
	own     map[string]*stmt // the connection's own statements
	scratch uintptr          // C memory for SQL text and bound values
	scrLen  int
	out     uintptr // two C pointers for out parameters

	gen atomic.Uint64 // bumped when a use of the connection ends
}

var (
	connsMu   sync.RWMutex
	connsByID = map[uintptr]*conn{}
	nextID    uintptr
)

// openConn opens the database file at path. vfs may be "" for the default.
func openConn(path, vfs string, readOnly bool) (*conn, error) {
	c := &conn{tls: libc.NewTLS(), stmts: map[string]*stmt{}, own: map[string]*stmt{}, write: !readOnly}
	c.out = libc.Xmalloc(c.tls, 16)
	if c.out == 0 {
		c.tls.Close()
		return nil, errors.New("fsm: out of memory")
	}
	flags := int32(sqlite3.SQLITE_OPEN_NOMUTEX | sqlite3.SQLITE_OPEN_EXRESCODE)
	if readOnly {
		flags |= sqlite3.SQLITE_OPEN_READONLY
	} else {
		flags |= sqlite3.SQLITE_OPEN_READWRITE | sqlite3.SQLITE_OPEN_CREATE
	}
	zPath, err := libc.CString(path)
	if err != nil {
		c.free()
		return nil, err
	}
	defer libc.Xfree(c.tls, zPath)
	var zVFS uintptr
	if vfs != "" {
		if zVFS, err = libc.CString(vfs); err != nil {
			c.free()
			return nil, err
		}
		defer libc.Xfree(c.tls, zVFS)
	}
	// Opening draws from SQLite's generator (FTS5 seeds itself), which a
	// write statement of some state machine may be using (see prngMu).
	prngMu.Lock()
	rc := sqlite3.Xsqlite3_open_v2(c.tls, zPath, c.out, flags, zVFS)
	prngMu.Unlock()
	c.db = *(*uintptr)(cptr(c.out))
	if rc != sqlite3.SQLITE_OK {
		err := c.errorf(rc)
		if c.db != 0 {
			sqlite3.Xsqlite3_close_v2(c.tls, c.db)
		}
		c.free()
		return nil, fmt.Errorf("fsm: open %s: %w", path, err)
	}
	connsMu.Lock()
	nextID++
	c.id = nextID
	connsByID[c.id] = c
	connsMu.Unlock()
	installLocaltime()
	if !readOnly {
		writeTLS.Store(c.tls, struct{}{})
	}
	sqlite3.Xsqlite3_extended_result_codes(c.tls, c.db, 1)
	if rc := sqlite3.Xsqlite3_set_authorizer(c.tls, c.db, cFuncPointer(authorizerTrampoline), c.id); rc != sqlite3.SQLITE_OK {
		err := c.errorf(rc)
		c.close()
		return nil, err
	}
	// A checkpoint when a connection closes would write the database file
	// while a snapshot may be reading it; checkpoints happen only where
	// the state machine decides.
	c.dbConfig(sqlite3.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
	if !readOnly {
		c.dbConfig(sqlite3.SQLITE_DBCONFIG_DEFENSIVE, true)
	}
	sqlite3.Xsqlite3_busy_timeout(c.tls, c.db, busyTimeoutMillis)
	return c, nil
}

func (c *conn) free() {
	if c.out != 0 {
		libc.Xfree(c.tls, c.out)
		c.out = 0
	}
	if c.scratch != 0 {
		libc.Xfree(c.tls, c.scratch)
		c.scratch = 0
	}
	c.tls.Close()
}

func (c *conn) close() error {
	for _, m := range []map[string]*stmt{c.stmts, c.own, c.nested} {
		for k, s := range m {
			sqlite3.Xsqlite3_finalize(c.tls, s.p)
			delete(m, k)
		}
	}
	c.mu.Lock()
	c.closed = true
	rc := sqlite3.Xsqlite3_close_v2(c.tls, c.db)
	c.mu.Unlock()
	connsMu.Lock()
	delete(connsByID, c.id)
	connsMu.Unlock()
	writeTLS.Delete(c.tls)
	forgetFuncs(c.funcIDs)
	c.free()
	if rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("fsm: close: %s", libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc)))
	}
	return nil
}

func (c *conn) dbConfig(op int32, on bool) {
	var v int32
	if on {
		v = 1
	}
	bp := libc.Xmalloc(c.tls, 16)
	if bp == 0 {
		return
	}
	sqlite3.Xsqlite3_db_config(c.tls, c.db, op, libc.VaList(bp, v, uintptr(0)))
	libc.Xfree(c.tls, bp)
}

// interrupt makes the statement running on c, if any, fail with
// SQLITE_INTERRUPT, provided the use that began at generation gen has not
// ended yet. It may be called from any goroutine.
func (c *conn) interrupt(gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.gen.Load() != gen {
		return
	}
	tls := libc.NewTLS()
	sqlite3.Xsqlite3_interrupt(tls, c.db)
	tls.Close()
}

func (c *conn) errorf(rc int32) *sqliteError {
	code := int(rc)
	msg := ""
	if c.db != 0 {
		if ec := sqlite3.Xsqlite3_extended_errcode(c.tls, c.db); ec&0xff == rc&0xff {
			code = int(ec)
		}
		msg = libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db))
	}
	if msg == "" {
		msg = libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	}
	return &sqliteError{code: code, msg: msg}
}

// cString copies s into the connection's scratch memory, NUL-terminated,
// and returns its address; it stays valid until the next call.
func (c *conn) cString(s string) (uintptr, error) {
	n := len(s) + 1
	if n > c.scrLen {
		size := max(n, 2*c.scrLen, 256)
		p := libc.Xrealloc(c.tls, c.scratch, libc.Tsize_t(size))
		if p == 0 {
			return 0, &sqliteError{code: sqlite3.SQLITE_NOMEM, msg: "out of memory"}
		}
		c.scratch, c.scrLen = p, size
	}
	b := unsafe.Slice((*byte)(cptr(c.scratch)), n)
	copy(b, s)
	b[n-1] = 0
	return c.scratch, nil
}

// shrinkScratch gives back scratch memory that a large statement text or
// value grew, so that a connection does not keep the largest it ever saw.
func (c *conn) shrinkScratch() {
	if c.scrLen > bigSQL {
		libc.Xfree(c.tls, c.scratch)
		c.scratch, c.scrLen = 0, 0
	}
}

// stmt is a prepared statement.
type stmt struct {
	p        uintptr
	readOnly bool
	nParams  int
	names    []string // parameter names by index-1, "" for "?"
	txVerb   string   // BEGIN, COMMIT, ... when the statement controls transactions
	ddl      bool     // it changes the schema
	sp       bool     // it is SAVEPOINT, RELEASE or ROLLBACK TO
	stats    bool     // it writes sqlite_stat1 or sqlite_stat4 (see reloadStats)
	epoch    uint64   // the connection's epoch when it was compiled
	// funcSince and funcName are the highest Func.Since of the Go
	// functions it calls, as the authorizer saw them, and its name.
	funcSince int
	funcName  string
	// reads and writes name the tables (lower case) the statement reads
	// and writes, triggers' included, as the authorizer reported them.
	reads, writes []string
}

const maxCachedStmts = 512

// prepare compiles one SQL statement. It returns a nil stmt for text that
// holds no statement, and a *command.Error for a statement the authorizer
// refused, for more than one statement, or for a SQLite error. The caller
// finalizes the statement unless cache is set, in which case it stays in
// cache, which is c.stmts or c.own.
func (c *conn) prepare(sql string, cache map[string]*stmt) (*stmt, error) {
	if cache != nil {
		if s := cache[sql]; s != nil {
			if s.epoch == c.epoch {
				return s, nil
			}
			sqlite3.Xsqlite3_finalize(c.tls, s.p)
			delete(cache, sql)
		}
	}
	z, err := c.cString(sql)
	if err != nil {
		return nil, err
	}
	c.refused, c.txVerb, c.prepDDL, c.prepSP, c.prepStats, c.prepNodeDep = "", "", false, false, false, ""
	c.prepWriteFunc = false
	c.prepReads, c.prepWrites = nil, nil
	c.prepFuncSince, c.prepFunc = 0, ""
	var flags uint32
	if cache != nil {
		flags = sqlite3.SQLITE_PREPARE_PERSISTENT
	}
	pp, ptail := c.out, c.out+8
	if !c.apply {
		// Compiling may draw from SQLite's generator (see prngMu); the
		// apply connection holds the lock around all it runs.
		prngMu.RLock()
	}
	rc := sqlite3.Xsqlite3_prepare_v3(c.tls, c.db, z, int32(len(sql)+1), flags, pp, ptail)
	if !c.apply {
		prngMu.RUnlock()
	}
	if rc != sqlite3.SQLITE_OK {
		if c.refused != "" {
			return nil, &command.Error{Code: command.CodeRefused, Message: c.refused}
		}
		e := c.errorf(rc)
		return nil, &command.Error{Code: e.code, Message: e.msg}
	}
	p := *(*uintptr)(cptr(pp))
	tail := int(*(*uintptr)(cptr(ptail)) - z)
	if p == 0 {
		return nil, nil
	}
	used := sql[:min(tail, len(sql))]
	if rest := sql[min(tail, len(sql)):]; !blank(rest) {
		sqlite3.Xsqlite3_finalize(c.tls, p)
		return nil, &command.Error{Code: codeError, Message: "a statement must hold exactly one SQL statement"}
	}
	if firstKeyword(used) == "VACUUM" {
		sqlite3.Xsqlite3_finalize(c.tls, p)
		return nil, &command.Error{Code: command.CodeRefused, Message: "VACUUM is not allowed: a node's file layout is its own business"}
	}
	s := &stmt{p: p, readOnly: sqlite3.Xsqlite3_stmt_readonly(c.tls, p) != 0 && !(c.prepWriteFunc && c.callsWriteFunc(used)), txVerb: c.txVerb,
		ddl: c.prepDDL, sp: c.prepSP, stats: c.prepStats, epoch: c.epoch, reads: c.prepReads, writes: c.prepWrites,
		funcSince: c.prepFuncSince, funcName: c.prepFunc}
	c.prepReads, c.prepWrites = nil, nil
	s.nParams = int(sqlite3.Xsqlite3_bind_parameter_count(c.tls, p))
	for i := 1; i <= s.nParams; i++ {
		s.names = append(s.names, libc.GoString(sqlite3.Xsqlite3_bind_parameter_name(c.tls, p, int32(i))))
	}
	if cache != nil {
		if len(cache) >= maxCachedStmts {
			for k, old := range cache {
				sqlite3.Xsqlite3_finalize(c.tls, old.p)
				delete(cache, k)
			}
		}
		cache[sql] = s
	}
	return s, nil
}

func (c *conn) finalize(s *stmt) { sqlite3.Xsqlite3_finalize(c.tls, s.p) }

// blank reports whether s holds only white space, comments and semicolons.
func blank(s string) bool {
	for i := 0; i < len(s); {
		switch ch := s[i]; {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v' || ch == ';':
			i++
		case ch == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case ch == '/' && i+1 < len(s) && s[i+1] == '*':
			j := indexFrom(s, i+2, "*/")
			if j < 0 {
				return true // an unterminated comment runs to the end
			}
			i = j + 2
		default:
			return false
		}
	}
	return true
}

// indexFrom returns the index of sub in s at or after from, or -1.
func indexFrom(s string, from int, sub string) int {
	if j := strings.Index(s[from:], sub); j >= 0 {
		return from + j
	}
	return -1
}

// firstKeyword returns the first word of a statement, upper-cased, after
// white space and comments.
//
// It decides one thing: whether a statement is VACUUM, which fsm refuses.
// SQLite's authorizer, which refuses everything else that is unsafe, has no
// action for VACUUM, so the text is the only thing that tells. The caller
// cannot pass this in its place: fsm refuses unsafe SQL whichever path it
// came by (a client's statement, one the server made up, the embedding API,
// a command read back from the log), and a flag set by the caller would make
// the refusal as good as every caller's classification. The front end does
// classify VACUUM for the clients it serves, and refuses it before it gets
// here with Postgres' words.
func firstKeyword(s string) string {
	i := 0
	for i < len(s) {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v' || ch == ';':
			i++
			continue
		case ch == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue
		case ch == '/' && i+1 < len(s) && s[i+1] == '*':
			j := indexFrom(s, i+2, "*/")
			if j < 0 {
				return ""
			}
			i = j + 2
			continue
		}
		break
	}
	j := i
	for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
		j++
	}
	w := []byte(s[i:j])
	for k, ch := range w {
		if ch >= 'a' && ch <= 'z' {
			w[k] = ch - 'a' + 'A'
		}
	}
	return string(w)
}

// bind binds params to s: "?" takes the next positional parameter, "?N",
// "$N", ":N" and "@N" take positional parameter N, and any other name takes
// the parameter of that name (given with or without its prefix).
func (c *conn) bind(s *stmt, params []command.Value) error {
	if s.nParams == 0 {
		return nil
	}
	next := 0
	for i, name := range s.names {
		idx := int32(i + 1)
		var v *command.Value
		if name == "" {
			v = positional(params, next)
			next++
		} else if n, ok := number(name[1:]); ok {
			v = positional(params, n-1)
		} else {
			for j := range params {
				pn := params[j].Name
				if pn != "" && (pn == name || pn == name[1:]) {
					v = &params[j]
					break
				}
			}
		}
		if v == nil {
			return &command.Error{Code: codeRange, Message: fmt.Sprintf("no value for parameter %s", paramLabel(name, i+1))}
		}
		var rc int32
		switch v.Type {
		case command.TypeNull:
			rc = sqlite3.Xsqlite3_bind_null(c.tls, s.p, idx)
		case command.TypeInteger:
			rc = sqlite3.Xsqlite3_bind_int64(c.tls, s.p, idx, v.Int)
		case command.TypeFloat:
			rc = sqlite3.Xsqlite3_bind_double(c.tls, s.p, idx, v.Float)
		case command.TypeText:
			z, err := c.cString(v.Text)
			if err != nil {
				return err
			}
			rc = sqlite3.Xsqlite3_bind_text(c.tls, s.p, idx, z, int32(len(v.Text)), sqlite3.SQLITE_TRANSIENT)
		case command.TypeBlob:
			if len(v.Blob) == 0 {
				rc = sqlite3.Xsqlite3_bind_zeroblob(c.tls, s.p, idx, 0)
				break
			}
			z, err := c.cString(string(v.Blob))
			if err != nil {
				return err
			}
			rc = sqlite3.Xsqlite3_bind_blob(c.tls, s.p, idx, z, int32(len(v.Blob)), sqlite3.SQLITE_TRANSIENT)
		default:
			return &command.Error{Code: codeError, Message: fmt.Sprintf("parameter %s has unknown type %d", paramLabel(name, i+1), v.Type)}
		}
		if rc != sqlite3.SQLITE_OK {
			e := c.errorf(rc)
			return &command.Error{Code: e.code, Message: e.msg}
		}
	}
	return nil
}

func paramLabel(name string, i int) string {
	if name == "" {
		return fmt.Sprintf("?%d", i)
	}
	return name
}

// positional returns the n-th parameter without a name, or nil.
func positional(params []command.Value, n int) *command.Value {
	if n < 0 {
		return nil
	}
	for i := range params {
		if params[i].Name != "" {
			continue
		}
		if n == 0 {
			return &params[i]
		}
		n--
	}
	return nil
}

func number(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// run binds and steps s to completion, collecting its result. ctx checks
// are the caller's business (see interrupt). The statement is reset.
// A returned error is a *command.Error for SQL errors or a *sqliteError
// with a fatal code.
func (c *conn) run(s *stmt, params []command.Value, res *command.StatementResult) error {
	defer func() {
		sqlite3.Xsqlite3_reset(c.tls, s.p)
		if s.nParams > 0 {
			sqlite3.Xsqlite3_clear_bindings(c.tls, s.p)
		}
	}()
	if c.write && !c.apply {
		// A connection that writes for a backup or a restore check may
		// draw from SQLite's generator (journal checksums, unique column
		// names), which must not happen inside an apply's statement.
		prngMu.RLock()
		defer prngMu.RUnlock()
	}
	if err := c.bind(s, params); err != nil {
		var ce *command.Error
		if errors.As(err, &ce) {
			return c.tooBig(ce)
		}
		return err
	}
	var ncol int
	total := sqlite3.Xsqlite3_total_changes64(c.tls, c.db)
	armed := c.arm(s)
	c.stepping, c.running = true, s.p
	defer func() {
		c.stepping, c.running = false, 0
		if armed {
			c.disarm()
		}
	}()
	if c.write && s.ddl {
		c.epoch++
	}
	for {
		rc := sqlite3.Xsqlite3_step(c.tls, s.p)
		switch rc {
		case sqlite3.SQLITE_ROW:
			if res.Columns == nil {
				ncol = c.columns(s, res)
			}
			res.Rows = append(res.Rows, c.row(s, ncol))
			continue
		case sqlite3.SQLITE_DONE:
			if c.write && c.ddl && s.sp {
				// ROLLBACK TO may have undone schema changes.
				c.epoch++
				if c.apply {
					c.reloadStats()
				}
			}
			if c.apply && s.stats {
				c.reloadStats()
			}
			if res.Columns == nil {
				c.columns(s, res)
			}
			if !s.readOnly {
				// sqlite3_changes keeps the count of the last INSERT,
				// UPDATE or DELETE across other statements, which would
				// make a CREATE report rows that depend on what the
				// connection ran before.
				if sqlite3.Xsqlite3_total_changes64(c.tls, c.db) != total {
					res.RowsAffected = sqlite3.Xsqlite3_changes64(c.tls, c.db)
				}
				res.LastInsertID = sqlite3.Xsqlite3_last_insert_rowid(c.tls, c.db)
			}
			return nil
		}
		if c.write && c.ddl {
			// A failing statement may have rolled back the schema
			// changes of its transaction.
			c.epoch++
			if c.apply {
				// After the error is read: the reload would clear it.
				defer c.reloadStats()
			}
		}
		if armed {
			if ce := c.overBudget(); ce != nil {
				return ce
			}
		}
		e := c.errorf(rc)
		if c.refused != "" && e.code&0xff == sqlite3.SQLITE_AUTH {
			// The statement was prepared again after a schema change
			// and the authorizer refused it this time.
			return &command.Error{Code: command.CodeRefused, Message: c.refused}
		}
		if fatalCode(e.code) {
			return e
		}
		return c.tooBig(&command.Error{Code: e.code, Message: e.msg})
	}
}

// columns fills res.Columns for a statement that returns rows.
func (c *conn) columns(s *stmt, res *command.StatementResult) int {
	n := int(sqlite3.Xsqlite3_column_count(c.tls, s.p))
	if n == 0 {
		return 0
	}
	res.Columns = make([]command.Column, n)
	for i := range res.Columns {
		decl := libc.GoString(sqlite3.Xsqlite3_column_decltype(c.tls, s.p, int32(i)))
		if strings.EqualFold(decl, "INTEGER") && c.rowidAlias(s, int32(i)) {
			// A rowid alias holds any 64-bit integer (SQLite numbers rows
			// past 2^31 itself), so it is described as one.
			decl = rowidAliasDeclType
		}
		res.Columns[i] = command.Column{
			Name:     columnName(sqlite3.Xsqlite3_column_name(c.tls, s.p, int32(i))),
			DeclType: decl,
		}
	}
	return n
}

// maxColumnName bounds a result column's name. SQLite names a column
// without an alias after the text of its expression, which may be as long
// as the statement (a literal of megabytes): the name is cut, on a
// character boundary, instead of being copied whole into every result.
const maxColumnName = 256

// columnName reads a column name of at most maxColumnName bytes.
func columnName(p uintptr) string {
	if p == 0 {
		return ""
	}
	b := unsafe.Slice((*byte)(cptr(p)), maxColumnName+1)
	n := 0
	for n <= maxColumnName && b[n] != 0 {
		n++
	}
	if n > maxColumnName {
		n = maxColumnName
		for n > 0 && !utf8.RuneStart(b[n]) {
			n--
		}
	}
	return string(b[:n])
}

// rowidAliasDeclType is the declared type reported for a result column
// that is a table's INTEGER PRIMARY KEY, an alias of its rowid.
const rowidAliasDeclType = "BIGINT"

// rowidNames are the names by which SQLite finds a table's rowid, unless a
// column has that name.
var rowidNames = [...]string{"_rowid_", "rowid", "oid"}

// rowidAlias reports whether result column i of s comes straight from a
// table column that is the table's rowid.
func (c *conn) rowidAlias(s *stmt, i int32) bool {
	zTable := sqlite3.Xsqlite3_column_table_name(c.tls, s.p, i)
	zCol := sqlite3.Xsqlite3_column_origin_name(c.tls, s.p, i)
	if zTable == 0 || zCol == 0 {
		return false
	}
	db := libc.GoString(sqlite3.Xsqlite3_column_database_name(c.tls, s.p, i))
	table := libc.GoString(zTable)
	return strings.EqualFold(c.rowidColumn(db, table), libc.GoString(zCol))
}

// rowidColumn returns the column of db.table that aliases its rowid, or ""
// when it has none. SQLite names that column as the origin of a selected
// rowid; compiling such a statement runs nothing, so it costs no steps of a
// write's budget. Answers are kept until the schema may have changed.
func (c *conn) rowidColumn(db, table string) string {
	if c.aliasEpoch != c.epoch || c.aliasSchema != c.seenSchema || c.aliases == nil {
		c.aliases = map[string]string{}
		c.aliasEpoch, c.aliasSchema = c.epoch, c.seenSchema
	}
	key := db + "." + table
	if col, ok := c.aliases[key]; ok {
		return col
	}
	col := ""
	for _, name := range rowidNames {
		origin, ok := c.originOf("SELECT " + name + " FROM " + quoteIdent(db) + "." + quoteIdent(table))
		if !ok {
			break // no such table, or WITHOUT ROWID
		}
		if !strings.EqualFold(origin, name) {
			col = origin
			break
		}
		// No alias, or a column of that very name: the next name tells.
	}
	if len(c.aliases) < maxCachedStmts {
		c.aliases[key] = col
	}
	return col
}

// originOf compiles sql, a one-column SELECT, and returns the origin column
// of its result.
func (c *conn) originOf(sql string) (string, bool) {
	z, err := libc.CString(sql)
	if err != nil {
		return "", false
	}
	defer libc.Xfree(c.tls, z)
	pp := libc.Xmalloc(c.tls, 8)
	if pp == 0 {
		return "", false
	}
	defer libc.Xfree(c.tls, pp)
	*(*uintptr)(cptr(pp)) = 0
	if rc := sqlite3.Xsqlite3_prepare_v3(c.tls, c.db, z, -1, 0, pp, 0); rc != sqlite3.SQLITE_OK {
		return "", false
	}
	p := *(*uintptr)(cptr(pp))
	if p == 0 {
		return "", false
	}
	defer sqlite3.Xsqlite3_finalize(c.tls, p)
	zOrigin := sqlite3.Xsqlite3_column_origin_name(c.tls, p, 0)
	if zOrigin == 0 {
		return "", false
	}
	return libc.GoString(zOrigin), true
}

// row reads the current row: values exactly as stored, by storage class.
func (c *conn) row(s *stmt, n int) []command.Value {
	row := make([]command.Value, n)
	for i := range row {
		ii := int32(i)
		switch sqlite3.Xsqlite3_column_type(c.tls, s.p, ii) {
		case sqlite3.SQLITE_INTEGER:
			row[i] = command.Value{Type: command.TypeInteger, Int: sqlite3.Xsqlite3_column_int64(c.tls, s.p, ii)}
		case sqlite3.SQLITE_FLOAT:
			row[i] = command.Value{Type: command.TypeFloat, Float: sqlite3.Xsqlite3_column_double(c.tls, s.p, ii)}
		case sqlite3.SQLITE_TEXT:
			p := sqlite3.Xsqlite3_column_text(c.tls, s.p, ii)
			m := int(sqlite3.Xsqlite3_column_bytes(c.tls, s.p, ii))
			row[i] = command.Value{Type: command.TypeText, Text: string(unsafe.Slice((*byte)(cptr(p)), m))}
		case sqlite3.SQLITE_BLOB:
			p := sqlite3.Xsqlite3_column_blob(c.tls, s.p, ii)
			m := int(sqlite3.Xsqlite3_column_bytes(c.tls, s.p, ii))
			b := make([]byte, m)
			if m > 0 {
				copy(b, unsafe.Slice((*byte)(cptr(p)), m))
			}
			row[i] = command.Value{Type: command.TypeBlob, Blob: b}
		default:
			row[i] = command.Value{Type: command.TypeNull}
		}
	}
	return row
}

// exec runs a statement of the connection's own (transaction control,
// pragmas), which the authorizer lets through.
func (c *conn) exec(sql string) error {
	if c.apply {
		// COMMIT may write the first WAL frame, and draw its salt.
		prngMu.Lock()
		defer prngMu.Unlock()
		if c.ddl && strings.HasPrefix(sql, "ROLLBACK") {
			c.epoch++
			defer c.reloadStats()
		}
	}
	c.internal = true
	defer func() { c.internal = false }()
	s, err := c.prepare(sql, c.own)
	if err != nil {
		return asSQLiteError(err)
	}
	if s == nil {
		return nil
	}
	var res command.StatementResult
	return asSQLiteError(c.run(s, nil, &res))
}

// reloadStats makes the write connection's planner statistics those the
// database holds. SQLite loads sqlite_stat1 and sqlite_stat4 with the
// schema and again at the end of ANALYZE, but not when a statement writes
// them directly, nor when a transaction or savepoint that ran ANALYZE
// rolls back: the statistics in memory would then be the history of this
// connection (a node that restarts or installs a snapshot loads those of
// the file), and plans, so the rows an INSERT … SELECT … LIMIT picks,
// would differ between nodes. Resetting the schema has SQLite load it,
// with the statistics, before the next statement; the epoch moves so that
// no cached statement runs with a plan made from the old ones. prngMu is
// held (the caller applies).
func (c *conn) reloadStats() {
	c.epoch++
	z, err := c.cString("PRAGMA writable_schema=RESET")
	if err != nil {
		return
	}
	c.internal = true
	sqlite3.Xsqlite3_exec(c.tls, c.db, z, 0, 0, 0)
	c.internal = false
}

// query1 runs a statement of the connection's own and returns its first row.
func (c *conn) query1(sql string) ([]command.Value, error) {
	c.internal = true
	defer func() { c.internal = false }()
	s, err := c.prepare(sql, nil)
	if err != nil {
		return nil, asSQLiteError(err)
	}
	defer c.finalize(s)
	var res command.StatementResult
	if err := c.run(s, nil, &res); err != nil {
		return nil, asSQLiteError(err)
	}
	if len(res.Rows) == 0 {
		return nil, nil
	}
	return res.Rows[0], nil
}

func asSQLiteError(err error) error {
	var ce *command.Error
	if errors.As(err, &ce) {
		return &sqliteError{code: ce.Code, msg: ce.Message}
	}
	return err
}

// deferredFKs reports whether foreign key violations wait for the end of
// the transaction.
func (c *conn) deferredFKs() bool {
	cur, hi := c.out, c.out+8
	*(*int32)(cptr(cur)) = 0
	sqlite3.Xsqlite3_db_status(c.tls, c.db, sqlite3.SQLITE_DBSTATUS_DEFERRED_FKS, cur, hi, 0)
	return *(*int32)(cptr(cur)) != 0
}

func (c *conn) autocommit() bool { return sqlite3.Xsqlite3_get_autocommit(c.tls, c.db) != 0 }
