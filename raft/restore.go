package raft

import (
	"context"
	"errors"
	"fmt"
	"io"

	hraft "github.com/hashicorp/raft"
)

// RestoreIndexer is implemented by a state machine that wants to know the
// Raft index and term of the snapshot it was restored from. A snapshot that
// a user restore installs cannot carry them, since Raft picks its index
// while installing it; RestoredAt is called after each Restore, and once
// at start when a snapshot was restored then.
type RestoreIndexer interface {
	RestoredAt(index, term uint64)
}

// Restore replaces the state of the whole cluster with the snapshot in r,
// size bytes in the state machine's own snapshot format. It runs on the
// leader only (elsewhere it fails with *NotLeaderError): hashicorp/raft
// writes the snapshot to the store, restores the leader's state machine
// from it, and moves the log past it with a gap, so that every follower,
// and every node that joins later, receives it as an InstallSnapshot.
// Restore returns the index the snapshot became once an entry after it is
// committed, which means a majority holds the new state.
//
// ctx bounds only the wait to enqueue the restore: once hashicorp/raft has
// it, it runs to the end. An error that matches ErrOutcomeUnknown means the
// restore may or may not have happened.
func (n *Node) Restore(ctx context.Context, r io.Reader, size int64) (uint64, error) {
	if n.closing.Load() {
		return 0, ErrShutdown
	}
	timeout, err := enqueueTimeout(ctx)
	if err != nil {
		return 0, err
	}
	if n.raft.State() != hraft.Leader {
		return 0, n.notLeader()
	}
	before := n.fsm.restoreCount()
	err = n.raft.Restore(&hraft.SnapshotMeta{Version: hraft.SnapshotVersionMax, Size: size}, r, timeout)
	if err != nil {
		if n.fsm.restoreCount() == before {
			// Refused or failed before the state machine changed (not
			// the leader, a short stream, a store that failed).
			if errors.Is(err, hraft.ErrNotLeader) || errors.Is(err, hraft.ErrEnqueueTimeout) || errors.Is(err, hraft.ErrRaftShutdown) {
				return 0, n.translate("restore", err)
			}
			return 0, fmt.Errorf("raft: restore: %w", err)
		}
		return 0, fmt.Errorf("%w (restore installed on the leader, not yet confirmed by a majority: %v)", ErrOutcomeUnknown, err)
	}
	return n.fsm.lastRestore(), nil
}

// SnapshotNow takes a snapshot now, as Snapshot does, and returns the index
// of the newest snapshot the node holds.
func (n *Node) SnapshotNow() (uint64, error) {
	if err := n.Snapshot(); err != nil {
		return 0, err
	}
	index, _ := n.statUint("last_snapshot_index")
	return index, nil
}

// SetSnapshotThreshold changes, while the node runs, how many log entries
// since the last snapshot trigger a new one.
func (n *Node) SetSnapshotThreshold(threshold uint64) error {
	if n.closing.Load() {
		return ErrShutdown
	}
	rc := n.raft.ReloadableConfig()
	if rc.SnapshotThreshold == threshold {
		return nil
	}
	rc.SnapshotThreshold = threshold
	if err := n.raft.ReloadConfig(rc); err != nil {
		return fmt.Errorf("raft: snapshot threshold: %w", err)
	}
	return nil
}

// SnapshotThreshold returns the snapshot threshold in force.
func (n *Node) SnapshotThreshold() uint64 { return n.raft.ReloadableConfig().SnapshotThreshold }
