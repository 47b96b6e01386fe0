package pgsql

import (
	"database/sql"
	"testing"
)

// TestJSONText runs ->> as translated on SQLite: Postgres' text of each
// kind of JSON value.
func TestJSONText(t *testing.T) {
	db := openSQLite(t)
	doc := `{"n": 8, "f": 1.50, "s": "x\"y", "b": true, "z": null, "o": {"k": [1, 2]}, "a": ["p", 3]}`
	for _, tt := range []struct {
		expr string
		want sql.NullString
	}{
		{"$1->>'n'", sql.NullString{String: "8", Valid: true}},
		{"$1->>'f'", sql.NullString{String: "1.50", Valid: true}},
		{"$1->>'s'", sql.NullString{String: `x"y`, Valid: true}},
		{"$1->>'b'", sql.NullString{String: "true", Valid: true}},
		{"$1->>'z'", sql.NullString{}},
		{"$1->>'missing'", sql.NullString{}},
		{"$1->>'o'", sql.NullString{String: `{"k":[1,2]}`, Valid: true}},
		{"$1->'o'->>'k'", sql.NullString{String: `[1,2]`, Valid: true}},
		{"$1->'a'->>0", sql.NullString{String: "p", Valid: true}},
		{"$1->'a'->>1", sql.NullString{String: "3", Valid: true}},
	} {
		st := Parse("SELECT " + tt.expr + " = '8', " + tt.expr)
		if st.Err != nil {
			t.Fatalf("%s: %v", tt.expr, st.Err)
		}
		var eq sql.NullBool
		var got sql.NullString
		if err := db.QueryRow(st.SQLite(""), doc).Scan(&eq, &got); err != nil {
			t.Fatalf("%s (%s): %v", tt.expr, st.SQL, err)
		}
		if got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.expr, got, tt.want)
		}
		if wantEq := tt.want.Valid && tt.want.String == "8"; eq.Bool != wantEq {
			t.Errorf("%s = '8': got %v, want %v", tt.expr, eq, wantEq)
		}
	}
}
