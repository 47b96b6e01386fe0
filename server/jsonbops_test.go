package server_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server/servertest"
)

// TestJSONBOperators: jsonb's @>, <@, ?, ?| and ?&, as Django's JSONField
// lookups and ActiveRecord send them, with literals and with parameters,
// in reads and in the WHERE of a write, on every node alike.
func TestJSONBOperators(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lc, fc := connect(t, c, c.Leader()), connect(t, c, c.Follower())
	mustExec(t, lc, "CREATE TABLE docs (id INTEGER PRIMARY KEY, data JSONB NOT NULL, hit BOOLEAN)")
	mustExec(t, fc, `INSERT INTO docs (id, data) VALUES (1, '{"kind":"a","tags":["x","y"],"n":1}'), `+
		`(2, '{"kind":"b","tags":["y"],"n":2.0}'), (3, '{"kind":"a","owner":{"id":7}}'), (4, '["x", "z"]')`)
	ids := func(sql string, args ...any) []int64 {
		t.Helper()
		rows, err := fc.Query(ctx, sql, args...)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			out = append(out, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return out
	}
	for _, tt := range []struct {
		sql  string
		args []any
		want []int64
	}{
		{`SELECT id FROM docs WHERE data @> '{"kind":"a"}' ORDER BY id`, nil, []int64{1, 3}},
		{`SELECT id FROM docs WHERE data @> $1 ORDER BY id`, []any{`{"tags":["y"]}`}, []int64{1, 2}},
		{`SELECT id FROM docs WHERE data @> $1::jsonb ORDER BY id`, []any{`{"n":2}`}, []int64{2}},
		{`SELECT id FROM docs WHERE data @> '{"owner":{"id":7}}'`, nil, []int64{3}},
		{`SELECT id FROM docs WHERE data <@ '{"kind":"a","owner":{"id":7},"extra":1}'`, nil, []int64{3}},
		{`SELECT id FROM docs WHERE data ? 'owner' OR data ? $1 ORDER BY id`, []any{"z"}, []int64{3, 4}},
		{`SELECT id FROM docs WHERE data -> 'tags' ? 'x' ORDER BY id`, nil, []int64{1}},
		{`SELECT id FROM docs WHERE data ?| '{owner,n}' ORDER BY id`, nil, []int64{1, 2, 3}},
		{`SELECT id FROM docs WHERE data ?& '{kind,tags}' ORDER BY id`, nil, []int64{1, 2}},
		{`SELECT id FROM docs WHERE NOT data @> '{"kind":"a"}' ORDER BY id`, nil, []int64{2, 4}},
	} {
		if got := ids(tt.sql, tt.args...); !slices.Equal(got, tt.want) {
			t.Errorf("%s %v: ids %v, want %v", tt.sql, tt.args, got, tt.want)
		}
	}
	var contains, has bool
	if err := fc.QueryRow(ctx, `SELECT '{"a":[1,2]}'::jsonb @> '{"a":[2]}', '{"a":1}'::jsonb ? 'b'`).Scan(&contains, &has); err != nil || !contains || has {
		t.Errorf("the operators' results: %v %v, %v; want true false", contains, has, err)
	}
	// In a write, the same rows on every node.
	mustExec(t, fc, `UPDATE docs SET hit = data @> '{"tags":["x"]}' OR data ? 'x'`)
	for i := range c.Size() {
		conn := connect(t, c, i)
		var got []bool
		rows, err := conn.Query(ctx, "SELECT hit FROM docs ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var b bool
			if err := rows.Scan(&b); err != nil {
				t.Fatal(err)
			}
			got = append(got, b)
		}
		rows.Close()
		if want := []bool{true, false, false, true}; !slices.Equal(got, want) {
			t.Errorf("node %d: hit %v, want %v", i, got, want)
		}
	}
	// ||, - and jsonb_set in a write, with a parameter; read back as Postgres
	// prints a jsonb.
	mustExec(t, fc, `UPDATE docs SET data = data::jsonb || $1::jsonb - 'n' WHERE id = 1`, `{"n":5,"seen":true}`)
	mustExec(t, fc, `UPDATE docs SET data = jsonb_set(data, '{owner,id}', '8') WHERE id = 3`)
	for i := range c.Size() {
		var one, three string
		if err := connect(t, c, i).QueryRow(ctx, "SELECT (SELECT data FROM docs WHERE id = 1), (SELECT data FROM docs WHERE id = 3)").Scan(&one, &three); err != nil {
			t.Fatal(err)
		}
		if want := `{"n": 1, "kind": "a", "seen": true, "tags": ["x", "y"]}`; one != want {
			t.Errorf("node %d: row 1 %s, want %s", i, one, want)
		}
		if want := `{"kind": "a", "owner": {"id": 8}}`; three != want {
			t.Errorf("node %d: row 3 %s, want %s", i, three, want)
		}
	}
	if _, err := fc.Exec(ctx, `SELECT '{bad'::text::jsonb @> '{}'`); pgErr(err) == nil {
		t.Errorf("malformed JSON: %v, want an error", err)
	}
}
