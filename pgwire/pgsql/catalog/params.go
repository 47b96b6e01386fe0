package catalog

import (
	"strconv"
)

// ParamTypes gives the types Postgres infers for the parameters $1…$n of
// a read of the catalogs from the catalog columns they are compared with
// (a.attnum >= $1, $2 = c.relnamespace, attisdropped != $3, attnum IN
// ($4, $5)), when those columns have a type SQLite does not keep
// (ColumnType); "" for the others. A client that sends a parameter as
// text of no type (node-postgres sends every one so) then has its
// integer or boolean reach SQLite as one, which the view's column
// equals; as text, it would equal no integer, and Kysely's introspection
// of the catalogs would find no column at all.
func ParamTypes(sql string, n int) []string {
	var toks []token
	for _, t := range lex(sql) {
		if t.kind != tSpace {
			toks = append(toks, t)
		}
	}
	var types []string
	for i, t := range toks {
		if t.kind != tParam {
			continue
		}
		v, err := strconv.Atoi(t.text[1:])
		if err != nil || v < 1 || v > n {
			continue
		}
		if typ := comparedType(toks, i); typ != "" {
			if types == nil {
				types = make([]string, n)
			}
			if types[v-1] == "" {
				types[v-1] = typ
			}
		}
	}
	return types
}

// comparedType is the type of the catalog column the parameter at token
// i is compared with, or "".
func comparedType(toks []token, i int) string {
	at := func(j int) token {
		if j < 0 || j >= len(toks) {
			return token{}
		}
		return toks[j]
	}
	comparison := func(j int) bool {
		switch t := at(j); {
		case t.kind != tOp:
			return false
		default:
			switch t.text {
			case "=", "<>", "!=", "<", "<=", ">", ">=":
				return true
			}
		}
		return false
	}
	column := func(j int) string {
		if t := at(j); t.kind == tIdent || t.kind == tQIdent {
			return unquote(t)
		}
		return ""
	}
	// The column before: [name.]col op $n, or col IN (…, $n, …).
	j := i - 1
	if !comparison(j) {
		for j > 0 && (at(j).kind == tParam || at(j).isOp(",")) {
			j--
		}
		if !at(j).isOp("(") || !at(j-1).is("in") || !at(i+1).isOp(",") && !at(i+1).isOp(")") {
			j = -1
		} else {
			j--
		}
	}
	if j > 0 && !at(j-2).isOp("::") {
		if typ := ColumnType(column(j - 1)); typ != "" {
			return typ
		}
	}
	// The column after: $n op [name.]col.
	if comparison(i + 1) {
		k := i + 2
		for at(k + 1).isOp(".") {
			k += 2
		}
		if !at(k+1).isOp("::") && !at(k+1).isOp("(") {
			return ColumnType(column(k))
		}
	}
	return ""
}
