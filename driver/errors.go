package driver

import (
	"errors"
	"fmt"
)

// ErrOutcomeUnknown is returned, possibly wrapped, when a statement that may
// change the database was sent but the driver cannot tell whether the
// cluster applied it: the connection broke or the context ended after the
// statement left, or the server answered SQLSTATE 40003, and the statement
// could not be resent safely (it was a COMMIT, or ran inside a transaction)
// or resending did not succeed before the retry deadline. The write may or
// may not have happened; check with errors.Is and reconcile by reading.
//
// Writes outside transactions carry a request id, so the driver resends them
// itself and the cluster applies each at most once; this error then only
// reaches the caller when the retry deadline passed.
var ErrOutcomeUnknown = errors.New("raftsql: outcome of the write is unknown")

// Error is an error the server reported (an ErrorResponse).
type Error struct {
	Severity string // ERROR, FATAL or PANIC
	Code     string // SQLSTATE, e.g. "23505"
	Message  string
	Detail   string
	Hint     string
	Position int32 // 1-based character position in the statement, 0 if none
	// The object an integrity violation names (a unique, foreign key,
	// check or not-null constraint), "" when the server names none.
	SchemaName     string
	TableName      string
	ColumnName     string
	ConstraintName string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("raftsql: %s (SQLSTATE %s)", e.Message, e.Code)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// SQLSTATE codes the driver acts on.
const (
	codeNoLeader          = "57P03" // cannot_connect_now: no leader, nothing applied
	codeOutcomeUnknown    = "40003" // statement_completion_unknown
	codeQueryCanceled     = "57014"
	codeAdminShutdown     = "57P01"
	codeInFailedSQLTx     = "25P02"
	codeSerialization     = "40001"
	codeProtocolViolation = "08P01"
)

// Temporary reports whether the statement may succeed if run again: no
// leader (57P03) or a serialization failure (40001, for the whole
// transaction).
func (e *Error) Temporary() bool {
	return e.Code == codeNoLeader || e.Code == codeSerialization
}

// outcomeError is ErrOutcomeUnknown with its cause.
type outcomeError struct{ cause error }

func (e *outcomeError) Error() string {
	return ErrOutcomeUnknown.Error() + ": " + e.cause.Error()
}

func (e *outcomeError) Unwrap() []error { return []error{ErrOutcomeUnknown, e.cause} }
