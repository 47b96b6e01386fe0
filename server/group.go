package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftsql/raftsql/fsm/command"
)

// maxGroupBytes bounds the size of a group entry; a command larger than
// this is proposed alone.
const maxGroupBytes = 1 << 20

// grouper packs the leader's concurrent writes into group entries. At most
// maxInFlight proposals are in Raft at once; a write that arrives while all
// of them are taken waits in the queue, and the next free slot proposes the
// whole queue as one entry. Under light load a write is proposed at once,
// by its own goroutine, so grouping adds no latency; under heavy load the
// queue grows while Raft is busy and each entry carries many writes, so the
// log is written, sent, synced and acknowledged once for all of them. Every
// command in a group keeps its own stamps, request id and result.
//
// When an entry commits, its writers are answered and most of them, in a
// closed loop, send their next write a moment later. Proposing the queue at
// once would leave those writers to wait a whole round for the next free
// slot, and the clients would settle into two cohorts that take turns, each
// entry carrying half of them. So the slot is held open, gathering, until
// the queue has grown by as many writes as the entry had from quick clients
// (those that wrote again soon after their previous answer), or for at most
// as long as recent entries took to commit (capped by maxWait), and all go
// out together. A write that arrives when none is expected (the first
// after a quiet spell) finds the slot free and goes at once; a transaction
// waiting for the write lock ends the gathering, since new writes cannot
// come until it has had its turn.
type grouper struct {
	p           proposer
	clock       clock
	maxInFlight int
	maxWait     time.Duration // 0: never gather

	mu       sync.Mutex
	inFlight int // slots taken: entries in Raft and one gathering
	queue    []*proposal
	closed   bool
	idle     *sync.Cond // signalled when inFlight drops to zero

	// answeredAt holds, for each client whose last write was answered and
	// that has not written since, when that was.
	answeredAt map[uint64]time.Time

	gathering bool  // a slot waits for the queue to reach expect
	expect    int   // queue length at which the gathering slot proposes
	timer     timer // ends the gathering

	commitTime time.Duration // moving average of the time from proposal to commit

	writes, entries atomic.Uint64 // committed, for /status
}

// proposal is one write waiting for its turn or its result.
type proposal struct {
	encoded []byte
	client  uint64 // the request id's client, 0 if none
	// quick: the client sent this write soon after its previous one was
	// answered, as a client in a closed loop does; it is likely to do so
	// again.
	quick bool
	done  chan struct{} // closed once res, idx and err are set
	res   *command.Result
	idx   uint64
	err   error
}

// proposer is what the grouper needs of the node: a way to propose one
// entry and the write lock that orders entries against transactions.
type proposer interface {
	// stamp returns cmd encoded with this leader's clock, a fresh seed and
	// the node's limits, as it is to be applied.
	stamp(cmd *command.Command) []byte
	// propose hands one entry carrying cmds (one command alone, or a group)
	// to Raft and waits for its outcome: one result per command and the
	// entry's index, or the error of the whole entry. It calls committed,
	// at most once, when the entry is known to be committed, which may come
	// before it is applied.
	propose(cmds [][]byte, committed func()) ([]*command.Result, uint64, error)
	// joinWrites adds a shared hold on the write lock, which a writer in
	// the entry holds already, for the time the entry is in Raft;
	// releaseWrites drops it.
	joinWrites()
	releaseWrites()
	// writersWaiting reports that a transaction waits for the write lock.
	writersWaiting() bool
}

// clock is the grouper's time: the real one, or a test's.
type clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) timer
}

// timer is what the grouper does with a timer (*time.Timer has both).
type timer interface {
	Stop() bool
	Reset(d time.Duration) bool
}

// realClock is the time package's clock.
type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }

func newGrouper(p proposer, c clock, maxInFlight int, maxWait time.Duration) *grouper {
	g := &grouper{p: p, clock: c, maxInFlight: max(maxInFlight, 1), maxWait: maxWait, answeredAt: map[uint64]time.Time{}}
	g.idle = sync.NewCond(&g.mu)
	g.timer = c.AfterFunc(time.Hour, g.endGathering)
	g.timer.Stop()
	return g
}

// apply stamps cmd with this leader's clock and a fresh seed, proposes it
// (alone or in a group) and returns its result and the entry's index. The
// caller holds the write lock shared. ctx bounds the wait for a place in an
// entry; once the entry is handed to Raft, apply waits for its outcome,
// which the entry's apply window bounds.
func (g *grouper) apply(ctx context.Context, cmd *command.Command) (*command.Result, uint64, error) {
	p := &proposal{encoded: g.p.stamp(cmd), client: cmd.RequestID.Client, done: make(chan struct{})}

	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil, 0, ErrNotReady
	}
	if answered, ok := g.answeredAt[p.client]; ok {
		p.quick = g.clock.Now().Sub(answered) < g.commitTime
		delete(g.answeredAt, p.client)
	}
	if g.inFlight < g.maxInFlight {
		g.inFlight++
		g.p.joinWrites()
		g.mu.Unlock()
		g.run([]*proposal{p})
		return p.res, p.idx, p.err
	}
	g.queue = append(g.queue, p)
	if g.gathering && len(g.queue) >= g.expect {
		// The gathering is complete: this goroutine proposes it, as it
		// would propose a lone write.
		g.stopGathering()
		batch := g.take()
		g.p.joinWrites()
		g.mu.Unlock()
		g.run(batch)
	} else {
		g.mu.Unlock()
	}

	select {
	case <-p.done:
		return p.res, p.idx, p.err
	case <-ctx.Done():
	}
	g.mu.Lock()
	for i, q := range g.queue {
		if q == p {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			g.mu.Unlock()
			return nil, 0, ctx.Err() // never proposed
		}
	}
	g.mu.Unlock()
	// In Raft: a proposal cannot be withdrawn, and its answer comes within
	// its apply window.
	<-p.done
	return p.res, p.idx, p.err
}

// run proposes batch, which holds one in-flight slot and one shared hold of
// the write lock, and answers its members. The slot is handed on as soon as
// the entry is committed, so the next entry goes to Raft while this one is
// being applied, or when the proposal ends if that comes first.
func (g *grouper) run(batch []*proposal) {
	start := g.clock.Now()
	var handed atomic.Bool
	handOn := func() {
		if handed.CompareAndSwap(false, true) {
			returning := 0
			for _, p := range batch {
				if p.quick {
					returning++
				}
			}
			g.handOn(returning, g.clock.Now().Sub(start))
		}
	}
	g.propose(batch, handOn)
	g.p.releaseWrites()
	handOn()
}

// handOn passes on the slot of an entry that took took to commit (or to
// fail), whose answers are expected to bring back returning writes: it
// starts gathering, or proposes the queue, or frees the slot.
func (g *grouper) handOn(returning int, took time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.commitTime += (took - g.commitTime) / 8
	// A lone returning writer would find the slot free and go at once
	// anyway; there is nothing to gather. With several slots, one gathers
	// at a time.
	if wait := min(g.commitTime, g.maxWait); returning > 0 && len(g.queue)+returning > 1 && wait > 0 && !g.gathering && !g.closed && !g.p.writersWaiting() {
		g.gathering = true
		g.expect = len(g.queue) + returning
		g.timer.Reset(wait)
		return
	}
	g.proposeQueue()
}

// endGathering proposes what the gathering slot has collected when its time
// is up, or when a transaction asks for the write lock.
func (g *grouper) endGathering() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.gathering {
		return
	}
	g.stopGathering()
	g.proposeQueue()
}

// stopGathering ends the gathering state; g.mu is held.
func (g *grouper) stopGathering() {
	g.timer.Stop()
	g.gathering = false
}

// proposeQueue gives a slot that is not gathering to the queue, proposed by
// a new goroutine so that the caller goes on at once, or frees it. g.mu is
// held.
func (g *grouper) proposeQueue() {
	if g.closed {
		for _, p := range g.queue {
			p.err = ErrNotReady
			close(p.done)
		}
		g.queue = nil
	}
	if len(g.queue) == 0 {
		g.inFlight--
		if g.inFlight == 0 {
			g.idle.Broadcast()
		}
		return
	}
	next := g.take()
	g.p.joinWrites()
	go g.run(next)
}

// take removes from the queue the proposals of the next entry: as many as
// fit in maxGroupBytes and command.MaxGroup, at least one.
func (g *grouper) take() []*proposal {
	n, size := 0, 0
	for n < len(g.queue) && n < command.MaxGroup {
		size += len(g.queue[n].encoded)
		if n > 0 && size > maxGroupBytes {
			break
		}
		n++
	}
	batch := make([]*proposal, n)
	copy(batch, g.queue)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	return batch
}

// propose hands batch to Raft as one entry and answers every member. It
// calls committed when the entry is known to be committed, if it learns so
// before the entry is applied.
func (g *grouper) propose(batch []*proposal, committed func()) {
	cmds := make([][]byte, len(batch))
	for i, p := range batch {
		cmds[i] = p.encoded
	}
	results, idx, err := g.p.propose(cmds, committed)
	if err == nil && len(results) != len(batch) {
		err = fmt.Errorf("state machine returned %d results for a group of %d", len(results), len(batch))
	}
	if err == nil {
		g.writes.Add(uint64(len(batch)))
		g.entries.Add(1)
	}
	g.noteAnswered(batch)
	for i, p := range batch {
		if err != nil {
			p.err = err
		} else {
			p.res, p.idx = results[i], idx
		}
		close(p.done)
	}
}

// maxTrackedClients bounds answeredAt; past it the record starts over.
const maxTrackedClients = 1 << 14

// noteAnswered records when the clients of batch were answered.
func (g *grouper) noteAnswered(batch []*proposal) {
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.answeredAt)+len(batch) > maxTrackedClients {
		clear(g.answeredAt)
	}
	for _, p := range batch {
		if p.client != 0 {
			g.answeredAt[p.client] = now
		}
	}
}

// close refuses new writes, fails the queued ones and waits for those in
// Raft to be answered.
func (g *grouper) close() {
	g.mu.Lock()
	g.closed = true
	if g.gathering {
		g.stopGathering()
		g.proposeQueue()
	}
	for g.inFlight > 0 {
		g.idle.Wait()
	}
	g.mu.Unlock()
}

// nodeProposer proposes the grouper's entries through the node's Raft.
type nodeProposer struct{ n *Node }

func (np nodeProposer) stamp(cmd *command.Command) []byte {
	n := np.n
	stamped := *cmd
	stamped.TimeUnixNano = max(time.Now().UnixNano(), n.fsm.LastTime())
	stamped.Seed = rand.Uint64()
	stamped.MaxSteps, stamped.MaxValueSize = n.cfg.MaxWriteSteps, n.cfg.MaxValueSize
	return command.Encode(&stamped)
}

func (np nodeProposer) propose(cmds [][]byte, committed func()) ([]*command.Result, uint64, error) {
	n := np.n
	size := 0
	for _, c := range cmds {
		size += len(c)
	}
	n.metrics.groupEntry(size, len(cmds))
	ctx, known, release := n.applyWindow(size)
	defer release()
	notify := func() {
		known()
		committed()
	}
	if len(cmds) == 1 {
		res, idx, err := n.applyEncoded(ctx, cmds[0], notify)
		if err != nil {
			return nil, 0, err
		}
		return []*command.Result{res}, idx, nil
	}
	resp, idx, err := n.raft.ApplyNotify(ctx, command.EncodeGroup(cmds), notify)
	if err != nil {
		return nil, 0, err
	}
	switch r := resp.(type) {
	case []*command.Result:
		return r, idx, nil
	case error:
		return nil, 0, r
	}
	return nil, 0, fmt.Errorf("state machine returned %T", resp)
}

func (np nodeProposer) joinWrites()          { np.n.writes.joinShared() }
func (np nodeProposer) releaseWrites()       { np.n.writes.releaseShared() }
func (np nodeProposer) writersWaiting() bool { return np.n.writes.contended() }
