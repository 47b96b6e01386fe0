package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/raft"
)

// Errors of the write and read paths. Callers compare with errors.Is.
var (
	// ErrNoLeader: the cluster has no reachable leader (an election is under
	// way or a majority is down). Nothing was applied; retrying is safe.
	ErrNoLeader = errors.New("no leader reachable: the cluster is electing one or has lost its majority")
	// ErrOutcomeUnknown: the write was handed to the cluster but this node
	// could not learn whether it committed (leadership lost, timeout). It may
	// or may not have been applied.
	ErrOutcomeUnknown = errors.New("outcome of the write is unknown: leadership changed or the cluster did not answer in time")
	// ErrCatchUpTimeout: this node did not apply the index a read asked for
	// within the read timeout. Nothing changed; the read may be retried.
	ErrCatchUpTimeout = errors.New("this node did not catch up within the read timeout")
	// ErrNotReady: the node is closing or failed.
	ErrNotReady = errors.New("node is shutting down")
)

// Execute applies statements that may write, as one log entry, on whichever
// node leads, and returns their results. rid, when not zero, makes a retry
// of the same request apply at most once.
func (n *Node) Execute(ctx context.Context, stmts []command.Statement, rid command.RequestID) (*command.Result, error) {
	res, _, err := n.execute(ctx, stmts, rid)
	return res, err
}

// execute is Execute that also returns the log index of the entry.
func (n *Node) execute(ctx context.Context, stmts []command.Statement, rid command.RequestID) (*command.Result, uint64, error) {
	cmd := &command.Command{Kind: command.KindExecute, RequestID: rid, Statements: stmts}
	return n.propose(ctx, cmd)
}

// Query runs read-only statements at the given read consistency level.
func (n *Node) Query(ctx context.Context, stmts []command.Statement, level string) (*command.Result, error) {
	switch level {
	case ReadNone:
		return n.fsm.Query(ctx, stmts)
	case ReadStrong:
		res, _, err := n.propose(ctx, &command.Command{Kind: command.KindQuery, Statements: stmts})
		return res, err
	case ReadLinearizable, "":
		if err := n.readBarrier(ctx); err != nil {
			return nil, err
		}
		return n.fsm.Query(ctx, stmts)
	case ReadWeak:
		return n.weakQuery(ctx, stmts)
	}
	return nil, fmt.Errorf("unknown read consistency %q", level)
}

// readBarrier returns once this node has applied every write acknowledged
// before it was called. On the leader that takes a quorum check; on a
// follower, the leader names its commit index after that check and the
// follower waits until it has applied that far.
func (n *Node) readBarrier(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.ReadTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := n.pause(ctx, attempt); err != nil {
				return err
			}
		}
		var idx uint64
		if n.raft.IsLeader() {
			var err error
			idx, err = n.raft.ReadIndex(ctx)
			if errors.Is(err, raft.ErrNotLeader) {
				continue
			}
			if err != nil {
				return n.translate(err)
			}
		} else {
			_, leader := n.raft.Leader()
			if leader == "" {
				continue
			}
			answer, err := n.fwd.call(ctx, leader, reqReadIndex, nil)
			if readRetryable(err) {
				n.fwd.drop(leader)
				continue
			}
			if err != nil {
				return n.translate(err)
			}
			if len(answer) != 8 {
				return fmt.Errorf("bad read index answer from %s", leader)
			}
			idx = binary.BigEndian.Uint64(answer)
		}
		return n.translate(n.raft.WaitApplied(ctx, idx))
	}
}

// waitIndex waits, within the read timeout, until this node has applied
// index.
func (n *Node) waitIndex(ctx context.Context, index uint64) error {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.ReadTimeout)
	defer cancel()
	err := n.raft.WaitApplied(ctx, index)
	if errors.Is(err, context.DeadlineExceeded) {
		return ErrCatchUpTimeout
	}
	return n.translate(err)
}

// weakQuery reads the leader's copy without confirming its leadership.
func (n *Node) weakQuery(ctx context.Context, stmts []command.Statement) (*command.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.ReadTimeout)
	defer cancel()
	var payload []byte
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := n.pause(ctx, attempt); err != nil {
				return nil, err
			}
		}
		if n.raft.IsLeader() {
			return n.fsm.Query(ctx, stmts)
		}
		_, leader := n.raft.Leader()
		if leader == "" {
			continue
		}
		if payload == nil {
			payload = command.Encode(&command.Command{Kind: command.KindQuery, Statements: stmts})
		}
		answer, err := n.fwd.call(ctx, leader, reqQuery, payload)
		if readRetryable(err) {
			n.fwd.drop(leader)
			continue
		}
		if err != nil {
			return nil, n.translate(err)
		}
		return command.DecodeResult(answer)
	}
}

// propose gets cmd applied through the log: directly when this node leads,
// otherwise by forwarding it to the leader.
func (n *Node) propose(ctx context.Context, cmd *command.Command) (*command.Result, uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.ApplyTimeout)
	defer cancel()
	var payload []byte
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := n.pause(ctx, attempt); err != nil {
				return nil, 0, err
			}
		}
		if n.raft.IsLeader() {
			res, idx, err := n.applyShared(ctx, cmd)
			if errors.Is(err, raft.ErrNotLeader) {
				continue // lost leadership before the entry was accepted: safe to re-route
			}
			return res, idx, n.translate(err)
		}
		_, leader := n.raft.Leader()
		if leader == "" {
			continue
		}
		if payload == nil {
			payload = command.Encode(cmd)
		}
		answer, err := n.fwd.call(ctx, leader, reqExecute, payload)
		if retryable(err) {
			n.fwd.drop(leader)
			continue
		}
		if err != nil && !cmd.RequestID.IsZero() && ambiguous(err) && ctx.Err() == nil {
			// The leader may or may not have the entry. With a request id
			// the state machine applies it at most once, so asking again
			// (perhaps a new leader) is safe and learns the outcome.
			n.fwd.drop(leader)
			continue
		}
		if err != nil {
			if ambiguous(err) {
				// Sent, and then the answer was lost or the caller gave
				// up: the leader may have applied it.
				return nil, 0, ErrOutcomeUnknown
			}
			return nil, 0, n.translate(err)
		}
		return decodeIndexedResult(answer)
	}
}

// applyShared proposes cmd unless a transaction holds the write lock, in
// which case it waits for the transaction to end.
func (n *Node) applyShared(ctx context.Context, cmd *command.Command) (*command.Result, uint64, error) {
	if err := n.writes.acquireShared(ctx); err != nil {
		return nil, 0, err
	}
	defer n.writes.releaseShared()
	return n.group.apply(ctx, cmd)
}

// applyStamped hands a stamped command to Raft and returns the state
// machine's result and the entry's index.
func (n *Node) applyStamped(ctx context.Context, cmd *command.Command) (*command.Result, uint64, error) {
	return n.applyEncoded(ctx, command.Encode(cmd), nil)
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

// retryable reports whether a forwarded request certainly did not take
// effect and may go to another leader.
func retryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, errSendFailed) {
		return true
	}
	var re *remoteError
	return errors.As(err, &re) && (re.kind == errKindNotLeader || re.kind == errKindUnavailable)
}

// readRetryable reports whether a forwarded read failed in a way another
// attempt may cure: a read changes nothing, so only a definite answer from
// the leader (or the caller giving up) ends it.
func readRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var re *remoteError
	if errors.As(err, &re) {
		return re.kind != errKindOther
	}
	return true
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
	case errors.As(err, &re):
		switch re.kind {
		case errKindOutcomeUnknown:
			return ErrOutcomeUnknown
		case errKindNotLeader, errKindUnavailable:
			return ErrNoLeader
		}
		return errors.New(re.msg)
	case errors.Is(err, context.DeadlineExceeded):
		return ErrOutcomeUnknown
	}
	return err
}

// handleForward answers one side-channel request from another node.
func (n *Node) handleForward(typ byte, payload []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.ApplyTimeout)
	defer cancel()
	switch typ {
	case reqExecute:
		cmd, err := command.Decode(payload)
		if err != nil {
			return nil, err
		}
		if !n.raft.IsLeader() {
			return nil, n.notLeader()
		}
		res, idx, err := n.applyShared(ctx, cmd)
		if err != nil {
			return nil, err
		}
		return encodeIndexedResult(idx, res), nil
	case reqReadIndex:
		idx, err := n.raft.ReadIndex(ctx)
		if err != nil {
			return nil, err
		}
		return binary.BigEndian.AppendUint64(nil, idx), nil
	case reqQuery:
		cmd, err := command.Decode(payload)
		if err != nil {
			return nil, err
		}
		if !n.raft.IsLeader() {
			return nil, n.notLeader()
		}
		res, err := n.fsm.Query(ctx, cmd.Statements)
		if err != nil {
			return nil, err
		}
		return command.EncodeResult(res), nil
	case reqStatus:
		return n.statusJSON()
	}
	return nil, fmt.Errorf("unknown request type %d", typ)
}

func (n *Node) notLeader() error {
	id, addr := n.raft.Leader()
	return &raft.NotLeaderError{LeaderID: id, LeaderAddr: addr}
}

// join adds a node as a voter, asking the leader when this node is not it.
func (n *Node) join(ctx context.Context, id, addr string) error {
	if n.raft.IsLeader() {
		return n.raft.AddVoter(ctx, id, addr)
	}
	_, leader := n.raft.Leader()
	if leader == "" {
		return ErrNoLeader
	}
	payload := appendString(appendString(nil, id), addr)
	_, err := n.fwd.call(ctx, leader, reqJoin, payload)
	return err
}

// encodeErr turns an error into a side-channel error answer.
func (n *Node) encodeErr(err error) []byte {
	var nl *raft.NotLeaderError
	switch {
	case errors.As(err, &nl):
		return encodeError(errKindNotLeader, err.Error(), nl.LeaderAddr)
	case errors.Is(err, raft.ErrNotLeader):
		_, addr := n.raft.Leader()
		return encodeError(errKindNotLeader, err.Error(), addr)
	case errors.Is(err, raft.ErrOutcomeUnknown), errors.Is(err, ErrOutcomeUnknown):
		return encodeError(errKindOutcomeUnknown, err.Error(), "")
	case errors.Is(err, raft.ErrShutdown), errors.Is(err, ErrNotReady), errors.Is(err, ErrNoLeader):
		return encodeError(errKindUnavailable, err.Error(), "")
	}
	return encodeError(errKindOther, err.Error(), "")
}
