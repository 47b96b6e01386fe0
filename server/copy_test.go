package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// psql's \copy loads a CSV file through a follower; the rows reach every
// node. A COPY with a bad row, or one rolled back inside a transaction
// block, leaves nothing.
func TestCopyFromPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (apt-get install postgresql-client)")
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	follower := c.Follower()
	run := func(args ...string) (string, error) {
		host, port, _ := strings.Cut(c.PGAddr(follower), ":")
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, psql, append([]string{"-h", host, "-p", port, "-U", "raftsql", "-d", "raftsql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1"}, args...)...)
		cmd.Env = append(cmd.Environ(), "PGCONNECT_TIMEOUT=10")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("id,name,note\n")
	for i := 1; i <= 1200; i++ {
		switch i {
		case 7:
			csv.WriteString("7,\"comma, and \"\"quotes\"\"\",\"two\nlines\"\n")
		case 8:
			csv.WriteString("8,eight,\n") // NULL note
		default:
			csv.WriteString(strings.Join([]string{strconv.Itoa(i), "n" + strconv.Itoa(i), "x"}, ",") + "\n")
		}
	}
	good := filepath.Join(dir, "good.csv")
	if err := os.WriteFile(good, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run("-c", "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT)",
		"-c", `\copy people FROM '`+good+`' WITH (FORMAT csv, HEADER)`); err != nil || !strings.Contains(out, "COPY 1200") {
		t.Fatalf("\\copy: %v\n%s", err, out)
	}
	out, err := run("-c", "SELECT count(*), sum(note IS NULL) FROM people", "-c", "SELECT name || '|' || note FROM people WHERE id = 7")
	if err != nil || out != "1200|1\ncomma, and \"quotes\"|two\nlines\n" {
		t.Fatalf("after \\copy: %v\n%q", err, out)
	}

	// The text format, from stdin, with a row that breaks a constraint
	// near the end: nothing of the COPY stays.
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("2001\tok\t\\N\n2002\tok\tx\n2001\tdup\tx\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run("-c", `\copy people FROM '`+bad+`'`); err == nil || !strings.Contains(out, `duplicate key value violates unique constraint "people_pkey"`) ||
		!strings.Contains(out, "CONTEXT:  COPY people, in the rows ending at line 3") {
		t.Fatalf("a COPY with a duplicate key: %v\n%s", err, out)
	}
	if out, err := run("-c", "BEGIN", "-c", `\copy people FROM '`+good+`' WITH (FORMAT csv, HEADER)`, "-c", "ROLLBACK"); err == nil || !strings.Contains(out, `duplicate key value violates unique constraint "people_pkey"`) {
		// every id is taken already
		t.Fatalf("a COPY of taken ids in a transaction: %v\n%s", err, out)
	}
	if out, err := run("-c", "SELECT count(*) FROM people WHERE id > 2000"); err != nil || strings.TrimSpace(out) != "0" {
		t.Fatalf("rows of failed COPYs stayed: %v %q", err, out)
	}

	// \copy … to writes the rows back out, in CSV the same file it read,
	// and in the text format with its escapes.
	back := filepath.Join(dir, "back.csv")
	if out, err := run("-c", `\copy (SELECT id, name, note FROM people ORDER BY id) TO '`+back+`' WITH (FORMAT csv, HEADER)`); err != nil || !strings.Contains(out, "COPY 1200") {
		t.Fatalf("\\copy to: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(back); string(got) != csv.String() {
		t.Fatalf("\\copy to wrote another CSV than was read:\n%.300s", got)
	}
	if out, err := run("-c", "COPY (SELECT id, name, note FROM people WHERE id IN (7, 8)) TO STDOUT"); err != nil || out != "7\tcomma, and \"quotes\"\ttwo\\nlines\n8\teight\t\\N\n" {
		t.Fatalf("COPY TO STDOUT: %v\n%q", err, out)
	}
	c.EnsureSame()
}

// pgx's CopyFrom, the binary COPY, loads typed rows through a follower.
func TestCopyFromPgx(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	conn := connect(t, c, c.Follower())
	mustExec(t, conn, "CREATE TABLE m (id INTEGER PRIMARY KEY, name TEXT, score DOUBLE PRECISION, ok BOOLEAN, data BYTEA, at TIMESTAMP, amount NUMERIC)")
	at := time.Date(2026, 11, 23, 12, 30, 0, 0, time.UTC)
	var rows [][]any
	for i := 1; i <= 1500; i++ {
		rows = append(rows, []any{i, "n" + strconv.Itoa(i), float64(i) / 4, i%2 == 0, []byte{byte(i), 0, 255}, at.Add(time.Duration(i) * time.Second), "12.50"})
	}
	rows[9] = []any{10, nil, nil, nil, nil, nil, nil}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"m"}, []string{"id", "name", "score", "ok", "data", "at", "amount"}, pgx.CopyFromRows(rows))
	if err != nil || n != 1500 {
		t.Fatalf("CopyFrom: %d rows, %v", n, err)
	}
	var name string
	var score float64
	var ok bool
	var data []byte
	var ts time.Time
	if err := conn.QueryRow(ctx, "SELECT name, score, ok, data, at FROM m WHERE id = 6").Scan(&name, &score, &ok, &data, &ts); err != nil {
		t.Fatal(err)
	}
	if name != "n6" || score != 1.5 || !ok || string(data) != "\x06\x00\xff" || !ts.Equal(at.Add(6*time.Second)) {
		t.Fatalf("row 6: %q %v %v %x %v", name, score, ok, data, ts)
	}
	if nulls := count(t, conn, "SELECT count(*) FROM m WHERE name IS NULL AND score IS NULL AND data IS NULL"); nulls != 1 {
		t.Fatalf("%d rows of NULLs, want 1", nulls)
	}
	// A duplicate key rolls the whole COPY back.
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"m"}, []string{"id"}, pgx.CopyFromRows([][]any{{5000}, {5001}, {1}}))
	if sqlState(err) != "23505" {
		t.Fatalf("CopyFrom of a taken key: %v", err)
	}
	if n := count(t, conn, "SELECT count(*) FROM m"); n != 1500 {
		t.Fatalf("%d rows after a failed CopyFrom, want 1500", n)
	}
	c.EnsureSame()
}

// TestLargeCopyOutlivesTheApplyTimeout loads, with psql's \copy through a
// follower, a CSV whose one entry takes the leader longer than the apply
// timeout to commit and apply. Committed, it is waited for: psql gets COPY,
// not 40003, and every node has every row.
func TestLargeCopyOutlivesTheApplyTimeout(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (apt-get install postgresql-client)")
	}
	rows := 250000
	if raceEnabled {
		// SQLite under the race detector takes longer than the apply
		// timeout for far fewer rows; the entry of all of them, about
		// 11 MB, could then take the leader longer to commit than the
		// allowance per MiB that bounds a commit.
		rows = 60000
	}
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) {
		steady(cfg)
		cfg.ApplyTimeout = time.Second
	}})
	var csv strings.Builder
	for i := 1; i <= rows; i++ {
		csv.WriteString(strconv.Itoa(i) + ",name " + strconv.Itoa(i) + ",some note about row " + strconv.Itoa(i) + "\n")
	}
	file := filepath.Join(t.TempDir(), "big.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rows, %d bytes", rows, csv.Len())
	host, port, _ := strings.Cut(c.PGAddr(c.Follower()), ":")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, psql, "-h", host, "-p", port, "-U", "raftsql", "-d", "raftsql", "-X", "-v", "ON_ERROR_STOP=1",
		"-c", "CREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT, note TEXT)",
		"-c", `\copy big FROM '`+file+`' WITH (FORMAT csv)`).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "COPY "+strconv.Itoa(rows)) {
		t.Fatalf("\\copy of %d rows: %v\n%s", rows, err, out)
	}
	t.Logf("\\copy took %v against an apply timeout of 1s", time.Since(start))
	c.WaitSynced()
	for i := range c.Size() {
		conn := connect(t, c, i)
		mustExec(t, conn, "SET raftsql.read_consistency = none")
		if n := count(t, conn, "SELECT count(*) FROM big"); n != int64(rows) {
			t.Fatalf("node %d has %d rows, want %d", i, n, rows)
		}
	}
	c.EnsureSame()
}
