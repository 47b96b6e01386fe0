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

// TestPsqlDropConstraint: ALTER TABLE … DROP CONSTRAINT of a foreign key,
// a check and a unique constraint, by their own names and by those
// Postgres makes up, as migration tools send it; every node loses the
// constraint and keeps the rows, and a constraint that is not there is
// 42704 unless IF EXISTS.
func TestPsqlDropConstraint(t *testing.T) {
	need(t, "psql", "--version")
	dropTables(t, "dc_children", "dc_parents")
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	dsn := dsnFor(t, cluster.Follower())
	psql := func(dsn string, args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "psql", append([]string{"-X", "-v", "ON_ERROR_STOP=1", "-At"}, append(args, dsn)...)...).CombinedOutput()
		return string(out), err
	}
	setup := `CREATE TABLE dc_parents (id int PRIMARY KEY);
CREATE TABLE dc_children (id int PRIMARY KEY, parent_id int CONSTRAINT dc_children_parent_fk REFERENCES dc_parents (id), other_id int REFERENCES dc_parents (id), qty int CHECK (qty > 0), code text);
ALTER TABLE dc_children ADD CONSTRAINT dc_children_code_uq UNIQUE (code);
CREATE INDEX dc_children_qty ON dc_children (qty);
INSERT INTO dc_parents VALUES (1);
INSERT INTO dc_children VALUES (1, 1, 1, 5, 'a');`
	if out, err := psql(dsn, "-c", setup); err != nil {
		t.Fatalf("setup: %v\n%s", err, out)
	}
	for _, sql := range []string{
		"ALTER TABLE dc_children DROP CONSTRAINT dc_children_parent_fk",
		"ALTER TABLE ONLY public.dc_children DROP CONSTRAINT dc_children_other_id_fkey, DROP CONSTRAINT dc_children_qty_check",
		"ALTER TABLE dc_children DROP CONSTRAINT dc_children_code_uq",
		"ALTER TABLE dc_children DROP CONSTRAINT IF EXISTS dc_children_nope",
	} {
		if out, err := psql(dsn, "-c", sql); err != nil || out != "ALTER TABLE\n" {
			t.Fatalf("%s: %v\n%s", sql, err, out)
		}
	}
	if out, err := psql(dsn, "-c", "ALTER TABLE dc_children DROP CONSTRAINT dc_children_nope"); err == nil ||
		!strings.Contains(out, `constraint "dc_children_nope" of relation "dc_children" does not exist`) {
		t.Errorf("a constraint that is not there: %v\n%s", err, out)
	}
	// What the constraints refused is taken now, on the node that
	// forwarded the ALTERs and read back on every node.
	if out, err := psql(dsn, "-c", "INSERT INTO dc_children VALUES (2, 42, 43, -1, 'a')"); err != nil {
		t.Fatalf("a row the dropped constraints refused: %v\n%s", err, out)
	}
	const rows = "SELECT id, parent_id, other_id, qty, code FROM dc_children ORDER BY id"
	for i := 0; i < cluster.Size(); i++ {
		host, port, _ := net.SplitHostPort(cluster.PGAddr(i))
		node := fmt.Sprintf("postgres://test@%s:%s/raftsql?sslmode=disable", host, port)
		if out, err := psql(node, "-c", rows); err != nil || out != "1|1|1|5|a\n2|42|43|-1|a\n" {
			t.Errorf("node %d: %v\n%s", i, err, out)
		}
	}
	out, err := psql(dsn, "-c", "SELECT conname FROM pg_constraint WHERE conrelid = 'dc_children'::regclass ORDER BY conname")
	if err != nil || out != "dc_children_pkey\n" {
		t.Errorf("pg_constraint after the drops: %v\n%s", err, out)
	}
	out, err = psql(dsn, "-c", "EXPLAIN QUERY PLAN SELECT * FROM dc_children WHERE qty = 5")
	if err != nil || !strings.Contains(out, "dc_children_qty") {
		t.Errorf("the index did not survive the rebuilds: %v\n%s", err, out)
	}
}
