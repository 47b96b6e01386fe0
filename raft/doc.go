// Package raft turns a state machine into a replicated one. It owns the
// consensus plumbing of a raftsql node: hashicorp/raft, its durable log and
// stable store (raft-boltdb with fsync on every append, fronted by an
// in-memory log cache), the file snapshot store, the node-to-node TCP
// transport, cluster bootstrap, membership changes (voters and non-voters),
// leadership transfer, the read-index barrier used for linearizable reads,
// snapshots on demand, and user restores (Restore installs a snapshot stream
// of the FSM's own format on the leader, at a new index past the log, so
// every follower and later joiner receives it as an InstallSnapshot; an FSM
// that implements RestoreIndexer learns that index).
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
// One TCP listener carries two kinds of node-to-node connections: Raft RPCs
// and a side channel that the embedding server uses for its own protocol
// (write forwarding, join, status). Every connection starts with a handshake
// written by the dialer: a kind byte and the dialer's node id; the acceptor
// answers with its own node id. Both ends therefore know the peer's id, which
// Config.Gate uses to cut links between chosen nodes in tests.
//
// # Invariants
//
//   - Apply hands the command to Raft at most once. Once it is handed over,
//     cancelling the context does not withdraw it: the caller gets
//     ErrOutcomeUnknown and must treat the command as possibly committed.
//   - ReadIndex returns an index that is at least every index committed before
//     the call started, and only while this node is a leader confirmed by a
//     quorum. WaitApplied(ReadIndex()) followed by a local read is linearizable.
//   - AppliedIndex and WaitApplied describe the wrapped FSM: once WaitApplied(i)
//     returns nil, the FSM reflects every entry up to and including i.
//   - The Node owns every goroutine, file and connection it opens; Close
//     releases them all and is idempotent.
package raft
