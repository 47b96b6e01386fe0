package raft

import (
	"io"
	"sync"
	"sync/atomic"
	"time"

	metrics "github.com/armon/go-metrics"
	hraft "github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// nodeMetrics is what this package measures for one node. hashicorp/raft
// reports through a process-wide go-metrics sink, which cannot tell two
// nodes of one process apart (tests and the demo run several); what matters
// per node is therefore measured here, around the stores hashicorp calls.
type nodeMetrics struct {
	logAppend       prometheus.Histogram
	snapshotSeconds prometheus.Histogram
	snapshotBytes   prometheus.Histogram
	leaderChanges   prometheus.Counter

	lastSnap atomic.Pointer[SnapshotInfo]

	leadersMu sync.Mutex
	leaders   []LeaderChange
}

// SnapshotInfo describes the last snapshot this node wrote (taken itself or
// received from the leader) since it started.
type SnapshotInfo struct {
	Index    uint64        `json:"index"`
	Term     uint64        `json:"term"`
	Size     int64         `json:"size_bytes"`
	Duration time.Duration `json:"duration_ns"`
	At       time.Time     `json:"at"`
}

func newNodeMetrics() *nodeMetrics {
	return &nodeMetrics{
		logAppend: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "raftsql_raft_log_append_seconds",
			Help:    "Time to append a batch of entries to the Raft log store, fsync included.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		snapshotSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "raftsql_raft_snapshot_write_seconds",
			Help:    "Time to write a snapshot into the snapshot store, taken here or received from the leader.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		snapshotBytes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "raftsql_raft_snapshot_size_bytes",
			Help:    "Size of the snapshots written into the snapshot store.",
			Buckets: prometheus.ExponentialBuckets(4096, 4, 12),
		}),
		leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "raftsql_raft_leadership_changes_total",
			Help: "Times this node became or stopped being the leader.",
		}),
	}
}

// Collectors returns the node's Raft metrics: the measured ones and gauges
// read from Raft when they are scraped. Register them with the node's own
// registry; HashicorpCollector has hashicorp/raft's own metrics.
func (n *Node) Collectors() []prometheus.Collector {
	m := n.metrics
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	return []prometheus.Collector{
		m.logAppend, m.snapshotSeconds, m.snapshotBytes, m.leaderChanges,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "raftsql_raft_restores_total",
			Help: "Times the state machine was replaced by a snapshot while running (from the leader, or a restore).",
		}, func() float64 { return float64(n.fsm.restoreCount()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "raftsql_raft_read_index_total",
			Help: "Linearizable read barriers (ReadIndex) asked of this leader.",
		}, func() float64 { return float64(n.verify.stats().reads) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "raftsql_raft_read_quorum_checks_total",
			Help: "Quorum checks those read barriers shared (fewer than the barriers when reads came concurrently).",
		}, func() float64 { return float64(n.verify.stats().rounds) }),
		gauge("raftsql_raft_commit_index", "Latest log index this node knows to be committed.", func() float64 { return float64(n.raft.CommitIndex()) }),
		gauge("raftsql_raft_applied_index", "Latest log index the state machine reflects.", func() float64 { return float64(n.AppliedIndex()) }),
		gauge("raftsql_raft_last_index", "Latest index in this node's log.", func() float64 { return float64(n.raft.LastIndex()) }),
		gauge("raftsql_raft_term", "Current Raft term.", func() float64 { return float64(n.raft.CurrentTerm()) }),
		gauge("raftsql_raft_is_leader", "1 when this node is the leader.", func() float64 {
			if n.IsLeader() {
				return 1
			}
			return 0
		}),
		gauge("raftsql_raft_last_contact_seconds", "Seconds since this node last heard from the leader (0 on the leader).", func() float64 {
			at := n.LastContact()
			if at.IsZero() {
				return -1
			}
			return time.Since(at).Seconds()
		}),
		gauge("raftsql_raft_last_snapshot_index", "Index of the newest snapshot in the store.", func() float64 {
			v, _ := n.statUint("last_snapshot_index")
			return float64(v)
		}),
	}
}

// LastSnapshot describes the last snapshot written since the node started;
// ok is false when there was none.
func (n *Node) LastSnapshot() (SnapshotInfo, bool) {
	if s := n.metrics.lastSnap.Load(); s != nil {
		return *s, true
	}
	return SnapshotInfo{}, false
}

// timedLogStore measures appends to the log store (each ends with an fsync).
type timedLogStore struct {
	hraft.LogStore
	h prometheus.Histogram
}

func (s timedLogStore) StoreLog(l *hraft.Log) error { return s.StoreLogs([]*hraft.Log{l}) }

func (s timedLogStore) StoreLogs(logs []*hraft.Log) error {
	start := time.Now()
	err := s.LogStore.StoreLogs(logs)
	s.h.Observe(time.Since(start).Seconds())
	return err
}

// timedSnapshotStore measures each snapshot written into the store.
type timedSnapshotStore struct {
	hraft.SnapshotStore
	m *nodeMetrics
}

func (s timedSnapshotStore) Create(version hraft.SnapshotVersion, index, term uint64, configuration hraft.Configuration,
	configurationIndex uint64, trans hraft.Transport) (hraft.SnapshotSink, error) {
	sink, err := s.SnapshotStore.Create(version, index, term, configuration, configurationIndex, trans)
	if err != nil {
		return nil, err
	}
	return &timedSink{SnapshotSink: sink, m: s.m, start: time.Now(), index: index, term: term}, nil
}

type timedSink struct {
	hraft.SnapshotSink
	m           *nodeMetrics
	start       time.Time
	index, term uint64
	n           int64
}

func (s *timedSink) Write(p []byte) (int, error) {
	n, err := s.SnapshotSink.Write(p)
	s.n += int64(n)
	return n, err
}

func (s *timedSink) Close() error {
	if err := s.SnapshotSink.Close(); err != nil {
		return err
	}
	d := time.Since(s.start)
	s.m.snapshotSeconds.Observe(d.Seconds())
	s.m.snapshotBytes.Observe(float64(s.n))
	s.m.lastSnap.Store(&SnapshotInfo{Index: s.index, Term: s.term, Size: s.n, Duration: d, At: time.Now()})
	return nil
}

var _ io.WriteCloser = (*timedSink)(nil)

var (
	hashicorpOnce   sync.Once
	hashicorpSinkOf *hashicorpSink
)

// HashicorpCollector returns the collector of hashicorp/raft's own metrics
// (commit time, FSM apply, replication RPCs to each peer, ...), named
// raftsql_hashicorp_raft_* after hashicorp's keys, timings in milliseconds. hashicorp
// reports them to one process-wide go-metrics sink: a process that runs
// several nodes shows the same values on every node's registry. The first
// call installs the sink.
func HashicorpCollector() prometheus.Collector {
	hashicorpOnce.Do(func() {
		sink := newHashicorpSink()
		conf := metrics.DefaultConfig("raftsql_hashicorp")
		conf.EnableHostname = false
		conf.EnableRuntimeMetrics = false // the Go collector has them
		conf.EnableServiceLabel = false
		if _, err := metrics.NewGlobal(conf, sink); err != nil {
			return
		}
		hashicorpSinkOf = sink
	})
	if hashicorpSinkOf == nil {
		return prometheus.NewRegistry() // collects nothing
	}
	return hashicorpSinkOf
}

// LeaderChange is a change of leader as this node saw it.
type LeaderChange struct {
	At       time.Time `json:"at"`
	LeaderID string    `json:"leader_id"` // "" when the node lost sight of any leader
	Term     uint64    `json:"term"`
}

// maxLeaderHistory is how many leader changes a node remembers.
const maxLeaderHistory = 20

// noteLeader records a leader observation when the leader changed.
func (m *nodeMetrics) noteLeader(id string, term uint64) {
	m.leadersMu.Lock()
	defer m.leadersMu.Unlock()
	if k := len(m.leaders); k > 0 && m.leaders[k-1].LeaderID == id {
		return
	}
	m.leaders = append(m.leaders, LeaderChange{At: time.Now(), LeaderID: id, Term: term})
	if len(m.leaders) > maxLeaderHistory {
		m.leaders = append([]LeaderChange(nil), m.leaders[len(m.leaders)-maxLeaderHistory:]...)
	}
}

// LeaderHistory returns the last leader changes this node saw, oldest first.
func (n *Node) LeaderHistory() []LeaderChange {
	m := n.metrics
	m.leadersMu.Lock()
	defer m.leadersMu.Unlock()
	return append([]LeaderChange(nil), m.leaders...)
}
