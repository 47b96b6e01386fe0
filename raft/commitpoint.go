package raft

import (
	"context"
	"sync"
	"time"

	hraft "github.com/hashicorp/raft"
)

// CommitPoint is a leader's word that the entry at Index, written in term
// EntryTerm, is committed, given while it led in Term. A follower that holds
// the same entry (same index and term) holds the leader's log up to it (Raft's
// log matching), so it may take Index as committed at once instead of waiting
// for the leader's next AppendEntries, which hashicorp/raft sends only when
// new entries come or CommitTimeout passes. EntryTerm 0 says the leader could
// not name the entry's term (compacted away); such a point only bounds a wait.
type CommitPoint struct {
	Index     uint64
	EntryTerm uint64
	Term      uint64
}

// ReadPoint is ReadIndex with the commit point of the index returned, for a
// follower to learn it with LearnCommit.
func (n *Node) ReadPoint(ctx context.Context) (CommitPoint, error) {
	term := n.raft.CurrentTerm()
	idx, err := n.ReadIndex(ctx)
	if err != nil {
		return CommitPoint{}, err
	}
	return n.pointAt(idx, term), nil
}

// CurrentCommit returns this leader's commit index as a commit point,
// without a quorum check: a commit index is true whether or not its holder
// still leads. Elsewhere it fails with *NotLeaderError.
func (n *Node) CurrentCommit() (CommitPoint, error) {
	if n.closing.Load() {
		return CommitPoint{}, ErrShutdown
	}
	term := n.raft.CurrentTerm()
	if n.raft.State() != hraft.Leader {
		return CommitPoint{}, n.notLeader()
	}
	return n.pointAt(n.raft.CommitIndex(), term), nil
}

func (n *Node) pointAt(idx, term uint64) CommitPoint {
	p := CommitPoint{Index: idx, Term: term}
	var l hraft.Log
	if idx > 0 && n.logs.GetLog(idx, &l) == nil {
		p.EntryTerm = l.Term
	}
	return p
}

// learnRetry bounds how often LearnCommit looks again for an entry that
// has not reached this node's log yet.
const learnRetry = time.Millisecond

// LearnCommit returns once this node knows p.Index to be committed, which it
// learns from p as soon as its log holds p's entry, or ctx ends. It hands its
// Raft the AppendEntries the leader would send next, one that carries no
// entries, matches the log at p's entry and names p.Index as the commit
// index; Raft checks it as it checks the leader's, and refuses it when this
// node's term or log has moved on (then the leader's own messages tell).
func (n *Node) LearnCommit(ctx context.Context, p CommitPoint) error {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	wait := learnRetry
	for n.raft.CommitIndex() < p.Index {
		if n.closing.Load() {
			return ErrShutdown
		}
		if p.EntryTerm != 0 {
			n.tryLearn(ctx, p)
			if n.raft.CommitIndex() >= p.Index {
				return nil
			}
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-timer.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-n.closed:
			return ErrShutdown
		}
		wait = min(2*wait, n.cfg.CommitTimeout)
	}
	return nil
}

// tryLearn hands Raft the AppendEntries of p when this node follows p's
// leader in p's term and its log holds p's entry.
func (n *Node) tryLearn(ctx context.Context, p CommitPoint) {
	if n.relay == nil || n.raft.State() != hraft.Follower || n.raft.CurrentTerm() != p.Term || n.raft.LastIndex() < p.Index {
		return
	}
	addr, id := n.raft.LeaderWithID()
	if addr == "" || id == "" {
		return
	}
	var l hraft.Log
	if err := n.logs.GetLog(p.Index, &l); err != nil || l.Term != p.EntryTerm {
		return
	}
	req := &hraft.AppendEntriesRequest{
		RPCHeader:         hraft.RPCHeader{ProtocolVersion: hraft.ProtocolVersionMax, ID: []byte(id), Addr: n.trans.EncodePeer(id, addr)},
		Term:              p.Term,
		Leader:            n.trans.EncodePeer(id, addr),
		PrevLogEntry:      p.Index,
		PrevLogTerm:       p.EntryTerm,
		LeaderCommitIndex: p.Index,
	}
	n.relay.inject(ctx, req)
}

// rpcRelay stands between the network transport and Raft, so that the node
// can hand Raft an RPC of its own (LearnCommit) on the channel Raft reads
// the network's from: Raft handles both on its one goroutine, in order.
type rpcRelay struct {
	*hraft.NetworkTransport
	out      chan hraft.RPC
	stop     chan struct{}
	stopOnce sync.Once
}

func newRPCRelay(t *hraft.NetworkTransport) *rpcRelay {
	r := &rpcRelay{NetworkTransport: t, out: make(chan hraft.RPC), stop: make(chan struct{})}
	go r.run(t.Consumer())
	return r
}

// Consumer is the channel Raft reads its RPCs from.
func (r *rpcRelay) Consumer() <-chan hraft.RPC { return r.out }

func (r *rpcRelay) run(in <-chan hraft.RPC) {
	for {
		select {
		case rpc := <-in:
			select {
			case r.out <- rpc:
			case <-r.stop:
				return
			}
		case <-r.stop:
			return
		}
	}
}

// inject hands Raft cmd and waits for its answer, or for ctx.
func (r *rpcRelay) inject(ctx context.Context, cmd any) {
	resp := make(chan hraft.RPCResponse, 1)
	select {
	case r.out <- hraft.RPC{Command: cmd, RespChan: resp}:
	case <-ctx.Done():
		return
	case <-r.stop:
		return
	}
	select {
	case <-resp:
	case <-ctx.Done():
	case <-r.stop:
	}
}

func (r *rpcRelay) close() { r.stopOnce.Do(func() { close(r.stop) }) }

// verifier shares the leader's quorum checks among concurrent linearizable
// reads: a read that arrives while a check is in flight waits for the next
// one, which starts when the current one ends and serves every read that
// arrived meanwhile. A read cannot use the check in flight, as that one may
// have been answered by a quorum before the read arrived.
type verifier struct {
	// commitIndex is the leader's commit index and check confirms its
	// leadership with a quorum: Raft's, or a test's.
	commitIndex func() uint64
	check       func() error

	mu      sync.Mutex
	running bool
	next    *verifyRound // the round after the running one, gathering reads

	rounds  uint64 // checks started
	reads   uint64 // reads served or waiting
	waiters int    // reads waiting for next, for tests
}

// verifyStats counts a verifier's work.
type verifyStats struct{ reads, rounds uint64 }

func (v *verifier) stats() verifyStats {
	if v == nil {
		return verifyStats{}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return verifyStats{reads: v.reads, rounds: v.rounds}
}

// verifyRound is one quorum check and the reads it serves.
type verifyRound struct {
	done  chan struct{}
	index uint64 // the commit index when the round started
	err   error
}

// readIndex returns the commit index at the start of a quorum check that
// began after the call and succeeded, or the check's error, or ctx's.
func (v *verifier) readIndex(ctx context.Context) (uint64, error) {
	v.mu.Lock()
	v.reads++
	var r *verifyRound
	if !v.running {
		v.running = true
		r = v.start()
	} else {
		if v.next == nil {
			v.next = &verifyRound{done: make(chan struct{})}
			v.waiters = 0
		}
		v.waiters++
		r = v.next
	}
	v.mu.Unlock()
	select {
	case <-r.done:
		return r.index, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// start begins a round, reusing the gathering one if any; v.mu is held.
func (v *verifier) start() *verifyRound {
	r := v.next
	v.next = nil
	if r == nil {
		r = &verifyRound{done: make(chan struct{})}
	}
	v.rounds++
	r.index = v.commitIndex()
	go v.run(r)
	return r
}

func (v *verifier) run(r *verifyRound) {
	r.err = v.check()
	close(r.done)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.next != nil {
		v.start()
		return
	}
	v.running = false
}
