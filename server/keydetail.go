package server

import (
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/raftsql/raftsql/pgwire"
	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// keyDetail gives pe, the violation of key k by statement st run with
// params, the DETAIL Postgres gives it, when the statement's text shows
// the key's values: an INSERT of one row or an UPDATE that sets the key
// to literals or parameters (pgsql.Statement.Assigned) shows the new
// row's, Key (email)=(a@b.c) already exists, or Key (user_id)=(7) is not
// present in table "users"; a DELETE or UPDATE of a parent row whose
// WHERE clause names its key (pgsql.Statement.Matched) shows the old
// row's, Key (id)=(1) is still referenced from table "orders".
// Nothing is read for it: it is worked out once, where the error is
// translated, from what the client sent.
func keyDetail(pe *pgwire.Error, k violatedKey, st *pgsql.Statement, params []any) {
	if len(k.columns) == 0 || pe.Detail != "" {
		return
	}
	vals, ok := st.Assigned(k.columns, k.table)
	if k.child != "" {
		vals, ok = st.Matched(k.columns)
	}
	if !ok {
		return
	}
	shown := make([]string, len(vals))
	for i, v := range vals {
		switch {
		case v.Null:
			return // NULL violates neither kind of key
		case v.Param > 0:
			if v.Param > len(params) {
				return
			}
			s, ok := paramText(params[v.Param-1])
			if !ok {
				return
			}
			shown[i] = s
		default:
			shown[i] = v.Literal
		}
	}
	names := make([]string, len(k.columns))
	for i, c := range k.columns {
		names[i] = quoteIdentIfNeeded(c)
	}
	key := "Key (" + strings.Join(names, ", ") + ")=(" + strings.Join(shown, ", ") + ")"
	switch {
	case k.child != "":
		pe.Detail = key + " is still referenced from table " + quoted(k.child) + "."
	case k.parent != "":
		pe.Detail = key + " is not present in table " + quoted(k.parent) + "."
	default:
		pe.Detail = key + " already exists."
	}
}

// paramText is a parameter's value as Postgres shows it in a key; ok is
// false for NULL.
func paramText(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case bool:
		if x {
			return "t", true
		}
		return "f", true
	case []byte:
		return `\x` + hex.EncodeToString(x), true
	}
	return "", false
}

// quoteIdentIfNeeded is a column's name as Postgres' quote_identifier
// writes it: as it is when it is lower-case letters, digits and
// underscores, not starting with a digit; else in double quotes.
func quoteIdentIfNeeded(name string) string {
	plain := name != "" && !(name[0] >= '0' && name[0] <= '9')
	for i := 0; i < len(name) && plain; i++ {
		c := name[i]
		plain = c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
	}
	if plain {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
