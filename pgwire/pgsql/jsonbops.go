package pgsql

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Postgres' jsonb containment and key operators, which SQLite lacks:
// a @> b and a <@ b (one value holds the other), a ? k (a key of an object,
// or a string of an array, is k), a ?| ks and a ?& ks (any or every one of
// the text array ks). Each becomes a call of a Go function here
// (binaryCall), the operands being the primaries on either side, as
// clients write them: data @> '{"tags":["a"]}', doc ? $1. Django's
// JSONField lookups contains, contained_by, has_key, has_any_keys and
// has_keys send them, as do ActiveRecord and SQLAlchemy for jsonb.

const (
	jsonbContainsFunc = "_pg_jsonb_contains"
	jsonbContainedIn  = "_pg_jsonb_contained"
	jsonbExistsFunc   = "_pg_jsonb_exists"
	jsonbExistsAny    = "_pg_jsonb_exists_any"
	jsonbExistsAll    = "_pg_jsonb_exists_all"
)

// jsonbOperators are the functions of the operators.
var jsonbOperators = map[string]string{
	"@>": jsonbContainsFunc, "<@": jsonbContainedIn, "?": jsonbExistsFunc, "?|": jsonbExistsAny, "?&": jsonbExistsAll,
}

func jsonbFunctions() []Function {
	return []Function{
		{Name: jsonbContainsFunc, NumArgs: 2, Fn: strict(func(a []any) (any, error) { return jsonbContains(a[0], a[1]) })},
		{Name: jsonbContainedIn, NumArgs: 2, Fn: strict(func(a []any) (any, error) { return jsonbContains(a[1], a[0]) })},
		{Name: jsonbExistsFunc, NumArgs: 2, Fn: strict(jsonbExists)},
		{Name: jsonbExistsAny, NumArgs: 2, Fn: strict(jsonbExistsKeys(false))},
		{Name: jsonbExistsAll, NumArgs: 2, Fn: strict(jsonbExistsKeys(true))},
	}
}

// jsonbValue reads a JSON document, numbers kept exact.
func jsonbValue(v any) (any, error) {
	text := textOf(v)
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	var out any
	if err := d.Decode(&out); err != nil {
		return nil, fmt.Errorf("invalid input syntax for type json: %q", text)
	}
	if _, err := d.Token(); err == nil {
		return nil, fmt.Errorf("invalid input syntax for type json: %q", text)
	}
	return out, nil
}

func sqlBool(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func jsonbContains(outer, inner any) (any, error) {
	a, err := jsonbValue(outer)
	if err != nil {
		return nil, err
	}
	b, err := jsonbValue(inner)
	if err != nil {
		return nil, err
	}
	// At the top level only, an array holds a scalar that is one of its
	// elements: '[1, 2]' @> '1'.
	if arr, ok := a.([]any); ok {
		switch b.(type) {
		case []any, map[string]any:
		default:
			for _, e := range arr {
				if jsonbScalarEqual(e, b) {
					return int64(1), nil
				}
			}
			return int64(0), nil
		}
	}
	return sqlBool(jsonbHolds(a, b)), nil
}

// jsonbHolds is Postgres' containment: an object holds an object whose
// every key it has with a value that holds that key's value; an array holds
// an array whose every element some element of it holds; a scalar holds an
// equal scalar.
func jsonbHolds(a, b any) bool {
	switch bv := b.(type) {
	case map[string]any:
		av, ok := a.(map[string]any)
		if !ok {
			return false
		}
		for k, want := range bv {
			got, ok := av[k]
			if !ok || !jsonbHolds(got, want) {
				return false
			}
		}
		return true
	case []any:
		av, ok := a.([]any)
		if !ok {
			return false
		}
		for _, want := range bv {
			found := false
			for _, got := range av {
				if jsonbHolds(got, want) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	switch a.(type) {
	case map[string]any, []any:
		return false
	}
	return jsonbScalarEqual(a, b)
}

// jsonbScalarEqual compares two scalars as jsonb does: numbers by value
// (1.0 equals 1), the rest exactly.
func jsonbScalarEqual(a, b any) bool {
	an, aok := a.(json.Number)
	bn, bok := b.(json.Number)
	if aok || bok {
		if !aok || !bok {
			return false
		}
		x, okx := new(big.Rat).SetString(an.String())
		y, oky := new(big.Rat).SetString(bn.String())
		return okx && oky && x.Cmp(y) == 0
	}
	switch a.(type) {
	case map[string]any, []any:
		return false
	}
	return a == b
}

// jsonbHasKey reports whether k is a key of object a, a string element
// of array a, or the string a.
func jsonbHasKey(a any, k string) bool {
	switch v := a.(type) {
	case map[string]any:
		_, ok := v[k]
		return ok
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok && s == k {
				return true
			}
		}
	case string:
		return v == k
	}
	return false
}

func jsonbExists(args []any) (any, error) {
	a, err := jsonbValue(args[0])
	if err != nil {
		return nil, err
	}
	return sqlBool(jsonbHasKey(a, textOf(args[1]))), nil
}

var errKeyArray = errors.New("malformed array literal: the keys of ?| and ?& are a text array such as '{a,b}'")

// jsonbExistsKeys is ?& (all) or ?| (any): the keys are a text array, as
// its literal '{a,b}' or an array parameter gives it.
func jsonbExistsKeys(all bool) func(args []any) (any, error) {
	return func(args []any) (any, error) {
		a, err := jsonbValue(args[0])
		if err != nil {
			return nil, err
		}
		keys, err := arrayJSON(args[1:2])
		if err != nil {
			return nil, err
		}
		s, _ := keys.(string)
		var elems []any
		d := json.NewDecoder(bytes.NewReader([]byte(s)))
		d.UseNumber()
		if err := d.Decode(&elems); err != nil {
			return nil, errKeyArray
		}
		for _, e := range elems {
			if e == nil {
				continue // a NULL key matches nothing, and is skipped
			}
			var k string
			switch x := e.(type) {
			case string:
				k = x
			case json.Number:
				k = x.String()
			default:
				k = fmt.Sprint(x)
			}
			has := jsonbHasKey(a, k)
			if has && !all {
				return int64(1), nil
			}
			if !has && all {
				return int64(0), nil
			}
		}
		return sqlBool(all), nil
	}
}
