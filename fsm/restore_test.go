package fsm

import (
	"bytes"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	hraft "github.com/hashicorp/raft"
	"github.com/raftsql/raftsql/fsm/command"
)

// restoreLogs returns the restore entries of the file at path, as a leader
// proposes them, at indexes from first on.
func restoreLogs(t testing.TB, path string, id, first uint64, chunk int) []*hraft.Log {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var logs []*hraft.Log
	add := func(r *command.Restore) {
		logs = append(logs, &hraft.Log{Index: first + uint64(len(logs)), Term: 2, Type: hraft.LogCommand, Data: command.EncodeRestore(r)})
	}
	add(&command.Restore{Op: command.RestoreBegin, ID: id, Size: int64(len(data))})
	for off := 0; off < len(data); off += chunk {
		add(&command.Restore{Op: command.RestoreChunk, ID: id, Offset: int64(off), Data: data[off:min(off+chunk, len(data))]})
	}
	add(&command.Restore{Op: command.RestoreCommit, ID: id, Size: int64(len(data)), Checksum: crc32.Checksum(data, castagnoli)})
	return logs
}

func resultErr(resp any) error {
	switch r := resp.(type) {
	case *command.Result:
		if e := r.Err(); e != nil {
			return e
		}
		return nil
	case error:
		return r
	}
	return nil
}

// sourceDB makes a database with a table t holding what, backed up to a
// plain file.
func sourceDB(t *testing.T, what string) string {
	t.Helper()
	src := openTest(t)
	sa := &applier{f: src}
	sa.mustExec(t, "CREATE TABLE t(v TEXT)", "INSERT INTO t VALUES ('"+what+"')")
	return backupDB(t, src)
}

// A restore applied as entries in one batch with statements: statements
// before the commit change the old state, which the commit replaces;
// statements after it apply to the restored state; the commit's index is
// the state's index; remembered results are dropped, the time is kept.
func TestRestoreThroughEntries(t *testing.T) {
	path := sourceDB(t, "restored")
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE old(x)")
	dupCmd := a.cmd(command.KindExecute, stmts("INSERT INTO old VALUES (1)")...)
	dupCmd.RequestID = command.RequestID{Client: 9, Seq: 1}
	a.applyCmd(t, dupCmd)
	timeBefore := f.LastTime()

	logs := restoreLogs(t, path, 7, a.index+1, 4096)
	a.index += uint64(len(logs))
	// A write between two chunks, and one after the commit.
	mid := a.log(a.cmd(command.KindExecute, stmts("INSERT INTO old VALUES (2)")...))
	batch := append([]*hraft.Log{logs[0], mid}, logs[1:]...)
	// Indexes must increase along the batch.
	for i, l := range batch {
		l.Index = batch[0].Index + uint64(i)
	}
	commit := batch[len(batch)-1].Index
	after := &hraft.Log{Index: commit + 1, Term: 2, Type: hraft.LogCommand, Data: command.Encode(a.cmd(command.KindExecute, stmts("INSERT INTO t VALUES ('after')")...))}
	batch = append(batch, after)
	a.index = after.Index
	for i, resp := range f.ApplyBatch(batch) {
		if err := resultErr(resp); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	if got := dump(t, f); !strings.Contains(got, "restored") || !strings.Contains(got, "after") || strings.Contains(got, "old") {
		t.Fatalf("after the restore the state is\n%s", got)
	}
	if i, term := f.AppliedIndex(); i != after.Index || term != 2 {
		t.Fatalf("applied index %d term %d, want %d", i, term, after.Index)
	}
	if f.LastTime() < timeBefore {
		t.Fatalf("time went backwards across the restore")
	}
	if f.StagedRestore() != 0 {
		t.Fatal("a committed restore is still staged")
	}
	if _, err := os.Stat(f.stagingPath()); !os.IsNotExist(err) {
		t.Fatalf("the staging file is still there: %v", err)
	}
	// The request applied before the restore runs again: its result was
	// about the old data.
	again := *dupCmd
	again.Statements = stmts("CREATE TABLE old(x)")
	if r := a.applyCmd(t, &again); r.Err() != nil {
		t.Fatalf("a retried request was answered from before the restore: %v", r.Err())
	}
}

// An abandoned restore leaves nothing; entries of another restore than the
// one staged are refused alike on every node; a commit whose checksum does
// not match installs nothing; a snapshot waits while a restore is staged.
func TestRestoreAbandonedAndRefused(t *testing.T) {
	path := sourceDB(t, "restored")
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE old(x)")
	want := dump(t, f)
	apply := func(l *hraft.Log) any {
		a.index++
		l.Index = a.index
		return f.Apply(l)
	}

	logs := restoreLogs(t, path, 1, 0, 4096)
	apply(logs[0])
	apply(logs[1])
	if f.StagedRestore() != 1 {
		t.Fatalf("staged %x, want 1", f.StagedRestore())
	}
	if _, err := f.Snapshot(); err == nil || !strings.Contains(err.Error(), "restore is being staged") {
		t.Fatalf("Snapshot while a restore is staged: %v", err)
	}
	if _, err := os.Stat(f.stagingPath()); err != nil {
		t.Fatal(err)
	}
	// Abort of another id changes nothing; of this one, drops it.
	apply(&hraft.Log{Type: hraft.LogCommand, Data: command.EncodeRestore(&command.Restore{Op: command.RestoreAbort, ID: 2})})
	if f.StagedRestore() != 1 {
		t.Fatal("an abort of another restore dropped this one")
	}
	apply(&hraft.Log{Type: hraft.LogCommand, Data: command.EncodeRestore(&command.Restore{Op: command.RestoreAbort, ID: 1})})
	if f.StagedRestore() != 0 {
		t.Fatal("still staged after its abort")
	}
	if _, err := os.Stat(f.stagingPath()); !os.IsNotExist(err) {
		t.Fatalf("the staging file is still there: %v", err)
	}
	for _, l := range logs[2:] {
		if err := resultErr(apply(l)); err == nil || !strings.Contains(err.Error(), "not being staged") {
			t.Fatalf("entry of an aborted restore: %v", err)
		}
	}
	if got := dump(t, f); got != want {
		t.Fatalf("an aborted restore changed the state:\n%s", got)
	}

	// A second begin replaces the first.
	apply(restoreLogs(t, path, 3, 0, 4096)[0])
	second := restoreLogs(t, path, 4, 0, 4096)
	for _, l := range second[:len(second)-1] {
		if err := resultErr(apply(l)); err != nil {
			t.Fatal(err)
		}
	}
	if f.StagedRestore() != 4 {
		t.Fatalf("staged %x, want 4", f.StagedRestore())
	}
	// A commit with another checksum installs nothing and drops it.
	bad := &hraft.Log{Type: hraft.LogCommand, Data: command.EncodeRestore(&command.Restore{Op: command.RestoreCommit, ID: 4, Size: 1, Checksum: 1})}
	if err := resultErr(apply(bad)); err == nil {
		t.Fatal("a commit that does not match what was staged was taken")
	}
	if got := dump(t, f); got != want || f.StagedRestore() != 0 {
		t.Fatalf("a refused commit changed the state (staged %x):\n%s", f.StagedRestore(), got)
	}
	if _, err := f.Snapshot(); err != nil {
		t.Fatalf("Snapshot once nothing is staged: %v", err)
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// A clean Close leaves a record with which the next Open keeps the file,
// its index, its time and its remembered results; entries up to that index
// are skipped when Raft replays them.
func TestCleanRestartKeepsTheFile(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dir: dir, ReadConns: 2, OnFatal: func(err error) { t.Errorf("fatal: %v", err) }}
	f, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(v)", "INSERT INTO t VALUES (1)")
	c := a.cmd(command.KindExecute, stmts("INSERT INTO t VALUES (2)")...)
	c.RequestID = command.RequestID{Client: 5, Seq: 1}
	replayed := a.log(c)
	f.Apply(replayed)
	want, index, lastTime := dump(t, f), a.index, f.LastTime()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	ino := inode(t, f.Path())

	g, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if inode(t, g.Path()) != ino {
		t.Fatal("Open replaced the database file")
	}
	if i, _ := g.HeldIndex(); i != index {
		t.Fatalf("HeldIndex %d, want %d", i, index)
	}
	if _, err := os.Stat(g.statePath()); !os.IsNotExist(err) {
		t.Fatalf("the record is still there once the file is open: %v", err)
	}
	if got := dump(t, g); got != want || g.LastTime() != lastTime {
		t.Fatalf("kept state differs:\n%s\nwant\n%s", got, want)
	}
	// Raft replays the entry: skipped, not applied twice.
	g.Apply(replayed)
	if got := dump(t, g); got != want {
		t.Fatalf("a replayed entry was applied again:\n%s", got)
	}
	// The remembered result survived: a retry is answered, not run.
	retry := *c
	retry.Statements = stmts("INSERT INTO t VALUES (99)")
	b := &applier{f: g, index: index, seq: a.seq}
	b.applyCmd(t, &retry)
	if got := dump(t, g); got != want {
		t.Fatalf("a retried request ran again after the restart:\n%s", got)
	}
}

// Without a record (a crash), or with a file that does not match it, Open
// starts empty.
func TestRestartWithoutCleanRecordStartsEmpty(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, f *FSM)
	}{
		{"no record", func(t *testing.T, f *FSM) { os.Remove(f.statePath()) }},
		{"record damaged", func(t *testing.T, f *FSM) {
			b, _ := os.ReadFile(f.statePath())
			b[len(b)/2] ^= 1
			os.WriteFile(f.statePath(), b, 0o644)
		}},
		{"file changed", func(t *testing.T, f *FSM) {
			file, err := os.OpenFile(f.Path(), os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			file.WriteAt([]byte{0xff}, 200)
			file.Close()
		}},
		{"file gone", func(t *testing.T, f *FSM) { os.Remove(f.Path()) }},
		{"file truncated", func(t *testing.T, f *FSM) { os.Truncate(f.Path(), 4096) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Dir: t.TempDir(), ReadConns: 1}
			f, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			a := &applier{f: f}
			a.mustExec(t, "CREATE TABLE t(v)", "INSERT INTO t VALUES (zeroblob(100000))")
			f.Close()
			tc.damage(t, f)
			g, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			if i, _ := g.HeldIndex(); i != 0 {
				t.Fatalf("HeldIndex %d, want 0", i)
			}
			if got := dump(t, g); strings.Contains(got, "CREATE TABLE") {
				t.Fatalf("the state machine kept a state:\n%s", got)
			}
		})
	}
}

// A state machine closed while a restore is staged (its chunks are only in
// the log) starts over, and leaves no staging file.
func TestCloseWhileStagingStartsOver(t *testing.T) {
	path := sourceDB(t, "x")
	cfg := Config{Dir: t.TempDir(), ReadConns: 1}
	f, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(v)")
	logs := restoreLogs(t, path, 1, a.index+1, 4096)
	f.ApplyBatch(logs[:2])
	f.Close()
	if _, err := os.Stat(filepath.Join(cfg.Dir, DefaultFile+stagingSuffix)); !os.IsNotExist(err) {
		t.Fatalf("staging file left at close: %v", err)
	}
	g, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if i, _ := g.HeldIndex(); i != 0 {
		t.Fatalf("HeldIndex %d after a close while staging, want 0", i)
	}
}

// An entry the kept file holds is skipped when Raft replays it, but its
// bytes are still checked: a log damaged on disk stops the node.
func TestReplayedEntryIsStillChecked(t *testing.T) {
	cfg := Config{Dir: t.TempDir(), ReadConns: 1}
	f, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := &applier{f: f}
	l := a.log(a.cmd(command.KindExecute, stmts("CREATE TABLE t(v)")...))
	f.Apply(l)
	f.Close()
	var stopped error
	cfg.OnFatal = func(err error) { stopped = err }
	g, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	damaged := *l
	damaged.Data = bytes.Clone(l.Data)
	damaged.Data[len(damaged.Data)/2] ^= 1
	if resp := g.Apply(&damaged); stopped == nil || resp == nil {
		t.Fatalf("a damaged replayed entry was accepted: %v", resp)
	}
}
