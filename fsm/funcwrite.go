package fsm

// Write functions (Func.Write) are SQL functions that read and write the
// database from inside the statement that calls them, once per call: what
// a sequence's nextval needs in INSERT … VALUES (nextval('s')), in a
// column DEFAULT, or once per row of INSERT … SELECT.
//
// Why they are deterministic: they run only on the write connection, which
// applies the same commands in the same order on every node, and they act
// only through FuncTx, whose statements run on that connection inside the
// calling statement, in its transaction: what they write is data like any
// other, in the file, in snapshots, and replayed from the log. SQLite
// calls them once per evaluation (they are not registered as
// SQLITE_DETERMINISTIC, so a call with constant arguments is not factored
// out of a loop), in an order fixed by the statement's plan, which is the
// same on every node (plans depend on the schema and the statistics, which
// the state machine keeps alike). When the calling statement fails, what
// the function wrote goes with the statement's own changes (SQLite's
// statement rollback, or the command's savepoint); in a speculative
// transaction (WriteTx) a statement that fails is not part of the command,
// and its memo is given back as its randomness is.
//
// A statement that calls one is a write (Info.ReadOnly is false, and a
// read refuses it), whatever SQLite says of it: SELECT nextval('s') is one.
// On a read connection, or a connection of a backup or a restore check,
// a write function fails.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/raftsql/raftsql/fsm/command"
	sqlite3 "modernc.org/sqlite/lib"
)

// FuncTx is what a write function acts through.
type FuncTx interface {
	// Query runs one statement on the write connection, inside the
	// statement that called the function, and returns its rows. Arguments
	// and values are nil, int64, float64, string or []byte.
	Query(sql string, args ...any) ([][]any, error)
	// Memo is a map the function may keep values in for the rest of the
	// command it runs in (a transaction block's statements are one
	// command): it starts empty with every command, on every node.
	Memo() map[string]any
}

// funcTx is the FuncTx of the write connection.
type funcTx struct{ c *conn }

func (t funcTx) Memo() map[string]any {
	if t.c.memo == nil {
		t.c.memo = map[string]any{}
	}
	return t.c.memo
}

func (t funcTx) Query(sql string, args ...any) ([][]any, error) {
	c := t.c
	// The calling statement was prepared already; what its prepare
	// left for the caller is kept.
	internal, refused, txVerb, prepDDL, prepSP, prepStats := c.internal, c.refused, c.txVerb, c.prepDDL, c.prepSP, c.prepStats
	nodeDep, writeFunc, reads, writes := c.prepNodeDep, c.prepWriteFunc, c.prepReads, c.prepWrites
	funcSince, funcName := c.prepFuncSince, c.prepFunc
	c.internal = true
	if c.nested == nil {
		c.nested = map[string]*stmt{}
	}
	s, err := c.prepare(sql, c.nested)
	c.internal, c.refused, c.txVerb, c.prepDDL, c.prepSP, c.prepStats = internal, refused, txVerb, prepDDL, prepSP, prepStats
	c.prepNodeDep, c.prepWriteFunc, c.prepReads, c.prepWrites = nodeDep, writeFunc, reads, writes
	c.prepFuncSince, c.prepFunc = funcSince, funcName
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, nil
	}
	defer func() {
		sqlite3.Xsqlite3_reset(c.tls, s.p)
		sqlite3.Xsqlite3_clear_bindings(c.tls, s.p)
	}()
	params := make([]command.Value, len(args))
	for i, a := range args {
		switch x := a.(type) {
		case nil:
		case int64:
			params[i] = command.Value{Type: command.TypeInteger, Int: x}
		case int:
			params[i] = command.Value{Type: command.TypeInteger, Int: int64(x)}
		case bool:
			params[i] = command.Value{Type: command.TypeInteger}
			if x {
				params[i].Int = 1
			}
		case float64:
			params[i] = command.Value{Type: command.TypeFloat, Float: x}
		case string:
			params[i] = command.Value{Type: command.TypeText, Text: x}
		case []byte:
			params[i] = command.Value{Type: command.TypeBlob, Blob: x}
		default:
			return nil, fmt.Errorf("argument %d of type %T", i+1, a)
		}
	}
	if err := c.bind(s, params); err != nil {
		return nil, err
	}
	ncol := int(sqlite3.Xsqlite3_column_count(c.tls, s.p))
	var rows [][]any
	for {
		switch rc := sqlite3.Xsqlite3_step(c.tls, s.p); rc {
		case sqlite3.SQLITE_ROW:
			vals := c.row(s, ncol)
			row := make([]any, ncol)
			for i, v := range vals {
				switch v.Type {
				case command.TypeInteger:
					row[i] = v.Int
				case command.TypeFloat:
					row[i] = v.Float
				case command.TypeText:
					row[i] = v.Text
				case command.TypeBlob:
					row[i] = v.Blob
				}
			}
			rows = append(rows, row)
		case sqlite3.SQLITE_DONE:
			return rows, nil
		default:
			return nil, c.errorf(rc)
		}
	}
}

// writeFunc is the write function f for c: on the write connection bound
// to it, elsewhere one that fails.
func (c *conn) writeFunc(f registeredFunc) func([]any) (any, error) {
	name := strings.ToLower(f.Name)
	if !c.apply {
		return func([]any) (any, error) {
			return nil, fmt.Errorf("%s() writes the database: a statement that calls it must go through the log", name)
		}
	}
	tx := funcTx{c}
	return func(args []any) (any, error) { return f.Write(tx, args) }
}

// fatalFuncError reports the code of a local failure a write function met,
// which the calling statement must fail with rather than a SQL error.
func fatalFuncError(err error) (int32, bool) {
	var se *sqliteError
	if errors.As(err, &se) && fatalCode(se.code) {
		return int32(se.code), true
	}
	return 0, false
}

// callsWriteFunc reports whether the text of a statement names one of the
// connection's write functions as a call. The authorizer reports the
// functions of the columns' DEFAULTs too when a statement reads a table
// that has one (SELECT * FROM t), which does not make the read a write;
// so a statement the authorizer saw call one is a write when its own
// text calls it.
func (c *conn) callsWriteFunc(sql string) bool {
	low := strings.ToLower(sql)
	for name := range c.writeFuncs {
		for i := 0; ; {
			j := strings.Index(low[i:], name)
			if j < 0 {
				break
			}
			i += j
			before := i == 0 || !identByte(low[i-1])
			k := i + len(name)
			for k < len(low) && (low[k] == ' ' || low[k] == '\t' || low[k] == '\n' || low[k] == '\r') {
				k++
			}
			if before && k < len(low) && low[k] == '(' {
				return true
			}
			i++
		}
	}
	return false
}

func identByte(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b >= 0x80
}
