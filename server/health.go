package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/raftsql/raftsql/fsm/command"
)

// readyProbeTimeout bounds each step of the readiness check: asking the
// leader for its commit index, and the read on a read connection.
const readyProbeTimeout = time.Second

// Ready reports whether this node should receive clients: nil when it has a
// known leader, has applied the leader's commit index up to ReadyMaxLag
// entries, and answers a read on a read connection in time; otherwise an
// error saying which of those fails. A node that stopped (Close, or a
// failed state machine) is not ready.
func (n *Node) Ready(ctx context.Context) error {
	select {
	case <-n.done:
		if err := n.Err(); err != nil {
			return fmt.Errorf("the node stopped: %w", err)
		}
		return errors.New("the node is closed")
	default:
	}
	if err := n.fatalCause(); err != nil {
		return fmt.Errorf("the node is stopping: %w", err)
	}
	if n.ctx.Err() != nil {
		return errors.New("the node is closing")
	}
	leaderID, leaderAddr := n.raft.Leader()
	if leaderAddr == "" {
		return errors.New("no leader known: the cluster is electing one, or this node is cut off from it")
	}
	commit := n.raft.CommitIndex()
	if !n.raft.IsLeader() {
		// A follower's own commit index is only what the leader last told
		// it: one cut off, or far behind, may not know how far the log is.
		lctx, cancel := context.WithTimeout(ctx, readyProbeTimeout)
		answer, err := n.fwd.call(lctx, leaderAddr, reqStatus, n.self(), nil)
		cancel()
		var st NodeStatus
		if err == nil {
			err = json.Unmarshal(answer, &st)
		}
		if err != nil {
			return fmt.Errorf("the leader %s (%s) did not answer within %v: %v", leaderID, leaderAddr, readyProbeTimeout, err)
		}
		commit = max(commit, st.CommitIndex)
	}
	applied := n.raft.AppliedIndex()
	if applied+n.cfg.ReadyMaxLag < commit {
		return fmt.Errorf("applied index %d is %d entries behind the leader's commit index %d (at most %d allowed)", applied, commit-applied, commit, n.cfg.ReadyMaxLag)
	}
	rctx, cancel := context.WithTimeout(ctx, readyProbeTimeout)
	defer cancel()
	if _, err := n.Query(rctx, []command.Statement{{SQL: "SELECT 1"}}, ReadNone); err != nil {
		if rctx.Err() != nil && ctx.Err() == nil {
			return fmt.Errorf("a read on a read connection did not finish within %v (all of them busy, or the database stuck)", readyProbeTimeout)
		}
		return fmt.Errorf("a read on a read connection failed: %v", err)
	}
	return nil
}

// serveReady answers /readyz: 200 "ok" when Ready, else 503 with the reason.
func (n *Node) serveReady(w http.ResponseWriter, r *http.Request) {
	if err := n.Ready(r.Context()); err != nil {
		http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ok\n"))
}
