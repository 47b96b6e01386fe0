package fsm

// This file lets the composition root add SQL functions written in Go to
// every connection of the state machine (the write connection and the
// readers), without fsm knowing what they are for. Writes call them on
// every node, so they must be deterministic: the same arguments give the
// same result or the same error.

import (
	"fmt"
	"sync"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// Function is a scalar SQL function written in Go.
type Function struct {
	Name    string
	NumArgs int // -1: any number
	// Fn computes the result from arguments that are nil, int64, float64,
	// string or []byte; it returns one of those (or bool), or an error,
	// which fails the statement with its message.
	Fn func(args []any) (any, error)
}

// functions holds every registered Function of the process; a function's
// user data in SQLite is its index plus one.
var (
	functionsMu sync.RWMutex
	functions   []Function
)

func addFunction(fn Function) uintptr {
	functionsMu.Lock()
	defer functionsMu.Unlock()
	functions = append(functions, fn)
	return uintptr(len(functions))
}

func lookupFunction(id uintptr) (Function, bool) {
	functionsMu.RLock()
	defer functionsMu.RUnlock()
	if id == 0 || int(id) > len(functions) {
		return Function{}, false
	}
	return functions[id-1], true
}

// registerFunctions adds fns to c.
func (c *conn) registerFunctions(ids []uintptr, fns []Function) error {
	for i, fn := range fns {
		z, err := libc.CString(fn.Name)
		if err != nil {
			return err
		}
		rc := sqlite3.Xsqlite3_create_function_v2(c.tls, c.db, z, int32(fn.NumArgs),
			sqlite3.SQLITE_UTF8|sqlite3.SQLITE_DETERMINISTIC|sqlite3.SQLITE_INNOCUOUS, ids[i], cFuncPointer(goFunctionTrampoline), 0, 0, 0)
		libc.Xfree(c.tls, z)
		if rc != sqlite3.SQLITE_OK {
			return fmt.Errorf("fsm: registering %s: %w", fn.Name, c.errorf(rc))
		}
	}
	return nil
}

func goFunctionTrampoline(tls *libc.TLS, ctx uintptr, argc int32, argv uintptr) {
	fn, ok := lookupFunction(sqlite3.Xsqlite3_user_data(tls, ctx))
	if !ok {
		resultError(tls, ctx, "fsm: unknown function")
		return
	}
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
		default:
			args[i] = nil
		}
	}
	out, err := fn.Fn(args)
	if err != nil {
		resultError(tls, ctx, err.Error())
		return
	}
	switch r := out.(type) {
	case nil:
		sqlite3.Xsqlite3_result_null(tls, ctx)
	case int64:
		sqlite3.Xsqlite3_result_int64(tls, ctx, r)
	case int:
		sqlite3.Xsqlite3_result_int64(tls, ctx, int64(r))
	case bool:
		var n int64
		if r {
			n = 1
		}
		sqlite3.Xsqlite3_result_int64(tls, ctx, n)
	case float64:
		sqlite3.Xsqlite3_result_double(tls, ctx, r)
	case string:
		resultBytes(tls, ctx, []byte(r), true)
	case []byte:
		resultBytes(tls, ctx, r, false)
	default:
		resultError(tls, ctx, fmt.Sprintf("fsm: function %s returned a %T", fn.Name, out))
	}
}

func resultBytes(tls *libc.TLS, ctx uintptr, b []byte, text bool) {
	p := libc.Xmalloc(tls, libc.Tsize_t(len(b)+1))
	if p == 0 {
		sqlite3.Xsqlite3_result_error_nomem(tls, ctx)
		return
	}
	copy(unsafe.Slice((*byte)(cptr(p)), len(b)+1), b)
	if text {
		sqlite3.Xsqlite3_result_text(tls, ctx, p, int32(len(b)), sqlite3.SQLITE_TRANSIENT)
	} else {
		sqlite3.Xsqlite3_result_blob(tls, ctx, p, int32(len(b)), sqlite3.SQLITE_TRANSIENT)
	}
	libc.Xfree(tls, p)
}

func resultError(tls *libc.TLS, ctx uintptr, msg string) {
	z, err := libc.CString(msg)
	if err != nil {
		sqlite3.Xsqlite3_result_error_nomem(tls, ctx)
		return
	}
	sqlite3.Xsqlite3_result_error(tls, ctx, z, -1)
	libc.Xfree(tls, z)
}
