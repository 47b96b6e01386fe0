package server_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server/servertest"
)

// TestPostgresFunctionsPsql writes, through psql on a follower, rows that
// Postgres' functions SQLite lacks compute (INSERT … SELECT with repeat,
// split_part, left and right, regexp_replace, format, json_build_object,
// sha256, ^, DISTINCT ON), and reads them back from each node's own copy:
// the Go functions ran on every node alike. psql aligns the numbers the
// result types make numbers to the right.
func TestPostgresFunctionsPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (apt-get install postgresql-client)")
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	run := func(node int, args ...string) string {
		t.Helper()
		host, port, _ := strings.Cut(c.PGAddr(node), ":")
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, psql, append([]string{"-h", host, "-p", port, "-U", "raftsql", "-d", "raftsql",
			"-X", "-A", "-t", "-v", "ON_ERROR_STOP=1"}, args...)...)
		cmd.Env = append(cmd.Environ(), "PGCONNECT_TIMEOUT=10")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("psql on node %d %q: %v\n%s", node, args, err, out)
		}
		return string(out)
	}
	follower := c.Follower()
	run(follower,
		"-c", "CREATE TABLE acct (id INTEGER PRIMARY KEY, name TEXT, email TEXT, balance INTEGER)",
		"-c", "INSERT INTO acct VALUES (1, 'ann lee', 'ann@example.com', 10), (2, 'bob', 'bob@example.org', 20), "+
			"(3, 'ann lee', 'ann2@example.com', 30), (4, 'Zoë Ng', 'zoe@example.net', NULL)",
		"-c", "CREATE TABLE derived (id INTEGER PRIMARY KEY, v TEXT, j TEXT, h TEXT, p REAL)",
		"-c", `INSERT INTO derived (id, v, j, h, p)
			SELECT id,
				repeat(left(name, 1), 2) || '|' || right(name, -1) || '|' || split_part(email, '@', -1) || '|' ||
					regexp_replace(email, '([a-z]+)@', '\1 at ', 'g') || '|' || format('%I=%L', name, balance) ||
					'|' || initcap(name),
				json_build_object('id', id, 'domain', split_part(email, '.', -1)),
				encode(sha256(email), 'hex'),
				2 ^ id + |/ 16
			FROM acct`,
		"-c", "INSERT INTO derived (id, v) SELECT DISTINCT ON (name) 100 + id, name FROM acct ORDER BY name, balance DESC",
	)
	query := "SELECT id, v, j, p FROM derived ORDER BY id"
	c.WaitSynced()
	var first string
	for i := 0; i < c.Size(); i++ {
		out := run(i, "-c", "SET raftsql.read_consistency = none", "-c", query)
		out = strings.TrimPrefix(out, "SET\n")
		if i == 0 {
			first = out
			continue
		}
		if out != first {
			t.Fatalf("node %d answered\n%s\nnode 0\n%s", i, out, first)
		}
	}
	wantRows := []string{
		`1|aa|nn lee|example.com|ann at example.com|"ann lee"='10'|Ann Lee|{"id":1,"domain":"com"}|6`,
		`2|bb|ob|example.org|bob at example.org|bob='20'|Bob|{"id":2,"domain":"org"}|8`,
		`3|aa|nn lee|example.com|ann2@example.com|"ann lee"='30'|Ann Lee|{"id":3,"domain":"com"}|12`,
		`4|ZZ|oë Ng|example.net|zoe at example.net|"Zoë Ng"=NULL|Zoë Ng|{"id":4,"domain":"net"}|20`,
		`102|bob||`,
		`103|ann lee||`,
		`104|Zoë Ng||`,
	}
	if got := strings.TrimSpace(first); got != strings.Join(wantRows, "\n") {
		t.Fatalf("derived rows:\n%s\nwant:\n%s", got, strings.Join(wantRows, "\n"))
	}
	// The stored digest is SHA-256's (sha256sum gives it).
	if out := strings.TrimSpace(run(follower, "-c", "SELECT h FROM derived WHERE id = 2")); out != "686b5e4cf4f963adf8f51468a48028ef8d15bd02fa335f821279a3d1678c9615" {
		t.Fatalf("sha256 stored: %q", out)
	}
	c.EnsureSame()

	// The result types, as psql shows them: numbers right-aligned, text
	// left-aligned.
	out := run(follower, "-P", "format=aligned", "-P", "tuples_only=off", "-c",
		`SELECT round(2.567, 2) AS round_two_places, ceil(1.2) AS ceil_of_it, row_number() OVER () AS row_number_col,
		2 ^ 3 AS two_cubed_power, |/ 16 AS square_root, count(*) OVER () AS counted, 'x' AS text_col`)
	if lines := strings.Split(out, "\n"); len(lines) < 3 ||
		lines[2] != "             2.57 |          2 |              1 |               8 |           4 |       1 | x" {
		t.Fatalf("aligned:\n%s", out)
	}
	if out := strings.TrimSpace(run(follower, "-c", "SELECT pg_typeof(now()), pg_typeof(row_number() OVER ())")); out != "timestamp with time zone|bigint" {
		t.Fatalf("pg_typeof: %q", out)
	}
	out = run(follower, "-c", "SELECT round(2.567, 2), ceil(1.2), floor(1.8), trunc(1.9), pg_typeof(now()), 2 ^ 3, "+
		"split_part('a,b,c', ',', -1), left('abc', -1), json_build_object('a', 1)")
	if got := strings.TrimSpace(out); got != `2.57|2|1|1|timestamp with time zone|8|c|ab|{"a":1}` {
		t.Fatalf("values: %q", got)
	}
	// Refused with the SQLSTATE and the construct named.
	host, port, _ := strings.Cut(c.PGAddr(follower), ":")
	res, err := exec.Command(psql, "-h", host, "-p", port, "-U", "raftsql", "-d", "raftsql", "-X", "-v", "ON_ERROR_STOP=1",
		"-v", "VERBOSITY=verbose", "-c", "SELECT DISTINCT ON (name) * FROM acct").CombinedOutput()
	if err == nil || !strings.Contains(string(res), "0A000") || !strings.Contains(string(res), "DISTINCT ON") {
		t.Fatalf("DISTINCT ON with *: %v\n%s", err, res)
	}
	res, err = exec.Command(psql, "-h", host, "-p", port, "-U", "raftsql", "-d", "raftsql", "-X", "-v", "ON_ERROR_STOP=1",
		"-v", "VERBOSITY=verbose", "-c", "SELECT repeat('x', 2000000000)").CombinedOutput()
	if err == nil || !strings.Contains(string(res), "54000: requested length too large") {
		t.Fatalf("a repeat too long: %v\n%s", err, res)
	}
}
