package pgwire

import (
	"context"
	"testing"
)

// TestDeallocateListen: DEALLOCATE drops a prepared statement (psycopg 3
// sends DEALLOCATE ALL after a rollback), LISTEN and UNLISTEN are
// accepted, NOTIFY is refused.
func TestDeallocateListen(t *testing.T) {
	_, _, addr := startServer(t, Config{})
	c := connect(t, addr, "")
	ctx := context.Background()
	pc := c.PgConn()
	if _, err := pc.Prepare(ctx, "s1", "SELECT 1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Prepare(ctx, "s2", "SELECT 2", nil); err != nil {
		t.Fatal(err)
	}
	if tag, err := pc.Exec(ctx, "DEALLOCATE s1").ReadAll(); err != nil || tag[0].CommandTag.String() != "DEALLOCATE" {
		t.Fatalf("DEALLOCATE s1: %v %v", tag, err)
	}
	if _, err := pc.Exec(ctx, "DEALLOCATE s1").ReadAll(); pgCode(err) != "26000" {
		t.Errorf("DEALLOCATE of a missing statement: %v", err)
	}
	if _, err := pc.Exec(ctx, "DEALLOCATE PREPARE ALL").ReadAll(); err != nil {
		t.Fatal(err)
	}
	if res := pc.ExecPrepared(ctx, "s2", nil, nil, nil).Read(); pgCode(res.Err) != "26000" {
		t.Errorf("s2 after DEALLOCATE ALL: %v", res.Err)
	}
	for _, q := range []string{"LISTEN chan", "UNLISTEN *"} {
		if _, err := pc.Exec(ctx, q).ReadAll(); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
	if _, err := pc.Exec(ctx, "NOTIFY chan").ReadAll(); pgCode(err) != "0A000" {
		t.Errorf("NOTIFY: %v", err)
	}
}
