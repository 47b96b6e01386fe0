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

	sqlite3 "modernc.org/sqlite/lib"
)

// A clean shutdown leaves, next to the database file, a record of the state
// that file holds: the index and term of the last applied entry, the last
// effective time and the remembered results of requests (a snapshot's
// meta), and what identifies the file (its size, modification time and
// first page). The next Open that finds the record and a file matching it
// keeps the file, so that a restart does not copy the snapshot into a new
// database, whatever the size of the database; Raft then replays the log
// after its snapshot and the state machine skips the entries the file
// already holds.
//
// Open removes the record before anything can change the file, so the
// record only ever describes a file no entry has been applied to since. A
// node that crashed (SIGKILL, power loss) has no record: its file may hold
// more than the last record said, or a torn write, and it starts empty and
// restores the snapshot, as every start did before. The applied index is
// not written into the database with each commit because the remembered
// results (which every node must hold alike, or a retried request would run
// twice on one node only) would have to be written with it.

const (
	stateSuffix  = ".state"
	stateMagic   = "raftsql-state\x00"
	stateV1      = 1
	stateHeadLen = 4096 // bytes of the file's start covered by the record's checksum
)

// cleanState is what the record says.
type cleanState struct {
	index, term uint64
	lastTime    int64
	meta        []byte // encodeMeta's bytes

	// Of the database file.
	size, mtime int64
	head        uint32 // CRC-32C of the first stateHeadLen bytes

	entries []metaEntry // decoded from meta
}

func (f *FSM) statePath() string { return f.path + stateSuffix }

func encodeState(st cleanState) []byte {
	b := append([]byte(stateMagic), stateV1)
	b = binary.AppendUvarint(b, st.index)
	b = binary.AppendUvarint(b, st.term)
	b = binary.AppendUvarint(b, uint64(st.size))
	b = binary.AppendVarint(b, st.mtime)
	b = binary.LittleEndian.AppendUint32(b, st.head)
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
	if b[0] != stateV1 {
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
	st.size = int64(size)
	if st.mtime, n = binary.Varint(b); n <= 0 {
		return bad("mtime")
	}
	b = b[n:]
	if len(b) < 4 {
		return bad("head")
	}
	st.head = binary.LittleEndian.Uint32(b)
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

// fileIdentity reads what the record keeps of the database file.
func fileIdentity(path string) (size, mtime int64, head uint32, err error) {
	file, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return 0, 0, 0, err
	}
	buf := make([]byte, stateHeadLen)
	n, err := io.ReadFull(file, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, 0, 0, err
	}
	return fi.Size(), fi.ModTime().UnixNano(), crc32.Checksum(buf[:n], castagnoli), nil
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
	return nil
}

// writeCleanState records st as the state of the database file, closed and
// complete (no WAL), after syncing the file. The connections are closed.
func (f *FSM) writeCleanState(st cleanState) error {
	if fi, err := os.Stat(f.path + "-wal"); err == nil && fi.Size() > 0 {
		return errors.New("the WAL was not checkpointed at close")
	}
	db, err := os.OpenFile(f.path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = db.Sync()
	db.Close()
	if err != nil {
		return err
	}
	if st.size, st.mtime, st.head, err = fileIdentity(f.path); err != nil {
		return err
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
	syncDir(filepath.Dir(f.path))
	return nil
}

// takeCleanState reads and removes the record, and returns it when the
// database file matches it; nil when there is none, it is damaged, or the
// file changed (or is gone) since it was written.
func (f *FSM) takeCleanState() (*cleanState, error) {
	b, err := os.ReadFile(f.statePath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fsm: %w", err)
	}
	// Gone before anything can change the file.
	if err := os.Remove(f.statePath()); err != nil {
		return nil, fmt.Errorf("fsm: %w", err)
	}
	syncDir(filepath.Dir(f.path))
	st, err := decodeState(b)
	if err != nil {
		f.log.Warn("ignoring the state record; restoring the latest snapshot", logKeyErr, err)
		return nil, nil
	}
	size, mtime, head, err := fileIdentity(f.path)
	if err != nil || size != st.size || mtime != st.mtime || head != st.head {
		f.log.Warn("the database file is not the one the last clean shutdown left; restoring the latest snapshot", logKeyErr, err,
			"size", size, "recorded_size", st.size)
		return nil, nil
	}
	for _, p := range []string{f.path + "-wal", f.path + "-journal"} {
		if fi, err := os.Stat(p); err == nil && fi.Size() > 0 {
			f.log.Warn("the database file has a journal the last clean shutdown did not leave; restoring the latest snapshot", "file", p)
			return nil, nil
		}
	}
	return &st, nil
}
