package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/raft"
)

// fakeClock is a clock that moves only when the test says.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c     *fakeClock
	at    time.Time
	armed bool
	f     func()
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), armed: true, f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.armed
	t.armed = false
	return was
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.armed
	t.at, t.armed = t.c.now.Add(d), true
	return was
}

// advance moves the clock by d and runs the timers that come due.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	for _, t := range c.timers {
		if t.armed && !t.at.After(c.now) {
			t.armed = false
			due = append(due, t.f)
		}
	}
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
}

// armed reports whether any timer is armed.
func (c *fakeClock) armed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.timers {
		if t.armed {
			return true
		}
	}
	return false
}

// fakeEntry is one entry the grouper proposed, waiting for the test to
// decide its outcome.
type fakeEntry struct {
	cmds    []string
	outcome chan error
}

// fakeProposer hands each entry to the test and answers it as told: every
// command's result names the command, and the index counts the entries.
type fakeProposer struct {
	entries chan *fakeEntry
	mu      sync.Mutex
	held    int // shared holds of the write lock
	waiting bool
	index   uint64
}

func newFakeProposer() *fakeProposer { return &fakeProposer{entries: make(chan *fakeEntry, 64)} }

func (p *fakeProposer) stamp(cmd *command.Command) []byte { return []byte(cmd.Statements[0].SQL) }

func (p *fakeProposer) propose(cmds [][]byte, committed func()) ([]*command.Result, uint64, error) {
	e := &fakeEntry{outcome: make(chan error)}
	for _, c := range cmds {
		e.cmds = append(e.cmds, string(c))
	}
	p.entries <- e
	if err := <-e.outcome; err != nil {
		return nil, 0, err
	}
	committed()
	p.mu.Lock()
	p.index++
	idx := p.index
	p.mu.Unlock()
	res := make([]*command.Result, len(cmds))
	for i, c := range cmds {
		res[i] = &command.Result{Statements: []command.StatementResult{{Columns: []command.Column{{Name: string(c)}}}}}
	}
	return res, idx, nil
}

func (p *fakeProposer) joinWrites() {
	p.mu.Lock()
	p.held++
	p.mu.Unlock()
}

func (p *fakeProposer) releaseWrites() {
	p.mu.Lock()
	p.held--
	p.mu.Unlock()
}

func (p *fakeProposer) writersWaiting() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waiting
}

// groupHarness drives a grouper with a fake proposer and clock.
type groupHarness struct {
	t     *testing.T
	g     *grouper
	p     *fakeProposer
	clock *fakeClock
}

func newGroupHarness(t *testing.T, maxInFlight int, maxWait time.Duration) *groupHarness {
	p := newFakeProposer()
	c := &fakeClock{now: time.Unix(1e9, 0)}
	h := &groupHarness{t: t, g: newGrouper(p, c, maxInFlight, maxWait), p: p, clock: c}
	t.Cleanup(func() {
		// Answer whatever is still in flight so that close returns.
		done := make(chan struct{})
		go func() { h.g.close(); close(done) }()
		for {
			select {
			case e := <-p.entries:
				e.outcome <- ErrNotReady
			case <-done:
				return
			case <-time.After(30 * time.Second):
				t.Error("the grouper did not close")
				return
			}
		}
	})
	return h
}

// write is one client's write in flight.
type write struct {
	name string
	done chan error
	res  *command.Result
	idx  uint64
}

// send has client write name, in a goroutine of its own.
func (h *groupHarness) send(ctx context.Context, client uint64, name string) *write {
	w := &write{name: name, done: make(chan error, 1)}
	go func() {
		res, idx, err := h.g.apply(ctx, &command.Command{Kind: command.KindExecute, RequestID: command.RequestID{Client: client, Seq: 1},
			Statements: []command.Statement{{SQL: name}}})
		w.res, w.idx = res, idx
		w.done <- err
	}()
	return w
}

// entry waits for the next entry the grouper proposes.
func (h *groupHarness) entry() *fakeEntry {
	h.t.Helper()
	select {
	case e := <-h.p.entries:
		return e
	case <-time.After(30 * time.Second):
		h.t.Fatal("no entry proposed")
		return nil
	}
}

// noEntry checks that nothing has been proposed.
func (h *groupHarness) noEntry() {
	h.t.Helper()
	select {
	case e := <-h.p.entries:
		h.t.Fatalf("entry %q proposed, want none", e.cmds)
	default:
	}
}

// until polls the grouper's state until cond holds.
func (h *groupHarness) until(what string, cond func(g *grouper) bool) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		h.g.mu.Lock()
		ok := cond(h.g)
		h.g.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *groupHarness) queued(n int) {
	h.t.Helper()
	h.until(fmt.Sprintf("%d queued writes", n), func(g *grouper) bool { return len(g.queue) == n })
}

// answered waits for w's answer and checks that it is its own.
func (h *groupHarness) answered(w *write) {
	h.t.Helper()
	select {
	case err := <-w.done:
		if err != nil {
			h.t.Fatalf("write %s: %v", w.name, err)
		}
		if got := w.res.Statements[0].Columns[0].Name; got != w.name {
			h.t.Fatalf("write %s got the result of %s", w.name, got)
		}
	case <-time.After(30 * time.Second):
		h.t.Fatalf("write %s not answered", w.name)
	}
}

func (h *groupHarness) failed(w *write, want error) {
	h.t.Helper()
	select {
	case err := <-w.done:
		if !errors.Is(err, want) {
			h.t.Fatalf("write %s: %v, want %v", w.name, err, want)
		}
	case <-time.After(30 * time.Second):
		h.t.Fatalf("write %s not answered", w.name)
	}
}

func wantCmds(t *testing.T, e *fakeEntry, want ...string) {
	t.Helper()
	got := slices.Clone(e.cmds)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("entry carries %q, want %q", e.cmds, want)
	}
}

// TestGrouperProposesALoneWriteAtOnce: with a slot free, a write goes to
// Raft alone and at once, by its own goroutine, and holds the write lock
// only while it is there.
func TestGrouperProposesALoneWriteAtOnce(t *testing.T) {
	h := newGroupHarness(t, 2, 10*time.Millisecond)
	a := h.send(context.Background(), 1, "a")
	e := h.entry()
	wantCmds(t, e, "a")
	b := h.send(context.Background(), 2, "b") // the second slot
	eb := h.entry()
	wantCmds(t, eb, "b")
	e.outcome <- nil
	h.answered(a)
	h.until("slot a freed", func(g *grouper) bool { return g.inFlight == 1 })
	if h.clock.armed() {
		t.Fatal("a lone write that nobody follows started a gathering")
	}
	h.p.mu.Lock()
	held := h.p.held
	h.p.mu.Unlock()
	if held != 1 {
		t.Fatalf("%d holds of the write lock with one entry in Raft, want 1", held)
	}
	eb.outcome <- nil
	h.answered(b)
}

// TestGrouperGroupsWhatQueues: writes that arrive while every slot is taken
// go out together in the next entry, each answered with its own result and
// the entry's index.
func TestGrouperGroupsWhatQueues(t *testing.T) {
	h := newGroupHarness(t, 1, 0)
	first := h.send(context.Background(), 1, "first")
	e1 := h.entry()
	var later []*write
	for i := range 5 {
		later = append(later, h.send(context.Background(), uint64(10+i), fmt.Sprintf("w%d", i)))
	}
	h.queued(5)
	h.noEntry()
	e1.outcome <- nil
	h.answered(first)
	e2 := h.entry()
	wantCmds(t, e2, "w0", "w1", "w2", "w3", "w4")
	e2.outcome <- nil
	for _, w := range later {
		h.answered(w)
		if w.idx != 2 {
			t.Fatalf("write %s at index %d, want the second entry's", w.name, w.idx)
		}
	}
	if got, want := h.g.writes.Load(), uint64(6); got != want {
		t.Fatalf("%d writes counted, want %d", got, want)
	}
	if got := h.g.entries.Load(); got != 2 {
		t.Fatalf("%d entries counted, want 2", got)
	}
}

// TestGrouperGathersReturningWriters: when an entry's writers are known to
// write again soon after their answer, the slot waits for them (as many
// as returned quickly), so that they share the next entry instead of
// splitting into cohorts; the timer ends a gathering whose writers do not
// come; a transaction waiting for the write lock ends it at once.
func TestGrouperGathersReturningWriters(t *testing.T) {
	h := newGroupHarness(t, 1, 10*time.Millisecond)
	h.g.mu.Lock()
	h.g.commitTime = 5 * time.Millisecond
	h.g.mu.Unlock()

	// Round 1: a alone, b and c queued behind it; nobody is known quick.
	a := h.send(context.Background(), 1, "a1")
	e := h.entry()
	b, c := h.send(context.Background(), 2, "b1"), h.send(context.Background(), 3, "c1")
	h.queued(2)
	e.outcome <- nil
	h.answered(a)
	e = h.entry()
	wantCmds(t, e, "b1", "c1")
	e.outcome <- nil
	h.answered(b)
	h.answered(c)
	h.until("the slot freed", func(g *grouper) bool { return g.inFlight == 0 })

	// Round 2: all three write again 1 ms after their answer: quick.
	h.clock.advance(time.Millisecond)
	a = h.send(context.Background(), 1, "a2")
	e = h.entry()
	b, c = h.send(context.Background(), 2, "b2"), h.send(context.Background(), 3, "c2")
	h.queued(2)
	e.outcome <- nil // a answered; a returns, so the slot gathers for it
	h.answered(a)
	h.until("a gathering for three", func(g *grouper) bool { return g.gathering && g.expect == 3 })
	h.noEntry()
	a = h.send(context.Background(), 1, "a3") // completes the gathering
	e = h.entry()
	wantCmds(t, e, "b2", "c2", "a3")

	// Round 3: the three return quickly; two come back, the third does
	// not, and the timer sends the two.
	h.clock.advance(time.Millisecond)
	e.outcome <- nil
	h.answered(b)
	h.answered(c)
	h.answered(a)
	h.until("a gathering for three", func(g *grouper) bool { return g.gathering && g.expect == 3 })
	h.clock.advance(time.Millisecond)
	b, c = h.send(context.Background(), 2, "b4"), h.send(context.Background(), 3, "c4")
	h.queued(2)
	h.noEntry()
	h.clock.advance(10 * time.Millisecond) // past min(commitTime, maxWait)
	e = h.entry()
	wantCmds(t, e, "b4", "c4")

	// Round 4: a transaction waits for the write lock: no gathering, the
	// queue goes at once.
	h.clock.advance(time.Millisecond)
	h.p.mu.Lock()
	h.p.waiting = true
	h.p.mu.Unlock()
	d := h.send(context.Background(), 4, "d")
	h.queued(1)
	e.outcome <- nil
	h.answered(b)
	h.answered(c)
	e = h.entry()
	wantCmds(t, e, "d")
	e.outcome <- nil
	h.answered(d)
}

// TestGrouperFailsTheWholeEntry: an entry that fails (leadership lost, its
// outcome unknown) fails every write in it with the entry's error and
// nothing else; the slot is handed on and later writes are proposed.
func TestGrouperFailsTheWholeEntry(t *testing.T) {
	h := newGroupHarness(t, 1, 0)
	first := h.send(context.Background(), 1, "first")
	e1 := h.entry()
	x, y := h.send(context.Background(), 2, "x"), h.send(context.Background(), 3, "y")
	h.queued(2)
	lost := fmt.Errorf("%w (apply: leadership lost)", raft.ErrOutcomeUnknown)
	e1.outcome <- lost
	h.failed(first, raft.ErrOutcomeUnknown)
	e2 := h.entry()
	wantCmds(t, e2, "x", "y")
	notLeader := &raft.NotLeaderError{LeaderID: "n2"}
	e2.outcome <- notLeader
	h.failed(x, raft.ErrNotLeader)
	h.failed(y, raft.ErrNotLeader)
	if got := h.g.writes.Load(); got != 0 {
		t.Fatalf("%d failed writes counted as committed", got)
	}
	z := h.send(context.Background(), 4, "z")
	e3 := h.entry()
	wantCmds(t, e3, "z")
	e3.outcome <- nil
	h.answered(z)
}

// TestGrouperWithdrawsAndCloses: a queued write whose context ends is
// withdrawn, never proposed; close fails the queued writes with
// ErrNotReady, waits for the entry in Raft, and refuses new writes.
func TestGrouperWithdrawsAndCloses(t *testing.T) {
	h := newGroupHarness(t, 1, 0)
	first := h.send(context.Background(), 1, "first")
	e1 := h.entry()
	ctx, cancel := context.WithCancel(context.Background())
	gone := h.send(ctx, 2, "gone")
	h.queued(1)
	cancel()
	h.failed(gone, context.Canceled)
	h.queued(0)
	stays := h.send(context.Background(), 3, "stays")
	h.queued(1)

	closed := make(chan struct{})
	go func() { h.g.close(); close(closed) }()
	h.until("closing", func(g *grouper) bool { return g.closed })
	select {
	case <-closed:
		t.Fatal("close returned with an entry in Raft")
	default:
	}
	e1.outcome <- nil
	h.answered(first)
	h.failed(stays, ErrNotReady)
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("close did not return")
	}
	h.noEntry()
	if _, _, err := h.g.apply(context.Background(), &command.Command{Statements: []command.Statement{{SQL: "late"}}}); !errors.Is(err, ErrNotReady) {
		t.Fatalf("a write after close: %v, want ErrNotReady", err)
	}
}

// TestGrouperBoundsAnEntry: a queue longer than an entry may carry goes out
// in several entries of at most command.MaxGroup writes.
func TestGrouperBoundsAnEntry(t *testing.T) {
	h := newGroupHarness(t, 1, 0)
	first := h.send(context.Background(), 1, "first")
	e := h.entry()
	n := command.MaxGroup + 3
	var ws []*write
	for i := range n {
		ws = append(ws, h.send(context.Background(), uint64(100+i), fmt.Sprintf("w%d", i)))
	}
	h.queued(n)
	e.outcome <- nil
	h.answered(first)
	total := 0
	for total < n {
		e := h.entry()
		if len(e.cmds) > command.MaxGroup {
			t.Fatalf("an entry of %d writes, more than %d", len(e.cmds), command.MaxGroup)
		}
		total += len(e.cmds)
		e.outcome <- nil
	}
	for _, w := range ws {
		h.answered(w)
	}
}
