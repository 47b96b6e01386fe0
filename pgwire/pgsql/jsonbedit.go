package pgsql

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// jsonb's functions and operators that build a new value: a || b
// (concatenation: objects merged, arrays joined), a - k (a key, an array's
// string elements or its element at an index removed), jsonb_set and
// jsonb_insert. SQLite's || joins the texts ('{"a":1}{"b":2}', no JSON at
// all), its - subtracts numbers, and its jsonb_set and jsonb_insert take
// '$.a' paths and return its binary JSONB, a blob; so each is a Go function
// here with Postgres' rules, writing the value as Postgres prints a jsonb:
// object keys by length and then bytes, ", " and ": " between items.
//
// || and - become the function only when an operand is known to be jsonb,
// by a cast ('{}'::jsonb, $1::jsonb) or a call that gives one
// (jsonb_build_object …): the front end does not know the types of
// columns, and data || 'x' of a text column is text.
//
// SQLite's own jsonb_* functions of that binary format, which are not
// Postgres', are refused: a client would get blobs.

const (
	jsonbConcatFunc = "_pg_jsonb_concat"
	jsonbDeleteFunc = "_pg_jsonb_delete"
	jsonbSetFunc    = "_pg_jsonb_set"
	jsonbInsertFunc = "_pg_jsonb_insert"
)

// sqliteJSONB are SQLite's functions that return its binary JSONB.
var sqliteJSONB = map[string]bool{
	"jsonb": true, "jsonb_array": true, "jsonb_object": true, "jsonb_extract": true, "jsonb_patch": true,
	"jsonb_remove": true, "jsonb_replace": true, "jsonb_group_array": true, "jsonb_group_object": true,
}

// jsonbCalls are the calls whose value is a jsonb.
var jsonbCalls = map[string]bool{
	"jsonb_build_object": true, "jsonb_build_array": true, "to_jsonb": true, "jsonb_agg": true,
	"jsonb_object_agg": true, "jsonb_set": true, "jsonb_insert": true, "jsonb_strip_nulls": true,
}

func jsonbEditFunctions() []Function {
	return []Function{
		{Name: jsonbConcatFunc, NumArgs: 2, Fn: strict(jsonbConcat)},
		{Name: jsonbDeleteFunc, NumArgs: 2, Fn: strict(jsonbDelete)},
		{Name: jsonbSetFunc, NumArgs: -1, Fn: jsonbSet},
		{Name: jsonbInsertFunc, NumArgs: -1, Fn: jsonbInsert},
	}
}

// jsonbBefore reports whether the operand that ends before token i is
// known to be a jsonb: x::jsonb, or a call of jsonbCalls.
func (p *parser) jsonbBefore(i int) bool {
	if p.word(i-1) == "jsonb" && p.isOp(i-2, "::") {
		return true
	}
	lo := p.primLo
	return p.prim >= 0 && lo >= 0 && lo < i && jsonbCalls[p.word(lo)] && p.isPunct(lo+1, '(') && p.matchParen(lo+1) == i-1
}

// jsonbAfter reports whether the operand that starts at token i is known
// to be a jsonb: a literal or parameter cast to it, or a call of
// jsonbCalls.
func (p *parser) jsonbAfter(i int) bool {
	switch p.kindAt(i) {
	case tString, tEString, tDollar, tParam:
		return p.isOp(i+1, "::") && p.word(i+2) == "jsonb"
	case tWord:
		return jsonbCalls[p.word(i)] && p.isPunct(i+1, '(')
	}
	return false
}

func jsonbConcat(args []any) (any, error) {
	a, err := jsonbValue(args[0])
	if err != nil {
		return nil, err
	}
	b, err := jsonbValue(args[1])
	if err != nil {
		return nil, err
	}
	ao, aObj := a.(map[string]any)
	bo, bObj := b.(map[string]any)
	if aObj && bObj {
		out := make(map[string]any, len(ao)+len(bo))
		for k, v := range ao {
			out[k] = v
		}
		for k, v := range bo {
			out[k] = v
		}
		return jsonbText(out), nil
	}
	// Anything else is an array of both: a non-array is one element.
	var out []any
	for _, v := range []any{a, b} {
		if arr, ok := v.([]any); ok {
			out = append(out, arr...)
		} else {
			out = append(out, v)
		}
	}
	if out == nil {
		out = []any{}
	}
	return jsonbText(out), nil
}

var errDeleteScalar = errors.New("cannot delete from scalar")

func jsonbDelete(args []any) (any, error) {
	a, err := jsonbValue(args[0])
	if err != nil {
		return nil, err
	}
	switch v := a.(type) {
	case map[string]any:
		if _, isInt := args[1].(int64); isInt {
			return nil, errors.New("cannot delete from object using integer index")
		}
		k := textOf(args[1])
		out := make(map[string]any, len(v))
		for key, val := range v {
			if key != k {
				out[key] = val
			}
		}
		return jsonbText(out), nil
	case []any:
		if n, isInt := args[1].(int64); isInt {
			if n < 0 {
				n += int64(len(v))
			}
			if n < 0 || n >= int64(len(v)) {
				return jsonbText(v), nil
			}
			return jsonbText(slices.Delete(slices.Clone(v), int(n), int(n)+1)), nil
		}
		k := textOf(args[1])
		out := []any{}
		for _, e := range v {
			if s, ok := e.(string); !ok || s != k {
				out = append(out, e)
			}
		}
		return jsonbText(out), nil
	}
	return nil, errDeleteScalar
}

// jsonbPath reads a text array of path steps, '{a,0,b}'.
func jsonbPath(v any) ([]string, error) {
	s := strings.TrimSpace(textOf(v))
	elems, err := arrayText(s)
	if err != nil {
		return nil, fmt.Errorf("malformed array literal: %q", s)
	}
	path := make([]string, len(elems))
	for i, e := range elems {
		switch x := e.(type) {
		case nil:
			return nil, fmt.Errorf("path element at position %d is null", i+1)
		case string:
			path[i] = x
		default:
			path[i] = fmt.Sprint(x)
		}
	}
	return path, nil
}

// jsonbSet is jsonb_set(target, path, value [, create_if_missing]): the
// value at path replaced, or added when only its last step is missing and
// create_if_missing (true by default) says so.
func jsonbSet(args []any) (any, error) {
	return jsonbEdit(args, "jsonb_set", false)
}

// jsonbInsert is jsonb_insert(target, path, value [, insert_after]): the
// value inserted into an array before (or after) the element at path, or
// added to an object at a key it lacks.
func jsonbInsert(args []any) (any, error) {
	return jsonbEdit(args, "jsonb_insert", true)
}

func jsonbEdit(args []any, name string, insert bool) (any, error) {
	if len(args) != 3 && len(args) != 4 {
		return nil, fmt.Errorf("function %s takes 3 or 4 arguments", name)
	}
	for _, a := range args[:3] {
		if a == nil {
			return nil, nil
		}
	}
	target, err := jsonbValue(args[0])
	if err != nil {
		return nil, err
	}
	path, err := jsonbPath(args[1])
	if err != nil {
		return nil, err
	}
	value, err := jsonbValue(args[2])
	if err != nil {
		return nil, err
	}
	flag := !insert // create_if_missing defaults to true, insert_after to false
	if len(args) == 4 {
		if args[3] == nil {
			return nil, nil
		}
		switch x := args[3].(type) {
		case int64:
			flag = x != 0
		default:
			switch strings.ToLower(strings.TrimSpace(textOf(x))) {
			case "t", "true", "1", "yes", "on":
				flag = true
			case "f", "false", "0", "no", "off":
				flag = false
			default:
				return nil, fmt.Errorf("invalid input syntax for type boolean: %q", textOf(x))
			}
		}
	}
	if len(path) == 0 {
		return jsonbText(target), nil
	}
	switch target.(type) {
	case map[string]any, []any:
	default:
		return nil, fmt.Errorf("cannot set path in scalar")
	}
	out, err := jsonbEditAt(target, path, value, insert, flag)
	if err != nil {
		return nil, err
	}
	return jsonbText(out), nil
}

// jsonbEditAt sets (or inserts) value at path in v; a missing step before
// the last leaves v as it is.
func jsonbEditAt(v any, path []string, value any, insert, flag bool) (any, error) {
	last := len(path) == 1
	switch c := v.(type) {
	case map[string]any:
		k := path[0]
		cur, ok := c[k]
		if last {
			if insert && ok {
				return nil, errors.New("cannot replace existing key")
			}
			if !ok && !insert && !flag {
				return c, nil
			}
			out := make(map[string]any, len(c)+1)
			for key, val := range c {
				out[key] = val
			}
			out[k] = value
			return out, nil
		}
		if !ok {
			return c, nil
		}
		next, err := jsonbEditAt(cur, path[1:], value, insert, flag)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(c))
		for key, val := range c {
			out[key] = val
		}
		out[k] = next
		return out, nil
	case []any:
		n, err := strconv.Atoi(strings.TrimSpace(path[0]))
		if err != nil {
			return nil, fmt.Errorf("path element at position %d is not an integer: %q", 1, path[0])
		}
		if n < 0 {
			n += len(c)
		}
		if last {
			out := slices.Clone(c)
			switch {
			case insert:
				at := min(max(n, 0), len(c))
				if flag && n >= 0 && n < len(c) {
					at = n + 1
				}
				return slices.Insert(out, at, value), nil
			case n >= 0 && n < len(c):
				out[n] = value
				return out, nil
			case !flag:
				return c, nil
			case n < 0:
				return slices.Insert(out, 0, value), nil
			default:
				return append(out, value), nil
			}
		}
		if n < 0 || n >= len(c) {
			return c, nil
		}
		next, err := jsonbEditAt(c[n], path[1:], value, insert, flag)
		if err != nil {
			return nil, err
		}
		out := slices.Clone(c)
		out[n] = next
		return out, nil
	}
	return v, nil // a scalar along the path: nothing to set in it
}

// jsonbText writes v as Postgres prints a jsonb.
func jsonbText(v any) string {
	var b bytes.Buffer
	writeJSONB(&b, v)
	return b.String()
}

func writeJSONB(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		// jsonb keeps an object's keys shorter first, then by their bytes.
		slices.SortFunc(keys, func(a, b string) int {
			if len(a) != len(b) {
				return len(a) - len(b)
			}
			return strings.Compare(a, b)
		})
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSONString(b, k)
			b.WriteString(": ")
			writeJSONB(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSONB(b, e)
		}
		b.WriteByte(']')
	case string:
		writeJSONString(b, x)
	case json.Number:
		b.WriteString(x.String())
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case nil:
		b.WriteString("null")
	default:
		fmt.Fprint(b, x)
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	e := json.NewEncoder(b)
	e.SetEscapeHTML(false) // Postgres writes <, > and & as they are
	_ = e.Encode(s)
	b.Truncate(b.Len() - 1) // Encode's newline
}

// jsonbEdits reports whether tokens [a, b) are jsonb operands joined by ||
// and - only, the first one's jsonb known (jsonbBefore's rules), so that
// the expression is a jsonb.
func (p *parser) jsonbEdits(a, b int) bool {
	first := -1
	depth := 0
	for j := a; j < b; j++ {
		switch {
		case p.isPunct(j, '(') || p.isPunct(j, '['):
			depth++
		case p.isPunct(j, ')') || p.isPunct(j, ']'):
			depth--
		case depth == 0 && p.kindAt(j) == tOp && !p.isOp(j, "::"):
			if !p.isOp(j, "||") && !p.isOp(j, "-") || j == a {
				return false
			}
			if first < 0 {
				first = j
			}
		case depth == 0 && p.kindAt(j) == tWord && notPrimary[p.word(j)]:
			return false
		}
	}
	if first < 0 {
		return false
	}
	if p.word(first-1) == "jsonb" && p.isOp(first-2, "::") {
		return true
	}
	if jsonbCalls[p.word(a)] && p.isPunct(a+1, '(') && p.matchParen(a+1) == first-1 {
		return true
	}
	return p.isOp(first, "||") && p.jsonbAfter(first+1)
}

// refuseJSONBStored refuses the jsonb operator at token i where the schema
// stores it (a CHECK, a DEFAULT, an index): stock sqlite3 lacks its
// function.
func (p *parser) refuseJSONBStored(i int, what string) bool {
	if p.schema == nil {
		return false
	}
	if where := p.schemaAt(i); where.strict() {
		p.refuseStored(i, "the operator "+what, where)
		return true
	}
	return false
}
