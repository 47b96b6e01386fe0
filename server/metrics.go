package server

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/raftsql/raftsql/pgwire"
	"github.com/raftsql/raftsql/raft"
)

// Statement kinds, the kind label of raftsql_statements_total.
const (
	kindRead      = "read"
	kindWrite     = "write"
	kindTxControl = "tx_control"
)

// metrics is a node's instruments. Each node has its own registry, not
// Prometheus' global one: tests and the demo run several nodes in one
// process.
type metrics struct {
	reg *prometheus.Registry

	statements  *prometheus.CounterVec
	writeSecs   prometheus.Histogram
	readSecs    *prometheus.HistogramVec
	txSecs      *prometheus.HistogramVec
	entryBytes  prometheus.Histogram
	entryWrites prometheus.Histogram
	connsOpen   prometheus.Gauge
	connsTotal  prometheus.Counter
	// okStatements and readLevelSecs keep the children of statements
	// (for outcome ok, by kind) and of readSecs (by readLevels) once
	// looked up: a statement does not hash its labels again.
	okStatements  [3]atomic.Pointer[prometheus.Counter]
	readLevelSecs [len(readLevels)]atomic.Pointer[prometheus.Observer]

	// For the status page's chart, which polls /stats: totals and the
	// sum of their latencies in nanoseconds.
	reads, writes       atomic.Uint64
	readNanos, writeNsn atomic.Uint64
}

// latencyBuckets span 100µs to about 13s.
var latencyBuckets = prometheus.ExponentialBuckets(0.0001, 2, 18)

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		statements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "raftsql_statements_total",
			Help: "Statements run through this node's Postgres sessions, by kind (read, write, tx_control) and outcome (ok, or the SQLSTATE class of the error).",
		}, []string{"kind", "outcome"}),
		writeSecs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "raftsql_write_seconds",
			Help:    "Latency of write statements outside transaction blocks, as the session saw it (forwarding and commit included).",
			Buckets: latencyBuckets,
		}),
		readSecs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "raftsql_read_seconds",
			Help:    "Latency of read statements by consistency level (transaction: inside a transaction block).",
			Buckets: latencyBuckets,
		}, []string{"consistency"}),
		txSecs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "raftsql_transaction_seconds",
			Help:    "Duration of transaction blocks from BEGIN to their end, by outcome (commit, rollback, error).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 20),
		}, []string{"outcome"}),
		entryBytes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "raftsql_group_entry_bytes",
			Help:    "Size of the log entries the leader's group commit proposed.",
			Buckets: prometheus.ExponentialBuckets(64, 4, 12),
		}),
		entryWrites: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "raftsql_group_entry_writes",
			Help:    "Writes carried by each log entry the leader's group commit proposed.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		connsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "raftsql_client_connections",
			Help: "Postgres client connections open now.",
		}),
		connsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "raftsql_client_connections_total",
			Help: "Postgres client connections opened since the node started.",
		}),
	}
	m.reg.MustRegister(m.statements, m.writeSecs, m.readSecs, m.txSecs, m.entryBytes, m.entryWrites, m.connsOpen, m.connsTotal,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// registerNode adds what is read from the node when scraped: Raft's
// metrics and the SQLite file's size.
func (m *metrics) registerNode(n *Node) {
	m.reg.MustRegister(n.raft.Collectors()...)
	m.reg.MustRegister(raft.HashicorpCollector())
	fileSize := func(path string) float64 {
		fi, err := os.Stat(path)
		if err != nil {
			return 0
		}
		return float64(fi.Size())
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "raftsql_sqlite_file_bytes",
			Help: "Size of the state machine's SQLite database file.",
		}, func() float64 { return fileSize(n.fsm.Path()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "raftsql_sqlite_pages",
			Help: "Pages in the SQLite database file (its size over the page size its header gives); pages still in the WAL are not counted.",
		}, func() float64 { return sqlitePages(n.fsm.Path()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "raftsql_sqlite_wal_bytes",
			Help: "Size of the SQLite write-ahead log.",
		}, func() float64 { return fileSize(n.fsm.Path() + "-wal") }),
	)
}

func (m *metrics) handler() http.Handler {
	// A collector that fails (a name hashicorp's metrics could one day
	// share with ours) must not take the others down with it.
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}

// connOpened counts a new client connection; it returns true for the
// session to remember that connClosed is owed.
func (m *metrics) connOpened() bool {
	m.connsOpen.Inc()
	m.connsTotal.Inc()
	return true
}

func (m *metrics) connClosed() { m.connsOpen.Dec() }

// groupEntry records one entry proposed by group commit.
func (m *metrics) groupEntry(bytes, writes int) {
	m.entryBytes.Observe(float64(bytes))
	m.entryWrites.Observe(float64(writes))
}

// outcome is the outcome label of a statement's error.
// statementCounter is the child of statements for kind and outcome; the
// children of a successful statement are kept, not looked up again.
func (m *metrics) statementCounter(kind, outcome string) prometheus.Counter {
	i := -1
	if outcome == "ok" {
		switch kind {
		case kindRead:
			i = 0
		case kindWrite:
			i = 1
		case kindTxControl:
			i = 2
		}
	}
	if i < 0 {
		return m.statements.WithLabelValues(kind, outcome)
	}
	if c := m.okStatements[i].Load(); c != nil {
		return *c
	}
	c := m.statements.WithLabelValues(kind, outcome)
	m.okStatements[i].Store(&c)
	return c
}

// readLevels are the labels of readSecs.
var readLevels = [...]string{ReadLinearizable, ReadStrong, ReadWeak, ReadNone, "transaction"}

// readObserver is the child of readSecs for level, kept once looked up.
func (m *metrics) readObserver(level string) prometheus.Observer {
	i := slices.Index(readLevels[:], level)
	if i < 0 {
		return m.readSecs.WithLabelValues(level)
	}
	if o := m.readLevelSecs[i].Load(); o != nil {
		return *o
	}
	o := m.readSecs.WithLabelValues(level)
	m.readLevelSecs[i].Store(&o)
	return o
}

func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	var pe *pgwire.Error
	if errors.As(pgError(err), &pe) && len(pe.Code) == 5 {
		return pe.Code[:2]
	}
	return "XX"
}

// statement records a statement the session ran: called when it ends,
// with what execute learned of it in s.kind.
func (s *session) observe(sql string, c txControl, start time.Time, res *pgwire.Result, err error) {
	m := s.n.metrics
	took := time.Since(start)
	kind := s.kind
	if c.verb != txNone {
		kind = kindTxControl
	} else if kind == "" {
		kind = kindWrite // a statement of a block relayed to the leader
	}
	s.kind = ""
	m.statementCounter(kind, outcome(err)).Inc()
	switch kind {
	case kindRead:
		level := s.level
		if s.tx != nil || s.remote != nil {
			level = "transaction"
		}
		m.readObserver(level).Observe(took.Seconds())
		m.reads.Add(1)
		m.readNanos.Add(uint64(took))
	case kindWrite:
		if s.tx == nil && s.remote == nil {
			m.writeSecs.Observe(took.Seconds())
		}
		m.writes.Add(1)
		m.writeNsn.Add(uint64(took))
	case kindTxControl:
		switch {
		case c.verb == txBegin && err == nil:
			if s.txStart.IsZero() {
				s.txStart = start
			}
		case (c.verb == txCommit || c.verb == txRollback) && !s.txStart.IsZero():
			out := "error"
			if err == nil && res != nil {
				switch res.Tag {
				case "COMMIT":
					out = "commit"
				case "ROLLBACK":
					out = "rollback"
				}
			}
			m.txSecs.WithLabelValues(out).Observe(time.Since(s.txStart).Seconds())
			s.txStart = time.Time{}
		}
	}
	if s.n.log.Enabled(context.Background(), slog.LevelDebug) {
		attrs := []any{"session", s.client, "user", s.who.name, "kind", kind, "duration", took, "sql", truncateSQL(sql)}
		if err != nil {
			attrs = append(attrs, "err", err)
		}
		s.n.log.Debug("statement", attrs...)
	}
}

// truncateSQL keeps a logged statement to one readable line's length.
func truncateSQL(sql string) string {
	const max = 200
	if len(sql) <= max {
		return sql
	}
	return sql[:max] + "…"
}

// Stats is what /stats reports: running totals the status page turns into
// rates, and what the page shows of this node's history.
type Stats struct {
	Time          time.Time           `json:"time"`
	Reads         uint64              `json:"reads"`
	Writes        uint64              `json:"writes"`
	ReadNanos     uint64              `json:"read_ns"`
	WriteNanos    uint64              `json:"write_ns"`
	LeaderChanges []raft.LeaderChange `json:"leader_changes"`
	LastSnapshot  *raft.SnapshotInfo  `json:"last_snapshot,omitempty"`
}

// Stats returns this node's running totals.
func (n *Node) Stats() Stats {
	m := n.metrics
	st := Stats{
		Time: time.Now(), Reads: m.reads.Load(), Writes: m.writes.Load(),
		ReadNanos: m.readNanos.Load(), WriteNanos: m.writeNsn.Load(),
		LeaderChanges: n.raft.LeaderHistory(),
	}
	if s, ok := n.raft.LastSnapshot(); ok {
		st.LastSnapshot = &s
	}
	return st
}

func kindOf(readOnly bool) string {
	if readOnly {
		return kindRead
	}
	return kindWrite
}

// sqlitePages reads the page size from the header of the SQLite file at
// path (big-endian at offset 16, 1 meaning 65536) and divides its size by
// it.
func sqlitePages(path string) float64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	var hdr [100]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return 0
	}
	size := int64(binary.BigEndian.Uint16(hdr[16:18]))
	if size == 1 {
		size = 65536
	}
	fi, err := f.Stat()
	if err != nil || size < 512 {
		return 0
	}
	return float64(fi.Size() / size)
}
