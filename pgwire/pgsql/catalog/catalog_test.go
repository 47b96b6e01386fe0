package catalog

import (
	"database/sql"
	"database/sql/driver"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"modernc.org/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixture is the schema the golden tests describe.
const fixture = `
CREATE TABLE fruit (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(10,2) DEFAULT 0, code VARCHAR(8) UNIQUE);
CREATE INDEX fruit_name ON fruit (name);
CREATE TABLE basket (fruit INTEGER REFERENCES fruit ON DELETE CASCADE, n INTEGER DEFAULT 1, label TEXT, UNIQUE (fruit));
CREATE TABLE pair (a INTEGER, b TEXT, PRIMARY KEY (a, b));
CREATE TABLE loaded (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);
CREATE UNIQUE INDEX loaded_pkey ON loaded (id);
CREATE TABLE added (code TEXT NOT NULL, n INTEGER);
CREATE UNIQUE INDEX added_pkey ON added (code);
CREATE VIEW named AS SELECT name FROM fruit;
`

var registerOnce sync.Once

// openFixture opens an in-memory database with the fixture schema and the
// catalog views, as a read connection of the state machine has them.
func openFixture(t testing.TB) *sql.DB {
	t.Helper()
	registerOnce.Do(func() {
		for _, f := range Funcs("PostgreSQL 15.0 (raftsql test)") {
			fn := f.Fn
			err := sqlite.RegisterDeterministicScalarFunction(f.Name, int32(f.NArgs), func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
				a := make([]any, len(args))
				for i, v := range args {
					a[i] = v
				}
				return fn(a)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	db, err := sql.Open("sqlite", "file:"+t.Name()+"?mode=memory&cache=private")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(fixture); err != nil {
		t.Fatal(err)
	}
	for _, s := range InitSQL("15.0", "150000") {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	return db
}

var testEnv = Env{User: "alice", Database: "shop"}

// query rewrites q and runs it, returning the rows as text, one line each.
func query(t testing.TB, db *sql.DB, q string, args ...any) (string, error) {
	t.Helper()
	rw, _, err := Rewrite(q, testEnv)
	if err != nil {
		return "", err
	}
	rows, err := db.Query(rw, args...)
	if err != nil {
		return "", fmt.Errorf("%v\nrewritten: %s", err, rw)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		for i, v := range vals {
			if i > 0 {
				b.WriteString(" | ")
			}
			switch x := v.(type) {
			case nil:
				b.WriteString("NULL")
			case []byte:
				b.WriteString(string(x))
			default:
				fmt.Fprint(&b, x)
			}
		}
		b.WriteByte('\n')
	}
	return b.String(), rows.Err()
}

// TestGolden runs the queries of testdata/queries.sql (separated by lines
// of "----") against the fixture, and compares their rows with
// testdata/queries.golden.
func TestGolden(t *testing.T) {
	db := openFixture(t)
	src, err := os.ReadFile(filepath.Join("testdata", "queries.sql"))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, q := range strings.Split(string(src), "\n----\n") {
		q = strings.TrimSpace(q)
		if q == "" {
			continue
		}
		res, err := query(t, db, q)
		if err != nil {
			res = "ERROR: " + err.Error() + "\n"
		}
		fmt.Fprintf(&out, "%s\n==>\n%s----\n", q, res)
	}
	golden := filepath.Join("testdata", "queries.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("results differ from %s (go test -run TestGolden -update to rewrite):\n%s", golden, got)
	}
}
