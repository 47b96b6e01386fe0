package server

import (
	"errors"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/raft"
)

// LogEntryVersions returns the highest entry version of the command entries
// of this node's log from index from on (those a snapshot compacted are
// skipped), and how many there were.
func (n *Node) LogEntryVersions(from uint64) (highest, entries int, err error) {
	for {
		batch, err := n.raft.ReadLog(from, 256, 1<<20)
		if errors.Is(err, raft.ErrLogCompacted) {
			from++
			if from > n.raft.AppliedIndex() {
				return highest, entries, nil
			}
			continue
		}
		if err != nil {
			return 0, 0, err
		}
		if len(batch) == 0 {
			return highest, entries, nil
		}
		for _, e := range batch {
			if e.Command && len(e.Data) > 0 {
				highest = max(highest, command.EntryVersionOf(e.Data))
				entries++
			}
			from = e.Index + 1
		}
	}
}

// ClusterVersions is the effective entry and side-channel versions as
// this node sees them.
func (n *Node) ClusterVersions() (entry, peer int) { return n.versionsStatus() }

// LastIndex is the index of the last entry of this node's log.
func (n *Node) LastIndex() uint64 { return n.raft.Status().LastIndex }

const (
	EntryVersion       = command.EntryVersion
	PeerVersionNow     = peerVersion
	ReqAdvisoryType    = reqAdvisory
	ErrKindNotUpgraded = errKindNotUpgraded
)
