package raft

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	hraft "github.com/hashicorp/raft"
)

// peerReportInterval is how often a peer that stays unreachable is
// reported again.
const peerReportInterval = time.Minute

// peerFailures are the messages hashicorp/raft logs, at every attempt, about
// a peer it cannot reach: a leader whose follower is down would log one
// every heartbeat (several a second).
var peerFailures = map[string]bool{
	"failed to heartbeat to":                  true,
	"failed to appendEntries to":              true,
	"failed to start pipeline replication to": true,
	"failed to pipeline appendEntries":        true,
	"failed to send snapshot to":              true,
	"failed to install snapshot":              true,
	"failed to contact":                       true,
	"failed to make requestVote RPC":          true,
}

// peerLog turns hashicorp's stream of failures about a peer into a report
// when the peer becomes unreachable, a reminder at most every
// peerReportInterval while it stays so, and a report when it is back. The
// repeats in between are logged at debug level.
type peerLog struct {
	log *slog.Logger
	now func() time.Time

	mu    sync.Mutex
	addrs map[string]string // peer id -> address, as the node knows it
	down  map[string]*peerDown
}

type peerDown struct {
	id         string
	since      time.Time
	reported   time.Time
	suppressed int
}

func newPeerLog(l *slog.Logger) *peerLog {
	return &peerLog{log: l, now: time.Now, addrs: map[string]string{}, down: map[string]*peerDown{}}
}

// key returns the address a failure message names its peer by (hashicorp
// names it by address, by hraft.Server or by id, depending on the
// message), and the peer's id when known.
func (p *peerLog) key(args []any) (addr, id string) {
	for i := 0; i+1 < len(args); i += 2 {
		k, _ := args[i].(string)
		switch v := args[i+1].(type) {
		case hraft.Server:
			return string(v.Address), string(v.ID)
		case hraft.ServerAddress:
			addr = string(v)
		case hraft.ServerID:
			id = string(v)
		case string:
			switch k {
			case "peer":
				addr = v
			case "server-id":
				id = v
			}
		}
	}
	if addr == "" && id != "" {
		addr = p.addrs[id]
		if addr == "" {
			addr = "id:" + id
		}
	}
	if id == "" {
		for i, a := range p.addrs {
			if a == addr {
				id = i
			}
		}
	}
	return addr, id
}

// filter handles a message of hashicorp's about a peer it cannot reach:
// it reports whether the adapter should still log it as it is, at debug
// level, after peerLog has said what matters.
func (p *peerLog) filter(msg string, args []any) (demote bool) {
	if !peerFailures[msg] {
		return false
	}
	p.mu.Lock()
	addr, id := p.key(args)
	if addr == "" {
		// The same words about no peer (a follower failing to install a
		// snapshot): an error of this node, logged as it is.
		p.mu.Unlock()
		return false
	}
	now := p.now()
	d, ok := p.down[addr]
	var report string
	var attrs []any
	switch {
	case !ok:
		d = &peerDown{id: id, since: now, reported: now}
		p.down[addr] = d
		report = "peer unreachable"
	case now.Sub(d.reported) >= peerReportInterval:
		report = "peer still unreachable"
		attrs = []any{"down_for", now.Sub(d.since).Round(time.Second), "repeats", d.suppressed}
		d.reported, d.suppressed = now, 0
	default:
		d.suppressed++
	}
	if d.id == "" {
		d.id = id
	}
	id = d.id
	p.mu.Unlock()
	if report != "" {
		base := []any{logKeyPeer, addr}
		if id != "" {
			base = append(base, "peer_id", id)
		}
		base = append(base, attrs...)
		base = append(base, "cause", msg)
		for i := 0; i+1 < len(args); i += 2 {
			if k, _ := args[i].(string); k == "error" {
				base = append(base, logKeyError, fmt.Sprint(args[i+1]))
			}
		}
		p.log.Warn(report, base...)
	}
	return true
}

// link records a peer's address, so that messages naming it by id and by
// address are about the same peer.
func (p *peerLog) link(id, addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.addrs[id] = addr
	if d, ok := p.down["id:"+id]; ok {
		delete(p.down, "id:"+id)
		if _, ok := p.down[addr]; !ok {
			p.down[addr] = d
		}
	}
}

// resumed reports a peer that answers again after it was reported down.
func (p *peerLog) resumed(id string) {
	p.mu.Lock()
	addr := p.addrs[id]
	var d *peerDown
	for _, k := range []string{addr, "id:" + id} {
		if x, ok := p.down[k]; ok && k != "" {
			d = x
			delete(p.down, k)
		}
	}
	now := p.now()
	p.mu.Unlock()
	if d != nil {
		p.log.Info("peer reachable again", logKeyPeer, addr, "peer_id", id, "down_for", now.Sub(d.since).Round(time.Millisecond))
	}
}

// reset forgets every peer: a node that stops leading stops replicating,
// and hears of no recovery.
func (p *peerLog) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.down)
}

// enabled tells whether a demoted message would be logged.
func (p *peerLog) enabled() bool { return p.log.Enabled(context.Background(), slog.LevelDebug) }

// linkPeer tells the peer log the address of peer id, from the
// configuration, once.
func (n *Node) linkPeer(id string) {
	n.peers.mu.Lock()
	_, known := n.peers.addrs[id]
	n.peers.mu.Unlock()
	if !known {
		n.linkPeers()
	}
}

// linkPeers tells the peer log the address of every member.
func (n *Node) linkPeers() {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return
	}
	for _, s := range f.Configuration().Servers {
		n.peers.link(string(s.ID), string(s.Address))
	}
}
