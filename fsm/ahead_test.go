package fsm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	hraft "github.com/hashicorp/raft"
	"github.com/raftsql/raftsql/fsm/command"
)

// Entries run ahead and then applied, in every order Raft and the node can
// produce, leave the same database and give the same answers as entries
// applied the usual way.
func TestRunAheadMatchesApply(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	f, ref := openTest(t), openTest(t)
	a := &applier{f: f}
	setup := a.log(a.cmd(command.KindExecute, stmts("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, at TEXT, r)")...))
	f.Apply(setup)
	ref.Apply(setup)
	logs := mixedWorkload(a, 300, rng)
	ahead := 0
	for i := 0; i < len(logs); {
		l := logs[i]
		var batch []*hraft.Log
		var what string
		switch k := rng.IntN(7); k {
		case 0:
			what, batch = "applied as usual", logs[i:i+1]
		case 1:
			what, batch = "run ahead", logs[i:i+1]
			if f.RunAhead(l.Data) {
				ahead++
			}
		case 2:
			what, batch = "run ahead, batched with the next", logs[i:min(i+2, len(logs))]
			f.RunAhead(l.Data)
		case 3:
			// Another entry comes first: the work done ahead is undone.
			what, batch = "run ahead of the next", logs[i:min(i+2, len(logs))]
			if len(batch) == 2 {
				f.RunAhead(batch[1].Data)
			}
		case 4:
			what, batch = "run ahead, then discarded", logs[i:i+1]
			f.RunAhead(l.Data)
			f.Discard(l.Data)
		case 5:
			what, batch = "run ahead, then a snapshot", logs[i:i+1]
			f.RunAhead(l.Data)
			s, err := f.Snapshot()
			if err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
			s.Release()
		case 6:
			what, batch = "run ahead, then a transaction", logs[i:i+1]
			f.RunAhead(l.Data)
			tx, err := f.BeginWrite(context.Background(), testTime, 1)
			if err != nil {
				t.Fatalf("BeginWrite: %v", err)
			}
			tx.Exec(context.Background(), command.Statement{SQL: "DELETE FROM t"})
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
		}
		got, want := f.ApplyBatch(batch), ref.ApplyBatch(batch)
		for j := range batch {
			if g, w := encodeResponse(t, got[j]), encodeResponse(t, want[j]); !bytes.Equal(g, w) {
				cmds, _ := command.DecodeEntry(batch[j].Data)
				var sqls []string
				for _, c := range cmds {
					sqls = append(sqls, fmt.Sprint(c.Statements))
				}
				t.Fatalf("entry %d (%s) %v: got %s, want %s", batch[j].Index, what, sqls, describe(got[j]), describe(want[j]))
			}
		}
		if d, r := dump(t, f), dump(t, ref); d != r {
			t.Fatalf("after entry %d (%s) the databases differ:\n%s\nwant:\n%s", l.Index, what, d, r)
		}
		i += len(batch)
	}
	if ahead == 0 {
		t.Fatal("no entry was run ahead")
	}
	fi, _ := f.AppliedIndex()
	ri, _ := ref.AppliedIndex()
	if fi != ri || f.LastTime() != ref.LastTime() {
		t.Fatalf("state: index %d time %d, want %d %d", fi, f.LastTime(), ri, ref.LastTime())
	}
}

// An entry run ahead holds no lock that readers wait for, and its writes
// are not seen until Raft commits it.
func TestRunAheadInvisibleUntilApplied(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(v)")
	l := a.log(a.cmd(command.KindExecute, stmts("INSERT INTO t VALUES (1)")...))
	if !f.RunAhead(l.Data) {
		t.Fatal("RunAhead kept nothing")
	}
	count := func() string {
		res, err := f.Query(context.Background(), stmts("SELECT count(*) FROM t"))
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(res.Statements[0].Rows)
	}
	if got := count(); got != "[[0]]" {
		t.Fatalf("before apply: %s rows", got)
	}
	if r := f.Apply(l).(*command.Result); r.Err() != nil || r.Statements[0].RowsAffected != 1 {
		t.Fatalf("Apply: %+v", r)
	}
	if got := count(); got != "[[1]]" {
		t.Fatalf("after apply: %s rows", got)
	}
	// A restore throws the work away as well.
	data := takeSnapshot(t, f)
	l2 := a.log(a.cmd(command.KindExecute, stmts("INSERT INTO t VALUES (2)")...))
	if !f.RunAhead(l2.Data) {
		t.Fatal("RunAhead kept nothing")
	}
	if err := f.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
		t.Fatal(err)
	}
	if f.ahead != nil {
		t.Fatal("restore kept the entry run ahead")
	}
	f.Apply(l2)
	if got := count(); got != "[[2]]" {
		t.Fatalf("after restore and apply: %s rows", got)
	}
}
