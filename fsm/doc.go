// Package fsm is raftsql's replicated state machine: one SQLite database
// (modernc.org/sqlite, no cgo) to which every node applies the same
// commands in the same order.
//
// # What it owns
//
//   - The database file, which is a cache of "latest snapshot plus applied
//     entries": Open deletes any file it finds and starts empty, and Raft
//     restores the latest snapshot and replays the log into it.
//   - One write connection, used only by the Raft apply goroutine (Apply,
//     ApplyBatch, Snapshot, Restore), and a pool of read-only connections
//     for Query, Classify, Dump and Backup. WAL journal, synchronous=OFF
//     (the Raft log is the source of truth), foreign_keys=ON, a busy
//     timeout: fixed at open, the same on every node.
//   - Deterministic apply of a command (see fsm/command for its format)
//     and the per-statement results.
//   - The authorizer that refuses SQL which could make nodes diverge or
//     reach outside the database, on every connection and every path.
//   - The snapshot metadata: the last effective time and the results of
//     recent requests, for exactly-once retries.
//
// # What it must not know
//
// Networks, leadership, Raft internals beyond the hraft.FSM interface,
// Postgres, DSNs, or who the caller is. The snapshot stream format belongs
// to package snapshot.
//
// # Determinism
//
// Apply never reads the node's clock, environment or identity. A command
// carries the leader's clock and a random seed; while it is applied:
//
//   - CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_TIME and the 'now' of
//     date(), time(), datetime(), julianday(), unixepoch() and strftime()
//     read the effective time of the command, max(command time, last
//     effective time), so time never goes backwards across leaders. The
//     write connection opens through a private copy of the default VFS
//     whose clock returns that time (millisecond resolution, as SQLite's).
//   - random() and randomblob() are functions of the write connection that
//     override SQLite's and draw from a generator seeded by the command.
//   - Both reach column DEFAULTs and triggers, since SQLite evaluates them
//     on the same connection.
//   - last_insert_rowid() starts at 0 in every command; changes() and
//     total_changes(), which depend on the connection's history, are
//     refused.
//
// Read connections keep the real clock and real randomness.
//
// What remains outside the contract: when the largest rowid reaches
// 9223372036854775807, SQLite picks new rowids at random from its own
// process-wide generator.
//
// # Apply and failures
//
// A command's statements run in one transaction (ApplyBatch puts a batch
// in one transaction with a savepoint per command and checks deferred
// foreign keys per command, so that a batch behaves exactly as its
// commands applied one by one). A group entry (command.EncodeGroup) holds
// several commands and is applied exactly as that many entries would be,
// with one result per command. The first SQL error rolls the command
// back; that statement's result carries the error (SQLite's extended code
// and message) and later statements do not run. A SQL error is a result
// that every node computes alike, not a failure. Raft hands each node its
// committed entries in batches of that node's own timing, so nothing may
// depend on the batching: a statement that rolls back the whole
// transaction (INSERT OR ROLLBACK) runs the batch's earlier commands again
// at once, and a statement other than INSERT, UPDATE or DELETE reports no
// rows affected rather than SQLite's count from the connection's past.
//
// An environmental failure (I/O error, disk full, corruption, out of
// memory, cannot open, locked) means this node can no longer promise the
// same state as the others: the state machine calls Config.OnFatal once
// and from then on Apply returns, and every other call fails with, an
// error wrapping ErrStopped. An entry is never skipped.
//
// # Refused SQL
//
// ATTACH and DETACH; VACUUM in every form; load_extension(); every PRAGMA
// that sets a value (except user_version, which is stored in the file) and
// every PRAGMA outside an allowlist of introspection and setting reads,
// also as a table-valued function (pragma_database_list); temporary
// tables, indexes, views and triggers; changes(), total_changes(),
// sqlite_offset(); dbstat and sqlite_dbpage; virtual tables other than
// fts3/4/5 and rtree; more than one statement in one Statement; and, inside
// a command, transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT,
// RELEASE), which the server handles. Classify applies the same rules
// before anything is proposed, and reports transaction control instead of
// refusing it.
//
// # Snapshots
//
// Snapshot checkpoints the WAL into the database file (TRUNCATE, which
// must complete) and suspends checkpoints until Release, so Persist can
// stream the file while later applies only append to the WAL. Restore
// streams the snapshot into a temporary file, verifies it, fsyncs it and
// only then swaps it in; reads wait only during the swap. A corrupt
// snapshot fails and leaves the old state. The snapshot body is a plain
// SQLite database file.
package fsm
