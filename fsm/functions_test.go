package fsm

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/raftsql/raftsql/fsm/command"
)

// TestFunctions checks that Go functions from Config are on the write
// connection and the readers, with every value type, and that an error
// fails the statement.
func TestFunctions(t *testing.T) {
	double := Func{Name: "twice", NArgs: 1, Fn: func(args []any) (any, error) {
		switch v := args[0].(type) {
		case int64:
			return v * 2, nil
		case float64:
			return v * 2, nil
		case string:
			return v + v, nil
		case []byte:
			return append(append([]byte{}, v...), v...), nil
		case nil:
			return nil, nil
		}
		return nil, errors.New("unexpected")
	}}
	fail := Func{Name: "refuse", NArgs: -1, Fn: func([]any) (any, error) { return nil, errors.New("refused on purpose") }}
	f, err := Open(Config{Dir: t.TempDir(), ReadConns: 1, Funcs: []Func{double, fail},
		OnFatal: func(err error) { t.Errorf("fatal: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t (a, b, c, d, e)", "INSERT INTO t VALUES (twice(21), twice(1.25), twice('ab'), twice(x'01'), twice(NULL))")
	r := a.exec(t, "INSERT INTO t VALUES (refuse(1), 0, 0, 0, 0)")
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "refused on purpose") {
		t.Errorf("a failing function gave %v", err)
	}
	res, err := f.Query(context.Background(), []command.Statement{{SQL: "SELECT a, b, c, hex(d), e IS NULL, twice(a) FROM t"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	got := describe(res)
	for _, want := range []string{"42", "2.5", "abab", "0101", "84"} {
		if !strings.Contains(got, want) {
			t.Errorf("result %s lacks %s", got, want)
		}
	}
}
