package pgsql

import "testing"

// TestToChar checks to_char against what Postgres 15 answers.
func TestToChar(t *testing.T) {
	ts := "2024-03-05 14:07:09.123456"
	for _, c := range []struct {
		v      any
		format string
		want   string
	}{
		{ts, "YYYY-MM-DD HH24:MI:SS", "2024-03-05 14:07:09"},
		{ts, "YYYY-MM-DD\"T\"HH24:MI:SS.MS", "2024-03-05T14:07:09.123"},
		{ts, "HH12:MI AM", "02:07 PM"},
		{ts, "Dy, DD Mon YYYY", "Tue, 05 Mar 2024"},
		{ts, "Day Month", "Tuesday   March    "},
		{ts, "FMDay FMMonth FMDD", "Tuesday March 5"},
		{ts, "DDD Q IW D US", "065 1 10 3 123456"},
		{"2024-03-05", "YYYY/MM/DD", "2024/03/05"},
		{int64(1234), "9999", " 1234"},
		{int64(-12), "999", " -12"},
		{int64(5), "000", " 005"},
		{3.14159, "9.99", " 3.14"},
		{3.14159, "FM9.99", "3.14"},
		{int64(1234567), "9,999,999", " 1,234,567"},
		{int64(12345), "999", " ###"},
		{0.5, "0.99", " 0.50"},
		{int64(42), "FM999", "42"},
	} {
		got, err := toCharFunc([]any{c.v, c.format})
		if err != nil || got != c.want {
			t.Errorf("to_char(%v, %q) = %q, %v; want %q", c.v, c.format, got, err, c.want)
		}
	}
	if _, err := toCharFunc([]any{"not a time", "YYYY"}); err == nil {
		t.Error("to_char of a bad timestamp did not fail")
	}
}

// TestKeywordCalls runs position, substring and trim in their SQL-standard
// forms, and lpad, rpad and md5, as Postgres answers them.
func TestKeywordCalls(t *testing.T) {
	db := openSQLite(t)
	for _, c := range []struct{ pg, want string }{
		{"SELECT position('b' in 'abc')", "2"},
		{"SELECT substring('abcdef' from 2 for 3)", "bcd"},
		{"SELECT substring('abcdef' from 3)", "cdef"},
		{"SELECT substring('abcdef' for 2)", "ab"},
		{"SELECT substring('abcdef', 2, 2)", "bc"},
		{"SELECT trim(both 'x' from 'xxaxx')", "a"},
		{"SELECT trim(leading 'x' from 'xxaxx')", "axx"},
		{"SELECT trim(trailing from '  a  ')", "  a"},
		{"SELECT trim('  a  ')", "a"},
		{"SELECT lpad('7', 3, '0')", "007"},
		{"SELECT rpad('ab', 5, 'xy')", "abxyx"},
		{"SELECT lpad('abcdef', 3)", "abc"},
		{"SELECT md5('a')", "0cc175b9c0f1b6a831c399e269772661"},
	} {
		st := Parse(c.pg)
		if st.Err != nil {
			t.Errorf("%s: %v", c.pg, st.Err)
			continue
		}
		var got string
		if err := db.QueryRow(st.SQL).Scan(&got); err != nil || got != c.want {
			t.Errorf("%s (%s) = %q, %v; want %q", c.pg, st.SQL, got, err, c.want)
		}
	}
}
