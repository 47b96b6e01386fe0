package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"github.com/raftsql/raftsql/fsm"
)

// Config is the configuration of one node. Build it with DefaultConfig and
// change what you need; Open validates it.
type Config struct {
	// ID names the node in the cluster; it must be unique and stable.
	ID string
	// DataDir holds the Raft log, snapshots and the SQLite file.
	DataDir string

	// RaftAddr is the node-to-node address (Raft and write forwarding),
	// host:port. Other nodes dial it, so it must be reachable by them.
	RaftAddr string
	// RaftListenAddr, when set, is the address the node-to-node listener
	// binds (say 0.0.0.0:7433) while RaftAddr is what peers dial.
	RaftListenAddr string
	// RaftTLSCertFile, RaftTLSKeyFile and RaftTLSCAFile, PEM files, turn on
	// mutual TLS between nodes: the node's certificate (naming its ID as
	// the URI SAN raftsql://node/<id>, and the hosts peers dial), its key,
	// and the cluster CA that every peer's certificate must verify against.
	RaftTLSCertFile string
	RaftTLSKeyFile  string
	RaftTLSCAFile   string
	// RaftInsecure lets a node whose raft address is not loopback run
	// without node-to-node TLS, which it refuses otherwise: anyone who
	// reaches the address can then join and write to the cluster.
	RaftInsecure bool
	// PGAddr is the Postgres wire address clients connect to.
	PGAddr string
	// HTTPAddr is the admin HTTP address (/status). Empty disables it.
	HTTPAddr string

	// Bootstrap makes this node the first voter of a new cluster, if its
	// data directory holds no state yet. Exactly one node of a new cluster
	// bootstraps; the others Join.
	Bootstrap bool
	// Join lists RaftAddr values of existing members; the node asks them to
	// add it as a voter (any member works: the request reaches the leader).
	Join []string
	// JoinTimeout bounds how long a node that Joins keeps asking before it
	// gives up and stops with an error (Done, Err); 0 asks until it is
	// closed. A node already in its own configuration (a restarted
	// member) asks until answered and is never stopped for it.
	JoinTimeout time.Duration
	// NonVoter makes a joining node ask to be added as a non-voter: a read
	// replica that receives the log and serves reads but never counts for
	// quorum or elections.
	NonVoter bool
	// LeaveOnShutdown makes Close remove this node from the cluster (after
	// handing leadership over when it leads), for a node that goes away for
	// good; the remaining voters then keep their quorum.
	LeaveOnShutdown bool
	// ReadyMaxLag is how many entries this node's applied index may be
	// behind the leader's commit index for /readyz to call it ready.
	ReadyMaxLag uint64
	// ReapAfter, when positive, makes the leader remove voters that have
	// not answered for longer than this, never leaving fewer voters than a
	// quorum of the configuration before (so never fewer than two). Off
	// (0) by default: a partition outlasting it costs the cut-off members
	// their membership.
	ReapAfter time.Duration

	// ReadConsistency is the default level of sessions that do not choose
	// one: linearizable, strong, weak or none.
	ReadConsistency string
	// ApplyTimeout bounds how long a write handed to Raft waits to be
	// committed before its outcome is reported as unknown; a large entry
	// gets a second more for each MiB. Once committed, a write waits for
	// its apply however long that takes.
	ApplyTimeout time.Duration
	// LockTimeout bounds how long a write waits for the cluster's write
	// lock while an open transaction holds it (55P03 lock_not_available
	// after that; nothing is applied). Sessions may lower it with SET
	// lock_timeout.
	LockTimeout time.Duration
	// ReadTimeout bounds how long a read waits for a read index or for this
	// node to catch up with it.
	ReadTimeout time.Duration
	// ProposalsInFlight is how many Raft entries of ordinary writes the
	// leader has in flight at once. Writes that arrive while all are taken
	// are packed into one entry, proposed when one comes back: one log
	// write and one round of acknowledgements for all of them.
	ProposalsInFlight int
	// MaxGroupWait caps how long the leader holds a group entry open, after
	// the previous one committed, for the writers that entry answered to
	// send their next writes; it waits at most as long as recent entries
	// took to commit. Zero proposes the queue as soon as a slot is free.
	MaxGroupWait time.Duration

	// SnapshotThreshold is how many log entries since the last snapshot
	// trigger a new one (each voter waits for between 1 and 1.5 times as
	// many, shared out by its rank among the voters' IDs, so that nodes do
	// not all snapshot at once); SnapshotInterval is how often that is
	// checked.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	// SnapshotRate bounds how fast a snapshot writes the database into
	// the snapshot store, in MiB per second (0: as fast as the disk
	// takes it, which delays commits behind it on the same disk).
	SnapshotRate int64
	// RestoreCopyRate bounds how fast a member copies a restore's file
	// from another (before the restore is committed, or to apply it), in
	// MiB per second (0: as fast as the disk and network take it).
	RestoreCopyRate int64
	// TrailingLogs is how many entries are kept behind a snapshot, so that
	// slightly lagging followers catch up from the log, not a snapshot.
	TrailingLogs uint64

	// HeartbeatTimeout, ElectionTimeout and LeaderLeaseTimeout tune failure
	// detection; shorter reacts faster, longer tolerates slow networks.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration

	// IdleInTransactionTimeout aborts a transaction block that waits this
	// long for its client's next statement, so that it cannot hold the
	// write lock (or a read connection) forever. Sessions may lower it with
	// SET idle_in_transaction_session_timeout.
	IdleInTransactionTimeout time.Duration

	// RelayTimeout bounds how long a transaction block a follower relays
	// to this node (the leader) waits without hearing from the follower:
	// then the leader aborts it, so that a frozen follower cannot keep the
	// write lock. Followers send a heartbeat on an idle relayed block every
	// quarter of it.
	RelayTimeout time.Duration

	// ReadConns is the number of SQLite read connections.
	ReadConns int
	// MaxWriteSteps bounds the work of one write: the SQLite virtual
	// machine steps of all the statements of one log entry (or of one
	// transaction block). The leader stamps it into each entry, so every
	// node stops a write at the same step whatever its own setting; a
	// write over it fails with SQLSTATE 54000. 0 means no bound.
	MaxWriteSteps int64
	// MaxValueSize bounds, in bytes, every string or blob a statement
	// makes or binds, and the text of a statement (SQLITE_LIMIT_LENGTH).
	// The leader stamps it into each write; reads on this node use it as
	// it is. Over it, a statement fails with SQLSTATE 54000. 0 means
	// SQLite's own maximum (1e9).
	MaxValueSize int64
	// MaxQuerySize bounds, in bytes, one message from a Postgres client:
	// a query's text, a Bind with its parameters, a COPY chunk. pgwire
	// refuses a larger one from its length, before reading it, with
	// SQLSTATE 54000 (and ends the connection, which cannot skip it).
	MaxQuerySize int
	// ClientWriteTimeout ends a Postgres client connection that takes
	// none of what the node sends for this long: a streamed result holds
	// a read connection and the database's snapshot (a snapshot install
	// waits for it) until the client reads it. Zero never ends one.
	ClientWriteTimeout time.Duration
	// MaxConnections bounds concurrent Postgres client connections.
	MaxConnections int

	// PGTLSCertFile and PGTLSKeyFile, PEM files, turn on TLS for Postgres
	// clients; PGRequireTLS then refuses clients that do not use it.
	PGTLSCertFile string
	PGTLSKeyFile  string
	PGRequireTLS  bool
	// PGPasswordFile, when set, makes Postgres clients authenticate with
	// SCRAM-SHA-256 (see LoadPasswordFile for its format); empty trusts
	// every client.
	PGPasswordFile string
	// PGSCRAMSecretFile holds at least 16 random bytes that key the SCRAM
	// salts invented for unknown users, so that they look like real ones;
	// give every node the same file. Empty: a secret derived from the
	// password file (which then changes whenever the file does).
	PGSCRAMSecretFile string

	// HTTPTLSCertFile and HTTPTLSKeyFile, PEM files, serve the admin
	// endpoint over HTTPS.
	HTTPTLSCertFile string
	HTTPTLSKeyFile  string
	// HTTPTokenFile lists bearer tokens (one a line) that the admin endpoint
	// accepts as an admin. With a password file or a token file, every
	// admin route but /livez and /readyz wants credentials: HTTP basic auth
	// of a user with the admin right, or a token.
	HTTPTokenFile string

	// MaxRestoreSize bounds the database file a restore accepts, in bytes
	// (after decompression); 0 accepts any size.
	MaxRestoreSize int64

	// ArchiveDir, when set, makes the leader keep a continuous archive in
	// this directory (shared by the nodes, so that a new leader continues
	// it): a base snapshot and every committed entry after it, from which
	// `raftsql restore --from-archive` rebuilds the database as of any
	// index or time. ArchiveRetain is how many base snapshots it keeps,
	// with what they need (0 keeps everything).
	ArchiveDir    string
	ArchiveRetain int

	// Profiling serves Go's profiles under /debug/pprof/ on the admin HTTP
	// address.
	Profiling bool

	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger

	// RaftListener, PGListener and HTTPListener, when set, are used instead
	// of listening on the addresses above (which then only advertise). Tests
	// bind 127.0.0.1:0 listeners this way.
	RaftListener net.Listener
	PGListener   net.Listener
	HTTPListener net.Listener

	// Gate, when set, is asked on each node-to-node read and write with the
	// peer's ID; false fails the I/O. It exists to partition nodes in tests.
	Gate func(peerID string) bool

	// TestEntryVersion and TestPeerVersion, when above 0, lower the entry
	// and side-channel versions this node advertises to its peers (never
	// raise them), so that a test can run a node posing as one of an older
	// release and watch the others hold back for it. For tests only: they
	// are no flags, and a real node advertises what it reads and serves.
	TestEntryVersion int
	TestPeerVersion  int
	// TestFuncs are SQL functions registered besides the node's own, so
	// that a test can pose a function of a later release (fsm.Func.Since)
	// on some nodes. For tests only, like TestEntryVersion.
	TestFuncs []fsm.Func
	// TestRestoreHook, when set, is called by a leader's restore out of
	// band with its id at RestoreHookStaged (a quorum holds the file; the
	// install entry is not proposed yet) and RestoreHookProposed (the
	// install entry is proposed; its commit is not yet known), so that a
	// test can kill the leader there. For tests only, like
	// TestEntryVersion.
	TestRestoreHook func(point string, id RestoreID)
}

// Points of Config.TestRestoreHook.
const (
	RestoreHookStaged   = "staged"
	RestoreHookProposed = "proposed"
)

// Read consistency levels.
const (
	ReadLinearizable = "linearizable"
	ReadStrong       = "strong"
	ReadWeak         = "weak"
	ReadNone         = "none"
)

// Defaults of the write limits: 250 million steps are some seconds of work
// (about 3 s per 100 million on a loaded 2-core machine), long enough for
// any reasonable write, short enough that a runaway one does not stall
// every node for long; values of 64 MiB.
const (
	DefaultMaxWriteSteps = 250_000_000
	DefaultMaxValueSize  = 64 << 20
	// DefaultMaxQuerySize matches DefaultMaxValueSize.
	DefaultMaxQuerySize = 64 << 20
)

// DefaultConfig returns a configuration with production defaults and no
// identity or addresses.
func DefaultConfig() Config {
	return Config{
		ReadConsistency:          ReadLinearizable,
		ApplyTimeout:             10 * time.Second,
		LockTimeout:              10 * time.Second,
		ReadTimeout:              5 * time.Second,
		ProposalsInFlight:        1,
		MaxGroupWait:             10 * time.Millisecond,
		SnapshotThreshold:        8192,
		SnapshotInterval:         30 * time.Second,
		SnapshotRate:             100,
		TrailingLogs:             10240,
		HeartbeatTimeout:         1000 * time.Millisecond,
		ElectionTimeout:          1000 * time.Millisecond,
		LeaderLeaseTimeout:       500 * time.Millisecond,
		IdleInTransactionTimeout: time.Minute,
		RelayTimeout:             time.Second,
		ReadConns:                8,
		MaxConnections:           1000,
		MaxWriteSteps:            DefaultMaxWriteSteps,
		MaxValueSize:             DefaultMaxValueSize,
		MaxQuerySize:             DefaultMaxQuerySize,
		ClientWriteTimeout:       time.Minute,
		MaxRestoreSize:           64 << 30,
		ArchiveRetain:            2,
		JoinTimeout:              time.Minute,
		ReadyMaxLag:              1000,
	}
}

// Validate reports the first problem with c.
func (c *Config) Validate() error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("node id is required"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data directory is required"))
	}
	if c.RaftAddr == "" && c.RaftListener == nil {
		errs = append(errs, errors.New("raft address is required"))
	}
	if c.PGAddr == "" && c.PGListener == nil {
		errs = append(errs, errors.New("postgres address is required"))
	}
	if !validLevel(c.ReadConsistency) {
		errs = append(errs, fmt.Errorf("read consistency %q: want linearizable, strong, weak or none", c.ReadConsistency))
	}
	if c.Bootstrap && len(c.Join) > 0 {
		errs = append(errs, errors.New("bootstrap and join are exclusive: bootstrap the first node, join the others"))
	}
	if c.NonVoter && c.Bootstrap {
		errs = append(errs, errors.New("a bootstrapping node is the first voter; non-voter needs join"))
	}
	if c.ReapAfter < 0 {
		errs = append(errs, errors.New("reap-after must not be negative"))
	}
	if c.JoinTimeout < 0 {
		errs = append(errs, errors.New("the join timeout must not be negative"))
	}
	if c.ApplyTimeout <= 0 || c.ReadTimeout <= 0 || c.LockTimeout <= 0 {
		errs = append(errs, errors.New("apply, read and lock timeouts must be positive"))
	}
	if c.ProposalsInFlight < 1 {
		errs = append(errs, errors.New("at least one proposal in flight is required"))
	}
	if c.MaxGroupWait < 0 {
		errs = append(errs, errors.New("the group wait must not be negative"))
	}
	if c.IdleInTransactionTimeout <= 0 {
		errs = append(errs, errors.New("the idle-in-transaction timeout must be positive"))
	}
	if c.RelayTimeout < 4*time.Millisecond {
		errs = append(errs, errors.New("the relay timeout must be at least 4ms"))
	}
	if c.ReadConns < 1 {
		errs = append(errs, errors.New("at least one read connection is required"))
	}
	if c.MaxWriteSteps < 0 || c.MaxValueSize < 0 {
		errs = append(errs, errors.New("the write step budget and the value size limit must not be negative"))
	}
	if c.MaxValueSize > 1_000_000_000 {
		errs = append(errs, errors.New("the value size limit can be at most 1000000000 bytes, SQLite's own"))
	}
	if c.RestoreCopyRate < 0 || c.RestoreCopyRate > 1<<30 {
		errs = append(errs, fmt.Errorf("restore copy rate must be between 0 and %d MiB/s, got %d", 1<<30, c.RestoreCopyRate))
	}
	if c.SnapshotRate < 0 || c.SnapshotRate > 1<<30 {
		errs = append(errs, fmt.Errorf("snapshot rate must be between 0 and %d MiB/s, got %d", 1<<30, c.SnapshotRate))
	}
	if c.ClientWriteTimeout < 0 {
		errs = append(errs, errors.New("the client write timeout must not be negative"))
	}
	if c.MaxQuerySize < 1<<10 {
		errs = append(errs, errors.New("the query size limit must be at least 1024 bytes"))
	}
	if c.ArchiveRetain < 0 {
		errs = append(errs, errors.New("the number of archive bases to retain must not be negative"))
	}
	if c.MaxRestoreSize < 0 {
		errs = append(errs, errors.New("the restore size limit must not be negative"))
	}
	if c.MaxConnections < 1 {
		errs = append(errs, errors.New("max connections must be at least 1"))
	}
	if (c.PGTLSCertFile == "") != (c.PGTLSKeyFile == "") {
		errs = append(errs, errors.New("TLS needs both a certificate and a key file"))
	}
	if n := countSet(c.RaftTLSCertFile, c.RaftTLSKeyFile, c.RaftTLSCAFile); n != 0 && n != 3 {
		errs = append(errs, errors.New("node-to-node TLS needs a certificate, a key and a CA file"))
	}
	if c.RaftInsecure && c.RaftTLSCertFile != "" {
		errs = append(errs, errors.New("node-to-node TLS and raft-insecure are exclusive"))
	}
	if (c.HTTPTLSCertFile == "") != (c.HTTPTLSKeyFile == "") {
		errs = append(errs, errors.New("HTTPS needs both a certificate and a key file"))
	}
	if c.PGRequireTLS && c.PGTLSCertFile == "" {
		errs = append(errs, errors.New("requiring TLS needs a certificate and a key file"))
	}
	return errors.Join(errs...)
}

func countSet(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}

// raftSecurity is what /status says of the node-to-node port.
func (c *Config) raftSecurity() string {
	switch {
	case c.RaftTLSCertFile != "":
		return "tls"
	case c.RaftInsecure:
		return "insecure"
	}
	return "loopback"
}

func validLevel(s string) bool {
	switch s {
	case ReadLinearizable, ReadStrong, ReadWeak, ReadNone:
		return true
	}
	return false
}

func (c *Config) raftDir() string    { return filepath.Join(c.DataDir, "raft") }
func (c *Config) sqlitePath() string { return filepath.Join(c.DataDir, "db", "raftsql.db") }
