// Package server is a raftsql node: it composes the Raft node (raft), the
// SQLite state machine (fsm), the Postgres wire server (pgwire) and the admin
// HTTP endpoint, and it owns every goroutine it starts.
//
// It routes each statement a client sends: a statement SQLite calls read-only
// is served at the session's read consistency level; anything else becomes a
// log entry, stamped by the leader with its clock and a random seed. A
// follower forwards writes (and asks the leader for a read index) over the
// node-to-node side channel, so clients may use any node.
//
// The leader keeps one entry of ordinary writes in Raft at a time (by
// default; Config.ProposalsInFlight). Writes that arrive meanwhile queue, and
// when the entry comes back the whole queue goes out as one group entry, so
// that under load the log is written, synced, sent and acknowledged once for
// many writes; each keeps its own stamps, request id and result. A lone write
// is proposed at once by its own goroutine. When an entry commits, the leader
// holds the next one open for a moment (Config.MaxGroupWait, at most one
// recent commit time) for those of the clients just answered that came back
// quickly last time, so that clients in a closed loop keep sharing entries
// instead of splitting into two halves that take turns. Interactive
// transactions commit outside this queue, under the exclusive write lock,
// and a transaction waiting for it ends the hold.
//
// Every error says what happened, and is translated once, in sqlstate.go;
// a constraint violation is worded there as Postgres words it, and the
// session that answers the client names its constraint from this node's
// schema (violation.go).
// ErrOutcomeUnknown (40003) is reported only for a write that was handed to
// Raft and whose fate this node could not learn; a read, or a write that
// gave up before it reached Raft (waiting for a leader, for the write lock,
// for its statement timeout), has no outcome to be unsure of and says why
// it stopped (57P03, 55P03, 57014). Once handed to Raft a write is not
// withdrawn: it waits for its outcome within its apply window (the apply
// timeout plus a second per MiB until it commits, then as long as its apply
// takes).
//
// The version gate (versions.go) makes rolling upgrades possible: every
// node advertises the log entry version it reads and the side-channel
// version it serves, knows its peers', and the leader writes only what every
// member of the configuration reads, refusing (ErrNotUpgraded, 0A000) what
// has no older form; a node that cannot read what the cluster writes is
// refused as a member.
//
// server must not know the wire format of any protocol: pgwire owns Postgres,
// fsm/command owns the log entry format. The node-to-node request protocol in
// forward.go is the one protocol this package speaks: one versioned envelope
// per request (type, version, request id, identity) around command and result
// bytes. Every request on it is authorised: only members connect (raft.PeerID),
// and a forwarded statement carries the client's user and rights, which the
// leader checks again (authorize, mayPropose). Every request that must run on
// the leader goes through one loop, onLeader, with one retry rule, retryable.
//
// With a password file, each client has the rights its line gives (auth.go):
// read, write (the default) or admin, which the admin HTTP endpoint wants on
// every route but the probes (httpauth.go). The admin address also serves a
// status page at / (statuspage.go, one embedded HTML file), its JSON feed
// /stats, and /metrics from a Prometheus registry of the node's own
// (metrics.go): sessions count their statements there, as they end.
//
// Membership (members.go) is changed on the leader: a request made on
// another node (Node.RemoveMember, the admin routes under /members) is
// forwarded there through onLeader as reqMember, carrying the client's
// identity, which needs the admin right; a node's own identity may only
// remove itself (LeaveOnShutdown). The last voter is never removed or
// demoted, and the leader logs every change with who asked. /readyz
// (health.go) is ready only when the node knows and reaches a leader, is
// within ReadyMaxLag entries of its commit index and answers a read.
//
// Advisory locks (advisory.go: pg_advisory_lock and its siblings) exclude
// each other across the cluster: the leader keeps the one lock table in
// memory, keyed by session; a follower's session takes its locks over a
// side-channel connection of its own (reqAdvisory) that stands for it on
// the leader and releases them when it closes or falls silent. A change of
// leader loses every lock, as a Postgres restart does, and each holder's
// next statement ends its connection with 57P02 saying so.
//
// Together with the driver package, the embedding API of this package (New,
// Open, Close and the methods of Node) is the supported public API of raftsql.
package server
