package pgsql

import (
	"database/sql"
	"strings"
	"testing"
)

// TestJSONBOperators runs @>, <@, ?, ?| and ?& as translated on SQLite,
// with the answers PostgreSQL gives (its documentation's examples among
// them).
func TestJSONBOperators(t *testing.T) {
	db := openSQLite(t)
	for _, tt := range []struct {
		expr string
		want sql.NullBool
	}{
		{`'{"a":1, "b":2}' @> '{"b":2}'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"b":2}' <@ '{"a":1, "b":2}'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"a":1}' @> '{"a":1, "b":2}'`, sql.NullBool{Valid: true}},
		{`'{"a":{"b":[1,2,3]}}' @> '{"a":{"b":[3,1]}}'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"a":[1,2]}' @> '{"a":1}'`, sql.NullBool{Valid: true}},   // a scalar in an array only at the top
		{`'[1, 2, [1, 3]]' @> '[1, 3]'`, sql.NullBool{Valid: true}}, // 3 is not an element
		{`'[1, 2, [1, 3]]' @> '[[1, 3]]'`, sql.NullBool{Bool: true, Valid: true}},
		{`'["foo", "bar"]' @> '"foo"'`, sql.NullBool{Bool: true, Valid: true}},
		{`'"foo"' @> '"foo"'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"n": 1.0}' @> '{"n": 1}'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"n": "1"}' @> '{"n": 1}'`, sql.NullBool{Valid: true}},
		{`'{"a":null}' @> '{"a":null}'`, sql.NullBool{Bool: true, Valid: true}},
		{`'[]' @> '[]'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"a":1}' @> NULL`, sql.NullBool{}},
		{`'{"a":1, "b":2}' ? 'b'`, sql.NullBool{Bool: true, Valid: true}},
		{`'["a", "b", "c"]' ? 'b'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"a":{"b":1}}' ? 'b'`, sql.NullBool{Valid: true}},
		{`'[1, 2]' ? '1'`, sql.NullBool{Valid: true}}, // a string key, not a number
		{`'"k"' ? 'k'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"a":1, "b":2, "c":3}' ?| '{b,d}'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"a":1}' ?| '{b,d}'`, sql.NullBool{Valid: true}},
		{`'["a", "b", "c"]' ?& '{a,b}'`, sql.NullBool{Bool: true, Valid: true}},
		{`'["a", "b", "c"]' ?& '{a,d}'`, sql.NullBool{Valid: true}},
		{`'{"a":1}' ?& '{}'`, sql.NullBool{Bool: true, Valid: true}},
		{`'{"a":1}' ?| '{}'`, sql.NullBool{Valid: true}},
		{`'{"a":{"k":1}}' -> 'a' ? 'k'`, sql.NullBool{Bool: true, Valid: true}},
	} {
		st := Parse("SELECT " + tt.expr)
		if st.Err != nil {
			t.Fatalf("%s: %v", tt.expr, st.Err)
		}
		var got sql.NullBool
		if err := db.QueryRow(st.SQLite("")).Scan(&got); err != nil {
			t.Fatalf("%s (%s): %v", tt.expr, st.SQL, err)
		}
		if got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.expr, got, tt.want)
		}
	}
	st := Parse(`SELECT '{bad' @> '{}'`)
	if err := db.QueryRow(st.SQLite("")).Scan(new(sql.NullBool)); err == nil || !strings.Contains(err.Error(), "invalid input syntax for type json") {
		t.Errorf("malformed JSON: %v", err)
	}
}

// TestJSONBEdits runs ||, -, jsonb_set and jsonb_insert as translated on
// SQLite: Postgres' answers, printed as Postgres prints a jsonb.
func TestJSONBEdits(t *testing.T) {
	db := openSQLite(t)
	for _, tt := range []struct{ expr, want string }{
		{`'{"a":1,"b":2}'::jsonb || '{"b":3,"cc":4}'`, `{"a": 1, "b": 3, "cc": 4}`},
		{`'[1,2]'::jsonb || '[3]'`, `[1, 2, 3]`},
		{`'[1,2]'::jsonb || '3'`, `[1, 2, 3]`},
		{`'{"a":1}'::jsonb || '[2]'`, `[{"a": 1}, 2]`},
		{`'"x"'::jsonb || '"y"'::jsonb`, `["x", "y"]`},
		{`jsonb_build_object('k', 'v<&>') || '{"n":null}'`, `{"k": "v<&>", "n": null}`},
		{`'{"a":1,"b":2}'::jsonb - 'a'`, `{"b": 2}`},
		{`'["a","b","a"]'::jsonb - 'a'`, `["b"]`},
		{`'["a","b","c"]'::jsonb - 1`, `["a", "c"]`},
		{`'["a","b","c"]'::jsonb - -1`, `["a", "b"]`},
		{`'{"a":1}'::jsonb || '{"b":{"c":2}}'::jsonb - 'a'`, `{"a": 1, "b": {"c": 2}}`}, // - binds tighter
		{`jsonb_set('[{"f1":1,"f2":null},2,null,3]', '{0,f1}', '[2,3,4]', false)`, `[{"f1": [2, 3, 4], "f2": null}, 2, null, 3]`},
		{`jsonb_set('[{"f1":1,"f2":null},2]', '{0,f3}', '[2,3,4]')`, `[{"f1": 1, "f2": null, "f3": [2, 3, 4]}, 2]`},
		{`jsonb_set('{"a":1}', '{b,c}', '2')`, `{"a": 1}`}, // only the last step is created
		{`jsonb_set('{"a":[1,2]}', '{a,9}', '3')`, `{"a": [1, 2, 3]}`},
		{`jsonb_set('{"a":[1,2]}', '{a,-9}', '0')`, `{"a": [0, 1, 2]}`},
		{`jsonb_insert('{"a": [0,1,2]}', '{a, 1}', '"new_value"')`, `{"a": [0, "new_value", 1, 2]}`},
		{`jsonb_insert('{"a": [0,1,2]}', '{a, 1}', '"new_value"', true)`, `{"a": [0, 1, "new_value", 2]}`},
		{`jsonb_insert('{"a": {"b": "value"}}', '{a, c}', '"new_value"')`, `{"a": {"b": "value", "c": "new_value"}}`},
	} {
		st := Parse("SELECT " + tt.expr)
		if st.Err != nil {
			t.Fatalf("%s: %v", tt.expr, st.Err)
		}
		var got sql.NullString
		if err := db.QueryRow(st.SQLite("")).Scan(&got); err != nil {
			t.Fatalf("%s (%s): %v", tt.expr, st.SQL, err)
		}
		if got.String != tt.want {
			t.Errorf("%s (%s): got %s, want %s", tt.expr, st.SQL, got.String, tt.want)
		}
	}
	for expr, msg := range map[string]string{
		`jsonb_insert('{"a": {"b": 1}}', '{a, b}', '2')`: "cannot replace existing key",
		`'"x"'::jsonb - 'x'`:                             "cannot delete from scalar",
		`jsonb_set('1', '{a}', '2')`:                     "cannot set path in scalar",
	} {
		st := Parse("SELECT " + expr)
		if err := db.QueryRow(st.SQLite("")).Scan(new(sql.NullString)); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want %q", expr, err, msg)
		}
	}
}
