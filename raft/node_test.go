package raft

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

func TestClusterReplicatesAndCloseTransfersLeadership(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.waitLeader()

	var want []string
	var last uint64
	for i := range 5 {
		cmd := fmt.Sprintf("seq-%d", i)
		last = apply(t, l, cmd)
		want = append(want, cmd)
	}
	// Concurrent applies are batched; their order is the log's.
	var wg sync.WaitGroup
	var mu sync.Mutex
	byIndex := map[uint64]string{}
	for i := range 20 {
		wg.Go(func() {
			cmd := fmt.Sprintf("par-%d", i)
			_, idx, err := l.Apply(context.Background(), []byte(cmd))
			if err != nil {
				t.Errorf("apply %s: %v", cmd, err)
				return
			}
			mu.Lock()
			byIndex[idx] = cmd
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	idxs := slices.Sorted(func(yield func(uint64) bool) {
		for k := range byIndex {
			if !yield(k) {
				return
			}
		}
	})
	for _, idx := range idxs {
		want = append(want, byIndex[idx])
	}
	last = max(last, idxs[len(idxs)-1])
	c.waitApplied(last, want)
	c.fsms[1].mu.Lock()
	b := c.fsms[1].batches
	c.fsms[1].mu.Unlock()
	if b == 0 {
		t.Errorf("batching FSM saw no ApplyBatch call")
	}

	// Followers refuse commands and reads, naming the leader.
	for _, n := range c.nodes {
		if n == l {
			continue
		}
		_, _, err := n.Apply(context.Background(), []byte("x"))
		if nle := asNotLeader(t, err); nle.LeaderAddr != l.Addr() || nle.LeaderID != l.ID() {
			t.Errorf("follower names leader %s at %s, want %s at %s", nle.LeaderID, nle.LeaderAddr, l.ID(), l.Addr())
		}
		_, err = n.ReadIndex(context.Background())
		asNotLeader(t, err)
		if err := n.AddVoter(context.Background(), "zz", "127.0.0.1:1"); !errors.Is(err, ErrNotLeader) {
			t.Errorf("AddVoter on follower: got %v, want ErrNotLeader", err)
		}
		if lc := n.LastContact(); time.Since(lc) > 10*time.Second {
			t.Errorf("follower last contact %v", lc)
		}
	}

	// Linearizable read barrier on the leader.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ri, err := l.ReadIndex(ctx)
	if err != nil {
		t.Fatalf("ReadIndex: %v", err)
	}
	if ri < last {
		t.Errorf("ReadIndex = %d, want >= %d", ri, last)
	}
	if err := l.WaitApplied(ctx, ri); err != nil {
		t.Fatalf("WaitApplied(%d): %v", ri, err)
	}

	// Membership.
	members, err := l.Members()
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 3 {
		t.Fatalf("members = %+v, want 3", members)
	}
	for _, m := range members {
		if !m.Voter || m.Addr != c.addrs[slices.Index(c.ids, m.ID)] {
			t.Errorf("member %+v, want a voter at %s", m, c.addrs[slices.Index(c.ids, m.ID)])
		}
	}
	before := l.Status().LastIndex
	if err := l.AddVoter(ctx, c.ids[1], c.addrs[1]); err != nil {
		t.Fatalf("repeated AddVoter: %v", err)
	}
	if after := l.Status().LastIndex; after != before {
		t.Errorf("repeated AddVoter wrote to the log: last index %d -> %d", before, after)
	}
	st := l.Status()
	if st.State != "leader" || st.LeaderID != l.ID() || st.CommitIndex < last || st.AppliedIndex < last || st.Term == 0 {
		t.Errorf("leader status %+v", st)
	}

	// A non-voter receives the log and can be removed.
	c.ids = append(c.ids, "n3")
	c.dirs = append(c.dirs, t.TempDir())
	c.addrs = append(c.addrs, "")
	c.nodes = append(c.nodes, nil)
	c.fsms = append(c.fsms, nil)
	c.start(3, false)
	c.join(3, false)
	last = apply(t, l, "after-nonvoter")
	want = append(want, "after-nonvoter")
	c.waitApplied(last, want)
	members, _ = l.Members()
	if i := slices.IndexFunc(members, func(m Member) bool { return m.ID == "n3" }); i < 0 || members[i].Voter {
		t.Errorf("members %+v, want n3 as non-voter", members)
	}
	if err := l.Remove(ctx, "n3"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if err := l.Remove(ctx, "n3"); err != nil {
		t.Fatalf("repeated Remove: %v", err)
	}
	c.stop(3)
	c.nodes, c.fsms, c.ids, c.addrs, c.dirs = c.nodes[:3], c.fsms[:3], c.ids[:3], c.addrs[:3], c.dirs[:3]
	if members, _ = l.Members(); len(members) != 3 {
		t.Errorf("members after remove: %+v", members)
	}

	// Closing the leader hands leadership over.
	changes := l.LeaderChanges()
	if v := <-changes; !v {
		t.Errorf("first LeaderChanges value on the leader = false")
	}
	li := c.index(l)
	c.stop(li)
	if !l.transferred.Load() {
		t.Errorf("Close did not transfer leadership")
	}
	if v, ok := <-changes; !ok || v {
		t.Errorf("after Close got %v, %v; want false, true", v, ok)
	}
	if _, ok := <-changes; ok {
		t.Errorf("LeaderChanges channel not closed by Close")
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, _, err := l.Apply(ctx, []byte("x")); !errors.Is(err, ErrShutdown) {
		t.Errorf("Apply after Close: %v, want ErrShutdown", err)
	}
	nl := c.waitLeader()
	last = apply(t, nl, "after-transfer")
	want = append(want, "after-transfer")
	c.waitApplied(last, want)
}

func TestPartitionedLeaderCannotCommit(t *testing.T) {
	c := newCluster(t, 3, nil)
	old := c.waitLeader()
	oi := c.index(old)
	last := apply(t, old, "a")
	c.waitApplied(last, []string{"a"})
	changes := old.LeaderChanges()
	<-changes

	c.isolate(oi)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Both start while the node still believes it leads.
	readErr := make(chan error, 1)
	go func() {
		_, err := old.ReadIndex(ctx)
		readErr <- err
	}()
	var lostCommitted atomic.Bool
	_, _, err := old.ApplyNotify(ctx, []byte("lost"), func() { lostCommitted.Store(true) })
	if lostCommitted.Load() {
		t.Errorf("the isolated leader reported its command committed")
	}
	if err == nil {
		t.Fatalf("isolated leader committed a command")
	}
	if !errors.Is(err, ErrOutcomeUnknown) && !errors.Is(err, ErrNotLeader) {
		t.Errorf("isolated Apply: %v, want ErrOutcomeUnknown or ErrNotLeader", err)
	}
	t.Logf("isolated Apply: %v", err)
	if err := <-readErr; err == nil {
		t.Errorf("isolated node passed ReadIndex")
	} else {
		t.Logf("isolated ReadIndex: %v", err)
	}
	if _, err := old.ReadIndex(ctx); !errors.Is(err, ErrNotLeader) {
		t.Errorf("ReadIndex after stepping down: %v, want ErrNotLeader", err)
	}
	select {
	case v := <-changes:
		if v {
			t.Errorf("LeaderChanges sent true, want false")
		}
	case <-ctx.Done():
		t.Fatalf("no leadership loss reported")
	}

	nl := c.waitLeader(old)
	last = apply(t, nl, "b")
	ri, err := nl.ReadIndex(ctx)
	if err != nil || ri < last {
		t.Fatalf("new leader ReadIndex = %d, %v; want >= %d", ri, err, last)
	}

	c.heal()
	c.waitApplied(last, []string{"a", "b"})
	waitFor(t, 10*time.Second, "old leader follows the new one", func() bool {
		id, _ := old.Leader()
		return id == nl.ID() && !old.IsLeader()
	})
	last = apply(t, nl, "c")
	c.waitApplied(last, []string{"a", "b", "c"})
	for _, f := range c.fsms {
		if slices.Contains(f.list(), "lost") {
			t.Fatalf("the isolated leader's command was applied")
		}
	}
}

// ApplyNotify reports the commit once, before the FSM has the entry and
// before the call returns.
func TestApplyNotify(t *testing.T) {
	c := newCluster(t, 3, nil)
	leader := c.waitLeader()
	f := c.fsms[c.index(leader)]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 20 {
		cmd := fmt.Sprintf("cmd%d", i)
		var calls int
		var commitAtCall uint64
		var seenByFSM bool
		_, idx, err := leader.ApplyNotify(ctx, []byte(cmd), func() {
			calls++
			commitAtCall = leader.CommitIndex()
			seenByFSM = slices.Contains(f.list(), cmd)
		})
		if err != nil {
			t.Fatal(err)
		}
		if calls != 1 {
			t.Fatalf("%s: committed called %d times, want once", cmd, calls)
		}
		if commitAtCall < idx {
			t.Errorf("%s: committed called at commit index %d, before the entry's %d", cmd, commitAtCall, idx)
		}
		if seenByFSM {
			t.Errorf("%s: committed called after the FSM applied the entry", cmd)
		}
	}
}

func TestRestartKeepsLogAndSnapshot(t *testing.T) {
	c := newCluster(t, 1, func(cfg *Config) { cfg.TrailingLogs = 2 })
	n := c.nodes[0]
	var want []string
	var last uint64
	for i := range 6 {
		cmd := fmt.Sprintf("c%d", i)
		last = apply(t, n, cmd)
		want = append(want, cmd)
		if i == 3 {
			if err := n.Snapshot(); err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
		}
	}
	lastIndex := n.Status().LastIndex
	c.stop(0)

	n = c.start(0, true) // Bootstrap is ignored: state exists.
	if got := n.Status().LastIndex; got != lastIndex {
		t.Errorf("after restart LastIndex = %d, want %d", got, lastIndex)
	}
	if got := c.fsms[0].restoreCount(); got != 1 {
		t.Errorf("restores at startup = %d, want 1", got)
	}
	waitFor(t, 10*time.Second, "leader after restart", n.IsLeader)
	c.waitApplied(last, want)
	last = apply(t, n, "more")
	c.waitApplied(last, append(want, "more"))
	waitFor(t, 5*time.Second, "AppliedIndex to reach CommitIndex", func() bool {
		return n.AppliedIndex() == n.CommitIndex()
	})
}

func TestWipedFollowerCatchesUpFromSnapshot(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) { cfg.TrailingLogs = 2 })
	l := c.waitLeader()
	var want []string
	var last uint64
	for i := range 5 {
		cmd := fmt.Sprintf("before-%d", i)
		last = apply(t, l, cmd)
		want = append(want, cmd)
	}
	c.waitApplied(last, want)

	fi := (c.index(l) + 1) % 3
	c.stop(fi)
	if err := os.RemoveAll(c.dirs[fi]); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		cmd := fmt.Sprintf("after-%d", i)
		last = apply(t, l, cmd)
		want = append(want, cmd)
	}
	if err := l.Snapshot(); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if st := l.Status(); st.LastSnapshotIndex < last {
		t.Fatalf("leader status %+v, want LastSnapshotIndex >= %d", st, last)
	}

	f := c.start(fi, false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := f.WaitApplied(ctx, last); err != nil {
		t.Fatalf("WaitApplied on the wiped follower: %v", err)
	}
	if got := c.fsms[fi].list(); !slices.Equal(got, want) {
		t.Fatalf("wiped follower holds %q, want %q", got, want)
	}
	if c.fsms[fi].restoreCount() == 0 {
		t.Errorf("wiped follower caught up without InstallSnapshot")
	}
	last = apply(t, l, "end")
	c.waitApplied(last, append(want, "end"))
}

func TestWaitApplied(t *testing.T) {
	c := newCluster(t, 1, nil)
	n := c.nodes[0]
	waitFor(t, 5*time.Second, "no-op applied", func() bool {
		return n.CommitIndex() > 0 && n.AppliedIndex() == n.CommitIndex()
	})

	// Already reached: no-ops and configuration entries count.
	if err := n.WaitApplied(context.Background(), n.CommitIndex()); err != nil {
		t.Fatal(err)
	}

	// Cancelled while waiting for the future.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	err := n.WaitApplied(ctx, n.CommitIndex()+100)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitApplied of a future index: %v, want DeadlineExceeded", err)
	}

	// Woken by the apply.
	next := n.CommitIndex() + 1
	done := make(chan error, 1)
	go func() { done <- n.WaitApplied(context.Background(), next) }()
	apply(t, n, "x")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitApplied not woken by Apply")
	}

	// A context that is already done enqueues nothing.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, _, err := n.Apply(ctx, []byte("y")); !errors.Is(err, context.Canceled) || errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("Apply with a cancelled context: %v", err)
	}

	// Close wakes waiters.
	go func() { done <- n.WaitApplied(context.Background(), n.CommitIndex()+100) }()
	c.stop(0)
	if err := <-done; !errors.Is(err, ErrShutdown) {
		t.Errorf("WaitApplied across Close: %v, want ErrShutdown", err)
	}
}

func TestForwardChannel(t *testing.T) {
	c := newCluster(t, 2, nil)
	a, b := c.nodes[0], c.nodes[1]
	ln := b.ForwardListener()
	served := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer conn.Close()
		if id, ok := PeerID(conn); !ok || id != a.ID() {
			served <- fmt.Errorf("acceptor sees peer %q, want %q", id, a.ID())
			return
		}
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			served <- err
			return
		}
		_, err = conn.Write([]byte("pong " + line))
		served <- err
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := a.DialForward(ctx, b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if id, _ := PeerID(conn); id != b.ID() {
		t.Errorf("dialer sees peer %q, want %q", id, b.ID())
	}
	if _, err := conn.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || got != "pong ping\n" {
		t.Fatalf("got %q, %v; want %q", got, err, "pong ping\n")
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}

	// The gate cuts the side channel too.
	c.isolate(0)
	if conn, err := a.DialForward(ctx, b.Addr()); err == nil {
		conn.Close()
		t.Errorf("DialForward across a partition succeeded")
	}
	c.heal()

	// Closing the forward listener leaves the node running.
	ln.Close()
	if _, err := ln.Accept(); err == nil {
		t.Errorf("Accept after Close succeeded")
	}
	if !a.IsLeader() && !b.IsLeader() {
		waitFor(t, 10*time.Second, "a leader", func() bool { return a.IsLeader() || b.IsLeader() })
	}
}

func TestLogInUseIsRefused(t *testing.T) {
	c := newCluster(t, 1, nil)
	cfg := testConfig("other", c.nodes[0].cfg.Dir, listen(t, "127.0.0.1:0"))
	start := time.Now()
	n, err := New(cfg, &listFSM{})
	if err == nil {
		n.Close()
		t.Fatal("a second node opened a log in use")
	}
	if !strings.Contains(err.Error(), "in use") {
		t.Errorf("error: got %q, want it to say the directory is in use", err)
	}
	if d := time.Since(start); d > logLockTimeout+5*time.Second {
		t.Errorf("refusal took %v", d)
	}
}

// The log store does not write its freelist with every append. A file it
// wrote opens with bolt's default options, as a release that wrote the
// freelist opens it, with the whole log; and after a node of such a
// release appended to it (its freelist written again), the node reopens it
// with the log intact.
func TestLogStoreOpensEitherWay(t *testing.T) {
	c := newCluster(t, 1, func(cfg *Config) { cfg.TrailingLogs = 2 })
	n := c.nodes[0]
	var want []string
	var last uint64
	for i := range 8 {
		cmd := fmt.Sprintf("c%d", i)
		last = apply(t, n, cmd)
		want = append(want, cmd)
		if i == 4 {
			if err := n.Snapshot(); err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
		}
	}
	lastIndex := n.Status().LastIndex
	c.stop(0)

	path := filepath.Join(c.dirs[0], "raft.db")
	old, err := raftboltdb.New(raftboltdb.Options{Path: path})
	if err != nil {
		t.Fatalf("default options: %v", err)
	}
	if got, err := old.LastIndex(); err != nil || got != lastIndex {
		t.Fatalf("default options: LastIndex = %d, %v; want %d", got, err, lastIndex)
	}
	if err := old.SetUint64([]byte("probe"), 7); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	n = c.start(0, true)
	if got := n.Status().LastIndex; got != lastIndex {
		t.Errorf("after reopening LastIndex = %d, want %d", got, lastIndex)
	}
	waitFor(t, 10*time.Second, "leader after restart", n.IsLeader)
	c.waitApplied(last, want)
	last = apply(t, n, "more")
	c.waitApplied(last, append(want, "more"))
}
