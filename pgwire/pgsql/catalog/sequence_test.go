package catalog

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
)

// queryIn is query with the rewrite's Env.Sequences answering has, and
// counting how often it was asked.
func queryIn(t *testing.T, db *sql.DB, has bool, asked *int, q string) string {
	t.Helper()
	env := testEnv
	env.Sequences = func() bool { *asked++; return has }
	rw, _, err := Rewrite(q, env)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	rows, err := db.Query(rw)
	if err != nil {
		t.Fatalf("%s: %v\nrewritten: %s", q, err, rw)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			parts = append(parts, fmt.Sprint(v))
		}
		lines = append(lines, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// TestSequences: the sequences of CREATE SEQUENCE (rows of pgwire's
// raftsql_sequences) are relations of kind S in pg_class, rows of
// pg_sequence and information_schema.sequences, once the rewrite is told
// the table is there; before, the same queries run and list only the
// serials' sequences. raftsql's own tables are no user's tables, and a
// BIGSERIAL or bigint rowid alias is bigint.
func TestSequences(t *testing.T) {
	db := openFixture(t)
	asked := 0
	seqs := "SELECT c.relname, c.relkind FROM pg_catalog.pg_class c WHERE c.relkind = 'S' ORDER BY 1"
	if got := queryIn(t, db, false, &asked, seqs); got != "fruit_id_seq|S\nloaded_id_seq|S" {
		t.Errorf("before any CREATE SEQUENCE: %q", got)
	}
	if asked != 1 {
		t.Errorf("Env.Sequences asked %d times, want 1", asked)
	}
	asked = 0
	if got := queryIn(t, db, false, &asked, "SELECT relname FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid WHERE relname = 'x'"); got != "" || asked != 1 {
		t.Errorf("%q, asked %d", got, asked)
	}
	asked = 0
	if got := queryIn(t, db, false, &asked, "SELECT count(*) FROM pg_catalog.pg_attribute"); got == "" || asked != 0 {
		t.Errorf("a query of no relation that lists sequences asked %d times", asked)
	}

	// No view reads the table of sequences where it is not: SQLite checks
	// every view when a table is renamed.
	for _, s := range []string{"ALTER TABLE pair RENAME TO pair2", "ALTER TABLE pair2 RENAME TO pair"} {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}

	// What pgwire's CREATE SEQUENCE makes, and a table whose key was
	// declared BIGSERIAL.
	for _, s := range []string{
		"CREATE TABLE raftsql_sequences (name TEXT PRIMARY KEY, last_value INTEGER NOT NULL, increment INTEGER NOT NULL, " +
			"min_value INTEGER NOT NULL, max_value INTEGER NOT NULL, is_called INTEGER NOT NULL, start_value INTEGER, " +
			"owned_table TEXT, owned_column TEXT)",
		"INSERT INTO raftsql_sequences VALUES ('orders_seq', 42, 2, 1, 9223372036854775807, 1, 5, 'BIG', 'n')",
		"INSERT INTO raftsql_sequences VALUES ('small_seq', 1, 1, 1, 32767, 0, 1, 'gone', 'n')",
		"INSERT INTO raftsql_sequences VALUES ('down_seq', -1, -1, -2147483648, -1, 0, -1, NULL, NULL)",
		"CREATE TABLE big (id INTEGER PRIMARY KEY AUTOINCREMENT /* raftsql:bigint */, n bigint, s smallint)",
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ q, want string }{
		{seqs, "big_id_seq|S\ndown_seq|S\nfruit_id_seq|S\nloaded_id_seq|S\norders_seq|S\nsmall_seq|S"},
		{"SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcycle " +
			"FROM pg_catalog.pg_sequence s JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid ORDER BY 1",
			"big_id_seq|bigint|1|1|1|9223372036854775807|0\n" +
				"down_seq|integer|-1|-1|-2147483648|-1|0\n" +
				"fruit_id_seq|integer|1|1|1|2147483647|0\n" +
				"loaded_id_seq|integer|1|1|1|2147483647|0\n" +
				"orders_seq|bigint|5|2|1|9223372036854775807|0\n" +
				"small_seq|smallint|1|1|1|32767|0"},
		{"SELECT sequence_name, data_type, start_value, minimum_value, maximum_value, increment, cycle_option " +
			"FROM information_schema.sequences WHERE sequence_name IN ('orders_seq', 'big_id_seq') ORDER BY 1",
			"big_id_seq|bigint|1|1|9223372036854775807|1|NO\norders_seq|bigint|5|1|9223372036854775807|2|NO"},
		{"SELECT 'orders_seq'::regclass::oid = oid, oid::regclass FROM pg_catalog.pg_class WHERE relname = 'orders_seq'", "1|orders_seq"},
		{"SELECT pg_get_serial_sequence('big', 'id'), pg_get_serial_sequence('big', 'n'), pg_get_serial_sequence('big', 's')",
			"public.big_id_seq|public.orders_seq|<nil>"},
		// OWNED BY a column that is there: the column owns the sequence.
		{"SELECT c.relname, d.refobjid = 'big'::regclass, d.refobjsubid, d.deptype FROM pg_catalog.pg_depend d " +
			"JOIN pg_catalog.pg_class c ON c.oid = d.objid WHERE d.refobjid = 'big'::regclass AND d.deptype = 'a' ORDER BY 1",
			"big_id_seq|1|1|a\norders_seq|1|2|a"},
		// The internal table is in no list of tables.
		{"SELECT count(*) FROM pg_catalog.pg_class WHERE relname LIKE 'raftsql%'", "0"},
		{"SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'raftsql%'", "0"},
		{"SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename LIKE 'raftsql%'", "0"},
		{"SELECT count(*) FROM information_schema.columns WHERE table_name LIKE 'raftsql%'", "0"},
		// A BIGSERIAL key is bigint, as the columns SQLite keeps the type of.
		{"SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'big' ORDER BY ordinal_position",
			"id|bigint\nn|bigint\ns|smallint"},
		{"SELECT attname, atttypid FROM pg_catalog.pg_attribute WHERE attrelid = 'big'::regclass AND attnum > 0 ORDER BY attnum",
			"id|20\nn|20\ns|21"},
		{"SELECT attname, atttypid FROM pg_catalog.pg_attribute WHERE attrelid = 'loaded'::regclass AND attnum > 0 ORDER BY attnum",
			"id|23\nv|25"},
	} {
		if got := queryIn(t, db, true, &asked, c.q); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.q, got, c.want)
		}
	}

	// A table made before it had start_value: the start is the first
	// value of the range.
	for _, s := range []string{
		"DROP TABLE raftsql_sequences",
		"CREATE TABLE raftsql_sequences (name TEXT PRIMARY KEY, last_value INTEGER NOT NULL, increment INTEGER NOT NULL, " +
			"min_value INTEGER NOT NULL, max_value INTEGER NOT NULL, is_called INTEGER NOT NULL)",
		"INSERT INTO raftsql_sequences VALUES ('old_seq', 7, 1, 3, 100, 1)",
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	q := "SELECT c.relname, s.seqstart, s.seqmin, s.seqmax FROM pg_catalog.pg_sequence s JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid WHERE c.relname = 'old_seq'"
	if got := queryIn(t, db, true, &asked, q); got != "old_seq|3|3|100" {
		t.Errorf("a table without start_value: %q", got)
	}
}
