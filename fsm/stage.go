package fsm

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hraft "github.com/hashicorp/raft"
	"github.com/raftsql/raftsql/fsm/command"
)

// A restore staged out of band (see "# Restores" in doc.go): the file is
// copied into every node's staging file before one small install entry
// (command.RestoreInstall) commits it. The staging file of restore ID is
// the database's name with ".restore-ID.partial" while it is written and
// ".restore-ID.staged" once it is whole, checked against the size and
// CRC-32C its leader announced, and fsynced; a staged file survives a
// restart, a partial one does not. Applying the install entry renames the
// staged file into place. A node that applies it without the file (it was
// down, restarted while copying, or wiped) fetches it from a node that
// still has it staged, or else the state of a node that has installed it
// (a snapshot at or past the entry's index), through its RestoreSource,
// and applies nothing else until it has: it never skips the entry.

// RestoreSource finds on other nodes what an install entry needs when this
// node lacks it. The state machine knows nothing of who they are or how
// they are reached.
type RestoreSource interface {
	// OpenRestore returns the file of restore id, size bytes, as a node
	// that holds it staged has it.
	OpenRestore(ctx context.Context, id uint64, size int64) (io.ReadCloser, error)
	// OpenState returns a snapshot (as Persist writes it) of a node's
	// state at index minIndex or later.
	OpenState(ctx context.Context, minIndex uint64) (io.ReadCloser, error)
}

// oobStaging is the restores staged out of band.
type oobStaging struct {
	mu sync.Mutex
	// busy holds, for each restore being written, a channel closed once
	// its writer is done.
	busy map[uint64]chan struct{}
	// source and ctx are what the apply path fetches with, and how long.
	source RestoreSource
	ctx    context.Context
	// files and states count the restores this node fetched to apply
	// an install entry: the file, or another node's state in its place.
	files, states atomic.Uint64
	// outcomes holds what became of the latest restores applied here
	// (restoreOutcomes of them): installed at an index, or aborted.
	// outcomesFrom is the index after which they are complete: every
	// install or abort entry applied here past it is among them (the
	// state Open started from, a snapshot restored or a state fetched
	// carries none, and the oldest fall out).
	outcomes     []restoreOutcome
	outcomesFrom uint64
	// outcomeSeq numbers the outcomes noted, for StageRestore to tell an
	// abort applied while it copied from one applied before.
	outcomeSeq uint64
}

// restoreOutcome is what became of a restore out of band: installed at
// index, or aborted (index 0) by the entry at at.
type restoreOutcome struct {
	id, index, at, seq uint64
}

// restoreOutcomes is how many outcomes a node keeps, for leaders that lost
// their leadership while installing one, and clients whose answer was
// lost, to learn its fate.
const restoreOutcomes = 256

// noteOutcome records what became of restore id: installed at index, or
// aborted (index 0), by the entry at at.
func (f *FSM) noteOutcome(id, index, at uint64) {
	f.oob.mu.Lock()
	defer f.oob.mu.Unlock()
	f.oob.outcomeSeq++
	f.oob.outcomes = append(f.oob.outcomes, restoreOutcome{id: id, index: index, at: at, seq: f.oob.outcomeSeq})
	if len(f.oob.outcomes) > restoreOutcomes {
		f.oob.outcomesFrom = max(f.oob.outcomesFrom, f.oob.outcomes[0].at)
		f.oob.outcomes = f.oob.outcomes[1:]
	}
}

// forgetOutcomesTo records that the state now holds entries up to index
// that this node did not apply: the outcomes of restores up to it are not
// known here.
func (f *FSM) forgetOutcomesTo(index uint64) {
	f.oob.mu.Lock()
	f.oob.outcomesFrom = max(f.oob.outcomesFrom, index)
	f.oob.mu.Unlock()
}

// RestoreOutcome reports what this node applied of restore id since Open:
// decided is false when it applied neither its install entry nor its
// abort entry; else installed says which, and index is the install's.
func (f *FSM) RestoreOutcome(id uint64) (index uint64, installed, decided bool) {
	f.oob.mu.Lock()
	defer f.oob.mu.Unlock()
	// An install is final: an abort of the same id after it changed
	// nothing.
	for _, o := range f.oob.outcomes {
		if o.id == id {
			decided = true
			if o.index != 0 {
				return o.index, true, true
			}
		}
	}
	return 0, false, decided
}

// RestoreInstalls counts the install entries of restore id among the
// outcomes this node remembers.
func (f *FSM) RestoreInstalls(id uint64) int {
	f.oob.mu.Lock()
	defer f.oob.mu.Unlock()
	k := 0
	for _, o := range f.oob.outcomes {
		if o.id == id && o.index != 0 {
			k++
		}
	}
	return k
}

// OutcomesFrom returns the index after which RestoreOutcome knows every
// restore this node applied: an install or abort entry at a higher index
// that this node applied is reported; one at or below it may not be.
func (f *FSM) OutcomesFrom() uint64 {
	f.oob.mu.Lock()
	defer f.oob.mu.Unlock()
	return f.oob.outcomesFrom
}

// Fetched returns how many install entries this node applied with a file
// it fetched, and how many with another node's state fetched in place of
// the file, since Open.
func (f *FSM) Fetched() (files, states uint64) { return f.oob.files.Load(), f.oob.states.Load() }

// fetchBackoff bounds the wait between two attempts to fetch what an
// install entry needs.
const fetchBackoff = 10 * time.Second

// SetRestoreSource sets where an install entry's file is fetched from when
// this node lacks it, until ctx ends (then such an entry stops the node);
// until one is set, such an entry waits.
func (f *FSM) SetRestoreSource(ctx context.Context, s RestoreSource) {
	f.oob.mu.Lock()
	f.oob.source, f.oob.ctx = s, ctx
	f.oob.mu.Unlock()
}

// StagedPath is the path of the staged file of restore id.
func (f *FSM) StagedPath(id uint64) string { return f.stagedPath(id) }

func (f *FSM) stagedPath(id uint64) string { return fmt.Sprintf("%s.restore-%016x.staged", f.path, id) }
func (f *FSM) partialPath(id uint64) string {
	return fmt.Sprintf("%s.restore-%016x.partial", f.path, id)
}

// StageRestore writes the file of restore id, size bytes read from r, into
// its staging file, checks it against size and crc (CRC-32C), fsyncs it and
// keeps it until an install or abort entry of id, or the staging of another
// restore, removes it. A restore already staged is not written again; one
// being written by another call is waited for.
func (f *FSM) StageRestore(ctx context.Context, id uint64, size int64, crc uint32, r io.Reader) error {
	done, err := f.beginStage(ctx, id, size)
	if err != nil || done == nil {
		return err
	}
	defer f.endStage(id, done)
	part := f.partialPath(id)
	file, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("fsm: staging restore %x: %w", id, err)
	}
	ok := false
	defer func() {
		if !ok {
			file.Close()
			os.Remove(part)
		}
	}()
	f.oob.mu.Lock()
	seq := f.oob.outcomeSeq
	f.oob.mu.Unlock()
	h := crc32.New(castagnoli)
	n, err := io.CopyBuffer(io.MultiWriter(file, h), io.LimitReader(r, size+1), make([]byte, stageWrite))
	if err != nil {
		return fmt.Errorf("fsm: staging restore %x: %w", id, err)
	}
	if n != size || h.Sum32() != crc {
		return fmt.Errorf("fsm: staging restore %x: received %d bytes with checksum %08x, want %d bytes with checksum %08x", id, n, h.Sum32(), size, crc)
	}
	if err := file.Sync(); err != nil {
		return fmt.Errorf("fsm: staging restore %x: %w", id, err)
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("fsm: staging restore %x: %w", id, err)
	}
	// An abort of id applied while it was copied removed nothing of it:
	// it is not kept. One applied before (an earlier attempt of the same
	// restore id, given up) does not concern this copy.
	f.oob.mu.Lock()
	aborted := false
	for _, o := range f.oob.outcomes {
		aborted = aborted || (o.id == id && o.index == 0 && o.seq > seq)
	}
	if !aborted {
		err = os.Rename(part, f.stagedPath(id))
	}
	f.oob.mu.Unlock()
	if aborted {
		return fmt.Errorf("fsm: staging restore %x: it was aborted while it was copied", id)
	}
	if err != nil {
		return fmt.Errorf("fsm: staging restore %x: %w", id, err)
	}
	syncDir(filepath.Dir(f.path))
	ok = true
	f.log.Info("staged a restore", "id", fmt.Sprintf("%x", id), "size", size)
	return nil
}

// stageWrite is the size of a staging file's writes.
const stageWrite = 1 << 20

// AdoptRestore makes the file at path, in the database's directory, whole
// and synced, the staged file of restore id, by renaming it.
func (f *FSM) AdoptRestore(ctx context.Context, id uint64, path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("fsm: staging restore %x: %w", id, err)
	}
	done, err := f.beginStage(ctx, id, st.Size())
	if err != nil || done == nil {
		return err
	}
	defer f.endStage(id, done)
	if err := os.Rename(path, f.stagedPath(id)); err != nil {
		return fmt.Errorf("fsm: staging restore %x: %w", id, err)
	}
	syncDir(filepath.Dir(f.path))
	return nil
}

// beginStage claims the staging of id, after removing the files of every
// other restore staged out of band. It returns a nil channel when id is
// staged already.
func (f *FSM) beginStage(ctx context.Context, id uint64, size int64) (chan struct{}, error) {
	for {
		f.oob.mu.Lock()
		if f.oob.busy == nil {
			f.oob.busy = map[uint64]chan struct{}{}
		}
		wait := f.oob.busy[id]
		if wait == nil {
			if st, err := os.Stat(f.stagedPath(id)); err == nil && st.Size() == size {
				f.oob.mu.Unlock()
				return nil, nil
			}
			done := make(chan struct{})
			f.oob.busy[id] = done
			f.oob.mu.Unlock()
			f.removeStagedExcept(id)
			return done, nil
		}
		f.oob.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (f *FSM) endStage(id uint64, done chan struct{}) {
	f.oob.mu.Lock()
	delete(f.oob.busy, id)
	f.oob.mu.Unlock()
	close(done)
}

// waitStaged waits for a staging of id in progress to end, and returns the
// staged file of id if it holds size bytes.
func (f *FSM) waitStaged(ctx context.Context, id uint64, size int64) (string, bool) {
	for {
		f.oob.mu.Lock()
		wait := f.oob.busy[id]
		f.oob.mu.Unlock()
		if wait == nil {
			break
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return "", false
		}
	}
	p := f.stagedPath(id)
	if st, err := os.Stat(p); err == nil && st.Size() == size {
		return p, true
	}
	return "", false
}

// OpenStaged opens the staged file of restore id, for another node to copy.
func (f *FSM) OpenStaged(id uint64) (*os.File, error) {
	file, err := os.Open(f.stagedPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("restore %x is not staged on this node", id)
	}
	return file, err
}

// DropRestore removes the staging file of restore id, if any.
func (f *FSM) DropRestore(id uint64) {
	for _, p := range []string{f.stagedPath(id), f.partialPath(id)} {
		if err := os.Remove(p); err == nil {
			f.log.Info("removed a staged restore", "id", fmt.Sprintf("%x", id))
		}
	}
}

// StagedOutOfBand returns the id of a restore staged out of band and not
// being written, 0 if none.
func (f *FSM) StagedOutOfBand() uint64 {
	ids := f.stagedIDs(".staged")
	f.oob.mu.Lock()
	defer f.oob.mu.Unlock()
	for _, id := range ids {
		if f.oob.busy[id] == nil {
			return id
		}
	}
	return 0
}

// stagedIDs lists the restores with a staging file of the given suffix.
func (f *FSM) stagedIDs(suffix string) []uint64 {
	names, _ := filepath.Glob(f.path + ".restore-*" + suffix)
	var ids []uint64
	for _, name := range names {
		var id uint64
		hex := strings.TrimSuffix(strings.TrimPrefix(name, f.path+".restore-"), suffix)
		if _, err := fmt.Sscanf(hex, "%016x", &id); err == nil && len(hex) == 16 {
			ids = append(ids, id)
		}
	}
	return ids
}

// removeStagedExcept removes the staging files of every restore but keep
// (0: all) that no one is writing.
func (f *FSM) removeStagedExcept(keep uint64) {
	for _, suffix := range []string{".staged", ".partial"} {
		for _, id := range f.stagedIDs(suffix) {
			f.oob.mu.Lock()
			busy := f.oob.busy[id] != nil
			f.oob.mu.Unlock()
			if id != keep && !busy {
				os.Remove(f.path + fmt.Sprintf(".restore-%016x", id) + suffix)
			}
		}
	}
}

// removePartials removes the staging files a restart interrupted.
func (f *FSM) removePartials() {
	for _, id := range f.stagedIDs(".partial") {
		os.Remove(f.partialPath(id))
	}
}

// install applies an install entry: the file staged out of band becomes
// the state at l's index. A node without the file fetches it, or the state
// of a node that installed it, trying again until it succeeds or the
// source's context ends (then the node stops, and applies the entry when
// it starts again). f.applyMu is held; an error is a local failure.
func (f *FSM) install(r *command.Restore, l *hraft.Log) (*command.Result, error) {
	if f.staged != nil {
		// A restore through the log is another one, and will not be
		// committed after this.
		if err := f.discardStaging(); err != nil {
			return nil, err
		}
	}
	id := fmt.Sprintf("%x", r.ID)
	start := time.Now()
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		// The source is set once the node can reach the others.
		f.oob.mu.Lock()
		src, ctx := f.oob.source, f.oob.ctx
		f.oob.mu.Unlock()
		if ctx == nil {
			ctx = context.Background()
		}
		if path, ok := f.waitStaged(ctx, r.ID, r.Size); ok {
			f.restores.Add(1)
			if err := f.swapIn(path, l.Index, l.Term, f.lastTime.Load(), nil); err != nil {
				return nil, err
			}
			f.removeStagedExcept(0)
			f.noteOutcome(r.ID, l.Index, l.Index)
			f.log.Info("restored the database from a file", logKeyIndex, l.Index, "id", id, "size", r.Size)
			return nil, nil
		}
		if src == nil {
			if attempt == 1 {
				f.log.Warn("applying a restore this node does not hold, with nowhere to fetch it from yet", logKeyIndex, l.Index, "id", id)
			}
			time.Sleep(backoff)
			backoff = min(2*backoff, fetchBackoff)
			continue
		}
		if attempt == 1 {
			f.log.Warn("applying a restore this node does not hold: fetching it", logKeyIndex, l.Index, "id", id, "size", r.Size)
		}
		err := f.fetchRestore(ctx, src, r)
		if err == nil {
			f.oob.files.Add(1)
			f.log.Info("fetched a restore", "id", id, "took", time.Since(start))
			continue
		}
		// No node holds the file staged any more: every one that had it
		// installed it. One of them sends its state instead.
		index, serr := f.fetchState(ctx, src, l.Index)
		if serr == nil {
			f.oob.states.Add(1)
			f.noteOutcome(r.ID, l.Index, l.Index)
			f.log.Info("installed another node's state in place of a restore", "id", id, logKeyIndex, l.Index, "state_index", index, "took", time.Since(start))
			return nil, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("restore %s not fetched before the node stopped: %w", id, errors.Join(err, serr))
		}
		f.log.Warn("fetching a restore; trying again", "id", id, "attempt", attempt, "retry_in", backoff, "file", err, "state", serr)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		backoff = min(2*backoff, fetchBackoff)
	}
}

// fetchRestore stages the file of r from another node.
func (f *FSM) fetchRestore(ctx context.Context, src RestoreSource, r *command.Restore) error {
	rc, err := src.OpenRestore(ctx, r.ID, r.Size)
	if err != nil {
		return err
	}
	defer rc.Close()
	return f.StageRestore(ctx, r.ID, r.Size, r.Checksum, rc)
}

// fetchState installs another node's state at minIndex or later, and
// returns its index; the entries up to it are then skipped as held.
func (f *FSM) fetchState(ctx context.Context, src RestoreSource, minIndex uint64) (uint64, error) {
	rc, err := src.OpenState(ctx, minIndex)
	if err != nil {
		return 0, err
	}
	tmp, h, err := f.receive(rc)
	rc.Close()
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp)
	if h.Index < minIndex {
		return 0, fmt.Errorf("a state at index %d was sent, %d or later was asked", h.Index, minIndex)
	}
	lastTime, entries, err := decodeMeta(h.Meta)
	if err != nil {
		return 0, err
	}
	f.restores.Add(1)
	if err := f.swapIn(tmp, h.Index, h.Term, lastTime, entries); err != nil {
		return 0, err
	}
	f.heldIndex, f.heldTerm = h.Index, h.Term
	f.forgetOutcomesTo(h.Index)
	f.removeStagedExcept(0)
	return h.Index, nil
}
