// Package servertest starts in-process raftsql clusters for tests: real Raft
// over loopback TCP, real SQLite files in temporary directories, real
// Postgres listeners, and a gate on every node-to-node connection so tests
// can partition nodes. It is imported only by tests.
package servertest

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftsql/raftsql/raft/nodecert/nodecerttest"
	"github.com/raftsql/raftsql/server"
)

// Cluster is a set of nodes of one cluster, started by NewCluster.
type Cluster struct {
	t     testing.TB
	mu    sync.Mutex     // guards nodes: tests read them from many goroutines
	nodes []*server.Node // nil while stopped
	cfgs  []server.Config
	gates []*gate
	// opened records which nodes have run; until then their addresses
	// are not known to anyone and may be picked again.
	opened []bool
	certs  *nodecerttest.Set // nil without Options.TLS
}

// Options change how NewCluster configures nodes.
type Options struct {
	// Configure, when set, may change each node's configuration.
	Configure func(i int, cfg *server.Config)
	// TLS gives every node a certificate of a test CA (made in a temporary
	// directory) and turns on mutual TLS between nodes.
	TLS bool
}

// gate decides which peers a node may talk to.
type gate struct {
	mu      sync.RWMutex
	blocked map[string]bool
}

func (g *gate) allow(peer string) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return !g.blocked[peer]
}

func (g *gate) set(blocked map[string]bool) {
	g.mu.Lock()
	g.blocked = blocked
	g.mu.Unlock()
}

// NodeID is the ID NewCluster gives node i.
func NodeID(i int) string { return fmt.Sprintf("n%d", i+1) }

// NewCluster starts n nodes on 127.0.0.1, waits until they form one cluster
// with a leader, and stops them when the test ends.
func NewCluster(t testing.TB, n int, opts Options) *Cluster {
	t.Helper()
	c := &Cluster{t: t, nodes: make([]*server.Node, n), cfgs: make([]server.Config, n), gates: make([]*gate, n), opened: make([]bool, n)}
	// Cleanups run last registered first: the data directories, made
	// before the cleanup that stops the nodes is registered, are removed
	// only once every node has stopped writing to them.
	dirs := make([]string, n)
	for i := range dirs {
		dirs[i] = t.TempDir()
	}
	t.Cleanup(c.Close)
	if opts.TLS {
		c.certs = nodecerttest.New(t)
	}
	for i := 0; i < n; i++ {
		cfg := server.DefaultConfig()
		cfg.ID = NodeID(i)
		cfg.DataDir = dirs[i]
		cfg.RaftAddr = FreeAddr(t)
		cfg.PGAddr = FreeAddr(t)
		cfg.HTTPAddr = FreeAddr(t)
		cfg.HeartbeatTimeout = 500 * time.Millisecond
		cfg.ElectionTimeout = 500 * time.Millisecond
		cfg.LeaderLeaseTimeout = 250 * time.Millisecond
		cfg.ReadConns = 4
		if c.certs != nil {
			cfg.RaftTLSCertFile, cfg.RaftTLSKeyFile = c.certs.Issue(cfg.ID)
			cfg.RaftTLSCAFile = c.certs.CAFile()
		}
		if i == 0 {
			cfg.Bootstrap = true
		} else {
			cfg.Join = []string{c.cfgs[0].RaftAddr}
		}
		if opts.Configure != nil {
			opts.Configure(i, &cfg)
		}
		g := &gate{}
		c.gates[i] = g
		cfg.Gate = g.allow
		c.cfgs[i] = cfg
		c.start(i)
		if i == 0 {
			c.WaitLeader()
		}
	}
	c.WaitMembers(n)
	return c
}

func (c *Cluster) start(i int) {
	c.t.Helper()
	var lastErr error
	// The port may be held for a moment by a connection the previous
	// incarnation of the node was closing.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		node, err := server.New(c.cfgs[i])
		if err != nil {
			c.t.Fatalf("node %d: %v", i, err)
		}
		if lastErr = node.Open(context.Background()); lastErr == nil {
			c.mu.Lock()
			c.nodes[i] = node
			c.opened[i] = true
			c.mu.Unlock()
			return
		}
		if !strings.Contains(lastErr.Error(), "address already in use") {
			break
		}
		if !c.opened[i] {
			// A port that was free when picked has since been taken, by
			// another test's listener or as the local port of some
			// connection; nobody knows this node's addresses yet.
			c.cfgs[i].RaftAddr = FreeAddr(c.t)
			c.cfgs[i].PGAddr = FreeAddr(c.t)
			c.cfgs[i].HTTPAddr = FreeAddr(c.t)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("opening node %d: %v", i, lastErr)
}

// Reconfigure changes node i's configuration for its next start (Restart).
func (c *Cluster) Reconfigure(i int, change func(cfg *server.Config)) {
	change(&c.cfgs[i])
}

// Certs is the cluster's certificate authority and node certificates,
// nil unless the cluster was made with Options.TLS. Tests issue more node
// certificates with it.
func (c *Cluster) Certs() *nodecerttest.Set { return c.certs }

// Close stops every node.
func (c *Cluster) Close() {
	var wg sync.WaitGroup
	c.mu.Lock()
	for i, n := range c.nodes {
		if n != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n.Close()
			}()
			c.nodes[i] = nil
		}
	}
	c.mu.Unlock()
	wg.Wait()
}

// running returns the nodes as they are now (nil for stopped ones).
func (c *Cluster) running() []*server.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*server.Node(nil), c.nodes...)
}

// Node returns node i, or nil while it is stopped.
func (c *Cluster) Node(i int) *server.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

// Size is the number of nodes, running or not.
func (c *Cluster) Size() int { return len(c.nodes) }

// PGAddr is node i's Postgres address.
func (c *Cluster) PGAddr(i int) string { return c.cfgs[i].PGAddr }

// DSN is a Postgres connection string for node i.
func (c *Cluster) DSN(i int) string {
	host, port, _ := net.SplitHostPort(c.cfgs[i].PGAddr)
	return fmt.Sprintf("postgres://test@%s:%s/raftsql?sslmode=disable", host, port)
}

// Config returns node i's configuration.
func (c *Cluster) Config(i int) server.Config { return c.cfgs[i] }

// Stop closes node i (a leader hands over leadership first).
func (c *Cluster) Stop(i int) {
	c.t.Helper()
	c.mu.Lock()
	n := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if n == nil {
		return
	}
	if err := n.Close(); err != nil {
		c.t.Logf("closing node %d: %v", i, err)
	}
}

// Crash cuts node i off from every peer before closing it, so it can hand
// nothing over: to the others it looks like a crashed machine.
func (c *Cluster) Crash(i int) {
	c.t.Helper()
	all := map[string]bool{}
	for j := range c.nodes {
		all[NodeID(j)] = true
	}
	c.gates[i].set(all)
	c.Stop(i)
	c.gates[i].set(nil)
}

// Restart starts a stopped node i again from its data directory.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	if c.Node(i) != nil {
		c.t.Fatalf("node %d is running", i)
	}
	c.start(i)
}

// Wipe stops node i, deletes its data and starts it again empty, joining
// the cluster; it must catch up from the others.
func (c *Cluster) Wipe(i int) {
	c.t.Helper()
	c.Stop(i)
	if err := os.RemoveAll(c.cfgs[i].DataDir); err != nil {
		c.t.Fatal(err)
	}
	c.cfgs[i].Bootstrap = false
	for j := range c.cfgs {
		if j != i {
			c.cfgs[i].Join = append(c.cfgs[i].Join, c.cfgs[j].RaftAddr)
		}
	}
	c.start(i)
}

// Partition cuts the given nodes off from the others (they still reach
// each other).
func (c *Cluster) Partition(isolated ...int) {
	in := map[int]bool{}
	for _, i := range isolated {
		in[i] = true
	}
	for i := range c.nodes {
		blocked := map[string]bool{}
		for j := range c.nodes {
			if in[i] != in[j] {
				blocked[NodeID(j)] = true
			}
		}
		c.gates[i].set(blocked)
	}
}

// Heal removes every partition.
func (c *Cluster) Heal() {
	for _, g := range c.gates {
		g.set(nil)
	}
}

// Eventually polls cond until it returns nil or the deadline passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	wait := 5 * time.Millisecond
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v: %v", what, timeout, err)
		}
		time.Sleep(wait)
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// WaitLeader waits until the running nodes that can reach a leader agree on
// one, and returns its index.
func (c *Cluster) WaitLeader() int {
	c.t.Helper()
	leader := -1
	Eventually(c.t, 30*time.Second, "a leader", func() error {
		leader = -1
		for i, n := range c.running() {
			if n != nil && n.IsLeader() {
				if leader >= 0 {
					return fmt.Errorf("nodes %d and %d both lead", leader, i)
				}
				leader = i
			}
		}
		if leader < 0 {
			return fmt.Errorf("no leader")
		}
		return nil
	})
	return leader
}

// Leader returns the index of the current leader, waiting for one.
func (c *Cluster) Leader() int { return c.WaitLeader() }

// Follower returns the index of a running node that does not lead.
func (c *Cluster) Follower() int {
	c.t.Helper()
	leader := c.WaitLeader()
	for i, n := range c.running() {
		if n != nil && i != leader {
			return i
		}
	}
	c.t.Fatal("no running follower")
	return -1
}

// WaitMembers waits until the leader's configuration has want voters and
// every running node has caught up with the leader.
func (c *Cluster) WaitMembers(want int) {
	c.t.Helper()
	Eventually(c.t, 30*time.Second, fmt.Sprintf("%d members", want), func() error {
		l := c.WaitLeader()
		st, err := c.Node(l).Status(context.Background())
		if err != nil {
			return err
		}
		if len(st.Members) != want {
			return fmt.Errorf("%d members", len(st.Members))
		}
		for _, m := range st.Members {
			if m.Status == nil {
				return fmt.Errorf("member %s: %s", m.ID, m.Error)
			}
		}
		return nil
	})
	c.WaitSynced()
}

// WaitSynced waits until every running node has applied everything the
// leader has committed.
func (c *Cluster) WaitSynced() {
	c.t.Helper()
	c.WaitSyncedWithin(30 * time.Second)
}

// WaitSyncedWithin is WaitSynced for entries that take long to apply: it
// waits up to timeout.
func (c *Cluster) WaitSyncedWithin(timeout time.Duration) {
	c.t.Helper()
	Eventually(c.t, timeout, "nodes in sync", func() error {
		l := c.WaitLeader()
		nodes := c.running()
		if nodes[l] == nil {
			return fmt.Errorf("leader %d stopped", l)
		}
		target := nodes[l].LocalStatus().CommitIndex
		for i, n := range nodes {
			if n == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			err := n.WaitApplied(ctx, target)
			cancel()
			if err != nil {
				return fmt.Errorf("node %d at %d, want %d", i, n.AppliedIndex(), target)
			}
		}
		return nil
	})
}

// EnsureSame waits until the running nodes are in sync and checks that
// their databases are identical.
func (c *Cluster) EnsureSame() {
	c.t.Helper()
	c.WaitSynced()
	var first string
	firstNode := -1
	for i, n := range c.running() {
		if n == nil {
			continue
		}
		d, err := n.Dump(context.Background())
		if err != nil {
			c.t.Fatalf("dump of node %d: %v", i, err)
		}
		if firstNode < 0 {
			first, firstNode = d, i
			continue
		}
		if d != first {
			c.t.Fatalf("node %d differs from node %d:\n--- node %d\n%s\n--- node %d\n%s", i, firstNode, firstNode, first, i, d)
		}
	}
}
