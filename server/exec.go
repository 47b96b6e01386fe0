package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/raft"
)

// Errors of the write and read paths. Callers compare with errors.Is.
var (
	// ErrNoLeader: the cluster has no reachable leader (an election is under
	// way or a majority is down). Nothing was applied; retrying is safe.
	ErrNoLeader = errors.New("no leader reachable: the cluster is electing one or has lost its majority")
	// ErrOutcomeUnknown: the write was handed to Raft but this node could
	// not learn whether it committed (leadership lost, no commit within the
	// apply timeout, the node closing). It may or may not have been applied.
	// Nothing else reports it: a read, or a write that never reached Raft,
	// has no outcome to be unsure of.
	ErrOutcomeUnknown = errors.New("outcome of the write is unknown: leadership changed or the cluster did not answer in time")
	// ErrReadTimeout: a read could not be confirmed at its consistency level
	// within the read timeout (no read index from the leader in time).
	// Nothing changed; the read may be retried.
	ErrReadTimeout = errors.New("the read could not be confirmed within the read timeout")
	// ErrCatchUpTimeout: this node did not apply the index a read asked for
	// within the read timeout. Nothing changed; the read may be retried.
	ErrCatchUpTimeout = errors.New("this node did not catch up within the read timeout")
	// ErrLockTimeout: a statement gave up waiting for the cluster's write
	// lock, which an open transaction holds (lock_timeout, or the node's
	// LockTimeout). Nothing was applied.
	ErrLockTimeout = errors.New("canceling statement due to lock timeout")
	// errReadAnswerTimeout: a read forwarded to the leader did not come back
	// within the read timeout. Nothing changed.
	errReadAnswerTimeout = errors.New("canceling statement due to read timeout")
	// ErrNotReady: the node is closing or failed.
	ErrNotReady = errors.New("node is shutting down")
)

// Execute applies statements that may write, as one log entry, on whichever
// node leads, and returns their results. rid, when not zero, makes a retry
// of the same request apply at most once. It runs with every right: the
// program that embeds the node is its own client.
//
// ctx bounds only what comes before the write is handed to Raft (waiting for
// a leader, for the write lock, for a place in the next entry): a proposal
// cannot be withdrawn, so from then on Execute waits for its outcome, which
// the apply timeout bounds (ErrOutcomeUnknown).
func (n *Node) Execute(ctx context.Context, stmts []command.Statement, rid command.RequestID) (*command.Result, error) {
	res, _, err := n.execute(ctx, embedder, stmts, rid, n.cfg.LockTimeout)
	return res, err
}

// embedder is the identity of the program that embeds the node.
var embedder = identity{kind: identClient, rights: RightsAdmin}

// self is the identity of this node's own requests.
func (n *Node) self() identity { return identity{kind: identNode, name: n.cfg.ID} }

// execute is Execute for who that also returns the log index of the entry;
// it waits at most lockTimeout for a transaction's write lock.
func (n *Node) execute(ctx context.Context, who identity, stmts []command.Statement, rid command.RequestID, lockTimeout time.Duration) (*command.Result, uint64, error) {
	cmd := &command.Command{Kind: command.KindExecute, RequestID: rid, Statements: stmts}
	return n.propose(ctx, who, cmd, lockTimeout)
}

// Query runs read-only statements at the given read consistency level.
func (n *Node) Query(ctx context.Context, stmts []command.Statement, level string) (*command.Result, error) {
	return n.query(ctx, embedder, stmts, level)
}

func (n *Node) query(ctx context.Context, who identity, stmts []command.Statement, level string) (*command.Result, error) {
	if who.rights < RightsRead {
		return nil, &deniedError{msg: fmt.Sprintf("permission denied: user %q may not read", who.name)}
	}
	switch level {
	case ReadNone:
		return n.fsm.Query(ctx, stmts)
	case ReadStrong:
		res, _, err := n.propose(ctx, who, &command.Command{Kind: command.KindQuery, Statements: stmts}, n.cfg.LockTimeout)
		if errors.Is(err, ErrOutcomeUnknown) {
			// A read changes nothing: there is no outcome to be unsure of.
			return nil, fmt.Errorf("%w: the read's log entry did not come back in time", ErrReadTimeout)
		}
		return res, err
	case ReadLinearizable, "":
		if err := n.readBarrier(ctx); err != nil {
			return nil, err
		}
		return n.fsm.Query(ctx, stmts)
	case ReadWeak:
		return n.weakQuery(ctx, who, stmts)
	}
	return nil, fmt.Errorf("unknown read consistency %q", level)
}

// onLeader runs a request on the leader: local when this node leads,
// remote (with the leader's address) otherwise, until one answers or ctx
// ends. It is the one place that finds the leader and decides what is
// worth another attempt: local's raft.ErrNotLeader, and those failures of
// remote that retryable names. idempotent says the request may be
// repeated even when a failed attempt may have taken effect. forwarded
// reports that err came from remote.
func (n *Node) onLeader(ctx context.Context, idempotent bool,
	local func(ctx context.Context) error,
	remote func(ctx context.Context, leader string) error,
) (forwarded bool, err error) {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := n.pause(ctx, attempt); err != nil {
				return false, err
			}
		}
		if n.raft.IsLeader() {
			err := local(ctx)
			if errors.Is(err, raft.ErrNotLeader) {
				continue // lost leadership before acting: safe to re-route
			}
			return false, err
		}
		_, leader := n.raft.Leader()
		if leader == "" {
			continue
		}
		err := remote(ctx, leader)
		if retryable(err, idempotent) {
			n.fwd.drop(leader)
			continue
		}
		return true, err
	}
}

// readBarrier returns once this node has applied every write acknowledged
// before it was called. On the leader that takes a quorum check; on a
// follower, the leader names its commit index after that check and the
// follower waits until it has applied that far. The read timeout bounds it;
// its errors say that the read was not served (ErrReadTimeout,
// ErrCatchUpTimeout, ErrNoLeader), or are ctx's when the caller gave up.
func (n *Node) readBarrier(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, n.cfg.ReadTimeout)
	defer cancel()
	err := n.barrier(rctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, ErrCatchUpTimeout):
		return err
	case expired(err):
		return fmt.Errorf("%w (%v): no read index from the leader in time", ErrReadTimeout, n.cfg.ReadTimeout)
	case errors.Is(err, ErrNoLeader):
		return err
	}
	return n.translateRead(err)
}

// barrier is readBarrier without the bound and the translation.
func (n *Node) barrier(ctx context.Context) error {
	var point raft.CommitPoint
	_, err := n.onLeader(ctx, true,
		func(ctx context.Context) (err error) {
			point.Index, err = n.raft.ReadIndex(ctx)
			return err
		},
		func(ctx context.Context, leader string) error {
			answer, err := n.fwd.call(ctx, leader, reqReadIndex, n.self(), wantPoint)
			if err != nil {
				return err
			}
			if point, err = decodePoint(answer); err != nil {
				return fmt.Errorf("bad read index answer from %s: %w", leader, err)
			}
			return nil
		})
	if err != nil {
		return err
	}
	idx := point.Index
	err = n.catchUp(ctx, idx, point)
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (%v): applied %d of %d", ErrCatchUpTimeout, n.cfg.ReadTimeout, n.raft.AppliedIndex(), idx)
	}
	return err
}

// translateRead maps the errors of a read to this package's errors. A read
// has no outcome to be unsure of: nothing here is ErrOutcomeUnknown.
func (n *Node) translateRead(err error) error {
	var re *remoteError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrShutdown):
		return ErrNotReady
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrOutcomeUnknown):
		return ErrNoLeader
	case errors.As(err, &re):
		switch re.kind {
		case errKindNotLeader, errKindUnavailable, errKindOutcomeUnknown:
			return ErrNoLeader
		}
		return n.remoteErr(re)
	}
	return err
}

// waitIndex waits, within the read timeout, until this node has applied
// index.
func (n *Node) waitIndex(ctx context.Context, index uint64) error {
	rctx, cancel := context.WithTimeout(ctx, n.cfg.ReadTimeout)
	defer cancel()
	err := n.catchUp(rctx, index, raft.CommitPoint{})
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("%w (%v): applied %d of %d", ErrCatchUpTimeout, n.cfg.ReadTimeout, n.raft.AppliedIndex(), index)
	}
	return n.translateRead(err)
}

// weakQuery reads the leader's copy without confirming its leadership.
func (n *Node) weakQuery(ctx context.Context, who identity, stmts []command.Statement) (*command.Result, error) {
	rctx, cancel := context.WithTimeout(ctx, n.cfg.ReadTimeout)
	defer cancel()
	var res *command.Result
	var payload []byte
	_, err := n.onLeader(rctx, true,
		func(context.Context) (err error) {
			// The leader's own read is bounded by the statement, not by
			// the time a forwarded one may take to come back.
			res, err = n.fsm.Query(ctx, stmts)
			return err
		},
		func(ctx context.Context, leader string) error {
			if payload == nil {
				payload = command.Encode(&command.Command{Kind: command.KindQuery, Statements: stmts})
			}
			answer, err := n.fwd.call(ctx, leader, reqQuery, who, payload)
			if err != nil {
				return err
			}
			res, err = command.DecodeResult(answer)
			return err
		})
	switch {
	case err == nil:
		return res, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case expired(err):
		return nil, fmt.Errorf("%w (%v): the leader did not answer in time", errReadAnswerTimeout, n.cfg.ReadTimeout)
	case errors.Is(err, ErrNoLeader):
		return nil, err
	}
	return nil, n.translateRead(err)
}

// propose gets cmd applied through the log for who: directly when this
// node leads, otherwise by forwarding it to the leader, which checks who's
// rights again. It waits at most lockTimeout for a transaction's write
// lock. ctx bounds the wait until the command is handed to Raft; after that
// only the apply window does (applyWindow).
func (n *Node) propose(ctx context.Context, who identity, cmd *command.Command, lockTimeout time.Duration) (*command.Result, uint64, error) {
	if err := mayPropose(who, cmd); err != nil {
		return nil, 0, err
	}
	// Looking for a leader is bounded by the apply timeout: nothing is in
	// Raft while this node looks.
	route, cancel := context.WithTimeout(ctx, n.cfg.ApplyTimeout)
	defer cancel()
	var res *command.Result
	var idx uint64
	var payload []byte
	// With a request id the state machine applies cmd at most once, so
	// asking again (perhaps a new leader) after an ambiguous failure is
	// safe and learns the outcome.
	forwarded, err := n.onLeader(route, !cmd.RequestID.IsZero(),
		func(context.Context) (err error) {
			res, idx, err = n.applyShared(ctx, cmd, lockTimeout)
			return err
		},
		func(_ context.Context, leader string) error {
			if payload == nil {
				payload = command.Encode(cmd)
			}
			// The leader answers within its lock timeout plus the apply
			// window of the entry; waiting longer than that learns
			// nothing, and asking again would not either.
			fctx, fcancel := context.WithTimeout(ctx, n.cfg.LockTimeout+n.commitBound(len(payload))+n.cfg.ApplyTimeout)
			defer fcancel()
			answer, err := n.fwd.call(fctx, leader, reqExecute, who, payload)
			if err != nil {
				if fctx.Err() != nil && !expired(err) {
					err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
				}
				return err
			}
			res, idx, err = decodeIndexedResult(answer)
			return err
		})
	if err != nil {
		if forwarded && ambiguous(err) {
			// Sent, and then the answer was lost or this node gave up
			// waiting: the leader may have applied it.
			return nil, 0, ErrOutcomeUnknown
		}
		return nil, 0, n.translate(err)
	}
	return res, idx, nil
}

// mayPropose checks who's rights for cmd: a strong read (KindQuery, which
// the state machine runs read-only) needs the right to read, anything else
// the right to write.
func mayPropose(who identity, cmd *command.Command) error {
	if cmd.Kind == command.KindQuery {
		if who.rights < RightsRead {
			return &deniedError{msg: fmt.Sprintf("permission denied: user %q may not read", who.name)}
		}
		return nil
	}
	if !who.rights.CanWrite() {
		return errCannotWrite(who.name)
	}
	return nil
}

// applyShared proposes cmd unless a transaction holds the write lock, in
// which case it waits, at most lockTimeout, for the transaction to end.
func (n *Node) applyShared(ctx context.Context, cmd *command.Command, lockTimeout time.Duration) (*command.Result, uint64, error) {
	if err := waitLock(ctx, lockTimeout, n.writes.acquireShared); err != nil {
		return nil, 0, err
	}
	defer n.writes.releaseShared()
	if err := n.checkFuncs(ctx, cmd); err != nil {
		return nil, 0, err
	}
	return n.group.apply(ctx, cmd)
}

// applyAllowancePerMiB lengthens the apply timeout of a large entry: the
// leader writes and syncs it, and sends it to every follower, before it can
// commit.
const applyAllowancePerMiB = time.Second

// commitBound is how long an entry of size bytes may take to commit once it
// is handed to Raft: the apply timeout, plus applyAllowancePerMiB for every
// MiB of it.
func (n *Node) commitBound(size int) time.Duration {
	return n.cfg.ApplyTimeout + time.Duration(size)*applyAllowancePerMiB/(1<<20)
}

// applyWindow returns the context in which to wait for an entry of size
// bytes that is being handed to Raft. It ends, making the outcome unknown,
// if the entry is not known to be committed within commitBound(size) of
// this call; once committed is called it ends only when the node closes,
// since a committed entry is applied however long that takes (a large COPY
// applies for seconds). release must be called when the wait is over.
func (n *Node) applyWindow(size int) (ctx context.Context, committed func(), release func()) {
	ctx, cancel := context.WithCancelCause(n.ctx)
	bound := n.commitBound(size)
	var mu sync.Mutex
	known := false
	timer := time.AfterFunc(bound, func() {
		mu.Lock()
		defer mu.Unlock()
		if !known {
			cancel(fmt.Errorf("not committed within %v", bound))
		}
	})
	committed = func() {
		mu.Lock()
		known = true
		mu.Unlock()
		timer.Stop()
	}
	release = func() {
		timer.Stop()
		cancel(nil)
	}
	return ctx, committed, release
}

// applyStamped hands a stamped command to Raft and returns the state
// machine's result and the entry's index. It waits for the outcome within
// the command's apply window, whatever the caller does meanwhile.
func (n *Node) applyStamped(cmd *command.Command) (*command.Result, uint64, error) {
	encoded := command.Encode(cmd)
	ctx, committed, release := n.applyWindow(len(encoded))
	defer release()
	return n.applyEncoded(ctx, encoded, committed)
}

// proposeStamped hands a stamped command to Raft and returns once Raft has
// queued it; wait then returns what applyStamped would have.
func (n *Node) proposeStamped(cmd *command.Command) (wait func() (*command.Result, uint64, error), err error) {
	encoded := command.Encode(cmd)
	ctx, committed, release := n.applyWindow(len(encoded))
	rwait, err := n.raft.ApplyAsync(ctx, encoded, committed)
	if err != nil {
		release()
		return nil, err
	}
	return func() (*command.Result, uint64, error) {
		defer release()
		resp, idx, err := rwait()
		if err != nil {
			return nil, 0, err
		}
		switch r := resp.(type) {
		case *command.Result:
			return r, idx, nil
		case error:
			return nil, 0, r
		}
		return nil, 0, fmt.Errorf("state machine returned %T", resp)
	}, nil
}

// applyEncoded is applyStamped for a command already encoded; committed is
// as for raft.Node.ApplyNotify.
func (n *Node) applyEncoded(ctx context.Context, encoded []byte, committed func()) (*command.Result, uint64, error) {
	resp, idx, err := n.raft.ApplyNotify(ctx, encoded, committed)
	if err != nil {
		return nil, 0, err
	}
	switch r := resp.(type) {
	case *command.Result:
		return r, idx, nil
	case error:
		return nil, 0, r
	}
	return nil, 0, fmt.Errorf("state machine returned %T", resp)
}

// encodeIndexedResult and decodeIndexedResult frame a forwarded write's
// answer: the entry's index, then the result.
func encodeIndexedResult(idx uint64, res *command.Result) []byte {
	return append(binary.BigEndian.AppendUint64(nil, idx), command.EncodeResult(res)...)
}

func decodeIndexedResult(b []byte) (*command.Result, uint64, error) {
	if len(b) < 8 {
		return nil, 0, errors.New("malformed answer from the leader")
	}
	res, err := command.DecodeResult(b[8:])
	return res, binary.BigEndian.Uint64(b), err
}

// pause waits before the next attempt of a request that found no leader, or
// an unreachable one.
func (n *Node) pause(ctx context.Context, attempt int) error {
	d := time.Duration(min(attempt, 10)) * 10 * time.Millisecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return ErrNoLeader
		}
		return ctx.Err()
	case <-n.ctx.Done():
		return ErrNotReady
	case <-t.C:
		return nil
	}
}

// retryable reports whether a failed attempt of a request on the leader
// may be followed by another: when it certainly did not take effect (not
// sent, or the peer is not, or no longer, the leader), and, for an
// idempotent request, also when it may have (sent, and no answer came, or
// the leader does not know the outcome). A definite answer of the leader,
// or the caller giving up, ends it.
func retryable(err error, idempotent bool) bool {
	if err == nil || errors.Is(err, context.Canceled) || expired(err) {
		return false
	}
	if errors.Is(err, errSendFailed) {
		return true
	}
	var re *remoteError
	if errors.As(err, &re) {
		switch re.kind {
		case errKindNotLeader, errKindUnavailable:
			return true
		case errKindOutcomeUnknown:
			return idempotent
		}
		return false
	}
	return idempotent
}

// expired reports whether err is a deadline's: the context's, or that of a
// connection, which the forwarder sets to the context's and which may fire
// a moment before it.
func expired(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded)
}

// ambiguous reports whether a forwarded write may have been applied: the
// leader said so, or the request left this node and no answer came back.
func ambiguous(err error) bool {
	var re *remoteError
	if errors.As(err, &re) {
		return re.kind == errKindOutcomeUnknown
	}
	return !errors.Is(err, errSendFailed)
}

// translate maps raft and side-channel errors to this package's errors.
func (n *Node) translate(err error) error {
	if err == nil {
		return nil
	}
	var re *remoteError
	switch {
	case errors.Is(err, raft.ErrOutcomeUnknown):
		return ErrOutcomeUnknown
	case errors.Is(err, raft.ErrNotLeader):
		return ErrNoLeader
	case errors.Is(err, raft.ErrShutdown):
		return ErrNotReady
	case errors.Is(err, context.Canceled) && n.ctx.Err() != nil:
		// The node is closing: the apply window, which ends with it, was
		// over before Raft had the write (after, the outcome would be
		// unknown). Nothing was applied; the client was not the one
		// who cancelled.
		return ErrNotReady
	case errors.As(err, &re):
		switch re.kind {
		case errKindOutcomeUnknown:
			return ErrOutcomeUnknown
		case errKindNotLeader, errKindUnavailable:
			return ErrNoLeader
		}
		return n.remoteErr(re)
	}
	return err
}

// remoteErr turns an error answer of another node that is of none of the
// kinds translate knows into an error of this node.
func (n *Node) remoteErr(re *remoteError) error {
	switch re.kind {
	case errKindDenied:
		return &deniedError{msg: re.msg}
	case errKindLockTimeout:
		return &remoteSentinel{sentinel: ErrLockTimeout, msg: re.msg}
	case errKindLimit:
		return &limitError{msg: re.msg}
	case errKindMembership:
		return &remoteSentinel{sentinel: ErrMembershipRefused, msg: re.msg}
	case errKindNotUpgraded:
		return &remoteSentinel{sentinel: ErrNotUpgraded, msg: re.msg}
	}
	return errors.New(re.msg)
}

// remoteSentinel is one of this package's errors as another node answered
// it, with that node's message.
type remoteSentinel struct {
	sentinel error
	msg      string
}

func (e *remoteSentinel) Error() string { return e.msg }
func (e *remoteSentinel) Unwrap() error { return e.sentinel }

// limitError reports an answer too large for the side channel (54000).
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

// handleForward answers one side-channel request from another node; its
// identity has been checked for the request type (authorize). ctx ends
// when the asker goes away.
func (n *Node) handleForward(ctx context.Context, env envelope) ([]byte, error) {
	payload := env.payload
	if env.typ == reqStage || env.typ == reqFile {
		// Bounded by the asker, who waits as long as the copy takes.
		return n.handleRestoreCopy(ctx, env)
	}
	if env.typ == reqExecute {
		// Bounded by the lock timeout, then by the entry's apply window.
		cmd, err := command.Decode(payload)
		if err != nil {
			return nil, err
		}
		if err := mayPropose(env.ident, cmd); err != nil {
			return nil, err
		}
		if !n.raft.IsLeader() {
			return nil, n.notLeader()
		}
		res, idx, err := n.applyShared(ctx, cmd, n.cfg.LockTimeout)
		if err != nil {
			return nil, err
		}
		return encodeIndexedResult(idx, res), nil
	}
	// A read's asker waits at most its read timeout (the same on every
	// node, as a rule), and the join's asker a few seconds.
	bound := n.cfg.ReadTimeout
	switch env.typ {
	case reqJoin:
		bound = n.cfg.ApplyTimeout
	case reqMember:
		bound = memberTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	switch env.typ {
	case reqReadIndex:
		if len(payload) == len(wantPoint) && payload[0] == wantPoint[0] {
			p, err := n.raft.ReadPoint(ctx)
			if err != nil {
				return nil, err
			}
			return appendPoint(nil, p), nil
		}
		idx, err := n.raft.ReadIndex(ctx)
		if err != nil {
			return nil, err
		}
		return binary.BigEndian.AppendUint64(nil, idx), nil
	case reqCommit:
		return n.answerCommit()
	case reqQuery:
		cmd, err := command.Decode(payload)
		if err != nil {
			return nil, err
		}
		if !n.raft.IsLeader() {
			return nil, n.notLeader()
		}
		return n.answerQuery(ctx, cmd.Statements)
	case reqJoin:
		return nil, n.handleJoin(ctx, env)
	case reqStatus:
		return n.statusJSON()
	case reqMember:
		return n.handleMember(ctx, env)
	}
	return nil, fmt.Errorf("unknown request type %d", env.typ)
}

// handleJoin adds the node a join request names. A node may ask to join
// only as itself: the id its connection's handshake named, which with
// node-to-node TLS is the id its certificate names. The exception is a
// member relaying the request of a node that asked it (and that it checked
// the same way). The leader then checks that id answers at addr, and
// refuses an id already in the cluster at another address
// (raft.ErrMembership). Every decision is logged.
func (n *Node) handleJoin(ctx context.Context, env envelope) error {
	id, rest, ok := readString(env.payload)
	addr, rest, ok2 := readString(rest)
	if !ok || !ok2 || id == "" || addr == "" || len(rest) > 1 || (len(rest) == 1 && rest[0] != 1) {
		return errors.New("malformed join request")
	}
	nonVoter := len(rest) == 1
	peer := env.ident.name // authorize made sure it is the connection's
	if peer != id && !n.isMember(peer) {
		n.log.Warn("join refused: a node asked to join under another id", "peer", peer, "id", id, "addr", addr)
		return &deniedError{msg: fmt.Sprintf("join refused: node %s may join only as itself, not as %s", peer, id)}
	}
	n.log.Info("join request", "peer", peer, "id", id, "addr", addr, "non_voter", nonVoter)
	if err := n.join(ctx, id, addr, nonVoter); err != nil {
		// A refusal is news; no leader during an election is not.
		level := slog.LevelInfo
		if errors.Is(err, raft.ErrMembership) {
			level = slog.LevelWarn
		}
		n.log.Log(ctx, level, "join refused", "peer", peer, "id", id, "addr", addr, "err", err)
		return err
	}
	n.log.Info("join accepted", "peer", peer, "id", id, "addr", addr)
	return nil
}

// authorize checks that env's identity may make its request, over a
// connection from member peer. member reports (and caches) whether peer is
// in the cluster's configuration.
func (n *Node) authorize(peer string, env envelope, member func() bool) error {
	id := env.ident
	if reqVersion(env.typ) > peerVersion {
		return &notUpgradedError{node: n.cfg.ID, version: peerVersion, need: reqVersion(env.typ), what: "side-channel", op: reqName(env.typ)}
	}
	switch id.kind {
	case identNone:
		return &deniedError{msg: "permission denied: side-channel request carries no identity"}
	case identNode:
		if id.name != peer {
			return &deniedError{msg: fmt.Sprintf("permission denied: node %q speaks for node %q", peer, id.name)}
		}
		switch env.typ {
		case reqReadIndex, reqCommit, reqStatus, reqJoin: // handleJoin checks whom a join names
			return nil
		case reqMember: // a node leaving: handleMember lets it remove only itself
			if !member() {
				return &deniedError{msg: fmt.Sprintf("permission denied: %q is not a member of the cluster", peer)}
			}
			return nil
		case reqStage, reqFile: // a restore's file, copied between members
			if !member() {
				return &deniedError{msg: fmt.Sprintf("permission denied: %q is not a member of the cluster", peer)}
			}
			return nil
		}
		return &deniedError{msg: fmt.Sprintf("permission denied: a node's own identity may not make request %d; it needs a client's", env.typ)}
	case identClient:
		if id.rights > RightsAdmin {
			return fmt.Errorf("malformed identity: rights %d", id.rights)
		}
		if !member() {
			return &deniedError{msg: fmt.Sprintf("permission denied: %q is not a member of the cluster", peer)}
		}
		switch env.typ {
		case reqExecute, reqReadIndex: // the command's kind decides (mayPropose)
			return nil
		case reqPing:
			return nil
		case reqQuery, reqSession, reqAdvisory:
			if id.rights < RightsRead {
				return &deniedError{msg: fmt.Sprintf("permission denied: user %q may not read", id.name)}
			}
			return nil
		case reqStatus, reqMember:
			if !id.rights.CanAdmin() {
				return &deniedError{msg: fmt.Sprintf("permission denied: user %q is not an admin", id.name)}
			}
			return nil
		}
		return &deniedError{msg: fmt.Sprintf("permission denied: a client may not make request %d", env.typ)}
	}
	return &deniedError{msg: fmt.Sprintf("permission denied: unknown identity kind %d", id.kind)}
}

func (n *Node) notLeader() error {
	id, addr := n.raft.Leader()
	return &raft.NotLeaderError{LeaderID: id, LeaderAddr: addr}
}

// join adds a node as a voter, or a non-voter, asking the leader when this
// node is not it.
func (n *Node) join(ctx context.Context, id, addr string, nonVoter bool) error {
	_, err := n.onLeader(ctx, true,
		func(ctx context.Context) error {
			if err := n.checkJoiner(ctx, id, addr); err != nil {
				return err
			}
			defer n.versions.refreshSoon()
			if nonVoter {
				return n.raft.AddNonvoter(ctx, id, addr)
			}
			return n.raft.AddVoter(ctx, id, addr)
		},
		func(ctx context.Context, leader string) error {
			_, err := n.fwd.call(ctx, leader, reqJoin, n.self(), joinPayload(id, addr, nonVoter))
			return err
		})
	return err
}

// joinPayload is a join request's payload; a voter's is what nodes before
// non-voters sent.
func joinPayload(id, addr string, nonVoter bool) []byte {
	b := appendString(appendString(nil, id), addr)
	if nonVoter {
		b = append(b, 1)
	}
	return b
}

// encodeErr turns an error into a side-channel error answer.
func (n *Node) encodeErr(err error) []byte {
	var nl *raft.NotLeaderError
	var re *remoteError
	var ve errVersion
	switch {
	case errors.As(err, &ve):
		return encodeError(errKindVersion, err.Error(), "")
	case errors.As(err, &re):
		// A relayed request's answer from the leader (a join) keeps its kind.
		return encodeError(re.kind, re.msg, re.leaderAddr)
	case errors.Is(err, ErrPermissionDenied):
		return encodeError(errKindDenied, err.Error(), "")
	case errors.As(err, &nl):
		return encodeError(errKindNotLeader, err.Error(), nl.LeaderAddr)
	case errors.Is(err, raft.ErrNotLeader):
		_, addr := n.raft.Leader()
		return encodeError(errKindNotLeader, err.Error(), addr)
	case errors.Is(err, raft.ErrOutcomeUnknown), errors.Is(err, ErrOutcomeUnknown):
		return encodeError(errKindOutcomeUnknown, err.Error(), "")
	case errors.Is(err, ErrLockTimeout):
		return encodeError(errKindLockTimeout, err.Error(), "")
	case errors.As(err, new(*limitError)):
		return encodeError(errKindLimit, err.Error(), "")
	case errors.Is(err, raft.ErrMembership), errors.Is(err, ErrMembershipRefused):
		// A join the version gate refused stays a refused change.
		return encodeError(errKindMembership, err.Error(), "")
	case errors.Is(err, ErrNotUpgraded):
		return encodeError(errKindNotUpgraded, err.Error(), "")
	case errors.Is(err, raft.ErrShutdown), errors.Is(err, ErrNotReady), errors.Is(err, ErrNoLeader),
		errors.Is(err, context.DeadlineExceeded):
		// A deadline that is not an unknown outcome came before Raft had
		// the request: nothing was done.
		return encodeError(errKindUnavailable, err.Error(), "")
	case errors.Is(err, context.Canceled) && n.ctx.Err() != nil:
		// This node is closing, and stopped the request before Raft had
		// it (after, it would be an unknown outcome): the asker goes to
		// the next leader rather than report a cancel nobody asked for.
		return encodeError(errKindUnavailable, fmt.Sprintf("%v: %v", ErrNotReady, err), "")
	}
	return encodeError(errKindOther, err.Error(), "")
}
