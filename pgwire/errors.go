package pgwire

import (
	"errors"

	"github.com/jackc/pgx/v5/pgproto3"
)

// SQLSTATE codes pgwire itself sends. The server maps its own errors.
const (
	codeProtocolViolation      = "08P01"
	codeFeatureNotSupported    = "0A000"
	codeInvalidParameterValue  = "22023"
	codeUndefinedObject        = "42704"
	codeSyntaxError            = "42601"
	codeUndefinedParameter     = "42P02"
	codeDuplicatePStatement    = "42P05"
	codeInvalidSQLStatement    = "26000"
	codeInvalidCursorName      = "34000"
	codeQueryCanceled          = "57014"
	codeAdminShutdown          = "57P01"
	codeIdleSessionTimeout     = "57P05"
	codeTooManyConnections     = "53300"
	codeInFailedTransaction    = "25P02"
	codeActiveTransaction      = "25001"
	codeNoActiveTransaction    = "25P01"
	codeCantChangeRuntimeParam = "55P02"
	codeProgramLimitExceeded   = "54000"
	codeInternalError          = "XX000"
	codeInvalidAuthorization   = "28000"
	codeBadCopyFormat          = "22P04"
	codeConnectionFailure      = "08006"
)

func newError(code, msg string) *Error { return &Error{Code: code, Message: msg} }

// toError turns any error into an *Error: one that is (or wraps) an *Error is
// used as is, anything else becomes an internal error (XX000).
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: codeInternalError, Message: err.Error()}
}

// errorResponse builds the ErrorResponse for e. offset is the character
// offset of the statement in the query string, added to e.Position.
func errorResponse(e *Error, offset int) *pgproto3.ErrorResponse {
	sev := e.Severity
	if sev == "" {
		sev = "ERROR"
	}
	code := e.Code
	if code == "" {
		code = codeInternalError
	}
	r := &pgproto3.ErrorResponse{
		Severity:            sev,
		SeverityUnlocalized: sev,
		Code:                code,
		Message:             e.Message,
		Detail:              e.Detail,
		Hint:                e.Hint,
		SchemaName:          e.Schema,
		TableName:           e.Table,
		ColumnName:          e.Column,
		ConstraintName:      e.Constraint,
		Where:               e.Where,
	}
	if e.Position > 0 {
		r.Position = int32(e.Position + offset)
	}
	return r
}
