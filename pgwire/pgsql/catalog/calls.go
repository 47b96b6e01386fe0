package catalog

import (
	"fmt"
	"strings"
)

// call rewrites a call of a function tools call on the catalogs: into a
// registered Go function of the same name (Funcs), a literal the session
// knows, or a subquery of the catalog views. toks[end] closes the
// argument list; next is the last token used (after end for a function in
// FROM, which takes its alias along). ok is false for a function this
// package does not know, which SQLite then resolves.
func (r *rewriter) call(schema, name string, args [][]token, toks []token, end int, tablePos bool) (u unit, next int, ok bool) {
	next = end
	arg := func(i string) string { return i }
	rw := make([]string, len(args))
	for i, a := range args {
		text, exps := r.level(a)
		if len(exps) > 0 {
			r.fail(notSupported("a set-returning function as an argument"))
		}
		rw[i] = strings.TrimSpace(text)
	}
	argN := func(n int, def string) string {
		if n < len(rw) {
			return rw[n]
		}
		return def
	}
	prim := func(s string) (unit, int, bool) {
		if tablePos && !fromFunctions[name] {
			// A function of one value in FROM is a relation of one row,
			// whose column the alias names, else the function
			// (SELECT * FROM current_schema()).
			alias, cols, after := fromAliases(toks, end+1)
			if alias == "" {
				alias = name
			}
			col := alias
			if len(cols) > 0 {
				col = cols[0]
			}
			next = after - 1
			s = "(SELECT " + s + " AS " + quoteIdent(col) + ") AS " + quoteIdent(alias)
		}
		return unit{text: s, primary: true}, next, true
	}
	_ = arg
	// Set-returning functions in a select list become a json_each joined to
	// the SELECT's FROM clause; calls on the same array share it, so that
	// they advance together, as Postgres runs them.
	expand := func(field string) (unit, int, bool) {
		alias := "_pg_x" + fmt.Sprint(len(rw[0])) + "_" + sanitize(rw[0])
		u := unit{primary: true, expand: alias, word: rw[0]}
		if field == "key" {
			// Subscripts start at 1, but at 0 for a vector (int2vector,
			// oidvector: pg_index.indkey), which Rails indexes with them.
			u.text = "(" + alias + ".key + _pg_array_lower(" + rw[0] + "))"
		} else {
			u.text = alias + ".value"
		}
		return u, next, true
	}
	if schema == "information_schema" {
		if name == "_pg_expandarray" && len(rw) == 1 {
			return expand("value")
		}
		return unit{}, 0, false
	}
	if !tablePos && len(rw) >= 1 {
		switch name {
		case "unnest":
			return expand("value")
		case "generate_subscripts":
			return expand("key")
		}
	}
	switch name {
	case "format_type":
		if r.enums() && len(rw) == 2 {
			return prim(enumFormatType(rw[0], rw[1]))
		}
	case "current_schema":
		return prim("'public'")
	case "current_database":
		return prim(quoteString(r.env.Database))
	case "pg_backend_pid":
		return prim(fmt.Sprint(r.env.PID))
	case "current_user", "session_user":
		return prim(quoteString(r.env.User))
	case "pg_get_userbyid":
		return prim(fmt.Sprintf("(CASE WHEN %s IS NULL THEN NULL ELSE %s END)", argN(0, "NULL"), quoteString(r.env.User)))
	case "pg_table_is_visible", "pg_type_is_visible", "pg_function_is_visible", "pg_opclass_is_visible",
		"pg_collation_is_visible", "pg_conversion_is_visible", "pg_operator_is_visible", "pg_ts_config_is_visible":
		if name == "pg_table_is_visible" {
			return prim("_pg_visible(" + argN(0, "NULL") + ")")
		}
		return prim(fmt.Sprintf("(%s IS NOT NULL)", argN(0, "NULL")))
	case "has_table_privilege", "has_schema_privilege", "has_database_privilege", "has_column_privilege",
		"has_type_privilege", "has_function_privilege", "has_sequence_privilege", "has_any_column_privilege",
		"pg_has_role":
		return prim("1")
	case "pg_get_indexdef":
		return prim(fmt.Sprintf("(CASE WHEN ifnull(%[2]s, 0) = 0 THEN (SELECT _id_def FROM _pg_indexdef2 WHERE _id_oid = %[1]s) ELSE (SELECT _ic_col FROM _pg_idxcoldef WHERE _ic_oid = %[1]s AND _ic_seq = %[2]s) END)",
			argN(0, "NULL"), argN(1, "0")))
	case "pg_get_constraintdef":
		return prim(fmt.Sprintf("(SELECT _cd_def FROM _pg_condef WHERE _cd_oid = %s)", argN(0, "NULL")))
	case "json_build_object", "jsonb_build_object":
		return prim("json_object(" + strings.Join(rw, ", ") + ")")
	case "json_build_array", "jsonb_build_array":
		return prim("json_array(" + strings.Join(rw, ", ") + ")")
	case "pg_table_size", "pg_relation_size", "pg_total_relation_size", "pg_indexes_size":
		return prim(r.relationSize(name, argN(0, "NULL")))
	case "pg_database_size":
		return prim(databaseSize)
	case "pg_size_pretty":
		return prim("_pg_size_pretty(" + argN(0, "NULL") + ")")
	case "pg_get_viewdef":
		a := argN(0, "NULL")
		if strings.HasPrefix(a, "'") && !isDigits(strings.Trim(a, "'")) {
			a = "_pg_regclass(" + a + ")"
		}
		return prim(fmt.Sprintf("(SELECT _vd_def FROM _pg_viewdef WHERE _vd_oid = %s)", a))
	case "pg_get_serial_sequence":
		return prim(fmt.Sprintf("(SELECT _ss_seq FROM %s WHERE _ss_relid = _pg_regclass(%s) AND _ss_col = %s)", r.helper("_pg_serialseq"), argN(0, "NULL"), argN(1, "NULL")))
	case "pg_get_expr":
		return prim("(" + argN(0, "NULL") + ")")
	case "array_position":
		// MikroORM orders a foreign key's columns by
		// array_position(con.conkey, a.attnum).
		if len(args) != 2 {
			break
		}
		return prim(fmt.Sprintf("(SELECT _pg_array_lower(%[1]s) + key FROM json_each(_pg_array_json(%[1]s)) WHERE value = %[2]s ORDER BY key LIMIT 1)",
			argN(0, "NULL"), argN(1, "NULL")))
	case "obj_description":
		return prim(fmt.Sprintf("(SELECT description FROM pg_description WHERE objoid = %s AND objsubid = 0)", argN(0, "NULL")))
	case "col_description":
		return prim(fmt.Sprintf("(SELECT description FROM pg_description WHERE objoid = %s AND objsubid = %s)", argN(0, "NULL"), argN(1, "NULL")))
	case "shobj_description", "pg_get_statisticsobjdef_columns", "pg_get_partkeydef", "pg_get_triggerdef",
		"pg_get_ruledef", "pg_get_function_result", "pg_get_function_arguments", "pg_get_function_identity_arguments",
		"pg_tablespace_location", "acldefault", "pg_get_function_sqlbody", "pg_statistics_obj_is_visible":
		return prim("NULL")
	case "pg_relation_is_publishable", "pg_is_in_recovery", "pg_is_other_temp_schema":
		return prim("0")
	case "pg_my_temp_schema":
		return prim("0")
	case "set_config":
		// Only a SELECT of set_config alone sets a parameter (pgwire
		// answers it); over the catalogs' rows it refuses to run, which
		// over no rows (a setting pg_settings does not list, as pg_dump
		// asks) is never.
		return prim(fmt.Sprintf("_pg_set_config(%s, %s, %s)", argN(0, "NULL"), argN(1, "NULL"), argN(2, "NULL")))
	case "array_agg":
		u := r.arrayAgg(args)
		r.unaliased("array_agg", u.typ)
		return u, next, true
	case "pg_partition_ancestors", "pg_partition_tree":
		// A relation that is no partition is its own only ancestor.
		rel := "_pg_regclass(" + argN(0, "NULL") + ")"
		if !tablePos {
			return prim(rel)
		}
		alias, cols, after := fromAliases(toks, end+1)
		if alias == "" {
			alias = name
		}
		cols = append(cols, "relid", "ordinality")
		next = after - 1
		return prim(fmt.Sprintf("(SELECT %s AS %s, 1 AS %s) AS %s", rel, quoteIdent(cols[0]), quoteIdent(cols[1]), quoteIdent(alias)))
	case "pg_options_to_table":
		// raftsql keeps no options of foreign objects: no rows.
		if !tablePos {
			return unit{}, 0, false
		}
		alias, _, after := fromAliases(toks, end+1)
		if alias == "" {
			alias = name
		}
		next = after - 1
		return prim("(SELECT NULL AS option_name, NULL AS option_value WHERE 0) AS " + quoteIdent(alias))
	case "generate_subscripts":
		// In FROM, as MikroORM reads an index's columns:
		// ARRAY(SELECT pg_get_indexdef(i, k + 1, true) FROM
		// generate_subscripts(idx.indkey, 1) AS k ORDER BY k). A
		// vector's subscripts start at 0, an array's at 1.
		if !tablePos || len(rw) != 2 || strings.TrimSpace(rw[1]) != "1" {
			return unit{}, 0, false
		}
		alias, col, after := fromAlias(toks, end+1)
		if alias == "" {
			alias = name
		}
		if col == "" {
			col = alias
		}
		next = after - 1
		return prim(fmt.Sprintf("(SELECT _pg_array_lower(%[1]s) + key AS %[2]s FROM json_each(_pg_subscripts(json_array_length(_pg_array_json(%[1]s))))) AS %[3]s",
			rw[0], quoteIdent(col), quoteIdent(alias)))
	case "generate_series", "unnest":
		if !tablePos {
			return unit{}, 0, false
		}
		if name == "unnest" && len(rw) > 0 {
			u, after := r.unnestFrom(rw, toks, end)
			return u, after - 1, true
		}
		alias, col, after := fromAlias(toks, end+1)
		if alias == "" {
			alias = name
		}
		if col == "" {
			col = alias
		}
		next = after - 1
		var sub string
		{
			g := r.fresh("_pg_gs")
			sub = fmt.Sprintf("(WITH RECURSIVE %[1]s(v) AS (SELECT %[2]s UNION ALL SELECT v + %[4]s FROM %[1]s WHERE v + %[4]s <= %[3]s) SELECT v AS %[5]s FROM %[1]s WHERE v <= %[3]s)",
				g, argN(0, "1"), argN(1, "0"), argN(2, "1"), quoteIdent(col))
		}
		return prim(sub + " AS " + quoteIdent(alias))
	}
	return unit{}, 0, false
}

// unnestFrom rewrites unnest(a [, b …]) [WITH ORDINALITY] [AS] alias [(c1
// [, c2 …] [, ord])] in FROM, toks[end] closing its arguments rw: a
// subquery whose rows zip the arrays' elements, with the ordinality
// numbering them from 1. It returns the unit and the index of the first
// token after the alias. SQLite has no LATERAL: arguments that are
// columns of the FROM item just before (FROM pg_index i, unnest(i.indkey,
// i.indoption)), which a subquery cannot see, are handled by unnesting
// every distinct value of them in that relation and joining the rows to
// their own (lateralUnnest).
func (r *rewriter) unnestFrom(rw []string, toks []token, end int) (unit, int) {
	alias, cols, after := fromAliases(toks, end+1)
	ord := false
	if j := nextSig(toks, end+1); j < len(toks) && toks[j].is("with") {
		ord = true
	}
	if alias == "" {
		alias = "unnest"
	}
	names := make([]string, len(rw))
	for i := range names {
		names[i] = alias
		if len(rw) > 1 {
			names[i] = "unnest"
		}
		if i < len(cols) {
			names[i] = cols[i]
		}
	}
	ordName := "ordinality"
	if ord && len(cols) > len(rw) {
		ordName = cols[len(rw)]
	}
	if rel, relAlias, ok := lateralSource(toks, end, rw); ok {
		return r.lateralUnnest(rw, names, ord, ordName, alias, rel, relAlias), after
	}
	return unit{text: r.zip(rw, names, ord, ordName, nil, "") + " AS " + quoteIdent(alias), primary: true}, after
}

// zip is the subquery of the arrays' elements side by side: the rows of
// the longest, the others' NULL past their ends. keep are expressions to
// select too and from a relation to read them from (the lateral source).
func (r *rewriter) zip(arrays, names []string, ord bool, ordName string, keep []string, from string) string {
	var b strings.Builder
	b.WriteString("(SELECT ")
	for _, k := range keep {
		b.WriteString(k + ", ")
	}
	n := r.fresh("_pg_n")
	for i := range arrays {
		fmt.Fprintf(&b, "(SELECT value FROM json_each(_pg_array_json(%s)) WHERE key = %s.key) AS %s, ", arrays[i], n, quoteIdent(names[i]))
	}
	b.WriteString(n + ".key + 1 AS ")
	if ord {
		b.WriteString(quoteIdent(ordName))
	} else {
		b.WriteString("_pg_ord")
	}
	// The subscripts: those of the longest array.
	var lens []string
	for _, a := range arrays {
		lens = append(lens, "json_array_length(_pg_array_json("+a+"))")
	}
	longest := lens[0]
	if len(lens) > 1 {
		longest = "max(" + strings.Join(lens, ", ") + ")"
	}
	b.WriteString(" FROM ")
	if from != "" {
		b.WriteString(from + ", ")
	}
	// json_each, being a table-valued function, may read the relation
	// before it, as no subquery may.
	fmt.Fprintf(&b, "json_each(_pg_subscripts(%s)) %s)", longest, n)
	return b.String()
}

// lateralUnnest is the FROM item for an unnest whose arguments are columns
// of the relation rel (aliased relAlias) just before it: after that
// relation's comma, a one-row relation and a JOIN of the unnested rows of
// every distinct value of the arguments in rel, on those values.
func (r *rewriter) lateralUnnest(rw, names []string, ord bool, ordName, alias, rel, relAlias string) unit {
	src := r.fresh("_pg_ls")
	var keep, args, srcArgs, on []string
	for i, a := range rw {
		col := fmt.Sprintf("_pg_a%d", i+1)
		args = append(args, a+" AS "+col)
		srcArgs = append(srcArgs, src+"."+col)
		keep = append(keep, src+"."+col+" AS "+col)
		on = append(on, quoteIdent(alias)+"."+col+" IS "+a)
	}
	from := "(SELECT DISTINCT " + strings.Join(args, ", ") + " FROM " + rel + " AS " + relAlias + ") " + src
	z := r.zip(srcArgs, names, ord, ordName, keep, from)
	return unit{text: "(SELECT 1) AS " + r.fresh("_pg_lat") + " JOIN " + z + " AS " + quoteIdent(alias) + " ON " + strings.Join(on, " AND "), primary: true}
}

// lateralSource reports the relation and alias of the FROM item just
// before the function whose arguments toks[end] closes, when every
// argument is a column of that alias: "rel alias ," or "rel AS alias ,".
func lateralSource(toks []token, end int, rw []string) (rel, alias string, ok bool) {
	open := -1
	for j := end - 1; j >= 0; j-- {
		if toks[j].isOp("(") && matching(toks, j) == end {
			open = j
			break
		}
	}
	prev := func(j int) int {
		for j--; j >= 0 && toks[j].kind == tSpace; j-- {
		}
		return j
	}
	fn := prev(open)
	if open < 0 || fn < 0 {
		return "", "", false
	}
	if d := prev(fn); d >= 0 && toks[d].isOp(".") {
		fn = prev(d)
	}
	comma := prev(fn)
	a := prev(comma)
	if comma < 0 || !toks[comma].isOp(",") || a < 0 || toks[a].kind != tIdent && toks[a].kind != tQIdent {
		return "", "", false
	}
	alias = unquote(toks[a])
	rl := prev(a)
	if rl >= 0 && toks[rl].is("as") {
		rl = prev(rl)
	}
	if rl < 0 || toks[rl].kind != tIdent && toks[rl].kind != tQIdent || notAlias[strings.ToLower(toks[rl].text)] ||
		toks[rl].is("from") {
		return "", "", false
	}
	rel = toks[rl].text
	for _, x := range rw {
		if !strings.HasPrefix(strings.ToLower(x), strings.ToLower(alias)+".") {
			return "", "", false
		}
	}
	return rel, quoteIdent(alias), true
}

// fromFunctions are the functions call rewrites into a relation of their
// own in FROM.
var fromFunctions = map[string]bool{"pg_partition_ancestors": true, "pg_partition_tree": true,
	"pg_options_to_table": true, "generate_series": true, "unnest": true, "generate_subscripts": true}

// arrayAgg rewrites array_agg([DISTINCT] x [ORDER BY …]) into the text
// form of the array its rows make, as the catalogs' arrays are kept: NULL
// over no rows, as in Postgres. The unit carries the array's type, by the
// element's when x is a catalog column whose type is known.
func (r *rewriter) arrayAgg(args [][]token) unit {
	var all []token
	for i, a := range args {
		if i > 0 {
			all = append(all, token{kind: tOp, text: ","})
		}
		all = append(all, a...)
	}
	distinct := false
	if k := nextSig(all, 0); k < len(all) && all[k].is("distinct") {
		distinct, all = true, all[k+1:]
	}
	elem, order := all, []token(nil)
	depth := 0
	for k := 0; k < len(all); k++ {
		switch {
		case all[k].isOp("("), all[k].isOp("["):
			depth++
		case all[k].isOp(")"), all[k].isOp("]"):
			depth--
		case depth == 0 && all[k].is("order"):
			if b := nextSig(all, k+1); b < len(all) && all[b].is("by") {
				elem, order = all[:k], all[b+1:]
			}
		}
		if order != nil {
			break
		}
	}
	e, _ := r.level(elem)
	e = strings.TrimSpace(e)
	var agg string
	switch {
	case distinct:
		agg = fmt.Sprintf("group_concat(DISTINCT _pg_array_elem(%s))", e)
	case order != nil:
		o, _ := r.level(order)
		agg = fmt.Sprintf("group_concat(_pg_array_elem(%s), ',' ORDER BY %s)", e, strings.TrimSpace(o))
	default:
		agg = fmt.Sprintf("group_concat(_pg_array_elem(%s), ',')", e)
	}
	return unit{text: "('{' || " + agg + " || '}')", primary: true, typ: arrayType(elem)}
}

// arrayType is the declared type of an array of the values of x: by its
// element's type when x is a catalog column, else text[].
func arrayType(x []token) string {
	k := nextSig(x, 0)
	if k >= len(x) || x[k].kind != tIdent && x[k].kind != tQIdent {
		return "_TEXT"
	}
	j, name := chain(x, k)
	if nextSig(x, j+1) < len(x) {
		return "_TEXT"
	}
	col := strings.ToLower(lastName(name))
	switch ColumnType(col) {
	case "SMALLINT":
		return "_INT2"
	case "INTEGER":
		return "_INT4"
	case "OID":
		return "_OID"
	}
	// The catalogs' columns of type name are the ones named so.
	if strings.HasSuffix(col, "name") {
		return "_NAME"
	}
	return "_TEXT"
}

// fromAlias reads "[WITH ORDINALITY] [AS] alias [(column, …)]" after a
// function in FROM; ord is the name of the ordinality column, if any.
func fromAlias(toks []token, i int) (alias, col string, next int) {
	alias, cols, next := fromAliases(toks, i)
	if len(cols) > 0 {
		col = cols[0]
	}
	return alias, col, next
}

func fromAliases(toks []token, i int) (alias string, cols []string, next int) {
	j := nextSig(toks, i)
	if j < len(toks) && toks[j].is("with") {
		if k := nextSig(toks, j+1); k < len(toks) && toks[k].is("ordinality") {
			j = nextSig(toks, k+1)
			i = j
		}
	}
	if j < len(toks) && toks[j].is("as") {
		j = nextSig(toks, j+1)
	}
	if j >= len(toks) || !(toks[j].kind == tQIdent || toks[j].kind == tIdent && !notAlias[strings.ToLower(toks[j].text)] && !toks[j].is("with")) {
		return "", nil, i
	}
	alias = unquote(toks[j])
	next = j + 1
	k := nextSig(toks, next)
	if k < len(toks) && toks[k].isOp("(") {
		if m := matching(toks, k); m > 0 {
			for _, a := range splitArgs(toks[k+1 : m]) {
				if c := nextSig(a, 0); c < len(a) {
					cols = append(cols, unquote(a[c]))
				}
			}
			next = m + 1
		}
	}
	return alias, cols, next
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
