package server_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.etcd.io/bbolt"

	"github.com/raftsql/raftsql/fsm"
	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// TestRowidsPastTheLargestAgree checks that the rowids SQLite picks at
// random once the largest rowid is taken are the same on every node, for
// single writes, groups of concurrent writes and transaction blocks, and
// that a transaction block's client sees the rowid that is stored.
func TestRowidsPastTheLargestAgree(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	conn := connect(t, c, c.Follower())
	mustExec(t, conn, "CREATE TABLE big(id INTEGER PRIMARY KEY, v)")
	mustExec(t, conn, "INSERT INTO big VALUES (9223372036854775807, 'max')")
	mustExec(t, conn, "INSERT INTO big(v) VALUES ('r1')")
	mustExec(t, conn, "INSERT INTO big(v) VALUES ('r2'), ('r3'), ('r4')")
	// A view whose column names SQLite makes unique draws from the same
	// generator.
	mustExec(t, conn, "CREATE TABLE dup AS SELECT 1 a, 2 a, 3 a, 4 a, 5 a, 6 a, 7 a")

	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := tx.QueryRow(ctx, "INSERT INTO big(v) VALUES ('tx') RETURNING id").Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO big(v) VALUES ('tx2')"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(t, conn, "SELECT id FROM big WHERE v = 'tx'"); got != id {
		t.Errorf("the transaction saw rowid %d, the database holds %d", id, got)
	}
	c.EnsureSame()
}

// TestFullTextAndRTreeTablesReplay checks that FTS5 and R*Tree
// tables work live, on every node, and that a follower that replays the
// log from the start holds exactly what the others hold.
func TestFullTextAndRTreeTablesReplay(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	f := c.Follower()
	conn := connect(t, c, f)
	for _, sql := range []string{
		"CREATE VIRTUAL TABLE docs USING fts5(body)",
		"INSERT INTO docs VALUES ('hello world')",
		"INSERT INTO docs(body) VALUES ('goodbye world'), ('hello again')",
		"CREATE VIRTUAL TABLE boxes USING rtree(id, minx, maxx, miny, maxy)",
		"INSERT INTO boxes VALUES (1, 0, 10, 0, 10), (2, 5, 15, 5, 15)",
		"CREATE TABLE hits(q TEXT, n INTEGER)",
		"INSERT INTO hits SELECT 'hello', count(*) FROM docs WHERE docs MATCH 'hello'",
		"DELETE FROM docs WHERE docs MATCH 'goodbye'",
		"UPDATE docs SET body = 'hello updated' WHERE rowid = 1",
		"INSERT INTO docs(docs) VALUES ('optimize')",
		"CREATE VIRTUAL TABLE tmp USING fts5(x)",
		"INSERT INTO tmp VALUES ('a b c')",
		"ALTER TABLE tmp RENAME TO tmp2",
		"ALTER TABLE boxes RENAME TO boxes2",
		"ALTER TABLE boxes2 RENAME TO boxes",
		"DROP TABLE tmp2",
		"CREATE VIRTUAL TABLE shapes USING geopoly(name)",
		"INSERT INTO shapes(_shape, name) VALUES ('[[0,0],[1,0],[0.5,1],[0,0]]', 'tri')",
	} {
		mustExec(t, conn, sql)
	}
	for i := range c.Size() {
		n := connect(t, c, i)
		if got := count(t, n, "SELECT count(*) FROM docs WHERE docs MATCH 'hello'"); got != 2 {
			t.Errorf("node %d: %d documents match 'hello', want 2", i, got)
		}
		if got := count(t, n, "SELECT count(*) FROM boxes WHERE maxx >= 12 AND minx <= 12"); got != 1 {
			t.Errorf("node %d: rtree query: %d", i, got)
		}
	}
	c.EnsureSame()
	// A restarted follower starts from an empty file and applies the log
	// again, in batches of its own.
	other := (f + 1) % c.Size()
	if other == c.Leader() {
		other = (other + 1) % c.Size()
	}
	c.Stop(other)
	c.Restart(other)
	c.WaitMembers(c.Size())
	c.EnsureSame()
	n := connect(t, c, other)
	if got := count(t, n, "SELECT n FROM hits"); got != 2 {
		t.Errorf("replayed follower: hits %d", got)
	}
}

// TestAlterTableReplicates checks that every form of ALTER TABLE works and
// reaches every node.
func TestAlterTableReplicates(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	conn := connect(t, c, c.Follower())
	for _, sql := range []string{
		"CREATE TABLE a(id INTEGER PRIMARY KEY, x TEXT, y TEXT, z TEXT)",
		"CREATE INDEX a_x ON a(x)",
		"CREATE VIEW av AS SELECT id, x FROM a",
		"CREATE TRIGGER a_t AFTER INSERT ON a BEGIN UPDATE a SET z = 'trig' WHERE id = new.id; END",
		"INSERT INTO a VALUES (1, 'x1', 'y1', 'z1')",
		"ALTER TABLE a RENAME TO b",
		"ALTER TABLE b RENAME COLUMN x TO xx",
		"ALTER TABLE b DROP COLUMN y",
		"ALTER TABLE b ADD COLUMN w INTEGER DEFAULT 7",
		"INSERT INTO b(id, xx) VALUES (2, 'x2')",
	} {
		mustExec(t, conn, sql)
	}
	if got := count(t, conn, "SELECT count(*) FROM av WHERE xx IN ('x1', 'x2')"); got != 2 {
		t.Errorf("view after the renames: %d rows", got)
	}
	if got := count(t, conn, "SELECT w FROM b WHERE id = 2"); got != 7 {
		t.Errorf("added column: %d", got)
	}
	// Foreign keys are enforced, and reads say so.
	var fk string
	if err := conn.QueryRow(context.Background(), "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != "1" {
		t.Errorf("PRAGMA foreign_keys: %q %v, want 1", fk, err)
	}
	// Reads on every pooled connection of every node compile against a
	// table re-created with other columns.
	mustExec(t, conn, "CREATE TABLE t1(a, b, c)")
	mustExec(t, conn, "INSERT INTO t1 VALUES (1, 2, 3)")
	conns := make([]*pgx.Conn, c.Size())
	for i := range conns {
		conns[i] = connect(t, c, i)
		for range 8 {
			count(t, conns[i], "SELECT count(*) FROM t1 WHERE c = 3")
		}
	}
	mustExec(t, conn, "DROP TABLE t1")
	mustExec(t, conn, "CREATE TABLE t1(x)")
	mustExec(t, conn, "INSERT INTO t1 VALUES (1)")
	for i, n := range conns {
		for range 8 {
			if got := count(t, n, "SELECT CAST(1 IN t1 AS INTEGER)"); got != 1 {
				t.Fatalf("node %d: SELECT 1 IN t1 = %d", i, got)
			}
		}
	}
	c.EnsureSame()
}

// TestWriteLimitsAreTheLeaders checks that a write that never ends and a
// write that makes a huge value fail with SQLSTATE 54000 on the node that
// applies them, with the leader's limits whatever each node's own setting,
// and that the cluster keeps working and stays the same.
func TestWriteLimitsAreTheLeaders(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		// The limits are the leader's: it must not move during the test.
		steady(cfg)
		cfg.MaxWriteSteps = int64(1_000_000 * (i + 1))
		cfg.MaxValueSize = int64(1<<20) << i
	}})
	leader := c.Leader()
	f := c.Follower()
	conn := connect(t, c, f)
	mustExec(t, conn, "CREATE TABLE slow(n)")
	mustExec(t, conn, "CREATE TABLE t(v)")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := conn.Exec(ctx, "INSERT INTO slow(n) WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r) SELECT count(*) FROM r")
	if st := sqlState(err); st != "54000" || !strings.Contains(err.Error(), "--max-write-steps") {
		t.Fatalf("endless write: %v (SQLSTATE %q), want 54000 naming --max-write-steps", err, st)
	}
	t.Logf("the endless write stopped after %v", time.Since(start))
	_, err = conn.Exec(ctx, "INSERT INTO t SELECT randomblob(500000000)")
	if st := sqlState(err); st != "54000" || !strings.Contains(err.Error(), "--max-value-size") {
		t.Fatalf("huge value: %v (SQLSTATE %q), want 54000 naming --max-value-size", err, st)
	}
	// Just over the leader's value size limit: refused, whatever the
	// other nodes' limits are.
	limit := c.Config(leader).MaxValueSize
	_, err = conn.Exec(ctx, fmt.Sprintf("INSERT INTO t VALUES (zeroblob(%d))", limit+1))
	if st := sqlState(err); st != "54000" {
		t.Errorf("value of the limit plus one: %v (SQLSTATE %q)", err, st)
	}
	mustExec(t, conn, fmt.Sprintf("INSERT INTO t VALUES (zeroblob(%d))", limit/2))
	mustExec(t, conn, "INSERT INTO slow VALUES (1)")
	c.EnsureSame()
}

// TestDamagedLogEntryStopsTheFollower flips one byte inside a committed
// entry in a follower's raft.db and restarts it: the follower must stop at
// that entry, naming it, rather than apply it, while the others go on; once
// wiped it catches up and holds what they hold.
func TestDamagedLogEntryStopsTheFollower(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	conn := connect(t, c, c.Leader())
	mustExec(t, conn, "CREATE TABLE t(v TEXT)")
	mustExec(t, conn, "INSERT INTO t VALUES ('before')")
	mustExec(t, conn, "INSERT INTO t VALUES ('damaged-entry-marker')")
	mustExec(t, conn, "INSERT INTO t VALUES ('after')")
	c.WaitSynced()
	f := c.Follower()
	c.Stop(f)

	db, err := bbolt.Open(filepath.Join(c.Config(f).DataDir, "raft", "raft.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var damaged uint64
	err = db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("logs"))
		if b == nil {
			return errors.New("no logs bucket")
		}
		cur := b.Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			i := bytes.Index(v, []byte("damaged-entry-marker"))
			if i < 0 {
				continue
			}
			nv := bytes.Clone(v)
			nv[i] ^= 0x01 // 'd' becomes 'e': still well-formed SQL
			damaged = binary.BigEndian.Uint64(k)
			return b.Put(bytes.Clone(k), nv)
		}
		return errors.New("entry not found")
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	c.Restart(f)
	servertest.Eventually(t, 30*time.Second, "the damaged follower stops", func() error {
		_, err := c.Node(f).Dump(context.Background())
		if !errors.Is(err, fsm.ErrStopped) {
			return fmt.Errorf("dump: %v", err)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("log entry %d", damaged)) {
			return fmt.Errorf("the failure does not name entry %d: %v", damaged, err)
		}
		return nil
	})
	c.Stop(f)
	mustExec(t, conn, "INSERT INTO t VALUES ('later')")
	c.EnsureSame()
	c.Wipe(f)
	c.WaitMembers(c.Size())
	c.EnsureSame()
	if n := count(t, connect(t, c, f), "SELECT count(*) FROM t WHERE v = 'damaged-entry-marker'"); n != 1 {
		t.Errorf("the wiped follower has %d rows of the damaged entry, want 1", n)
	}
}
