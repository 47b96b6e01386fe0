package server_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// TestAdvisoryLocksLostOnLeaderChange: the lock table is the leader's, so
// a change of leader loses every lock, and each holder is told so, with a
// FATAL error, on its next statement, on the old leader as on a follower;
// a new lock is then granted by the new leader.
func TestAdvisoryLocksLostOnLeaderChange(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	leader, follower := c.Leader(), c.Follower()
	connect := func(i int) *pgx.Conn {
		conn, err := pgx.Connect(ctx, c.DSN(i))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		return conn
	}
	onLeader, onFollower := connect(leader), connect(follower)
	for _, conn := range []*pgx.Conn{onLeader, onFollower} {
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", conn.PgConn().PID()); err != nil {
			t.Fatalf("pg_advisory_lock: %v", err)
		}
	}
	if _, err := c.Node(leader).TransferLeadership(ctx, "", "test"); err != nil {
		t.Fatalf("transfer: %v", err)
	}
	servertest.Eventually(t, 30*time.Second, "a new leader", func() error {
		if c.Leader() == leader {
			return errors.New("same leader")
		}
		return nil
	})
	for name, conn := range map[string]*pgx.Conn{"old leader": onLeader, "follower": onFollower} {
		var n int
		err := conn.QueryRow(ctx, "SELECT 1").Scan(&n)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "57P02" || pe.Severity != "FATAL" {
			t.Errorf("%s: the next statement of a holder after the leader changed: %v, want FATAL 57P02", name, err)
		}
	}
	// The locks are free for anyone, through the new leader.
	other := connect(follower)
	for _, key := range []uint32{onLeader.PgConn().PID(), onFollower.PgConn().PID()} {
		var ok bool
		if err := other.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", int64(key)).Scan(&ok); err != nil || !ok {
			t.Fatalf("a lost lock was not free again: %v %v", ok, err)
		}
	}
}

// TestAdvisoryLockOfLostFollowerIsReleased: a follower cut off from the
// leader loses its sessions' locks there, so another node's migrator gets
// them; the cut-off session learns so once it is back.
func TestAdvisoryLockOfLostFollowerIsReleased(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	leader := c.Leader()
	var a, b int = -1, -1
	for i := 0; i < 3; i++ {
		if i == leader {
			continue
		}
		if a < 0 {
			a = i
		} else {
			b = i
		}
	}
	holder, err := pgx.Connect(ctx, c.DSN(a))
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(context.Background())
	other, err := pgx.Connect(ctx, c.DSN(b))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock(99)"); err != nil {
		t.Fatal(err)
	}
	var ok bool
	if err := other.QueryRow(ctx, "SELECT pg_try_advisory_lock(99)").Scan(&ok); err != nil || ok {
		t.Fatalf("the lock was free while its holder held it: %v %v", ok, err)
	}
	c.Partition(a)
	// The waiting migrator on the other follower gets it.
	if _, err := other.Exec(ctx, "SELECT pg_advisory_lock(99)"); err != nil {
		t.Fatalf("waiting for the lock of a lost follower: %v", err)
	}
	c.Heal()
	servertest.Eventually(t, 30*time.Second, "the cut-off holder told its lock is lost", func() error {
		var n int
		err := holder.QueryRow(ctx, "SELECT 1").Scan(&n)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "57P02" {
			return nil
		}
		if holder.IsClosed() {
			t.Fatalf("the holder's connection ended without the lost-lock error: %v", err)
		}
		return errors.New("not yet")
	})
}

// TestAdvisoryLockOutlivesItsLease: a follower session that holds a lock
// for longer than the lease keeps it, since it pings; a migrator waiting on
// another follower for longer than the lease keeps waiting, and gets the
// lock once it is let go.
func TestAdvisoryLockOutlivesItsLease(t *testing.T) {
	// Put back after the cluster and its sessions, whose pingers read it, are gone.
	t.Cleanup(server.SetAdvisoryTiming(100*time.Millisecond, 500*time.Millisecond))
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	leader := c.Leader()
	var followers []int
	for i := 0; i < 3; i++ {
		if i != leader {
			followers = append(followers, i)
		}
	}
	connect := func(i int) *pgx.Conn {
		conn, err := pgx.Connect(ctx, c.DSN(i))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		return conn
	}
	holder, waiter := connect(followers[0]), connect(followers[1])
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock(5)"); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := waiter.Exec(ctx, "SELECT pg_advisory_lock(5)")
		got <- err
	}()
	// Four leases long, the holder holds and the waiter waits.
	select {
	case err := <-got:
		t.Fatalf("the waiter got a lock its holder still holds (%v)", err)
	case <-time.After(2 * time.Second):
	}
	var ok bool
	if err := holder.QueryRow(ctx, "SELECT pg_advisory_unlock(5)").Scan(&ok); err != nil || !ok {
		t.Fatalf("the holder's unlock after four leases: %v %v", ok, err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("the waiter: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the waiter never got the lock")
	}
}
