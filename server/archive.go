package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/raftsql/raftsql/fsm"
	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/raft"
	"github.com/raftsql/raftsql/snapshot"
	"github.com/raftsql/raftsql/snapshot/archive"
)

// The continuous archive (Config.ArchiveDir). The leader keeps in the
// archive a base snapshot, a plain SQLite file of the state at an index,
// and every committed command entry after it, read from its own log store
// once applied and written in segments of at most archiveSegmentBytes,
// each stored (fsynced) at most archiveFlushEvery after its first entry.
// It takes a new base whenever its node took a Raft snapshot since the
// last base, and keeps the newest Config.ArchiveRetain bases and what they
// need. A new leader continues from the last index the archive holds; if
// its log no longer has the entries after it (a snapshot compacted them, a
// restore replaced them) or an entry cannot be replayed from the archive,
// it records a gap and starts a new base.
const (
	archiveSegmentBytes = 4 << 20
	archiveFlushEvery   = time.Second
	// archiveReadBatch is how many entries one read of the log returns.
	archiveReadBatch = 512
	// archiveRetryEvery is the pause after a failure to archive before
	// the leader tries again.
	archiveRetryEvery = 2 * time.Second
)

// ArchiveStatus describes this node's archiving.
type ArchiveStatus struct {
	// Active is true while this node (the leader) archives.
	Active bool `json:"active"`
	// Index is the last index archived (stored in a segment or a base).
	Index uint64 `json:"index"`
	// BaseIndex is the index of the newest base.
	BaseIndex uint64 `json:"base_index"`
	// Err is the last failure to archive, "" once archiving works again.
	Err string `json:"error,omitempty"`
}

type archiver struct {
	n     *Node
	store archive.Store

	mu     sync.Mutex
	status ArchiveStatus

	// While leading: the last index whose state the archive can rebuild
	// (in a stored segment or base), the newest base, and the segment
	// being gathered.
	last     uint64
	base     uint64
	seg      *archive.SegmentBuilder
	segSince time.Time
	manifest archive.Manifest
}

// ArchiveStatus reports this node's archiving; the zero value without
// Config.ArchiveDir.
func (n *Node) ArchiveStatus() ArchiveStatus {
	if n.archiver == nil {
		return ArchiveStatus{}
	}
	n.archiver.mu.Lock()
	defer n.archiver.mu.Unlock()
	return n.archiver.status
}

func (n *Node) startArchiver() error {
	if n.cfg.ArchiveDir == "" {
		return nil
	}
	store, err := archive.NewDirStore(n.cfg.ArchiveDir)
	if err != nil {
		return err
	}
	n.archiver = &archiver{n: n, store: store}
	n.goServe(n.archiver.run)
	return nil
}

func (a *archiver) setStatus(f func(*ArchiveStatus)) {
	a.mu.Lock()
	f(&a.status)
	a.mu.Unlock()
}

// run archives while this node leads, until it closes.
func (a *archiver) run() {
	ctx := a.n.ctx
	for ctx.Err() == nil {
		if !a.n.raft.IsLeader() {
			a.setStatus(func(s *ArchiveStatus) { s.Active = false })
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		err := a.lead(ctx)
		a.flushOnLeave()
		if err != nil && ctx.Err() == nil {
			a.n.log.Warn("archiving failed; trying again", "err", err, "dir", a.n.cfg.ArchiveDir)
			a.setStatus(func(s *ArchiveStatus) { s.Err = err.Error(); s.Active = false })
			select {
			case <-ctx.Done():
			case <-time.After(archiveRetryEvery):
			}
		}
	}
}

// flushOnLeave stores what was gathered when leadership or the node ends:
// those entries are committed, and a successor reads its own log only from
// what is stored.
func (a *archiver) flushOnLeave() {
	if a.seg == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.flush(ctx); err != nil {
		a.n.log.Warn("archive: storing the last segment", "err", err)
	}
	a.seg = nil
}

// lead archives until this node stops leading; it returns an error when
// storing or reading fails.
func (a *archiver) lead(ctx context.Context) error {
	m, err := archive.Init(ctx, a.store, archiveSegmentBytes)
	if err != nil {
		return err
	}
	a.manifest = m
	cat, err := archive.Load(ctx, a.store)
	if err != nil {
		return err
	}
	a.last = cat.ResumeIndex()
	a.base = 0
	if !cat.Empty() {
		a.base = cat.Bases[len(cat.Bases)-1].Index
	}
	a.seg = archive.NewSegmentBuilder(a.last + 1)
	a.segSince = time.Time{}
	if cat.Empty() {
		// The archive starts at this base, of the state as of what this
		// leader has committed. A leader that has just taken office may
		// not have applied the entries of earlier terms yet (on a new
		// cluster, none at all): a base taken then would be of index 0,
		// which is no base, and the archive would have none until the
		// next snapshot.
		if err := a.waitCaughtUp(ctx); err != nil {
			return err
		}
		if err := a.takeBase(ctx, nil, true); err != nil {
			return err
		}
	}
	a.n.log.Info("archiving", "dir", a.n.cfg.ArchiveDir, "from", a.last+1)
	a.setStatus(func(s *ArchiveStatus) { s.Active, s.Err, s.Index, s.BaseIndex = true, "", a.last, a.base })
	for a.n.raft.IsLeader() {
		if err := ctx.Err(); err != nil {
			return nil
		}
		next := a.seg.Last() + 1
		entries, err := a.n.raft.ReadLog(next, archiveReadBatch, archiveSegmentBytes)
		if errors.Is(err, raft.ErrLogCompacted) {
			if err := a.flush(ctx); err != nil {
				return err
			}
			if err := a.takeBase(ctx, &archive.Gap{From: next, Reason: fmt.Sprintf("the leader's log no longer held entry %d (compacted by a snapshot, or replaced by a restore): %v", next, err)}, true); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !e.Command || stagesRestore(e.Data) {
				a.seg.Skip(e.Index)
				continue
			}
			t, why := entryTime(e.Data)
			if why != "" {
				// The archive cannot replay it: the state after it is
				// only in a new base.
				if err := a.flush(ctx); err != nil {
					return err
				}
				if err := a.takeBase(ctx, &archive.Gap{From: e.Index, Reason: fmt.Sprintf("entry %d cannot be replayed from the archive: %s", e.Index, why)}, true); err != nil {
					return err
				}
				break
			}
			if a.segSince.IsZero() {
				a.segSince = time.Now()
			}
			if err := a.seg.Add(archive.Record{Index: e.Index, Term: e.Term, TimeUnixNano: t, Data: e.Data}); err != nil {
				return err
			}
			if a.seg.Size() >= archiveSegmentBytes {
				if err := a.flush(ctx); err != nil {
					return err
				}
			}
		}
		if a.seg.Last() >= a.seg.First() && !a.segSince.IsZero() && time.Since(a.segSince) >= archiveFlushEvery {
			if err := a.flush(ctx); err != nil {
				return err
			}
		}
		if snap, ok := a.n.raft.LastSnapshot(); ok && snap.Index > a.base {
			// A base for each snapshot: rebuilds start closer to their
			// target, and retention can let old segments go.
			if err := a.flush(ctx); err != nil {
				return err
			}
			if err := a.takeBase(ctx, nil, false); err != nil {
				return err
			}
		}
		if len(entries) == 0 {
			wait := 100 * time.Millisecond
			if !a.segSince.IsZero() {
				wait = min(wait, max(time.Until(a.segSince.Add(archiveFlushEvery)), time.Millisecond))
			}
			wctx, cancel := context.WithTimeout(ctx, wait)
			a.n.raft.WaitApplied(wctx, next)
			cancel()
		}
	}
	return nil
}

// waitCaughtUp waits until this node, the leader, has applied every entry
// committed before it took office.
func (a *archiver) waitCaughtUp(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, a.n.cfg.ReadTimeout)
	defer cancel()
	index, err := a.n.raft.ReadIndex(ctx)
	if err == nil {
		err = a.n.raft.WaitApplied(ctx, index)
	}
	if err != nil {
		return fmt.Errorf("archive: catching up before the first base: %w", err)
	}
	return nil
}

// entryTime is the leader's time stamp of a command entry, the latest of
// its commands', or why the archive cannot replay it.
func entryTime(data []byte) (int64, string) {
	if command.IsRestore(data) {
		return 0, "it installs a restored file, which the archive does not hold"
	}
	cmds, err := command.DecodeEntry(data)
	if err != nil {
		return 0, err.Error()
	}
	var t int64
	for _, c := range cmds {
		switch c.Kind {
		case command.KindExecute, command.KindQuery, command.KindNoop:
		default:
			return 0, fmt.Sprintf("a command of kind %s", c.Kind)
		}
		t = max(t, c.TimeUnixNano)
	}
	return t, ""
}

// stagesRestore reports whether data is a restore entry that changes no
// table (a begin, a chunk, an abort): only a restore's commit, or the
// install of a file staged out of band, changes the state, and the
// archive takes a new base after it.
func stagesRestore(data []byte) bool {
	if !command.IsRestore(data) {
		return false
	}
	r, err := command.DecodeRestore(data)
	return err == nil && r.Op != command.RestoreCommit && r.Op != command.RestoreInstall
}

// flush stores the segment gathered so far, if it covers any index.
func (a *archiver) flush(ctx context.Context) error {
	if a.seg.Last() < a.seg.First() {
		return nil
	}
	if _, err := archive.WriteSegment(ctx, a.store, a.seg); err != nil {
		return err
	}
	a.last = a.seg.Last()
	a.manifest.Updated = time.Now().UTC()
	a.manifest.LastIndex = a.last
	if t := a.seg.LastTime(); t != 0 {
		a.manifest.LastTimeUnixNano = t
	}
	if err := archive.WriteManifest(ctx, a.store, a.manifest); err != nil {
		return err
	}
	a.seg = archive.NewSegmentBuilder(a.last + 1)
	a.segSince = time.Time{}
	a.setStatus(func(s *ArchiveStatus) { s.Index = a.last })
	return nil
}

// takeBase stores a base of the current state. With resume, the archive
// goes on after the base (with gap, the states from gap.From up to the
// base cannot be rebuilt); without, the segments go on from where they
// were, and the base is one more place to start from.
func (a *archiver) takeBase(ctx context.Context, gap *archive.Gap, resume bool) error {
	bf, err := a.n.fsm.BackupFile(ctx)
	if err != nil {
		return fmt.Errorf("archive: base: %w", err)
	}
	defer bf.Close()
	// Read after the copy was made, so at least the time of every entry
	// it holds: a rebuild to a time picks a base only if it is older. Not
	// before now: the archive knows nothing of the states before it
	// started (a base holding no stamped entry yet has time 0).
	t := max(a.n.fsm.LastTime(), time.Now().UnixNano())
	h := bf.Header
	if h.Index > a.base {
		b, err := archive.WriteBase(ctx, a.store, archive.Base{Index: h.Index, Term: h.Term, TimeUnixNano: t, Size: h.Size, Meta: h.Meta}, bf.Reader(), a.n.cfg.ID)
		if err != nil {
			return fmt.Errorf("archive: base: %w", err)
		}
		a.base = b.Index
		a.n.log.Info("archive: stored a base", "index", b.Index, "size", b.Size)
	}
	if gap != nil && h.Index >= gap.From {
		gap.Base, gap.Recorded = h.Index, time.Now().UTC()
		if err := archive.WriteGap(ctx, a.store, *gap); err != nil {
			return err
		}
		a.n.log.Warn("archive: recorded a gap", "from", gap.From, "base", gap.Base, "reason", gap.Reason)
	}
	if resume && h.Index > a.last {
		a.last = h.Index
		a.seg = archive.NewSegmentBuilder(a.last + 1)
		a.segSince = time.Time{}
	}
	a.setStatus(func(s *ArchiveStatus) { s.Index, s.BaseIndex = a.last, a.base })
	return a.retain(ctx)
}

func (a *archiver) retain(ctx context.Context) error {
	keep := a.n.cfg.ArchiveRetain
	if keep < 1 {
		return nil
	}
	cat, err := archive.Load(ctx, a.store)
	if err != nil {
		return err
	}
	_, err = archive.Retain(ctx, a.store, cat, keep)
	return err
}

// ---- Rebuilding from an archive ----------------------------------------------

// ArchiveTarget is the state a rebuild reaches: as of Index (inclusive),
// or, when Index is 0, as of the last entry whose leader time stamp is not
// after Time (replay stops before the first entry stamped after it).
type ArchiveTarget struct {
	Index uint64
	Time  time.Time
}

// RebuildInfo describes a rebuilt database.
type RebuildInfo struct {
	// Index is the index whose state the file holds; Time the leader's
	// time stamp of the last entry applied (of the base's newest entry
	// when none was).
	Index uint64
	Time  time.Time
	// BaseIndex is the base it started from, Entries how many entries it
	// applied after it.
	BaseIndex uint64
	Entries   int
	DBSize    int64
}

// RebuildProgress reports a rebuild: Stage is "base" while the base is
// read (Done and Total in bytes), then "replay" (Done the index reached,
// Total the target's, 0 for a time), and "done" once the file is written.
type RebuildProgress struct {
	Stage       string
	Done, Total int64
}

// RebuildFromArchive rebuilds the database as of target from the archive in
// dir and writes it, a plain SQLite file, to out (replaced only once whole
// and fsynced). It restores the newest base at or before the target into a
// state machine of its own in a temporary directory and applies the
// archived entries after it with the state machine's own apply, so the file
// holds exactly what the nodes held at that index. A target outside the
// archive's range fails with an error matching archive.ErrOutOfRange; a
// damaged object with archive.ErrCorrupt.
func RebuildFromArchive(ctx context.Context, dir string, target ArchiveTarget, out string, progress func(RebuildProgress)) (RebuildInfo, error) {
	if progress == nil {
		progress = func(RebuildProgress) {}
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return RebuildInfo{}, fmt.Errorf("archive %s: not a directory", dir)
	}
	store := &archive.DirStore{Dir: dir}
	cat, err := archive.Load(ctx, store)
	if err != nil {
		return RebuildInfo{}, err
	}
	var plan archive.Plan
	if target.Index > 0 {
		plan, err = cat.PlanIndex(target.Index)
	} else {
		plan, err = cat.PlanTime(target.Time.UnixNano())
	}
	if err != nil {
		return RebuildInfo{}, err
	}

	tmpDir, err := os.MkdirTemp(filepath.Dir(out), ".rebuild-*")
	if err != nil {
		return RebuildInfo{}, err
	}
	defer os.RemoveAll(tmpDir)
	// The functions the cluster's statements call, so that the entries
	// replay as they were applied.
	funcs, connInit := catalogSetup()
	funcs = append(funcs, sequenceFuncs()...)
	f, err := fsm.Open(fsm.Config{Path: filepath.Join(tmpDir, "db.sqlite"), ReadConns: 1, Funcs: funcs, ConnInit: connInit})
	if err != nil {
		return RebuildInfo{}, err
	}
	defer f.Close()
	if err := restoreBase(ctx, store, plan.Base, f, progress); err != nil {
		return RebuildInfo{}, err
	}

	info := RebuildInfo{Index: plan.Base.Index, Time: time.Unix(0, plan.Base.TimeUnixNano), BaseIndex: plan.Base.Index}
	var batch []raft.LogEntry
	var batchTime int64
	apply := func() error {
		if len(batch) == 0 {
			return nil
		}
		for i, resp := range raft.ApplyEntries(f, batch) {
			if err, ok := resp.(error); ok {
				return fmt.Errorf("applying entry %d: %w", batch[i].Index, err)
			}
		}
		info.Entries += len(batch)
		info.Index = batch[len(batch)-1].Index
		info.Time = time.Unix(0, batchTime)
		progress(RebuildProgress{Stage: "replay", Done: int64(info.Index), Total: int64(target.Index)})
		batch = batch[:0]
		return ctx.Err()
	}
	stoppedByTime := false
	reached, err := archive.Replay(ctx, store, plan, func(r archive.Record) (bool, error) {
		if target.Index > 0 && r.Index > target.Index {
			return false, nil
		}
		if target.Index == 0 && r.TimeUnixNano > target.Time.UnixNano() {
			stoppedByTime = true
			return false, nil
		}
		batch = append(batch, raft.LogEntry{Index: r.Index, Term: r.Term, Command: true, Data: r.Data})
		batchTime = r.TimeUnixNano
		if len(batch) >= 256 {
			return true, apply()
		}
		return true, nil
	})
	if err != nil {
		return RebuildInfo{}, err
	}
	if err := apply(); err != nil {
		return RebuildInfo{}, err
	}
	switch {
	case target.Index > 0:
		if reached < target.Index && info.Index < target.Index {
			return RebuildInfo{}, fmt.Errorf("%w: the archive reaches index %d, not %d", archive.ErrOutOfRange, reached, target.Index)
		}
		info.Index = target.Index // the entries up to it with nothing to replay change nothing
	case !stoppedByTime && reached < cat.LastIndex():
		return RebuildInfo{}, fmt.Errorf("%w: %s: the archive holds no entries after index %d up to its base of index %d (a gap), and no entry before the gap is stamped after that time",
			archive.ErrOutOfRange, target.Time.UTC().Format(time.RFC3339Nano), reached, nextBase(cat, reached))
	case !stoppedByTime:
		return RebuildInfo{}, fmt.Errorf("%w: %s is after the last archived entry (index %d, %s): the archive may not hold everything up to then yet; rebuild to --to-index %d for the newest state it has",
			archive.ErrOutOfRange, target.Time.UTC().Format(time.RFC3339Nano), reached, info.Time.UTC().Format(time.RFC3339Nano), reached)
	}
	size, err := writeRebuilt(ctx, f, out)
	if err != nil {
		return RebuildInfo{}, err
	}
	info.DBSize = size
	progress(RebuildProgress{Stage: "done", Done: int64(info.Index)})
	return info, nil
}

// nextBase is the index of the first base after index, 0 without one.
func nextBase(cat *archive.Catalog, index uint64) uint64 {
	for _, b := range cat.Bases {
		if b.Index > index {
			return b.Index
		}
	}
	return 0
}

// restoreBase installs base into f, as a snapshot of the state machine's
// own format, so that its remembered request results and last time are
// those the nodes had.
func restoreBase(ctx context.Context, store archive.Store, base archive.Base, f *fsm.FSM, progress func(RebuildProgress)) error {
	body, err := archive.OpenBase(ctx, store, base)
	if err != nil {
		return err
	}
	defer body.Close()
	pr, pw := io.Pipe()
	go func() {
		h := snapshot.Header{Index: base.Index, Term: base.Term, Meta: base.Meta, Size: base.Size}
		pw.CloseWithError(snapshot.Write(pw, h, &baseProgress{r: body, total: base.Size, progress: progress}))
	}()
	if err := f.Restore(pr); err != nil {
		pr.CloseWithError(err)
		return fmt.Errorf("base of index %d: %w", base.Index, err)
	}
	return nil
}

type baseProgress struct {
	r        io.Reader
	done     int64
	total    int64
	progress func(RebuildProgress)
}

func (b *baseProgress) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.done += int64(n)
	b.progress(RebuildProgress{Stage: "base", Done: b.done, Total: b.total})
	return n, err
}

// writeRebuilt writes the state machine's database to out, whole or not
// at all.
func writeRebuilt(ctx context.Context, f *fsm.FSM, out string) (int64, error) {
	bf, err := f.BackupFile(ctx)
	if err != nil {
		return 0, err
	}
	defer bf.Close()
	tmp, err := os.CreateTemp(filepath.Dir(out), ".rebuilt-*.db")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	size, err := io.Copy(tmp, bf.Reader())
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Close()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), out)
	}
	if err != nil {
		return 0, fmt.Errorf("writing %s: %w", out, err)
	}
	return size, nil
}
