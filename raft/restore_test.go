package raft

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"
)

// indexFSM is a listFSM that wants to know the index it was restored at.
type indexFSM struct {
	*listFSM
	at atomic.Uint64
}

func (f *indexFSM) RestoredAt(index, term uint64) { f.at.Store(index) }

// heldFSM is a listFSM that keeps its entries across a restart, as the
// SQLite state machine keeps its file: it holds entries up to held, and
// skips them when Raft replays them.
type heldFSM struct {
	*listFSM
	held   uint64
	resets atomic.Int32
}

func (f *heldFSM) HeldIndex() (uint64, uint64) { return f.held, 0 }

func (f *heldFSM) Reset() error {
	f.resets.Add(1)
	f.mu.Lock()
	f.entries, f.held = nil, 0
	f.mu.Unlock()
	return nil
}

func (f *heldFSM) Apply(l *hraft.Log) any {
	if l.Index <= f.held {
		return nil
	}
	return f.listFSM.Apply(l)
}

func soloNode(t *testing.T, dir string, bootstrap bool, fsm hraft.FSM) *Node {
	t.Helper()
	cfg := testConfig("solo", dir, listen(t, ""))
	cfg.Bootstrap = bootstrap
	n, err := New(cfg, fsm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	waitFor(t, 10*time.Second, "leader", n.IsLeader)
	return n
}

// A node restarts from its latest snapshot and the log after it; a state
// machine that does not hold its state is restored and told the index.
func TestRestartRestoresTheSnapshot(t *testing.T) {
	dir := t.TempDir()
	n := soloNode(t, dir, true, &listFSM{})
	apply(t, n, "a")
	apply(t, n, "b")
	snap, err := n.SnapshotNow()
	if err != nil {
		t.Fatal(err)
	}
	last := apply(t, n, "c")
	n.Close()

	f := &indexFSM{listFSM: &listFSM{}}
	n2 := soloNode(t, dir, false, f)
	if f.at.Load() != snap || f.restoreCount() != 1 {
		t.Fatalf("restored %d times, told index %d; want once at %d", f.restoreCount(), f.at.Load(), snap)
	}
	waitFor(t, 10*time.Second, "replay", func() bool { return n2.AppliedIndex() >= last })
	if got := f.list(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("after restart: %q", got)
	}
}

// A state machine that holds its state at or past the snapshot is not
// restored; Raft replays the log after the snapshot and it skips what it
// holds.
func TestRestartKeepsHeldState(t *testing.T) {
	dir := t.TempDir()
	first := &listFSM{}
	n := soloNode(t, dir, true, first)
	apply(t, n, "a")
	if _, err := n.SnapshotNow(); err != nil {
		t.Fatal(err)
	}
	apply(t, n, "b")
	last := apply(t, n, "c")
	n.Close()

	f := &heldFSM{listFSM: &listFSM{entries: first.list()}, held: last}
	n2 := soloNode(t, dir, false, f)
	if f.restoreCount() != 0 {
		t.Fatalf("restored %d times; the state machine held its state", f.restoreCount())
	}
	if n2.AppliedIndex() < last {
		t.Fatalf("applied index %d, want at least %d", n2.AppliedIndex(), last)
	}
	next := apply(t, n2, "d")
	waitFor(t, 10*time.Second, "apply", func() bool { return n2.AppliedIndex() >= next })
	if got := f.list(); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("after restart: %q", got)
	}
}

// A state machine holding more than the node's log (the log was removed) is
// started over.
func TestHeldStateBeyondTheLogIsReset(t *testing.T) {
	f := &heldFSM{listFSM: &listFSM{entries: []string{"stale"}}, held: 1000}
	n := soloNode(t, t.TempDir(), true, f)
	if f.resets.Load() != 1 {
		t.Fatalf("Reset called %d times, want 1", f.resets.Load())
	}
	idx := apply(t, n, "fresh")
	waitFor(t, 10*time.Second, "apply", func() bool { return n.AppliedIndex() >= idx })
	if got := f.list(); !slices.Equal(got, []string{"fresh"}) {
		t.Fatalf("state %q", got)
	}
}

// Commands proposed one after the other are applied in that order.
func TestProposeKeepsOrder(t *testing.T) {
	n := soloNode(t, t.TempDir(), true, &listFSM{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ps []*Proposal
	var want []string
	for i := range 300 {
		cmd := fmt.Sprintf("c%03d", i)
		p, err := n.Propose(ctx, []byte(cmd))
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
		want = append(want, cmd)
	}
	var prev uint64
	for i, p := range ps {
		resp, idx, err := p.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if idx <= prev || resp.(int) < 1 {
			t.Fatalf("proposal %d: index %d after %d, response %v", i, idx, prev, resp)
		}
		prev = idx
	}
	fsm := n.fsm.inner.(*listFSM)
	if got := fsm.list(); !slices.Equal(got, want) {
		t.Fatalf("applied out of order: %q", got)
	}
}
