package server_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/raftsql/raftsql/server/servertest"
)

// psqlResult runs psql's -c commands against a node of c with
// VERBOSITY verbose, so that an error shows its SQLSTATE, and returns
// what psql printed and whether it failed; the test is skipped without
// psql.
func psqlResult(t *testing.T, c *servertest.Cluster) func(node int, args ...string) (string, bool) {
	t.Helper()
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (apt-get install postgresql-client)")
	}
	return func(node int, args ...string) (string, bool) {
		t.Helper()
		host, port, _ := strings.Cut(c.PGAddr(node), ":")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, psql, append([]string{"-h", host, "-p", port, "-U", "raftsql", "-d", "raftsql",
			"-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose"}, args...)...)
		cmd.Env = append(cmd.Environ(), "PGCONNECT_TIMEOUT=10")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("psql %q: %v\n%s", args, err, out)
		}
		return string(out), err != nil
	}
}

// TestTypedLiterals: a string literal stored in a column of a declared
// Postgres type, or compared with one, is read with the type's input
// rules, as Postgres reads it: a value the type does not accept fails the
// statement with Postgres' SQLSTATE and message and writes nothing (the
// table stays readable on every node); one it accepts is stored as the
// type stores it (a boolean as a boolean, an integer as an integer, a
// timestamptz as UTC …), by INSERT with and without a column list, over
// several rows, with DEFAULT, by UPDATE and ON CONFLICT DO UPDATE; and a
// comparison finds the rows Postgres finds. The expected answers are
// PostgreSQL 15's.
func TestTypedLiterals(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	psql := psqlResult(t, c)
	leader, follower := c.Leader(), c.Follower()
	ok := func(node int, args ...string) string {
		t.Helper()
		out, failed := psql(node, args...)
		if failed {
			t.Fatalf("node %d: %q: %s", node, args, out)
		}
		return out
	}
	ok(leader, "-c", "CREATE TABLE ti (id int primary key, n int, s smallint, big bigint, f float8, r real, num numeric, "+
		"ts timestamptz, t timestamp, d date, tm time, u uuid, j jsonb, b boolean, by bytea, note text)",
		"-c", "CREATE TABLE tb (id int primary key, b boolean)")
	c.WaitSynced()

	// What Postgres refuses, on the leader and on a follower.
	for _, tc := range []struct{ sql, want string }{
		{"insert into ti(id, n) values (1, 'abc')", `22P02: invalid input syntax for type integer: "abc"`},
		{"insert into ti(id, ts) values (2, 'garbage')", `22007: invalid input syntax for type timestamp with time zone: "garbage"`},
		{"insert into ti(id, t) values (2, 'garbage')", `22007: invalid input syntax for type timestamp: "garbage"`},
		{"insert into ti(id, d) values (3, '2024-13-45')", `22008: date/time field value out of range: "2024-13-45"`},
		{"insert into ti(id, d) values (3, 'soon')", `22007: invalid input syntax for type date: "soon"`},
		{"insert into ti(id, j) values (4, '{bad')", `22P02: invalid input syntax for type json`},
		{"insert into ti(id, u) values (5, 'not-a-uuid')", `22P02: invalid input syntax for type uuid: "not-a-uuid"`},
		{"insert into ti(id, s) values (6, '70000')", `22003: value "70000" is out of range for type smallint`},
		{"insert into ti(id, n) values (6, '3000000000')", `22003: value "3000000000" is out of range for type integer`},
		{"insert into ti(id, f) values (6, 'x1')", `22P02: invalid input syntax for type double precision: "x1"`},
		{"insert into ti(id, r) values (6, 'x1')", `22P02: invalid input syntax for type real: "x1"`},
		{"insert into ti(id, num) values (6, '1.2.3')", `22P02: invalid input syntax for type numeric: "1.2.3"`},
		{"insert into ti(id, tm) values (6, 'noon-ish')", `22007: invalid input syntax for type time: "noon-ish"`},
		{`insert into ti(id, by) values (6, '\xzz')`, `22023: invalid hexadecimal digit: "z"`},
		{"insert into ti values (7, 'x')", `22P02: invalid input syntax for type integer: "x"`},
		{"insert into tb values (8, 'true'), (9, 'maybe')", `22P02: invalid input syntax for type boolean: "maybe"`},
		{"insert into tb (id, b) values (8, DEFAULT), (9, 'o')", `22P02: invalid input syntax for type boolean: "o"`},
		{"insert into tb values (1, 'f') on conflict (id) do update set b = 'maybe'", `22P02: invalid input syntax for type boolean: "maybe"`},
		{"update ti set n = 'abc'", `22P02: invalid input syntax for type integer: "abc"`},
		{"select * from ti where n = 'abc'", `22P02: invalid input syntax for type integer: "abc"`},
		{"delete from tb where b in ('t', 'perhaps')", `22P02: invalid input syntax for type boolean: "perhaps"`},
	} {
		for _, node := range []int{leader, follower} {
			out, failed := psql(node, "-c", tc.sql)
			if !failed || !strings.Contains(out, "ERROR:  "+tc.want) {
				t.Errorf("node %d: %s:\n%s\nwant ERROR:  %s", node, tc.sql, out, tc.want)
			}
		}
	}

	// What Postgres accepts, stored as the column's type stores it.
	ok(follower,
		"-c", "insert into tb values (1,'true'),(2,'f'),(3,'yes'),(4,'on'),(5,'tr'),(6, ' OFF ')",
		"-c", "insert into tb (id, b) values (7, DEFAULT), (8, 'N'), (9, '1')",
		"-c", "update tb set b = 'no' where id = 4",
		"-c", "insert into tb values (2, 'f') on conflict (id) do update set b = 'y'",
		"-c", "insert into ti (id, n, s, big, f, num, ts, t, d, tm, u, j, b, by, note) values "+
			"(20, ' 42 ', '-7', '9000000000', '1.5', '3.25', '2024-01-05 10:00:00+02', '2024-01-05T10:00:00', "+
			`'2024-1-5', '10:00', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{"a": 1}', 'yes', '\x0102', 'yes')`)
	c.EnsureSame()

	for i := 0; i < c.Size(); i++ {
		for sql, want := range map[string]string{
			"select id from tb where b order by id":                                                              "1\n2\n3\n5\n9\n",
			"select id from tb where b = 'yes' order by id":                                                      "1\n2\n3\n5\n9\n",
			"select id from tb where b <> 'yes' order by id":                                                     "4\n6\n8\n",
			"select id from tb where b in ('f', 'no') order by id":                                               "4\n6\n8\n",
			"select id from tb where 'false' = b order by id":                                                    "4\n6\n8\n",
			"select count(*) from tb where typeof(b) <> 'integer'":                                               "1\n", // id 7, NULL
			"select n, s, big, f, num, typeof(n), typeof(big) from ti":                                           "42|-7|9000000000|1.5|3.25|integer|integer\n",
			"select ts, t, d, tm, u, j, b, by, note from ti":                                                     "2024-01-05 08:00:00+00|2024-01-05 10:00:00|2024-01-05|10:00:00|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|{\"a\": 1}|t|\\x0102|yes\n",
			"select typeof(ts), typeof(by), typeof(b), typeof(note) from ti":                                     "text|blob|integer|text\n",
			"select id from ti where d = '2024-01-05' and t = '2024-01-05 10:00'":                                "20\n",
			"select id from ti where ts = '2024-01-05 08:00:00Z' and u = 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'": "20\n",
		} {
			if got := ok(i, "-c", sql); got != want {
				t.Errorf("node %d: %s = %q, want %q", i, sql, got, want)
			}
		}
		// Nothing refused was written, and the table reads.
		if got := ok(i, "-c", "select count(*) from ti", "-c", "select count(*) from tb"); got != "1\n9\n" {
			t.Errorf("node %d: counts %q, want 1 and 9", i, got)
		}
	}

	// A table the open block created is not in the committed schema: its
	// literals are left as written, as before (and read as booleans).
	if got := ok(leader, "-c", "BEGIN", "-c", "CREATE TABLE tx (id int, b boolean)", "-c", "INSERT INTO tx VALUES (1, 'yes')",
		"-c", "COMMIT", "-c", "SELECT b FROM tx"); !strings.HasSuffix(got, "COMMIT\nt\n") {
		t.Errorf("a table of the open block: %q", got)
	}
	// Rewritten as README says, it is a boolean.
	if got := ok(leader, "-c", "UPDATE tx SET b = b::boolean WHERE typeof(b) = 'text'", "-c", "SELECT typeof(b), b FROM tx WHERE b = 'y'"); got != "UPDATE 1\ninteger|t\n" {
		t.Errorf("text rows of a boolean column rewritten: %q", got)
	}

	// The extended protocol: a literal beside a parameter, prepared once
	// and run twice.
	conn := connect(t, c, follower)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mustExec(t, conn, "INSERT INTO tb (id, b) VALUES ($1, 'yes')", 10)
	mustExec(t, conn, "INSERT INTO tb (id, b) VALUES ($1, 'yes')", 11)
	var pe *pgconn.PgError
	if _, err := conn.Exec(ctx, "UPDATE tb SET b = 'nope' WHERE id = $1", 10); !errors.As(err, &pe) || pe.Code != "22P02" ||
		pe.Message != `invalid input syntax for type boolean: "nope"` {
		t.Errorf("extended UPDATE with 'nope': %v, want 22P02", err)
	}
	if got := count(t, conn, "SELECT count(*) FROM tb WHERE b = 'on' AND id > $1", 9); got != 2 {
		t.Errorf("WHERE b = 'on' AND id > 9 counts %d, want 2", got)
	}
	c.EnsureSame()
}

// TestTypedCopy: COPY FROM STDIN in text and CSV (psql's \copy) reads
// each field as its column's type, as Postgres does: 'yes' into a boolean
// is true, ' 7 ' into an integer 7; one field its type refuses fails the
// whole COPY with Postgres' error and the line and column in CONTEXT, and
// nothing of it is written, on any node.
func TestTypedCopy(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	psql := psqlResult(t, c)
	leader, follower := c.Leader(), c.Follower()
	dir := t.TempDir()
	file := func(name, data string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ok := func(node int, args ...string) string {
		t.Helper()
		out, failed := psql(node, args...)
		if failed {
			t.Fatalf("node %d: %q: %s", node, args, out)
		}
		return out
	}
	ok(leader, "-c", "CREATE TABLE tb (id int primary key, b boolean)",
		"-c", "CREATE TABLE ti (id int primary key, n int, d date, ts timestamptz, note text)")
	c.WaitSynced()

	ok(follower, "-c", `\copy tb from '`+file("tb.txt", "1\tyes\n2\toff\n3\ttr\n4\t\\N\n")+`'`,
		"-c", `\copy ti (id, n, d, ts, note) from '`+file("ti.csv", "1, 7 ,2024-1-5,2024-01-05 10:00+02,yes\n2,,,,\n")+`' with (format csv)`)
	for _, tc := range []struct {
		node       int
		copy, want string
	}{
		{leader, `\copy tb from '` + file("bad.txt", "10\ttrue\n11\tmaybe\n") + `'`,
			"ERROR:  22P02: invalid input syntax for type boolean: \"maybe\"\nCONTEXT:  COPY tb, line 2, column b: \"maybe\""},
		{follower, `\copy ti (id, n) from '` + file("bad.csv", "10,1\n11,abc\n") + `' with (format csv)`,
			"ERROR:  22P02: invalid input syntax for type integer: \"abc\"\nCONTEXT:  COPY ti, line 2, column n: \"abc\""},
		{follower, `\copy ti (id, d) from '` + file("bad2.csv", "10,2024-13-45\n") + `' with (format csv)`,
			"ERROR:  22008: date/time field value out of range: \"2024-13-45\"\nCONTEXT:  COPY ti, line 1, column d: \"2024-13-45\""},
	} {
		out, failed := psql(tc.node, "-c", tc.copy)
		if !failed || !strings.Contains(out, tc.want) {
			t.Errorf("node %d: %s:\n%s\nwant %s", tc.node, tc.copy, out, tc.want)
		}
	}
	c.EnsureSame()
	for i := 0; i < c.Size(); i++ {
		for sql, want := range map[string]string{
			"select id from tb where b order by id":                    "1\n3\n",
			"select count(*) from tb where typeof(b) = 'integer'":      "3\n",
			"select id, n, typeof(n), d, ts, note from ti order by id": "1|7|integer|2024-01-05|2024-01-05 08:00:00+00|yes\n2||null|||\n",
		} {
			if got := ok(i, "-c", sql); got != want {
				t.Errorf("node %d: %s = %q, want %q", i, sql, got, want)
			}
		}
	}
}
