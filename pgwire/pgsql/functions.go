package pgsql

import (
	"fmt"
	"regexp"
	"slices"
	"sync"
)

// Function is a SQL function the translated text calls, written in Go;
// the server adds them to SQLite. Each is deterministic, so writes may call
// it on every node.
type Function struct {
	Name    string
	NumArgs int
	Fn      func(args []any) (any, error)
}

// Functions returns the functions the SQLite text of statements may call:
// regexp(pattern, value), behind SQLite's REGEXP operator (Postgres' ~,
// ~*, !~ and !~*, in Go's RE2 syntax, which agrees with Postgres' on the
// common cases); _pg_divisor(x), around the divisor of / and %, which
// fails with "division by zero" on 0 (divide.go); _pg_series_step(s), on
// a step of generate_series that is no literal, which refuses 0
// (series.go); _pg_array(a), an array parameter or literal as the JSON
// array json_each reads, for = ANY, and _pg_array_text(j), behind
// array_agg (anyarray.go); to_char(value, format)
// for timestamps and numbers (tochar.go); lpad, rpad and md5
// (sqlfuncs.go); _pg_json_text(j), behind ->> (jsonop.go); and Postgres'
// string, math and JSON functions that SQLite lacks or has with another
// meaning (pgfuncs.go), those behind jsonb's @>, <@, ?, ?| and ?&
// (jsonbops.go), and jsonb's ||, -, jsonb_set and jsonb_insert
// (jsonbedit.go).
func Functions() []Function {
	return append([]Function{
		{Name: "regexp", NumArgs: 2, Fn: regexpFunc},
		{Name: divisorFunc, NumArgs: 1, Fn: divisorGuard},
		{Name: seriesStepFunc, NumArgs: 1, Fn: seriesStepGuard},
		{Name: arrayFunc, NumArgs: 1, Fn: arrayJSON},
		{Name: arrayTextFunc, NumArgs: 1, Fn: arrayFromJSON},
		{Name: "to_char", NumArgs: 2, Fn: toCharFunc},
		{Name: "lpad", NumArgs: -1, Fn: pad(true)},
		{Name: "rpad", NumArgs: -1, Fn: pad(false)},
		{Name: "md5", NumArgs: 1, Fn: md5Func},
		{Name: jsonTextFunc, NumArgs: 1, Fn: jsonText},
	}, slices.Concat(pgFunctions(), jsonbFunctions(), jsonbEditFunctions())...)
}

var (
	regexpMu    sync.Mutex
	regexpCache = map[string]*regexp.Regexp{}
)

const maxCachedRegexps = 256

func regexpFunc(args []any) (any, error) {
	if args[0] == nil || args[1] == nil {
		return nil, nil
	}
	pattern := fmt.Sprint(textOf(args[0]))
	regexpMu.Lock()
	re, ok := regexpCache[pattern]
	regexpMu.Unlock()
	if !ok {
		var err error
		re, err = regexp.Compile(pattern)
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression: %v", err)
		}
		regexpMu.Lock()
		if len(regexpCache) >= maxCachedRegexps {
			clear(regexpCache)
		}
		regexpCache[pattern] = re
		regexpMu.Unlock()
	}
	if re.MatchString(textOf(args[1])) {
		return int64(1), nil
	}
	return int64(0), nil
}

func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}
