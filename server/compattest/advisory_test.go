package compattest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// followers are two nodes that do not lead, and the leader.
func nodes(t *testing.T) (a, b, leader int) {
	t.Helper()
	leader = cluster.Leader()
	var others []int
	for i := 0; i < cluster.Size(); i++ {
		if i != leader {
			others = append(others, i)
		}
	}
	return others[0], others[1], leader
}

func connect(t *testing.T, ctx context.Context, node int) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(ctx, dsnFor(t, node))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func tryLock(t *testing.T, ctx context.Context, c *pgx.Conn, key int64) bool {
	t.Helper()
	var ok bool
	if err := c.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
		t.Fatalf("pg_try_advisory_lock: %v", err)
	}
	return ok
}

// TestAdvisoryLocksExcludeAcrossNodes: two migrators on two nodes, as
// golang-migrate and goose take their locks; one holds, the other waits
// until it lets go, and a session that ends lets go of what it held.
func TestAdvisoryLocksExcludeAcrossNodes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	a, b, leader := nodes(t)
	first, second, onLeader := connect(t, ctx, a), connect(t, ctx, b), connect(t, ctx, leader)
	const key = 7_000_001

	if _, err := first.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		t.Fatalf("pg_advisory_lock: %v", err)
	}
	if tryLock(t, ctx, second, key) {
		t.Fatal("a session on another follower took a lock that is held")
	}
	if tryLock(t, ctx, onLeader, key) {
		t.Fatal("a session on the leader took a lock that is held")
	}
	// Reentrant for its holder, as in Postgres: two unlocks to let go.
	if !tryLock(t, ctx, first, key) {
		t.Fatal("the holder could not take its own lock again")
	}

	// The second migrator waits for the lock.
	got := make(chan error, 1)
	go func() {
		_, err := second.Exec(ctx, "SELECT pg_advisory_lock($1)", key)
		got <- err
	}()
	unlock := func(c *pgx.Conn) bool {
		var ok bool
		if err := c.QueryRow(ctx, "SELECT pg_advisory_unlock($1)", key).Scan(&ok); err != nil {
			t.Fatalf("pg_advisory_unlock: %v", err)
		}
		return ok
	}
	if !unlock(first) {
		t.Fatal("pg_advisory_unlock of a held lock answered false")
	}
	select {
	case err := <-got:
		t.Fatalf("the waiter got the lock while its holder still held it once (%v)", err)
	default:
	}
	if !unlock(first) {
		t.Fatal("the second unlock answered false")
	}
	if unlock(first) {
		t.Fatal("an unlock of a lock no longer held answered true")
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("waiting pg_advisory_lock: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the waiter never got the released lock")
	}
	if tryLock(t, ctx, first, key) {
		t.Fatal("the first session took the lock the second now holds")
	}

	// A session that ends releases its locks.
	second.Close(ctx)
	deadline := time.Now().Add(30 * time.Second)
	for !tryLock(t, ctx, first, key) {
		if time.Now().After(deadline) {
			t.Fatal("the lock of a closed session was never released")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !unlock(first) {
		t.Fatal("unlock after taking over")
	}
}

// TestAdvisoryLockForms: the two-key and shared forms, the transaction
// ones, and the casts and aliases tools write.
func TestAdvisoryLockForms(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	a, b, _ := nodes(t)
	one, two := connect(t, ctx, a), connect(t, ctx, b)
	var ok bool
	scan := func(c *pgx.Conn, sql string, args ...any) bool {
		t.Helper()
		if err := c.QueryRow(ctx, sql, args...).Scan(&ok); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return ok
	}
	// Shared locks share, and keep an exclusive one out.
	if !scan(one, "SELECT pg_try_advisory_lock_shared(1, 2)") || !scan(two, "select pg_catalog.pg_try_advisory_lock_shared(1,2) as got") {
		t.Fatal("two shared locks excluded each other")
	}
	if scan(two, "SELECT pg_try_advisory_lock(1, 2)") {
		t.Fatal("an exclusive lock was granted beside a shared one of another session")
	}
	// The two-key space is not the one-key space.
	if !scan(two, "SELECT pg_try_advisory_lock($1::bigint)", int64(1)<<32|2) {
		t.Fatal("the one-key lock of the same bits was refused")
	}
	if _, err := one.Exec(ctx, "SELECT pg_advisory_unlock_all()"); err != nil {
		t.Fatal(err)
	}
	// A transaction lock ends with its transaction.
	tx, err := one.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(42)"); err != nil {
		t.Fatal(err)
	}
	if scan(two, "SELECT pg_try_advisory_lock(42)") {
		t.Fatal("a lock held by a transaction was granted")
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !scan(two, "SELECT pg_try_advisory_xact_lock(42)") {
		t.Fatal("the transaction lock outlived its transaction")
	}
	// Outside a block, the statement's own transaction held it.
	if !scan(one, "SELECT pg_try_advisory_lock(42)") {
		t.Fatal("a transaction lock taken outside a block outlived its statement")
	}
	// A bad key is an error, not a lock.
	_, err = one.Exec(ctx, "SELECT pg_advisory_lock($1)", "not a number")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "22P02" {
		t.Fatalf("a key that is no integer: %v, want 22P02", err)
	}
	// Several calls in one SELECT run in order, a column each, in both
	// protocols.
	var first, second bool
	if err := two.QueryRow(ctx, "SELECT pg_try_advisory_lock(7), pg_try_advisory_lock($1) AS second", int64(8)).Scan(&first, &second); err != nil || !first || !second {
		t.Fatalf("two locks in one SELECT: %v %v %v", first, second, err)
	}
	if scan(one, "SELECT pg_try_advisory_lock(8)") {
		t.Fatal("the second lock of a SELECT was not held")
	}
	if err := two.QueryRow(ctx, "SELECT pg_advisory_unlock(7), pg_advisory_unlock(8)", pgx.QueryExecModeSimpleProtocol).Scan(&first, &second); err != nil || !first || !second {
		t.Fatalf("two unlocks in one SELECT: %v %v %v", first, second, err)
	}
	if !scan(one, "SELECT pg_try_advisory_lock(8)") {
		t.Fatal("a lock released in a SELECT of two was still held")
	}
}
