package compattest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/raftsql/raftsql/server/servertest"
)

// TestPgDump: pg_dump of a database with SERIAL tables, an index and a
// foreign key; its output, loaded by psql -f into a fresh cluster, gives
// the same data, the serials go on where they were, and the loaded
// database dumps as the dumped one did.
func TestPgDump(t *testing.T) {
	need(t, "pg_dump", "--version")
	dropTables(t, "dump_orders", "dump_customers", "dump_tags")
	execSQL(t, `CREATE TABLE dump_customers (id SERIAL PRIMARY KEY, name VARCHAR(50) NOT NULL, note TEXT)`)
	execSQL(t, `CREATE INDEX dump_customers_name_idx ON dump_customers (name)`)
	execSQL(t, `CREATE TABLE dump_orders (id SERIAL PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES dump_customers (id), total NUMERIC(10,2), placed DATE)`)
	execSQL(t, `INSERT INTO dump_customers (name, note) VALUES ('ann', 'tab	and ''quote'''), ('bob', NULL), ('cy', 'back\slash')`)
	execSQL(t, `INSERT INTO dump_orders (customer_id, total, placed) VALUES (1, 12.50, '2024-03-01'), (3, 0.99, '2024-03-02')`)
	// A serial that is not the key.
	execSQL(t, `CREATE TABLE dump_tags (code TEXT PRIMARY KEY, n SERIAL, label TEXT)`)
	execSQL(t, `INSERT INTO dump_tags (code, label) VALUES ('a', 'first'), ('b', 'second')`)
	// A sequence of its own, owned by a column, which has handed out 100
	// and 105.
	execSQL(t, `DROP SEQUENCE IF EXISTS dump_counter`)
	execSQL(t, `CREATE SEQUENCE dump_counter START 100 INCREMENT BY 5`)
	execSQL(t, `ALTER SEQUENCE dump_counter OWNED BY dump_tags.label`)
	execSQL(t, `SELECT nextval('dump_counter')`)
	execSQL(t, `SELECT nextval('dump_counter')`)

	dsn := dsnFor(t, cluster.Follower())
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	dump := filepath.Join(t.TempDir(), "dump.sql")
	out, err := exec.CommandContext(ctx, "pg_dump", "--no-password", "-f", dump,
		"-t", "dump_customers", "-t", "dump_orders", "-t", "dump_tags", "-t", "dump_counter", dsn).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	text, _ := os.ReadFile(dump)
	for _, w := range []string{"CREATE SEQUENCE public.dump_counter\n    START WITH 100\n    INCREMENT BY 5\n",
		"SELECT pg_catalog.setval('public.dump_counter', 105, true);", "ALTER SEQUENCE public.dump_counter OWNED BY public.dump_tags.label;"} {
		if !strings.Contains(string(text), w) {
			t.Errorf("the dump has no %q:\n%s", w, text)
		}
	}
	fresh := servertest.NewCluster(t, 3, servertest.Options{})
	p := startProxy(t, fresh.PGAddr(fresh.Follower()))
	out, err = exec.CommandContext(ctx, "psql", "-X", "-v", "ON_ERROR_STOP=1", "-q", "-f", dump,
		"postgres://test@"+p.addr+"/raftsql?sslmode=disable").CombinedOutput()
	if err != nil {
		text, _ := os.ReadFile(dump)
		t.Fatalf("psql -f of the dump: %v\n%s\nthe dump:\n%s", err, out, text)
	}
	for _, q := range []string{
		`SELECT id, name, coalesce(note, '<null>') FROM dump_customers ORDER BY id`,
		`SELECT id, customer_id, total, placed FROM dump_orders ORDER BY id`,
		`SELECT code, n, label FROM dump_tags ORDER BY code`,
	} {
		want, got := rowsOf(t, cluster.DSN(0), q), rowsOf(t, fresh.DSN(0), q)
		if want != got {
			t.Errorf("%s:\nin the dumped database:\n%s\nin the loaded one:\n%s", q, want, got)
		}
	}
	// The serial goes on where it was.
	c, err := pgx.Connect(ctx, fresh.DSN(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var id int64
	if err := c.QueryRow(ctx, `INSERT INTO dump_customers (name) VALUES ('dee') RETURNING id`).Scan(&id); err != nil || id != 4 {
		text, _ := os.ReadFile(dump)
		t.Fatalf("next serial id = %d, %v; want 4\nthe dump:\n%s", id, err, text)
	}
	if err := c.QueryRow(ctx, `INSERT INTO dump_tags (code) VALUES ('c') RETURNING code`).Scan(new(string)); err != nil {
		t.Fatal(err)
	}
	if n := rowsOf(t, fresh.DSN(0), `SELECT n FROM dump_tags WHERE code = 'c'`); n != "3\n" {
		t.Errorf("the next dump_tags.n = %q, want 3", n)
	}
	if _, err := c.Exec(ctx, `DELETE FROM dump_tags WHERE code = 'c'`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `INSERT INTO dump_orders (customer_id) VALUES (99)`); err == nil {
		t.Errorf("the foreign key did not survive the dump")
	}
	// The loaded database dumps as the dumped one did, but for the row and
	// the number taken since.
	if _, err := c.Exec(ctx, `DELETE FROM dump_customers WHERE id = 4`); err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(t.TempDir(), "again.sql")
	pf := startProxy(t, fresh.PGAddr(fresh.Follower()))
	out, err = exec.CommandContext(ctx, "pg_dump", "--no-password", "-f", again,
		"-t", "dump_customers", "-t", "dump_orders", "-t", "dump_tags", "-t", "dump_counter", "postgres://test@"+pf.addr+"/raftsql?sslmode=disable").CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump of the loaded database: %v\n%s", err, out)
	}
	first, _ := os.ReadFile(dump)
	second, _ := os.ReadFile(again)
	want := strings.Replace(dumpBody(string(first)), "setval('public.dump_customers_id_seq', 3, true)", "setval('public.dump_customers_id_seq', 4, true)", 1)
	if got := dumpBody(string(second)); got != want {
		t.Errorf("the loaded database dumps otherwise:\n%s\nwant:\n%s", got, want)
	}
	// The sequence goes on where it was.
	if err := c.QueryRow(ctx, `SELECT nextval('dump_counter')`).Scan(&id); err != nil || id != 110 {
		t.Errorf("nextval('dump_counter') in the loaded database = %d, %v; want 110", id, err)
	}
}

// dumpBody is a dump without the lines that differ from one run of pg_dump
// to the next.
func dumpBody(dump string) string {
	var kept []string
	for _, l := range strings.Split(dump, "\n") {
		if !strings.HasPrefix(l, `\restrict `) && !strings.HasPrefix(l, `\unrestrict `) {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}

// rowsOf is a query's rows as text, one line a row.
func rowsOf(t *testing.T, dsn, q string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(strings.TrimSpace(fmtValue(v)))
		}
		b.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return b.String()
}

// TestPgDumpArchiveFormats: pg_dump --format=custom and --format=directory
// (which read the database's settings in pg_db_role_setting, where the
// plain format does not), each restored by pg_restore into a fresh
// cluster, the directory one with two jobs.
func TestPgDumpArchiveFormats(t *testing.T) {
	need(t, "pg_dump", "--version")
	need(t, "pg_restore", "--version")
	dropTables(t, "dumpfc_items")
	execSQL(t, `CREATE TABLE dumpfc_items (id SERIAL PRIMARY KEY, name TEXT NOT NULL, qty INTEGER)`)
	execSQL(t, `CREATE INDEX dumpfc_items_name_idx ON dumpfc_items (name)`)
	execSQL(t, `INSERT INTO dumpfc_items (name, qty) VALUES ('a', 1), ('b', NULL), ('c''s', 3)`)
	dsn := dsnFor(t, cluster.Follower())
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	const q = `SELECT id, name, coalesce(qty, -1) FROM dumpfc_items ORDER BY id`
	want := rowsOf(t, cluster.DSN(0), q)
	for _, f := range []struct{ format, jobs string }{{"custom", "1"}, {"directory", "2"}} {
		t.Run(f.format, func(t *testing.T) {
			archive := filepath.Join(t.TempDir(), "dump")
			if out, err := exec.CommandContext(ctx, "pg_dump", "--no-password", "--format="+f.format, "-f", archive,
				"-t", "dumpfc_items", dsn).CombinedOutput(); err != nil {
				t.Fatalf("pg_dump --format=%s: %v\n%s", f.format, err, out)
			}
			fresh := servertest.NewCluster(t, 3, servertest.Options{Configure: steady})
			p := startProxy(t, fresh.PGAddr(fresh.Follower()))
			if out, err := exec.CommandContext(ctx, "pg_restore", "--exit-on-error", "--no-owner", "-j", f.jobs,
				"-d", "postgres://test@"+p.addr+"/raftsql?sslmode=disable", archive).CombinedOutput(); err != nil {
				t.Fatalf("pg_restore: %v\n%s", err, out)
			}
			if got := rowsOf(t, fresh.DSN(0), q); got != want {
				t.Errorf("restored:\n%s\nwant:\n%s", got, want)
			}
			if got := rowsOf(t, fresh.DSN(0), `INSERT INTO dumpfc_items (name) VALUES ('d') RETURNING id`); got != "4\n" {
				t.Errorf("the next id after the restore: %q, want 4", got)
			}
		})
	}
}
