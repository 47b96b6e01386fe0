package server_test

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server/servertest"
)

// TestCatalogCastsAndSizesPgx reads the catalogs as pgx and pgJDBC do, on
// a follower, over the extended protocol: $1::regclass with the table's
// name as a text parameter, regclass and regtype columns that carry
// Postgres' type OIDs and show names, and relation sizes that grow with
// the rows.
func TestCatalogCastsAndSizesPgx(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	leader := connect(t, c, c.Leader())
	for _, sql := range []string{
		"CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE, n int)",
		"CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users (id))",
		"INSERT INTO users (email) SELECT 'u' || x || '@example.com' FROM generate_series(1, 3000) x",
	} {
		mustExec(t, leader, sql)
	}
	c.WaitSynced()
	conn := connect(t, c, c.Follower())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var relname string
	if err := conn.QueryRow(ctx, "SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = $1::regclass", "users").Scan(&relname); err != nil || relname != "users" {
		t.Fatalf("$1::regclass with a name: %q, %v", relname, err)
	}
	var attnames []string
	rows, err := conn.Query(ctx, "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 ORDER BY a.attnum", "public.users")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		attnames = append(attnames, n)
	}
	if rows.Err() != nil || strings.Join(attnames, ",") != "id,email,n" {
		t.Fatalf("columns of public.users: %v, %v", attnames, rows.Err())
	}

	rows, err = conn.Query(ctx, `SELECT conrelid::regclass, confrelid::regclass AS parent, 'int4'::regtype::text, a.atttypid::regtype,
		'users'::regclass::oid = c.oid FROM pg_constraint, pg_class c, pg_attribute a
		WHERE contype = 'f' AND c.relname = 'users' AND a.attrelid = c.oid AND a.attname = 'email'`)
	if err != nil {
		t.Fatal(err)
	}
	var oids []uint32
	for _, f := range rows.FieldDescriptions() {
		oids = append(oids, f.DataTypeOID)
	}
	var child, parent, int4, emailType string
	var same bool
	if !rows.Next() {
		t.Fatalf("no row: %v", rows.Err())
	}
	if err := rows.Scan(&child, &parent, &int4, &emailType, &same); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	got := []any{child, parent, int4, emailType, same, oids}
	want := []any{"orders", "users", "integer", "text", true, []uint32{2205, 2205, 25, 2206, 16}}
	for i := range want {
		if !equalAny(got[i], want[i]) {
			t.Errorf("regclass and regtype columns: got %v, want %v", got, want)
			break
		}
	}

	var table, indexes, total, db int64
	var pretty string
	if err := conn.QueryRow(ctx, `SELECT pg_table_size($1::regclass), pg_indexes_size($1::regclass), pg_total_relation_size($1::regclass),
		pg_database_size(current_database()), pg_size_pretty(pg_total_relation_size($1::regclass))`, "users").
		Scan(&table, &indexes, &total, &db, &pretty); err != nil {
		t.Fatal(err)
	}
	// 3000 rows of some 30 bytes, and the index of the unique column.
	if table < 64<<10 || indexes < 32<<10 || total != table+indexes || db <= total || !regexp.MustCompile(`^\d+ kB$`).MatchString(pretty) {
		t.Errorf("sizes of users: table %d, indexes %d, total %d, database %d, pretty %q", table, indexes, total, db, pretty)
	}
}

func equalAny(a, b any) bool {
	if x, ok := a.([]uint32); ok {
		y, _ := b.([]uint32)
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	return a == b
}

// TestPsqlDescribeAndSizes runs psql's \gdesc, \dt+, \di+ and \l+ and
// the casts psql users type, against a follower.
func TestPsqlDescribeAndSizes(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (apt-get install postgresql-client)")
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	host, port, _ := strings.Cut(c.PGAddr(c.Follower()), ":")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, psql, "-h", host, "-p", port, "-U", "raftsql", "-d", "raftsql", "-X", "-v", "ON_ERROR_STOP=1")
	cmd.Env = append(cmd.Environ(), "PGCONNECT_TIMEOUT=10")
	cmd.Stdin = strings.NewReader(`CREATE TABLE items (id serial PRIMARY KEY, name text UNIQUE, price numeric(10,2));
INSERT INTO items (name) SELECT 'item ' || x FROM generate_series(1, 2000) x;
SELECT name, price FROM items \gdesc
SELECT 'int4'::regtype::text AS t, 'integer'::regtype, conrelid::regclass AS rel FROM pg_constraint WHERE contype = 'p';
\dt+ items
\di+ items_name_key
\l+
`)
	out, err := cmd.CombinedOutput()
	t.Logf("psql:\n%s", out)
	if err != nil {
		t.Fatalf("psql: %v", err)
	}
	for _, want := range []*regexp.Regexp{
		// \gdesc
		regexp.MustCompile(`(?m)^ name\s+\| text\s*$`),
		regexp.MustCompile(`(?m)^ price\s+\| numeric\(10,2\)\s*$`),
		// the casts
		regexp.MustCompile(`(?m)^ integer \| integer \| items\s*$`),
		// \dt+: the table's size, \di+ the index's, \l+ the database's
		regexp.MustCompile(`(?m)^ public \| items +\| table \|.*\| heap +\| [1-9]\d* kB +\|`),
		regexp.MustCompile(`(?m)^ public \| items_name_key \| index \|.*\| btree +\| [1-9]\d* kB +\|`),
		regexp.MustCompile(`(?m)^ raftsql +\|.*\| [1-9]\d* kB +\| pg_default`),
	} {
		if !want.Match(out) {
			t.Errorf("psql output does not match %s", want)
		}
	}
}
