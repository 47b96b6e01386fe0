package fsm

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"

	hraft "github.com/hashicorp/raft"
	"github.com/raftsql/raftsql/fsm/command"
)

// TestEntryFromANewerRelease records what a node does with an entry that a
// newer release wrote, which is why the leader gates what it proposes on the
// entry version of every member (server's version gate):
//   - an unknown format byte (a format added later: byte 5 to a node that
//     reads format 2, byte 6 to one before restore entries) is taken for
//     damage, and the state machine stops. Safe, but the node stays down
//     until it is upgraded, so the cluster loses a member per such node;
//   - an unknown command kind inside a known format is answered as refused
//     and the node goes on, without what the newer nodes applied: it would
//     diverge. Kinds have versions for that reason (command.EntryVersionOf).
func TestEntryFromANewerRelease(t *testing.T) {
	var fatal []error
	f, err := Open(Config{Dir: t.TempDir(), ReadConns: 1, OnFatal: func(err error) { fatal = append(fatal, err) }})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(v)")

	// A command kind of a later release, in format 2.
	r := a.applyCmd(t, a.cmd(command.Kind(99), stmts("INSERT INTO t VALUES (1)")...))
	if e := r.Err(); e == nil || e.Code != command.CodeRefused {
		t.Fatalf("unknown kind: got %v, want a refusal", e)
	}
	if len(fatal) != 0 {
		t.Fatalf("unknown kind stopped the node: %v", fatal)
	}
	if n := countRows(t, f); n != 0 {
		t.Fatalf("unknown kind: the statements ran (%d rows)", n)
	}

	// A format byte of a later release, intact (its checksum holds).
	future := []byte{0x07, 1, 2, 3}
	future = binary.LittleEndian.AppendUint32(future, crc32.Checksum(future, crc32.MakeTable(crc32.Castagnoli)))
	if v := command.EntryVersionOf(future); v <= command.EntryVersion {
		t.Fatalf("a future format has version %d, within this build's %d", v, command.EntryVersion)
	}
	a.index++
	out := f.ApplyBatch([]*hraft.Log{{Index: a.index, Term: 1, Type: hraft.LogCommand, Data: future}})
	if err, ok := out[0].(error); !ok || !errors.Is(err, ErrStopped) {
		t.Fatalf("future format: got %#v, want ErrStopped", out[0])
	}
	if len(fatal) != 1 || !errors.Is(fatal[0], command.ErrCorrupt) {
		t.Fatalf("future format: OnFatal got %v, want one corrupt-entry error", fatal)
	}
}

func countRows(t *testing.T, f *FSM) int64 {
	t.Helper()
	res, err := f.Query(t.Context(), stmts("SELECT count(*) FROM t"))
	if err != nil {
		t.Fatal(err)
	}
	return res.Statements[0].Rows[0][0].Int
}
