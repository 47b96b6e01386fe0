package pgsql

import (
	"fmt"
	"strings"
)

// nextval, setval and currval inside another statement — INSERT … VALUES
// (nextval('s'), …), one value per row of INSERT … SELECT nextval('s') …,
// a column's DEFAULT nextval('s'::regclass) on a sequence several tables
// share, SELECT nextval('s'), 1 — are functions of SQLite that write: the
// state machine runs them on its write connection, inside the statement
// that calls them, where they update the sequence's row of
// raftsql_sequences (made by CREATE SEQUENCE, see pgwire) in the
// statement's own transaction (fsm's write functions).
//
// Why there and not as a rewrite of the statement: a sequence's numbers
// are the order in which SQLite evaluates the calls — one per row, in
// DEFAULTs, in triggers — which only SQLite knows while it runs the
// statement; a rewrite into statements SQLite can run would have to know
// how many rows each statement makes beforehand. On the write connection
// the calls happen in the same order on every node, since every node
// applies the same commands to the same data, and what they write is data
// like any other: replayed from the log, in snapshots, undone with the
// statement or savepoint that made it. A leader's speculative transaction
// runs the same statements on the same state before its command is
// applied, so it sees the numbers the command then stores.
//
// currval inside a statement answers the value nextval or setval gave the
// sequence earlier in the same command: the same statement, or an earlier
// one of the same transaction block. A SELECT currval('s') of its own
// answers from the session's memory (pgwire), as in Postgres.
//
// Unlike Postgres, a sequence's row is rolled back with the transaction or
// savepoint that moved it, so nextval gives a number again after a
// ROLLBACK; a failing statement gives back its numbers too. Numbers never
// repeat within what was committed.

// WriteFunction is a SQL function that reads and writes the database,
// through db, from inside the statement that calls it (fsm's write
// functions): the state machine's write connection runs it, and a
// statement that calls it is a write.
type WriteFunction struct {
	Name    string
	NumArgs int
	Fn      func(db FuncDB, args []any) (any, error)
	// Read, when set, is what a read runs: the function only reads, and
	// a statement that calls it is no write.
	Read func(args []any) (any, error)
}

// FuncDB is what a WriteFunction acts through; fsm.FuncTx is one.
type FuncDB interface {
	Query(sql string, args ...any) ([][]any, error)
	Memo() map[string]any
}

// WriteFunctions are nextval(regclass), setval(regclass, bigint [,
// boolean]) and currval(regclass) as functions of SQLite.
func WriteFunctions() []WriteFunction {
	return []WriteFunction{
		{Name: "nextval", NumArgs: 1, Fn: seqNextval},
		{Name: "setval", NumArgs: 2, Fn: seqSetval},
		{Name: "setval", NumArgs: 3, Fn: seqSetval},
		{Name: "currval", NumArgs: 1, Fn: seqCurrval},
		// raftsql_currval(name, otherwise): currval, or otherwise when the
		// command gave the sequence no number or the statement is a read;
		// what pgwire's SELECT currval('s') in a transaction block asks,
		// without failing the block (a read-only one included).
		{Name: CurrvalOr, NumArgs: 2, Fn: seqCurrval, Read: func(args []any) (any, error) { return args[1], nil }},
	}
}

// CurrvalOr is the function that answers currval(name) or its second
// argument.
const CurrvalOr = "raftsql_currval"

// Sequence errors, as Postgres words them; seqErrorState gives their
// SQLSTATEs.
const (
	seqMissing   = "relation %q does not exist"
	seqReached   = "nextval: reached %s value of sequence %q (%d)"
	seqOutside   = "setval: value %d is out of bounds for sequence %q (%d..%d)"
	seqUndefined = "currval of sequence %q is not yet defined in this session"
	seqSerial    = "nextval, setval and currval of the sequence %q inside another statement are not supported: it is a serial column's own numbering"
)

var seqErrorStates = []struct{ prefix, code string }{
	{"relation \"", "42P01"},           // undefined_table
	{"nextval: reached ", "2200H"},     // sequence_generator_limit_exceeded
	{"setval: value ", "22003"},        // numeric_value_out_of_range
	{"currval of sequence ", "55000"},  // object_not_in_prerequisite_state
	{"nextval, setval and ", "0A000"},  // feature_not_supported
	{"setval: the sequence ", "22023"}, // invalid_parameter_value
}

func seqErrorState(msg string) (string, bool) {
	for _, e := range seqErrorStates {
		if strings.HasPrefix(msg, e.prefix) {
			return e.code, true
		}
	}
	return "", false
}

// memoKey is where the memo of a command keeps a sequence's last value.
func memoKey(name string) string { return "seq:" + name }

// seqArg is the sequence argument 0 names, bare.
func seqArg(args []any) (string, error) {
	s, ok := args[0].(string)
	name := ""
	if ok {
		name = SequenceName(s)
	}
	if name == "" {
		return "", fmt.Errorf(seqMissing, fmt.Sprint(args[0]))
	}
	return name, nil
}

// seqQuery runs a statement on raftsql_sequences; a database that has
// none has no sequence.
func seqQuery(db FuncDB, name, sql string, args ...any) ([][]any, error) {
	rows, err := db.Query(sql, args...)
	if err != nil && strings.Contains(err.Error(), "no such table: raftsql_sequences") {
		return nil, missingSeq(db, name)
	}
	return rows, err
}

// missingSeq is the error for a name that is no row of raftsql_sequences:
// a serial column's sequence (pgwire answers it only as a statement of its
// own) or nothing.
func missingSeq(db FuncDB, name string) error {
	low := strings.ToLower(name)
	if t, ok := strings.CutSuffix(low, "_seq"); ok {
		// TABLE_COLUMN_seq, TABLE a table of the database.
		rows, err := db.Query("SELECT lower(name) FROM sqlite_schema WHERE type = 'table'")
		for _, r := range rows {
			if tn, _ := r[0].(string); err == nil && strings.HasPrefix(t, tn+"_") {
				return fmt.Errorf(seqSerial, name)
			}
		}
	}
	return fmt.Errorf(seqMissing, name)
}

const seqNextSQL = "UPDATE raftsql_sequences SET last_value = CASE WHEN is_called THEN last_value + increment ELSE last_value END, is_called = 1 " +
	"WHERE name = $1 AND (NOT is_called OR (increment > 0 AND last_value <= max_value - increment) OR (increment < 0 AND last_value >= min_value - increment)) " +
	"RETURNING last_value"

func seqNextval(db FuncDB, args []any) (any, error) {
	name, err := seqArg(args)
	if err != nil {
		return nil, err
	}
	rows, err := seqQuery(db, name, seqNextSQL, name)
	if err != nil {
		return nil, err
	}
	if len(rows) == 1 {
		db.Memo()[memoKey(name)] = rows[0][0]
		return rows[0][0], nil
	}
	rows, err = db.Query("SELECT increment > 0, max_value, min_value FROM raftsql_sequences WHERE name = $1", name)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, missingSeq(db, name)
	}
	if up, _ := rows[0][0].(int64); up != 0 {
		return nil, fmt.Errorf(seqReached, "maximum", name, rows[0][1])
	}
	return nil, fmt.Errorf(seqReached, "minimum", name, rows[0][2])
}

func seqSetval(db FuncDB, args []any) (any, error) {
	name, err := seqArg(args)
	if err != nil {
		return nil, err
	}
	if args[1] == nil {
		return nil, nil // strict, as Postgres' setval
	}
	v, ok := args[1].(int64)
	if !ok {
		if f, isFloat := args[1].(float64); isFloat && f == float64(int64(f)) {
			v, ok = int64(f), true
		}
	}
	if !ok {
		return nil, fmt.Errorf("setval: the sequence %q takes an integer value, not %v", name, args[1])
	}
	called := int64(1)
	if len(args) == 3 {
		switch b := args[2].(type) {
		case int64:
			if b == 0 {
				called = 0
			}
		case nil:
			return nil, nil
		default:
			return nil, fmt.Errorf("setval: the sequence %q takes a boolean is_called, not %v", name, args[2])
		}
	}
	rows, err := seqQuery(db, name, "UPDATE raftsql_sequences SET last_value = $2, is_called = $3 WHERE name = $1 AND $2 BETWEEN min_value AND max_value RETURNING last_value", name, v, called)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		rows, err = db.Query("SELECT min_value, max_value FROM raftsql_sequences WHERE name = $1", name)
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			return nil, missingSeq(db, name)
		}
		return nil, fmt.Errorf(seqOutside, v, name, rows[0][0], rows[0][1])
	}
	if called == 1 {
		db.Memo()[memoKey(name)] = v
	}
	return v, nil
}

func seqCurrval(db FuncDB, args []any) (any, error) {
	name, err := seqArg(args)
	if err != nil {
		return nil, err
	}
	if v, ok := db.Memo()[memoKey(name)]; ok {
		return v, nil
	}
	if len(args) == 2 {
		return args[1], nil
	}
	return nil, fmt.Errorf(seqUndefined, name)
}

// nextvalDefault looks at a DEFAULT (token def) that calls nextval: in
// CREATE TABLE the column must not be the rowid alias; ALTER TABLE … ADD
// COLUMN with one, which would number the rows already there, is refused
// (SQLite adds only columns of constant defaults).
func (p *parser) nextvalDefault(def int) {
	switch {
	case p.st.Verb == "CREATE":
		p.notRowidAlias(def)
	case p.st.Verb == "ALTER" && p.word(def-1) != "set":
		p.fail("0A000", def+1, "ALTER TABLE … ADD COLUMN with a DEFAULT of nextval() is not supported: add the column, then ALTER COLUMN … SET DEFAULT, and UPDATE the rows already there")
	}
}

// notRowidAlias keeps the column whose DEFAULT (token def) calls nextval
// from being SQLite's rowid alias, which a column declared INTEGER and
// made the primary key (there, or by a later ALTER TABLE … ADD PRIMARY
// KEY) would be: SQLite numbers a rowid alias itself and never evaluates
// its DEFAULT. The column is declared INT, the same type to Postgres.
func (p *parser) notRowidAlias(def int) {
	depth := 0
	k := def - 1
	for ; k > 0; k-- {
		switch {
		case p.isPunct(k, ')'):
			depth++
		case p.isPunct(k, '('):
			depth--
		}
		if depth < 0 || depth == 0 && p.isPunct(k, ',') {
			break
		}
	}
	typ := k + 2 // the column's name, then its type
	if typ < def && p.kindAt(typ) == tWord && p.word(typ) == "integer" && !p.isPunct(typ+1, '(') {
		if p.edits == nil {
			p.edits = map[int]string{}
		}
		p.edits[typ] = "INT"
	}
}
