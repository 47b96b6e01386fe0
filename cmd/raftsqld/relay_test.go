package main

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// A follower process that is stopped (SIGSTOP) while it relays a
// transaction block holding the cluster's write lock loses the lock within
// --relay-timeout: writes on the leader go on, long before the
// idle-in-transaction timeout.
func TestStoppedFollowerLosesTheWriteLock(t *testing.T) {
	c := newCrashCluster(t, "--relay-timeout", "500ms", "--idle-in-transaction-timeout", "10m")
	c.exec("CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER)", "INSERT INTO acct VALUES (1, 100)")
	l := c.leader()
	f := c.followers(l)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fc, err := pgConnect(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close(context.Background())
	ftx, err := fc.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ftx.Exec(ctx, "UPDATE acct SET balance = balance - 1 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	if err := f.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer f.cmd.Process.Signal(syscall.SIGCONT)
	lc, err := pgConnect(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close(context.Background())
	start := time.Now()
	tx, err := lc.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE acct SET balance = balance + 10 WHERE id = 1"); err != nil {
		t.Fatalf("the stopped follower's block kept the write lock: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("the leader's transaction got the lock after %v", time.Since(start))
	var balance int
	if err := lc.QueryRow(ctx, "SELECT balance FROM acct WHERE id = 1").Scan(&balance); err != nil {
		t.Fatal(err)
	}
	if balance != 110 {
		t.Fatalf("balance %d, want 110: the stopped block must not commit", balance)
	}
	f.cmd.Process.Signal(syscall.SIGCONT)
	if err := ftx.Commit(ctx); err == nil {
		t.Fatal("the aborted block committed after the follower resumed")
	}
}
