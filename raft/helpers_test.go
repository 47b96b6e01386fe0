package raft

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"
)

// listFSM is an append-only list of commands.
type listFSM struct {
	mu       sync.Mutex
	entries  []string
	restores int
	batches  int
}

func (f *listFSM) Apply(l *hraft.Log) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = append(f.entries, string(l.Data))
	return len(f.entries)
}

func (f *listFSM) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.entries)
}

func (f *listFSM) restoreCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.restores
}

func (f *listFSM) Snapshot() (hraft.FSMSnapshot, error) {
	return listSnapshot(f.list()), nil
}

func (f *listFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var entries []string
	if err := json.NewDecoder(rc).Decode(&entries); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = entries
	f.restores++
	return nil
}

type listSnapshot []string

func (s listSnapshot) Persist(sink hraft.SnapshotSink) error {
	if err := json.NewEncoder(sink).Encode([]string(s)); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s listSnapshot) Release() {}

// batchListFSM is a listFSM that takes whole batches.
type batchListFSM struct{ *listFSM }

func (f batchListFSM) ApplyBatch(logs []*hraft.Log) []any {
	out := make([]any, len(logs))
	f.mu.Lock()
	f.batches++
	f.mu.Unlock()
	for i, l := range logs {
		if l.Type == hraft.LogCommand {
			out[i] = f.Apply(l)
		}
	}
	return out
}

// testLogger logs to stderr when RAFT_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("RAFT_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	return ln
}

// testConfig returns a configuration with short timeouts.
func testConfig(id, dir string, ln net.Listener) Config {
	cfg := DefaultConfig()
	cfg.ID = id
	cfg.Dir = dir
	cfg.Listener = ln
	cfg.HeartbeatTimeout = 400 * time.Millisecond
	cfg.ElectionTimeout = 400 * time.Millisecond
	cfg.LeaderLeaseTimeout = 200 * time.Millisecond
	cfg.CommitTimeout = 20 * time.Millisecond
	cfg.Logger = testLogger()
	return cfg
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cluster is an in-process cluster on loopback listeners.
type cluster struct {
	t     testing.TB
	ids   []string
	addrs []string
	dirs  []string
	nodes []*Node // nil while stopped
	fsms  []*listFSM
	tune  func(*Config)

	mu  sync.Mutex
	cut map[[2]string]bool // links cut by partition
}

// newCluster starts n nodes: node 0 bootstraps, the others join as voters.
// Node 1 runs a batching FSM.
func newCluster(t testing.TB, n int, tune func(*Config)) *cluster {
	t.Helper()
	c := &cluster{t: t, tune: tune, cut: make(map[[2]string]bool)}
	for i := range n {
		c.ids = append(c.ids, fmt.Sprintf("n%d", i))
		c.dirs = append(c.dirs, t.TempDir())
		c.addrs = append(c.addrs, "")
		c.nodes = append(c.nodes, nil)
		c.fsms = append(c.fsms, nil)
	}
	t.Cleanup(c.closeAll)
	c.start(0, true)
	waitFor(t, 10*time.Second, "bootstrap leader", c.nodes[0].IsLeader)
	for i := 1; i < n; i++ {
		c.start(i, false)
		c.join(i, true)
	}
	return c
}

// start (re)starts node i from its directory and address.
func (c *cluster) start(i int, bootstrap bool) *Node {
	c.t.Helper()
	ln := listen(c.t, c.addrs[i])
	c.addrs[i] = ln.Addr().String()
	cfg := testConfig(c.ids[i], c.dirs[i], ln)
	cfg.Bootstrap = bootstrap
	id := c.ids[i]
	cfg.Gate = func(peer string) bool { return !c.isCut(id, peer) }
	if c.tune != nil {
		c.tune(&cfg)
	}
	f := &listFSM{}
	var fsm hraft.FSM = f
	if i == 1 {
		fsm = batchListFSM{f}
	}
	n, err := New(cfg, fsm)
	if err != nil {
		c.t.Fatalf("start %s: %v", id, err)
	}
	c.nodes[i], c.fsms[i] = n, f
	return n
}

func (c *cluster) join(i int, voter bool) {
	c.t.Helper()
	waitFor(c.t, 10*time.Second, "join "+c.ids[i], func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l := c.leader()
		if l == nil {
			return false
		}
		var err error
		if voter {
			err = l.AddVoter(ctx, c.ids[i], c.addrs[i])
		} else {
			err = l.AddNonvoter(ctx, c.ids[i], c.addrs[i])
		}
		if err != nil {
			c.t.Logf("join %s: %v", c.ids[i], err)
		}
		return err == nil
	})
}

func (c *cluster) stop(i int) {
	c.t.Helper()
	if err := c.nodes[i].Close(); err != nil {
		c.t.Errorf("close %s: %v", c.ids[i], err)
	}
	c.nodes[i] = nil
}

func (c *cluster) closeAll() {
	for i, n := range c.nodes {
		if n != nil {
			n.Close()
			c.nodes[i] = nil
		}
	}
}

// leader returns a running node that believes it leads, or nil.
func (c *cluster) leader(except ...*Node) *Node {
	for _, n := range c.nodes {
		if n != nil && n.IsLeader() && !slices.Contains(except, n) {
			return n
		}
	}
	return nil
}

// waitLeader waits for a leader other than the excluded nodes.
func (c *cluster) waitLeader(except ...*Node) *Node {
	c.t.Helper()
	var l *Node
	waitFor(c.t, 15*time.Second, "a leader", func() bool {
		l = c.leader(except...)
		return l != nil
	})
	return l
}

func (c *cluster) index(n *Node) int {
	return slices.Index(c.nodes, n)
}

func (c *cluster) isCut(a, b string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cut[[2]string{a, b}]
}

// isolate cuts every link between node i and the others.
func (c *cluster) isolate(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for j, id := range c.ids {
		if j != i {
			c.cut[[2]string{c.ids[i], id}] = true
			c.cut[[2]string{id, c.ids[i]}] = true
		}
	}
}

func (c *cluster) heal() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.cut)
}

// apply applies cmd on n with a generous timeout.
func apply(t testing.TB, n *Node, cmd string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, idx, err := n.Apply(ctx, []byte(cmd))
	if err != nil {
		t.Fatalf("apply %q on %s: %v", cmd, n.ID(), err)
	}
	if _, ok := resp.(int); !ok {
		t.Fatalf("apply %q: response %#v, want an int", cmd, resp)
	}
	return idx
}

// waitApplied waits until every running node has applied index and then
// checks that all FSMs hold want.
func (c *cluster) waitApplied(index uint64, want []string) {
	c.t.Helper()
	for i, n := range c.nodes {
		if n == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := n.WaitApplied(ctx, index)
		cancel()
		if err != nil {
			c.t.Fatalf("%s: WaitApplied(%d): %v (status %+v)", n.ID(), index, err, n.Status())
		}
		if got := c.fsms[i].list(); !slices.Equal(got, want) {
			c.t.Fatalf("%s holds %q, want %q", n.ID(), got, want)
		}
	}
}

func asNotLeader(t testing.TB, err error) *NotLeaderError {
	t.Helper()
	var nle *NotLeaderError
	if !errors.As(err, &nle) || !errors.Is(err, ErrNotLeader) {
		t.Fatalf("got %v, want a *NotLeaderError matching ErrNotLeader", err)
	}
	return nle
}
