package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/raft"
)

// The version gate makes rolling upgrades possible: a node of a newer
// release must not write what a node of an older one cannot read, in the
// log (which an older node would take for damage, and stop) or on the side
// channel (which an older leader would refuse).
//
// Every node advertises two versions in its status (reqStatus, which every
// release answers): the entry version it reads (command.EntryVersion) and
// the side-channel version it serves (peerVersion). Every node keeps the
// versions of the members of the configuration: it asks each member when
// it starts, when a Raft connection to or from a member completes its
// handshake (a member that restarted, perhaps as another release), after a
// membership change it made, and every few seconds (every second while a
// member's version is unknown). A member that advertises nothing runs a
// release from before the gate and reads the base versions; a member never
// reached since this node started counts as the release it last answered
// as, which the node remembers in its data directory (versionmemory.go), or
// as the base when it never answered, since it may be one being upgraded.
//
// The effective entry version is the lowest over the configuration. The
// leader proposes an entry only when its version (command.EntryVersionOf)
// is at most the effective one (raft's CheckProposal); below the version of
// the result digest, transactions are not pipelined, so their commits are
// written without the digest, as before it existed; what has no older
// equivalent (a restore) is refused with ErrNotUpgraded. A node whose
// entry version is below the effective one is refused as a new member: the
// log may already hold entries it cannot read. A request of a side-channel
// version the peer does not serve is refused before it is sent.
//
// Downgrades are not supported: once every member reads a version, the log
// may hold entries of it, and a node restarted as an older release stops
// on the first one.

// ErrNotUpgraded is matched by an operation refused because a member of
// the cluster runs a release that could not read what it would write: a
// rolling upgrade is not finished. SQLSTATE 0A000.
var ErrNotUpgraded = errors.New("cluster not yet upgraded")

// notUpgradedError names the member that holds the cluster back.
type notUpgradedError struct {
	node    string
	version int    // the member's; 0 when it is not known
	need    int    // what the operation needs
	what    string // "entry" or "side-channel"
	op      string // what was refused, for the message
}

func (e *notUpgradedError) Error() string {
	op := ""
	if e.op != "" {
		op = " (" + e.op + ")"
	}
	if e.version == 0 {
		return fmt.Sprintf("%v: the %s version of node %s is not known yet (it has not answered since this node started), and this needs %s version %d%s",
			ErrNotUpgraded, e.what, e.node, e.what, e.need, op)
	}
	return fmt.Sprintf("%v: node %s speaks %s version %d, this needs %s version %d%s; upgrade every node to this release",
		ErrNotUpgraded, e.node, e.what, e.version, e.what, e.need, op)
}

func (e *notUpgradedError) Unwrap() error { return ErrNotUpgraded }

// digestVersion is the entry version of commands with a result digest
// (command.Command.Expect), which pipelined transactions need.
const digestVersion = 3

// peerInfo is what a node knows of one member's versions.
type peerInfo struct {
	addr         string
	entry, peer  int // 0: never learned
	lastAnswered time.Time
}

// gateState is the cluster's effective versions as this node sees them.
type gateState struct {
	entry, peer int
	// entryNode and peerNode hold the cluster back (lowest, first by id);
	// "" when no member does.
	entryNode, peerNode string
	entryKnown          bool // entryNode's version was learned, not assumed
}

// versionTable is a node's view of its peers' versions.
type versionTable struct {
	kick  chan struct{}
	state atomic.Pointer[gateState]

	mu    sync.Mutex
	peers map[string]*peerInfo // by node id, members only
	// remembered are the versions last learned of each member, kept in
	// dir (versionmemory.go).
	remembered map[string]memberVersions
	dir        string
}

func newVersionTable() *versionTable {
	t := &versionTable{kick: make(chan struct{}, 1), peers: map[string]*peerInfo{}}
	t.state.Store(&gateState{entry: command.BaseEntryVersion, peer: basePeerVersion})
	return t
}

// refreshSoon asks the watcher to ask the members again. It never blocks.
func (t *versionTable) refreshSoon() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// advertised returns the versions this node advertises: what it reads and
// serves, or less when a test poses it as an older release.
func (n *Node) advertised() (entry, peer int) {
	entry, peer = command.EntryVersion, peerVersion
	if v := n.cfg.TestEntryVersion; v > 0 && v < entry {
		entry = v
	}
	if v := n.cfg.TestPeerVersion; v > 0 && v < peer {
		peer = v
	}
	return entry, peer
}

// watchVersions keeps the version table current while the node runs.
func (n *Node) watchVersions() {
	t := n.versions
	for {
		unknown := n.refreshVersions()
		every := 5 * time.Second
		if unknown {
			every = time.Second
		}
		timer := time.NewTimer(every)
		select {
		case <-n.ctx.Done():
			timer.Stop()
			return
		case <-t.kick:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// refreshVersions asks every member of the configuration for its versions
// and recomputes the effective ones. It reports whether a member's
// versions are still unknown.
func (n *Node) refreshVersions() bool {
	members, err := n.raft.Members()
	if err != nil {
		return true
	}
	type answer struct {
		id, addr    string
		entry, peer int
		ok          bool
	}
	answers := make(chan answer, len(members))
	asked := 0
	for _, m := range members {
		if m.ID == n.cfg.ID {
			continue
		}
		asked++
		go func(id, addr string) {
			e, p, err := n.askVersions(n.ctx, addr)
			answers <- answer{id: id, addr: addr, entry: e, peer: p, ok: err == nil}
		}(m.ID, m.Addr)
	}
	got := make([]answer, 0, asked)
	for range asked {
		got = append(got, <-answers)
	}
	t := n.versions
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	present := map[string]bool{}
	for _, m := range members {
		present[m.ID] = true
	}
	for id := range t.peers {
		if !present[id] {
			delete(t.peers, id)
		}
	}
	for _, a := range got {
		p := t.peers[a.id]
		if p == nil {
			p = &peerInfo{}
			t.peers[a.id] = p
		}
		p.addr = a.addr
		if a.ok {
			p.entry, p.peer, p.lastAnswered = a.entry, a.peer, now
		}
	}
	if err := t.rememberAnswers(present); err != nil {
		n.log.Warn("cannot remember the members' versions", "err", err)
	}
	st, unknown := n.computeGate(members)
	t.state.Store(st)
	return unknown
}

// computeGate is the effective versions over members. t.mu is held.
func (n *Node) computeGate(members []raft.Member) (*gateState, bool) {
	entry, peer := n.advertised()
	st := &gateState{entry: entry, peer: peer, entryKnown: true}
	if entry < command.EntryVersion {
		st.entryNode = n.cfg.ID
	}
	if peer < peerVersion {
		st.peerNode = n.cfg.ID
	}
	unknown := false
	for _, m := range members {
		if m.ID == n.cfg.ID {
			continue
		}
		p := n.versions.peers[m.ID]
		e, pv, known, learned := command.BaseEntryVersion, basePeerVersion, false, false
		if p != nil && p.entry > 0 {
			e, pv, known, learned = p.entry, p.peer, true, true
		} else if r, ok := n.versions.remembered[m.ID]; ok {
			// Not reached since this node started: the release it last
			// answered as (versionmemory.go), asked again every second.
			e, pv, learned = r.Entry, r.Peer, true
		}
		if !known {
			unknown = true
		}
		if e < st.entry {
			st.entry, st.entryNode, st.entryKnown = e, m.ID, learned
		}
		if pv < st.peer {
			st.peer, st.peerNode = pv, m.ID
		}
	}
	return st, unknown
}

// askVersions asks the node at addr for the versions it advertises. A node
// of a release before the gate advertises none: it reads the base ones.
func (n *Node) askVersions(ctx context.Context, addr string) (entry, peer int, err error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	answer, err := n.fwd.call(ctx, addr, reqStatus, n.self(), nil)
	if err != nil {
		return 0, 0, err
	}
	var st NodeStatus
	if err := json.Unmarshal(answer, &st); err != nil {
		return 0, 0, fmt.Errorf("status of %s: %w", addr, err)
	}
	return versionsOf(st)
}

// versionsOf reads the versions a status advertises.
func versionsOf(st NodeStatus) (entry, peer int, err error) {
	entry, peer = st.EntryVersion, st.PeerVersion
	if entry < 0 || peer < 0 {
		return 0, 0, fmt.Errorf("status of %s advertises versions %d and %d", st.ID, entry, peer)
	}
	if entry == 0 {
		entry = command.BaseEntryVersion
	}
	if peer == 0 {
		peer = basePeerVersion
	}
	return entry, peer, nil
}

// checkProposal is raft's CheckProposal: an entry some member could not
// read is refused.
func (n *Node) checkProposal(cmd []byte) error {
	st := n.versions.state.Load()
	if st.entry >= command.EntryVersion {
		return nil // everything this build writes
	}
	need := command.EntryVersionOf(cmd)
	if need <= st.entry {
		return nil
	}
	version := st.entry
	if !st.entryKnown {
		version = 0
	}
	op := ""
	switch {
	case command.IsRestore(cmd):
		op = "a restore"
	case need == digestVersion:
		op = "a pipelined transaction"
	}
	return &notUpgradedError{node: st.entryNode, version: version, need: need, what: "entry", op: op}
}

// checkRestore refuses a restore at once when some member cannot read
// restore entries, rather than once the file is uploaded.
func (n *Node) checkRestore() error {
	return n.checkProposal(command.EncodeRestore(&command.Restore{Op: command.RestoreBegin}))
}

// txPlain is asked by a transaction's first write on the leader, with the
// write lock held: when some member cannot read the result digest, it
// waits until the transactions proposed before are applied, so that this
// one runs on the state its commit will be applied to and commits without
// a digest (plain), as transactions did before pipelining.
func (n *Node) txPlain(ctx context.Context) (bool, error) {
	if n.versions.state.Load().entry >= digestVersion {
		return false, nil
	}
	for n.fsm.Speculating() > 0 {
		if last := n.raft.LastIndex(); n.raft.AppliedIndex() < last {
			if err := n.raft.WaitApplied(ctx, last); err != nil {
				return false, err
			}
			continue
		}
		// A commit is on its way from the transaction queue into the log.
		t := time.NewTimer(100 * time.Microsecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-n.ctx.Done():
			t.Stop()
			return false, ErrNotReady
		case <-t.C:
		}
	}
	return true, nil
}

// checkRequest is the forwarder's check before a request of type typ goes
// to addr: a member known to serve an older side-channel version than typ
// needs is not asked. skip reports a request that such a member does not
// need (a relayed block's ping: leaders before it did not time blocks out).
// A member of unknown version is asked: it answers a request it does not
// know with an error of its own.
func (n *Node) checkRequest(addr string, typ byte) (skip bool, err error) {
	need := reqVersion(typ)
	if need <= basePeerVersion || n.versions.state.Load().peer >= need {
		return false, nil
	}
	t := n.versions
	t.mu.Lock()
	var id string
	var have int
	for pid, p := range t.peers {
		if p.addr == addr && p.peer > 0 {
			id, have = pid, p.peer
		}
	}
	t.mu.Unlock()
	if id == "" || have >= need {
		return false, nil
	}
	if typ == reqPing {
		return true, nil
	}
	// As the peer itself would answer: callers tell it from a lost leader.
	e := &notUpgradedError{node: id, version: have, need: need, what: "side-channel", op: reqName(typ)}
	return false, &remoteError{kind: errKindNotUpgraded, msg: e.Error()}
}

// checkJoiner refuses to add a node that cannot read the entries the
// cluster already writes (the effective entry version), before it is added.
// When the cluster writes only base entries, any node can join.
func (n *Node) checkJoiner(ctx context.Context, id, addr string) error {
	st := n.versions.state.Load()
	if st.entry <= command.BaseEntryVersion {
		return nil
	}
	if n.isMember(id) {
		return nil // a change of an existing member (promotion, address)
	}
	entry, _, err := n.askVersions(ctx, addr)
	if err != nil {
		return &joinRefusedError{msg: fmt.Sprintf("node %s at %s did not tell its version (%v); the cluster writes entry version %d, and only a node known to read it may join", id, addr, err, st.entry)}
	}
	if entry < st.entry {
		return &joinRefusedError{msg: fmt.Sprintf("node %s speaks entry version %d, but the cluster already uses entry version %d: upgrade it to this release before it joins", id, entry, st.entry)}
	}
	return nil
}

// joinRefusedError is a new member refused by the version gate: both a
// refused membership change and a cluster (here, a node) not upgraded.
type joinRefusedError struct{ msg string }

func (e *joinRefusedError) Error() string {
	return fmt.Sprintf("%v: %v: %s", ErrMembershipRefused, ErrNotUpgraded, e.msg)
}
func (e *joinRefusedError) Unwrap() []error { return []error{ErrMembershipRefused, ErrNotUpgraded} }

// versionsStatus is what /status reports of the versions.
func (n *Node) versionsStatus() (entry, peer int) {
	st := n.versions.state.Load()
	return st.entry, st.peer
}
