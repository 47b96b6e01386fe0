package pgsql

import (
	"fmt"
	"strings"
	"testing"
)

// TestPrepareExecute parses PREPARE and EXECUTE, and binds an EXECUTE's
// arguments into the prepared text.
func TestPrepareExecute(t *testing.T) {
	for _, c := range []struct{ sql, want string }{
		{"PREPARE p1 (int, text) AS SELECT $1 + 1, $2", `p1 [int4 text] "SELECT $1 + 1, $2"`},
		{`PREPARE "Q" AS INSERT INTO t (a) VALUES ($1) RETURNING id;`, `Q [] "INSERT INTO t (a) VALUES ($1) RETURNING id"`},
		{"prepare q as with x as (select 1) select * from x", `q [] "with x as (select 1) select * from x"`},
		{"PREPARE q AS SET x = 1", `!! 42601 syntax error at or near "SET" @14`},
		{"PREPARE q (int", `!! 42601 syntax error at end of input @15`},
		{"PREPARE AS SELECT 1", `!! 42601 syntax error at or near "SELECT" @12`},
		{"EXECUTE p1(5, 'a,b')", `p1 ["5" "'a,b'"]`},
		{"EXECUTE p1 (f(1, 2), (3))", `p1 ["f(1, 2)" "(3)"]`},
		{"EXECUTE P1", `p1 []`},
		{"EXECUTE p1()", `p1 []`},
		{"EXECUTE p1(1,)", `!! 42601 syntax error at or near ")" @14`},
		{"EXECUTE p1(1) x", `!! 42601 syntax error at or near "x" @15`},
	} {
		st := Parse(c.sql)
		var got string
		switch {
		case st.Err != nil:
			got = fmt.Sprintf("!! %s %s @%d", st.Err.Code, st.Err.Message, st.Err.Position)
		case st.Prepare != nil:
			got = fmt.Sprintf("%s %v %q", st.Prepare.Name, st.Prepare.Types, st.Prepare.Body)
		case st.Execute != nil:
			got = fmt.Sprintf("%s %q", st.Execute.Name, st.Execute.Args)
		}
		if st.Kind != Session {
			t.Errorf("%s: kind %v", c.sql, st.Kind)
		}
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.sql, got, c.want)
		}
	}
	for _, c := range []struct {
		body        string
		types, args []string
		want        string
	}{
		{"SELECT $1 + $2, '$1', $$ $2 $$", []string{"int4"}, []string{"'5'", "x"}, "SELECT ('5')::int4 + (x), '$1', $$ $2 $$"},
		{"SELECT 1", nil, nil, "SELECT 1"},
		{"UPDATE t SET a = $1 WHERE id = $1", nil, []string{"$3"}, "UPDATE t SET a = ($3) WHERE id = ($3)"},
	} {
		if got := Bind(c.body, c.types, c.args); got != c.want {
			t.Errorf("Bind(%q) = %q, want %q", c.body, got, c.want)
		}
	}
}

func TestInsertTable(t *testing.T) {
	for _, c := range []struct{ sql, table, with string }{
		{"INSERT INTO t VALUES (DEFAULT, f(1, 2), 'x')", "t", `INSERT INTO t ("a", "b", "c") VALUES (DEFAULT, f(1, 2), 'x')`},
		{`insert into public."T" values (1)`, `public."T"`, `insert into public."T" ("a") values (1)`},
		{"INSERT INTO t (a) VALUES (1)", "", ""},
		{"INSERT INTO t SELECT 1", "", ""},
	} {
		st := Parse(c.sql)
		table, at, n, ok := st.InsertTable()
		if !ok {
			if c.table != "" {
				t.Errorf("%s: not found", c.sql)
			}
			continue
		}
		if got := st.WithColumns(at, []string{"a", "b", "c"}[:n]); table != c.table || got != c.with {
			t.Errorf("%s: %q %q, want %q %q", c.sql, table, got, c.table, c.with)
		}
	}
}

// A multi-row INSERT that gives DEFAULT for a column in some rows only is
// refused, naming what its caller must fill in, and WithDefaults fills it.
func TestWithDefaults(t *testing.T) {
	st := Parse(`INSERT INTO public."posts"("title", "meta", "views", "authorId") VALUES ($1, $2, DEFAULT, $3), ($4, DEFAULT, DEFAULT, $5) RETURNING "id"`)
	table, cols, ok := st.DefaultsWanted()
	if !ok || st.Err == nil || table != `public."posts"` || strings.Join(cols, ",") != "meta" {
		t.Fatalf("DefaultsWanted: %q %q %v (err %v)", table, cols, ok, st.Err)
	}
	got := st.WithDefaults(map[string]string{"meta": "'{}'"})
	want := `INSERT INTO public."posts"("title", "meta", "views", "authorId") VALUES ($1, $2, DEFAULT, $3), ($4, ('{}'), DEFAULT, $5) RETURNING "id"`
	if got != want {
		t.Fatalf("WithDefaults:\n got %s\nwant %s", got, want)
	}
	if again := Parse(got); again.Err != nil || strings.Contains(again.SQL, "views") || strings.Contains(again.SQL, "DEFAULT") {
		t.Fatalf("parsed again: %v %s", again.Err, again.SQL)
	}
	if got := Parse(`INSERT INTO t (a, b) VALUES (DEFAULT, 1), (2, DEFAULT)`).WithDefaults(nil); got != `INSERT INTO t (a, b) VALUES (NULL, 1), (2, NULL)` {
		t.Fatalf("no defaults known: %s", got)
	}
	if _, _, ok := Parse(`INSERT INTO t (a) VALUES (DEFAULT), (DEFAULT)`).DefaultsWanted(); ok {
		t.Fatal("DEFAULT in every row wants nothing")
	}
}
