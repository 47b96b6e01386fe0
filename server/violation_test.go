package server_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// TestConstraintViolationsAsPostgres breaks each kind of constraint on the
// leader and through a follower, in autocommit and inside a transaction
// block: the client gets Postgres' SQLSTATE, message and fields, and the
// constraint's name is the one pg_constraint or pg_indexes shows.
func TestConstraintViolationsAsPostgres(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) { steady(cfg) }})
	leader := connect(t, c, c.Leader())
	for _, sql := range []string{
		`CREATE TABLE p (id INTEGER PRIMARY KEY, code TEXT UNIQUE, v INT CONSTRAINT v_small CHECK (v < 100), n INT NOT NULL DEFAULT 0, name TEXT, CHECK (n >= 0))`,
		`CREATE TABLE c (id INT PRIMARY KEY, pid INT REFERENCES p (id), tag TEXT)`,
		`CREATE UNIQUE INDEX c_tag_uniq ON c (tag)`,
		`CREATE TABLE pair (a INT, b INT, UNIQUE (a, b))`,
		`INSERT INTO pair VALUES (1, 2)`,
		`CREATE TABLE q (id INTEGER PRIMARY KEY)`,
		`CREATE TABLE late (id INT PRIMARY KEY, qid INT REFERENCES q (id) DEFERRABLE INITIALLY DEFERRED)`,
		`CREATE UNIQUE INDEX p_lower_name ON p (lower(name))`,
		`INSERT INTO p (id, code, name) VALUES (1, 'a', 'bob')`,
		`INSERT INTO c (id, pid, tag) VALUES (1, 1, 'x')`,
	} {
		mustExec(t, leader, sql)
	}

	// The names the catalogs show.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	shown := map[string]bool{}
	rows, err := leader.Query(ctx, `SELECT conname FROM pg_constraint UNION ALL SELECT indexname FROM pg_indexes`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		shown[n] = true
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}

	for _, tc := range []struct {
		name, sql                                string
		code, message, constraint, table, column string
		catalog                                  bool // the constraint is in pg_constraint or pg_indexes
		detail                                   string
		args                                     []any // run with these parameters (the extended protocol)
	}{
		{"primary key", `INSERT INTO p (id, code) VALUES (1, 'b')`,
			"23505", `duplicate key value violates unique constraint "p_pkey"`, "p_pkey", "p", "", true, "Key (id)=(1) already exists.", nil},
		{"unique column", `INSERT INTO p (id, code) VALUES (2, 'a')`,
			"23505", `duplicate key value violates unique constraint "p_code_key"`, "p_code_key", "p", "", true, "Key (code)=(a) already exists.", nil},
		{"primary key that is not the rowid", `INSERT INTO c (id, pid) VALUES (1, 1)`,
			"23505", `duplicate key value violates unique constraint "c_pkey"`, "c_pkey", "c", "", true, "Key (id)=(1) already exists.", nil},
		{"unique pair", `INSERT INTO pair VALUES (1, 2)`,
			"23505", `duplicate key value violates unique constraint "pair_a_b_key"`, "pair_a_b_key", "pair", "", true,
			"Key (a, b)=(1, 2) already exists.", nil},
		{"unique index", `INSERT INTO c (id, pid, tag) VALUES (2, 1, 'x')`,
			"23505", `duplicate key value violates unique constraint "c_tag_uniq"`, "c_tag_uniq", "c", "", true, "Key (tag)=(x) already exists.", nil},
		{"unique index on an expression", `INSERT INTO p (id, code, name) VALUES (2, 'b', 'Bob')`,
			"23505", `duplicate key value violates unique constraint "p_lower_name"`, "p_lower_name", "p", "", true, "", nil},
		{"not null", `INSERT INTO p (id, code, n) VALUES (3, 'c', NULL)`,
			"23502", `null value in column "n" of relation "p" violates not-null constraint`, "", "p", "n", false, "", nil},
		{"unnamed check", `INSERT INTO p (id, code, n) VALUES (3, 'c', -1)`,
			"23514", `new row for relation "p" violates check constraint "p_n_check"`, "p_n_check", "p", "", false, "", nil},
		{"named check", `UPDATE p SET v = 500 WHERE id = 1`,
			"23514", `new row for relation "p" violates check constraint "v_small"`, "v_small", "p", "", false, "", nil},
		{"foreign key of an insert", `INSERT INTO c (id, pid) VALUES (3, 99)`,
			"23503", `insert or update on table "c" violates foreign key constraint "c_pid_fkey"`, "c_pid_fkey", "c", "", true, "Key (pid)=(99) is not present in table \"p\".", nil},
		{"foreign key of a delete", `DELETE FROM p WHERE id = 1`,
			"23503", `update or delete on table "p" violates foreign key constraint "c_pid_fkey" on table "c"`, "c_pid_fkey", "c", "", true,
			`Key (id)=(1) is still referenced from table "c".`, nil},
		{"unique column from parameters", `INSERT INTO p (id, code) VALUES ($1, $2)`,
			"23505", `duplicate key value violates unique constraint "p_code_key"`, "p_code_key", "p", "", true,
			"Key (code)=(a) already exists.", []any{int64(5), "a"}},
		{"foreign key of an update from a parameter", `UPDATE c SET tag = 'y', pid = $1 WHERE id = 1`,
			"23503", `insert or update on table "c" violates foreign key constraint "c_pid_fkey"`, "c_pid_fkey", "c", "", true,
			`Key (pid)=(42) is not present in table "p".`, []any{int64(42)}},
	} {
		if tc.catalog && !shown[tc.constraint] {
			t.Errorf("%s: %s is not in pg_constraint or pg_indexes (%v)", tc.name, tc.constraint, shown)
		}
		for _, at := range []struct {
			name string
			node int
		}{{"leader", c.Leader()}, {"follower", c.Follower()}} {
			conn := connect(t, c, at.node)
			for _, inTx := range []bool{false, true} {
				where := at.name + ", autocommit"
				if inTx {
					where = at.name + ", in a transaction"
					mustExec(t, conn, "BEGIN")
				}
				// The simple protocol, then the extended one.
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				_, err := conn.Exec(ctx, tc.sql, tc.args...)
				errs := []error{err}
				if !inTx && tc.args == nil {
					errs = append(errs, conn.PgConn().ExecParams(ctx, tc.sql, nil, nil, nil, nil).Read().Err)
				}
				cancel()
				if inTx {
					mustExec(t, conn, "ROLLBACK")
				}
				for _, err := range errs {
					pe := pgErr(err)
					if pe == nil {
						t.Errorf("%s (%s): %v, want SQLSTATE %s", tc.name, where, err, tc.code)
						continue
					}
					got := [...]string{pe.Code, pe.Message, pe.ConstraintName, pe.TableName, pe.ColumnName, pe.SchemaName, pe.Detail}
					want := [...]string{tc.code, tc.message, tc.constraint, tc.table, tc.column, "public", tc.detail}
					if got != want {
						t.Errorf("%s (%s):\n got code, message, constraint, table, column, schema, detail %q\nwant %q", tc.name, where, got, want)
					}
				}
			}
		}
	}

	// A foreign key checked at COMMIT fails the COMMIT: SQLite does not
	// say which key, nor which statement.
	for _, at := range []int{c.Leader(), c.Follower()} {
		conn := connect(t, c, at)
		mustExec(t, conn, "BEGIN")
		mustExec(t, conn, "INSERT INTO late (id, qid) VALUES (1, 99)")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err := conn.Exec(ctx, "COMMIT")
		cancel()
		if pe := pgErr(err); pe == nil || pe.Code != "23503" {
			t.Errorf("node %d: a deferred foreign key at COMMIT: %v, want SQLSTATE 23503", at, err)
		}
	}
	if n := count(t, leader, "SELECT count(*) FROM late"); n != 0 {
		t.Errorf("the failed COMMIT left %d rows", n)
	}
	c.EnsureSame()
}

// TestConstraintViolationInPsql shows a violation as psql prints it, with
// the fields it shows in verbose mode.
func TestConstraintViolationInPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (apt-get install postgresql-client)")
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	host, port, _ := strings.Cut(c.PGAddr(c.Follower()), ":")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, psql, "-h", host, "-p", port, "-U", "raftsql", "-d", "raftsql", "-X",
		"-v", "VERBOSITY=verbose",
		"-c", "CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE NOT NULL)",
		"-c", "INSERT INTO users (email) VALUES ('a@example.com')",
		"-c", "INSERT INTO users (email) VALUES ('a@example.com')")
	cmd.Env = append(cmd.Environ(), "PGCONNECT_TIMEOUT=10")
	out, _ := cmd.CombinedOutput()
	t.Logf("psql:\n%s", out)
	for _, want := range []string{
		`ERROR:  23505: duplicate key value violates unique constraint "users_email_key"`,
		"DETAIL:  Key (email)=(a@example.com) already exists.",
		"SCHEMA NAME:  public",
		"TABLE NAME:  users",
		"CONSTRAINT NAME:  users_email_key",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("psql output lacks %q:\n%s", want, out)
		}
	}
}
