package pgsql

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestValues runs translated statements on SQLite and checks the values
// they give, as Postgres gives them.
func TestValues(t *testing.T) {
	db := openSQLite(t)
	for _, c := range []struct {
		pg   string
		want any
	}{
		{`SELECT '2020-01-01'::date`, "2020-01-01"},
		{`SELECT CAST('2020-01-01' AS date)`, "2020-01-01"},
		{`SELECT '5'::int + 1`, int64(6)},
		{`SELECT '\x00ff'::bytea`, []byte{0, 0xff}},
		{`SELECT E'a\tb'`, "a\tb"},
		{`SELECT $$a'b$$`, "a'b"},
		{`SELECT 'abc' ~ '^a'`, int64(1)},
		{`SELECT 'ABC' ~* 'b'`, int64(1)},
		{`SELECT 'ABC' ~ 'b'`, int64(0)},
		{`SELECT 'abc' !~ 'z'`, int64(1)},
		{`SELECT 'abc' ILIKE 'A%'`, int64(1)},
		{`SELECT greatest(1, 5, 3)`, int64(5)},
		{`SELECT extract(year from '2021-03-04 05:06:07')`, int64(2021)},
		{`SELECT extract(quarter from '2021-08-04')`, int64(3)},
		{`SELECT date_trunc('month', '2021-03-04 05:06:07')`, "2021-03-01 00:00:00"},
		{`SELECT date_trunc('week', '2024-05-09 10:00:00')`, "2024-05-06 00:00:00"},
		{`SELECT '2021-03-04 05:06:07'::timestamp + interval '1 day 2 hours'`, "2021-03-05 07:06:07"},
		{`SELECT 1 IS DISTINCT FROM NULL`, int64(1)},
		{`SELECT 'yes'::boolean`, int64(1)},
		{`SELECT (' Tr ' || '')::boolean`, int64(1)},
		{`SELECT ('ye' || '')::boolean`, int64(1)},
		{`SELECT length(gen_random_uuid())`, int64(36)},
		{`SELECT current_user`, "alice"},
		{`SELECT v FROM (SELECT 1 AS v UNION SELECT 2 UNION SELECT 3) ORDER BY v OFFSET 1 ROWS FETCH FIRST 1 ROW ONLY`, int64(2)},
		{`SELECT array_agg(v) FROM (SELECT 1 AS v UNION ALL SELECT 2 UNION ALL SELECT 3)`, "{1,2,3}"},
		{`SELECT array_agg(v ORDER BY v DESC) FROM (SELECT 1 AS v UNION ALL SELECT 2 UNION ALL SELECT 3)`, "{3,2,1}"},
		{`SELECT array_agg(v) FROM (SELECT 1 AS v UNION ALL SELECT NULL)`, "{1,NULL}"},
		{`SELECT array_agg(DISTINCT v) FROM (SELECT 'a' AS v UNION ALL SELECT 'a' UNION ALL SELECT 'x y')`, `{a,"x y"}`},
		{`SELECT array_agg(v) FROM (SELECT 'q"\' AS v UNION ALL SELECT '' UNION ALL SELECT 'null')`, `{"q\"\\","","null"}`},
		{`SELECT coalesce(array_agg(v), 'none') FROM (SELECT 1 AS v) WHERE v > 1`, "none"},
		{`SELECT array_agg(v::text) FROM (SELECT 1.5 AS v)`, "{1.5}"},
	} {
		st := Parse(c.pg)
		if st.Err != nil {
			t.Errorf("%s: %v", c.pg, st.Err)
			continue
		}
		var got any
		if err := db.QueryRow(st.SQLite("alice")).Scan(&got); err != nil {
			t.Errorf("%s (%s): %v", c.pg, st.SQL, err)
			continue
		}
		if b, ok := got.([]byte); ok {
			if w, ok := c.want.([]byte); ok && bytes.Equal(b, w) {
				continue
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s (%s) = %#v, want %#v", c.pg, st.SQL, got, c.want)
		}
	}
	// gen_random_uuid gives version 4 UUIDs.
	var u string
	if err := db.QueryRow(Parse("SELECT gen_random_uuid()").SQL).Scan(&u); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(u) {
		t.Errorf("gen_random_uuid() = %q", u)
	}
}

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"SELECT 5; SELECT 7", []string{"SELECT 5", "SELECT 7"}},
		{"-- ping", nil},
		{";", nil},
		{"SELECT ';' ; SELECT $$;$$; SELECT E'\\';'", []string{"SELECT ';'", "SELECT $$;$$", "SELECT E'\\';'"}},
		{"/* a; /* b; */ */ SELECT 1 -- c;\n; SELECT \"x;\"", []string{"SELECT 1", "SELECT \"x;\""}},
		{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = CASE WHEN 1 THEN 2 END; SELECT 1; END; SELECT 2",
			[]string{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = CASE WHEN 1 THEN 2 END; SELECT 1; END", "SELECT 2"}},
	} {
		var got []string
		for _, p := range Split(c.in) {
			got = append(got, p.SQL)
			if c.in[p.Offset:p.Offset+len(p.SQL)] != p.SQL {
				t.Errorf("%q: offset %d does not point at %q", c.in, p.Offset, p.SQL)
			}
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("Split(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTx(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Tx
	}{
		{"BEGIN", Tx{Op: TxBegin}},
		{"begin read write", Tx{Op: TxBegin}},
		{"BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE", Tx{Op: TxBegin, ReadOnly: true, Isolation: "SERIALIZABLE"}},
		{"START TRANSACTION ISOLATION LEVEL READ COMMITTED", Tx{Op: TxBegin, Isolation: "READ COMMITTED"}},
		{"BEGIN ISOLATION LEVEL SOMETIMES", Tx{Op: TxBegin, Unsupported: "unknown isolation level"}},
		{"BEGIN IMMEDIATE", Tx{Op: TxBegin}},
		{"COMMIT", Tx{Op: TxCommit}},
		{"END WORK", Tx{Op: TxCommit}},
		{"COMMIT PREPARED 'x'", Tx{Op: TxCommit, Unsupported: "COMMIT PREPARED is not supported"}},
		{"ABORT", Tx{Op: TxRollback}},
		{"ROLLBACK TO SAVEPOINT s1", Tx{Op: TxRollbackTo, Name: "s1"}},
		{"rollback work to s2", Tx{Op: TxRollbackTo, Name: "s2"}},
		{"SAVEPOINT s1", Tx{Op: TxSavepoint, Name: "s1"}},
		{"RELEASE SAVEPOINT s1", Tx{Op: TxRelease, Name: "s1"}},
		{"RELEASE s1", Tx{Op: TxRelease, Name: "s1"}},
	} {
		st := Parse(c.in)
		if st.Kind != TxControl || st.Tx != c.want {
			t.Errorf("%s: kind %v, %+v, want %+v", c.in, st.Kind, st.Tx, c.want)
		}
	}
	if st := Parse("START something"); st.Kind == TxControl {
		t.Errorf("START something is %v", st.Kind)
	}
}

func TestTags(t *testing.T) {
	for _, c := range []struct {
		in       string
		affected int64
		rows     int64
		want     string
	}{
		{"SELECT 1", 0, 1, "SELECT 1"},
		{"INSERT INTO t VALUES (1)", 1, 0, "INSERT 0 1"},
		{"WITH x AS (SELECT 1) UPDATE t SET a = 1", 3, 0, "UPDATE 3"},
		{"DELETE FROM t", 2, 0, "DELETE 2"},
		{"CREATE UNIQUE INDEX i ON t (a)", 0, 0, "CREATE INDEX"},
		{"CREATE MATERIALIZED VIEW v AS SELECT 1", 0, 0, "CREATE MATERIALIZED VIEW"},
		{"DROP TABLE t", 0, 0, "DROP TABLE"},
		{"END", 0, 0, "COMMIT"},
		{"ABORT", 0, 0, "ROLLBACK"},
		{"SELECT a INTO t2 FROM t", 4, 0, "SELECT 4"},
		{"TRUNCATE t", 0, 0, "TRUNCATE TABLE"},
		{"VACUUM", 0, 0, "VACUUM"},
	} {
		if got := Parse(c.in).Tag(c.affected, c.rows, false); got != c.want {
			t.Errorf("%s: tag %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCache(t *testing.T) {
	c := NewCache(2, 100)
	a := c.Parse("SELECT 1")
	if c.Parse("SELECT 1") != a {
		t.Error("a cached statement was parsed again")
	}
	c.Parse("SELECT 2")
	c.Parse("SELECT 3") // evicts SELECT 1, the least recently used
	if c.Len() != 2 {
		t.Errorf("cache holds %d statements, want 2", c.Len())
	}
	if c.Parse("SELECT 1") == a {
		t.Error("the least recently used statement was not evicted")
	}
	long := "SELECT '" + strings.Repeat("x", 200) + "'"
	c.Parse(long)
	if c.Parse(long) == c.Parse(long) {
		t.Error("a statement longer than the cache's limit was cached")
	}
}

func TestPositions(t *testing.T) {
	st := Parse("SELECT 'é', 'abc'::int")
	if st.Err == nil || st.Err.Position != 13 {
		t.Fatalf("error %+v, want one at character 13", st.Err)
	}
}
