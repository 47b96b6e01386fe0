package pgsql

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// TestPgFunctions calls each Go function of pgfuncs.go as SQLite would,
// with Postgres' answers (psql, Postgres 16) as the want.
func TestPgFunctions(t *testing.T) {
	byName := map[string]func([]any) (any, error){}
	for _, f := range Functions() {
		byName[f.Name] = f.Fn
	}
	cases := []struct {
		fn   string
		args []any
		want any // a string starting with "!" is an error's text
	}{
		{"repeat", []any{"ab", int64(3)}, "ababab"},
		{"repeat", []any{"ab", int64(0)}, ""},
		{"repeat", []any{"ab", int64(-2)}, ""},
		{"repeat", []any{nil, int64(2)}, nil},
		{"repeat", []any{"ab", nil}, nil},
		{"repeat", []any{"abc", int64(1 << 40)}, "!requested length too large"},
		{"regexp_replace", []any{"hello world", "o(.)", `0\1`, "g"}, "hell0 w0rld"},
		{"regexp_replace", []any{"hello world", "o", "0"}, "hell0 world"},
		{"regexp_replace", []any{"Hello", "h", "j", "i"}, "jello"},
		{"regexp_replace", []any{"abc", "b", `[\&]$1`}, "a[b]$1c"},
		{"regexp_replace", []any{"abc", "(", "x"}, "!invalid regular expression: error parsing regexp: missing closing ): `(`"},
		{"regexp_replace", []any{"abc", "b", "x", "z"}, `!invalid regular expression option: "z"`},
		{"regexp_replace", []any{"abc", nil, "x"}, nil},
		{"split_part", []any{"a,b,c", ",", int64(2)}, "b"},
		{"split_part", []any{"a,b,c", ",", int64(-1)}, "c"},
		{"split_part", []any{"a,b,c", ",", int64(-3)}, "a"},
		{"split_part", []any{"a,b,c", ",", int64(4)}, ""},
		{"split_part", []any{"a,b,c", ",", int64(-4)}, ""},
		{"split_part", []any{"abc", "", int64(1)}, "abc"},
		{"split_part", []any{"abc", "", int64(2)}, ""},
		{"split_part", []any{"a~~b", "~~", int64(2)}, "b"},
		{"split_part", []any{"a,b", ",", int64(0)}, "!field position must not be zero"},
		{"left", []any{"abcdef", int64(2)}, "ab"},
		{"left", []any{"abcdef", int64(-2)}, "abcd"},
		{"left", []any{"abc", int64(-10)}, ""},
		{"left", []any{"héllo", int64(2)}, "hé"},
		{"right", []any{"abcdef", int64(2)}, "ef"},
		{"right", []any{"abcdef", int64(-2)}, "cdef"},
		{"right", []any{"abc", int64(10)}, "abc"},
		{"reverse", []any{"héllo"}, "olléh"},
		{"initcap", []any{"hello wORLD, it's 2x"}, "Hello World, It'S 2x"},
		{"translate", []any{"12345", "143", "ax"}, "a2x5"},
		{"starts_with", []any{"alphabet", "alph"}, true},
		{"starts_with", []any{"alphabet", "beta"}, false},
		{"to_timestamp", []any{int64(0)}, "1970-01-01 00:00:00"},
		{"to_timestamp", []any{1700000000.25}, "2023-11-14 22:13:20.25"},
		{"to_timestamp", []any{"-1.5"}, "1969-12-31 23:59:58.5"},
		{"to_hex", []any{int64(255)}, "ff"},
		{"to_hex", []any{int64(-1)}, "ffffffffffffffff"},
		{"format", []any{"Hello %s, %I, %L", "World", "Foo Bar", "O'Reilly"}, `Hello World, "Foo Bar", 'O''Reilly'`},
		{"format", []any{"%I.%I", "public", "select"}, `public."select"`},
		{"format", []any{"%s|%L|%s", nil, nil, int64(3)}, "|NULL|3"},
		{"format", []any{"%2$s %1$s %%", "a", "b"}, "b a %"},
		{"format", []any{"[%5s][%-5s]", "ab", "cd"}, "[   ab][cd   ]"},
		{"format", []any{"%L", `a\b`}, `E'a\\b'`},
		{"format", []any{"%s %s", "a"}, "!too few arguments for format()"},
		{"format", []any{"%d", int64(1)}, `!unrecognized format() type specifier "d"`},
		{"format", []any{"%I", nil}, "!null values cannot be formatted as an SQL identifier"},
		{"format", []any{nil, "a"}, nil},
		{"quote_nullable", []any{nil}, "NULL"},
		{"quote_nullable", []any{"it's"}, "'it''s'"},
		{"quote_nullable", []any{int64(42)}, "'42'"},
		{"encode", []any{[]byte("abc"), "hex"}, "616263"},
		{"encode", []any{[]byte("abc"), "base64"}, "YWJj"},
		{"encode", []any{[]byte(strings.Repeat("x", 60)), "base64"}, strings.Repeat("eHh4", 19) + "\neHh4"},
		{"encode", []any{[]byte("a\x00\\\xff"), "escape"}, `a\000\\\377`},
		{"encode", []any{[]byte("a"), "rot13"}, `!unrecognized encoding: "rot13"`},
		{"decode", []any{"616263", "hex"}, []byte("abc")},
		{"decode", []any{"YWJj\neA==", "base64"}, []byte("abcx")},
		{"decode", []any{`a\000\\\377`, "escape"}, []byte("a\x00\\\xff")},
		{"decode", []any{"zz", "hex"}, "!invalid hexadecimal data"},
		{"div", []any{int64(9), int64(4)}, int64(2)},
		{"div", []any{int64(-9), int64(4)}, int64(-2)},
		{"div", []any{9.5, 2.0}, 4.0},
		{"div", []any{int64(1), int64(0)}, "!division by zero"},
		{"mod", []any{int64(-7), int64(3)}, int64(-1)},
		{"mod", []any{int64(7), int64(3)}, int64(1)},
		{"mod", []any{7.5, int64(2)}, 1.5},
		{"mod", []any{int64(7), int64(0)}, "!division by zero"},
		{"gcd", []any{int64(12), int64(-18)}, int64(6)},
		{"gcd", []any{int64(0), int64(0)}, int64(0)},
		{"lcm", []any{int64(4), int64(6)}, int64(12)},
		{"lcm", []any{int64(1) << 62, int64(3)}, "!bigint out of range"},
		{"lcm", []any{1.5, int64(3)}, `!invalid input syntax for type bigint: "1.5"`},
		{"cbrt", []any{int64(27)}, 3.0},
		{"cbrt", []any{-8.0}, -2.0},
		{"trunc", []any{1.239, int64(2)}, 1.23},
		{"trunc", []any{-1.239, int64(1)}, -1.2},
		{"trunc", []any{int64(1234), int64(-2)}, 1200.0},
		{"width_bucket", []any{5.35, 0.024, 10.06, int64(5)}, int64(3)},
		{"width_bucket", []any{int64(-1), int64(0), int64(10), int64(5)}, int64(0)},
		{"width_bucket", []any{int64(10), int64(0), int64(10), int64(5)}, int64(6)},
		{"width_bucket", []any{int64(9), int64(10), int64(0), int64(5)}, int64(1)},
		{"width_bucket", []any{int64(1), int64(0), int64(10), int64(0)}, "!count must be greater than zero"},
		{"json_typeof", []any{` {"a":1}`}, "object"},
		{"json_typeof", []any{`[1]`}, "array"},
		{"jsonb_typeof", []any{`"x"`}, "string"},
		{"jsonb_typeof", []any{`-1.5`}, "number"},
		{"jsonb_typeof", []any{`false`}, "boolean"},
		{"jsonb_typeof", []any{`null`}, "null"},
		{jsonPathTextFunc, []any{`{"a":{"b":[1,"x",true]}}`, "{a,b,1}"}, "x"},
		{jsonPathTextFunc, []any{`{"a":{"b":[1,"x",true]}}`, "{a,b,-1}"}, "true"},
		{jsonPathTextFunc, []any{`{"a":{"b":[1,"x",true]}}`, "{a,c}"}, nil},
		{jsonPathTextFunc, []any{`{"a b":null}`, `{"a b"}`}, nil},
		{jsonPathTextFunc, []any{`{"a":1}`, "{}"}, `{"a":1}`},
		{jsonPathFunc, []any{`{"a":{"b":[1, "x"]}}`, "{a,b}"}, `[1, "x"]`},
		{jsonPathFunc, []any{`{"a":{"b":"x"}}`, "{a,b}"}, `"x"`},
		{jsonPathFunc, []any{`{"a":1`, "{a}"}, "!invalid input syntax for type json"},
		{jsonPathFunc, []any{`{"a":1}`, "a"}, `!malformed array literal: "a"`},
	}
	for _, c := range cases {
		fn := byName[c.fn]
		if fn == nil {
			t.Fatalf("no function %s", c.fn)
		}
		got, err := fn(c.args)
		if err != nil {
			got = "!" + err.Error()
			if _, ok := ErrorState(err.Error()); !ok && err.Error() != "division by zero" {
				t.Errorf("%s%q: no SQLSTATE for %q", c.fn, c.args, err)
			}
		}
		if fmt.Sprintf("%T %v", got, got) != fmt.Sprintf("%T %v", c.want, c.want) {
			t.Errorf("%s%q = %#v, want %#v", c.fn, c.args, got, c.want)
		}
	}
}

// TestShaFunctions checks the digests against their known values.
func TestShaFunctions(t *testing.T) {
	byName := map[string]func([]any) (any, error){}
	for _, f := range Functions() {
		byName[f.Name] = f.Fn
	}
	for fn, want := range map[string]string{
		"sha224": "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
		"sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"sha384": "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
		"sha512": "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
	} {
		got, err := byName[fn]([]any{"abc"})
		if err != nil || hex.EncodeToString(got.([]byte)) != want {
			t.Errorf("%s('abc') = %x, %v; want %s", fn, got, err, want)
		}
	}
	if got, _ := byName["sha256"]([]any{nil}); got != nil {
		t.Errorf("sha256(NULL) = %v, want NULL", got)
	}
}

// TestPgFunctionsBounded checks that a function asked for a result longer
// than SQLite holds refuses before it allocates it.
func TestPgFunctionsBounded(t *testing.T) {
	byName := map[string]func([]any) (any, error){}
	for _, f := range Functions() {
		byName[f.Name] = f.Fn
	}
	big := strings.Repeat("x", 1<<20)
	for _, c := range []struct {
		fn   string
		args []any
	}{
		{"repeat", []any{big, int64(1 << 20)}},
		{"repeat", []any{"x", int64(maxResult + 1)}},
		{"format", []any{"%1000000000s", "x"}},
	} {
		if _, err := byName[c.fn](c.args); err == nil || err.Error() != "requested length too large" {
			t.Errorf("%s: err %v, want requested length too large", c.fn, err)
		}
	}
}
