package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// portableSchema is what Postgres applications and their ORMs store in a
// schema: CHECKs of columns (Django, Hibernate), char_length, left and
// right, ~, DEFAULT now(), gen_random_uuid() and repeat(), indexes on
// lower() and on ->>, a partial index, generated columns (of lpad too), a
// view and a trigger.
var portableSchema = []string{
	`CREATE TABLE person (id bigserial PRIMARY KEY, "age" integer NOT NULL CHECK ("age" >= 0),
		name varchar(50) NOT NULL CHECK (char_length(name) <= 50), code text CHECK (left(code, 2) = 'AB' AND right(code, 1) <> 'Z'),
		email text CHECK (email ~ '^[^@]+@'), u uuid NOT NULL DEFAULT gen_random_uuid(),
		created_at timestamptz NOT NULL DEFAULT now(), data jsonb CHECK (json_typeof(data) = 'object'),
		initials text GENERATED ALWAYS AS (left(name, 1) || right(name, 1)) STORED)`,
	`create table hb (id bigint not null, age integer check (age>=0 and age<=150), primary key (id))`,
	`CREATE TABLE ticket (id integer PRIMARY KEY, code text GENERATED ALWAYS AS (lpad(CAST(id AS text), 6, '0')) STORED, bar text DEFAULT repeat('-', 3))`,
	`CREATE UNIQUE INDEX person_email ON person (lower(email))`,
	`CREATE INDEX person_data_email ON person ((data ->> 'email'))`,
	`CREATE INDEX person_ab ON person (code) WHERE starts_with(code, 'ABC')`,
	`CREATE VIEW person_short AS SELECT id, left(name, 3) AS short, data ->> 'email' AS data_email FROM person`,
	`CREATE VIEW person_domain AS SELECT id, split_part(email, '@', 2) AS domain FROM person`,
	`CREATE TABLE audit (msg text)`,
	`CREATE TRIGGER person_audit AFTER INSERT ON person BEGIN INSERT INTO audit VALUES (right(NEW.name, 2)); END`,
	`INSERT INTO person (age, name, code, email, data) VALUES (30, 'alice', 'ABC', 'alice@example.org', '{"email": "a@x"}'),
		(40, 'bob', 'ABD', 'bob@example.org', '{"email": 7}')`,
	`INSERT INTO hb VALUES (1, 20)`,
}

// A backup of a database whose schema Postgres applications wrote opens in
// stock sqlite3: integrity_check passes, the tables take writes with their
// CHECKs, DEFAULTs, generated columns, indexes and triggers run by sqlite3,
// the views of SQLite functions read; and it restores into raftsql. What
// stock sqlite3 could not run in a CHECK, DEFAULT, generated column or
// index is refused when the schema is written.
func TestBackupOfPostgresSchemaOpensInSQLite3(t *testing.T) {
	c := servertest.NewCluster(t, 1, servertest.Options{})
	conn := connect(t, c, 0)
	for _, s := range portableSchema {
		mustExec(t, conn, s)
	}
	for _, s := range []struct{ sql, fn string }{
		{`CREATE TABLE no1 (email text CHECK (split_part(email, '@', 2) <> ''))`, "split_part()"},
		{`CREATE TABLE no2 (a text, b text GENERATED ALWAYS AS (initcap(a)) STORED)`, "initcap()"},
		{`CREATE TABLE no3 (a text DEFAULT md5('x'))`, "md5()"},
		{`CREATE INDEX no4 ON person (reverse(name))`, "reverse()"},
		{`ALTER TABLE person ADD CONSTRAINT no5 CHECK (email ~* '^a')`, "~*"},
		{`CREATE TABLE no6 (id serial PRIMARY KEY, email text CHECK (split_part(email, '@', 2) <> ''))`, "split_part()"},
	} {
		_, err := conn.Exec(context.Background(), s.sql)
		if sqlState(err) != "0A000" || !strings.Contains(err.Error(), s.fn) || !strings.Contains(err.Error(), "portable backup") {
			t.Errorf("%s: got %v, want 0A000 naming %s and the portable backup", s.sql, err, s.fn)
		}
	}
	if n := count(t, conn, "SELECT count(*) FROM audit WHERE msg IN ('ce', 'ob')"); n != 2 {
		t.Fatalf("trigger rows: %d", n)
	}
	var short, dataEmail string
	if err := conn.QueryRow(context.Background(), "SELECT short, data_email FROM person_short WHERE id = 2").Scan(&short, &dataEmail); err != nil || short != "bob" || dataEmail != "7" {
		t.Fatalf("person_short: %q %q %v, want bob 7", short, dataEmail, err)
	}
	want := dumpOf(t, c, 0)
	path, _ := backupToFile(t, c.Node(0), server.BackupOptions{})

	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Log("sqlite3 is not installed: the backup is not opened by it")
	} else {
		sqlite3Check(t, path)
		// sqlite3 writes to a copy; the backup itself is restored below.
		cp := filepath.Join(t.TempDir(), "copy.db")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cp, b, 0o644); err != nil {
			t.Fatal(err)
		}
		sqlite3 := func(sql string) (string, error) {
			out, err := exec.Command("sqlite3", cp, sql).CombinedOutput()
			return strings.TrimSpace(string(out)), err
		}
		for _, s := range []struct{ sql, want string }{
			{`INSERT INTO person (age, name, code, email, data) VALUES (5, 'carol', 'ABE', 'carol@example.org', '{"email": "c@x"}') RETURNING initials, length(u), typeof(created_at)`, "cl|36|text"},
			{`SELECT short, data_email FROM person_short ORDER BY id`, "ali|a@x\nbob|7\ncar|c@x"},
			{`SELECT count(*) FROM person WHERE lower(email) = 'bob@example.org'`, "1"},
			{`SELECT group_concat(msg) FROM audit`, "ce,ob,ol"},
			{`INSERT INTO hb VALUES (2, 30) RETURNING age`, "30"},
			{`INSERT INTO ticket (id) VALUES (42) RETURNING code, bar`, "000042|---"},
			{`PRAGMA integrity_check`, "ok"},
		} {
			if got, err := sqlite3(s.sql); err != nil || got != s.want {
				t.Errorf("sqlite3 %q: got %q (%v), want %q", s.sql, got, err, s.want)
			}
		}
		// What the schema's expressions refuse, sqlite3 refuses too.
		for _, s := range []string{
			`INSERT INTO person (age, name, code) VALUES (-1, 'dave', 'ABC')`,
			`INSERT INTO person (age, name, code) VALUES (1, 'dave', 'XYZ')`,
			`INSERT INTO person (age, name, code) VALUES (1, 'dave', 'ABZ')`,
			`INSERT INTO person (age, name, email) VALUES (1, 'dave', 'no-at-sign')`,
			`INSERT INTO person (age, name, data) VALUES (1, 'dave', '[1]')`,
			`INSERT INTO person (age, name, email) VALUES (1, 'dave', 'ALICE@example.org')`,
			`INSERT INTO hb VALUES (3, 151)`,
		} {
			if got, err := sqlite3(s); err == nil || !strings.Contains(got, "constraint failed") {
				t.Errorf("sqlite3 %q: got %q (%v), want a constraint failure", s, got, err)
			}
		}
		// A view of a function raftsql adds reads only in raftsql.
		if got, err := sqlite3(`SELECT * FROM person_domain`); err == nil || !strings.Contains(got, "no such function: split_part") {
			t.Errorf("sqlite3 reading person_domain: got %q (%v), want no such function: split_part", got, err)
		}
	}

	// The backup restores into raftsql, which runs the same schema.
	mustExec(t, conn, "DROP VIEW person_domain")
	if _, err := restoreFile(t, c.Node(0), path); err != nil {
		t.Fatalf("restore of the backup: %v", err)
	}
	if got := dumpOf(t, c, 0); got != want {
		t.Fatalf("restored database differs:\n--- got\n%s\n--- want\n%s", got, want)
	}
	servertest.Eventually(t, 10*time.Second, "a connection after the restore", func() error {
		conn = connect(t, c, 0)
		_, err := conn.Exec(context.Background(), `INSERT INTO person (age, name, code, email) VALUES (7, 'erin', 'ABF', 'erin@example.org')`)
		return err
	})
	var domain, initials string
	if err := conn.QueryRow(context.Background(), "SELECT d.domain, p.initials FROM person_domain d JOIN person p USING (id) WHERE p.name = 'erin'").Scan(&domain, &initials); err != nil || domain != "example.org" || initials != "en" {
		t.Fatalf("after the restore: %q %q %v, want example.org en", domain, initials, err)
	}
	if n := count(t, conn, "SELECT count(*) FROM audit"); n != 3 {
		t.Fatalf("audit rows after the restore: %d, want 3", n)
	}
}
