package raft

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLearnCommit: a follower whose Raft would learn a commit only with the
// leader's next entries (CommitTimeout is an hour here) learns it at once
// from the leader's commit point, and refuses a point whose entry it does
// not hold. Two nodes, so that the leader commits an entry only on the
// follower's answer and the entry itself can never carry its own commit (with
// three, a slow follower may be sent an entry the other already committed).
func TestLearnCommit(t *testing.T) {
	c := newCluster(t, 2, func(cfg *Config) { cfg.CommitTimeout = time.Hour })
	l := c.waitLeader()
	var f *Node
	for _, n := range c.nodes {
		if n != l {
			f = n
			break
		}
	}
	idx := apply(t, l, "a")
	waitFor(t, 10*time.Second, "the entry in the follower's log", func() bool { return f.raft.LastIndex() >= idx })
	if got := f.CommitIndex(); got >= idx {
		t.Fatalf("the follower knows index %d committed before any later entry came (commit index %d)", idx, got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := l.ReadPoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Index < idx || p.EntryTerm == 0 || p.Term == 0 {
		t.Fatalf("read point %+v, want index >= %d with terms", p, idx)
	}
	if err := f.LearnCommit(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := f.WaitApplied(ctx, idx); err != nil {
		t.Fatal(err)
	}
	if got := c.fsms[c.index(f)].list(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("follower holds %q, want [a]", got)
	}

	// A point that does not match the follower's log, or its term, is
	// not taken.
	idx2 := apply(t, l, "b")
	waitFor(t, 10*time.Second, "the second entry in the follower's log", func() bool { return f.raft.LastIndex() >= idx2 })
	p2, err := l.CurrentCommit()
	if err != nil || p2.Index < idx2 {
		t.Fatalf("CurrentCommit: %+v, %v", p2, err)
	}
	for _, bad := range []CommitPoint{
		{Index: p2.Index, EntryTerm: p2.EntryTerm + 1, Term: p2.Term},
		{Index: p2.Index, EntryTerm: p2.EntryTerm, Term: p2.Term + 1},
		{Index: p2.Index, Term: p2.Term},
	} {
		short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := f.LearnCommit(short, bad)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || f.CommitIndex() >= idx2 {
			t.Fatalf("point %+v: %v, commit index %d; want it refused", bad, err, f.CommitIndex())
		}
	}
	if id, _ := f.Leader(); id != l.ID() {
		t.Fatalf("the follower follows %q after refused points, want %q", id, l.ID())
	}
	if err := f.LearnCommit(ctx, p2); err != nil {
		t.Fatal(err)
	}

	// The leader itself, and a point already known, return at once.
	if err := l.LearnCommit(ctx, p2); err != nil {
		t.Fatal(err)
	}
	if _, err := f.CurrentCommit(); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("CurrentCommit on a follower: %v, want ErrNotLeader", err)
	}
}

// TestVerifierSharesRounds: reads that arrive while a quorum check is in
// flight share the next check, which starts when the first ends and reads
// the commit index then; nobody is answered by a check that began before it
// arrived.
func TestVerifierSharesRounds(t *testing.T) {
	var commit atomic.Uint64
	commit.Store(10)
	release := make(chan error)
	started := make(chan struct{}, 16)
	v := &verifier{commitIndex: commit.Load, check: func() error {
		started <- struct{}{}
		return <-release
	}}
	type answer struct {
		idx uint64
		err error
	}
	read := func() <-chan answer {
		ch := make(chan answer, 1)
		go func() {
			idx, err := v.readIndex(context.Background())
			ch <- answer{idx, err}
		}()
		return ch
	}
	first := read()
	<-started // round 1 in flight, at index 10
	commit.Store(20)
	const later = 8
	var waiting []<-chan answer
	for range later {
		waiting = append(waiting, read())
	}
	waitFor(t, 10*time.Second, "the later reads to join the next round", func() bool {
		v.mu.Lock()
		defer v.mu.Unlock()
		return v.next != nil && v.waiters == later
	})
	release <- nil
	if a := <-first; a.err != nil || a.idx != 10 {
		t.Fatalf("first read: %+v, want index 10", a)
	}
	<-started // round 2, for all the later reads, at index 20
	commit.Store(30)
	for _, ch := range waiting {
		select {
		case a := <-ch:
			t.Fatalf("a later read was answered by the first round: %+v", a)
		default:
		}
	}
	boom := errors.New("lost the quorum")
	release <- boom
	for _, ch := range waiting {
		if a := <-ch; !errors.Is(a.err, boom) || a.idx != 20 {
			t.Fatalf("later read: %+v, want the second round's error", a)
		}
	}
	v.mu.Lock()
	rounds, running := v.rounds, v.running
	v.mu.Unlock()
	if rounds != 2 || running {
		t.Fatalf("%d rounds, running %v; want 2 rounds, none running", rounds, running)
	}
	if st := v.stats(); st.reads != 1+later || st.rounds != 2 {
		t.Fatalf("stats %+v, want %d reads in 2 rounds", st, 1+later)
	}

	// A read whose context ends stops waiting; the round goes on.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := v.readIndex(ctx)
		done <- err
	}()
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled read: %v", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); release <- nil }()
	wg.Wait()
	waitFor(t, 10*time.Second, "the round to end", func() bool {
		v.mu.Lock()
		defer v.mu.Unlock()
		return !v.running
	})
}
