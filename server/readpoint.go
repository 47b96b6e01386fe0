package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/raftsql/raftsql/raft"
)

// A follower learns the commit index from the leader's answers instead of
// waiting for Raft to tell it: hashicorp/raft sends a follower the commit
// index with the next entries, or after CommitTimeout (50–100 ms) when no
// entries come, so a read after a write on a follower would wait that long.
// The leader's read index (reqReadIndex asked with wantPoint) and its commit
// index (reqCommit) come as a commit point that the follower hands its Raft
// (raft.LearnCommit).

// wantPoint is the payload of a reqReadIndex that asks for the commit point
// of the read index, not its bare index (which a node without commit points
// answers, ignoring the payload).
var wantPoint = []byte{1}

// pointLen is the size of an encoded commit point.
const pointLen = 24

func appendPoint(b []byte, p raft.CommitPoint) []byte {
	b = binary.BigEndian.AppendUint64(b, p.Index)
	b = binary.BigEndian.AppendUint64(b, p.EntryTerm)
	return binary.BigEndian.AppendUint64(b, p.Term)
}

// decodePoint reads the answer of a reqReadIndex or reqCommit: a commit
// point, or a bare index from a leader that names no entry term.
func decodePoint(b []byte) (raft.CommitPoint, error) {
	switch len(b) {
	case 8:
		return raft.CommitPoint{Index: binary.BigEndian.Uint64(b)}, nil
	case pointLen:
		return raft.CommitPoint{
			Index:     binary.BigEndian.Uint64(b),
			EntryTerm: binary.BigEndian.Uint64(b[8:]),
			Term:      binary.BigEndian.Uint64(b[16:]),
		}, nil
	}
	return raft.CommitPoint{}, fmt.Errorf("malformed commit point of %d bytes", len(b))
}

// catchUp waits until this node has applied index, which the leader has
// committed (a write's index, a read index). A follower whose Raft does not
// know index committed yet asks the leader for its commit index (reqCommit)
// and learns it at once; p, when it names index's entry, spares the asking.
func (n *Node) catchUp(ctx context.Context, index uint64, p raft.CommitPoint) error {
	if n.raft.CommitIndex() < index && !n.raft.IsLeader() {
		if p.Index < index || p.EntryTerm == 0 {
			if asked, err := n.askCommit(ctx); err == nil && asked.Index >= index {
				p = asked
			}
		}
		if p.Index >= index && p.EntryTerm != 0 {
			if err := n.raft.LearnCommit(ctx, p); err != nil {
				return err
			}
		}
	}
	return n.raft.WaitApplied(ctx, index)
}

// askCommit asks the leader for its commit point.
func (n *Node) askCommit(ctx context.Context) (raft.CommitPoint, error) {
	_, leader := n.raft.Leader()
	if leader == "" {
		return raft.CommitPoint{}, ErrNoLeader
	}
	answer, err := n.fwd.call(ctx, leader, reqCommit, n.self(), nil)
	if err != nil {
		return raft.CommitPoint{}, err
	}
	return decodePoint(answer)
}

// answerCommit answers a reqCommit: the leader's commit point.
func (n *Node) answerCommit() ([]byte, error) {
	p, err := n.raft.CurrentCommit()
	if errors.Is(err, raft.ErrNotLeader) {
		return nil, n.notLeader()
	}
	if err != nil {
		return nil, err
	}
	return appendPoint(nil, p), nil
}
