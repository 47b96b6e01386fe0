package compattest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/lib/pq"
	"github.com/pressly/goose/v3/lock"
)

// TestMigratorLocksAcrossNodes: goose's own Postgres session locker, on
// two nodes, as two deployments starting at once run it: the second cannot
// lock until the first lets go. Then golang-migrate's lock statements, as
// its postgres driver sends them over lib/pq (the key as a string
// parameter).
func TestMigratorLocksAcrossNodes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	a, b, _ := nodes(t)
	conn := func(driver string, node int) *sql.Conn {
		t.Helper()
		db, err := sql.Open(driver, dsnFor(t, node))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	first, second := conn("pgx", a), conn("pgx", b)
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		t.Fatal(err)
	}
	if err := locker.SessionLock(ctx, first); err != nil {
		t.Fatalf("the first migrator's lock: %v", err)
	}
	impatient, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := impatient.SessionLock(ctx, second); err == nil {
		t.Fatal("a second migrator on another node locked while the first held the lock")
	}
	if err := locker.SessionUnlock(ctx, first); err != nil {
		t.Fatalf("the first migrator's unlock: %v", err)
	}
	if err := impatient.SessionLock(ctx, second); err != nil {
		t.Fatalf("the second migrator's lock once free: %v", err)
	}
	if err := impatient.SessionUnlock(ctx, second); err != nil {
		t.Fatalf("the second migrator's unlock: %v", err)
	}

	// golang-migrate: ExecContext of pg_advisory_lock($1) with the key as
	// a string; the second waits until the first unlocks.
	m1, m2 := conn("postgres", a), conn("postgres", b)
	const key = "1234567890"
	if _, err := m1.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		t.Fatalf("golang-migrate's lock: %v", err)
	}
	locked := make(chan error, 1)
	go func() {
		_, err := m2.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key)
		locked <- err
	}()
	select {
	case err := <-locked:
		t.Fatalf("the second golang-migrate locked while the first held the lock (%v)", err)
	case <-time.After(time.Second):
	}
	if _, err := m1.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
		t.Fatalf("golang-migrate's unlock: %v", err)
	}
	if err := <-locked; err != nil {
		t.Fatalf("the second golang-migrate's lock: %v", err)
	}
	if _, err := m2.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
		t.Fatal(err)
	}
}
