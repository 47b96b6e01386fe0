package pgsql

import (
	"fmt"
	"strings"
	"testing"
)

// TestLiterals: the string literals stored in or compared with a column,
// found in the shapes literals.go reads, and nothing elsewhere.
func TestLiterals(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want string // table.column=value|… (table#ordinal for no column list), in text order
	}{
		{"INSERT INTO t (a, b) VALUES (1, 'x')", "t.b=x"},
		{"insert into public.t AS q (a, \"B\") values (DEFAULT, E'y\\'z'), (DEFAULT, 'w')", "t.B=y'z|t.B=w"},
		{"INSERT INTO t VALUES (1, 'x', NULL, 'it''s')", "t#1=x|t#3=it's"},
		{"INSERT INTO t (a) VALUES ('x') ON CONFLICT (a) DO UPDATE SET b = 'yes', c = excluded.c", "t.a=x|t.b=yes"},
		{"INSERT INTO t (a) VALUES ('x') ON CONFLICT ON CONSTRAINT k DO UPDATE SET b = 'y' WHERE t.c = 'z'", "t.a=x|t.b=y"},
		{"INSERT INTO t (a) VALUES ('x') ON CONFLICT DO NOTHING", "t.a=x"},
		{"INSERT INTO t (a) VALUES ('2024-01-01'::date), (lower('y')), ('z' || 'w')", ""},
		{"INSERT INTO t (a) SELECT 'x'", ""},
		{"UPDATE t SET b = 'no', c = 'x' || 'y' WHERE id = '3' AND b <> 'on' RETURNING 'k'", "t.b=no|t.id=3|t.b=on"},
		{"UPDATE t SET b = 'no' FROM u WHERE u.id = '3'", "t.b=no"},
		{"DELETE FROM t WHERE b IN ('t', 'f') OR c NOT IN ('x') OR d IN ('a', e)", "t.b=t|t.b=f|t.c=x"},
		{"DELETE FROM t WHERE id IN (SELECT id FROM u WHERE b = 'x')", ""},
		{"SELECT * FROM t WHERE b = 'yes' AND 'x' < c AND d LIKE 'z%' AND e = 'q'::text", "t.b=yes|t.c=x"},
		{"SELECT * FROM t a JOIN u ON u.k = 'x' WHERE a.b = 'y' AND c = 'z'", "u.k=x|t.b=y"},
		{"SELECT 'x' FROM t", ""},
		{"SELECT * FROM t WHERE b = 'x' UNION SELECT * FROM u WHERE c = 'y'", ""},
		{"SELECT * FROM t WHERE b = $1", ""},
	} {
		st := Parse(tc.sql)
		if st.Err != nil {
			t.Fatalf("%s: %v", tc.sql, st.Err)
		}
		var got []string
		for _, l := range st.Literals() {
			if l.Column.Column == "" {
				got = append(got, fmt.Sprintf("%s#%d=%s", l.Column.Table, l.Ordinal, l.Value))
			} else {
				got = append(got, fmt.Sprintf("%s.%s=%s", l.Column.Table, l.Column.Column, l.Value))
			}
		}
		if g := strings.Join(got, "|"); g != tc.want {
			t.Errorf("%s: literals %q, want %q", tc.sql, g, tc.want)
		}
	}
}

// TestWithLiterals: each literal replaced as asked, the others and the
// rest of the text as written; the rows and positions as the text has
// them.
func TestWithLiterals(t *testing.T) {
	st := Parse("INSERT INTO t (id, b) VALUES ('1', 'yes'), ('2', 'é')")
	if len(st.Literals()) != 4 {
		t.Fatalf("literals %+v", st.Literals())
	}
	if l := st.Literals()[3]; l.Row() != 1 || l.Offset != 49 || l.Value != "é" {
		t.Errorf("last literal: row %d at %d, %q", l.Row(), l.Offset, l.Value)
	}
	got := st.WithLiterals([]string{"1", "true", "", "'e'"})
	if want := "INSERT INTO t (id, b) VALUES (1, true), ('2', 'e')"; got != want {
		t.Errorf("WithLiterals: %q, want %q", got, want)
	}
	if got := Parse(got); got.Err != nil || !strings.Contains(got.SQL, "(1, 1)") && !strings.Contains(strings.ToLower(got.SQL), "(1, true)") {
		t.Errorf("parsed again: %q %v", got.SQL, got.Err)
	}
}

// TestWithLiteralsApart: a replacement does not run into the word or
// operator before it.
func TestWithLiteralsApart(t *testing.T) {
	st := Parse("SELECT * FROM t WHERE'x'=b AND n<>'-5'")
	got := st.WithLiterals([]string{"true", "-5"})
	if want := "SELECT * FROM t WHERE true=b AND n<> -5"; got != want {
		t.Errorf("WithLiterals: %q, want %q", got, want)
	}
}
