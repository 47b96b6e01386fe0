package raft

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	hraft "github.com/hashicorp/raft"
)

// maxIDLen bounds a node id, on disk and in the connection handshake.
const maxIDLen = 256

// Config describes one node. Start from DefaultConfig and set ID, Dir and Addr
// (or Listener). A zero duration or count takes the value of DefaultConfig.
type Config struct {
	// ID is the node's id, unique and stable for the life of the cluster.
	ID string
	// Dir holds raft.db (the log and stable store) and snapshots/.
	Dir string
	// Addr is the host:port that peers dial to reach this node. When empty,
	// the address of Listener is used.
	Addr string
	// Listener, if set, is an already bound listener that the node takes over
	// (and closes on Close or on a failed New). When nil, New listens on Addr.
	Listener net.Listener
	// TLS, when set, makes every node-to-node connection TLS 1.3 with
	// certificates on both sides: Certificates holds this node's
	// certificate, which must name ID (see NodeURI), and RootCAs the
	// cluster's CA, against which every peer's certificate is verified.
	// Build it with LoadTLSConfig. A peer must then also present, in the
	// connection handshake, the id its certificate names.
	TLS *tls.Config
	// Insecure lets a node whose address or listener is not loopback run
	// without TLS: anyone who reaches the port can then join, replicate into
	// and write to the cluster. Without TLS and without Insecure, New refuses
	// such a node with an error matching ErrInsecure.
	Insecure bool

	// Bootstrap makes a node without existing state start a new cluster with
	// itself as the only voter. It is ignored when state exists.
	Bootstrap bool

	// SnapshotThreshold is the number of log entries since the last snapshot
	// that trigger a new one; SnapshotInterval is how often that is checked.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	// TrailingLogs is the number of entries kept after a snapshot so that
	// slightly lagging followers catch up from the log, not a snapshot.
	TrailingLogs uint64
	// SnapshotRetain is the number of snapshots kept on disk.
	SnapshotRetain int

	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	// MaxAppendEntries bounds the entries sent in one AppendEntries RPC and
	// written in one batch (at most 1024).
	MaxAppendEntries int
	// BatchApplyCh lets the leader take up to MaxAppendEntries commands from
	// concurrent Apply calls into one disk write (group commit).
	BatchApplyCh bool

	// Logger receives the node's logs, Raft's included. nil discards them.
	Logger *slog.Logger

	// Gate, when set, is asked on every read and write of every node-to-node
	// connection with the peer's node id. When it returns false the I/O fails
	// and the connection is closed. Tests use it to partition nodes; leave it
	// nil in production.
	Gate func(peerID string) bool

	// OnPeer, when set, is called with the peer's node id each time a Raft
	// connection to or from a peer completes its handshake: a peer that
	// restarted (perhaps as another release) is connected again. It must
	// not block.
	OnPeer func(peerID string)
	// CheckProposal, when set, is asked about every command before this
	// node proposes it (Apply, ApplyNotify, ApplyAsync, Propose); an error
	// refuses it, and is returned as is: nothing was proposed. The embedding
	// server refuses there an entry some member could not read.
	CheckProposal func(cmd []byte) error
}

// DefaultConfig returns production defaults: hashicorp/raft's timings, with a
// larger MaxAppendEntries and batched applies for group commit.
func DefaultConfig() Config {
	h := hraft.DefaultConfig()
	return Config{
		SnapshotThreshold:  h.SnapshotThreshold,
		SnapshotInterval:   h.SnapshotInterval,
		TrailingLogs:       h.TrailingLogs,
		SnapshotRetain:     2,
		HeartbeatTimeout:   h.HeartbeatTimeout,
		ElectionTimeout:    h.ElectionTimeout,
		LeaderLeaseTimeout: h.LeaderLeaseTimeout,
		CommitTimeout:      h.CommitTimeout,
		MaxAppendEntries:   512,
		BatchApplyCh:       true,
	}
}

// withDefaults returns c with zero tuning fields set from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = d.SnapshotThreshold
	}
	if c.SnapshotInterval == 0 {
		c.SnapshotInterval = d.SnapshotInterval
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = d.TrailingLogs
	}
	if c.SnapshotRetain == 0 {
		c.SnapshotRetain = d.SnapshotRetain
	}
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = d.HeartbeatTimeout
	}
	if c.ElectionTimeout == 0 {
		c.ElectionTimeout = d.ElectionTimeout
	}
	if c.LeaderLeaseTimeout == 0 {
		c.LeaderLeaseTimeout = d.LeaderLeaseTimeout
	}
	if c.CommitTimeout == 0 {
		c.CommitTimeout = d.CommitTimeout
	}
	if c.MaxAppendEntries == 0 {
		c.MaxAppendEntries = d.MaxAppendEntries
	}
	if c.Addr == "" && c.Listener != nil {
		c.Addr = c.Listener.Addr().String()
	}
	return c
}

// Validate reports whether New would accept c. Zero tuning fields count as
// their defaults.
func (c *Config) Validate() error {
	cc := c.withDefaults()
	if _, err := cc.hraftConfig(nil); err != nil {
		return err
	}
	if cc.TLS != nil {
		if _, err := newNodeTLS(cc.TLS, cc.ID); err != nil {
			return err
		}
	}
	return nil
}

// hraftConfig checks c (defaults already applied) and builds hashicorp's
// configuration from it.
func (c *Config) hraftConfig(logger *hclogAdapter) (*hraft.Config, error) {
	if err := validateID(c.ID); err != nil {
		return nil, err
	}
	if c.Dir == "" {
		return nil, errors.New("raft: config: Dir is required")
	}
	if err := validateAdvertise(c.Addr); err != nil {
		return nil, err
	}
	if c.TLS == nil && !c.Insecure {
		if err := c.checkLoopback(); err != nil {
			return nil, err
		}
	}
	if c.SnapshotRetain < 1 {
		return nil, fmt.Errorf("raft: config: SnapshotRetain must be at least 1, got %d", c.SnapshotRetain)
	}
	h := hraft.DefaultConfig()
	h.LocalID = hraft.ServerID(c.ID)
	h.HeartbeatTimeout = c.HeartbeatTimeout
	h.ElectionTimeout = c.ElectionTimeout
	h.LeaderLeaseTimeout = c.LeaderLeaseTimeout
	h.CommitTimeout = c.CommitTimeout
	h.MaxAppendEntries = c.MaxAppendEntries
	h.BatchApplyCh = c.BatchApplyCh
	h.SnapshotThreshold = c.SnapshotThreshold
	h.SnapshotInterval = c.SnapshotInterval
	h.TrailingLogs = c.TrailingLogs
	// A removed node stays up (as a follower that never campaigns) so that it
	// can still report its status and be closed normally.
	h.ShutdownOnRemove = false
	h.NoLegacyTelemetry = true
	// New restores the snapshot at start itself, and only when the state
	// machine does not already hold that state (restore.go).
	h.NoSnapshotRestoreOnStart = true
	if logger != nil {
		h.Logger = logger
	} else {
		h.LogLevel = "OFF"
	}
	if err := hraft.ValidateConfig(h); err != nil {
		return nil, fmt.Errorf("raft: config: %w", err)
	}
	return h, nil
}

// validateID accepts non-empty ids of at most maxIDLen bytes of printable
// UTF-8.
func validateID(id string) error {
	switch {
	case id == "":
		return errors.New("raft: node id is empty")
	case len(id) > maxIDLen:
		return fmt.Errorf("raft: node id is longer than %d bytes", maxIDLen)
	case !utf8.ValidString(id):
		return errors.New("raft: node id is not valid UTF-8")
	}
	for _, r := range id {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return fmt.Errorf("raft: node id %q contains a space or non-printable character", id)
		}
	}
	return nil
}

// validateAdvertise checks that addr is a host:port that a peer can dial.
func validateAdvertise(addr string) error {
	if addr == "" {
		return errors.New("raft: config: Addr or Listener is required")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("raft: config: Addr %q: %w", addr, err)
	}
	if port == "" || port == "0" {
		return fmt.Errorf("raft: config: Addr %q has no port", addr)
	}
	if host == "" {
		return fmt.Errorf("raft: config: Addr %q has no host peers can dial", addr)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("raft: config: Addr %q is not an address peers can dial", addr)
	}
	return nil
}

// checkLoopback refuses an address or listener that is not on the loopback
// interface: without TLS, such a node would let in anyone who reaches it.
func (c *Config) checkLoopback() error {
	if !isLoopback(c.Addr) {
		return fmt.Errorf("%w: address %s", ErrInsecure, c.Addr)
	}
	if c.Listener != nil && !isLoopback(c.Listener.Addr().String()) {
		return fmt.Errorf("%w: listener on %s", ErrInsecure, c.Listener.Addr())
	}
	return nil
}

// isLoopback reports whether addr (host:port) is on the loopback
// interface: a loopback IP or "localhost". Other names might resolve
// anywhere, so they do not count.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
