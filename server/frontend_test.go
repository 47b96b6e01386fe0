package server_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/raftsql/raftsql/server/servertest"
)

// TestFrontEnd runs Postgres expressions the front end translates through
// a 3-node cluster, in both protocols, on the leader and a follower: the
// values and column names are Postgres', errors carry their SQLSTATE and
// position, and writes that call now() and gen_random_uuid() leave every
// node the same.
func TestFrontEnd(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	setup := connect(t, c, c.Leader())
	if _, err := setup.Exec(ctx, "CREATE TABLE fe (id INTEGER PRIMARY KEY, u TEXT, at TEXT, n INTEGER DEFAULT 7, b TEXT)"); err != nil {
		t.Fatal(err)
	}
	// A UUID key drawn by its column's default, as Rails and hand-written
	// schemas declare it.
	if _, err := setup.Exec(ctx, "CREATE TABLE fu (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), v text)"); err != nil {
		t.Fatal(err)
	}
	if _, err := connect(t, c, c.Follower()).Exec(ctx, "INSERT INTO fu (v) SELECT 'v' || g FROM generate_series(1, 50) g"); err != nil {
		t.Fatal(err)
	}
	var uuids, distinct int
	if err := setup.QueryRow(ctx, "SELECT count(*), count(DISTINCT id) FROM fu WHERE id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'").Scan(&uuids, &distinct); err != nil || uuids != 50 || distinct != 50 {
		t.Errorf("defaulted keys: %d version-4 UUIDs, %d distinct, of 50: %v", uuids, distinct, err)
	}
	// nextval inside another statement takes the sequence's next number;
	// one of no sequence is refused at the call.
	var pe *pgconn.PgError
	if _, err := setup.Exec(ctx, "CREATE SEQUENCE fe_seq START 40"); err != nil {
		t.Fatal(err)
	}
	var feID int64
	if err := setup.QueryRow(ctx, "INSERT INTO fe (id, u) VALUES (nextval('fe_seq'), 'x') RETURNING id").Scan(&feID); err != nil || feID != 40 {
		t.Errorf("nextval in an INSERT: %d %v, want 40", feID, err)
	}
	if _, err := setup.Exec(ctx, "INSERT INTO fe (id, u) VALUES (nextval('fe_nope'), 'y')"); !errors.As(err, &pe) || pe.Code != "42P01" {
		t.Errorf("nextval of no sequence in an INSERT: %v", err)
	}
	// A DEFAULT of any expression, as Postgres takes it.
	for _, sql := range []string{
		"CREATE TABLE fd (id int, a text DEFAULT lower('X') NOT NULL, b int DEFAULT abs(-1) + 2, e timestamptz DEFAULT now())",
		"ALTER TABLE fd ADD COLUMN z text DEFAULT upper('y') || 'z'",
		"INSERT INTO fd (id) VALUES (1)",
		"ALTER TABLE fd ALTER COLUMN b SET DEFAULT 6 * 7",
		"INSERT INTO fd (id) VALUES (2)",
	} {
		if _, err := connect(t, c, c.Follower()).Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	var fa, fz, fdef string
	var fb1, fb2 int
	if err := setup.QueryRow(ctx, "SELECT a, z, (SELECT b FROM fd WHERE id = 1), (SELECT b FROM fd WHERE id = 2), "+
		"(SELECT column_default FROM information_schema.columns WHERE table_name = 'fd' AND column_name = 'a') FROM fd WHERE id = 2 AND e IS NOT NULL").
		Scan(&fa, &fz, &fb1, &fb2, &fdef); err != nil || fa != "x" || fz != "Yz" || fb1 != 3 || fb2 != 42 || fdef != "lower('X')" {
		t.Errorf("defaults: a %q z %q b %d then %d, a's default %q, %v", fa, fz, fb1, fb2, fdef, err)
	}
	var def string
	if err := setup.QueryRow(ctx, "SELECT column_default FROM information_schema.columns WHERE table_name = 'fu' AND column_name = 'id'").Scan(&def); err != nil || def != "gen_random_uuid()" {
		t.Errorf("the key's default in the catalogs: %q %v, want gen_random_uuid()", def, err)
	}
	for _, node := range []int{c.Leader(), c.Follower()} {
		for _, mode := range []string{"cache_statement", "simple_protocol"} {
			conn := connectMode(t, c, node, mode)
			var d, s, who string
			var five int32
			var re bool
			if err := conn.QueryRow(ctx, `SELECT '2020-01-01'::date::text, $1::int, E'a\tb', 'ABC' ~* 'b', current_user`, 4).
				Scan(&d, &five, &s, &re, &who); err != nil {
				t.Fatalf("node %d, %s: %v", node, mode, err)
			}
			if d != "2020-01-01" || five != 4 || s != "a\tb" || !re || who == "" {
				t.Errorf("node %d, %s: got %q %d %q %v %q", node, mode, d, five, s, re, who)
			}
			rows, err := conn.Query(ctx, "SELECT 1, count(*) FROM fe")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range rows.FieldDescriptions() {
				names = append(names, f.Name)
			}
			rows.Close()
			if len(names) != 2 || names[0] != "?column?" || names[1] != "count" {
				t.Errorf("node %d, %s: column names %q", node, mode, names)
			}
			if _, err := conn.Exec(ctx, "INSERT INTO fe (id, u, at, n, b) VALUES (DEFAULT, gen_random_uuid(), now(), DEFAULT, $1::text)", mode); err != nil {
				t.Fatalf("node %d, %s: insert: %v", node, mode, err)
			}
			var one int32
			err = conn.QueryRow(ctx, "SELECT 'x'::int", pgx.QueryExecModeSimpleProtocol).Scan(&one)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "22P02" || pe.Position != 8 {
				t.Errorf("node %d, %s: 'x'::int gave %v", node, mode, err)
			}
		}
	}
	var n, sevens int
	if err := setup.QueryRow(ctx, "SELECT count(*), sum(n = 7) FROM fe WHERE u ~ '^[0-9a-f-]{36}$' AND at IS NOT NULL").Scan(&n, &sevens); err != nil || n != 4 || sevens != 4 {
		t.Errorf("rows written: %d (%d with the default), %v", n, sevens, err)
	}
	c.EnsureSame()
}
