package command

import (
	"fmt"
	"hash/fnv"
)

// Result is what applying a command produced: one StatementResult per
// statement that ran. When a statement fails, the command's transaction is
// rolled back, the failing statement's result carries the error and the
// statements after it are not run (so Statements may be shorter than the
// command's list).
type Result struct {
	Statements []StatementResult
}

// Err returns the first statement error, or nil.
func (r *Result) Err() *Error {
	for i := range r.Statements {
		if r.Statements[i].Err != nil {
			return r.Statements[i].Err
		}
	}
	return nil
}

// StatementResult is the outcome of one statement.
type StatementResult struct {
	// Columns is set for statements that return rows (SELECT, RETURNING),
	// even when no row came back.
	Columns      []Column
	Rows         [][]Value
	RowsAffected int64
	LastInsertID int64
	// Err is the SQL error of this statement, as a value: every node
	// computes the same one, so it is a result, not a node failure.
	Err *Error
}

// Column describes a result column.
type Column struct {
	Name string
	// DeclType is the declared type of the column the value comes from
	// ("INTEGER", "varchar(10)"), or "" for an expression.
	DeclType string
}

// Error is a SQL error reported by SQLite while running a statement, or a
// refusal by the state machine's authorizer.
type Error struct {
	// Code is SQLite's extended result code (19 SQLITE_CONSTRAINT,
	// 2067 SQLITE_CONSTRAINT_UNIQUE, ...), or one of the Code* values below.
	Code    int
	Message string
}

// Codes that are not SQLite's own.
const (
	// CodeRefused marks a statement the authorizer refused: it could make
	// nodes diverge or reach outside the database.
	CodeRefused = 100000
	// CodeReadOnly marks a statement that writes, sent where only reads
	// are allowed.
	CodeReadOnly = 100001
	// CodeLimit marks a statement that exceeded a limit stamped into its
	// command (the step budget); every node reaches it at the same point.
	CodeLimit = 100002
	// CodeConflict marks a command whose statements, applied, did not
	// produce the results its transaction showed (Command.Expect): the
	// state it ran on was not the state it was applied to.
	CodeConflict = 100003
)

// ResultDigest is a digest of what the statements of a command returned:
// rows, row counts and inserted ids, in order. It is 0 only when rs is
// empty, so that Command.Expect can tell "no digest".
func ResultDigest(rs []StatementResult) uint64 {
	if len(rs) == 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write(EncodeResult(&Result{Statements: rs}))
	d := h.Sum64()
	if d == 0 {
		d = 1
	}
	return d
}

func (e *Error) Error() string { return e.Message }

// Errorf builds an Error.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
