// Package command owns the Raft log entry format of raftsql and the result of
// applying one: the commands the leader proposes (statements with typed
// parameters, the leader's clock and random seed, a client request id) and the
// per-statement results every node computes.
//
// It is a leaf: it imports only the standard library, so server (which
// encodes), fsm (which decodes and applies) and anything that forwards results
// can share it. It knows nothing of SQLite, Raft or Postgres.
//
// Every entry stays on disk until a snapshot replaces it, so the encoding of
// an existing format version never changes: new kinds or fields get a new
// version byte. Format 1 (commands and groups) is read, no longer written.
// Format 2 adds the leader's step budget and value size limit to a command
// and ends every command and group with a CRC-32C (Castagnoli) of the bytes
// before it: a damaged entry is reported as ErrChecksum, never decoded into
// another command. ErrUnsupported marks an intact entry this version cannot
// apply (an unknown kind); every other error means the bytes are damaged.
// Format 3 is format 2 with the digest of the results a transaction showed
// its client (Command.Expect); it is written only for commands that carry
// one, so nodes that read format 2 only fail on those alone.
//
// EntryVersion (version.go) is the highest entry version this build reads;
// EntryVersionOf tells the version an entry needs. Leaders write an entry
// only when every member reads its version, so a format, a command kind or
// a restore step added later is registered there with a new version.
// Encoding is deterministic (no map iteration) and decoding
// returns an error, never panics, whatever bytes it is given.
package command
