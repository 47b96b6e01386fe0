package pgsql

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that the front end never panics, that an error's
// position is inside the statement, and that the SQLite text it makes
// either runs or fails with SQLite's error, never a crash.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"SELECT 1", "SELECT '5'::int, $1::text", "INSERT INTO t (a, b) VALUES (DEFAULT, $1)",
		"SELECT * FROM t WHERE b ~* 'x' FOR UPDATE", "SELECT E'\\x41', $$a$$ FROM public.t FETCH FIRST 2 ROWS ONLY",
		"SELECT ts + interval '1 day', extract(epoch from ts), date_trunc('day', ts) FROM t",
		"SELECT CAST(a AS date), now(), current_user, gen_random_uuid() FROM t", "BEGIN READ ONLY; COMMIT",
		"SELECT a AS x, count(*) FROM t GROUP BY 1 OFFSET 1 ROWS", "SELECT ((((a::int)))::text) FROM t",
		`SET LOCAL search_path TO "$user", public`, "SET TIME ZONE -2", `SHOW "a".b`, "DEALLOCATE PREPARE x",
		"SELECT pg_catalog.set_config('a', E'b', false)", "LOCK TABLE a, b IN ACCESS SHARE MODE NOWAIT",
		"COPY t (a) FROM STDIN WITH (FORMAT csv, DELIMITER ';', NULL '')", "COPY (SELECT 1) TO STDOUT CSV HEADER QUOTE AS ''''",
		"SELECT pg_catalog.setval('public.s', -3, false) AS v", "SELECT pg_advisory_lock(1), pg_try_advisory_xact_lock_shared(CAST($1 AS int), -2::int4) x",
		"SELECT a / -b::int % (c / 2) FROM t", "SELECT x FROM generate_series(1, $1, -2) AS g(x) WHERE x = ANY('{1,2}'::int[])",
		"PREPARE p (int) AS SELECT $1", "EXECUTE p(1, (2))", "SELECT to_char(ts, 'YYYY'), has_table_privilege('t', 'x') FROM t",
		"CREATE TABLE z (a text[])",
		"SELECT array_agg(DISTINCT a ORDER BY a), (SELECT max(b) FROM t), CASE WHEN a > 1 THEN b ELSE c END::text FROM t",
		"SELECT interval '1 day', (a), array_agg(a) OVER () FROM t",
		"SELECT DISTINCT ON (a, 2) a AS k, b FROM t WHERE a > $1 ORDER BY k, 2 DESC NULLS LAST LIMIT 1",
		"SELECT -a ^ 2 ^ b, |/ a + 1, ||/ -8, @ -a, x #>> '{a,1}', x #> '{b}' FROM t",
		"UPDATE t SET x = x::jsonb || jsonb_build_object('n', a) - 'old' - 1, y = jsonb_set(x, '{a,0}', $1, false) || $2::jsonb",
		"DELETE FROM ONLY s.t AS a USING u, (SELECT 1) v WHERE a.id = u.id AND (u.x = $1) RETURNING a.id, *", "DELETE FROM t USING",
		"SELECT x @> '{\"a\":1}', x <@ $1, x -> 'a' ? 'k', x ?| '{a,b}', NOT x ?& $2 FROM t WHERE x @> '[]'",
		"SELECT repeat(b, 2), split_part(b, ',', -1), format('%s %I %L', a, b, c), pg_typeof(now()) FROM t",
		"SELECT date_trunc('day', '2026-01-01 10:00'::timestamptz::date), extract(hour from now()) AT TIME ZONE 'x', current_user FROM t",
		"SELECT max(ts), sum(t.a) s, timezone('utc', ts), CURRENT_TIMESTAMP(3), 1.50 FROM t JOIN u ON true WHERE a > 1",
		"SELECT n, x.a FROM (VALUES (1, 'a')) s(n, m) JOIN (SELECT a FROM t) AS x(\"a\") ON true",
		"INSERT INTO t (a, b) VALUES ($1, 'x') RETURNING id", "INSERT INTO t VALUES ('1', E'\\x'), ('2', 'y') ON CONFLICT (a) DO UPDATE SET b = 'n'",
		"DELETE FROM t WHERE b IN ('t', 'f') AND c NOT IN ('x') OR 'y' <= d", "SELECT * FROM t JOIN u ON u.a = 'x' WHERE t.b <> 'y'", "UPDATE t AS u SET b = $1, a = a + 1 WHERE u.id = 3 AND b = 'k'",
		"CREATE TABLE s (a text CHECK (left(a, -2) <> right(a, $1) AND starts_with(a, 'x')), b int DEFAULT concat(1, 2) GENERATED ALWAYS AS (octet_length(a)))",
		"CREATE INDEX i ON t USING btree ((x ->> 'k'), json_typeof(y)) WHERE split_part(b, ',', 1) ~* 'x'",
		"CREATE VIEW v AS SELECT left(b, a), x ->> 0 FROM t; ALTER TABLE t ALTER COLUMN b SET DEFAULT right(b, 2)",
		"SELECT coalesce(max(t.a), 0), sum(DISTINCT b) FILTER (WHERE a > 1) s, lag(a, 1, 0) OVER w, nth_value(x.a, 2) OVER () FROM t JOIN u x ON x.id = t.id WINDOW w AS (ORDER BY id)",
		"WITH w AS (SELECT a FROM t) SELECT max(w.a), min(public.t.a) FROM t, w",
	} {
		f.Add(s)
	}
	db := openSQLite(f)
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 4096 {
			return
		}
		for _, piece := range Split(q) {
			st := Parse(piece.SQL)
			if c := st.Sequence; c != nil && (c.Name == "" || c.Column == "") {
				t.Fatalf("%q: sequence call %+v", piece.SQL, *c)
			}
			for _, c := range st.Advisory {
				if c.Op == 0 || c.Column == "" || (c.Op == AdvisoryUnlockAll) != (len(c.Args) == 0) || len(c.Args) > 2 {
					t.Fatalf("%q: advisory call %+v", piece.SQL, c)
				}
			}
			// What a constraint violation reads of the statement.
			for _, cols := range [][]string{{"a"}, {"id", "b"}} {
				if v, ok := st.Assigned(cols, []string{"id", "a", "b"}); ok != (v != nil) || ok && len(v) != len(cols) {
					t.Fatalf("%q: assigned %v, %v", piece.SQL, v, ok)
				}
				if v, ok := st.Matched(cols); ok != (v != nil) || ok && len(v) != len(cols) {
					t.Fatalf("%q: matched %v, %v", piece.SQL, v, ok)
				}
			}
			// The result columns typed by a table column's type.
			if ag := st.Aggregates; ag != nil {
				if len(ag.Items) == 0 || st.Columns == nil {
					t.Fatalf("%q: aggregates %+v of columns %v", piece.SQL, *ag, st.Columns)
				}
				for _, it := range ag.Items {
					if it.Result < 0 || it.Result >= len(st.Columns) || len(it.Args) == 0 || AggregateType(it.Func, "int4") == "" {
						t.Fatalf("%q: aggregate %+v", piece.SQL, it)
					}
					for _, a := range it.Args {
						if a < 0 || a >= len(ag.Columns) || ag.Columns[a].Table == "" || ag.Columns[a].Column == "" {
							t.Fatalf("%q: aggregate %+v of %v", piece.SQL, it, ag.Columns)
						}
					}
				}
			}
			// The literals a caller converts are string tokens of the
			// text, in order, and replacing none gives the text back.
			at := 0
			for _, l := range st.Literals() {
				if l.start < at || l.end > len(piece.SQL) || piece.SQL[l.end-1] != '\'' || l.Offset != l.start ||
					l.Column.Table == "" || (l.Column.Column == "") != (l.Ordinal >= 0) {
					t.Fatalf("%q: literal %+v", piece.SQL, l)
				}
				at = l.end
			}
			if len(st.Literals()) > 0 && st.WithLiterals(make([]string, len(st.Literals()))) != piece.SQL {
				t.Fatalf("%q: WithLiterals changes the text", piece.SQL)
			}
			if st.Kind == Copy && st.Err == nil && (st.Copy == nil || st.Copy.To != (st.Copy.Query != "")) {
				t.Fatalf("%q: COPY %+v", piece.SQL, st.Copy)
			}
			if st.Err != nil {
				if st.Err.Position < 0 || st.Err.Position > utf8.RuneCountInString(piece.SQL)+1 {
					t.Fatalf("%q: error position %d out of range", piece.SQL, st.Err.Position)
				}
				continue
			}
			if st.Kind != Read && st.Kind != Write || st.NumParams < 0 || st.NumParams > 100 {
				continue
			}
			sql := st.SQLite("u")
			if strings.Contains(sql, "_pg_series") {
				continue // a series may be as long as the input says
			}
			if strings.Contains(strings.ToLower(sql), "pragma") || strings.Contains(strings.ToLower(sql), "attach") ||
				strings.Contains(strings.ToLower(sql), "vacuum") {
				continue
			}
			args := make([]any, st.NumParams)
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			if rows, err := tx.Query(sql, args...); err == nil {
				for n := 0; n < 100 && rows.Next(); n++ {
				}
				rows.Close()
			}
			tx.Rollback()
		}
	})
}
