package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"
)

// NodeStatus is what /status reports about one node.
type NodeStatus struct {
	ID                string    `json:"id"`
	RaftAddr          string    `json:"raft_addr"`
	PGAddr            string    `json:"pg_addr"`
	HTTPAddr          string    `json:"http_addr,omitempty"`
	State             string    `json:"state"`
	Term              uint64    `json:"term"`
	LeaderID          string    `json:"leader_id"`
	LeaderAddr        string    `json:"leader_addr"`
	CommitIndex       uint64    `json:"commit_index"`
	AppliedIndex      uint64    `json:"applied_index"`
	LastIndex         uint64    `json:"last_index"`
	LastSnapshotIndex uint64    `json:"last_snapshot_index"`
	LastContact       time.Time `json:"last_contact"`
	// Writes is how many ordinary writes this node committed as leader,
	// WriteEntries in how many log entries; their ratio is the average
	// group size.
	Writes       uint64 `json:"writes"`
	WriteEntries uint64 `json:"write_entries"`
	// RaftSecurity says how the node-to-node port is protected: "tls"
	// (mutual TLS), "loopback" (no TLS, on a loopback address) or
	// "insecure" (no TLS, allowed off loopback by --raft-insecure).
	RaftSecurity string `json:"raft_security"`
	// EntryVersion and PeerVersion are the log entry and side-channel
	// versions the node reads and serves (absent from nodes of releases
	// before the version gate); ClusterEntryVersion and ClusterPeerVersion
	// the lowest over the configuration as this node knows it: what the
	// cluster writes (versions.go).
	EntryVersion        int `json:"entry_version,omitempty"`
	PeerVersion         int `json:"peer_version,omitempty"`
	ClusterEntryVersion int `json:"cluster_entry_version,omitempty"`
	ClusterPeerVersion  int `json:"cluster_peer_version,omitempty"`
}

// ClusterStatus is what /status reports: this node, and every member as it
// reports itself (Lag is the member's applied index behind this node's
// commit index; Error says why a member could not be asked).
type ClusterStatus struct {
	Node    NodeStatus     `json:"node"`
	Members []MemberStatus `json:"members"`
}

// MemberStatus is one member of the Raft configuration.
type MemberStatus struct {
	ID     string      `json:"id"`
	Addr   string      `json:"raft_addr"`
	Voter  bool        `json:"voter"`
	Status *NodeStatus `json:"status,omitempty"`
	Lag    int64       `json:"lag"`
	Error  string      `json:"error,omitempty"`
}

// LocalStatus reports this node alone.
func (n *Node) LocalStatus() NodeStatus {
	rs := n.raft.Status()
	g := n.group
	entry, peer := n.advertised()
	clusterEntry, clusterPeer := n.versionsStatus()
	return NodeStatus{
		EntryVersion: entry, PeerVersion: peer, ClusterEntryVersion: clusterEntry, ClusterPeerVersion: clusterPeer,
		ID: n.cfg.ID, RaftAddr: rs.Addr, PGAddr: n.PGAddr(), HTTPAddr: n.HTTPAddr(),
		State: rs.State, Term: rs.Term, LeaderID: rs.LeaderID, LeaderAddr: rs.LeaderAddr,
		CommitIndex: rs.CommitIndex, AppliedIndex: rs.AppliedIndex, LastIndex: rs.LastIndex,
		LastSnapshotIndex: rs.LastSnapshotIndex, LastContact: rs.LastContact,
		Writes: g.writes.Load(), WriteEntries: g.entries.Load(),
		RaftSecurity: n.cfg.raftSecurity(),
	}
}

func (n *Node) statusJSON() ([]byte, error) { return json.Marshal(n.LocalStatus()) }

// Status reports this node and asks every member for its own status.
func (n *Node) Status(ctx context.Context) (ClusterStatus, error) {
	cs := ClusterStatus{Node: n.LocalStatus()}
	members, err := n.raft.Members()
	if err != nil {
		return cs, err
	}
	cs.Members = make([]MemberStatus, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		cs.Members[i] = MemberStatus{ID: m.ID, Addr: m.Addr, Voter: m.Voter}
		wg.Add(1)
		go func(ms *MemberStatus) {
			defer wg.Done()
			var st NodeStatus
			if ms.ID == n.cfg.ID {
				st = cs.Node
			} else {
				ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				answer, err := n.fwd.call(ctx, ms.Addr, reqStatus, n.self(), nil)
				if err == nil {
					err = json.Unmarshal(answer, &st)
				}
				if err != nil {
					ms.Error = err.Error()
					return
				}
			}
			ms.Status = &st
			ms.Lag = int64(cs.Node.CommitIndex) - int64(st.AppliedIndex)
		}(&cs.Members[i])
	}
	wg.Wait()
	return cs, nil
}

func (n *Node) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		cs, err := n.Status(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(cs)
	})
	n.backupRoutes(mux)
	n.statusRoutes(mux)
	if n.cfg.Profiling {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n")) // the process is alive and serving
	})
	mux.HandleFunc("GET /readyz", n.serveReady)
	n.memberRoutes(mux)
	return mux
}

// leaderPGAddr returns the Postgres address of the leader, "" when unknown.
// A follower learns it from the leader once per leadership and caches it.
func (n *Node) leaderPGAddr() string {
	if n.raft.IsLeader() {
		return n.PGAddr()
	}
	_, raftAddr := n.raft.Leader()
	if raftAddr == "" {
		return ""
	}
	n.leaderMu.Lock()
	defer n.leaderMu.Unlock()
	if n.leaderRaft == raftAddr {
		return n.leaderPG
	}
	if time.Since(n.leaderAsked) < time.Second {
		return "" // the last attempt failed a moment ago
	}
	n.leaderAsked = time.Now()
	ctx, cancel := context.WithTimeout(n.ctx, 500*time.Millisecond)
	defer cancel()
	answer, err := n.fwd.call(ctx, raftAddr, reqStatus, n.self(), nil)
	var st NodeStatus
	if err == nil {
		err = json.Unmarshal(answer, &st)
	}
	if err != nil || st.PGAddr == "" {
		return ""
	}
	n.leaderRaft, n.leaderPG = raftAddr, st.PGAddr
	return n.leaderPG
}
