package catalog

import "testing"

// TestCheckName: a CHECK constraint SQLite reports by name or by
// expression gets the name Postgres gives it, and one the table does not
// have is not named.
func TestCheckName(t *testing.T) {
	const create = `CREATE TABLE t (id INTEGER PRIMARY KEY, a INT CHECK (a > 0), "B" INT CONSTRAINT b_pos CHECK ("B" > 0),
  c INT, CHECK (a < c), CHECK (a  <  100), CHECK (length(c) < 5), CHECK (a <> 7), CONSTRAINT "Odd Name" CHECK (c <> 3))`
	cols := []string{"id", "a", "B", "c"}
	for _, tc := range []struct {
		failed, want string
		ok           bool
	}{
		{"a > 0", "t_a_check", true},
		{"b_pos", "b_pos", true},
		{"a < c", "t_check", true},
		{"a < 100", "t_a_check1", true}, // white space aside, the same text
		{"length(c) < 5", "t_c_check", true},
		{"a <> 7", "t_a_check2", true},
		{"Odd Name", "Odd Name", true},
		{"x > 1", "", false},
		{"nope", "", false},
	} {
		got, ok := CheckName("t", create, cols, tc.failed)
		if got != tc.want || ok != tc.ok {
			t.Errorf("CheckName(%q) = %q, %v; want %q, %v", tc.failed, got, ok, tc.want, tc.ok)
		}
	}
}
