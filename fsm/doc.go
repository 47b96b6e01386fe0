// Package fsm is raftsql's replicated state machine: one SQLite database
// (modernc.org/sqlite, no cgo) to which every node applies the same
// commands in the same order.
//
// # What it owns
//
//   - The database file, which is a cache of "latest snapshot plus applied
//     entries". After a clean Close, a record next to it (state.go) lets
//     the next Open keep it and report its index (HeldIndex): Raft then
//     does not restore the snapshot, replays the log after it, and
//     ApplyBatch skips the entries the file holds, so a restart does not
//     copy the database. The record holds the file's size, inode,
//     modification time and a CRC-32C of all its bytes, which Open checks
//     before it trusts the file. Without a matching record (a crash, a
//     missing, damaged or replaced file, a journal left) Open deletes the
//     file and starts empty, and Raft restores the latest snapshot and
//     replays the log into it.
//   - Restores from the log (restore.go): a file sent as restore entries
//     is staged next to the database and swapped in at its commit entry.
//   - One write connection, used only by the Raft apply goroutine (Apply,
//     ApplyBatch, Snapshot, Restore), and a pool of read-only connections
//     for Query, QueryRows (a read stepped a row at a time, holding its
//     connection and snapshot until closed), Classify, Dump and Backup.
//     WAL journal, synchronous=OFF
//     (the Raft log is the source of truth), foreign_keys=ON (reads report
//     it too), temp_store=MEMORY, a busy timeout: fixed at open, the same
//     on every node.
//   - Deterministic apply of a command (see fsm/command for its format)
//     and the per-statement results.
//   - The authorizer that refuses SQL which could make nodes diverge or
//     reach outside the database, on every connection and every path.
//   - The snapshot metadata: the last effective time and the results of
//     recent requests, for exactly-once retries.
//   - A generic setup hook (Config.Funcs, Config.ConnInit): deterministic
//     Go scalar functions registered on every connection, and statements
//     each connection runs when it opens, after them, which may create
//     TEMP VIEWs (server puts its Postgres catalog views there; fsm knows
//     nothing of them). Temporary objects live on one connection, are
//     never replicated nor snapshotted, and cannot be created by a
//     client's statement. A Func may instead be a write function
//     (Func.Write, funcwrite.go): it runs on the write connection only,
//     once per call, and reads and writes the database from inside the
//     statement that calls it, in its transaction (server's nextval); a
//     statement that calls one is a write.
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
// carries the leader's clock, a random seed and the leader's limits; while
// it is applied:
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
//   - SQLite's own generator (sqlite3_randomness, one per process), from
//     which it picks a new rowid once the largest, 9223372036854775807, is
//     taken and makes the column names of CREATE TABLE AS and views unique,
//     is reseeded from the command's seed and the statement's position
//     before each statement is compiled (SQLITE_TESTCTRL_PRNG_SEED), again
//     before it steps (whether compiling drew depends on the node: a view's
//     unique column names are drawn the first time the connection uses it
//     since its schema was loaded), and handed back to real randomness
//     after. prngMu keeps that window exclusive in the
//     process, where several state machines may live: the write
//     connections hold it while they run a statement, commit or
//     checkpoint, read connections while they compile one. Nothing else
//     draws from it: read connections have random() and randomblob() of
//     their own (real randomness from Go), temporary storage is in memory
//     on every connection (a temporary file would draw its name). The
//     other draws are WAL salts: when the WAL starts over after a
//     checkpoint, and when a new database writes its first frame. They
//     happen at a frame write, which may be in the middle of a statement
//     whose dirty pages spill from the cache, and whether the WAL can
//     start over depends on this node's checkpoints and readers; so the
//     state machine runs the automatic checkpoints itself (wal.go) and,
//     whenever one leaves the WAL able to start over, writes one frame at
//     once, outside any statement (a new database too, at open).
//   - 'localtime' and 'utc' are UTC: SQLite asks the C library for local
//     time through one process-wide hook (SQLITE_TESTCTRL_LOCALTIME_FAULT),
//     which answers UTC for the thread state of a write connection and the
//     real local time (TZ, /etc/localtime) for every other connection. So
//     datetime('now', 'localtime') stores UTC on every node, and replaying
//     the log on a node in another zone rewrites nothing. Reads keep local
//     behaviour.
//   - The command's step budget (MaxSteps) bounds the virtual machine
//     steps of its statements together: a progress handler called every
//     progressOps steps counts down while a statement of the command steps
//     (not while SQLite compiles one, nor during the state machine's own
//     BEGIN, SAVEPOINT and COMMIT). Every statement of the connection,
//     including those FTS5 and R*Tree keep for themselves, starts counting
//     from zero at each statement, so the handler fires at the same steps
//     whatever the connection ran before; cached statements are compiled
//     again before they run, never inside a step, once the write
//     connection's schema may have changed. A command over budget fails
//     with command.CodeLimit (SQLSTATE 54000) at the same step on every
//     node; SQLite answers the interrupt by rolling back the transaction,
//     which the batch handles as it handles INSERT OR ROLLBACK. A real
//     interrupt (a cancelled speculative statement) stays an interrupt.
//   - The command's value size (MaxValueSize) is the write connection's
//     SQLITE_LIMIT_LENGTH for that command, so every string or blob made
//     or bound, randomblob() included, is checked against it before it is
//     allocated, and a statement's text is checked against it before it is
//     compiled (by the state machine, since a cached statement is not
//     compiled again). Over it a statement fails with SQLITE_TOOBIG.
//     Commands of format 1 have neither limit and apply as they always
//     did.
//   - last_insert_rowid() starts at 0 in every command; changes() and
//     total_changes(), which depend on the connection's history, are
//     refused.
//   - The planner's statistics on the write connection are those the
//     database holds: after a statement that writes sqlite_stat1 or
//     sqlite_stat4 directly, and after a rollback that undid an ANALYZE
//     (a failing command, a transaction block rolled back, the leader's
//     speculative state undone), the connection loads them again
//     (reloadStats), as a node that restarts or installs a snapshot does;
//     otherwise plans, and the rows a LIMIT without ORDER BY picks, would
//     follow each connection's history.
//
// A statement's outcome does not depend on whether it runs live, is
// replayed after a restart (in batches of other sizes, with savepoints),
// or runs speculatively in a WriteTx on the leader: the authorizer's
// verdict depends only on the statement (the statements virtual table
// modules compile for themselves, which SQLite also sends through the
// authorizer, are always treated as the connection's own, whenever the
// module compiles or recompiles them); a speculative statement runs with
// the time, seed, budget and statement position it will have in its
// command, and one that fails gives back what it drew and spent, since
// the command will not hold it (and the rowid it inserted before failing,
// which SQLite keeps as last_insert_rowid()).
//
// Transactions are pipelined: WriteTx.Propose keeps a transaction's effects
// on the write connection, uncommitted, as the state the next WriteTx runs
// on, while its command goes through the log. Applying any entry first
// undoes that speculative state (readers never see it: it is not
// committed), and the next WriteTx runs again, one savepoint each, the
// commands proposed and not yet applied, exactly as applying them will.
// Each such command carries the digest of the results its client saw
// (command.Command.Expect): a node that applies it and gets other results
// (because an entry ahead of it failed, was lost with a leader, or came
// from an earlier leader) undoes it with CodeConflict, the same on every
// node, so a transaction never commits with results its client did not
// see. The tables each statement reads and writes, as the authorizer
// reports them when it is compiled (triggers and views included), let
// WriteTx.Changed tell a transaction whether what it read before its first
// write changed since.
//
// Read connections keep the real clock, real randomness and the local time
// zone, and have the node's own value size limit. Before a read they load
// the schema of the snapshot they read, and drop their cached statements
// when the schema generation moved, so that nothing they run is compiled
// on an old schema or again in the middle of its step (where it could
// draw from SQLite's generator outside prngMu).
//
// What remains outside the contract: FTS3 and FTS4 are not compiled into
// this SQLite. The column names SQLite makes unique for a view with six or
// more columns of one name are drawn the first time a connection uses the
// view since its schema was loaded, so a CREATE TABLE AS over such a view
// stores other names on a node whose schema was loaded at another time
// (restarted, restored from a snapshot, or a leader whose speculative
// schema change was undone). Another SQLite user in the same process (a program that
// embeds a node and opens its own databases through modernc.org/sqlite)
// draws from the generator outside prngMu and could move a write
// statement's draws. The bytes of the files (WAL salts, page layout after
// a checkpoint) differ between nodes; only the data is the contract.
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
// error wrapping ErrStopped. An entry is never skipped. So is an entry
// whose checksum fails (format 2) or that does not decode at all: its
// bytes changed on this node's disk, and applying anything in its place
// would make this node differ. The entries of the batch before it are
// applied, it and the later ones are not, and the error names its index.
// Only an entry that is intact but asks for something this version does
// not know (a command kind added later) gets a deterministic answer, a
// refused result, the same on every node.
//
// # Refused SQL
//
// ATTACH and DETACH; VACUUM in every form; load_extension(); every PRAGMA
// that sets a value (except user_version, which is stored in the file) and
// every PRAGMA outside an allowlist of introspection and setting reads,
// also as a table-valued function (pragma_database_list); temporary
// tables, indexes, views and triggers; changes(), total_changes(),
// sqlite_offset(); in a write (on the write connection), what describes
// the node's SQLite build: sqlite_version(), sqlite_source_id(),
// sqlite_compileoption_used() and _get(), PRAGMA compile_options,
// function_list, module_list and pragma_list, and what describes the
// node's file rather than its data: PRAGMA page_count and freelist_count
// (which, with auto_vacuum, follow where each node's transactions ended)
// and the dbstat table (the pages of each table and index, which reads
// use for Postgres' relation sizes); sqlite_dbpage; virtual tables other than
// fts5, rtree and geopoly (fts3/4 are allowed but not compiled in); more than one statement in one Statement; and, inside
// a command, transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT,
// RELEASE), which the server handles. Classify applies the same rules
// before anything is proposed, and reports transaction control instead of
// refusing it; a statement that writes and uses what a write may not
// (sqlite_version(), PRAGMA page_count, ...) is refused there too.
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
//
// # Restores
//
// A restore (replacing the whole state with a SQLite file) is copied to the
// nodes out of band and committed by one small entry (stage.go). The
// leader receives and checks the file and keeps it as its staging file;
// every other member copies it from the leader over the authenticated
// side channel, in ranges, into a staging file of its own, checks its size
// and CRC-32C against what the leader announced, and fsyncs it. Once a
// quorum of voters (the leader counted) holds a checked copy, the leader
// proposes an install entry (command.RestoreInstall: restore id, size,
// checksum), and every node that applies it renames its staging file into
// place at the entry's index (swapIn), as a snapshot's Restore does.
//
// A node that applies the install entry without a copy (it was down while
// the file was copied, it restarted in the middle of its copy, it was
// wiped) does not skip it, and applies nothing after it until it has what
// it needs: it fetches the file from a node that still holds it staged,
// or, when every node that had it has installed it, the state of a node
// that has (a Raft snapshot at or past the entry's index, which that node
// takes if it has none), installs that state, and skips the entries the
// state already holds, as after a restart that kept the file (HeldIndex).
// It tries again with a growing pause, logging each failure, until it
// succeeds or the node stops; a node stopped there applies the entry when
// it starts again. Committed thus still means: every node's state includes
// the restore from the entry's index on, and a node that was down gets it.
// While it fetches, its apply path is held, so to the leader it looks like
// a slow follower.
//
// A staging file is removed when its install entry is applied, when an
// abort entry for it is applied (the leader proposes one when the restore
// fails before its commit; the next leader does for a staged restore whose
// leader is gone), and when another restore is staged. A copy cut short
// leaves nothing: it is written as .partial and renamed once checked, and
// Open removes partial files. A copy that ends after the abort entry of
// its restore was applied is not kept either (RestoreOutcome: each node
// remembers what became of its latest restores, installed at an index or
// aborted; a leader that lost its leadership after proposing an install
// entry reads it there to tell its client which, and server's restore
// status, by the restore id a client chose, reads it for a client that
// lost its answer: server/restoreid.go says when that answer is definite).
// The outcomes are the node's memory, not replicated
// state: the latest 256 it applied since Open, and OutcomesFrom says from
// which index they are complete (a snapshot restored, a state fetched or
// a file kept at Open holds restores it did not apply). A copy is refused
// only for an abort applied while it was copied: the same id staged
// again afterwards (its client sent it again once it learned the first
// attempt was aborted) is kept.
//
// The leader proposes the install entry only in the term the restore
// began in: an abort proposed by another leader in between is never
// followed by its install.
//
// Until every member reads entry version 5 and serves side-channel version
// 4 (a rolling upgrade), the restore travels through the log as before
// (restore.go): a begin entry, chunks of the file (16 KiB each, bounded by
// command.MaxRestoreChunk) and a commit entry; each node writes the chunks
// into a staging file as it applies them and swaps it in at the commit.
// Those entries, which logs written by older releases hold, are applied as
// they always were. Snapshots are refused while such a restore is staged,
// since they would carry the old database without the staged chunks.
//
// Weighed against it: hashicorp/raft's user restore, used first, installs
// the file on the leader at an index past its log before any follower has
// it, so a leader killed in between comes back alone with a state nobody
// else has and a hole in its log (it then refused every AppendEntries).
// The file in chunk entries, used next, has Raft's own guarantees carry it
// but writes it into every node's log, fsynced batch by batch, and again
// into the staging file: seven writes of the file on a cluster sharing one
// disk, a restore 25 to 60 times slower than cp of the file at 1 GiB, and
// bolt's memory-mapped log pages grew a node's RSS by up to 2 GiB over
// repeated restores. Out of band the file is written once per node, with
// no log entry of its size; what the log gave for free (a node that was
// down gets the file) is kept by the fetch at apply, whose last resort,
// another node's later state, exists as long as any node has applied the
// entry.
package fsm
