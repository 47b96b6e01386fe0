package fsm

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	hraft "github.com/hashicorp/raft"
	"github.com/raftsql/raftsql/fsm/command"
)

// A restore through the Raft log (see command.Restore), as a cluster not
// yet upgraded to restores out of band (stage.go) makes it, and as logs of
// older releases hold it: a begin entry, the file in chunks, and a commit
// entry. Every node assembles the file in a staging file next to its
// database as it applies the chunks, and swaps it in when it applies the
// commit entry, so every node installs it
// at the same index; a restore whose commit never comes (its leader was
// lost, its upload cut) is never installed anywhere, and its staging file
// is removed by the next begin, an abort entry, a snapshot restored, or the
// next start.
//
// This replaced hashicorp/raft's user restore, which installed the file on
// the leader at an index past its log before any follower had it: a leader
// killed then came back holding a state the others never got, and with a
// hole in its log that made it refuse the new leader for ever.
//
// While a restore is staged the state machine refuses to snapshot: a
// snapshot would hold the old database but not the staged chunks, and a
// node restored from it would then apply a commit without the file. The
// log keeps the chunks until the snapshot after the commit compacts them.

// stagingSuffix names the staging file: the database's name with it.
const stagingSuffix = ".restore-staging"

// staging is the restore being assembled.
type staging struct {
	id      uint64
	size    int64
	file    *os.File
	written int64
	crc     uint32
}

func (f *FSM) stagingPath() string { return f.path + stagingSuffix }

// StagedRestore returns the id of the restore being staged, 0 if none.
func (f *FSM) StagedRestore() uint64 { return f.stagedID.Load() }

// isRestoreLog reports whether l is a restore entry.
func isRestoreLog(l *hraft.Log) bool { return l.Type == hraft.LogCommand && command.IsRestore(l.Data) }

// applyRestore applies one restore entry and returns its result: a
// *command.Result, whose error tells the proposer that its restore is not
// the one being staged, or an error wrapping ErrStopped after a local
// failure. f.applyMu is held.
func (f *FSM) applyRestore(l *hraft.Log) any {
	r, err := command.DecodeRestore(l.Data)
	if errors.Is(err, command.ErrUnsupported) {
		f.log.Error("unsupported log entry", logKeyIndex, l.Index, logKeyErr, err)
		f.setIndex(l)
		return errorResult(command.CodeRefused, "unsupported log entry: "+err.Error())
	}
	if err != nil {
		return f.fail(fmt.Errorf("log entry %d cannot be applied: %w", l.Index, err))
	}
	res, err := f.stepRestore(r, l)
	if err != nil {
		return f.fail(fmt.Errorf("restore %x, %s at index %d: %w", r.ID, r.Op, l.Index, err))
	}
	if res == nil {
		res = &command.Result{}
	}
	f.stateMu.Lock()
	past := f.index >= l.Index // an install took a later state (fetchState)
	f.stateMu.Unlock()
	if !past {
		f.setIndex(l)
	}
	return res
}

// stepRestore applies r. An error is a local failure.
func (f *FSM) stepRestore(r *command.Restore, l *hraft.Log) (*command.Result, error) {
	s := f.staged
	mine := s != nil && s.id == r.ID
	notStaged := func() *command.Result {
		return errorResult(command.CodeRefused, fmt.Sprintf("restore %x is not being staged (another restore replaced it, or it was abandoned)", r.ID))
	}
	switch r.Op {
	case command.RestoreBegin:
		if err := f.discardStaging(); err != nil {
			return nil, err
		}
		file, err := os.OpenFile(f.stagingPath(), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, err
		}
		f.staged = &staging{id: r.ID, size: r.Size, file: file}
		f.stagedID.Store(r.ID)
		f.log.Info("staging a restore", "id", fmt.Sprintf("%x", r.ID), "size", r.Size, logKeyIndex, l.Index)
		return nil, nil
	case command.RestoreChunk:
		if !mine {
			return notStaged(), nil
		}
		if r.Offset != s.written || s.written+int64(len(r.Data)) > s.size {
			// Not what its leader sends: the restore cannot be whole.
			msg := fmt.Sprintf("restore %x: chunk at %d, %d bytes, does not follow the %d bytes staged of %d", r.ID, r.Offset, len(r.Data), s.written, s.size)
			return errorResult(command.CodeRefused, msg), f.discardStaging()
		}
		if _, err := s.file.WriteAt(r.Data, r.Offset); err != nil {
			return nil, err
		}
		s.written += int64(len(r.Data))
		s.crc = crc32.Update(s.crc, castagnoli, r.Data)
		return nil, nil
	case command.RestoreCommit:
		if !mine {
			return notStaged(), nil
		}
		if s.written != s.size || r.Size != s.size || r.Checksum != s.crc {
			msg := fmt.Sprintf("restore %x: staged %d bytes of %d with checksum %08x; the commit says %d bytes, checksum %08x",
				r.ID, s.written, s.size, s.crc, r.Size, r.Checksum)
			return errorResult(command.CodeRefused, msg), f.discardStaging()
		}
		if err := s.file.Sync(); err != nil {
			return nil, err
		}
		if err := s.file.Close(); err != nil {
			return nil, err
		}
		f.staged = nil
		f.stagedID.Store(0)
		// Every table changes: a transaction that read any conflicts.
		f.restores.Add(1)
		if err := f.swapIn(f.stagingPath(), l.Index, l.Term, f.lastTime.Load(), nil); err != nil {
			return nil, err
		}
		f.noteOutcome(r.ID, l.Index, l.Index)
		f.log.Info("restored the database from a file", logKeyIndex, l.Index, "size", s.size)
		return nil, nil
	case command.RestoreInstall:
		return f.install(r, l)
	case command.RestoreAbort:
		// Noted first: a copy of it that ends after this is not kept.
		f.noteOutcome(r.ID, 0, l.Index)
		f.DropRestore(r.ID)
		if mine {
			f.log.Info("abandoned restore discarded", "id", fmt.Sprintf("%x", r.ID), "staged", s.written, "size", s.size)
			return nil, f.discardStaging()
		}
		return nil, nil
	}
	return notStaged(), nil
}

// discardStaging removes the staging file, if any. f.applyMu is held (or
// the state machine is not yet or no longer applying).
func (f *FSM) discardStaging() error {
	if s := f.staged; s != nil {
		s.file.Close()
		f.staged = nil
		f.stagedID.Store(0)
	}
	if err := os.Remove(f.stagingPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// setIndex records that l, which changed no table, is applied.
func (f *FSM) setIndex(l *hraft.Log) {
	f.stateMu.Lock()
	f.index, f.term = l.Index, l.Term
	f.stateMu.Unlock()
}

// swapIn makes the SQLite file at tmp, complete and synced, the database:
// the state as of index and term, with the given last effective time and
// remembered results. It is how both a snapshot and a restore entry are
// installed. Reads wait only while the files are swapped. f.applyMu is
// held; an error is a local failure.
func (f *FSM) swapIn(tmp string, index, term uint64, lastTime int64, entries []metaEntry) error {
	f.swapMu.Lock()
	defer f.swapMu.Unlock()
	defer f.schemaGen.Add(1)
	// The callers count the restore before the swap; it is counted again
	// after it, so that a read that loaded the count between the two and
	// then took its snapshot of the old file still conflicts (WriteTx's
	// Changed compares the count).
	defer f.restores.Add(1)
	f.closeConns()
	if err := os.Rename(tmp, f.path); err != nil {
		return f.fail(fmt.Errorf("restore: %w", err))
	}
	for _, p := range []string{f.path + "-wal", f.path + "-shm", f.path + "-journal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return f.fail(fmt.Errorf("restore: %w", err))
		}
	}
	syncDir(filepath.Dir(f.path))
	if err := f.openConns(); err != nil {
		return f.fail(fmt.Errorf("restore: reopening: %w", err))
	}
	f.stateMu.Lock()
	f.index, f.term = index, term
	f.lastTime.Store(lastTime)
	f.dedup.init()
	for _, e := range entries {
		f.dedup.put(e.id, e.res)
	}
	f.stateMu.Unlock()
	return nil
}

// castagnoli is the CRC-32C table of restore checksums and state records.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)
