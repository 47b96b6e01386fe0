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
// Adding a voter that is already there with the same address does nothing.
//
// A new member must prove it is the node at addr: the leader dials addr and
// the node answering there must be id (with TLS, as its certificate says).
// Then another server registered at addr under a different id (a wiped
// node that came back with a new id) is removed first. An id that is
// already a member at another address is refused: moving a live member is
// never what a join means, and taking over its id would let a newcomer
// speak for it. Refusals match ErrMembership.
func (n *Node) AddVoter(ctx context.Context, id, addr string) error {
	return n.addServer(ctx, id, addr, true)
}

// AddNonvoter adds the node id at addr as a non-voter: it receives the log
// but neither votes nor counts for commitment. Adding it again with the same
// address does nothing; a voter is not demoted. It checks id and addr as
// AddVoter does.
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
	var stale []string // other ids registered at addr
	for _, s := range servers {
		switch {
		case string(s.ID) == id && string(s.Address) == addr:
			if s.Suffrage == hraft.Voter || !voter {
				return nil
			}
		case string(s.ID) == id:
			return fmt.Errorf("%w: node id %s is already a member at %s; a node at %s cannot take it over (remove %s first if it really moved)",
				ErrMembership, id, s.Address, addr, id)
		case string(s.Address) == addr:
			stale = append(stale, string(s.ID))
		}
	}
	// The node must answer at addr as id: otherwise a request naming a
	// member's address would have that member removed, or a request naming
	// an address nobody serves would add a voter that never votes.
	probeCtx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	got, err := n.mux.probe(probeCtx, addr)
	cancel()
	if err != nil {
		return fmt.Errorf("%w: cannot reach node %s at %s to check it: %v", ErrMembership, id, addr, err)
	}
	if got != id {
		return fmt.Errorf("%w: the node at %s is %s, not %s", ErrMembership, addr, got, id)
	}
	for _, old := range stale {
		n.log.Info("removing a member whose address a new node now answers at", "removed", old, "addr", addr, logKeyPeer, id)
		if err := n.Remove(ctx, old); err != nil {
			return fmt.Errorf("raft: remove %s, which holds address %s: %w", old, addr, err)
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
	if err := n.awaitChange(ctx, op, f); err != nil {
		return err
	}
	n.log.Info("member added", logKeyPeer, id, "addr", addr, "voter", voter)
	return nil
}

// Remove removes the node id from the cluster. Removing a node that is not a
// member does nothing. Only the leader can change membership. Removing the
// last voter is refused (ErrMembership): a cluster without one can never
// elect a leader again.
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
	found, voter := false, false
	for _, s := range servers {
		if string(s.ID) == id {
			found, voter = true, s.Suffrage == hraft.Voter
		}
	}
	if !found {
		return nil
	}
	if voter && countVoters(servers) == 1 {
		return fmt.Errorf("%w: %s is the last voter; a cluster without a voter can never elect a leader again", ErrMembership, id)
	}
	timeout, err := enqueueTimeout(ctx)
	if err != nil {
		return err
	}
	if err := n.awaitChange(ctx, "remove", n.raft.RemoveServer(hraft.ServerID(id), 0, timeout)); err != nil {
		return err
	}
	n.log.Info("member removed", logKeyPeer, id)
	return nil
}

// awaitChange waits for a membership change like Apply waits for a command.
func (n *Node) awaitChange(ctx context.Context, op string, f hraft.Future) error {
	err, abandoned := n.await(ctx, f)
	if abandoned {
		return fmt.Errorf("%w (%s: %w)", ErrOutcomeUnknown, op, err)
	}
	return n.translate(op, err)
}

// Promote makes the non-voter id a voter. Promoting a voter does nothing;
// an id that is not a member is refused (ErrMembership). Only the leader
// can change membership.
func (n *Node) Promote(ctx context.Context, id string) error {
	s, _, err := n.member(id)
	if err != nil {
		return err
	}
	if s.Suffrage == hraft.Voter {
		return nil
	}
	timeout, err := enqueueTimeout(ctx)
	if err != nil {
		return err
	}
	if err := n.awaitChange(ctx, "promote", n.raft.AddVoter(s.ID, s.Address, 0, timeout)); err != nil {
		return err
	}
	n.log.Info("member promoted to voter", logKeyPeer, id)
	return nil
}

// Demote makes the voter id a non-voter: it keeps receiving the log and
// serving reads but no longer counts for quorum. Demoting the last voter is
// refused (ErrMembership); a leader that demotes itself steps down once the
// change commits.
func (n *Node) Demote(ctx context.Context, id string) error {
	s, servers, err := n.member(id)
	if err != nil {
		return err
	}
	if s.Suffrage != hraft.Voter {
		return nil
	}
	if countVoters(servers) == 1 {
		return fmt.Errorf("%w: %s is the last voter; a cluster without a voter can never elect a leader again", ErrMembership, id)
	}
	timeout, err := enqueueTimeout(ctx)
	if err != nil {
		return err
	}
	if err := n.awaitChange(ctx, "demote", n.raft.DemoteVoter(s.ID, 0, timeout)); err != nil {
		return err
	}
	n.log.Info("member demoted to non-voter", logKeyPeer, id)
	return nil
}

// member finds id in the configuration, on the leader.
func (n *Node) member(id string) (hraft.Server, []hraft.Server, error) {
	if !n.IsLeader() {
		if n.closing.Load() {
			return hraft.Server{}, nil, ErrShutdown
		}
		return hraft.Server{}, nil, n.notLeader()
	}
	servers, err := n.servers()
	if err != nil {
		return hraft.Server{}, nil, err
	}
	for _, s := range servers {
		if string(s.ID) == id {
			return s, servers, nil
		}
	}
	return hraft.Server{}, nil, fmt.Errorf("%w: %s is not a member", ErrMembership, id)
}

func countVoters(servers []hraft.Server) int {
	v := 0
	for _, s := range servers {
		if s.Suffrage == hraft.Voter {
			v++
		}
	}
	return v
}

// TransferLeadershipTo hands leadership to the voter id and waits until
// this node has stepped down. id must be another voter (ErrMembership
// otherwise); "" picks the most up-to-date one, as TransferLeadership does.
func (n *Node) TransferLeadershipTo(ctx context.Context, id string) error {
	if id == "" {
		return n.TransferLeadership(ctx)
	}
	s, _, err := n.member(id)
	if err != nil {
		return err
	}
	if s.Suffrage != hraft.Voter {
		return fmt.Errorf("%w: %s is a non-voter and cannot lead; promote it first", ErrMembership, id)
	}
	if id == n.cfg.ID {
		return nil // already leads
	}
	err, abandoned := n.await(ctx, n.raft.LeadershipTransferToServer(s.ID, s.Address))
	if abandoned {
		return fmt.Errorf("raft: leadership transfer: %w", err)
	}
	return n.translate("leadership transfer", err)
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
