package fsm

import (
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"strings"
	"testing"

	hraft "github.com/hashicorp/raft"
	"github.com/raftsql/raftsql/fsm/command"
)

func installLog(index uint64, id uint64, data []byte) *hraft.Log {
	r := &command.Restore{Op: command.RestoreInstall, ID: id, Size: int64(len(data)), Checksum: crc32.Checksum(data, castagnoli)}
	return &hraft.Log{Index: index, Term: 2, Type: hraft.LogCommand, Data: command.EncodeRestore(r)}
}

// A file staged out of band is installed by its install entry, at its
// index; a copy that does not match its checksum is not staged.
func TestInstallStagedOutOfBand(t *testing.T) {
	data, err := os.ReadFile(sourceDB(t, "restored"))
	if err != nil {
		t.Fatal(err)
	}
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE old(x)")
	ctx := context.Background()
	crc := crc32.Checksum(data, castagnoli)
	if err := f.StageRestore(ctx, 7, int64(len(data)), crc+1, bytes.NewReader(data)); err == nil {
		t.Fatal("a copy with the wrong checksum was staged")
	}
	if _, err := os.Stat(f.stagedPath(7)); !os.IsNotExist(err) {
		t.Fatalf("a refused copy left a staged file: %v", err)
	}
	if err := f.StageRestore(ctx, 7, int64(len(data)), crc, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if id := f.StagedOutOfBand(); id != 7 {
		t.Fatalf("StagedOutOfBand: %d, want 7", id)
	}
	install := installLog(a.index+1, 7, data)
	a.index++
	after := a.log(a.cmd(command.KindExecute, stmts("INSERT INTO t VALUES ('after')")...))
	for i, resp := range f.ApplyBatch([]*hraft.Log{install, after}) {
		if err := resultErr(resp); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	if got := dump(t, f); !strings.Contains(got, "restored") || !strings.Contains(got, "after") || strings.Contains(got, "old") {
		t.Fatalf("after the install the state is\n%s", got)
	}
	if i, _ := f.AppliedIndex(); i != after.Index {
		t.Fatalf("applied index %d, want %d", i, after.Index)
	}
	if id := f.StagedOutOfBand(); id != 0 {
		t.Fatalf("the installed restore %x is still staged", id)
	}
	if files, states := f.Fetched(); files+states != 0 {
		t.Fatalf("fetched %d files and %d states with the file staged", files, states)
	}
}

// fakeSource serves the files of other state machines.
type fakeSource struct {
	staged *FSM   // holds the file staged, if set
	state  []byte // a snapshot, if set
}

func (s fakeSource) OpenRestore(ctx context.Context, id uint64, size int64) (io.ReadCloser, error) {
	if s.staged == nil {
		return nil, errors.New("not staged here")
	}
	return s.staged.OpenStaged(id)
}

func (s fakeSource) OpenState(ctx context.Context, minIndex uint64) (io.ReadCloser, error) {
	if s.state == nil {
		return nil, errors.New("no state here")
	}
	return io.NopCloser(bytes.NewReader(s.state)), nil
}

// A node that applies an install entry without the file fetches it from
// one that holds it staged.
func TestInstallFetchesTheFile(t *testing.T) {
	data, err := os.ReadFile(sourceDB(t, "restored"))
	if err != nil {
		t.Fatal(err)
	}
	holder := openTest(t)
	if err := holder.StageRestore(context.Background(), 9, int64(len(data)), crc32.Checksum(data, castagnoli), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	f := openTest(t)
	f.SetRestoreSource(context.Background(), fakeSource{staged: holder})
	if err := resultErr(f.Apply(installLog(1, 9, data))); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, f); !strings.Contains(got, "restored") {
		t.Fatalf("after the install the state is\n%s", got)
	}
	if files, states := f.Fetched(); files != 1 || states != 0 {
		t.Fatalf("fetched %d files and %d states, want 1 and 0", files, states)
	}
}

// When no node holds the file staged any more, a node that applies the
// install entry takes the state of one that installed it, at a later
// index, and skips the entries that state holds.
func TestInstallFetchesAState(t *testing.T) {
	data, err := os.ReadFile(sourceDB(t, "restored"))
	if err != nil {
		t.Fatal(err)
	}
	holder := openTest(t)
	ha := &applier{f: holder}
	ha.mustExec(t, "CREATE TABLE old(x)")
	if err := holder.StageRestore(context.Background(), 5, int64(len(data)), crc32.Checksum(data, castagnoli), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	ha.index++
	install := installLog(ha.index, 5, data)
	after := ha.log(ha.cmd(command.KindExecute, stmts("INSERT INTO t VALUES ('after')")...))
	later := ha.log(ha.cmd(command.KindExecute, stmts("INSERT INTO t VALUES ('later')")...))
	for i, resp := range holder.ApplyBatch([]*hraft.Log{install, after}) {
		if err := resultErr(resp); err != nil {
			t.Fatalf("holder, entry %d: %v", i, err)
		}
	}
	snap := takeSnapshot(t, holder) // at after's index
	if err := resultErr(holder.Apply(later)); err != nil {
		t.Fatal(err)
	}

	f := openTest(t)
	fa := &applier{f: f}
	fa.mustExec(t, "CREATE TABLE old(x)")
	f.SetRestoreSource(context.Background(), fakeSource{state: snap})
	for i, resp := range f.ApplyBatch([]*hraft.Log{install, after, later}) {
		if err := resultErr(resp); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	if got, want := dump(t, f), dump(t, holder); got != want {
		t.Fatalf("the state differs from the holder's:\n%s\nwant\n%s", got, want)
	}
	if i, _ := f.AppliedIndex(); i != later.Index {
		t.Fatalf("applied index %d, want %d", i, later.Index)
	}
	if files, states := f.Fetched(); files != 0 || states != 1 {
		t.Fatalf("fetched %d files and %d states, want 0 and 1", files, states)
	}
}

// blockingReader hands out r after unblock is closed.
type blockingReader struct {
	r       io.Reader
	started chan struct{}
	unblock chan struct{}
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if b.started != nil {
		close(b.started)
		b.started = nil
		<-b.unblock
	}
	return b.r.Read(p)
}

// A copy that ends after an abort of its restore was applied is not kept,
// but the same restore id staged again after the abort (its client sent
// it again) is, and installs; the outcomes say aborted, then installed once.
func TestStageAgainAfterAnAbort(t *testing.T) {
	data, err := os.ReadFile(sourceDB(t, "restored"))
	if err != nil {
		t.Fatal(err)
	}
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE old(x)")
	ctx := context.Background()
	crc := crc32.Checksum(data, castagnoli)
	const id = 9
	br := &blockingReader{r: bytes.NewReader(data), started: make(chan struct{}), unblock: make(chan struct{})}
	started := br.started
	copied := make(chan error, 1)
	go func() { copied <- f.StageRestore(ctx, id, int64(len(data)), crc, br) }()
	<-started
	a.index++
	abort := &hraft.Log{Index: a.index, Term: 2, Type: hraft.LogCommand, Data: command.EncodeRestore(&command.Restore{Op: command.RestoreAbort, ID: id})}
	if err := resultErr(f.ApplyBatch([]*hraft.Log{abort})[0]); err != nil {
		t.Fatal(err)
	}
	close(br.unblock)
	if err := <-copied; err == nil || !strings.Contains(err.Error(), "aborted while it was copied") {
		t.Fatalf("a copy that ended after its abort: %v, want refused", err)
	}
	if _, installed, decided := f.RestoreOutcome(id); installed || !decided {
		t.Fatalf("after the abort: installed %v, decided %v", installed, decided)
	}
	if err := f.StageRestore(ctx, id, int64(len(data)), crc, bytes.NewReader(data)); err != nil {
		t.Fatalf("staging the same id again after its abort: %v", err)
	}
	install := installLog(a.index+1, id, data)
	a.index++
	if err := resultErr(f.ApplyBatch([]*hraft.Log{install})[0]); err != nil {
		t.Fatal(err)
	}
	if index, installed, _ := f.RestoreOutcome(id); !installed || index != install.Index || f.RestoreInstalls(id) != 1 {
		t.Fatalf("after the install: index %d, installed %v, %d installs; want once at %d", index, installed, f.RestoreInstalls(id), install.Index)
	}
	if got := dump(t, f); !strings.Contains(got, "restored") || strings.Contains(got, "old") {
		t.Fatalf("after the install the state is\n%s", got)
	}
	if from := f.OutcomesFrom(); from != 0 {
		t.Fatalf("OutcomesFrom %d on a state machine that applied everything since it opened empty", from)
	}
}
