package raft

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hraft "github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
	bbolterrors "go.etcd.io/bbolt/errors"
)

const (
	// logCacheSize is the number of recent log entries kept in memory in
	// front of the bolt store.
	logCacheSize = 1024
	// logLockTimeout bounds the wait for the log store's file lock.
	logLockTimeout = 2 * time.Second
	// transportTimeout is the I/O deadline of one Raft RPC; InstallSnapshot
	// scales it with the snapshot size.
	transportTimeout = 10 * time.Second
	// transportPool is the number of idle outbound connections kept per peer.
	transportPool = 3
	// maxAppliedScan bounds how many entries AppliedIndex reads past the
	// FSM's last entry.
	maxAppliedScan = 64
	// leaderSubBuffer is the buffer of each LeaderChanges channel.
	leaderSubBuffer = 8
)

// Node is one member of a Raft cluster. Its methods are safe for concurrent use.
type Node struct {
	cfg  Config
	log  *slog.Logger
	raft *hraft.Raft
	fsm  *trackingFSM
	bolt *raftboltdb.BoltStore
	// stable is bolt as Raft's stable store, closed before bolt (stable.go).
	stable *closingStable
	logs   hraft.LogStore // the cache in front of bolt
	snaps  hraft.SnapshotStore
	trans  *hraft.NetworkTransport
	relay  *rpcRelay // between trans and Raft
	mux    *mux
	// verify shares quorum checks among concurrent reads.
	verify *verifier

	metrics *nodeMetrics
	peers   *peerLog

	started atomic.Bool // New has returned from hraft.NewRaft
	// readyTerm is a term in which this node, as leader, has seen an entry
	// of that term committed, so its commit index is current.
	readyTerm atomic.Uint64
	// transferred records whether Close handed leadership over.
	transferred atomic.Bool

	observer *hraft.Observer
	obsCh    chan hraft.Observation

	subsMu     sync.Mutex
	subs       []chan bool
	subsClosed bool
	isLeader   bool // last value published to subs

	closing   atomic.Bool
	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

// New opens (or creates) the node's state in cfg.Dir, starts the transport on
// cfg.Listener or cfg.Addr, and starts Raft with fsm as the state machine.
// When cfg.Bootstrap is set and there is no state yet, the node bootstraps a
// new cluster with itself as the only voter; otherwise it waits to be
// contacted by a leader (after AddVoter or AddNonvoter there).
//
// fsm must follow hashicorp's FSM contract; if it implements
// hraft.BatchingFSM it receives whole batches.
func New(cfg Config, fsm hraft.FSM) (_ *Node, err error) {
	var cleanups []func()
	defer func() {
		if err != nil {
			for i := len(cleanups) - 1; i >= 0; i-- {
				cleanups[i]()
			}
		}
	}()
	if cfg.Listener != nil {
		ln := cfg.Listener
		cleanups = append(cleanups, func() { ln.Close() })
	}
	if fsm == nil {
		return nil, errors.New("raft: nil FSM")
	}
	cfg = cfg.withDefaults()
	logger := cfg.Logger
	if logger == nil {
		logger = discardLogger()
	}
	logger = logger.With(logKeySubsystem, "raft", logKeyNode, cfg.ID)
	hlog := newHclogAdapter(logger)
	hconf, err := cfg.hraftConfig(hlog)
	if err != nil {
		return nil, err
	}
	var ntls *nodeTLS
	if cfg.TLS != nil {
		if ntls, err = newNodeTLS(cfg.TLS, cfg.ID); err != nil {
			return nil, err
		}
	} else if cfg.Insecure {
		logger.Warn("NODE-TO-NODE TLS IS OFF: anyone who reaches the raft address can join, replicate into and write to this cluster", "addr", cfg.Addr)
	}

	n := &Node{cfg: cfg, log: logger, closed: make(chan struct{}), metrics: newNodeMetrics(), peers: hlog.peers}

	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("raft: %w", err)
	}
	if err := checkBoltFile(filepath.Join(cfg.Dir, "raft.db")); err != nil {
		return nil, err
	}
	// bolt locks its file; without a timeout a second process on the same
	// directory would wait for the lock forever. The freelist is not
	// written with every append: once snapshots have truncated the log it
	// spans tens of pages, which each append wrote and synced (it took
	// appends from about 1.3 to 2.6 ms, and 2 to 3.9 ms with 70,000 free
	// pages, on this project's machine). bolt finds the free pages when it
	// opens the file instead, walking the live log (78 ms for 30,000
	// entries of 2 KB), and a file written either way opens either way.
	// The map keeps allocating from a large freelist cheap.
	n.bolt, err = raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.Dir, "raft.db"), BoltOptions: &bbolt.Options{
		Timeout:        logLockTimeout,
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
	}})
	if errors.Is(err, bbolterrors.ErrTimeout) {
		return nil, fmt.Errorf("raft: %s is in use by another process", cfg.Dir)
	}
	if err != nil {
		return nil, fmt.Errorf("raft: open log store: %w", err)
	}
	cleanups = append(cleanups, func() { n.bolt.Close() })
	n.logs, err = hraft.NewLogCache(logCacheSize, timedLogStore{n.bolt, n.metrics.logAppend})
	if err != nil {
		return nil, fmt.Errorf("raft: %w", err)
	}
	snaps, err := hraft.NewFileSnapshotStoreWithLogger(cfg.Dir, cfg.SnapshotRetain, hlog.Named("snapshot"))
	if err != nil {
		return nil, fmt.Errorf("raft: open snapshot store: %w", err)
	}
	n.snaps = timedSnapshotStore{snaps, n.metrics}

	ln := cfg.Listener
	if ln == nil {
		ln, err = net.Listen("tcp", cfg.Addr)
		if err != nil {
			return nil, fmt.Errorf("raft: %w", err)
		}
		cleanups = append(cleanups, func() { ln.Close() })
	}
	n.mux = newMux(ln, cfg.ID, cfg.Addr, ntls, cfg.Gate, cfg.OnPeer, logger)
	cleanups = append(cleanups, func() { n.mux.Close() })
	n.trans = hraft.NewNetworkTransportWithConfig(&hraft.NetworkTransportConfig{
		Stream:  raftStream{n.mux.layers[kindRaft]},
		MaxPool: transportPool,
		Timeout: transportTimeout,
		Logger:  hlog.Named("transport"),
	})
	cleanups = append(cleanups, func() { n.trans.Close() })

	n.relay = newRPCRelay(n.trans)
	cleanups = append(cleanups, n.relay.close)

	n.fsm = newTrackingFSM(fsm, n.restoredSnapshotIndex)
	hasState, err := hraft.HasExistingState(n.logs, n.bolt, n.snaps)
	if err != nil {
		return nil, fmt.Errorf("raft: read existing state: %w", err)
	}
	if err := n.restoreAtStart(fsm); err != nil {
		return nil, err
	}
	n.stable = &closingStable{StableStore: n.bolt}
	n.raft, err = hraft.NewRaft(hconf, n.fsm, n.logs, n.stable, n.snaps, n.relay)
	if err != nil {
		return nil, fmt.Errorf("raft: start: %w", err)
	}
	cleanups = append(cleanups, func() { n.raft.Shutdown().Error(); n.stable.close() })
	n.started.Store(true)
	n.verify = &verifier{commitIndex: n.raft.CommitIndex, check: func() error { return n.raft.VerifyLeader().Error() }}

	n.obsCh = make(chan hraft.Observation, 64)
	n.observer = hraft.NewObserver(n.obsCh, false, func(o *hraft.Observation) bool {
		switch o.Data.(type) {
		case hraft.RaftState, hraft.LeaderObservation, hraft.PeerObservation,
			hraft.FailedHeartbeatObservation, hraft.ResumedHeartbeatObservation:
			return true
		}
		return false
	})
	n.raft.RegisterObserver(n.observer)
	n.wg.Add(1)
	go n.watchLeadership()
	cleanups = append(cleanups, func() {
		n.raft.DeregisterObserver(n.observer)
		close(n.closed)
		n.wg.Wait()
	})

	if cfg.Bootstrap && !hasState {
		boot := hraft.Configuration{Servers: []hraft.Server{{
			Suffrage: hraft.Voter,
			ID:       hraft.ServerID(cfg.ID),
			Address:  hraft.ServerAddress(cfg.Addr),
		}}}
		if err := n.raft.BootstrapCluster(boot).Error(); err != nil && !errors.Is(err, hraft.ErrCantBootstrap) {
			return nil, fmt.Errorf("raft: bootstrap: %w", err)
		}
		logger.Info("bootstrapped a new cluster", "addr", cfg.Addr)
	}
	return n, nil
}

// restoredSnapshotIndex tells the tracking FSM the index of the snapshot just
// restored at run time (InstallSnapshot from the leader, or a user restore):
// hashicorp/raft writes that snapshot to the store before restoring it, so
// it is the newest one there.
func (n *Node) restoredSnapshotIndex() (index, term uint64, ok bool) {
	if !n.started.Load() {
		return 0, 0, false
	}
	metas, err := n.snaps.List()
	if err != nil || len(metas) == 0 {
		return 0, 0, false
	}
	return metas[0].Index, metas[0].Term, true
}

// statUint reads a numeric field of hashicorp's Stats.
func (n *Node) statUint(key string) (uint64, bool) {
	v, err := strconv.ParseUint(n.raft.Stats()[key], 10, 64)
	return v, err == nil
}

// ID returns the node's id.
func (n *Node) ID() string { return n.cfg.ID }

// Addr returns the node's advertised address.
func (n *Node) Addr() string { return n.cfg.Addr }

// Close leaves the cluster running without this node: when it is the leader
// and other voters exist it first hands leadership over (waiting at most a
// few election timeouts), then it stops Raft, the transport and the stores.
// Operations in progress fail with ErrShutdown or ErrOutcomeUnknown. Close is
// idempotent and returns the same error every time.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.closing.Store(true)
		n.transferOnClose()
		errs := []error{n.raft.Shutdown().Error()}
		n.stable.close()
		n.relay.close()
		n.raft.DeregisterObserver(n.observer)
		close(n.closed)
		n.wg.Wait()
		errs = append(errs, n.trans.Close(), n.mux.Close(), n.bolt.Close())
		if err := errors.Join(errs...); err != nil && !errors.Is(err, net.ErrClosed) {
			n.closeErr = fmt.Errorf("raft: close: %w", err)
		}
		n.log.Info("node closed")
	})
	return n.closeErr
}

// transferOnClose hands leadership to another voter if this node leads.
func (n *Node) transferOnClose() {
	if n.raft.State() != hraft.Leader {
		return
	}
	others := false
	if f := n.raft.GetConfiguration(); f.Error() == nil {
		for _, s := range f.Configuration().Servers {
			if s.Suffrage == hraft.Voter && string(s.ID) != n.cfg.ID {
				others = true
			}
		}
	}
	if !others {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*n.cfg.ElectionTimeout)
	defer cancel()
	err, _ := n.await(ctx, n.raft.LeadershipTransfer())
	if err != nil {
		n.log.Warn("leadership transfer before close failed", logKeyError, err)
		return
	}
	n.transferred.Store(true)
	n.log.Info("leadership transferred before close")
}

// await waits for f or for ctx to end, whichever comes first. abandoned is
// true when ctx ended first; err is then ctx.Err().
func (n *Node) await(ctx context.Context, f hraft.Future) (err error, abandoned bool) {
	if ctx.Done() == nil {
		return f.Error(), false
	}
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err, false
	case <-ctx.Done():
		select {
		case err := <-done:
			return err, false
		default:
			return ctx.Err(), true
		}
	}
}

// enqueueTimeout converts ctx's deadline into hashicorp's enqueue timeout
// (0 means wait).
func enqueueTimeout(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	dl, ok := ctx.Deadline()
	if !ok {
		return 0, nil
	}
	d := time.Until(dl)
	if d <= 0 {
		return 0, context.DeadlineExceeded
	}
	return d, nil
}

// notLeader builds the error for an operation that needs the leader.
func (n *Node) notLeader() error {
	id, addr := n.Leader()
	if id == n.cfg.ID {
		// This node just lost (or is about to win) the leadership.
		id, addr = "", ""
	}
	return &NotLeaderError{LeaderID: id, LeaderAddr: addr}
}

// translate maps an error of a hashicorp future to this package's errors.
func (n *Node) translate(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, hraft.ErrNotLeader), errors.Is(err, hraft.ErrLeadershipTransferInProgress):
		// Refused before the operation entered the log.
		return n.notLeader()
	case errors.Is(err, hraft.ErrEnqueueTimeout):
		return fmt.Errorf("raft: %s: not enqueued before the deadline: %w", op, context.DeadlineExceeded)
	case errors.Is(err, hraft.ErrLeadershipLost), errors.Is(err, hraft.ErrAbortedByRestore):
		return fmt.Errorf("%w (%s: %v)", ErrOutcomeUnknown, op, err)
	case errors.Is(err, hraft.ErrRaftShutdown):
		if n.closing.Load() {
			return fmt.Errorf("%w (%s: %w)", ErrOutcomeUnknown, op, ErrShutdown)
		}
		return fmt.Errorf("%w (%s)", ErrShutdown, op)
	default:
		return fmt.Errorf("raft: %s: %v", op, err)
	}
}

// readError translates a failure of the read barrier: a read has no outcome
// to be unsure of, so losing leadership is just "not the leader".
func (n *Node) readError(err error) error {
	if errors.Is(err, hraft.ErrLeadershipLost) {
		return n.notLeader()
	}
	return n.translate("read index", err)
}

// Apply proposes cmd and waits until it is committed and applied to this
// node's FSM, returning the FSM's response and the entry's index. Only the
// leader accepts commands; elsewhere Apply fails with *NotLeaderError.
//
// ctx's deadline bounds the whole call. Once the command has been handed to
// Raft, ending ctx does not withdraw it: Apply then returns an error matching
// ErrOutcomeUnknown (and ctx's error), as it does when leadership is lost
// before the outcome is known. An error matching context.DeadlineExceeded but
// not ErrOutcomeUnknown means the command was not enqueued. Without a
// deadline, Apply waits for room in Raft's queue even if ctx is cancelled
// meanwhile; give ctx a deadline to bound that wait.
func (n *Node) Apply(ctx context.Context, cmd []byte) (response any, index uint64, err error) {
	return n.ApplyNotify(ctx, cmd, nil)
}

// ApplyNotify is Apply, and it also calls committed, if not nil, as soon as
// this node knows the entry is committed, before its FSM applies it, so the
// caller can send the next proposal while this one is being applied.
// committed runs on the FSM's goroutine and must not block. It is called at
// most once, and not at all when Apply fails or the entry's data is empty;
// the caller must not rely on it, only take it as an early sign of what
// the return of ApplyNotify tells for sure.
func (n *Node) ApplyNotify(ctx context.Context, cmd []byte, committed func()) (response any, index uint64, err error) {
	if n.closing.Load() {
		return nil, 0, ErrShutdown
	}
	timeout, err := enqueueTimeout(ctx)
	if err != nil {
		return nil, 0, err
	}
	if n.raft.State() != hraft.Leader {
		return nil, 0, n.notLeader()
	}
	if err := n.checkProposal(cmd); err != nil {
		return nil, 0, err
	}
	if committed != nil && len(cmd) > 0 {
		unwatch := n.fsm.watch(cmd, committed)
		defer unwatch()
	}
	f := n.raft.Apply(cmd, timeout)
	err, abandoned := n.await(ctx, f)
	if abandoned {
		return nil, 0, fmt.Errorf("%w (apply: %w)", ErrOutcomeUnknown, err)
	}
	if err != nil {
		return nil, 0, n.translate("apply", err)
	}
	return f.Response(), f.Index(), nil
}

// checkProposal asks Config.CheckProposal about cmd.
func (n *Node) checkProposal(cmd []byte) error {
	if n.cfg.CheckProposal == nil {
		return nil
	}
	return n.cfg.CheckProposal(cmd)
}

// ApplyAsync is ApplyNotify in two steps: it returns once Raft has queued
// cmd, behind every command queued before the call, and wait then returns
// what ApplyNotify would have. A caller that must order its next proposal
// after this one, but not after its commit, proposes it once ApplyAsync has
// returned. An error from ApplyAsync itself means cmd was not queued,
// except that a failure hashicorp/raft reports only through the future
// (an enqueue timeout, shutdown) comes from wait. wait must be called.
func (n *Node) ApplyAsync(ctx context.Context, cmd []byte, committed func()) (wait func() (any, uint64, error), err error) {
	if n.closing.Load() {
		return nil, ErrShutdown
	}
	timeout, err := enqueueTimeout(ctx)
	if err != nil {
		return nil, err
	}
	if n.raft.State() != hraft.Leader {
		return nil, n.notLeader()
	}
	if err := n.checkProposal(cmd); err != nil {
		return nil, err
	}
	unwatch := func() {}
	if committed != nil && len(cmd) > 0 {
		unwatch = n.fsm.watch(cmd, committed)
	}
	f := n.raft.Apply(cmd, timeout)
	return func() (any, uint64, error) {
		defer unwatch()
		err, abandoned := n.await(ctx, f)
		if abandoned {
			return nil, 0, fmt.Errorf("%w (apply: %w)", ErrOutcomeUnknown, err)
		}
		if err != nil {
			return nil, 0, n.translate("apply", err)
		}
		return f.Response(), f.Index(), nil
	}, nil
}

// ReadIndex is the barrier of a linearizable read. On the leader it returns
// an index at least as high as every index committed before the call, after
// confirming with a quorum that this node still leads; reading the FSM after
// WaitApplied of that index is linearizable. It writes no log entry, except
// once per term when the new leader's commit index is not yet current.
// Elsewhere it fails with *NotLeaderError.
func (n *Node) ReadIndex(ctx context.Context) (uint64, error) {
	if n.closing.Load() {
		return 0, ErrShutdown
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if n.raft.State() != hraft.Leader {
		return 0, n.notLeader()
	}
	if err := n.ensureCurrentCommit(ctx); err != nil {
		return 0, err
	}
	index, err := n.verify.readIndex(ctx)
	if err != nil && ctx.Err() != nil {
		return 0, fmt.Errorf("raft: read index: %w", ctx.Err())
	}
	if err != nil {
		return 0, n.readError(err)
	}
	return index, nil
}

// ensureCurrentCommit makes sure this leader's commit index covers an entry
// of its own term: only then is it at least every index committed by earlier
// leaders (Raft dissertation §6.4). hashicorp/raft appends a no-op when a
// leader takes office; until it commits, a barrier is written and waited for.
func (n *Node) ensureCurrentCommit(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		term := n.raft.CurrentTerm()
		if n.readyTerm.Load() == term {
			return nil
		}
		if ci := n.raft.CommitIndex(); ci > 0 {
			var l hraft.Log
			if err := n.logs.GetLog(ci, &l); err == nil && l.Term == term && n.raft.CurrentTerm() == term {
				n.readyTerm.Store(term)
				return nil
			}
		}
		if attempt == 2 || n.raft.State() != hraft.Leader {
			return n.notLeader()
		}
		timeout, err := enqueueTimeout(ctx)
		if err != nil {
			return err
		}
		err, abandoned := n.await(ctx, n.raft.Barrier(timeout))
		if abandoned {
			return fmt.Errorf("raft: read index: %w", err)
		}
		if err != nil {
			return n.readError(err)
		}
	}
}

// WaitApplied blocks until this node's FSM reflects every entry up to and
// including index, ctx ends, or the node closes. It is woken by the FSM
// itself, not by polling.
func (n *Node) WaitApplied(ctx context.Context, index uint64) error {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		applied, wake := n.fsm.waitChan()
		if applied >= index {
			return nil
		}
		reach, uncommitted := n.reach(applied, index)
		if reach >= index {
			return nil
		}
		// Entries no FSM sees (no-ops, barriers) that are not yet committed
		// here wake nobody when they commit: look again after a commit
		// timeout, the period at which the leader propagates its commit index.
		var recheck <-chan time.Time
		if uncommitted {
			if timer == nil {
				timer = time.NewTimer(n.cfg.CommitTimeout)
			} else {
				timer.Reset(n.cfg.CommitTimeout)
			}
			recheck = timer.C
		}
		select {
		case <-wake:
		case <-recheck:
		case <-ctx.Done():
			return ctx.Err()
		case <-n.closed:
			return ErrShutdown
		}
	}
}

// reach returns the highest index, at most limit, that the FSM state is known
// to reflect, given that the FSM has seen every entry up to applied: the
// committed entries after applied that no FSM sees (no-ops and barriers) and
// the ones already compacted into a snapshot count as reached. uncommitted
// reports that the scan stopped at an entry not yet known committed here,
// rather than at one the FSM has still to apply.
func (n *Node) reach(applied, limit uint64) (reach uint64, uncommitted bool) {
	reach = applied
	if applied >= limit {
		return reach, false
	}
	commit := n.raft.CommitIndex()
	for i := applied + 1; i <= limit; i++ {
		if i > commit {
			return reach, true
		}
		var l hraft.Log
		if err := n.logs.GetLog(i, &l); err != nil {
			first, ferr := n.logs.FirstIndex()
			if ferr == nil && errors.Is(err, hraft.ErrLogNotFound) && i < first {
				// Compacted: a snapshot taken from (or restored into) this
				// FSM holds it.
				reach = min(first-1, limit)
				i = reach
				continue
			}
			return reach, true
		}
		if l.Type == hraft.LogCommand || l.Type == hraft.LogConfiguration {
			return reach, false
		}
		reach = i
	}
	return reach, false
}

// AppliedIndex returns the index up to which this node's FSM reflects the log.
func (n *Node) AppliedIndex() uint64 {
	applied := n.fsm.appliedIndex()
	reach, _ := n.reach(applied, applied+maxAppliedScan)
	return reach
}

// CommitIndex returns the latest index this node knows to be committed.
func (n *Node) CommitIndex() uint64 { return n.raft.CommitIndex() }

// LastIndex is the index of the last entry in this node's log, committed
// or not.
func (n *Node) LastIndex() uint64 { return n.raft.LastIndex() }

// IsLeader reports whether this node is the leader right now. Use ReadIndex
// for a decision that must be linearizable.
func (n *Node) IsLeader() bool { return n.raft.State() == hraft.Leader }

// Leader returns the id and address of the leader as this node knows it, or
// empty strings when it knows none.
func (n *Node) Leader() (id, addr string) {
	a, i := n.raft.LeaderWithID()
	return string(i), string(a)
}

// LastContact returns when this node last heard from the leader: now, when it
// is the leader; the zero time when it never has.
func (n *Node) LastContact() time.Time {
	if n.raft.State() == hraft.Leader {
		return time.Now()
	}
	return n.raft.LastContact()
}

// LeaderChanges returns a channel that receives true when this node becomes
// the leader and false when it stops being the leader. It first receives the
// current value. Each call registers a new subscriber for the life of the
// node; the channel is closed by Close. A subscriber that falls behind loses
// intermediate values, but never a loss of leadership: it then receives false
// followed by the current value.
func (n *Node) LeaderChanges() <-chan bool {
	ch := make(chan bool, leaderSubBuffer)
	n.subsMu.Lock()
	defer n.subsMu.Unlock()
	if n.subsClosed {
		close(ch)
		return ch
	}
	ch <- n.isLeader
	n.subs = append(n.subs, ch)
	return ch
}

// watchLeadership fans Raft state changes out to LeaderChanges subscribers.
func (n *Node) watchLeadership() {
	defer n.wg.Done()
	for {
		select {
		case o := <-n.obsCh:
			switch d := o.Data.(type) {
			case hraft.RaftState:
				n.publish(d == hraft.Leader)
				if d == hraft.Leader {
					n.linkPeers()
				} else {
					n.peers.reset()
				}
			case hraft.PeerObservation:
				if !d.Removed {
					n.peers.link(string(d.Peer.ID), string(d.Peer.Address))
				}
			case hraft.FailedHeartbeatObservation:
				n.linkPeer(string(d.PeerID))
			case hraft.ResumedHeartbeatObservation:
				n.linkPeer(string(d.PeerID))
				n.peers.resumed(string(d.PeerID))
			case hraft.LeaderObservation:
				n.metrics.noteLeader(string(d.LeaderID), n.raft.CurrentTerm())
			}
		case <-n.closed:
			n.publish(false)
			n.subsMu.Lock()
			for _, ch := range n.subs {
				close(ch)
			}
			n.subs, n.subsClosed = nil, true
			n.subsMu.Unlock()
			return
		}
	}
}

func (n *Node) publish(leader bool) {
	n.subsMu.Lock()
	defer n.subsMu.Unlock()
	if leader == n.isLeader {
		return
	}
	n.isLeader = leader
	n.metrics.leaderChanges.Inc()
	for _, ch := range n.subs {
		select {
		case ch <- leader:
			continue
		default:
		}
		// The subscriber is behind: drop what it has not read, but keep the
		// loss of leadership visible.
		for drained := false; !drained; {
			select {
			case <-ch:
			default:
				drained = true
			}
		}
		ch <- false
		if leader {
			ch <- true
		}
	}
}

// Status is a snapshot of a node's view of the cluster.
type Status struct {
	ID                string
	Addr              string
	State             string // "leader", "follower", "candidate" or "shutdown"
	Term              uint64
	LeaderID          string
	LeaderAddr        string
	CommitIndex       uint64
	AppliedIndex      uint64
	LastIndex         uint64
	LastSnapshotIndex uint64
	LastContact       time.Time
}

// Term is the latest term this node knows of.
func (n *Node) Term() uint64 { return n.raft.CurrentTerm() }

// Status returns the node's current status.
func (n *Node) Status() Status {
	s := Status{
		ID:           n.cfg.ID,
		Addr:         n.cfg.Addr,
		State:        strings.ToLower(n.raft.State().String()),
		Term:         n.raft.CurrentTerm(),
		CommitIndex:  n.raft.CommitIndex(),
		AppliedIndex: n.AppliedIndex(),
		LastIndex:    n.raft.LastIndex(),
		LastContact:  n.LastContact(),
	}
	s.LeaderID, s.LeaderAddr = n.Leader()
	s.LastSnapshotIndex, _ = n.statUint("last_snapshot_index")
	return s
}

// Snapshot takes a snapshot now and compacts the log, keeping TrailingLogs
// entries. Having nothing new to snapshot is not an error.
func (n *Node) Snapshot() error {
	if n.closing.Load() {
		return ErrShutdown
	}
	err := n.raft.Snapshot().Error()
	if errors.Is(err, hraft.ErrNothingNewToSnapshot) {
		return nil
	}
	return n.translate("snapshot", err)
}

// ForwardListener returns the listener of side-channel connections from
// other nodes. Closing it refuses further side-channel connections; the node
// keeps running. Use PeerID to learn who dialed.
func (n *Node) ForwardListener() net.Listener { return n.mux.layers[kindForward] }

// DialForward opens a side-channel connection to the node at addr.
func (n *Node) DialForward(ctx context.Context, addr string) (net.Conn, error) {
	if n.closing.Load() {
		return nil, ErrShutdown
	}
	c, err := n.mux.dial(ctx, addr, kindForward)
	if err != nil {
		return nil, err
	}
	return c, nil
}
