package fsm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	hraft "github.com/hashicorp/raft"
	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/snapshot"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteMagic opens every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// Snapshot captures the state for Raft. It checkpoints the WAL into the
// database file, so that the file alone holds every applied entry, and
// stops further checkpoints until the snapshot is released: later entries
// only append to the WAL while Persist reads the file.
func (f *FSM) Snapshot() (hraft.FSMSnapshot, error) {
	f.applyMu.Lock()
	defer f.applyMu.Unlock()
	if err := f.stopped(); err != nil {
		return nil, err
	}
	if err := f.discardSpec(); err != nil {
		return nil, err
	}
	if f.holds.Load() > 0 {
		return nil, errors.New("fsm: a snapshot or a backup is still reading the database file; try again once it is done")
	}
	if f.staged != nil {
		// See restore.go: the staged chunks would not be in it.
		return nil, errors.New("fsm: a restore is being staged; the snapshot waits until it is committed or abandoned")
	}
	if err := f.checkpoint(); err != nil {
		return nil, err
	}
	file, h, err := f.holdFile("snapshot")
	if err != nil {
		return nil, err
	}
	return &fsmSnapshot{f: f, file: file, h: h}, nil
}

// holdFile opens the database file, just checkpointed, for what (a
// snapshot or a backup) to read, and holds it: checkpoints stay suspended
// until the hold is released, so later applies only append to the WAL.
// The header names the state the file holds. f.applyMu is held.
func (f *FSM) holdFile(what string) (*os.File, snapshot.Header, error) {
	file, err := os.Open(f.path)
	if err != nil {
		return nil, snapshot.Header{}, fmt.Errorf("fsm: %s: %w", what, err)
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, snapshot.Header{}, fmt.Errorf("fsm: %s: %w", what, err)
	}
	f.holds.Add(1)
	f.syncAutoCheckpoint()
	f.stateMu.Lock()
	h := snapshot.Header{Index: f.index, Term: f.term, Meta: f.encodeMeta(), Size: st.Size()}
	f.stateMu.Unlock()
	return file, h, nil
}

// checkpointBusyMillis bounds how long Snapshot waits, holding applies,
// for readers of older data before it gives up (Raft tries again later).
const checkpointBusyMillis = 200

// checkpoint copies the whole WAL into the database file.
func (f *FSM) checkpoint() error {
	w := f.w
	// A checkpoint that restarts the WAL draws a new salt (see prngMu).
	// It waits only briefly for readers of older data, holding applies;
	// Raft tries again later.
	prngMu.Lock()
	sqlite3.Xsqlite3_busy_timeout(w.tls, w.db, checkpointBusyMillis)
	rc := sqlite3.Xsqlite3_wal_checkpoint_v2(w.tls, w.db, 0, sqlite3.SQLITE_CHECKPOINT_TRUNCATE, w.out, w.out+8)
	sqlite3.Xsqlite3_busy_timeout(w.tls, w.db, busyTimeoutMillis)
	nLog, nCkpt := *(*int32)(cptr(w.out)), *(*int32)(cptr(w.out + 8))
	prngMu.Unlock()
	if rc == sqlite3.SQLITE_OK {
		return nil
	}
	err := w.errorf(rc)
	if rc&0xff != sqlite3.SQLITE_BUSY && rc&0xff != sqlite3.SQLITE_LOCKED {
		return f.fail(fmt.Errorf("checkpoint: %w", err))
	}
	if nLog > 0 && nLog == nCkpt {
		// Every frame is in the file, but readers kept the WAL from
		// starting over: it starts over now, not inside a statement
		// (see wal.go).
		if rerr := restartWAL(w); rerr != nil {
			return f.fail(fmt.Errorf("checkpoint: %w", rerr))
		}
	}
	return fmt.Errorf("fsm: snapshot: checkpoint incomplete, readers busy: %w", err)
}

type fsmSnapshot struct {
	f    *FSM
	file *os.File
	h    snapshot.Header
	done bool
}

// Persist streams the database file, as it was when the snapshot was
// taken, to sink.
func (s *fsmSnapshot) Persist(sink hraft.SnapshotSink) error {
	var body io.Reader = io.NewSectionReader(s.file, 0, s.h.Size)
	if s.f.snapRate > 0 {
		body = &pacedReader{r: body, rate: s.f.snapRate, start: time.Now()}
	}
	err := snapshot.Write(sink, s.h, body)
	if err != nil {
		sink.Cancel()
		return fmt.Errorf("fsm: persisting snapshot: %w", err)
	}
	return sink.Close()
}

// Release lets checkpoints resume. What the WAL gathered while the file
// was copied is checkpointed first, here, on a connection of its own:
// hashicorp/raft releases a snapshot on its snapshot goroutine, so applies
// go on meanwhile, and the first commit after a long copy does not have to
// copy the backlog on the apply path (SQLite's automatic checkpoint, turned
// back on once no snapshot is held, would).
func (s *fsmSnapshot) Release() {
	if s.done {
		return
	}
	s.done = true
	s.file.Close()
	s.f.catchUp()
	s.f.holds.Add(-1)
}

// catchUp checkpoints the WAL as far as readers allow, without blocking
// applies (PASSIVE). It holds swapMu for reading, so that Restore and Close
// wait for it.
func (f *FSM) catchUp() {
	f.swapMu.RLock()
	defer f.swapMu.RUnlock()
	if f.stopped() != nil {
		return
	}
	start := time.Now()
	c, err := openConn(f.path, "", false)
	if err != nil {
		f.log.Warn("checkpoint after a snapshot", logKeyErr, err)
		return
	}
	defer c.close()
	// A connection learns that the database is in WAL mode when it first
	// reads it; until then a checkpoint does nothing.
	if _, err := c.query1("SELECT count(*) FROM sqlite_schema"); err != nil {
		f.log.Warn("checkpoint after a snapshot", logKeyErr, err)
		return
	}
	rc := sqlite3.Xsqlite3_wal_checkpoint_v2(c.tls, c.db, 0, sqlite3.SQLITE_CHECKPOINT_PASSIVE, c.out, c.out+8)
	nLog, frames := *(*int32)(cptr(c.out)), *(*int32)(cptr(c.out + 8))
	if nLog > 0 && nLog == frames {
		// The write connection would start this WAL over at its next
		// frame, perhaps in the middle of a statement, drawing a salt
		// there on this node only: it does so before its next statement.
		f.walRestartDue.Store(true)
	}
	if rc != sqlite3.SQLITE_OK {
		f.log.Warn("checkpoint after a snapshot", logKeyErr, c.errorf(rc))
		return
	}
	f.log.Debug("checkpointed the WAL after a snapshot", "frames", frames, "took", time.Since(start))
}

// Restore replaces the state with the snapshot in rc. The snapshot is
// streamed into a temporary file next to the database and checked before
// anything changes: a corrupt or truncated snapshot fails and leaves the
// old state in place. Reads wait only while the files are swapped.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	f.applyMu.Lock()
	defer f.applyMu.Unlock()
	if err := f.stopped(); err != nil {
		return err
	}
	if err := f.discardSpec(); err != nil {
		return err
	}
	f.spec = nil
	f.restores.Add(1)
	tmp, h, err := f.receive(rc)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	lastTime, entries, err := decodeMeta(h.Meta)
	if err != nil {
		return err
	}

	// A restore staged before the snapshot's index is not in it.
	if err := f.discardStaging(); err != nil {
		return f.fail(fmt.Errorf("restore: %w", err))
	}
	if err := f.swapIn(tmp, h.Index, h.Term, lastTime, entries); err != nil {
		return err
	}
	f.forgetOutcomesTo(h.Index)
	f.log.Info("restored snapshot", logKeyIndex, h.Index, "size", h.Size)
	return nil
}

// receive streams a snapshot into a temporary file and verifies it.
func (f *FSM) receive(r io.Reader) (string, snapshot.Header, error) {
	sr, err := snapshot.NewReader(r)
	if err != nil {
		return "", snapshot.Header{}, fmt.Errorf("fsm: restore: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), filepath.Base(f.path)+".restore-*")
	if err != nil {
		return "", snapshot.Header{}, fmt.Errorf("fsm: restore: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, sr); err != nil {
		return "", snapshot.Header{}, fmt.Errorf("fsm: restore: %w", err)
	}
	if sr.Header.Size > 0 {
		head := make([]byte, len(sqliteMagic))
		if _, err := tmp.ReadAt(head, 0); err != nil || !bytes.Equal(head, sqliteMagic) {
			return "", snapshot.Header{}, errors.New("fsm: restore: snapshot body is not a SQLite database")
		}
	}
	if err := tmp.Sync(); err != nil {
		return "", snapshot.Header{}, fmt.Errorf("fsm: restore: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", snapshot.Header{}, fmt.Errorf("fsm: restore: %w", err)
	}
	ok = true
	return tmp.Name(), sr.Header, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// ---- Meta: what a snapshot carries besides the database -----------------

const metaV1 = 1

// encodeMeta encodes the last effective time and the remembered results of
// recent requests, oldest first. The caller holds f.stateMu.
func (f *FSM) encodeMeta() []byte {
	b := []byte{metaV1}
	b = binary.AppendVarint(b, f.lastTime.Load())
	b = binary.AppendUvarint(b, uint64(f.dedup.len()))
	f.dedup.each(func(id command.RequestID, r *command.Result) {
		b = binary.AppendUvarint(b, id.Client)
		b = binary.AppendUvarint(b, id.Seq)
		enc := command.EncodeResult(r)
		b = binary.AppendUvarint(b, uint64(len(enc)))
		b = append(b, enc...)
	})
	return b
}

type metaEntry struct {
	id  command.RequestID
	res *command.Result
}

func decodeMeta(b []byte) (int64, []metaEntry, error) {
	if len(b) == 0 {
		return 0, nil, nil // a snapshot of a plain SQLite file
	}
	bad := func(what string) (int64, []metaEntry, error) {
		return 0, nil, fmt.Errorf("fsm: restore: corrupt snapshot meta: %s", what)
	}
	if b[0] != metaV1 {
		return bad(fmt.Sprintf("unknown version %d", b[0]))
	}
	b = b[1:]
	lastTime, n := binary.Varint(b)
	if n <= 0 {
		return bad("time")
	}
	b = b[n:]
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) {
		return bad("count")
	}
	b = b[n:]
	entries := make([]metaEntry, 0, count)
	for range count {
		var e metaEntry
		var m int
		if e.id.Client, m = binary.Uvarint(b); m <= 0 {
			return bad("client")
		}
		b = b[m:]
		if e.id.Seq, m = binary.Uvarint(b); m <= 0 {
			return bad("seq")
		}
		b = b[m:]
		size, m := binary.Uvarint(b)
		if m <= 0 || size > uint64(len(b)-m) {
			return bad("result length")
		}
		b = b[m:]
		r, err := command.DecodeResult(b[:size])
		if err != nil {
			return bad(err.Error())
		}
		b = b[size:]
		e.res = r
		entries = append(entries, e)
	}
	if len(b) != 0 {
		return bad("trailing bytes")
	}
	return lastTime, entries, nil
}

// pacedReader reads from r at most rate bytes per second on average since
// start, in reads of at most pacedChunk bytes. It paces a snapshot's copy:
// writing a large file as fast as the disk takes it fills the disk's queue
// and the page cache's dirty pages, and the Raft log's fsyncs, which every
// commit waits for, queue behind them (p99 write latency rose more than
// tenfold on a 256 MiB database; see docs/BENCHMARKS.md).
type pacedReader struct {
	r     io.Reader
	rate  int64
	start time.Time
	n     int64
}

const pacedChunk = 256 << 10

func (p *pacedReader) Read(b []byte) (int, error) {
	if len(b) > pacedChunk {
		b = b[:pacedChunk]
	}
	m, err := p.r.Read(b)
	p.n += int64(m)
	due := time.Duration(float64(p.n) / float64(p.rate) * float64(time.Second))
	if d := due - time.Since(p.start); d > 0 {
		time.Sleep(d)
	}
	return m, err
}
