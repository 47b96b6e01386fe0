package fsm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"

	sqlite3 "modernc.org/sqlite/lib"
)

// A clean shutdown leaves, next to the database file, a record of the state
// that file holds: the index and term of the last applied entry, the last
// effective time and the remembered results of requests (a snapshot's
// meta), and what identifies the file: its size, inode and modification
// time, and a CRC-32C of all its bytes. The next Open that finds the record
// and a file matching it keeps the file, so that a restart does not copy the
// snapshot into a new database, whatever the size of the database; Raft then
// replays the log after its snapshot and the state machine skips the
// entries the file already holds.
//
// Open removes the record before anything can change the file, so the
// record only ever describes a file no entry has been applied to since. A
// node that crashed (SIGKILL, power loss) has no record: its file may hold
// more than the last record said, or a torn write, and it starts empty and
// restores the snapshot, as every start did before. The applied index is
// not written into the database with each commit because the remembered
// results (which every node must hold alike, or a retried request would run
// twice on one node only) would have to be written with it.
//
// The checksum covers every byte, because a file that changed while the
// node was down (bit rot, a stray write, a partial copy, a file put in its
// place) and was kept would be served and applied on as if it held the
// state the record names, and this node would differ from the others for
// good; SQLite itself notices only some damage, and only when it reads the
// page. The size, inode and modification time are checked first, since
// they cost nothing and name what changed; the checksum is what decides.
// Reading the file costs, at start and at shutdown, a fraction of copying
// it (docs/BENCHMARKS.md, "Restarts at 1 GiB"), and the file is then in the
// page cache for the reads that follow. A record is written only once the
// WAL was checkpointed into the file and emptied, so the file alone holds
// the state; Open refuses a kept file with a WAL or rollback journal that
// is not empty, and removes its -shm, which only indexes the WAL. A record
// that does not decode (damaged, cut short by a crash while it was
// written, or written by a version that did not sum the whole file) is not
// trusted: the node restores the snapshot.

const (
	stateSuffix = ".state"
	stateMagic  = "raftsql-state\x00"
	// stateV1 records, which covered only the first 4 KiB of the file,
	// are not trusted.
	stateV1 = 1
	stateV2 = 2
	// sumBlock is how much of the file one read takes when it is summed.
	sumBlock = 1 << 20
)

// cleanState is what the record says.
type cleanState struct {
	index, term uint64
	lastTime    int64
	meta        []byte // encodeMeta's bytes

	file fileID

	entries []metaEntry // decoded from meta
}

// fileID is what the record keeps of the database file.
type fileID struct {
	size, mtime int64
	ino         uint64 // 0 where the system has no inodes
	sum         uint32 // CRC-32C of the whole file
}

func (f *FSM) statePath() string { return f.path + stateSuffix }

func encodeState(st cleanState) []byte {
	b := append([]byte(stateMagic), stateV2)
	b = binary.AppendUvarint(b, st.index)
	b = binary.AppendUvarint(b, st.term)
	b = binary.AppendUvarint(b, uint64(st.file.size))
	b = binary.AppendVarint(b, st.file.mtime)
	b = binary.AppendUvarint(b, st.file.ino)
	b = binary.LittleEndian.AppendUint32(b, st.file.sum)
	b = binary.AppendUvarint(b, uint64(len(st.meta)))
	b = append(b, st.meta...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// decodeState parses a record written by encodeState.
func decodeState(b []byte) (cleanState, error) {
	var st cleanState
	bad := func(what string) (cleanState, error) { return cleanState{}, fmt.Errorf("fsm: state record: %s", what) }
	if len(b) < len(stateMagic)+1+4 || !bytes.HasPrefix(b, []byte(stateMagic)) {
		return bad("not a state record")
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[len(body):]) {
		return bad("checksum mismatch")
	}
	b = body[len(stateMagic):]
	switch b[0] {
	case stateV2:
	case stateV1:
		return bad("written by an older version, which did not sum the whole file")
	default:
		return bad(fmt.Sprintf("unknown version %d", b[0]))
	}
	b = b[1:]
	var n int
	next := func() (uint64, bool) {
		v, m := binary.Uvarint(b)
		if m <= 0 {
			return 0, false
		}
		b = b[m:]
		return v, true
	}
	var ok bool
	if st.index, ok = next(); !ok {
		return bad("index")
	}
	if st.term, ok = next(); !ok {
		return bad("term")
	}
	size, ok := next()
	if !ok || size > 1<<62 {
		return bad("size")
	}
	st.file.size = int64(size)
	if st.file.mtime, n = binary.Varint(b); n <= 0 {
		return bad("mtime")
	}
	b = b[n:]
	if st.file.ino, ok = next(); !ok {
		return bad("inode")
	}
	if len(b) < 4 {
		return bad("file checksum")
	}
	st.file.sum = binary.LittleEndian.Uint32(b)
	b = b[4:]
	metaLen, ok := next()
	if !ok || metaLen != uint64(len(b)) {
		return bad("meta length")
	}
	st.meta = b
	var err error
	if st.lastTime, st.entries, err = decodeMeta(st.meta); err != nil {
		return bad(err.Error())
	}
	return st, nil
}

// statID returns the cheap part of a file's identity: all but the sum.
func statID(fi os.FileInfo) fileID {
	return fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano(), ino: fileInode(fi)}
}

// sumFile returns the CRC-32C of the bytes of file, from its start, read in
// large blocks (the checksum runs at several GB/s where the CPU has an
// instruction for it, so the read is what costs).
func sumFile(file *os.File) (sum uint32, n int64, err error) {
	buf := make([]byte, sumBlock)
	for off := int64(0); ; {
		k, err := file.ReadAt(buf, off)
		sum = crc32.Update(sum, castagnoli, buf[:k])
		off += int64(k)
		if errors.Is(err, io.EOF) {
			return sum, off, nil
		}
		if err != nil {
			return 0, off, err
		}
	}
}

// mismatch names the first way in which the file differs from the record
// (cheap checks first), or returns "" when it matches.
func (id fileID) mismatch(got fileID) string {
	switch {
	case got.size != id.size:
		return "size"
	case got.ino != id.ino:
		return "inode"
	case got.mtime != id.mtime:
		return "mtime"
	case got.sum != id.sum:
		return "checksum"
	}
	return ""
}

// checkpointAtClose copies the whole WAL into the database file and empties
// it, so that the file alone holds the state. Nothing else uses the
// connections any more.
func (f *FSM) checkpointAtClose() error {
	w := f.w
	prngMu.Lock()
	rc := sqlite3.Xsqlite3_wal_checkpoint_v2(w.tls, w.db, 0, sqlite3.SQLITE_CHECKPOINT_TRUNCATE, 0, 0)
	prngMu.Unlock()
	if rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("checkpoint at close: %w", w.errorf(rc))
	}
	// No snapshot reads the file now: the write connection, closed last,
	// may checkpoint the (empty) WAL and then remove it and its -shm,
	// which it does only after a checkpoint of its own.
	w.dbConfig(sqlite3.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, false)
	return nil
}

// writeCleanState records st as the state of the database file, closed and
// complete (no WAL), after syncing the file. The connections are closed,
// and nothing writes the file any more.
func (f *FSM) writeCleanState(st cleanState) error {
	for _, p := range []string{f.path + "-wal", f.path + "-journal"} {
		if fi, err := os.Stat(p); err == nil && fi.Size() > 0 {
			return fmt.Errorf("%s was not emptied at close", filepath.Base(p))
		}
	}
	db, err := os.OpenFile(f.path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Sync(); err != nil {
		return err
	}
	fi, err := db.Stat()
	if err != nil {
		return err
	}
	st.file = statID(fi)
	var n int64
	if st.file.sum, n, err = sumFile(db); err != nil {
		return err
	}
	if n != st.file.size {
		return fmt.Errorf("the database file changed size while it was summed (%d bytes, then %d)", st.file.size, n)
	}
	tmp := f.statePath() + ".tmp"
	file, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = file.Write(encodeState(st))
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, f.statePath())
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	// Without this the record may be lost with a power cut: the next
	// start then restores the snapshot, which is safe.
	syncDir(filepath.Dir(f.path))
	return nil
}

// takeCleanState reads and removes the record, and returns it when the
// database file matches it; nil when there is none, it is damaged, or the
// file changed (or is gone) since it was written.
func (f *FSM) takeCleanState() (*cleanState, error) {
	// A record a crash left half written is never trusted.
	os.Remove(f.statePath() + ".tmp")
	b, err := os.ReadFile(f.statePath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fsm: %w", err)
	}
	// Gone before anything can change the file. Should this not reach the
	// disk and the record come back after a crash, the file it would
	// describe has changed since, and its checksum says so.
	if err := os.Remove(f.statePath()); err != nil {
		return nil, fmt.Errorf("fsm: %w", err)
	}
	syncDir(filepath.Dir(f.path))
	const restoring = "; restoring the latest snapshot"
	st, err := decodeState(b)
	if err != nil {
		f.log.Warn("not trusting the state record of the last clean shutdown"+restoring, "check", "record", logKeyErr, err)
		return nil, nil
	}
	for _, p := range []string{f.path + "-wal", f.path + "-journal"} {
		if fi, err := os.Stat(p); err == nil && fi.Size() > 0 {
			f.log.Warn("the database file has a journal the last clean shutdown did not leave"+restoring, "check", "journal", "file", p)
			return nil, nil
		}
	}
	start := time.Now()
	got, what, err := st.file.check(f.path)
	if err != nil {
		check := "read"
		if errors.Is(err, os.ErrNotExist) {
			check = "missing"
		}
		f.log.Warn("cannot read the database file of the last clean shutdown"+restoring, "check", check, logKeyErr, err)
		return nil, nil
	}
	if what != "" {
		f.log.Warn("the database file is not the one the last clean shutdown left"+restoring, "check", what,
			"size", got.size, "recorded_size", st.file.size, "inode", got.ino, "recorded_inode", st.file.ino,
			"mtime", got.mtime, "recorded_mtime", st.file.mtime,
			"crc32c", fmt.Sprintf("%08x", got.sum), "recorded_crc32c", fmt.Sprintf("%08x", st.file.sum))
		return nil, nil
	}
	f.log.Info("verified the database file of the last clean shutdown", "size", got.size, "took", time.Since(start))
	// It indexes the WAL, which is empty; SQLite would rebuild it.
	if err := os.Remove(f.path + "-shm"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("fsm: %w", err)
	}
	return &st, nil
}

// check compares the file at path with id and names the first check that
// fails ("" when none does), with what it found. The file is summed only
// when the cheap checks pass.
func (id fileID) check(path string) (got fileID, failed string, err error) {
	file, err := os.Open(path)
	if err != nil {
		return fileID{}, "", err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return fileID{}, "", err
	}
	got = statID(fi)
	got.sum = id.sum
	if failed = id.mismatch(got); failed != "" {
		got.sum = 0
		return got, failed, nil
	}
	if got.sum, _, err = sumFile(file); err != nil {
		return got, "", err
	}
	return got, id.mismatch(got), nil
}
