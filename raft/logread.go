package raft

import (
	"errors"
	"fmt"
	"time"

	hraft "github.com/hashicorp/raft"
)

// LogEntry is one entry of this node's log, for readers of the log beside
// Raft (the continuous archive). Command is set for entries of the state
// machine (hashicorp/raft's LogCommand); the others (configuration changes,
// barriers, no-ops) carry nothing to replay.
type LogEntry struct {
	Index, Term uint64
	Command     bool
	Data        []byte
	// AppendedAt is the leader's clock when it appended the entry (zero
	// for entries of old versions).
	AppendedAt time.Time
}

// ErrLogCompacted is wrapped by ReadLog when the entry asked for is no
// longer in this node's log: a snapshot compacted it, or a restore
// installed a snapshot in its place.
var ErrLogCompacted = errors.New("raft: log entry not in the log")

// ReadLog returns this node's log entries from index from on, at most max
// entries and about maxBytes of data (always one entry when there is one),
// none past the applied index, so only committed entries. It fails with
// ErrLogCompacted when entry from is not in the log.
func (n *Node) ReadLog(from uint64, max int, maxBytes int) ([]LogEntry, error) {
	if n.closing.Load() {
		return nil, ErrShutdown
	}
	applied := n.AppliedIndex()
	var out []LogEntry
	size := 0
	for i := from; i <= applied && len(out) < max && (len(out) == 0 || size < maxBytes); i++ {
		var l hraft.Log
		if err := n.logs.GetLog(i, &l); err != nil {
			if len(out) > 0 {
				break // the caller asks again from here
			}
			if errors.Is(err, hraft.ErrLogNotFound) {
				first, _ := n.logs.FirstIndex()
				return nil, fmt.Errorf("%w: index %d (the log starts at %d)", ErrLogCompacted, i, first)
			}
			return nil, fmt.Errorf("raft: reading log entry %d: %w", i, err)
		}
		out = append(out, LogEntry{Index: l.Index, Term: l.Term, Command: l.Type == hraft.LogCommand, Data: l.Data, AppendedAt: l.AppendedAt})
		size += len(l.Data)
	}
	return out, nil
}

// ApplyEntries applies command entries to a state machine that no Raft
// drives, in one batch when it can take batches: the offline replay of an
// archive into a state machine restored from a base. It returns the state
// machine's responses, one per entry.
func ApplyEntries(fsm hraft.FSM, entries []LogEntry) []any {
	logs := make([]*hraft.Log, len(entries))
	for i, e := range entries {
		typ := hraft.LogCommand
		if !e.Command {
			typ = hraft.LogNoop
		}
		logs[i] = &hraft.Log{Index: e.Index, Term: e.Term, Type: typ, Data: e.Data, AppendedAt: e.AppendedAt}
	}
	if b, ok := fsm.(hraft.BatchingFSM); ok {
		return b.ApplyBatch(logs)
	}
	out := make([]any, len(logs))
	for i, l := range logs {
		out[i] = fsm.Apply(l)
	}
	return out
}
