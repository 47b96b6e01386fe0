package pgsql

import (
	"encoding/json"
	"strings"
)

// Postgres' x ->> k is text: the string a JSON string holds, else the JSON
// text of the value (8 is '8', true is 'true'), and NULL for a JSON null.
// SQLite's ->> gives the SQL value instead, so that x ->> 'n' = '8' is
// false for {"n": 8} where Postgres finds it true, and a client that
// compares with a text parameter (every driver binding a string) misses the
// row. The left operand is the primary before the operator and the -> steps
// that follow it (a -> 'b' ->> 'c'); the right one a single literal or
// parameter, as clients write them. Another right operand, or one a :: or
// [ follows, keeps SQLite's ->>.
//
// x ->> k becomes a CASE over json_type(x -> k) (jsonTextCase), x -> k
// being the JSON text of the value in both dialects. It is SQLite's
// built-ins, so that an index on x ->> k is stored as stock sqlite3 runs it
// (schemafuncs.go), and a query gets the same text, so that it uses the
// index. _pg_json_text(x -> k), what x ->> k became before, stays a
// function for the schemas and log entries that call it.

// jsonTextFunc is the SQL name of the function that gives a JSON value's
// text as Postgres' ->> does.
const jsonTextFunc = "_pg_json_text"

// jsonKey reports whether token i is a right operand of -> or ->> that the
// translation takes: a literal or parameter with no cast or subscript.
func (p *parser) jsonKey(i int) bool {
	switch p.kindAt(i) {
	case tString, tNumber, tParam:
	default:
		return false
	}
	return !p.isOp(i+1, "::") && !p.isPunct(i+1, '[') && !p.isPunct(i+1, '.')
}

// jsonArrow translates the -> or ->> at token i, whose left operand is the
// primary at p.prim.
func (p *parser) jsonArrow(i int) int {
	at, lo := p.prim, p.primLo
	if p.text(i) == "->" {
		// The chain goes on: the primary is still the left operand's.
		p.keep(i)
		p.keep(i + 1)
		p.prim, p.primLo = at, lo
		return i + 2
	}
	p.materialize()
	lhs := string(p.out[at:])
	p.out = append(p.out[:at], jsonTextCase(strings.TrimRight(lhs, " \t\r\n"), p.text(i+1))...)
	p.last = int(p.toks[i+1].end)
	p.prim, p.primLo = at, lo
	return i + 2
}

// jsonText is _pg_json_text(j), j the JSON text of a value.
func jsonText(args []any) (any, error) {
	var s string
	switch v := args[0].(type) {
	case nil:
		return nil, nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return v, nil
	}
	t := strings.TrimSpace(s)
	switch {
	case t == "null":
		return nil, nil
	case strings.HasPrefix(t, `"`):
		var str string
		if err := json.Unmarshal([]byte(t), &str); err == nil {
			return str, nil
		}
	}
	return s, nil
}
