package raft

import (
	"context"
	"fmt"

	hraft "github.com/hashicorp/raft"
)

// Member is one server of the cluster configuration.
type Member struct {
	ID    string
	Addr  string
	Voter bool
}

// Members returns the latest cluster configuration as this node knows it.
func (n *Node) Members() ([]Member, error) {
	servers, err := n.servers()
	if err != nil {
		return nil, err
	}
	out := make([]Member, 0, len(servers))
	for _, s := range servers {
		out = append(out, Member{ID: string(s.ID), Addr: string(s.Address), Voter: s.Suffrage == hraft.Voter})
	}
	return out, nil
}

func (n *Node) servers() ([]hraft.Server, error) {
	if n.closing.Load() {
		return nil, ErrShutdown
	}
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, n.translate("configuration", err)
	}
	return f.Configuration().Servers, nil
}

// AddVoter adds the node id at addr as a voter, or promotes it if it is a
// non-voter. Only the leader can change membership (else *NotLeaderError).
// Adding a voter that is already there with the same address does nothing;
// another server already registered at addr under a different id (a wiped node
// that came back with a new id) is removed first.
func (n *Node) AddVoter(ctx context.Context, id, addr string) error {
	return n.addServer(ctx, id, addr, true)
}

// AddNonvoter adds the node id at addr as a non-voter: it receives the log
// but neither votes nor counts for commitment. Adding it again with the same
// address does nothing; a voter is not demoted.
func (n *Node) AddNonvoter(ctx context.Context, id, addr string) error {
	return n.addServer(ctx, id, addr, false)
}

func (n *Node) addServer(ctx context.Context, id, addr string, voter bool) error {
	if err := validateID(id); err != nil {
		return err
	}
	if err := validateAdvertise(addr); err != nil {
		return err
	}
	if !n.IsLeader() {
		if n.closing.Load() {
			return ErrShutdown
		}
		return n.notLeader()
	}
	servers, err := n.servers()
	if err != nil {
		return err
	}
	for _, s := range servers {
		switch {
		case string(s.ID) == id && string(s.Address) == addr:
			if s.Suffrage == hraft.Voter || !voter {
				return nil
			}
		case string(s.ID) != id && string(s.Address) == addr:
			if err := n.Remove(ctx, string(s.ID)); err != nil {
				return fmt.Errorf("raft: remove %s, which holds address %s: %w", s.ID, addr, err)
			}
		}
	}
	timeout, err := enqueueTimeout(ctx)
	if err != nil {
		return err
	}
	var f hraft.IndexFuture
	op := "add voter"
	if voter {
		f = n.raft.AddVoter(hraft.ServerID(id), hraft.ServerAddress(addr), 0, timeout)
	} else {
		op = "add non-voter"
		f = n.raft.AddNonvoter(hraft.ServerID(id), hraft.ServerAddress(addr), 0, timeout)
	}
	return n.awaitChange(ctx, op, f)
}

// Remove removes the node id from the cluster. Removing a node that is not a
// member does nothing. Only the leader can change membership.
func (n *Node) Remove(ctx context.Context, id string) error {
	if !n.IsLeader() {
		if n.closing.Load() {
			return ErrShutdown
		}
		return n.notLeader()
	}
	servers, err := n.servers()
	if err != nil {
		return err
	}
	found := false
	for _, s := range servers {
		found = found || string(s.ID) == id
	}
	if !found {
		return nil
	}
	timeout, err := enqueueTimeout(ctx)
	if err != nil {
		return err
	}
	return n.awaitChange(ctx, "remove", n.raft.RemoveServer(hraft.ServerID(id), 0, timeout))
}

// awaitChange waits for a membership change like Apply waits for a command.
func (n *Node) awaitChange(ctx context.Context, op string, f hraft.Future) error {
	err, abandoned := n.await(ctx, f)
	if abandoned {
		return fmt.Errorf("%w (%s: %w)", ErrOutcomeUnknown, op, err)
	}
	return n.translate(op, err)
}

// TransferLeadership asks the leader to hand leadership to the most
// up-to-date other voter and waits until it has stepped down.
func (n *Node) TransferLeadership(ctx context.Context) error {
	if n.closing.Load() {
		return ErrShutdown
	}
	if !n.IsLeader() {
		return n.notLeader()
	}
	err, abandoned := n.await(ctx, n.raft.LeadershipTransfer())
	if abandoned {
		return fmt.Errorf("raft: leadership transfer: %w", err)
	}
	return n.translate("leadership transfer", err)
}
