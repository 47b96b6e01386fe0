package pgsql

import (
	"strings"
	"testing"
)

// TestSeries runs generate_series as SQLite runs the translation: the rows
// Postgres gives.
func TestSeries(t *testing.T) {
	db := openSQLite(t)
	for _, c := range []struct {
		pg   string
		args []any
		want string
	}{
		{"SELECT group_concat(x) FROM generate_series(1, 5) AS x", nil, "1,2,3,4,5"},
		{"SELECT group_concat(i) FROM generate_series(1, 10, 3) g(i)", nil, "1,4,7,10"},
		{"SELECT group_concat(generate_series) FROM generate_series(5, 1, -2)", nil, "5,3,1"},
		{"SELECT count(*) FROM generate_series(3, 1)", nil, "0"},
		{"SELECT count(*) FROM generate_series(1, NULL)", nil, "0"},
		{"SELECT group_concat(n) FROM generate_series($1, $2, $3) n", []any{10, 4, -3}, "10,7,4"},
		{"SELECT group_concat(d, '|') FROM generate_series('2024-01-30'::timestamp, '2024-02-01', interval '1 day') d", nil,
			"2024-01-30 00:00:00|2024-01-31 00:00:00|2024-02-01 00:00:00"},
		{"SELECT group_concat(d, '|') FROM generate_series('2024-01-01 12:00', '2024-01-01 10:00', interval '-1 hour') d", nil,
			"2024-01-01 12:00:00|2024-01-01 11:00:00|2024-01-01 10:00:00"},
		{"SELECT sum(a.x * b.y) FROM generate_series(1, 3) a(x), generate_series(1, 2) AS b(y)", nil, "18"},
		{"SELECT group_concat(n) FROM (SELECT generate_series(3, 1, -1) AS n)", nil, "3,2,1"},
	} {
		st := Parse(c.pg)
		if st.Err != nil {
			t.Errorf("%s: %v", c.pg, st.Err)
			continue
		}
		var got string
		if err := db.QueryRow(st.SQL, c.args...).Scan(&got); err != nil {
			t.Errorf("%s (%s): %v", c.pg, st.SQL, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s = %q, want %q", c.pg, got, c.want)
		}
	}
	// A step of 0 that is no literal fails instead of looping.
	var n int
	err := db.QueryRow(Parse("SELECT count(*) FROM generate_series(1, 3, $1)").SQL, 0).Scan(&n)
	if err == nil || !strings.Contains(err.Error(), "step size cannot equal zero") {
		t.Errorf("a step of 0: %v", err)
	}
}
