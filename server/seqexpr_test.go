package server_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// TestSequencesInStatementsAgree: nextval, setval and currval inside other
// statements — INSERT … VALUES, one number per row of INSERT … SELECT, a
// DEFAULT on a sequence two tables share, RETURNING, transaction blocks
// that commit, roll back and roll back to a savepoint — give the numbers
// Postgres would (but for rollbacks, which give them back), the same on
// every node, after a restart that replays the log and on a follower that
// installs a snapshot, whichever node took them.
func TestSequencesInStatementsAgree(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		// About values, not failover: a loaded machine must not move the
		// leader while the statements run.
		steady(cfg)
		cfg.SnapshotThreshold = 20
		cfg.SnapshotInterval = 100 * time.Millisecond
		cfg.TrailingLogs = 5
	}})
	f := c.Follower()
	fc := connect(t, c, f)
	lc := connect(t, c, c.Leader())
	for _, sql := range []string{
		"CREATE SEQUENCE public.s",
		"CREATE TABLE sa (id bigint DEFAULT nextval('public.s'::regclass) NOT NULL, x integer)",
		"CREATE TABLE sb (id integer DEFAULT nextval('s'::regclass) PRIMARY KEY, y text)",
		"CREATE SEQUENCE hibernate_sequence START 1 INCREMENT 1",
		"CREATE TABLE sc (id serial PRIMARY KEY, z text)",
	} {
		mustExec(t, fc, sql)
	}
	want := func(conn *pgx.Conn, sql string, v int64) {
		t.Helper()
		if got := count(t, conn, sql); got != v {
			t.Errorf("%s: %d, want %d", sql, got, v)
		}
	}
	want(fc, "INSERT INTO sa (id, x) VALUES (nextval('s'), 1) RETURNING id", 1)
	want(fc, "INSERT INTO sa (x) VALUES (2) RETURNING id", 2)
	want(lc, "INSERT INTO sb (y) VALUES ('p') RETURNING id", 3)
	mustExec(t, fc, "INSERT INTO sa SELECT nextval('s'), g FROM generate_series(1, 3) g")
	want(fc, "SELECT count(*) FROM sa WHERE (id, x) IN (VALUES (4, 1), (5, 2), (6, 3))", 3)
	want(fc, "SELECT pg_catalog.setval('public.s', 42, true)", 42)
	want(lc, "INSERT INTO sa (x) VALUES (9) RETURNING id", 43)
	var n, one int64
	if err := lc.QueryRow(context.Background(), "SELECT nextval('s'), 1").Scan(&n, &one); err != nil || n != 44 {
		t.Errorf("SELECT nextval('s'), 1: %d %v, want 44", n, err)
	}
	want(fc, "SELECT setval('s', nextval('s') + 10, false)", 55)
	want(fc, "SELECT nextval('s')", 55)
	want(fc, "select nextval('hibernate_sequence')", 1)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A transaction block: the leader's speculative statements see the
	// numbers the command stores.
	tx, err := fc.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var id, cur, other int64
	if err := tx.QueryRow(ctx, "INSERT INTO sa (x) VALUES (10) RETURNING id").Scan(&id); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, "SELECT currval('s')").Scan(&cur); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, "INSERT INTO sb (y) VALUES ('in tx ' || currval('s')) RETURNING id").Scan(&other); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if id != 56 || cur != 56 || other != 57 {
		t.Errorf("in a transaction: id %d, currval %d, next %d; want 56, 56, 57", id, cur, other)
	}
	want(lc, "SELECT id FROM sa WHERE x = 10", 56)
	want(lc, "SELECT count(*) FROM sb WHERE id = 57 AND y = 'in tx 57'", 1)
	// A block that rolls back gives its numbers back (Postgres would not).
	mustExec(t, fc, "BEGIN")
	want(fc, "INSERT INTO sa (x) VALUES (11) RETURNING id", 58)
	mustExec(t, fc, "ROLLBACK")
	mustExec(t, fc, "BEGIN")
	mustExec(t, fc, "SAVEPOINT p")
	want(fc, "INSERT INTO sa (x) VALUES (12) RETURNING id", 58)
	mustExec(t, fc, "ROLLBACK TO SAVEPOINT p")
	want(fc, "INSERT INTO sa (x) VALUES (13) RETURNING id", 58)
	mustExec(t, fc, "COMMIT")
	// A statement that fails after it took a number, then ROLLBACK TO (what
	// psql's ON_ERROR_ROLLBACK does): the block goes on from the number
	// before it, speculatively as when applied.
	mustExec(t, fc, "BEGIN")
	mustExec(t, fc, "SAVEPOINT q")
	if _, err := fc.Exec(ctx, "INSERT INTO sb (id, y) VALUES (3, 'dup ' || nextval('s'))"); sqlState(err) != "23505" {
		t.Errorf("a duplicate key: %v", err)
	}
	mustExec(t, fc, "ROLLBACK TO SAVEPOINT q")
	want(fc, "INSERT INTO sa (x) VALUES (14) RETURNING id", 59)
	mustExec(t, fc, "COMMIT")
	want(lc, "SELECT id FROM sa WHERE x = 14", 59)
	// currval alone in a read-only block answers the session's number,
	// and the block goes on.
	want(fc, "SELECT setval('s', 59)", 59)
	mustExec(t, fc, "BEGIN READ ONLY")
	want(fc, "SELECT currval('s')", 59)
	want(fc, "SELECT 1", 1)
	mustExec(t, fc, "COMMIT")
	// What cannot be made to work is refused, saying what.
	for sql, code := range map[string]string{
		"INSERT INTO sa VALUES (nextval('no_such_seq'), 1)": "42P01",
		"INSERT INTO sa VALUES (nextval('sc_id_seq'), 1)":   "0A000",
		"INSERT INTO sa VALUES (setval('s', 0), 1)":         "22003",
	} {
		if _, err := lc.Exec(ctx, sql); sqlState(err) != code {
			t.Errorf("%s: %v, want SQLSTATE %s", sql, err, code)
		}
	}
	c.EnsureSame()

	// A follower that restarts replays the log; one that is wiped
	// installs a snapshot; both go on numbering where the others are.
	leader := c.Leader()
	for i := 0; i < 30; i++ {
		mustExec(t, lc, "INSERT INTO sa (x) VALUES (100)")
	}
	if _, err := c.Node(leader).Snapshot(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	c.Wipe(f)
	c.EnsureSame()
	other2 := (f + 1) % c.Size()
	if other2 == leader {
		other2 = (other2 + 1) % c.Size()
	}
	c.Stop(other2)
	c.Restart(other2)
	c.WaitMembers(c.Size())
	c.EnsureSame()
	fc = connect(t, c, f)
	want(fc, "INSERT INTO sb (y) VALUES ('after') RETURNING id", 90)
	want(connect(t, c, other2), "SELECT nextval('s')", 91)
	c.EnsureSame()
}

// TestArchiveReplaysSequences: a point-in-time rebuild replays entries
// whose statements take numbers from a sequence, and gets the numbers the
// cluster stored.
func TestArchiveReplaysSequences(t *testing.T) {
	dir := t.TempDir()
	c := archivedCluster(t, dir)
	waitArchiving(t, c)
	conn := connect(t, c, c.Leader())
	mustExec(t, conn, "CREATE SEQUENCE ts START 100")
	mustExec(t, conn, "CREATE TABLE t (id bigint DEFAULT nextval('ts'::regclass) NOT NULL, v text)")
	mustExec(t, conn, "INSERT INTO t (v) VALUES ('a'), ('b')")
	mustExec(t, conn, "INSERT INTO t SELECT nextval('ts'), 'g' || g FROM generate_series(1, 3) g")
	idx, err := strconv.ParseUint(conn.PgConn().ParameterStatus("raftsql.write_index"), 10, 64)
	if err != nil || idx == 0 {
		t.Fatalf("write_index: %v", err)
	}
	waitArchived(t, dir, idx)
	out, _ := rebuild(t, dir, server.ArchiveTarget{Index: idx})
	if got := fmt.Sprint(idsIn(t, out)); got != "[100 101 102 103 104]" {
		t.Errorf("rebuilt ids %s, want [100 101 102 103 104]", got)
	}
}
