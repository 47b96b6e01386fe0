package server_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/raftsql/raftsql/server/servertest"
)

// TestVacuumDoesNothing: VACUUM in its Postgres forms, as pgbench -i and
// maintenance scripts send it, is taken with a notice and proposes
// nothing; inside a transaction block it is 25001, as in Postgres; VACUUM
// INTO, which would write a file on every node, is refused.
func TestVacuumDoesNothing(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := pgx.ParseConfig(c.DSN(c.Follower()))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var notices []string
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		mu.Lock()
		notices = append(notices, n.Severity+": "+n.Message)
		mu.Unlock()
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	mustExec(t, conn, "CREATE TABLE t (x INTEGER)")
	before := c.Node(c.Leader()).LastIndex()
	for _, sql := range []string{"VACUUM", "vacuum analyze t", "VACUUM (VERBOSE, ANALYZE) t", "VACUUM FULL t"} {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheDescribe} {
			tag, err := conn.Exec(ctx, sql, mode)
			if err != nil || tag.String() != "VACUUM" {
				t.Errorf("%s (%v): %v %q, want VACUUM", sql, mode, err, tag)
			}
		}
	}
	mu.Lock()
	if len(notices) != 8 || !strings.HasPrefix(notices[0], "NOTICE: VACUUM does nothing here") {
		t.Errorf("notices %q, want one for each VACUUM", notices)
	}
	mu.Unlock()
	if after := c.Node(c.Leader()).LastIndex(); after != before {
		t.Errorf("the log went from %d to %d: VACUUM proposed something", before, after)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "VACUUM t"); sqlState(err) != "25001" {
		t.Errorf("VACUUM in a block: %v, want 25001", err)
	}
	tx.Rollback(ctx)
	if _, err := conn.Exec(ctx, "VACUUM INTO '/tmp/vacuum-into.db'"); sqlState(err) != "42501" {
		t.Errorf("VACUUM INTO: %v, want 42501", err)
	}
}
