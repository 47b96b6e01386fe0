package pgwire

import (
	"context"
	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// Backend is what the server gives pgwire: it opens one Session per client
// connection. server implements it; pgwire knows nothing of what is behind it.
type Backend interface {
	// NewSession starts a session for a client that has completed startup
	// and authentication. params are the StartupMessage parameters (user,
	// database, application_name, options, and any others the client sent).
	// An error is sent to the client as a FATAL ErrorResponse.
	NewSession(ctx context.Context, params map[string]string) (Session, error)
}

// Session executes the statements of one client connection, one at a time.
// pgwire calls it from one goroutine; calls never overlap.
type Session interface {
	// Describe reports, without running it, the result columns of one
	// statement (nil when it returns no rows). pgwire counts the $n
	// placeholders itself and echoes the parameter types the client sent.
	Describe(ctx context.Context, st *pgsql.Statement) (Description, error)

	// Execute runs one statement, parsed once by pgwire (which splits
	// query strings into statements): the session runs
	// st.SQLite(user) and routes on st.Kind and st.Tx. params are its
	// parameters (nil, int64, float64, string, []byte or bool). It
	// returns the statement's result. The error, when not nil, should be
	// (or wrap) an *Error so that the client gets the right SQLSTATE.
	// ctx is cancelled when the client sends a CancelRequest or closes the
	// connection.
	Execute(ctx context.Context, st *pgsql.Statement, params []any) (*Result, error)

	// Set is called for SET name = value, and for each StartupMessage
	// parameter, so the session can apply the settings it knows, such as
	// raftsql.read_consistency. name is lower-case. For RESET (and SET …
	// TO DEFAULT, RESET ALL, DISCARD ALL) value is the one the parameter
	// had after startup, "" if it had none. It returns an error for a value
	// it refuses (an *Error, or any error, sent as 22023); it must accept
	// names it does not know. pgwire keeps the value for SHOW.
	Set(name, value string) error

	// Show returns the value of a setting the session owns (ok is false for
	// names it does not know, which pgwire then answers itself).
	Show(name string) (value string, ok bool)

	// TxStatus is the transaction status for ReadyForQuery: 'I' idle, 'T' in
	// a transaction block, 'E' in a failed transaction block.
	TxStatus() byte

	// Close ends the session: an open transaction is rolled back.
	Close()
}

// Description is the shape of a statement, before it runs.
type Description struct {
	Columns []Column // nil: the statement returns no rows
}

// Column is a result column. pgwire chooses the Postgres type OID from
// DeclType, else from the expression, never from the values.
type Column struct {
	Name     string
	DeclType string // declared SQL type, "" for an expression
}

// Result is the outcome of one statement.
type Result struct {
	Columns      []Column // nil for statements that return no rows
	Rows         [][]any  // nil, int64, float64, string, []byte or bool
	RowsAffected int64
	// Stream, when not nil, yields the rows instead of Rows, as the
	// statement steps: pgwire writes each as it comes and closes Stream
	// when the result is done, fails, or its portal is closed. Columns are
	// set before the first row.
	Stream RowSource
	// Tag overrides the command tag pgwire derives from the statement
	// ("INSERT 0 1", "SELECT 3"); leave it empty to let pgwire choose.
	Tag string

	// ran is set by pgwire when the statement ran as the catalog
	// rewrite's text: the types the front end reads in the client's text
	// (a ::regclass, say) are not those of the columns that ran; the
	// rewrite's text gives them.
	ran *pgsql.Statement
	// aggs, set by pgwire, are the types of the result columns that are
	// an aggregate or window function of a table column (aggtypes.go).
	aggs []uint32
}

// RowSource yields the rows of a result one at a time, the way pgconn's
// ResultReader reads them on the client: the statement stays open between
// calls, holding what it reads from, until Close. pgwire calls it from the
// connection's goroutine only.
type RowSource interface {
	// Next returns the next row (nil, int64, float64, string, []byte or
	// bool values), or nil after the last one. The slice is valid until
	// the next call. ctx, which may differ from call to call (a portal's
	// every Execute has its own), interrupts a step when it ends. The
	// error should be (or wrap) an *Error; it ends the result.
	Next(ctx context.Context) ([]any, error)
	// Close releases the statement; it may be called more than once.
	Close()
}

// Error is an error with a Postgres SQLSTATE, sent to the client as an
// ErrorResponse.
type Error struct {
	Code     string // SQLSTATE, e.g. "42P01"
	Message  string
	Detail   string
	Hint     string
	Severity string // "ERROR" (default) or "FATAL"
	Position int    // 1-based character position in the statement, 0 if unknown
	// The object an integrity violation names, as Postgres reports it
	// (ErrorResponse fields s, t, c, n), "" when none: clients read them
	// as PgError.SchemaName, TableName, ColumnName and ConstraintName.
	Schema, Table, Column, Constraint string
	// Where is the context the error arose in (ErrorResponse field W,
	// which psql prints as CONTEXT), such as the COPY line.
	Where string
}

func (e *Error) Error() string { return e.Message }

// ParamTyper is implemented by a Session that can tell the declared types
// of table columns. At Parse (and PREPARE), pgwire asks it for the columns
// the parameters still untyped are stored in or compared with
// (Param.Column of Statement.Params) and types such a parameter boolean when its
// column is declared boolean, as Postgres infers it from the column:
// the client's text then binds as a boolean, and ParameterDescription says
// bool. Other declared types leave the parameter untyped. The result
// columns that are an aggregate or window function of a table column
// (Statement.Aggregates) are typed from the declared types it tells, when
// the Session is no TableTyper (aggtypes.go). pgwire also asks it for the
// columns of the string literals a statement stores in or compares with a
// column (Statement.Literals), which it reads as the column's type
// (withTypedLiterals).
type ParamTyper interface {
	// ColumnTypes returns the declared type of each of cols, "" for a
	// column it cannot tell.
	ColumnTypes(ctx context.Context, cols []pgsql.ParamColumn) []string
}

// TableLister is implemented by a Session that can tell the declared
// types of a table's columns, in the table's order, as the committed
// schema says: pgwire reads the string literals of an INSERT without a
// column list, and the fields of a COPY, as its columns' types (see
// withTypedLiterals).
type TableLister interface {
	// TableTypes returns the declared type of each column of table ("" for
	// one without), nil when it cannot tell.
	TableTypes(ctx context.Context, table string) []string
}

// StatusReporter is implemented by a Session that has values of its own to
// report to the client as ParameterStatus messages (the leader's address, the
// log index of the last write). pgwire calls ReportStatus at the end of
// startup and before every ReadyForQuery; the session calls report once per
// value that changed since it last reported it.
type StatusReporter interface {
	ReportStatus(report func(name, value string))
}
