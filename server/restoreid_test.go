package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// restoreStatusHTTP asks node i's admin endpoint about id.
func restoreStatusHTTP(t *testing.T, c *servertest.Cluster, i int, id server.RestoreID, query string) server.RestoreStatus {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s/restore/status?id=%s%s", c.Config(i).HTTPAddr, id, query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /restore/status on node %d: %s", i, resp.Status)
	}
	var st server.RestoreStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// What the nodes say of a restore id: not applied on the leader before it
// is sent (a follower asked sends the question on to the leader, or
// answers unknown when asked alone); installed once at its index on every
// node after; and a leader that started from a kept file, which holds
// restores it did not apply itself, says unknown rather than not applied
// for an id it cannot rule out.
func TestRestoreStatusAnswers(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	path := restoreFixture(t, c)
	ctx := context.Background()
	id := server.NewRestoreID()
	var l, f int
	var after uint64
	servertest.Eventually(t, 60*time.Second, "the leader's and a follower's answers", func() error {
		l, f = c.Leader(), c.Follower()
		after = c.Node(l).AppliedIndex()
		st, err := c.Node(l).RestoreStatus(ctx, id, after)
		if err != nil || !st.Leader {
			return fmt.Errorf("%+v, %v: not leading", st, err)
		}
		if st.Outcome != server.RestoreNotApplied {
			t.Fatalf("the leader on an id never sent: %+v; want not-applied", st)
		}
		if st := restoreStatusHTTP(t, c, f, id, fmt.Sprintf("&after=%d", after)); st.Node != servertest.NodeID(l) || st.Outcome != server.RestoreNotApplied {
			return fmt.Errorf("a follower on an id never sent: %+v; want the leader's not-applied", st)
		}
		return nil
	})
	if st := restoreStatusHTTP(t, c, f, id, "&local=1"); st.Outcome != server.RestoreUnknown || st.Node != servertest.NodeID(f) {
		t.Fatalf("a follower asked alone on an id never sent: %+v; want unknown", st)
	}
	if _, err := server.ParseRestoreID("0"); err == nil {
		t.Fatal("restore id 0 accepted")
	}

	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	ri, err := c.Node(l).RestoreWith(ctx, file, server.RestoreOptions{ID: id})
	if err != nil {
		t.Fatalf("RestoreWith: %v", err)
	}
	if ri.ID != id || ri.AlreadyInstalled {
		t.Fatalf("RestoreWith answered %+v; want id %s, installed now", ri, id)
	}
	c.EnsureSame()
	for i := range c.Size() {
		st := restoreStatusHTTP(t, c, i, id, "&local=1")
		if st.Outcome != server.RestoreInstalled || st.Index != ri.Index || st.Installs != 1 {
			t.Fatalf("node %d after the restore: %+v; want installed once at %d", i, st, ri.Index)
		}
	}

	// A clean restart keeps the file: the node no longer knows the
	// restores the file holds, and says so.
	c.Stop(l)
	c.Restart(l)
	c.WaitSynced()
	servertest.Eventually(t, 60*time.Second, "the restarted node leading", func() error {
		if c.Leader() == l {
			return nil
		}
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := c.Node(c.Leader()).TransferLeadership(tctx, servertest.NodeID(l), "test")
		return err
	})
	other := server.NewRestoreID()
	servertest.Eventually(t, 60*time.Second, "the restarted leader's answers", func() error {
		st, err := c.Node(l).RestoreStatus(ctx, other, 0)
		if err != nil || !st.Leader {
			return fmt.Errorf("%+v, %v: not leading", st, err)
		}
		if st.Outcome != server.RestoreUnknown {
			t.Fatalf("a leader started from a kept file, on an id it cannot rule out: %+v; want unknown", st)
		}
		now := c.Node(l).AppliedIndex()
		st, err = c.Node(l).RestoreStatus(ctx, other, now)
		if err != nil || !st.Leader {
			return fmt.Errorf("%+v, %v: not leading", st, err)
		}
		if st.Outcome != server.RestoreNotApplied {
			t.Fatalf("the same leader for an id sent after index %d: %+v; want not-applied", now, st)
		}
		return nil
	})
}
