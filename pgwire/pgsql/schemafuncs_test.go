package pgsql

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The SQLite built-ins a stored expression is written as give what the Go
// function the same call runs in a query gives, NULLs, negative counts and
// characters beyond ASCII included.
func TestPortableCallsMatchTheirFunctions(t *testing.T) {
	db := openSQLite(t)
	var exprs []string
	for _, s := range []string{"'héllo'", "''", "NULL", "12345"} {
		for _, n := range []string{"0", "2", "-2", "9", "-9", "NULL", "1 + 1", "-(3)"} {
			exprs = append(exprs, "left("+s+", "+n+")", "right("+s+", "+n+")")
		}
		for _, pre := range []string{"'hé'", "''", "NULL", "'x'", "'héllo!'"} {
			exprs = append(exprs, "starts_with("+s+", "+pre+")")
		}
		exprs = append(exprs, "octet_length("+s+")", "char_length("+s+")", "concat("+s+", NULL, 1, "+s+")")
		for _, n := range []string{"0", "3", "-1", "NULL", "5", "7", "1 + 1"} {
			exprs = append(exprs, "repeat("+s+", "+n+")", "lpad("+s+", "+n+")", "rpad("+s+", "+n+")")
			for _, fill := range []string{"'xé'", "''", "NULL", "'0'"} {
				exprs = append(exprs, "lpad("+s+", "+n+", "+fill+")", "rpad("+s+", "+n+", "+fill+")")
			}
		}
	}
	for _, j := range []string{`'{"k":1}'`, `'[1]'`, `'"s"'`, `'1.5'`, `'7'`, `'true'`, `'false'`, `'null'`, "NULL"} {
		exprs = append(exprs, "json_typeof("+j+")", "("+j+") ->> 'k'", "("+j+") ->> 0")
	}
	exprs = append(exprs, `'{"k":"s"}' ->> 'k'`, `'{"k":null}' ->> 'k'`, `'{"k":[1, 2]}' ->> 'k'`, `'{"k":true}' ->> 'k'`, `'[1.50]' ->> 0`)
	for _, ts := range []string{"'2020-01-01 00:00:00'", "'2024-02-29 12:34:56.789'", "'1969-07-20 20:17:40.5'", "'not a date'", "NULL"} {
		exprs = append(exprs, "extract(epoch from "+ts+")")
	}
	value := func(sql string) string {
		var v any
		if err := db.QueryRow(sql).Scan(&v); err != nil {
			return "error: " + err.Error()
		}
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		return fmt.Sprintf("%T %v", v, v)
	}
	for _, e := range exprs {
		q := Parse("SELECT " + e)
		v := Parse("CREATE VIEW pv AS SELECT " + e)
		if q.Err != nil || v.Err != nil {
			t.Fatalf("%s: %v %v", e, q.Err, v.Err)
		}
		stored, ok := strings.CutPrefix(v.SQL, "CREATE VIEW pv AS ")
		if !ok {
			t.Fatalf("%s: %s", e, v.SQL)
		}
		for _, name := range []string{"left(", "right(", "starts_with(", "octet_length(", "json_typeof(", "concat(", "repeat(", "lpad(", "rpad(", jsonTextFunc + "(", "unixepoch("} {
			if strings.Contains(stored, name) {
				t.Errorf("%s: stored as %s, which calls %s)", e, stored, name)
			}
		}
		// Read again, as a SQL dump loaded through psql is, it stays.
		if again := Parse(v.SQL); again.Err != nil || again.SQL != v.SQL {
			t.Errorf("%s: stored as %s, which translates again to %s (%v)", e, v.SQL, again.SQL, again.Err)
		}
		got, want := value(stored), value(q.SQL)
		if testing.Verbose() {
			t.Logf("%s: %s", e, got)
		}
		if got != want {
			t.Errorf("%s: stored as %s gives %s; the query %s gives %s", e, stored, got, q.SQL, want)
		}
	}
}

// BenchmarkJSONText compares the forms of x ->> 'k' on a scan of 20,000
// rows, each iteration running each once, in turn, so that a machine's
// changing load falls on all alike: the Go function _pg_json_text(x -> 'k')
// that queries called before, the CASE over json_type they and the
// schema's indexes call now, and SQLite's own ->> (another meaning) for
// scale. It reports each one's time as a ratio to the call's
// (docs/BENCHMARKS.md).
func BenchmarkJSONText(b *testing.B) {
	db := openSQLite(b)
	if _, err := db.Exec(`CREATE TABLE jb (j TEXT);
		WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 20000)
		INSERT INTO jb SELECT json_object('email', 'u' || n || '@x.org', 'n', n, 'pad', hex(randomblob(40))) FROM s`); err != nil {
		b.Fatal(err)
	}
	forms := []struct{ name, expr string }{
		{"call", jsonTextFunc + "(j -> 'email')"},
		{"case", jsonTextCase("j", "'email'")},
		{"sqlite", "j ->> 'email'"},
	}
	spent := make([]time.Duration, len(forms))
	for b.Loop() {
		for k, f := range forms {
			t0 := time.Now()
			var n int
			if err := db.QueryRow("SELECT count(*) FROM jb WHERE " + f.expr + " = 'u5@x.org'").Scan(&n); err != nil || n != 1 {
				b.Fatal(n, err)
			}
			spent[k] += time.Since(t0)
		}
	}
	for k, f := range forms[1:] {
		b.ReportMetric(float64(spent[k+1])/float64(spent[0]), f.name+"/call")
	}
}

// A query of x ->> 'k' is written as the index on it is stored, so SQLite
// uses the index.
func TestJSONTextIndexIsUsed(t *testing.T) {
	db := openSQLite(t)
	for _, s := range []string{"CREATE TABLE ji (id integer PRIMARY KEY, data jsonb)", "CREATE INDEX ji_email ON ji ((data ->> 'email'))"} {
		st := Parse(s)
		if st.Err != nil {
			t.Fatal(st.Err)
		}
		if _, err := db.Exec(st.SQL); err != nil {
			t.Fatalf("%s: %v", st.SQL, err)
		}
	}
	q := Parse("SELECT id FROM ji WHERE data ->> 'email' = $1")
	rows, err := db.Query("EXPLAIN QUERY PLAN "+q.SQL, "a@x")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "ji_email") {
		t.Fatalf("plan of %s: %s, want it to use ji_email", q.SQL, p)
	}
}
