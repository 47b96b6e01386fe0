package server

import (
	"github.com/raftsql/raftsql/pgwire"
	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// A value that is none of an enum type's labels fails the CHECK
// constraint of its column (pgwire's enum.go), which names the type, not
// the column nor the value; Postgres' message quotes the value: invalid
// input value for enum mood: "x". Where the statement's text shows it
// (an INSERT of one row or an UPDATE that sets the columns of the type to
// literals or parameters, pgsql.Statement.Assigned) and one of them is
// no label, the message quotes it; else it goes without.

// enumKey is the violated key of a failed enum CHECK of type typ: the
// table's columns of the type. rows are catalog.TableQuery's.
func enumKey(typ string, rows [][]any) violatedKey {
	k := violatedKey{enum: true}
	if len(rows) == 0 || len(rows[0]) != 2 {
		return k
	}
	create, _ := rows[0][1].(string)
	k.columns = pgwire.EnumColumns(create, typ)
	for _, r := range rows[1:] {
		if c, ok := r[0].(string); ok {
			k.table = append(k.table, c)
		}
	}
	return k
}

// enumValue adds to pe the value statement st (run with params) gave a
// column of k that is no label, when exactly one such value shows.
func enumValue(pe *pgwire.Error, k violatedKey, st *pgsql.Statement, params []any) {
	var shown []string
	for _, col := range k.columns {
		vals, ok := st.Assigned([]string{col}, k.table)
		if !ok || len(vals) != 1 || vals[0].Null {
			continue
		}
		v := vals[0]
		s := v.Literal
		if v.Param > 0 {
			if v.Param > len(params) {
				return
			}
			if s, ok = paramText(params[v.Param-1]); !ok {
				continue
			}
		}
		shown = append(shown, s)
	}
	if len(shown) == 1 {
		pe.Message += `: "` + shown[0] + `"`
	}
}
