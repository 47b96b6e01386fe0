package server

import (
	"context"
	"errors"
	"strings"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/pgwire"
	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// SQLSTATE codes raftsql reports for its own conditions.
const (
	// StateOutcomeUnknown (40003, statement_completion_unknown) reports a
	// write that may or may not have been applied.
	StateOutcomeUnknown = "40003"
	// StateNoLeader (57P03, cannot_connect_now) reports that no leader could
	// be reached, or that a read could not be confirmed or caught up with
	// within the read timeout; nothing was applied and the client may retry.
	StateNoLeader = "57P03"
	// StateLockTimeout (55P03, lock_not_available) reports a write that gave
	// up waiting for the write lock of an open transaction; nothing was
	// applied.
	StateLockTimeout = "55P03"
	// StateCanceled (57014, query_canceled) reports a statement cut short:
	// statement_timeout, a cancel request, or a forwarded read whose answer
	// did not come within the read timeout.
	StateCanceled = "57014"
)

// SQLite primary and extended result codes this file maps.
const (
	sqliteError        = 1
	sqliteInternal     = 2
	sqlitePerm         = 3
	sqliteAbort        = 4
	sqliteBusy         = 5
	sqliteLocked       = 6
	sqliteNoMem        = 7
	sqliteReadOnly     = 8
	sqliteInterrupt    = 9
	sqliteIOErr        = 10
	sqliteCorrupt      = 11
	sqliteFull         = 13
	sqliteTooBig       = 18
	sqliteConstraint   = 19
	sqliteMismatch     = 20
	sqliteMisuse       = 21
	sqliteAuth         = 23
	sqliteRange        = 25
	constraintCheck    = 275
	constraintFK       = 787
	constraintNotNull  = 1299
	constraintPK       = 1555
	constraintUnique   = 2067
	constraintRowID    = 2579
	constraintTrigger  = 1811
	constraintDatatype = 3091
)

// sqlState returns the SQLSTATE for a SQLite error.
func sqlState(e *command.Error) string {
	switch e.Code {
	case command.CodeRefused:
		return "42501" // insufficient_privilege
	case command.CodeReadOnly:
		return "25006" // read_only_sql_transaction
	case command.CodeLimit:
		return "54000" // program_limit_exceeded
	case command.CodeConflict:
		return "40001" // serialization_failure
	case constraintUnique, constraintPK, constraintRowID:
		return "23505"
	case constraintNotNull:
		return "23502"
	case constraintFK:
		return "23503"
	case constraintCheck:
		return "23514"
	case constraintDatatype:
		return "22P02" // invalid_text_representation: a STRICT table refused the value
	case constraintTrigger:
		return "P0001" // raise_exception, as RAISE(ABORT) is
	}
	switch e.Code & 0xff {
	case sqliteConstraint:
		return "23000"
	case sqliteBusy:
		return "40001"
	case sqliteLocked:
		return "55P03"
	case sqliteReadOnly:
		return "25006"
	case sqliteInterrupt:
		return "57014"
	case sqliteTooBig:
		return "54000"
	case sqliteMismatch:
		return "42804"
	case sqliteAuth, sqlitePerm:
		return "42501"
	case sqliteRange:
		return "08P01"
	case sqliteFull:
		return "53100"
	case sqliteIOErr:
		return "58030"
	case sqliteCorrupt:
		return "XX001"
	case sqliteNoMem:
		return "53200"
	case sqliteAbort:
		return "40000"
	case sqliteError:
		return generalState(e.Message)
	}
	return "XX000"
}

// statementOnlyFunctions are answered when a statement is a call of one of
// them alone (SELECT set_config(…)), not inside another statement.
var statementOnlyFunctions = map[string]bool{"set_config": true}

// generalState refines SQLITE_ERROR, which SQLite uses for most mistakes in
// a statement, by its message.
func generalState(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "syntax error"), strings.Contains(m, "incomplete input"),
		strings.Contains(m, "unrecognized token"):
		return "42601"
	case strings.Contains(m, "no such table"), strings.Contains(m, "no such view"):
		return "42P01"
	case strings.Contains(m, "no such column"):
		return "42703"
	case strings.HasPrefix(m, "unknown database "):
		// A qualifier that names no schema (CREATE TABLE other.t): SQLite
		// reads it as an attached database's name.
		return "3F000"
	case strings.Contains(m, "no such function"):
		return "42883"
	case strings.Contains(m, "no such index"), strings.Contains(m, "no such trigger"):
		return "42704"
	case strings.Contains(m, "already exists"):
		return "42P07"
	case strings.Contains(m, "ambiguous column"):
		return "42702"
	case strings.Contains(m, "wrong number of arguments"):
		return "42883"
	case strings.Contains(m, "datatype mismatch"):
		return "42804"
	case m == "division by zero":
		return "22012" // the front end's guard around divisors
	case m == "integer overflow":
		return "22003" // sum() past 64 bits, as Postgres' "bigint out of range"
	case m == "step size cannot equal zero":
		return "22023" // generate_series' step, as the front end guards it
	}
	if code, ok := pgsql.ErrorState(msg); ok {
		return code // an error of one of the front end's Go functions
	}
	return "42000"
}

// pgError converts an error of the node into one pgwire sends with a
// SQLSTATE.
func pgError(err error) error {
	if err == nil {
		return nil
	}
	var ce *command.Error
	var pe *pgwire.Error
	var v *violation
	switch {
	case errors.As(err, &v):
		return v
	case errors.As(err, &pe):
		return pe
	case errors.As(err, &ce) && isViolation(ce):
		return &violation{pe: violationError(ce, "", "", nil), ce: ce}
	case errors.As(err, &ce):
		e := &pgwire.Error{Code: sqlState(ce), Message: ce.Message}
		if ce.Code == command.CodeRefused {
			e.Hint = "raftsql refuses statements that could make nodes diverge or reach outside the database"
		}
		if f, ok := strings.CutPrefix(ce.Message, "no such function: "); ok && statementOnlyFunctions[strings.ToLower(f)] {
			e.Code = "0A000" // feature_not_supported
			e.Hint = "raftsql runs " + strings.ToLower(f) + "() as a statement of its own only: SELECT " + strings.ToLower(f) + "(…)"
		}
		return e
	case errors.Is(err, ErrPermissionDenied):
		return &pgwire.Error{Code: "42501", Message: err.Error(), // insufficient_privilege
			Hint: "the password file gives this user its rights (rights=read|write|admin)"}
	case errors.Is(err, ErrOutcomeUnknown):
		return &pgwire.Error{Code: StateOutcomeUnknown, Message: err.Error(),
			Hint: "check whether the write took effect before repeating it"}
	case errors.Is(err, ErrNoLeader):
		return &pgwire.Error{Code: StateNoLeader, Message: err.Error(), Hint: "retry shortly"}
	case errors.Is(err, ErrNotUpgraded):
		return &pgwire.Error{Code: "0A000", Message: err.Error(), // feature_not_supported
			Hint: "a rolling upgrade is not finished: once every node runs this release, the cluster uses what it adds"}
	case errors.Is(err, ErrLockTimeout):
		return &pgwire.Error{Code: StateLockTimeout, Message: err.Error(),
			Hint: "nothing was applied; lock_timeout and the node's --lock-timeout bound the wait for the write lock"}
	case errors.Is(err, ErrCatchUpTimeout), errors.Is(err, ErrReadTimeout):
		return &pgwire.Error{Code: StateNoLeader, Message: err.Error(), Hint: "nothing was changed; retry, or read from another node"}
	case errors.Is(err, errReadAnswerTimeout):
		return &pgwire.Error{Code: StateCanceled, Message: err.Error(),
			Hint: "read less at a time, or at consistency none on this node"}
	case errors.As(err, new(*limitError)):
		return &pgwire.Error{Code: "54000", Message: err.Error()} // program_limit_exceeded
	case errors.Is(err, ErrNotReady):
		return &pgwire.Error{Code: "57P01", Message: err.Error()} // admin_shutdown
	case errors.Is(err, context.Canceled):
		return &pgwire.Error{Code: "57014", Message: "canceling statement due to user request"}
	case errors.Is(err, context.DeadlineExceeded):
		return &pgwire.Error{Code: "57014", Message: "canceling statement due to statement timeout"}
	}
	return &pgwire.Error{Code: "XX000", Message: err.Error()}
}
