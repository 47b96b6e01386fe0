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
		"SELECT a / -b::int % (c / 2) FROM t", "SELECT x FROM generate_series(1, $1, -2) AS g(x) WHERE x = ANY('{1,2}'::int[])",
		"PREPARE p (int) AS SELECT $1", "EXECUTE p(1, (2))", "SELECT to_char(ts, 'YYYY'), has_table_privilege('t', 'x') FROM t",
		"CREATE TABLE z (a text[])",
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
