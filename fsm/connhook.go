package fsm

import (
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// Func is a scalar SQL function of Go that every connection of the state
// machine registers (Config.Funcs). It must be deterministic: writes may
// call it, and every node must compute the same result. Arguments and
// results are nil, int64, float64, string or []byte (a bool result is
// stored as 0 or 1); NArgs -1 takes any number of arguments.
type Func struct {
	Name  string
	NArgs int
	Fn    func(args []any) (any, error)
	// Write, set in place of Fn, makes it a write function, which acts on
	// the database through tx (funcwrite.go). Set with Fn, it is what the
	// write connection runs, and Fn what the others do; a statement that
	// calls it is no write for that: it may read through tx, and its
	// memo, but not write.
	Write func(tx FuncTx, args []any) (any, error)
	// Since is the entry version (command.EntryVersion) of the release
	// that introduced the function, 0 for the functions of the base: a
	// node of an older release has no such function and fails a
	// statement that calls it. The state machine only reports it
	// (Info.FuncSince); the caller decides what a version allows.
	Since int
}

// goFuncs holds the registered functions by the id SQLite passes back as
// the function's user data.
var goFuncs = struct {
	sync.RWMutex
	byID map[uintptr]func([]any) (any, error)
	next uintptr
}{byID: map[uintptr]func([]any) (any, error){}}

func goFuncID(fn func([]any) (any, error)) uintptr {
	goFuncs.Lock()
	defer goFuncs.Unlock()
	goFuncs.next++
	goFuncs.byID[goFuncs.next] = fn
	return goFuncs.next
}

func goFuncTrampoline(tls *libc.TLS, ctx uintptr, argc int32, argv uintptr) {
	goFuncs.RLock()
	fn := goFuncs.byID[sqlite3.Xsqlite3_user_data(tls, ctx)]
	goFuncs.RUnlock()
	args := make([]any, argc)
	for i := range args {
		v := *(*uintptr)(cptr(argv + uintptr(i)*unsafe.Sizeof(uintptr(0))))
		switch sqlite3.Xsqlite3_value_type(tls, v) {
		case sqlite3.SQLITE_INTEGER:
			args[i] = sqlite3.Xsqlite3_value_int64(tls, v)
		case sqlite3.SQLITE_FLOAT:
			args[i] = sqlite3.Xsqlite3_value_double(tls, v)
		case sqlite3.SQLITE_TEXT:
			p := sqlite3.Xsqlite3_value_text(tls, v)
			n := sqlite3.Xsqlite3_value_bytes(tls, v)
			args[i] = string(unsafe.Slice((*byte)(cptr(p)), n))
		case sqlite3.SQLITE_BLOB:
			p := sqlite3.Xsqlite3_value_blob(tls, v)
			n := sqlite3.Xsqlite3_value_bytes(tls, v)
			b := make([]byte, n)
			if n > 0 {
				copy(b, unsafe.Slice((*byte)(cptr(p)), n))
			}
			args[i] = b
		}
	}
	r, err := fn(args)
	if err != nil {
		resultBytes(tls, ctx, []byte(err.Error()), func(p uintptr, n int32) {
			sqlite3.Xsqlite3_result_error(tls, ctx, p, n)
		})
		if code, ok := fatalFuncError(err); ok {
			sqlite3.Xsqlite3_result_error_code(tls, ctx, code)
		}
		return
	}
	switch x := r.(type) {
	case nil:
		sqlite3.Xsqlite3_result_null(tls, ctx)
	case int64:
		sqlite3.Xsqlite3_result_int64(tls, ctx, x)
	case int:
		sqlite3.Xsqlite3_result_int64(tls, ctx, int64(x))
	case bool:
		v := int64(0)
		if x {
			v = 1
		}
		sqlite3.Xsqlite3_result_int64(tls, ctx, v)
	case float64:
		sqlite3.Xsqlite3_result_double(tls, ctx, x)
	case string:
		resultBytes(tls, ctx, []byte(x), func(p uintptr, n int32) {
			sqlite3.Xsqlite3_result_text(tls, ctx, p, n, sqlite3.SQLITE_TRANSIENT)
		})
	case []byte:
		resultBytes(tls, ctx, x, func(p uintptr, n int32) {
			sqlite3.Xsqlite3_result_blob(tls, ctx, p, n, sqlite3.SQLITE_TRANSIENT)
		})
	default:
		resultBytes(tls, ctx, []byte(fmt.Sprintf("function returned %T", r)), func(p uintptr, n int32) {
			sqlite3.Xsqlite3_result_error(tls, ctx, p, n)
		})
	}
}

// resultBytes hands b to set in C memory that SQLite copies.
func resultBytes(tls *libc.TLS, ctx uintptr, b []byte, set func(p uintptr, n int32)) {
	if len(b) > maxLength {
		sqlite3.Xsqlite3_result_error_toobig(tls, ctx)
		return
	}
	p := libc.Xmalloc(tls, libc.Tsize_t(len(b)+1))
	if p == 0 {
		sqlite3.Xsqlite3_result_error_nomem(tls, ctx)
		return
	}
	copy(unsafe.Slice((*byte)(cptr(p)), len(b)), b)
	set(p, int32(len(b)))
	libc.Xfree(tls, p)
}

// registeredFunc is a Func with the id its trampoline finds it by.
type registeredFunc struct {
	Func
	id uintptr
}

func registerFuncs(fs []Func) []registeredFunc {
	out := make([]registeredFunc, len(fs))
	for i, f := range fs {
		out[i] = registeredFunc{Func: f}
		if f.Write == nil {
			out[i].id = goFuncID(f.Fn)
		}
	}
	return out
}

// funcSinces maps the lower-case name of every function of fs with a
// Since to the highest Since of that name; nil when there is none, so
// that the authorizer looks nothing up.
func funcSinces(fs []registeredFunc) map[string]int {
	var m map[string]int
	for _, f := range fs {
		if f.Since <= 0 {
			continue
		}
		if m == nil {
			m = map[string]int{}
		}
		name := strings.ToLower(f.Name)
		m[name] = max(m[name], f.Since)
	}
	return m
}

// setup registers the Go functions on c and runs the statements of
// Config.ConnInit, which may create TEMP VIEWs (they live on this
// connection only, read the database like any query, and are never
// replicated or snapshotted).
func (c *conn) setup(funcs []registeredFunc, init []string) error {
	c.funcSince = funcSinces(funcs)
	for _, f := range funcs {
		z, err := libc.CString(f.Name)
		if err != nil {
			return err
		}
		id, flags := f.id, int32(sqlite3.SQLITE_UTF8|sqlite3.SQLITE_DETERMINISTIC|sqlite3.SQLITE_INNOCUOUS)
		if f.Write != nil && (f.Fn == nil || c.apply) {
			// Called once per evaluation, never factored out; innocuous
			// so that a column DEFAULT may call it.
			id, flags = goFuncID(c.writeFunc(f)), sqlite3.SQLITE_UTF8|sqlite3.SQLITE_INNOCUOUS
			c.funcIDs = append(c.funcIDs, id)
			if f.Fn == nil {
				if c.writeFuncs == nil {
					c.writeFuncs = map[string]bool{}
				}
				c.writeFuncs[strings.ToLower(f.Name)] = true
			}
		} else if f.Write != nil {
			id, flags = goFuncID(f.Fn), sqlite3.SQLITE_UTF8|sqlite3.SQLITE_INNOCUOUS
			c.funcIDs = append(c.funcIDs, id)
		}
		rc := sqlite3.Xsqlite3_create_function_v2(c.tls, c.db, z, int32(f.NArgs),
			flags, id, cFuncPointer(goFuncTrampoline), 0, 0, 0)
		libc.Xfree(c.tls, z)
		if rc != sqlite3.SQLITE_OK {
			return fmt.Errorf("fsm: registering %s: %w", f.Name, c.errorf(rc))
		}
	}
	c.setupSQL = true
	defer func() { c.setupSQL = false }()
	if len(init) > 0 {
		// One transaction: each statement of its own would read the
		// database's schema again.
		stmts := append(append([]string{"BEGIN"}, init...), "COMMIT")
		for _, sql := range stmts {
			if err := c.exec(sql); err != nil {
				c.exec("ROLLBACK")
				return fmt.Errorf("fsm: connection setup: %w", err)
			}
		}
	}
	// The setup's statements are not kept among the connection's own.
	for k, s := range c.own {
		c.finalize(s)
		delete(c.own, k)
	}
	return nil
}

// forgetFuncs drops the goFuncs entries of a connection that closed.
func forgetFuncs(ids []uintptr) {
	if len(ids) == 0 {
		return
	}
	goFuncs.Lock()
	defer goFuncs.Unlock()
	for _, id := range ids {
		delete(goFuncs.byID, id)
	}
}
