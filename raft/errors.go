package raft

import (
	"errors"
	"fmt"
)

// ErrNotLeader reports that the operation needs the leader and this node is
// not it. Errors returned by this package that match it with errors.Is are
// *NotLeaderError values carrying the leader's identity when it is known.
// The operation was not performed.
var ErrNotLeader = errors.New("raft: not the leader")

// ErrShutdown reports that the node is closed or closing.
var ErrShutdown = errors.New("raft: node is shut down")

// ErrOutcomeUnknown reports that a command or membership change was handed to
// Raft but its fate could not be observed: leadership was lost, the node shut
// down, or the context ended while waiting. The entry may or may not be
// committed; a caller that retries must make the retry idempotent.
var ErrOutcomeUnknown = errors.New("raft: outcome unknown")

// ErrInsecure reports a node without TLS whose address or listener is not
// loopback, and Config.Insecure is not set.
var ErrInsecure = errors.New("raft: node-to-node TLS is off on an address that is not loopback")

// ErrMembership reports a membership change refused because it would let
// one node take the place of another: an id already in the cluster at
// another address, an address where another node answers, or a node that
// cannot be reached to prove it is the one being added.
var ErrMembership = errors.New("raft: membership change refused")

// ErrHandshake reports that an address accepted the connection but what
// answered did not complete the node-to-node handshake: it is not a raftsql
// raft port, speaks another protocol version, or refused this node's TLS.
var ErrHandshake = errors.New("the node-to-node handshake failed")

// NotLeaderError is returned when an operation reaches a node that is not the
// leader. LeaderID and LeaderAddr name the current leader, or are empty when
// it is not known.
type NotLeaderError struct {
	LeaderID   string
	LeaderAddr string
}

func (e *NotLeaderError) Error() string {
	if e.LeaderAddr == "" {
		return "raft: not the leader (leader unknown)"
	}
	return fmt.Sprintf("raft: not the leader (leader is %s at %s)", e.LeaderID, e.LeaderAddr)
}

// Is makes errors.Is(err, ErrNotLeader) true for a *NotLeaderError.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }
