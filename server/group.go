package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/raft"
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
type grouper struct {
	n           *Node
	maxInFlight int

	mu       sync.Mutex
	inFlight int
	queue    []*proposal
	closed   bool
	idle     *sync.Cond // signalled when inFlight drops to zero

	writes, entries atomic.Uint64 // committed, for /status
}

// proposal is one write waiting for its turn or its result.
type proposal struct {
	encoded []byte
	done    chan struct{} // closed once res, idx and err are set
	res     *command.Result
	idx     uint64
	err     error
}

func newGrouper(n *Node, maxInFlight int) *grouper {
	g := &grouper{n: n, maxInFlight: max(maxInFlight, 1)}
	g.idle = sync.NewCond(&g.mu)
	return g
}

// apply stamps cmd with this leader's clock and a fresh seed, proposes it
// (alone or in a group) and returns its result and the entry's index. The
// caller holds the write lock shared.
func (g *grouper) apply(ctx context.Context, cmd *command.Command) (*command.Result, uint64, error) {
	stamped := *cmd
	stamped.TimeUnixNano = max(time.Now().UnixNano(), g.n.fsm.LastTime())
	stamped.Seed = rand.Uint64()
	p := &proposal{encoded: command.Encode(&stamped), done: make(chan struct{})}

	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil, 0, ErrNotReady
	}
	if g.inFlight < g.maxInFlight {
		g.inFlight++
		g.n.writes.joinShared()
		g.mu.Unlock()
		g.run([]*proposal{p})
		return p.res, p.idx, p.err
	}
	g.queue = append(g.queue, p)
	g.mu.Unlock()

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
	select {
	case <-p.done:
		return p.res, p.idx, p.err
	default:
		return nil, 0, fmt.Errorf("%w (apply: %w)", raft.ErrOutcomeUnknown, ctx.Err())
	}
}

// run proposes batch, which holds one in-flight slot and one shared hold of
// the write lock, and answers its members. The slot is handed on as soon as
// the entry is committed, so the next entry goes to Raft while this one is
// being applied, or when the proposal ends if that comes first.
func (g *grouper) run(batch []*proposal) {
	var handed atomic.Bool
	handOn := func() {
		if handed.CompareAndSwap(false, true) {
			g.handOn()
		}
	}
	g.propose(batch, handOn)
	g.n.writes.releaseShared()
	handOn()
}

// handOn gives an in-flight slot to the queue that built up meanwhile,
// proposed by a new goroutine so that the caller goes on at once, or back
// to the pool.
func (g *grouper) handOn() {
	g.mu.Lock()
	defer g.mu.Unlock()
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
	g.n.writes.joinShared()
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
	ctx, cancel := context.WithTimeout(g.n.ctx, g.n.cfg.ApplyTimeout)
	defer cancel()
	answer := func(p *proposal, res *command.Result, idx uint64, err error) {
		p.res, p.idx, p.err = res, idx, err
		close(p.done)
	}
	if len(batch) == 1 {
		res, idx, err := g.n.applyEncoded(ctx, batch[0].encoded, committed)
		if err == nil {
			g.writes.Add(1)
			g.entries.Add(1)
		}
		answer(batch[0], res, idx, err)
		return
	}
	encoded := make([][]byte, len(batch))
	for i, p := range batch {
		encoded[i] = p.encoded
	}
	resp, idx, err := g.n.raft.ApplyNotify(ctx, command.EncodeGroup(encoded), committed)
	var results []*command.Result
	if err == nil {
		switch r := resp.(type) {
		case []*command.Result:
			if len(r) == len(batch) {
				results = r
			} else {
				err = fmt.Errorf("state machine returned %d results for a group of %d", len(r), len(batch))
			}
		case error:
			err = r
		default:
			err = fmt.Errorf("state machine returned %T", resp)
		}
	}
	if err == nil {
		g.writes.Add(uint64(len(batch)))
		g.entries.Add(1)
	}
	for i, p := range batch {
		if err != nil {
			answer(p, nil, 0, err)
			continue
		}
		answer(p, results[i], idx, nil)
	}
}

// close refuses new writes, fails the queued ones and waits for those in
// Raft to be answered.
func (g *grouper) close() {
	g.mu.Lock()
	g.closed = true
	for g.inFlight > 0 {
		g.idle.Wait()
	}
	g.mu.Unlock()
}
