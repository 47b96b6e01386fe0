package server_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/raftsql/raftsql/server/servertest"
)

// TestEnumTypes: CREATE TYPE … AS ENUM through a follower, a table with
// columns of the type (bare, schema-qualified and quoted, with a
// default), ALTER TABLE … ADD COLUMN of it; every write path takes the
// labels and refuses anything else with 22P02, leaving the table as it
// was, parameters and COPY included; a duplicate type is 42710; DROP
// TYPE refuses while a column uses the type and CASCADE drops the
// columns; every node ends with the same schema and rows.
func TestEnumTypes(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	psql := psqlRunner(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f := c.Follower()
	psql(f, nil, "-c", "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
		"-c", `CREATE TYPE "public"."user_role_enum" AS ENUM('admin', 'it''s')`,
		"-c", `CREATE TABLE people (id serial PRIMARY KEY, m mood NOT NULL DEFAULT 'ok', r "public"."user_role_enum", note text)`,
		"-c", "ALTER TABLE people ADD COLUMN later public.mood")
	conn := connect(t, c, f)
	mustExec(t, conn, "INSERT INTO people (m, r) VALUES ('sad', 'it''s')")
	mustExec(t, conn, "INSERT INTO people (m, r, later) VALUES ($1, $2, $3)", "happy", "admin", "ok")
	mustExec(t, conn, "INSERT INTO people (note) VALUES ('default')")
	mustExec(t, conn, "INSERT INTO people (m) VALUES ('ok'::mood)")
	mustExec(t, conn, "UPDATE people SET later = $1::mood WHERE id = 1", "sad")
	copied, err := conn.PgConn().CopyFrom(ctx, strings.NewReader("happy\tadmin\n"), "COPY people (m, r) FROM STDIN")
	if err != nil || copied.RowsAffected() != 1 {
		t.Fatalf("COPY of labels: %v %v", copied, err)
	}
	const rows = "1 sad it's sad|2 happy admin ok|3 ok <nil> <nil>|4 ok <nil> <nil>|5 happy admin <nil>"
	read := func() string {
		t.Helper()
		r, err := conn.Query(ctx, "SELECT id, m, r, later FROM people ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var out []string
		for r.Next() {
			var id int64
			var m string
			var role, later *string
			if err := r.Scan(&id, &m, &role, &later); err != nil {
				t.Fatal(err)
			}
			s := func(p *string) string {
				if p == nil {
					return "<nil>"
				}
				return *p
			}
			out = append(out, strings.Join([]string{strconv.FormatInt(id, 10), m, s(role), s(later)}, " "))
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		return strings.Join(out, "|")
	}
	if got := read(); got != rows {
		t.Fatalf("rows:\n got %s\nwant %s", got, rows)
	}
	for _, tc := range []struct {
		sql  string
		args []any
		msg  string
	}{
		{"INSERT INTO people (m) VALUES ('glad')", nil, `invalid input value for enum mood: "glad"`},
		{"INSERT INTO people (m, r) VALUES ('ok', $1)", []any{"root"}, `invalid input value for enum user_role_enum: "root"`},
		{"UPDATE people SET later = 'Sad' WHERE id = 2", nil, `invalid input value for enum mood: "Sad"`},
		{"UPDATE people SET later = $1 WHERE id = 2", []any{"it's"}, `invalid input value for enum mood: "it's"`},
		// Where the statement does not show which value: without it.
		{"INSERT INTO people (m) VALUES ('ok'), ('meh')", nil, "invalid input value for enum mood"},
		{"INSERT INTO people (m, later) VALUES ('ok', 'meh')", nil, "invalid input value for enum mood"},
	} {
		_, err := conn.Exec(ctx, tc.sql, tc.args...)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "22P02" || pe.Message != tc.msg {
			t.Errorf("%s: %v, want 22P02 %s", tc.sql, err, tc.msg)
		}
	}
	if _, err := conn.PgConn().CopyFrom(ctx, strings.NewReader("bored\tadmin\n"), "COPY people (m, r) FROM STDIN"); sqlState(err) != "22P02" {
		t.Errorf("COPY of a value that is no label: %v, want 22P02", err)
	}
	if got := read(); got != rows {
		t.Fatalf("rows after refused writes:\n got %s\nwant %s", got, rows)
	}
	if _, err := conn.Exec(ctx, "CREATE TYPE mood AS ENUM ('x')"); sqlState(err) != "42710" || !strings.Contains(err.Error(), `type "mood" already exists`) {
		t.Errorf("a second CREATE TYPE mood: %v, want 42710", err)
	}
	_, err = conn.Exec(ctx, "DROP TYPE mood")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "2BP01" || pe.Message != "cannot drop type mood because other objects depend on it" ||
		pe.Detail != "column later of table people depends on type mood\ncolumn m of table people depends on type mood" && pe.Detail != "column m of table people depends on type mood\ncolumn later of table people depends on type mood" {
		t.Errorf("DROP TYPE of a type in use: %+v", err)
	}
	if _, err := conn.Exec(ctx, "DROP TYPE nope"); sqlState(err) != "42704" {
		t.Errorf("DROP TYPE of no type: %v, want 42704", err)
	}
	mustExec(t, conn, "DROP TYPE IF EXISTS nope")
	c.EnsureSame()

	// In a transaction block: the type, a table using it, a refused value
	// that fails the block; then the block that commits.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{"CREATE TYPE level AS ENUM ('low', 'high')", "CREATE TABLE gauges (id int, g level)", "INSERT INTO gauges VALUES (1, 'high')"} {
		if _, err := tx.Exec(ctx, sql); err != nil {
			t.Fatalf("%s in a block: %v", sql, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO gauges VALUES (2, 'mid')"); sqlState(err) != "22P02" {
		t.Errorf("a value of no label of level: %v", err)
	}

	mustExec(t, conn, "DROP TYPE mood, level CASCADE")
	var cols string
	if err := conn.QueryRow(ctx, "SELECT group_concat(name, ',') FROM pragma_table_info('people')").Scan(&cols); err != nil || cols != "id,r,note" {
		t.Errorf("columns after DROP TYPE … CASCADE: %q %v, want id,r,note", cols, err)
	}
	mustExec(t, conn, "INSERT INTO people (note) VALUES ('glad')")
	// A type of the name again, with other labels, for a new table.
	mustExec(t, conn, "CREATE TYPE mood AS ENUM ('meh')")
	mustExec(t, conn, "CREATE TABLE later (m mood)")
	mustExec(t, conn, "INSERT INTO later VALUES ('meh')")
	if _, err := conn.Exec(ctx, "INSERT INTO later VALUES ('sad')"); sqlState(err) != "22P02" {
		t.Errorf("a label of the dropped type: %v", err)
	}
	c.EnsureSame()
}

// TestEnumCatalogs: psql's \dT, \dT+ and \d show an enum type, its labels
// and the columns of it, on every node; pg_type, pg_enum and
// information_schema.columns answer what ORMs read of it, and a value of
// an enum column reads as text.
func TestEnumCatalogs(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	psql := psqlRunner(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	psql(c.Leader(), nil, "-c", "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
		"-c", `CREATE TABLE people (id integer PRIMARY KEY, m mood NOT NULL DEFAULT 'ok', note text)`,
		"-c", "INSERT INTO people VALUES (1, 'happy', 'x')")
	f := c.Follower()
	conn := connect(t, c, f)
	// A follower has the type once it has applied the writes.
	c.EnsureSame()
	out := psql(f, nil, "-c", `\dT+`, "-c", `\d people`)
	for _, want := range []string{
		" public | mood | mood          | 4    | sad     +|",
		"        |      |               |      | happy    |",
		" m      | mood    |           | not null | 'ok'",
		" note   | text    |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("psql output lacks %q:\n%s", want, out)
		}
	}
	var typOID, enumTyp uint32
	var typtype, typcat, labels string
	if err := conn.QueryRow(ctx, "SELECT oid, typtype, typcategory FROM pg_type WHERE typname = 'mood'").Scan(&typOID, &typtype, &typcat); err != nil || typtype != "e" || typcat != "E" {
		t.Fatalf("pg_type of mood: %v %q %q %v", typOID, typtype, typcat, err)
	}
	if err := conn.QueryRow(ctx, "SELECT enumtypid, string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum GROUP BY enumtypid").Scan(&enumTyp, &labels); err != nil ||
		enumTyp != typOID || labels != "sad,ok,happy" {
		t.Errorf("pg_enum: %v %q %v, want %v sad,ok,happy", enumTyp, labels, err, typOID)
	}
	var dataType, udt, udtSchema string
	if err := conn.QueryRow(ctx, "SELECT data_type, udt_name, udt_schema FROM information_schema.columns WHERE table_name = 'people' AND column_name = 'm'").
		Scan(&dataType, &udt, &udtSchema); err != nil || dataType != "USER-DEFINED" || udt != "mood" || udtSchema != "public" {
		t.Errorf("information_schema.columns of m: %q %q %q %v", dataType, udt, udtSchema, err)
	}
	var atttypid uint32
	if err := conn.QueryRow(ctx, "SELECT atttypid FROM pg_attribute WHERE attrelid = 'people'::regclass AND attname = 'm'").Scan(&atttypid); err != nil || atttypid != typOID {
		t.Errorf("pg_attribute.atttypid of m: %v %v, want %v", atttypid, err, typOID)
	}
	var m string
	if err := conn.QueryRow(ctx, "SELECT m FROM people WHERE m = $1::mood", "happy").Scan(&m); err != nil || m != "happy" {
		t.Errorf("a value of an enum column: %q %v", m, err)
	}
	// The type's OID is the same on every node.
	for i := 0; i < c.Size(); i++ {
		var oid uint32
		if err := connect(t, c, i).QueryRow(ctx, "SELECT oid FROM pg_type WHERE typname = 'mood'").Scan(&oid); err != nil || oid != typOID {
			t.Errorf("node %d: pg_type.oid of mood %v %v, want %v", i, oid, err, typOID)
		}
	}
}

// TestAlterEnumType: ALTER TYPE … ADD VALUE (BEFORE, AFTER, IF NOT
// EXISTS) and RENAME VALUE through a follower change the labels pg_enum
// lists in order and the CHECK of every column of the type, in every
// table, whose rows take a renamed label; the indexes stay; every node
// ends the same.
func TestAlterEnumType(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn := connect(t, c, c.Follower())
	for _, sql := range []string{
		"CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
		"CREATE TABLE a (id serial PRIMARY KEY, m mood NOT NULL DEFAULT 'ok')",
		"CREATE INDEX a_m ON a (m)",
		"CREATE TABLE b (k text PRIMARY KEY, first mood, second mood)",
		"INSERT INTO a (m) VALUES ('sad'), ('happy')",
		"INSERT INTO b VALUES ('x', 'sad', 'ok'), ('y', NULL, 'sad')",
		"ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok'",
		"ALTER TYPE mood ADD VALUE IF NOT EXISTS 'ok'",
		"ALTER TYPE mood ADD VALUE 'ecstatic' AFTER 'happy'",
		"ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'",
		"INSERT INTO a (m) VALUES ('meh'), ('ecstatic')",
		// A column that becomes of the type takes its CHECK.
		"CREATE TABLE c (id int, m text)",
		"INSERT INTO c VALUES (1, 'ok')",
		"ALTER TABLE c ALTER COLUMN m TYPE mood USING m::mood",
	} {
		mustExec(t, conn, sql)
	}
	for sql, code := range map[string]string{
		"INSERT INTO a (m) VALUES ('sad')":             "22P02",
		"INSERT INTO c VALUES (2, 'bad')":              "22P02",
		"UPDATE b SET second = 'sad' WHERE k = 'x'":    "22P02",
		"ALTER TYPE mood ADD VALUE 'ok'":               "42710",
		"ALTER TYPE mood ADD VALUE 'x' BEFORE 'nope'":  "22023",
		"ALTER TYPE mood RENAME VALUE 'nope' TO 'x'":   "22023",
		"ALTER TYPE mood RENAME VALUE 'ok' TO 'happy'": "42710",
		"ALTER TYPE nothing ADD VALUE 'x'":             "42704",
	} {
		if _, err := conn.Exec(ctx, sql); sqlState(err) != code {
			t.Errorf("%s: %v, want %s", sql, err, code)
		}
	}
	var labels, rows string
	if err := conn.QueryRow(ctx, "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum").Scan(&labels); err != nil ||
		labels != "blue,meh,ok,happy,ecstatic" {
		t.Errorf("pg_enum: %q %v", labels, err)
	}
	if err := conn.QueryRow(ctx, "SELECT (SELECT string_agg(m, ',' ORDER BY id) FROM a) || '|' || "+
		"(SELECT string_agg(k || ':' || coalesce(first, '-') || ':' || second, ',' ORDER BY k) FROM b)").Scan(&rows); err != nil ||
		rows != "blue,happy,meh,ecstatic|x:blue:ok,y:-:blue" {
		t.Errorf("rows: %q %v", rows, err)
	}
	if n := count(t, conn, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'a_m'"); n != 1 {
		t.Errorf("the index of a: %d", n)
	}
	c.EnsureSame()
}
