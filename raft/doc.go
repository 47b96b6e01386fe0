// Package raft turns a state machine into a replicated one. It owns the
// consensus plumbing of a raftsql node: hashicorp/raft, its durable log and
// stable store (raft-boltdb with fsync on every append, fronted by an
// in-memory log cache), the file snapshot store, the node-to-node TCP
// transport, cluster bootstrap, membership changes (voters and non-voters),
// leadership transfer, the read-index barrier used for linearizable reads
// (shared among concurrent reads, and a follower's commit point learned
// from the leader's answer: LearnCommit), snapshots on demand, proposals a
// caller waits for apart (Propose, ApplyAsync: a restore travels as such
// entries, so every node installs it at one index or none does), starts
// that keep a state machine's own state (HeldState) instead of restoring
// the snapshot, and the committed log read back for the archive (ReadLog,
// ApplyEntries).
//
// The package knows nothing of SQL, SQLite or Postgres. It receives the state
// machine as a hashicorp FSM and moves opaque byte commands; what a command
// means is the FSM's business. No hashicorp type appears in the exported API
// except the FSM parameter of New, and every hashicorp error is translated
// once, here, into ErrNotLeader (*NotLeaderError), ErrShutdown or
// ErrOutcomeUnknown, to be compared with errors.Is.
//
// # Connections
//
// One TCP listener carries the node-to-node connections: Raft RPCs
// (snapshots included), a side channel that the embedding server uses for its
// own protocol (write forwarding, join, status), and probes that ask who
// answers at an address. With Config.TLS each connection is first TLS 1.3
// with a certificate on both sides, verified against the cluster CA; a
// node's certificate names its id in the URI SAN raftsql://node/<id>
// (NodeURI, CertID), and the dialer also checks the certificate against the
// host it dialed. Then, inside TLS or on the bare connection, the dialer
// writes a handshake: a kind byte, the protocol version byte, and its node
// id; the acceptor answers its version and its own id (handshake.go). With
// TLS the id each side presents must be the one its certificate names, so
// one node cannot speak as another, and Config.Gate, which tests use to cut
// links between chosen nodes, sees verified ids. A peer of another protocol
// version is refused with a log line naming both versions (*VersionError).
// Without TLS the ids are taken on the peer's word, which is why New refuses
// a node without TLS off loopback unless Config.Insecure is set.
//
// # Membership
//
// AddVoter and AddNonvoter refuse (ErrMembership) to let one node take
// another's place: a new member must answer a probe at its address under
// its id, and an id already a member at another address is not moved.
//
// # Files
//
// raft.db is checked before bbolt opens it: a file shorter than the pages
// its meta page says are in use would make bbolt's memory map fault past
// the end of the file and kill the process, so New refuses it with an
// error naming the file.
//
// # Logs and metrics
//
// The only hclog→slog adapter is here (log.go): each attribute once per
// line (the node and subsystem come from the logger, hashicorp's own "node"
// is dropped), connections closed at shutdown at debug level, and
// hashicorp's failure at every heartbeat to a peer it cannot reach turned
// by peerLog into one report when the peer goes down, one a minute while it
// stays down, and one when it is back. Collectors returns the node's own
// Prometheus metrics (log appends with their fsync, snapshots written,
// leadership, Raft indexes read when scraped); HashicorpCollector bridges
// hashicorp's process-wide go-metrics.
//
// # Invariants
//
//   - Apply hands the command to Raft at most once. Once it is handed over,
//     cancelling the context does not withdraw it: the caller gets
//     ErrOutcomeUnknown and must treat the command as possibly committed.
//   - ReadIndex returns an index that is at least every index committed before
//     the call started, and only while this node is a leader confirmed by a
//     quorum. WaitApplied(ReadIndex()) followed by a local read is linearizable.
//   - Concurrent ReadIndex calls share quorum checks: one that arrives while
//     a check is in flight waits for the next one, which starts when the
//     current one ends and serves everyone who arrived meanwhile.
//   - LearnCommit takes a CommitPoint (ReadPoint, CurrentCommit) from the
//     leader and hands this node's Raft the AppendEntries the leader would
//     send next (no entries, matching the log at the point's entry), so a
//     follower knows the index committed without waiting for the leader's
//     next entries or CommitTimeout; Raft refuses it when the term or the log
//     does not match, as it would refuse the leader's.
//   - AppliedIndex and WaitApplied describe the wrapped FSM: once WaitApplied(i)
//     returns nil, the FSM reflects every entry up to and including i.
//   - The Node owns every goroutine, file and connection it opens; Close
//     releases them all and is idempotent.
package raft
