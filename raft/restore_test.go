package raft

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func listStream(t testing.TB, entries ...string) []byte {
	t.Helper()
	b, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A user restore on the leader replaces every node's state, at an index past
// the log; a follower refuses it; a stream shorter than announced changes
// nothing.
func TestRestoreReplacesEveryNodesState(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.waitLeader()
	idx := apply(t, l, "a")
	apply(t, l, "b")
	c.waitApplied(idx+1, []string{"a", "b"})

	var follower *Node
	for _, n := range c.nodes {
		if n != l {
			follower = n
			break
		}
	}
	data := listStream(t, "x", "y")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := follower.Restore(ctx, bytes.NewReader(data), int64(len(data))); err == nil {
		t.Fatal("a follower accepted a restore")
	} else {
		asNotLeader(t, err)
	}
	if _, err := l.Restore(ctx, bytes.NewReader(data[:len(data)-2]), int64(len(data))); err == nil {
		t.Fatal("a stream shorter than its size was restored")
	}
	c.waitApplied(idx+1, []string{"a", "b"})

	last := l.Status().LastIndex
	got, err := l.Restore(ctx, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got <= last {
		t.Fatalf("restore became index %d, not past the log's last index %d", got, last)
	}
	c.waitApplied(got, []string{"x", "y"})
	for i, f := range c.fsms {
		if f.restoreCount() == 0 {
			t.Fatalf("%s was never restored", c.ids[i])
		}
	}
	next := apply(t, l, "z")
	c.waitApplied(next, []string{"x", "y", "z"})
	if s, err := l.SnapshotNow(); err != nil || s < next {
		t.Fatalf("SnapshotNow: %d, %v; want at least %d", s, err, next)
	}
}

// indexFSM is a listFSM that wants to know the index it was restored at.
type indexFSM struct {
	*listFSM
	at atomic.Uint64
}

func (f *indexFSM) RestoredAt(index, term uint64) { f.at.Store(index) }

func TestRestoreTellsTheIndex(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig("solo", dir, listen(t, ""))
	cfg.Bootstrap = true
	f := &indexFSM{listFSM: &listFSM{}}
	n, err := New(cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	waitFor(t, 10*time.Second, "leader", n.IsLeader)
	apply(t, n, "a")
	data := listStream(t, "r")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	idx, err := n.Restore(ctx, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if f.at.Load() != idx || !slices.Equal(f.list(), []string{"r"}) {
		t.Fatalf("RestoredAt %d, restore index %d, state %q", f.at.Load(), idx, f.list())
	}
	// At the next start, the restored snapshot is loaded and its index told.
	n.Close()
	cfg.Listener = listen(t, "")
	cfg.Bootstrap = false
	g := &indexFSM{listFSM: &listFSM{}}
	n2, err := New(cfg, g)
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	if g.at.Load() != idx || !slices.Equal(g.list(), []string{"r"}) {
		t.Fatalf("after restart: RestoredAt %d, want %d; state %q", g.at.Load(), idx, g.list())
	}
}
