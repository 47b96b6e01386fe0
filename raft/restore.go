package raft

import (
	"context"
	"fmt"
	"path/filepath"

	hraft "github.com/hashicorp/raft"
)

// RestoreIndexer is implemented by a state machine that wants to know the
// Raft index and term of the snapshot it was restored from at start.
type RestoreIndexer interface {
	RestoredAt(index, term uint64)
}

// HeldState is implemented by a state machine whose state survives a
// restart (a database file kept from a clean shutdown). New then restores
// the latest snapshot only when the state machine holds less than it: a
// restart does not copy a snapshot of the whole database into it. Raft
// replays the log after the snapshot's index; the state machine must skip
// the entries up to HeldIndex itself.
type HeldState interface {
	// HeldIndex returns the index and term of the last entry the state
	// machine holds at start, 0 when it starts empty.
	HeldIndex() (index, term uint64)
	// Reset empties it, when what it holds does not fit the log.
	Reset() error
}

// restoreAtStart brings the state machine to the latest snapshot, unless it
// holds that state already (HeldState). hashicorp/raft is configured not to
// restore at start (NoSnapshotRestoreOnStart): it takes the newest
// snapshot's index as applied and replays the log after it.
func (n *Node) restoreAtStart(fsm hraft.FSM) error {
	metas, err := n.snaps.List()
	if err != nil {
		return fmt.Errorf("raft: list snapshots: %w", err)
	}
	var snap *hraft.SnapshotMeta
	if len(metas) > 0 {
		snap = metas[0]
	}
	if hs, ok := fsm.(HeldState); ok {
		held, _ := hs.HeldIndex()
		last, err := n.logs.LastIndex()
		if err != nil {
			return fmt.Errorf("raft: read log: %w", err)
		}
		switch {
		case held == 0:
		case (snap == nil || held >= snap.Index) && (held <= last || (snap != nil && held == snap.Index)):
			n.log.Info("the state machine holds its state; no snapshot restored", "index", held)
			n.fsm.advance(held, false)
			return nil
		default:
			// The log was removed, or a snapshot installed since is newer.
			n.log.Info("the state machine's state does not fit the log; starting it over", "held", held, "log", last)
			if snap == nil {
				if err := hs.Reset(); err != nil {
					return fmt.Errorf("raft: reset state machine: %w", err)
				}
			}
		}
	}
	if snap == nil {
		return nil
	}
	// Only the newest: hashicorp/raft replays the log from its index.
	_, rc, err := n.snaps.Open(snap.ID)
	if err != nil {
		return fmt.Errorf("raft: open snapshot %s: %w", snap.ID, err)
	}
	if err := fsm.Restore(rc); err != nil {
		return fmt.Errorf("raft: restore snapshot %s: %w", snap.ID, err)
	}
	if n.fsm.indexer != nil {
		n.fsm.indexer.RestoredAt(snap.Index, snap.Term)
	}
	n.fsm.advance(snap.Index, true)
	n.log.Info("restored snapshot at start", "index", snap.Index, "size", snap.Size)
	return nil
}

// Proposal is a command handed to Raft, in order, whose outcome is not
// known yet. A caller with many commands to apply in a given order (a
// restore's chunks) proposes several before it waits for the first.
type Proposal struct {
	n *Node
	f hraft.ApplyFuture
}

// Propose hands cmd to Raft and returns without waiting for it to be
// committed; commands proposed one after the other from one goroutine are
// applied in that order. It fails with *NotLeaderError off the leader; ctx
// bounds only the wait for room in Raft's queue.
func (n *Node) Propose(ctx context.Context, cmd []byte) (*Proposal, error) {
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
	return &Proposal{n: n, f: n.raft.Apply(cmd, timeout)}, nil
}

// Wait returns the state machine's response to the proposal and its index,
// once applied. When ctx ends first, or leadership is lost, the error
// matches ErrOutcomeUnknown.
func (p *Proposal) Wait(ctx context.Context) (response any, index uint64, err error) {
	err, abandoned := p.n.await(ctx, p.f)
	if abandoned {
		return nil, 0, fmt.Errorf("%w (apply: %w)", ErrOutcomeUnknown, err)
	}
	if err != nil {
		return nil, 0, p.n.translate("apply", err)
	}
	return p.f.Response(), p.f.Index(), nil
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

// SnapshotFile is a snapshot in the node's store, as a file another node
// may copy: Path holds the state machine's snapshot stream (what Persist
// wrote), Size bytes.
type SnapshotFile struct {
	ID    string
	Path  string
	Index uint64
	Size  int64
}

// LatestSnapshot returns the newest snapshot in the node's store, if its
// index is minIndex or later; when it is older and the state machine has
// applied minIndex, it takes one first. The file stays until the store
// retains newer ones (Config.SnapshotRetain).
func (n *Node) LatestSnapshot(minIndex uint64) (SnapshotFile, error) {
	for attempt := 0; ; attempt++ {
		metas, err := n.snaps.List()
		if err != nil {
			return SnapshotFile{}, fmt.Errorf("raft: list snapshots: %w", err)
		}
		if len(metas) > 0 && metas[0].Index >= minIndex {
			m := metas[0]
			return SnapshotFile{ID: m.ID, Path: n.SnapshotPath(m.ID), Index: m.Index, Size: m.Size}, nil
		}
		if attempt > 0 {
			return SnapshotFile{}, fmt.Errorf("raft: no snapshot at index %d or later", minIndex)
		}
		if n.AppliedIndex() < minIndex {
			return SnapshotFile{}, fmt.Errorf("raft: index %d not applied here yet (applied %d)", minIndex, n.AppliedIndex())
		}
		if err := n.Snapshot(); err != nil {
			return SnapshotFile{}, err
		}
	}
}

// SnapshotPath returns the file of snapshot id, as the file snapshot store
// lays it out.
func (n *Node) SnapshotPath(id string) string {
	return filepath.Join(n.cfg.Dir, "snapshots", id, "state.bin")
}

// SnapshotByID returns snapshot id of the node's store, if it holds it.
func (n *Node) SnapshotByID(id string) (SnapshotFile, bool) {
	metas, err := n.snaps.List()
	if err != nil {
		return SnapshotFile{}, false
	}
	for _, m := range metas {
		if m.ID == id {
			return SnapshotFile{ID: m.ID, Path: n.SnapshotPath(m.ID), Index: m.Index, Size: m.Size}, true
		}
	}
	return SnapshotFile{}, false
}
