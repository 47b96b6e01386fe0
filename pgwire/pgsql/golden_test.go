package pgsql

import (
	"database/sql"
	"database/sql/driver"
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"modernc.org/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden files with what the front end answers now")

// goldenSchema is the database the translated statements are prepared on.
const goldenSchema = `
CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c REAL, ts TEXT, x TEXT, y TEXT, d BLOB);
CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER, name TEXT);
CREATE TABLE pgbench_accounts (aid INTEGER PRIMARY KEY, bid INTEGER, abalance INTEGER, filler TEXT);
CREATE TABLE pgbench_history (tid INTEGER, bid INTEGER, aid INTEGER, delta INTEGER, mtime TEXT, filler TEXT);
`

var registerOnce sync.Once

// openSQLite opens an in-memory SQLite with the golden schema and the
// front end's functions.
func openSQLite(t testing.TB) *sql.DB {
	t.Helper()
	registerOnce.Do(func() {
		for _, f := range Functions() {
			fn := f.Fn
			err := sqlite.RegisterDeterministicScalarFunction(f.Name, int32(f.NumArgs), func(ctx *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
				in := make([]any, len(args))
				for i, a := range args {
					in[i] = a
				}
				out, err := fn(in)
				if b, ok := out.(bool); ok {
					if b {
						return int64(1), err
					}
					return int64(0), err
				}
				return out, err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(goldenSchema); err != nil {
		t.Fatal(err)
	}
	return db
}

// describe is the golden answer for one statement.
func describe(st *Statement) string {
	var b strings.Builder
	if st.Err != nil {
		fmt.Fprintf(&b, "!! %s %s @%d\n", st.Err.Code, st.Err.Message, st.Err.Position)
	} else {
		fmt.Fprintf(&b, "=> %s\n", st.SQLite("alice"))
	}
	fmt.Fprintf(&b, "kind: %s %s", st.Kind, st.Verb)
	if st.NumParams > 0 {
		var types []string // the types written, nil if none is
		for i, p := range st.Params {
			if p.Type != "" && types == nil {
				types = make([]string, len(st.Params))
			}
			if types != nil {
				types[i] = p.Type
			}
		}
		fmt.Fprintf(&b, ", params: %d %q", st.NumParams, types)
	}
	b.WriteByte('\n')
	if slices.ContainsFunc(st.Params, func(p Param) bool { return p.Column.Column != "" }) {
		b.WriteString("param cols:")
		for _, p := range st.Params {
			if p.Column.Column == "" {
				b.WriteString(" -")
				continue
			}
			fmt.Fprintf(&b, " %s.%s", p.Column.Table, p.Column.Column)
		}
		b.WriteByte('\n')
	}
	if c := st.Session; c != nil {
		fmt.Fprintf(&b, "session: %s\n", fields(*c))
	}
	if c := st.Copy; c != nil {
		fmt.Fprintf(&b, "copy: %s\n", fields(*c))
	}
	if c := st.Sequence; c != nil {
		fmt.Fprintf(&b, "sequence: %s\n", fields(*c))
	}
	for _, c := range st.Advisory {
		c.Prelude = nil // the prelude: line shows it
		fmt.Fprintf(&b, "advisory: %s\n", fields(c))
	}
	if c := st.Prelude(); c != nil {
		fmt.Fprintf(&b, "prelude: %s\n", fields(*c))
	}
	if c := st.Explain; c != nil {
		fmt.Fprintf(&b, "explain: %s\n", fields(*c))
	}
	if st.Columns != nil {
		b.WriteString("cols:")
		for _, c := range st.Columns {
			fmt.Fprintf(&b, " %q", c.Name)
			if c.Type != "" {
				b.WriteString(":" + c.Type)
			}
		}
		b.WriteByte('\n')
	}
	if st.Items != nil {
		b.WriteString("items:")
		for _, c := range st.Items {
			fmt.Fprintf(&b, " %q", c.Name)
			if c.Type != "" {
				b.WriteString(":" + c.Type)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// fields writes a struct's fields that are not zero, bytes as characters.
func fields(v any) string {
	rv := reflect.ValueOf(v)
	var out []string
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Field(i)
		if f.IsZero() {
			continue
		}
		val := fmt.Sprintf("%v", f.Interface())
		switch x := f.Interface().(type) {
		case byte:
			val = strconv.QuoteRune(rune(x))
		case string:
			val = strconv.Quote(x)
		case []string:
			val = fmt.Sprintf("%q", x)
		}
		out = append(out, rv.Type().Field(i).Name+"="+val)
	}
	return strings.Join(out, " ")
}

// TestGolden checks testdata/translate.txt and testdata/commands.txt: each
// case is a Postgres statement, then what the front end makes of it (=>
// the SQLite text, or !! the SQLSTATE, message and position), its kind,
// the parsed forms it carries (session commands, COPY, sequence and
// advisory lock calls) and columns. Every SQLite text is run on SQLite and
// gives no syntax error.
func TestGolden(t *testing.T) {
	for _, path := range []string{"testdata/translate.txt", "testdata/commands.txt", "testdata/schema.txt"} {
		t.Run(path, func(t *testing.T) { golden(t, path) })
	}
}

func golden(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db := openSQLite(t)
	var out strings.Builder
	cases := strings.Split(strings.TrimSpace(string(data)), "\n\n")
	for _, c := range cases {
		lines := strings.Split(c, "\n")
		var comments []string
		for len(lines) > 0 && strings.HasPrefix(lines[0], "#") {
			comments = append(comments, lines[0])
			lines = lines[1:]
		}
		if len(lines) == 0 {
			out.WriteString(strings.Join(comments, "\n") + "\n\n")
			continue
		}
		in := lines[0]
		want := strings.Join(lines[1:], "\n") + "\n"
		st := Parse(in)
		got := describe(st)
		if got != want && !*update {
			t.Errorf("%s\ngot:\n%swant:\n%s", in, got, want)
		}
		for _, cm := range comments {
			out.WriteString(cm + "\n")
		}
		out.WriteString(in + "\n" + got + "\n")
		// commands.txt's statements are answered without SQLite.
		if st.Err == nil && (st.Kind == Read || st.Kind == Write) && !st.selectInto && path != "testdata/commands.txt" {
			args := make([]any, st.NumParams)
			for i := range args {
				args[i] = int64(i + 1)
				if strings.Contains(st.SQL, arrayFunc+"($"+strconv.Itoa(i+1)+")") {
					args[i] = "{1,2}"
				}
			}
			if st.Verb == "SELECT" || st.Verb == "VALUES" {
				rows, err := db.Query(st.SQLite("alice"), args...)
				if err != nil {
					t.Errorf("%s: SQLite: %v", in, err)
					continue
				}
				for rows.Next() {
				}
				if err := rows.Err(); err != nil {
					t.Errorf("%s: SQLite: %v", in, err)
				}
				rows.Close()
			} else if _, err := db.Exec(st.SQLite("alice"), args...); err != nil {
				t.Errorf("%s: SQLite: %v", in, err)
			}
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(strings.TrimSpace(out.String())+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
