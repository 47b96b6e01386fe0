package pgsql

// A cast to a type name that is none of Postgres' built-in types
// ('ok'::mood, $1::mood) names a type the database made, an enum type
// (CREATE TYPE … AS ENUM, see pgwire): its values are text, so the cast
// keeps the operand's text as it is. Whether the value is one of the
// type's labels is the CHECK constraint's business, on the column the
// value is written to.

// userType reports whether typ, a canonical type name that is not a known
// one (knownType), may be a type the database made: one plain name, not
// one of Postgres' built-in types that raftsql does not have.
func userType(typ string) bool {
	if typ == "" || postgresOnlyTypes[typ] {
		return false
	}
	for i := 0; i < len(typ); i++ {
		c := typ[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// postgresOnlyTypes are Postgres' built-in types that raftsql has no
// values of: a cast to one stays refused.
var postgresOnlyTypes = map[string]bool{}

func init() {
	for _, n := range []string{"interval", "inet", "cidr", "macaddr", "macaddr8", "money", "xml", "point", "line", "lseg",
		"box", "path", "polygon", "circle", "bit", "varbit", "tsvector", "tsquery", "int4range", "int8range", "numrange",
		"tsrange", "tstzrange", "daterange", "record", "void", "any", "anyelement", "anyarray", "cstring", "tid", "xid",
		"cid", "pg_lsn", "txid_snapshot", "pg_snapshot", "jsonpath", "char", "int2vector", "oidvector", "aclitem",
		"unknown", "trigger", "internal", "regconfig", "regdictionary", "regcollation", "regoperator", "float", "double"} {
		postgresOnlyTypes[n] = true
	}
}
