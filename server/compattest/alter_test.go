package compattest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPsqlAlterTable: ALTER TABLE … ADD CONSTRAINT (foreign key, check)
// and ALTER COLUMN (type with USING, default, not null), from psql -f; each
// rebuilds the table on every node, keeping its rows and indexes, and the
// new constraints hold.
func TestPsqlAlterTable(t *testing.T) {
	need(t, "psql", "--version")
	dropTables(t, "alter_children", "alter_parents", "alter_serial")
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	dsn := dsnFor(t, cluster.Follower())
	path, _ := filepath.Abs("testdata/alter.sql")
	psql := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "psql", append([]string{"-X", "-v", "ON_ERROR_STOP=1", "-At"}, append(args, dsn)...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := psql("-f", path); err != nil {
		t.Fatalf("psql -f alter.sql: %v\n%s", err, out)
	}
	const rows = "SELECT id, coalesce(parent_id, 0), qty, typeof(qty), label FROM alter_children ORDER BY id"
	want := "1|1|50|integer|a\n2|0|70|integer|b\n3|1|1|integer|x\n"
	// Every node has the rebuilt table: a linearizable read on a
	// follower waits until it has applied the leader's writes, then reads
	// its own copy.
	for i := 0; i < cluster.Size(); i++ {
		host, port, _ := net.SplitHostPort(cluster.PGAddr(i))
		node := fmt.Sprintf("postgres://test@%s:%s/raftsql?sslmode=disable", host, port)
		out, err := exec.CommandContext(ctx, "psql", "-X", "-At", "-c", rows, node).CombinedOutput()
		if err != nil || string(out) != want {
			t.Errorf("node %d: %v\n%s\nwant\n%s", i, err, out, want)
		}
	}
	for sql, code := range map[string]string{
		// the foreign key
		"INSERT INTO alter_children (id, parent_id, qty, label) VALUES (9, 42, 1, 'l')": `insert or update on table "alter_children" violates foreign key constraint`,
		// the check
		"INSERT INTO alter_children (id, qty, label) VALUES (9, -1, 'l')": `new row for relation "alter_children" violates check constraint "qty_positive"`,
		// set not null
		"INSERT INTO alter_children (id, qty, label) VALUES (9, 1, NULL)": `null value in column "label" of relation "alter_children" violates not-null constraint`,
		"ALTER TABLE alter_children ALTER COLUMN nope SET NOT NULL":       "does not exist",
		"ALTER TABLE alter_parents ALTER COLUMN name SET NOT NULL":        "reference",
	} {
		out, err := psql("-c", sql)
		if err == nil || !strings.Contains(out, code) {
			t.Errorf("%s: %v\n%s\nwant an error saying %s", sql, err, out, code)
		}
	}
	if out, err := psql("-c", "SELECT group_concat(id) FROM alter_serial"); err != nil || out != "1,2,4\n" {
		t.Errorf("serial ids after a rebuild: %v %q, want 1,2,4", err, out)
	}
	out, err := psql("-c", "EXPLAIN QUERY PLAN SELECT * FROM alter_children WHERE label = 'a'")
	if err != nil || !strings.Contains(out, "alter_children_label") {
		t.Errorf("the index did not survive the rebuilds: %v\n%s", err, out)
	}
}
