// Package archive owns the format of raftsql's continuous archive: base
// snapshots (plain SQLite files with their metadata) and the log entries
// committed after them, in checksummed segment files, kept as named objects
// in a Store (a local directory today, an object store later).
//
// # Objects
//
//	manifest.json                  format version and a summary (advisory)
//	base/<index>.<writer>.db       a base: the database file as of index, as
//	                               one writer stored it (base/<index>.db when
//	                               the metadata names no file)
//	base/<index>.json              its metadata, written last, naming the
//	                               file: a base exists once this object does
//	seg/<first>-<last>.seg         the entries of indexes first..last
//	gap/<from>-<base>.json         indexes from..base-1 cannot be rebuilt
//
// Indexes in names are 20 decimal digits, so names sort by index. Every
// object is written whole or not at all (Store.Put), never appended to, so
// that a store without appends can hold an archive and a reader never sees a
// half-written object. A segment covers a contiguous range of indexes and
// holds the records of those that carry commands; the indexes between
// records (configuration changes, barriers) have nothing to replay. Segments
// of two writers may overlap (an old leader that has not yet noticed it was
// replaced archives the same committed entries as the new one): committed
// entries are the same whoever archives them, so a reader takes any segment
// that covers the next index it needs.
//
// The manifest is a summary that the writer rewrites after each segment; the
// objects themselves are the truth, and Load builds the catalog from the
// listing, so a writer that crashes between objects leaves an archive that
// still reads.
//
// # Segment format
//
//	header:  magic "RSQLSEG\x00" | version u16 | flags u16 | first u64 |
//	         last u64 | header CRC-32C u32
//	record:  'R' | index u64 | term u64 | time i64 | length u32 | data |
//	         CRC-32C u32 of the record from 'R' to the end of data
//	end:     'E' | record count u32 | CRC-32C u32 of every byte before it
//
// All integers are big-endian. time is the leader's clock when it proposed
// the entry, in Unix nanoseconds, as the writer computed it; data is the
// entry's bytes, opaque here.
//
// # What it must not know
//
// SQL, Raft, the state machine: indexes, terms and times are numbers it
// carries, entry data and base metadata are opaque bytes. The server decides
// what goes in and replays what comes out.
//
// Version 1 is the only format so far. testdata/golden-v1 is an archive of
// this version that every later version must still read.
package archive
