package main

import (
	"github.com/spf13/pflag"

	"github.com/raftsql/raftsql/server"
)

// BindFlags binds the node's flags to cfg, with cfg's values as defaults.
func BindFlags(fs *pflag.FlagSet, cfg *server.Config) {
	fs.StringVar(&cfg.ID, "id", cfg.ID, "node id, unique and stable within the cluster (required)")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the Raft log, snapshots and the SQLite file (required)")
	fs.StringVar(&cfg.RaftAddr, "raft-addr", "127.0.0.1:7433", "node-to-node address (Raft and write forwarding); other nodes dial it")
	fs.StringVar(&cfg.RaftListenAddr, "raft-listen", cfg.RaftListenAddr, "address the node-to-node listener binds, when not --raft-addr (e.g. 0.0.0.0:7433)")
	fs.StringVar(&cfg.RaftTLSCertFile, "raft-tls-cert", cfg.RaftTLSCertFile, "PEM certificate of this node for node-to-node mutual TLS, naming its id (raftsql cert node makes one)")
	fs.StringVar(&cfg.RaftTLSKeyFile, "raft-tls-key", cfg.RaftTLSKeyFile, "PEM private key of --raft-tls-cert")
	fs.StringVar(&cfg.RaftTLSCAFile, "raft-tls-ca", cfg.RaftTLSCAFile, "PEM certificate of the cluster CA that every peer's certificate must verify against")
	fs.BoolVar(&cfg.RaftInsecure, "raft-insecure", cfg.RaftInsecure, "run without node-to-node TLS on a raft address that is not loopback (anyone who reaches it can join and write)")
	fs.StringVar(&cfg.PGAddr, "pg-addr", "127.0.0.1:5433", "Postgres wire address for clients")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", "127.0.0.1:8433", "admin HTTP address (/status, /readyz); empty disables it")
	fs.BoolVar(&cfg.Bootstrap, "bootstrap", cfg.Bootstrap, "start a new cluster with this node as its first voter (first node only)")
	fs.StringSliceVar(&cfg.Join, "join", cfg.Join, "raft addresses of existing members to join through (comma separated)")
	fs.StringVar(&cfg.ReadConsistency, "read-consistency", cfg.ReadConsistency, "default read consistency: linearizable, strong, weak or none")
	fs.DurationVar(&cfg.ApplyTimeout, "apply-timeout", cfg.ApplyTimeout, "how long a write handed to Raft may wait to commit (plus 1s per MiB of the entry) before its outcome is reported unknown")
	fs.DurationVar(&cfg.LockTimeout, "lock-timeout", cfg.LockTimeout, "how long a write may wait for the write lock an open transaction holds before it fails with 55P03 (SET lock_timeout lowers it)")
	fs.DurationVar(&cfg.ReadTimeout, "read-timeout", cfg.ReadTimeout, "how long a read may wait for the leader's read index and for this node to catch up")
	fs.IntVar(&cfg.ProposalsInFlight, "proposals-in-flight", cfg.ProposalsInFlight, "Raft entries of writes the leader has in flight at once; writes arriving meanwhile are packed into the next one")
	fs.DurationVar(&cfg.MaxGroupWait, "max-group-wait", cfg.MaxGroupWait, "longest the leader holds a write entry open for the writers it just answered (never longer than recent entries took to commit); 0 sends each entry as soon as it can")
	fs.Uint64Var(&cfg.SnapshotThreshold, "snapshot-threshold", cfg.SnapshotThreshold, "log entries since the last snapshot that trigger a new one")
	fs.DurationVar(&cfg.SnapshotInterval, "snapshot-interval", cfg.SnapshotInterval, "how often the snapshot threshold is checked")
	fs.Uint64Var(&cfg.TrailingLogs, "trailing-logs", cfg.TrailingLogs, "log entries kept behind a snapshot for lagging followers")
	fs.DurationVar(&cfg.HeartbeatTimeout, "heartbeat-timeout", cfg.HeartbeatTimeout, "time without leader contact before a follower starts an election")
	fs.DurationVar(&cfg.ElectionTimeout, "election-timeout", cfg.ElectionTimeout, "time a candidate waits for votes")
	fs.DurationVar(&cfg.LeaderLeaseTimeout, "leader-lease-timeout", cfg.LeaderLeaseTimeout, "time a leader keeps leading without hearing from a majority")
	fs.DurationVar(&cfg.IdleInTransactionTimeout, "idle-in-transaction-timeout", cfg.IdleInTransactionTimeout, "abort a transaction block whose client stays silent this long (it may hold the write lock)")
	fs.IntVar(&cfg.ReadConns, "read-conns", cfg.ReadConns, "SQLite read connections")
	fs.Int64Var(&cfg.MaxWriteSteps, "max-write-steps", cfg.MaxWriteSteps, "SQLite VM steps one write (entry or transaction block) may take; the leader's value holds on every node (0: unbounded)")
	fs.Int64Var(&cfg.MaxValueSize, "max-value-size", cfg.MaxValueSize, "largest string, blob or statement text in bytes; the leader's value holds for writes (0: SQLite's 1e9)")
	fs.IntVar(&cfg.MaxQuerySize, "max-query-size", cfg.MaxQuerySize, "largest message in bytes a Postgres client may send (a query's text, a Bind, a COPY chunk); a larger one fails with 54000")
	fs.Int64Var(&cfg.MaxRestoreSize, "max-restore-size", cfg.MaxRestoreSize, "largest database file, in bytes, a restore accepts (0: any size)")
	fs.BoolVar(&cfg.Profiling, "pprof", cfg.Profiling, "serve Go profiles under /debug/pprof/ on the admin HTTP address")
	fs.IntVar(&cfg.MaxConnections, "max-connections", cfg.MaxConnections, "maximum concurrent Postgres client connections")
	fs.StringVar(&cfg.PGTLSCertFile, "pg-tls-cert", cfg.PGTLSCertFile, "PEM certificate for TLS to Postgres clients (with --pg-tls-key)")
	fs.StringVar(&cfg.PGTLSKeyFile, "pg-tls-key", cfg.PGTLSKeyFile, "PEM private key for TLS to Postgres clients")
	fs.BoolVar(&cfg.PGRequireTLS, "pg-require-tls", cfg.PGRequireTLS, "refuse Postgres clients that do not use TLS")
	fs.StringVar(&cfg.PGPasswordFile, "pg-password-file", cfg.PGPasswordFile, "file of user:password or user:SCRAM-SHA-256$… lines, each optionally followed by rights=read|write|admin (default write); clients then authenticate with SCRAM-SHA-256 (default: trust every client)")
	fs.StringVar(&cfg.PGSCRAMSecretFile, "pg-scram-secret-file", cfg.PGSCRAMSecretFile, "file of at least 16 random bytes, the same on every node, that keys the SCRAM salts invented for unknown users (default: derived from the password file)")
	fs.StringVar(&cfg.HTTPTLSCertFile, "http-tls-cert", cfg.HTTPTLSCertFile, "PEM certificate to serve the admin endpoint over HTTPS (with --http-tls-key)")
	fs.StringVar(&cfg.HTTPTLSKeyFile, "http-tls-key", cfg.HTTPTLSKeyFile, "PEM private key for the admin endpoint's HTTPS")
	fs.StringVar(&cfg.HTTPTokenFile, "http-token-file", cfg.HTTPTokenFile, "file of bearer tokens (one a line) the admin endpoint accepts as an admin; with it or a password file every admin route but /livez and /readyz wants credentials")
}
