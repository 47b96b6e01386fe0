package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// steady gives a cluster leases that a process starved by a loaded machine
// keeps, for tests that are not about failover: a leader change would abort
// the transactions they hold open.
func steady(cfg *server.Config) {
	cfg.HeartbeatTimeout = 3 * time.Second
	cfg.ElectionTimeout = 3 * time.Second
	cfg.LeaderLeaseTimeout = 2 * time.Second
}

func pgErr(err error) *pgconn.PgError {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// TestLockWaitIsNamedNotUnknown holds the write lock with an idle
// transaction: writers on the leader and on a follower that give up waiting
// get 55P03 naming the write lock and the timeout, not 40003, SET
// lock_timeout shortens the wait, and none of their writes is applied.
func TestLockWaitIsNamedNotUnknown(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) {
		steady(cfg)
		cfg.ApplyTimeout = 3 * time.Second
		cfg.LockTimeout = time.Second
	}})
	holder := connect(t, c, c.Leader())
	mustExec(t, holder, "CREATE TABLE w (x INTEGER)")
	mustExec(t, holder, "BEGIN")
	mustExec(t, holder, "INSERT INTO w VALUES (1)")

	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		node    int
		set     string
		timeout time.Duration
	}{
		{"leader, lock_timeout", c.Leader(), "SET lock_timeout = '300ms'", 300 * time.Millisecond},
		{"leader, the node's bound", c.Leader(), "SET lock_timeout = 0", time.Second},
		{"follower", c.Follower(), "", time.Second},
	} {
		conn := connect(t, c, tc.node)
		if tc.set != "" {
			mustExec(t, conn, tc.set)
		}
		start := time.Now()
		_, err := conn.Exec(ctx, "INSERT INTO w VALUES (2)")
		took := time.Since(start)
		pe := pgErr(err)
		if pe == nil || pe.Code != "55P03" || !strings.Contains(pe.Message, "write lock") || !strings.Contains(pe.Message, tc.timeout.String()) {
			t.Fatalf("%s: waiting for the write lock: %v, want 55P03 naming the write lock and %v", tc.name, err, tc.timeout)
		}
		if took < tc.timeout {
			t.Fatalf("%s: gave up after %v, before the %v lock timeout", tc.name, took, tc.timeout)
		}
		// A transaction's first write waits the same way.
		mustExec(t, conn, "BEGIN")
		_, err = conn.Exec(ctx, "INSERT INTO w VALUES (3)")
		if pe := pgErr(err); pe == nil || pe.Code != "55P03" {
			t.Fatalf("%s: a transaction's first write waiting for the lock: %v, want 55P03", tc.name, err)
		}
		mustExec(t, conn, "ROLLBACK")
	}
	mustExec(t, holder, "COMMIT")
	other := connect(t, c, c.Follower())
	mustExec(t, other, "INSERT INTO w VALUES (4)")
	if n := count(t, other, "SELECT count(*) FROM w WHERE x IN (2, 3)"); n != 0 {
		t.Fatalf("%d writes that gave up waiting were applied", n)
	}
	c.WaitSynced()
	c.EnsureSame()
}

// slowCount is a read that keeps SQLite busy for seconds.
const slowCount = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) SELECT count(*) FROM c"

// TestSlowReadsAreNotUnknownOutcomes checks the reads that time out: a weak
// read the leader answers too slowly, and linearizable reads on a follower
// still applying a large entry. Neither is 40003: a read has no outcome to be
// unsure of.
func TestSlowReadsAreNotUnknownOutcomes(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) {
		steady(cfg)
		cfg.ReadTimeout = time.Second
	}})
	ctx := context.Background()
	leader := connect(t, c, c.Leader())
	follower := connect(t, c, c.Follower())

	mustExec(t, follower, "SET raftsql.read_consistency = weak")
	_, err := follower.Exec(ctx, slowCount)
	if pe := pgErr(err); pe == nil || pe.Code != "57014" || !strings.Contains(pe.Message, "read timeout") {
		t.Fatalf("weak read the leader answers too slowly: %v, want 57014 canceling statement due to read timeout", err)
	}
	mustExec(t, follower, "SET raftsql.read_consistency = linearizable")

	// A large entry takes the follower a while to apply; linearizable
	// reads there meanwhile cannot catch up within the read timeout.
	mustExec(t, leader, "CREATE TABLE big (x INTEGER, y BLOB)")
	done := make(chan error, 1)
	go func() {
		_, err := leader.Exec(ctx, "INSERT INTO big WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500000) SELECT x, randomblob(16) FROM c")
		done <- err
	}()
	caught := 0
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("large insert: %v", err)
			}
			if caught == 0 {
				t.Log("no read fell into the follower's apply")
			}
			// The followers apply the 1.5M rows after the leader did,
			// which takes minutes under the race detector.
			c.WaitSyncedWithin(5 * time.Minute)
			return
		default:
		}
		_, err := follower.Exec(ctx, "SELECT count(*) FROM big")
		if err == nil {
			continue
		}
		if pe := pgErr(err); pe == nil || pe.Code != "57P03" {
			t.Fatalf("linearizable read on a follower that has not caught up: %v, want 57P03", err)
		}
		caught++
	}
}

// TestStatementTimeout enforces SET statement_timeout on reads and on the
// leader's part of a transaction, and leaves the session usable.
func TestStatementTimeout(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) { steady(cfg) }})
	ctx := context.Background()
	for _, node := range []int{c.Leader(), c.Follower()} {
		conn := connect(t, c, node)
		mustExec(t, conn, "CREATE TABLE IF NOT EXISTS st (x INTEGER)")
		for _, level := range []string{"linearizable", "none", "weak"} {
			mustExec(t, conn, "SET raftsql.read_consistency = "+level)
			mustExec(t, conn, "SET statement_timeout = '200ms'")
			start := time.Now()
			_, err := conn.Exec(ctx, slowCount)
			if pe := pgErr(err); pe == nil || pe.Code != "57014" || pe.Message != "canceling statement due to statement timeout" {
				t.Fatalf("node %d, %s read past statement_timeout: %v, want 57014", node, level, err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Fatalf("node %d, %s read stopped %v after starting", node, level, took)
			}
			mustExec(t, conn, "SET statement_timeout = 0")
		}
		mustExec(t, conn, "SET raftsql.read_consistency = linearizable")
		if n := count(t, conn, "SELECT 1"); n != 1 {
			t.Fatal("session unusable after a statement timeout")
		}
	}
	// A transaction's statements run on the leader, also when it began on
	// a follower: a slow one there is cut short, and the block is then
	// failed until ROLLBACK.
	for _, node := range []int{c.Leader(), c.Follower()} {
		conn := connect(t, c, node)
		mustExec(t, conn, "BEGIN")
		mustExec(t, conn, "INSERT INTO st VALUES (1)")
		mustExec(t, conn, "SET statement_timeout = '200ms'")
		_, err := conn.Exec(ctx, "INSERT INTO st "+slowCount)
		if pe := pgErr(err); pe == nil || pe.Code != "57014" {
			t.Fatalf("node %d: slow write in a transaction past statement_timeout: %v, want 57014", node, err)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO st VALUES (2)"); sqlState(err) != "25P02" {
			t.Fatalf("node %d: after the timeout: %v, want 25P02", node, err)
		}
		mustExec(t, conn, "ROLLBACK")
		mustExec(t, conn, "SET statement_timeout = 0")
		if n := count(t, conn, "SELECT count(*) FROM st WHERE x IN (1, 2)"); n != 0 {
			t.Fatalf("node %d: %d rows after the timed-out transaction, want 0", node, n)
		}
		mustExec(t, conn, "INSERT INTO st VALUES (3)") // the write lock is free again
	}
	c.WaitSynced()
	c.EnsureSame()
}

// TestRestartedNodeNeverSaysNoSuchTable reads, at linearizable, a table
// created before the cluster restarted, through a node as soon as it is
// back: its database starts empty and fills when it hears from a leader, so
// until then each read must report 57P03 (retry), never 42P01.
func TestRestartedNodeNeverSaysNoSuchTable(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) {
		steady(cfg)
		cfg.ReadTimeout = 300 * time.Millisecond
	}})
	leader := connect(t, c, c.Leader())
	mustExec(t, leader, "CREATE TABLE r (x INTEGER)")
	mustExec(t, leader, "INSERT INTO r VALUES (1)")
	leader.Close(context.Background())
	c.WaitSynced()
	for i := range c.Size() {
		c.Stop(i)
	}
	for i := range c.Size() {
		c.Restart(i)
	}
	refused := 0
	servertest.Eventually(t, 60*time.Second, "a read through a restarted node", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, c.DSN(0))
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		var n int64
		err = conn.QueryRow(ctx, "SELECT count(*) FROM r").Scan(&n)
		if code := sqlState(err); err != nil && code != "57P03" {
			t.Fatalf("restarted node: %v, want an answer or 57P03", err)
		}
		if err != nil {
			refused++
			return err
		}
		if n != 1 {
			t.Fatalf("%d rows, want 1", n)
		}
		return nil
	})
	t.Logf("%d reads refused with 57P03 before the node could answer", refused)
	c.EnsureSame()
}
