package pgwire

import (
	"context"
	"encoding/hex"
	"math"
	"strconv"
	"strings"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// A string literal stored in or compared with a column of a declared
// Postgres type (Statement.Literals) takes the column's type, as in
// Postgres: withTypedLiterals reads it with the type's input rules
// (inputText, which bound parameters use too) and writes it into the
// statement as the value the type stores, or refuses the statement with
// the type's error. The rewrite is made once, on the node the client
// reached, before anything runs: the log entry a write becomes carries the
// converted value, and applying it never depends on this code. The types
// come from the committed schema (ParamTyper, TableLister), never from the
// session's open transaction block; a literal whose column's type cannot
// be told (a table created in the block, an expression) is left as it is.

// literalOID is the type a literal of a column declared decl is read as;
// oidUnknown for a declaration whose values are stored as written (text
// and the like, or one Postgres would not know).
func literalOID(decl string) uint32 {
	if decl == "" {
		return oidUnknown
	}
	switch oid := declOID(decl); oid {
	case oidBool, oidInt2, oidInt4, oidInt8, oidFloat4, oidFloat8, oidNumeric, oidDate, oidTime,
		oidTimestamp, oidTimestampTZ, oidUUID, oidJSON, oidJSONB, oidBytea:
		return oid
	}
	return oidUnknown
}

// withTypedLiterals is st with its typed literals converted, st itself
// when none needs to be, or the error of the first literal its type does
// not accept.
func (c *conn) withTypedLiterals(ctx context.Context, st *pgsql.Statement) (*pgsql.Statement, *Error) {
	lits := st.Literals()
	if len(lits) == 0 || st.Err != nil {
		return st, nil
	}
	typer, ok := c.sess.(ParamTyper)
	if !ok {
		return st, nil
	}
	decls := c.literalTypes(ctx, typer, lits)
	var texts []string
	for k, l := range lits {
		oid := literalOID(decls[k])
		if oid == oidUnknown {
			continue
		}
		text, e := literalAs(l.Value, oid, decls[k], c)
		if e != nil {
			e.Position = charOffset(st.Source, l.Offset) + 1
			return nil, e
		}
		if text == "" {
			continue
		}
		if texts == nil {
			texts = make([]string, len(lits))
		}
		texts[k] = text
	}
	if texts == nil {
		return st, nil
	}
	out := c.srv.stmts.Parse(st.WithLiterals(texts))
	if out.Err != nil {
		// Not expected: the statement as the client wrote it, as before.
		return st, nil
	}
	return out, nil
}

// literalAs is the Postgres text that stores v as a value of type oid
// (a column declared decl), "" when v can stay as it is written.
func literalAs(v string, oid uint32, decl string, c *conn) (string, *Error) {
	switch oid {
	case oidDate, oidTimestamp, oidTimestampTZ:
		// Postgres' special values: now (and today for a date) as the
		// entry's clock has them; the others are left as written.
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "now":
			if oid == oidDate {
				return "CURRENT_DATE", nil
			}
			return "CURRENT_TIMESTAMP", nil
		case "today":
			if oid == oidDate {
				return "CURRENT_DATE", nil
			}
		}
	case oidFloat8:
		if d := strings.ToUpper(decl); strings.HasPrefix(d, "REAL") || strings.HasPrefix(d, "FLOAT4") {
			oid = oidFloat4 // for the error's wording
		}
	}
	if keptAsWritten(v, oid) {
		return "", nil
	}
	val, err := inputText(v, oid, c.loc)
	if err != nil {
		e := toError(err)
		cp := *e
		return "", &cp
	}
	if s, ok := val.(string); ok && s == v {
		return "", nil
	}
	text, ok := literalText(val)
	if !ok {
		return "", nil
	}
	return text, nil
}

// keptAsWritten reports the special values of the date and time types
// (infinity, epoch, today …), which inputText does not read: a literal
// or a COPY field of one is stored as it is written, as before.
func keptAsWritten(v string, oid uint32) bool {
	switch oid {
	case oidDate, oidTimestamp, oidTimestampTZ, oidTime:
	default:
		return false
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "now", "today", "infinity", "-infinity", "epoch", "tomorrow", "yesterday", "allballs":
		return true
	}
	return false
}

// literalTypes returns the declared types of the literals' columns, ""
// where the schema does not say: each column is asked once.
func (c *conn) literalTypes(ctx context.Context, typer ParamTyper, lits []pgsql.Literal) []string {
	decls := make([]string, len(lits))
	var cols []pgsql.ParamColumn
	index := map[pgsql.ParamColumn]int{}
	var tables map[string][]string
	for k, l := range lits {
		if l.Column.Column == "" {
			tt, ok := c.sess.(TableLister)
			if !ok {
				continue
			}
			if tables == nil {
				tables = map[string][]string{}
			}
			types, seen := tables[l.Column.Table]
			if !seen {
				types = tt.TableTypes(ctx, l.Column.Table)
				tables[l.Column.Table] = types
			}
			if l.Ordinal < len(types) {
				decls[k] = types[l.Ordinal]
			}
			continue
		}
		if _, ok := index[l.Column]; !ok {
			index[l.Column] = len(cols)
			cols = append(cols, l.Column)
		}
	}
	if len(cols) == 0 {
		return decls
	}
	types := typer.ColumnTypes(ctx, cols)
	for k, l := range lits {
		if l.Column.Column == "" {
			continue
		}
		if j := index[l.Column]; j < len(types) {
			decls[k] = types[j]
		}
	}
	return decls
}

// literalText is v, a value inputText returned, as a Postgres literal
// the front end translates to that value; ok is false for a value no
// literal writes as stored (NaN, which SQLite stores as NULL).
func literalText(v any) (string, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		switch {
		case math.IsNaN(x):
			return "", false
		case math.IsInf(x, 1):
			return "'Infinity'::float8", true
		case math.IsInf(x, -1):
			return "'-Infinity'::float8", true
		}
		out := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(out, ".e") {
			out += ".0"
		}
		return out, true
	case []byte:
		return `'\x` + hex.EncodeToString(x) + `'::bytea`, true
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'", true
	}
	return "", false
}
