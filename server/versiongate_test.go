package server_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// oldVersions makes a node pose as a release that reads entry format 2 and
// serves side-channel version 1 only.
func oldVersions(cfg *server.Config) { cfg.TestEntryVersion, cfg.TestPeerVersion = 2, 1 }

// upgradeNode restarts node i as this release.
func upgradeNode(c *servertest.Cluster, i int) {
	c.Stop(i)
	c.Reconfigure(i, func(cfg *server.Config) { cfg.TestEntryVersion, cfg.TestPeerVersion = 0, 0 })
	c.Restart(i)
	c.WaitLeader()
}

// halfUpgraded is a 3-node cluster of an older release (a node of one cannot
// join a cluster of this one) with every node but old upgraded.
func halfUpgraded(t testing.TB, old int) *servertest.Cluster {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		oldVersions(cfg)
		// About versions, not failover: a loaded machine must not move the
		// leader while a workload runs (it failed so with 40003).
		steady(cfg)
	}})
	waitClusterVersions(t, c, 2, 1)
	for i := range 3 {
		if i != old {
			upgradeNode(c, i)
		}
	}
	waitClusterVersions(t, c, 2, 1)
	return c
}

func waitClusterVersions(t testing.TB, c *servertest.Cluster, entry, peer int) {
	t.Helper()
	servertest.Eventually(t, 30*time.Second, fmt.Sprintf("cluster versions %d/%d on every node", entry, peer), func() error {
		for i := 0; i < c.Size(); i++ {
			n := c.Node(i)
			if n == nil {
				continue
			}
			if e, p := n.ClusterVersions(); e != entry || p != peer {
				return fmt.Errorf("node %d sees entry %d, side channel %d", i, e, p)
			}
		}
		return nil
	})
}

// logVersionsAtMost checks that no node's log holds, from index from on, an
// entry of a version above max, and returns the highest seen.
func logVersionsAtMost(t *testing.T, c *servertest.Cluster, from uint64, max int) int {
	t.Helper()
	highest := 0
	for i := 0; i < c.Size(); i++ {
		n := c.Node(i)
		if n == nil {
			continue
		}
		v, entries, err := n.LogEntryVersions(from)
		if err != nil {
			t.Fatalf("node %d: reading its log: %v", i, err)
		}
		if entries == 0 {
			t.Fatalf("node %d: no command entries from index %d on", i, from)
		}
		if v > max {
			t.Fatalf("node %d: its log holds an entry of version %d from index %d on, above %d", i, v, from, max)
		}
		highest = v
	}
	return highest
}

// workload runs writes and transactions through node i, concurrently, as
// clients of a mixed cluster would.
func workload(t *testing.T, c *servertest.Cluster, i int, tag string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 4 {
		conn := connect(t, c, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 5 {
				key := fmt.Sprintf("%s-%d-%d", tag, w, k)
				if _, err := conn.Exec(ctx, "INSERT INTO kv VALUES ($1, $2)", key, k); err != nil {
					errs <- fmt.Errorf("insert %s: %w", key, err)
					return
				}
				err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
					if _, err := tx.Exec(ctx, "UPDATE kv SET v = v + 10 WHERE k = $1", key); err != nil {
						return err
					}
					_, err := tx.Exec(ctx, "INSERT INTO kv VALUES ($1, (SELECT count(*) FROM kv))", key+"-tx")
					return err
				})
				if err != nil && sqlState(err) != "40001" {
					errs <- fmt.Errorf("transaction %s: %w", key, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := count(t, connect(t, c, i), "SELECT count(*) FROM kv WHERE k LIKE $1", tag+"-%-tx"); n == 0 {
		t.Fatalf("%s: no transaction committed", tag)
	}
}

// TestRollingUpgrade upgrades a 3-node cluster of nodes posing as an older
// release one node at a time. While one old node is left, the others write
// only what it reads and refuse what has no older form; once it is restarted
// as this release, the cluster moves to the new formats.
func TestRollingUpgrade(t *testing.T) {
	const old = 2
	c := halfUpgraded(t, old)
	upgrade := func(i int) { upgradeNode(c, i) }
	leader := c.Leader()
	from := c.Node(leader).LastIndex() + 1
	mustExec(t, connect(t, c, leader), "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)")

	// (a) Writes and transactions go on, on the leader and through
	// followers, the old node among them, and every node applies them.
	workload(t, c, leader, "leader")
	workload(t, c, old, "old")
	workload(t, c, (old+1)%3, "other")
	c.EnsureSame()
	logVersionsAtMost(t, c, from, 2)

	// /status shows each node's versions and the cluster's.
	cs, err := c.Node(leader).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantEntry := func(id string) int {
		if id == servertest.NodeID(old) {
			return 2
		}
		return server.EntryVersion
	}
	if cs.Node.ClusterEntryVersion != 2 || cs.Node.ClusterPeerVersion != 1 || cs.Node.EntryVersion != wantEntry(cs.Node.ID) {
		t.Errorf("status of the leader %s: versions %d/%d, cluster %d/%d", cs.Node.ID, cs.Node.EntryVersion, cs.Node.PeerVersion, cs.Node.ClusterEntryVersion, cs.Node.ClusterPeerVersion)
	}
	for _, m := range cs.Members {
		want := wantEntry(m.ID)
		if m.Status == nil || m.Status.EntryVersion != want {
			t.Errorf("status of member %s: %+v, want entry version %d", m.ID, m.Status, want)
		}
	}

	// What format 2 cannot say is refused, clearly.
	path, _ := backupToFile(t, c.Node(leader), server.BackupOptions{})
	if _, err := restoreFile(t, c.Node(c.Leader()), path); !errors.Is(err, server.ErrNotUpgraded) || !strings.Contains(err.Error(), "node n3 speaks entry version 2") {
		t.Fatalf("restore in a cluster not yet upgraded: %v", err)
	}

	// An old leader: a side-channel request it does not serve fails at once
	// on the follower that would send it, and writes go on.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	servertest.Eventually(t, 30*time.Second, "leadership on the old node", func() error {
		if c.Leader() == old {
			return nil
		}
		_, err := c.Node(c.Leader()).TransferLeadership(ctx, servertest.NodeID(old), "test")
		return err
	})
	follower := (old + 1) % 3
	fconn := connect(t, c, follower)
	_, err = fconn.Exec(ctx, "SELECT pg_advisory_lock(42)")
	if sqlState(err) != "0A000" || !strings.Contains(err.Error(), "node n3 speaks side-channel version 1") {
		t.Fatalf("advisory lock through a follower of an old leader: %v (SQLSTATE %s), want 0A000 naming n3", err, sqlState(err))
	}
	workload(t, c, follower, "under-old-leader")
	c.EnsureSame()
	logVersionsAtMost(t, c, from, 2)

	// (b) The old node restarted as this release: the cluster moves on.
	upgrade(old)
	waitClusterVersions(t, c, server.EntryVersion, server.PeerVersionNow)
	leader = c.Leader()
	from = c.Node(leader).LastIndex() + 1
	workload(t, c, follower, "upgraded")
	if _, err := restoreFile(t, c.Node(c.Leader()), path); err != nil {
		t.Fatalf("restore once upgraded: %v", err)
	}
	c.EnsureSame()
	if v, want := logVersionsAtMost(t, c, from, server.EntryVersion), command.NewestFormatVersion(); v != want {
		t.Errorf("after the upgrade the log's highest entry version is %d, want %d (digests, restore entries, the restore's install)", v, want)
	}
	fconn = connect(t, c, follower)
	if _, err := fconn.Exec(ctx, "SELECT pg_advisory_lock(42)"); err != nil {
		t.Fatalf("advisory lock once upgraded: %v", err)
	}
}

// startLoose starts a node of the cluster's kind that neither bootstraps nor
// joins: a test adds it as a member by hand.
func startLoose(t *testing.T, c *servertest.Cluster, id string, change func(*server.Config)) *server.Node {
	t.Helper()
	cfg := server.DefaultConfig()
	base := c.Config(0)
	cfg.ID, cfg.DataDir = id, t.TempDir()
	cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = base.HeartbeatTimeout, base.ElectionTimeout, base.LeaderLeaseTimeout
	var lns []net.Listener
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
	}
	cfg.RaftListener, cfg.PGListener, cfg.HTTPListener = lns[0], lns[1], lns[2]
	cfg.RaftAddr, cfg.PGAddr, cfg.HTTPAddr = lns[0].Addr().String(), lns[1].Addr().String(), lns[2].Addr().String()
	if change != nil {
		change(&cfg)
	}
	n, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// TestOldNodeJoiningLate: a node that cannot read what the cluster already
// writes is refused as a member, through the leader or a follower, with a
// message naming both versions; one of this release is added.
func TestOldNodeJoiningLate(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	waitClusterVersions(t, c, server.EntryVersion, server.PeerVersionNow)
	mustExec(t, connect(t, c, c.Leader()), "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)")
	workload(t, c, c.Leader(), "before") // the log now holds digests

	oldNode := startLoose(t, c, "n4", oldVersions)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, via := range []int{c.Leader(), c.Follower()} {
		_, err := c.Node(via).AddMember(ctx, "n4", oldNode.RaftAddr(), false, "test")
		if !errors.Is(err, server.ErrMembershipRefused) || !strings.Contains(err.Error(), fmt.Sprintf("node n4 speaks entry version 2, but the cluster already uses entry version %d", server.EntryVersion)) {
			t.Fatalf("adding an old node via node %d: %v", via, err)
		}
	}
	members, err := c.Node(c.Leader()).Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 3 {
		t.Fatalf("%d members after refusing the old node, want 3", len(members))
	}

	newNode := startLoose(t, c, "n5", nil)
	if _, err := c.Node(c.Leader()).AddMember(ctx, "n5", newNode.RaftAddr(), true, "test"); err != nil {
		t.Fatalf("adding a node of this release: %v", err)
	}
	servertest.Eventually(t, 30*time.Second, "n5 catches up", func() error {
		want, err := c.Node(c.Leader()).Dump(ctx)
		if err != nil {
			return err
		}
		got, err := newNode.Dump(ctx)
		if err != nil {
			return err
		}
		if got != want {
			return errors.New("n5's database differs from the leader's")
		}
		return nil
	})
}

// TestUnknownRequestIsRefusedCleanly: a request type this node does not
// know (one a newer release sends) is answered with an error that says so,
// and the connection goes on serving.
func TestUnknownRequestIsRefusedCleanly(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	leader, f := c.Leader(), c.Follower()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	body := server.SideChannelRequest(0, 200, server.IdentNode, c.Node(f).ID(), 0, nil)
	ok, kind, msg, err := c.Node(f).RawSideChannel(ctx, c.Config(leader).RaftAddr, body)
	if err != nil {
		t.Fatal(err)
	}
	if ok || kind != server.ErrKindNotUpgraded || !strings.Contains(msg, "speaks side-channel version") {
		t.Fatalf("unknown request: ok %v, kind %d, %q", ok, kind, msg)
	}
}
