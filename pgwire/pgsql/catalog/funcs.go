package catalog

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// Func is a scalar SQL function the connections that read the catalogs
// register. Arguments and results are nil, int64, float64, string or
// []byte; NArgs -1 takes any number. Every Func is deterministic.
type Func struct {
	Name  string
	NArgs int
	Fn    func(args []any) (any, error)
}

// Funcs are the functions the catalog views and rewritten statements call.
// version is what version() answers.
func Funcs(version string) []Func {
	funcs := []Func{
		{"version", 0, func([]any) (any, error) { return version, nil }},
		{"current_schemas", 1, func(a []any) (any, error) {
			if truthy(a[0]) {
				return "{pg_catalog,public}", nil
			}
			return "{public}", nil
		}},
		{"format_type", 2, func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			mod, hasMod := a[1].(int64)
			return formatType(toInt(a[0]), mod, hasMod), nil
		}},
		{"pg_encoding_to_char", 1, func(a []any) (any, error) {
			if toInt(a[0]) == 6 {
				return "UTF8", nil
			}
			return "", nil
		}},
		{"pg_typeof", 1, func(a []any) (any, error) {
			switch a[0].(type) {
			case int64:
				return "integer", nil
			case float64:
				return "double precision", nil
			case []byte:
				return "bytea", nil
			case nil:
				return "unknown", nil
			}
			return "text", nil
		}},
		{"array_to_string", -1, func(a []any) (any, error) {
			if len(a) < 2 || len(a) > 3 {
				return nil, fmt.Errorf("array_to_string takes 2 or 3 arguments")
			}
			if a[0] == nil || a[1] == nil {
				return nil, nil
			}
			var out []string
			for _, e := range arrayElems(a[0]) {
				if e == "NULL" {
					if len(a) < 3 || a[2] == nil {
						continue
					}
					e = toText(a[2])
				}
				out = append(out, e)
			}
			return strings.Join(out, toText(a[1])), nil
		}},
		{"array_upper", 2, func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			n := len(arrayElems(a[0]))
			if n == 0 {
				return nil, nil
			}
			if isVector(a[0]) {
				return int64(n - 1), nil
			}
			return int64(n), nil
		}},
		{"array_lower", 2, func(a []any) (any, error) {
			if a[0] == nil || len(arrayElems(a[0])) == 0 {
				return nil, nil
			}
			if isVector(a[0]) {
				return int64(0), nil
			}
			return int64(1), nil
		}},
		{"array_length", 2, func(a []any) (any, error) {
			if a[0] == nil || len(arrayElems(a[0])) == 0 {
				return nil, nil
			}
			return int64(len(arrayElems(a[0]))), nil
		}},
		{"cardinality", 1, func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			return int64(len(arrayElems(a[0]))), nil
		}},
		{"quote_ident", 1, func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			s := toText(a[0])
			if s != "" && s == strings.ToLower(s) && isWordStart(s[0]) && strings.IndexFunc(s, func(r rune) bool {
				return !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
			}) < 0 {
				return s, nil
			}
			return quoteIdent(s), nil
		}},
		{"_pg_visible", 1, func(a []any) (any, error) {
			// information_schema is not on the search path.
			if a[0] == nil {
				return nil, nil
			}
			return boolInt(!infoSchemaOIDs()[toInt(a[0])]), nil
		}},
		{"_pg_viewquery", 1, func(a []any) (any, error) { return viewQuery(toText(a[0])), nil }},
		{"_pg_oid", 2, func(a []any) (any, error) { return OID(toText(a[0]), toText(a[1])), nil }},
		{"_pg_regclass", 1, func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			return relationOID(toText(a[0])), nil
		}},
		{"_pg_regtype", 1, func(a []any) (any, error) {
			switch x := a[0].(type) {
			case nil:
				return nil, nil
			case int64:
				return x, nil
			}
			if t := strings.TrimSpace(toText(a[0])); isDigits(t) {
				return toInt(t), nil
			}
			return typeOID(toText(a[0])), nil
		}},
		{"_pg_size_pretty", 1, func(a []any) (any, error) {
			switch x := a[0].(type) {
			case nil:
				return nil, nil
			case float64:
				return sizePretty(int64(x)), nil
			}
			return sizePretty(toInt(a[0])), nil
		}},
		{"_pg_relname", 1, func(a []any) (any, error) {
			// The name of a catalog relation's OID; an OID that names
			// no relation shows as the number, as in Postgres.
			if a[0] == nil {
				return nil, nil
			}
			oid := toInt(a[0])
			if oid == 0 {
				return "-", nil
			}
			if name, ok := catalogNames()[oid]; ok {
				return name, nil
			}
			return toText(a[0]), nil
		}},
		{"_pg_regtype_name", 1, func(a []any) (any, error) {
			// x::regtype of an OID or of a type's name, as Postgres
			// shows a regtype: the type's name.
			switch x := a[0].(type) {
			case nil:
				return nil, nil
			case int64:
				if x == 0 {
					return "-", nil
				}
				return formatType(x, 0, false), nil
			}
			t := toText(a[0])
			oid := typeOID(t)
			if isDigits(strings.TrimSpace(t)) {
				oid = toInt(t)
			}
			if oid == 0 {
				return nil, fmt.Errorf("type %q does not exist", t)
			}
			return formatType(oid, 0, false), nil
		}},
		{"_pg_subscripts", 1, func(a []any) (any, error) {
			// A JSON array of n elements, whose json_each keys are the
			// subscripts 0 … n-1 of unnest's rows.
			n := toInt(a[0])
			if n <= 0 {
				return "[]", nil
			}
			if n > 1<<20 {
				return nil, fmt.Errorf("array of %d elements is too long", n)
			}
			return "[" + strings.Repeat("0,", int(n-1)) + "0]", nil
		}},
		{"_pg_array_lower", 1, func(a []any) (any, error) {
			// The first subscript: 0 for a vector, else 1.
			if a[0] != nil && isVector(a[0]) {
				return int64(0), nil
			}
			return int64(1), nil
		}},
		{"_pg_bool", 1, func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			return boolInt(truthy(a[0])), nil
		}},
		{"_pg_array_get", 2, func(a []any) (any, error) {
			if a[0] == nil || a[1] == nil {
				return nil, nil
			}
			el := arrayElems(a[0])
			i := int(toInt(a[1]))
			if !isVector(a[0]) {
				i--
			}
			if i < 0 || i >= len(el) || el[i] == "NULL" {
				return nil, nil
			}
			if n, err := strconv.ParseInt(el[i], 10, 64); err == nil {
				return n, nil
			}
			return el[i], nil
		}},
		{"_pg_array_contains", 2, func(a []any) (any, error) {
			if a[0] == nil || a[1] == nil {
				return nil, nil
			}
			x := toText(a[1])
			for _, e := range arrayElems(a[0]) {
				if e == x {
					return int64(1), nil
				}
			}
			return int64(0), nil
		}},
		{"_pg_set_config", 3, func(a []any) (any, error) {
			return nil, fmt.Errorf("set_config over the rows of a query is not supported; SELECT set_config(name, value, is_local) alone is")
		}},
		{"array_remove", 2, func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			var keep []string
			for _, e := range arrayElems(a[0]) {
				if a[1] == nil || e != toText(a[1]) {
					keep = append(keep, arrayElemText(e))
				}
			}
			return "{" + strings.Join(keep, ",") + "}", nil
		}},
		{"quote_literal", 1, func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			s := toText(a[0])
			if strings.Contains(s, `\`) {
				return "E" + quoteString(strings.ReplaceAll(s, `\`, `\\`)), nil
			}
			return quoteString(s), nil
		}},
		{"_pg_array_elem", 1, func(a []any) (any, error) {
			return arrayElemText(a[0]), nil
		}},
		{"_pg_array_json", 1, func(a []any) (any, error) {
			if a[0] == nil {
				return "[]", nil
			}
			var vals []any
			for _, e := range arrayElems(a[0]) {
				if n, err := strconv.ParseInt(e, 10, 64); err == nil {
					vals = append(vals, n)
				} else {
					vals = append(vals, e)
				}
			}
			if vals == nil {
				return "[]", nil
			}
			b, err := json.Marshal(vals)
			return string(b), err
		}},
		{"_pg_typeoid", 1, func(a []any) (any, error) {
			oid, _ := declType(toText(a[0]))
			return oid, nil
		}},
		{"_pg_conname", 3, func(a []any) (any, error) {
			if n := declaredConstraint(toText(a[0]), toText(a[1]), toText(a[2])); n != "" {
				return n, nil
			}
			return nil, nil
		}},
		{"_pg_typmod", 1, func(a []any) (any, error) {
			_, mod := declType(toText(a[0]))
			return mod, nil
		}},
		{"_pg_sqltype", 1, func(a []any) (any, error) {
			t, ok := typeByOID[toInt(a[0])]
			if !ok {
				return "USER-DEFINED", nil
			}
			if t.category == "A" {
				return "ARRAY", nil
			}
			return t.sqlName, nil
		}},
	}
	// The front end's (regexp, behind ~): rewritten catalog queries call
	// them as the front end's SQLite text does.
	for _, f := range pgsql.Functions() {
		funcs = append(funcs, Func{f.Name, f.NumArgs, f.Fn})
	}
	return funcs
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func truthy(v any) bool {
	switch x := v.(type) {
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "t", "true", "y", "yes", "on", "1":
			return true
		}
	case []byte:
		return truthy(string(x))
	}
	return false
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n
	case []byte:
		return toInt(string(x))
	}
	return 0
}

func toText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// isVector reports whether an array value is in the text form of
// int2vector and oidvector ("1 2"), whose subscripts start at 0, rather
// than an array's ({1,2}), whose subscripts start at 1.
func isVector(v any) bool { return !strings.HasPrefix(strings.TrimSpace(toText(v)), "{") }

// arrayElems are the elements of an array or vector in text form; a NULL
// element is "NULL". Elements are not quoted here: the catalogs' arrays
// hold names and numbers.
func arrayElems(v any) []string {
	s := strings.TrimSpace(toText(v))
	if !strings.HasPrefix(s, "{") {
		return strings.Fields(s)
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"`)
	}
	return parts
}

// arrayElemText is v as an element of an array's text form: NULL, a
// number as it is, text in double quotes when Postgres quotes it (empty,
// NULL, or holding a delimiter, quote, backslash or space).
func arrayElemText(v any) string {
	if v == nil {
		return "NULL"
	}
	s := toText(v)
	switch v.(type) {
	case int64, float64:
		return s
	}
	if s != "" && !strings.EqualFold(s, "null") && !strings.ContainsAny(s, "{},\"\\ \t\n\r\f\v") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// viewQuery is the query of a CREATE VIEW statement: what follows its
// first AS outside quotes and parentheses (a view's name and column list
// cannot hold the word unquoted).
func viewQuery(create string) string {
	depth := 0
	off := 0
	for _, t := range lex(create) {
		switch {
		case t.isOp("("):
			depth++
		case t.isOp(")"):
			depth--
		case depth == 0 && t.is("as"):
			return strings.TrimSpace(create[off+len(t.text):])
		}
		off += len(t.text)
	}
	return ""
}

var infoSchemaOnce struct {
	sync.Once
	oids map[int64]bool
}

// infoSchemaOIDs are the OIDs of the information_schema relations.
func infoSchemaOIDs() map[int64]bool {
	infoSchemaOnce.Do(func() {
		infoSchemaOnce.oids = map[int64]bool{}
		for _, r := range Relations() {
			if r.Schema == "information_schema" {
				infoSchemaOnce.oids[relationOID(r.Schema+"."+quoteIdent(r.Name))] = true
			}
		}
	})
	return infoSchemaOnce.oids
}
