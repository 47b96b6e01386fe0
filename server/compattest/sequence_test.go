package compattest

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPsqlSequences: CREATE SEQUENCE, nextval, currval, setval from psql,
// the numbers going on from another node, and a sequence's bound.
func TestPsqlSequences(t *testing.T) {
	need(t, "psql", "--version")
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	psql := func(node int, args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "psql", append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-At"}, append(args, dsnFor(t, node))...)...).CombinedOutput()
		return string(out), err
	}
	path, _ := filepath.Abs("testdata/sequence.sql")
	out, err := psql(cluster.Follower(), "-f", path)
	if want := "1\n2\n2\n41\n42\n10\n5\n0\n"; err != nil || out != want {
		t.Fatalf("psql -f sequence.sql: %v\n%s\nwant\n%s", err, out, want)
	}
	// Another node goes on where the sequence is.
	if out, err := psql(cluster.Leader(), "-c", "SELECT nextval('seq_orders_id_seq')"); err != nil || out != "43\n" {
		t.Errorf("nextval on the leader: %v %q, want 43", err, out)
	}
	if out, err := psql(cluster.Leader(), "-c", "SELECT nextval('seq_down')"); err == nil || !strings.Contains(out, "reached minimum value") {
		t.Errorf("nextval past the bound: %v %q", err, out)
	}
	if out, err := psql(cluster.Leader(), "-c", "SELECT currval('seq_down')"); err == nil || !strings.Contains(out, "not yet defined in this session") {
		t.Errorf("currval in a new session: %v %q", err, out)
	}
	if out, err := psql(cluster.Leader(), "-c", "SELECT nextval('no_such_seq')"); err == nil || !strings.Contains(out, "does not exist") {
		t.Errorf("nextval of a missing sequence: %v %q", err, out)
	}
}

// TestPsqlSerialFromSequence: what pg_dump writes for a serial column —
// CREATE SEQUENCE, OWNED BY, SET DEFAULT nextval, setval — or for an
// identity one (ADD GENERATED … AS IDENTITY), in one transaction, makes
// the column a serial that numbers on from the sequence; a sequence that
// cannot number the column is refused.
func TestPsqlSerialFromSequence(t *testing.T) {
	need(t, "psql", "--version")
	dropTables(t, "sd_items", "sd_tags", "sd_other", "sd_ident")
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	psql := func(node int, args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "psql", append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-At"}, append(args, dsnFor(t, node))...)...).CombinedOutput()
		return string(out), err
	}
	path, _ := filepath.Abs("testdata/serialdefault.sql")
	out, err := psql(cluster.Follower(), "-1", "-f", path)
	if want := "1|f\n7\n8\n8|t\n9\n9\n10\npublic.sd_items_id_seq\n2\n2|t\n2\n3\n"; err != nil || out != want {
		t.Fatalf("psql -1 -f serialdefault.sql: %v\n%s\nwant\n%s", err, out, want)
	}
	if out, err := psql(cluster.Leader(), "-c", "INSERT INTO sd_items (name) VALUES ('e') RETURNING id"); err != nil || out != "11\n" {
		t.Errorf("the next id on the leader: %v %q, want 11", err, out)
	}
	if out, err := psql(cluster.Leader(), "-c", "CREATE TABLE sd_other (id integer NOT NULL)"); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	// Another sequence than the column's own is a DEFAULT of nextval.
	if out, err := psql(cluster.Leader(), "-1", "-c", "DROP SEQUENCE IF EXISTS sd_shared", "-c", "CREATE SEQUENCE sd_shared START 7",
		"-c", "ALTER TABLE sd_other ALTER COLUMN id SET DEFAULT nextval('sd_shared')", "-c", "INSERT INTO sd_other DEFAULT VALUES RETURNING id"); err != nil || out != "7\n" {
		t.Errorf("a DEFAULT of a shared sequence: %v %q", err, out)
	}
	for _, sql := range []string{
		"CREATE SEQUENCE sd_other_id_seq INCREMENT BY 2; ALTER TABLE sd_other ALTER COLUMN id SET DEFAULT nextval('sd_other_id_seq')",
		"SELECT nextval('sd_tags_n_seq')",
	} {
		if out, err := psql(cluster.Leader(), "-1", "-c", sql); err == nil || !strings.Contains(out, "is not supported") {
			t.Errorf("%s: %v %q, want a refusal", sql, err, out)
		}
	}
}

// TestPsqlSequenceCatalog: psql's \ds and \d show a CREATE SEQUENCE
// sequence as Postgres does, and a BIGSERIAL key as bigint; raftsql's own
// table of sequences is no table of \dt or information_schema.tables;
// array_agg and the names of function calls' columns are Postgres'.
func TestPsqlSequenceCatalog(t *testing.T) {
	need(t, "psql", "--version")
	dropTables(t, "sc_big")
	execSQL(t, "DROP SEQUENCE IF EXISTS sc_counter")
	execSQL(t, "CREATE TABLE sc_big (id bigserial PRIMARY KEY, n serial, v bigint)")
	execSQL(t, "CREATE SEQUENCE sc_counter START 100 INCREMENT BY 5 OWNED BY public.sc_big.v")
	execSQL(t, "INSERT INTO sc_big (v) VALUES (7), (8), (9)")
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	psql := func(node int, args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, "psql", append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-F", "|", "-P", "footer=off"},
			append(args, dsnFor(t, node))...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("psql %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	node := cluster.Follower()
	for _, c := range []struct {
		cmd  string
		want []string // lines the output has
		not  []string // text it has not
	}{
		{`\ds sc_*`, []string{"public|sc_big_id_seq|sequence|test", "public|sc_big_n_seq|sequence|test", "public|sc_counter|sequence|test"}, nil},
		{`\d sc_counter`, []string{`Sequence "public.sc_counter"`, "Type|Start|Minimum|Maximum|Increment|Cycles?|Cache",
			"bigint|100|1|9223372036854775807|5|no|1", "Owned by: public.sc_big.v"}, nil},
		{`\d sc_big`, []string{`id|bigint||not null|nextval('sc_big_id_seq'::regclass)`, `n|integer|||nextval('sc_big_n_seq'::regclass)`,
			"v|bigint|||"}, nil},
		{`\d sc_big_id_seq`, []string{"bigint|1|1|9223372036854775807|1|no|1", "Owned by: public.sc_big.id"}, nil},
		{`\dt`, nil, []string{"raftsql_"}},
		{"SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", nil, []string{"raftsql_"}},
		{"SELECT tablename FROM pg_catalog.pg_tables", nil, []string{"raftsql_"}},
		{"SELECT sequence_name, data_type, start_value, increment FROM information_schema.sequences WHERE sequence_name LIKE 'sc%' ORDER BY 1",
			[]string{"sc_big_id_seq|bigint|1|1", "sc_big_n_seq|integer|1|1", "sc_counter|bigint|100|5"}, nil},
		{"SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'sc_big' ORDER BY ordinal_position",
			[]string{"id|bigint", "n|integer", "v|bigint"}, nil},
		{"SELECT attname, atttypid FROM pg_catalog.pg_attribute WHERE attrelid = 'sc_big'::regclass AND attnum > 0 ORDER BY attnum",
			[]string{"id|20", "n|23", "v|20"}, nil},
		{"SELECT s.seqstart, s.seqincrement, s.seqmax, s.seqcycle FROM pg_catalog.pg_sequence s WHERE s.seqrelid = 'sc_counter'::regclass",
			[]string{"100|5|9223372036854775807|f"}, nil},
		{"SELECT relkind FROM pg_catalog.pg_class WHERE relname = 'sc_counter'", []string{"S"}, nil},
		{"SELECT pg_get_serial_sequence('sc_big', 'id')", []string{"public.sc_big_id_seq"}, nil},
		{"SELECT pg_get_serial_sequence('sc_big', 'v')", []string{"public.sc_counter"}, nil},
		{"SELECT array_agg(v ORDER BY v) FROM sc_big", []string{"array_agg", "{7,8,9}"}, nil},
		{"SELECT pg_size_pretty(1024), count(*), coalesce(v, 0), v::text, 1, CASE WHEN v > 8 THEN 'big' END FROM sc_big GROUP BY v ORDER BY v LIMIT 1",
			[]string{"pg_size_pretty|count|coalesce|v|?column?|case"}, nil},
	} {
		out := psql(node, "-c", c.cmd)
		lines := map[string]bool{}
		for _, l := range strings.Split(out, "\n") {
			lines[strings.TrimSpace(l)] = true
		}
		for _, w := range c.want {
			if !lines[w] {
				t.Errorf("%s: no line %q in\n%s", c.cmd, w, out)
			}
		}
		for _, n := range c.not {
			if strings.Contains(out, n) {
				t.Errorf("%s: %q in\n%s", c.cmd, n, out)
			}
		}
	}
}

// TestPsqlSharedSequenceDump: a PostgreSQL dump whose tables share a
// sequence as their DEFAULT loads with psql; the tables then number on
// from the sequence, through DEFAULTs, nextval in VALUES and one number
// per row of INSERT … SELECT, whichever node takes them, and every node
// holds the same rows and sequences.
func TestPsqlSharedSequenceDump(t *testing.T) {
	need(t, "psql", "--version")
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	psql := func(node int, args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "psql", append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-At"}, append(args, dsnFor(t, node))...)...).CombinedOutput()
		return string(out), err
	}
	path, _ := filepath.Abs("testdata/seqshared.sql")
	if out, err := psql(cluster.Follower(), "-f", path); err != nil || out != "\n3\n2\n" {
		t.Fatalf("psql -f seqshared.sql: %v\n%q", err, out)
	}
	for _, c := range []struct {
		node      int
		sql, want string
	}{
		{cluster.Leader(), "INSERT INTO ss_a (name) VALUES ('cy') RETURNING id", "4\n"},
		{cluster.Follower(), "INSERT INTO ss_b (note) VALUES ('second') RETURNING id", "5\n"},
		{cluster.Follower(), "INSERT INTO ss_a (id, name) VALUES (nextval('ss_shared'), 'dee') RETURNING id", "6\n"},
		{cluster.Leader(), "INSERT INTO ss_b SELECT nextval('public.ss_shared'::regclass), 'n' || g FROM generate_series(1, 3) g RETURNING id", "7\n8\n9\n"},
		{cluster.Leader(), "INSERT INTO ss_c (v) VALUES ('s') RETURNING id", "3\n"},
		{cluster.Follower(), "SELECT last_value, is_called FROM public.ss_shared", "9|t\n"},
		{cluster.Follower(), "SELECT nextval('ss_shared'), currval('ss_shared')", "10|10\n"},
	} {
		if out, err := psql(c.node, "-c", c.sql); err != nil || out != c.want {
			t.Errorf("%s: %v %q, want %q", c.sql, err, out, c.want)
		}
	}
	cluster.EnsureSame()
}
