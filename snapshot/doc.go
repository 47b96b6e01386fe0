// Package snapshot owns the format of raftsql snapshots and backups: a
// header, a streamed body and a checksum trailer.
//
//	header:  magic "RAFTSQL\x00" | version u16 | flags u16 | index u64 |
//	         term u64 | body size u64 | meta length u32 | meta | header CRC-32C u32
//	body:    size bytes (the SQLite database file)
//	trailer: CRC-32C u32 of everything before it (header and body)
//
// All integers are big-endian. The header has its own checksum so a corrupt
// size or meta length is caught before anything is streamed; the trailer
// covers the whole stream.
//
// The body is never held in memory: [Write] copies it from an io.Reader and
// [Reader] hands it out as it arrives. A [Reader] returns io.EOF only after
// the trailer has been read and checked, so a caller can stream a received
// snapshot into a temporary file and knows it is valid exactly when the copy
// ended without an error.
//
// The package knows nothing of SQL or of Raft: the index and term are
// numbers it carries, the meta is opaque bytes its caller fills (bounded by
// [MaxMeta]), and the body is opaque bytes. That the body is a plain SQLite
// database file that sqlite3 opens is the state machine's promise, not this
// package's.
//
// A backup sent by the admin endpoint is the plain body (a SQLite file, or a
// SQL dump of it), not this format; a restore wraps the file it receives in
// this format, under a header the state machine builds, and hands that to
// Raft as a snapshot. testdata/v1-fsm.snap is a whole snapshot the state
// machine wrote (fsm's TestGoldenSnapshotV1 restores it).
//
// Version 1 is the only format so far. Readers keep reading every version
// ever written; snapshots made by older versions are kept in testdata and
// must still read.
package snapshot
