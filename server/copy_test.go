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
	if out, err := run("-c", `\copy people FROM '`+bad+`'`); err == nil || !strings.Contains(out, "UNIQUE") {
		t.Fatalf("a COPY with a duplicate key: %v\n%s", err, out)
	}
	if out, err := run("-c", "BEGIN", "-c", `\copy people FROM '`+good+`' WITH (FORMAT csv, HEADER)`, "-c", "ROLLBACK"); err == nil || !strings.Contains(out, "UNIQUE") {
		// every id is taken already
		t.Fatalf("a COPY of taken ids in a transaction: %v\n%s", err, out)
	}
	if out, err := run("-c", "SELECT count(*) FROM people WHERE id > 2000"); err != nil || strings.TrimSpace(out) != "0" {
		t.Fatalf("rows of failed COPYs stayed: %v %q", err, out)
	}
	c.EnsureSame()
}
