package pgsql

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is what a statement does, as the server routes it.
type Kind uint8

const (
	Empty       Kind = iota // only comments or white space
	Read                    // SELECT, VALUES, TABLE, EXPLAIN …
	Write                   // INSERT, UPDATE, DELETE, DDL and anything else SQLite runs
	TxControl               // BEGIN, COMMIT, ROLLBACK, SAVEPOINT …: see Statement.Tx
	Session                 // SET, RESET, SHOW, DISCARD, PREPARE, EXECUTE, DEALLOCATE, LISTEN …
	Copy                    // COPY
	CatalogRead             // a read naming pg_catalog or information_schema relations
)

var kindNames = [...]string{"empty", "read", "write", "tx", "session", "copy", "catalog"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Column is a result column as Postgres names it, with the Postgres type
// the text gives it ("" when the text does not say).
type Column struct {
	Name string
	Type string // Postgres type name: int4, int8, text, bool, date, …
}

// Param is what a statement's text says of one of its parameters.
type Param struct {
	// Type is the type written for it ($1::int, CAST($1 AS int)), ""
	// when none is.
	Type string
	// Column is the table column it is stored in or compared with, in
	// the simple statements paramcols.go reads (zero when the text does
	// not say): Postgres takes an untyped parameter's type from it.
	Column ParamColumn
}

// Error is a statement the front end refuses: a SQLSTATE, a message and
// the 1-based character position in the statement's text (0 if none).
type Error struct {
	Code     string
	Message  string
	Position int
}

func (e *Error) Error() string { return e.Message }

// Statement is one statement, parsed once.
type Statement struct {
	// Source is the statement as the client wrote it.
	Source string
	Kind   Kind
	// selectInto: SELECT … INTO (beside Kind, in its padding).
	selectInto bool
	// Verb is the upper-cased keyword that decides what it does (for
	// WITH …, the statement's after the common table expressions).
	Verb string
	// SQL is the text SQLite runs ("" when Err is set); use SQLite when
	// the statement names the session user.
	SQL string
	// Err is why the statement cannot run, found while translating it. A
	// statement with Err still has its Kind, so that the statements
	// answered without SQLite (catalog queries) are not refused.
	Err *Error
	// NumParams is the highest $n, and Params[n-1], when Params is not
	// nil, what the text says of $n.
	NumParams int
	Params    []Param
	// Columns are the result columns when the text lists them (nil for
	// SELECT *, and for statements without a select list).
	Columns []Column
	// Items, for a select list with a * (SELECT *, x::text), are its
	// items as Columns would give them, each * as Column{Name: "*"}: the
	// result columns before the first * and after the last are theirs.
	Items []Column
	// Tx is the parsed transaction-control statement, for Kind TxControl.
	Tx Tx
	// Session is the parsed session command the session answers itself:
	// SET, RESET, SHOW, DISCARD, DEALLOCATE, LISTEN (Kind Session), a
	// SELECT of set_config alone (Kind Read) and LOCK (Kind Write); nil
	// for every other statement. With Err set, the command is refused.
	Session *SessionCmd
	// Copy is the parsed COPY, for Kind Copy when Err is nil.
	Copy *CopyCmd
	// Sequence is a SELECT of nextval, setval or currval alone (calls.go).
	Sequence *SequenceCall
	// Advisory are the calls of a SELECT of advisory lock functions and
	// nothing else, in select-list order (calls.go).
	Advisory []AdvisoryCall
	// Prepare and Execute are the parsed PREPARE and EXECUTE (Kind
	// Session), nil for other statements or when Err is set.
	Prepare *Prepare
	Execute *Execute
	// Explain is a Postgres EXPLAIN (Kind Read, SQL SQLite's EXPLAIN QUERY
	// PLAN of the statement explained), nil for other statements and for
	// SQLite's own EXPLAIN QUERY PLAN, which returns SQLite's rows.
	Explain *Explain
	// Aggregates, when not nil, are the result columns that are an
	// aggregate or window function of a table column (max(ts), sum(n)),
	// whose type follows from the column's declared type (aggcols.go).
	Aggregates *Aggregates

	// rare is what few statements have, kept apart so that a Statement
	// stays in its allocation size class; nil for most.
	rare   *rareParts
	object string // CREATE/DROP/ALTER's object kind: TABLE, INDEX …
	// parts is SQL split at its holes (zone.go), which SQLite fills with
	// the session user's name and InZone with what the session's zone
	// makes of them; nil when it has none.
	parts []string
	holes []hole
}

// SQLite is the text SQLite runs for a session whose user is user.
func (s *Statement) SQLite(user string) string {
	if len(s.parts) == 0 {
		return s.SQL
	}
	var b strings.Builder
	for i, h := range s.holes {
		b.WriteString(s.parts[i])
		b.WriteString(h.fill(user, nil))
	}
	b.WriteString(s.parts[len(s.parts)-1])
	return b.String()
}

// Tag returns the CommandComplete tag: affected is the rows the statement
// changed, rowsSent the rows sent for it, hasRows whether it returned
// rows at all.
func (s *Statement) Tag(affected, rowsSent int64, hasRows bool) string {
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	switch s.Verb {
	case "EXPLAIN":
		if s.Explain != nil {
			return "EXPLAIN"
		}
		return "SELECT " + n(rowsSent)
	case "SELECT", "VALUES", "TABLE", "FETCH":
		if s.selectInto {
			return "SELECT " + n(affected)
		}
		return "SELECT " + n(rowsSent)
	case "SHOW":
		return "SHOW"
	case "INSERT", "REPLACE":
		return "INSERT 0 " + n(affected)
	case "UPDATE", "DELETE", "MERGE":
		return s.Verb + " " + n(affected)
	case "PRAGMA":
		if hasRows {
			return "SELECT " + n(rowsSent)
		}
		return "PRAGMA"
	case "BEGIN", "START":
		return "BEGIN"
	case "COMMIT", "END":
		return "COMMIT"
	case "ROLLBACK", "ABORT":
		return "ROLLBACK"
	case "TRUNCATE":
		return "TRUNCATE TABLE"
	case "COPY":
		return "COPY " + n(affected)
	case "CREATE", "DROP", "ALTER":
		return s.Verb + " " + s.object
	}
	return s.Verb
}

// TxOp is a transaction-control verb.
type TxOp uint8

const (
	TxNone       TxOp = iota
	TxBegin           // BEGIN, START TRANSACTION
	TxCommit          // COMMIT, END
	TxRollback        // ROLLBACK, ABORT
	TxSavepoint       // SAVEPOINT name
	TxRelease         // RELEASE [SAVEPOINT] name
	TxRollbackTo      // ROLLBACK [WORK|TRANSACTION] TO [SAVEPOINT] name
)

// Tx is a parsed transaction-control statement.
type Tx struct {
	Op        TxOp
	ReadOnly  bool   // BEGIN READ ONLY
	Isolation string // as asked, upper-case ("" if not); every level runs serializable
	Name      string // savepoint name, as written
	// Unsupported, when not "", is why the statement is refused (0A000).
	Unsupported string
}

// quoteString returns s as a SQL string literal.
func quoteString(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// quoteIdent returns s as a quoted identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// charPos converts a byte offset in s into a 1-based character position.
func charPos(s string, off int) int {
	if off < 0 {
		return 0
	}
	if off > len(s) {
		off = len(s)
	}
	return utf8.RuneCountInString(s[:off]) + 1
}
