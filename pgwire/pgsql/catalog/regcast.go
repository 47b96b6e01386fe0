package catalog

import (
	"strings"
	"sync"
)

// A value of regclass, regtype or regnamespace is an OID that Postgres
// shows as a name: 'users'::regclass compares equal to pg_class.oid, and
// SELECT conrelid::regclass shows users. SQLite has no such type, so the
// rewrite chooses by where the cast is: an item of a select list alone
// (with or without an alias), or cast on to text, is the name; anywhere
// else (a comparison, a join, ORDER BY, a function's argument) the OID.
// A string literal compared with such a cast is read as one too
// (x::regclass = 'users'). The operand may be a name ('users', $1, which
// pgx and pgJDBC send as text) or an OID (a catalog column).

// regTypes are the catalog types castUnit gives a name and an OID.
var regTypes = map[string]bool{"regclass": true, "regtype": true, "regnamespace": true}

// textTypes are the types a cast to which of a reg value is its name.
var textTypes = map[string]bool{"text": true, "name": true, "varchar": true, "character varying": true,
	"char": true, "bpchar": true, "character": true, "unknown": true}

// intTypes are the types a cast to which of a reg value is its OID.
var intTypes = map[string]bool{"oid": true, "int": true, "int4": true, "int8": true, "integer": true, "bigint": true}

// castUnit is arg::typ.
func (r *rewriter) castUnit(arg unit, typ string) unit {
	if arg.reg != "" {
		switch {
		case textTypes[typ]:
			return unit{text: "CAST(" + arg.name + " AS TEXT)", primary: true}
		case intTypes[typ]:
			return unit{text: arg.text, primary: true}
		case typ == arg.reg:
			return arg
		}
		arg = unit{text: arg.text, primary: true}
	}
	if !regTypes[typ] {
		return unit{text: r.cast(arg.text, typ), primary: true}
	}
	oid, name := r.regExprs(arg.text, typ)
	return unit{text: oid, name: name, reg: typ, primary: true, typ: strings.ToUpper(typ)}
}

// regExprs are the SQLite texts of the OID and of the name of
// operand::typ, typ one of regTypes.
func (r *rewriter) regExprs(operand, typ string) (oid, name string) {
	literal := strings.HasPrefix(operand, "'")
	switch typ {
	case "regclass":
		oid = operand
		if !oidColumn(operand) || strings.HasSuffix(operand, ")") {
			oid = "_pg_regclass(" + operand + ")"
		}
		return oid, "coalesce((SELECT _rn_name FROM " + r.helper("_pg_relnames") + " WHERE _rn_oid = " + oid +
			"), _pg_relname(" + oid + "))"
	case "regtype":
		oid = operand
		if !oidColumn(operand) || strings.HasSuffix(operand, ")") {
			oid = "_pg_regtype(" + operand + ")"
		}
		return oid, "_pg_regtype_name(" + operand + ")"
	}
	if literal {
		return "(SELECT oid FROM pg_namespace WHERE nspname = " + operand + ")", operand
	}
	return operand, "(SELECT nspname FROM pg_namespace WHERE oid = " + operand + ")"
}

// showRegNames gives the casts to reg types that are items of a select
// list of their own their names.
func showRegNames(out []unit) {
	sig := func(k, step int) int {
		for k += step; k >= 0 && k < len(out) && out[k].space; k += step {
		}
		return k
	}
	for k, u := range out {
		if u.reg == "" || !u.sel {
			continue
		}
		prev, next := sig(k, -1), sig(k, 1)
		if prev < 0 || !(out[prev].word == "select" || out[prev].word == "distinct" || out[prev].word == "all" || out[prev].text == ",") {
			continue
		}
		if next < len(out) && !(out[next].text == "," || out[next].word == "as" || out[next].word == "from" ||
			out[next].primary || clauseEnds[out[next].word]) {
			continue
		}
		out[k].text = out[k].name
	}
}

// catalogNames are the catalog relations' names by OID.
var catalogNames = sync.OnceValue(func() map[int64]string {
	m := make(map[int64]string, len(catalogOIDs))
	for name, oid := range catalogOIDs {
		m[oid] = name
	}
	return m
})
