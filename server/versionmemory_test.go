package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// TestVersionsOfADownMemberAreRemembered: a node restarted while a member
// is down keeps the versions it last learned of that member, so that the
// cluster does not fall back to the oldest release's and refuse, on a
// leader that never reached the member since it started, the writes that
// call this release's functions (a DEFAULT nextval, jsonb's operators),
// restores and pipelined transactions.
func TestVersionsOfADownMemberAreRemembered(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) { steady(cfg) }})
	waitClusterVersions(t, c, server.EntryVersion, server.PeerVersionNow)
	const down = 2
	c.Stop(down)
	// Every running node restarts while the member is down.
	for i := range 2 {
		c.Stop(i)
		c.Restart(i)
	}
	leader := c.WaitLeader()
	if e, _ := c.Node(leader).ClusterVersions(); e != server.EntryVersion {
		t.Errorf("with n3 down since the restart the leader's cluster entry version is %d, want %d", e, server.EntryVersion)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn := connect(t, c, leader)
	mustExec(t, conn, "CREATE SEQUENCE s")
	mustExec(t, conn, "CREATE TABLE t (id INTEGER DEFAULT nextval('s'), doc JSONB)")
	if _, err := conn.Exec(ctx, `INSERT INTO t (doc) VALUES ('{"a":1}'::jsonb || '{"b":2}')`); err != nil {
		t.Fatalf("a write calling this release's functions with a member down: %v", err)
	}
	c.Restart(down)
	waitClusterVersions(t, c, server.EntryVersion, server.PeerVersionNow)
	c.EnsureSame()
}
