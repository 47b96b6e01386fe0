package pgsql

import (
	"fmt"
	"strings"
	"testing"
)

// TestDivisionByZero: a zero divisor fails as Postgres fails it, any other
// divides as SQLite does (integer division stays integer).
func TestDivisionByZero(t *testing.T) {
	db := openSQLite(t)
	if _, err := db.Exec("INSERT INTO t (id, a, b, c) VALUES (1, 7, '2', 0.0)"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pg   string
		want string // the value, or "!" for the error
	}{
		{"SELECT 1/0", "!"},
		{"SELECT 1 % 0", "!"},
		{"SELECT 1.5 / 0.0", "!"},
		{"SELECT 1 / '0'", "!"},
		{"SELECT a / c FROM t", "!"},
		{"SELECT a / (a - 7) FROM t", "!"},
		{"SELECT 7/2", "3"},
		{"SELECT a / b FROM t", "3"},
		{"SELECT a % b FROM t", "1"},
		{"SELECT a / -b * 2 FROM t", "-6"},
		{"SELECT a / 2.0 FROM t", "3.5"},
		{"SELECT NULL / 1", "<nil>"},
		{"SELECT (a - 1) / 3 + 1 FROM t", "3"},
	} {
		st := Parse(c.pg)
		if st.Err != nil {
			t.Fatalf("%s: %v", c.pg, st.Err)
		}
		var got any
		err := db.QueryRow(st.SQL).Scan(&got)
		switch {
		case c.want == "!":
			if err == nil || !strings.Contains(err.Error(), "division by zero") {
				t.Errorf("%s (%s): got %v, %v, want division by zero", c.pg, st.SQL, got, err)
			}
		case err != nil:
			t.Errorf("%s (%s): %v", c.pg, st.SQL, err)
		case fmt.Sprint(got) != c.want:
			t.Errorf("%s (%s) = %v, want %s", c.pg, st.SQL, got, c.want)
		}
	}
	// A write applies nothing.
	if _, err := db.Exec(Parse("UPDATE t SET a = a / c").SQL); err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Errorf("UPDATE … a / 0: %v", err)
	}
	var a int
	if err := db.QueryRow("SELECT a FROM t").Scan(&a); err != nil || a != 7 {
		t.Errorf("after the failed UPDATE: a = %d, %v", a, err)
	}
}
