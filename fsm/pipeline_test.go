package fsm

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	hraft "github.com/hashicorp/raft"

	"github.com/raftsql/raftsql/fsm/command"
)

// A leader runs each transaction on top of the commands proposed before it
// and not yet applied (WriteTx.Propose), while a follower only applies the
// entries. Whatever the timing of the applies, both must store the same
// data and answer the same results, and a transaction the apply does not
// fail must have returned to its client exactly what the apply produced.
// The run also injects what a pipeline must survive: an entry the leader
// did not speculate on landing ahead of speculated ones (an earlier
// leader's), and the leader forgetting its speculation (leadership lost).
func TestPipelinedSpeculationMatchesFollowers(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	ctx := context.Background()
	leader, a := openTxTest(t)
	follower, b := openTxTest(t)
	_ = b
	if dump(t, leader) != dump(t, follower) {
		t.Fatal("the setups differ")
	}
	index := a.index
	type proposal struct {
		log  *hraft.Log
		seen []command.StatementResult
	}
	var queue []proposal
	nextLog := func(c *command.Command) *hraft.Log {
		index++
		return &hraft.Log{Index: index, Term: 1, Type: hraft.LogCommand, Data: command.Encode(c)}
	}
	var committed, conflicts, injected, dropped int
	applyHead := func(n int) {
		batch := queue[:n]
		logs := make([]*hraft.Log, n)
		for i, p := range batch {
			logs[i] = p.log
		}
		got, want := leader.ApplyBatch(logs), follower.ApplyBatch(logs)
		for i, p := range batch {
			g, w := encodeResponse(t, got[i]), encodeResponse(t, want[i])
			if !bytes.Equal(g, w) {
				t.Fatalf("entry %d: the leader applied %s, the follower %s", p.log.Index, describe(got[i]), describe(want[i]))
			}
			res := got[i].(*command.Result)
			if e := res.Err(); e != nil {
				if p.seen == nil || e.Code != command.CodeConflict {
					t.Fatalf("entry %d failed: %v", p.log.Index, e)
				}
				conflicts++
				continue
			}
			if p.seen == nil {
				continue
			}
			committed++
			if d := command.ResultDigest(res.Statements); d != command.ResultDigest(p.seen) {
				t.Fatalf("entry %d: applied %+v, its client saw %+v", p.log.Index, res.Statements, p.seen)
			}
		}
		queue = queue[n:]
		if d, w := dump(t, leader), dump(t, follower); d != w {
			t.Fatalf("after entry %d the leader holds:\n%s\nthe follower:\n%s", logs[n-1].Index, d, w)
		}
	}
	for i := 0; i < 400; i++ {
		switch r := rng.IntN(10); {
		case r < 6:
			c := a.cmd(command.KindExecute)
			c.RequestID = command.RequestID{Client: 1, Seq: uint64(i + 1)}
			c.MaxSteps = 1 << 20
			wt, err := leader.BeginWrite(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			var seen []command.StatementResult
			sts := txStatements(rng.IntN(1000))
			if rng.IntN(4) == 0 {
				// A statement that fails is not part of the command.
				sts = append(sts[:2:2], append([]command.Statement{{SQL: "INSERT INTO acct VALUES (1, 0)"}}, sts[2:]...)...)
			}
			for _, st := range sts {
				sr := wt.Exec(ctx, st)
				if sr.Err != nil {
					continue
				}
				c.Statements = append(c.Statements, st)
				seen = append(seen, sr)
			}
			if rng.IntN(8) == 0 {
				// The client rolls back: nothing is proposed.
				if err := wt.Rollback(); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err := wt.Propose(c); err != nil {
				t.Fatal(err)
			}
			queue = append(queue, proposal{log: nextLog(c), seen: seen})
		case r < 9 && len(queue) > 0:
			applyHead(1 + rng.IntN(len(queue)))
		case r == 9 && rng.IntN(2) == 0:
			// An entry of an earlier leader, which the speculation did
			// not include, lands before the ones speculated on.
			c := a.cmd(command.KindExecute, command.Statement{SQL: "UPDATE acct SET bal = bal + 7 WHERE id = $1",
				Params: []command.Value{command.Int(int64(rng.IntN(100) + 1))}})
			queue = append([]proposal{{log: nextLog(c)}}, queue...)
			// Its index is out of order; renumber the queue.
			for k := range queue {
				queue[k].log.Index = index - uint64(len(queue)) + uint64(k) + 1
			}
			injected++
		case r == 9:
			leader.DropSpeculation()
			dropped++
		}
	}
	if len(queue) > 0 {
		applyHead(len(queue))
	}
	if leader.Speculating() != 0 {
		t.Fatalf("%d commands still speculative after every entry was applied", leader.Speculating())
	}
	t.Logf("%d committed, %d conflicts, %d injected entries, %d dropped speculations", committed, conflicts, injected, dropped)
	if committed == 0 {
		t.Fatal("no transaction committed")
	}
}

// Transactions that read different tables than another one writes do not
// conflict with it; one that read a table written since does, whether the
// write is applied or only proposed.
func TestChangedIsPerTable(t *testing.T) {
	ctx := context.Background()
	f, a := openTxTest(t)
	a.exec(t, "CREATE TABLE other (id INTEGER PRIMARY KEY, v INTEGER)", "CREATE VIEW acct_v AS SELECT id, bal FROM acct")
	read := func(sql string) *ReadTx {
		rt, err := f.BeginRead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rt.Query(ctx, stmts(sql)); err != nil {
			t.Fatal(err)
		}
		return rt
	}
	// openTest has two read connections.
	onOther, onView := read("SELECT v FROM other"), read("SELECT bal FROM acct_v WHERE id = 1")
	defer onOther.Close()
	defer onView.Close()
	onAcct := onView
	changed := func(rt *ReadTx) bool {
		wt, err := f.BeginWrite(ctx, a.cmd(command.KindExecute))
		if err != nil {
			t.Fatal(err)
		}
		defer wt.Rollback()
		return wt.Changed(rt.Index(), rt.Restores(), rt.Tables())
	}
	if changed(onAcct) || changed(onOther) {
		t.Fatal("nothing was written, yet a read changed")
	}
	a.exec(t, "INSERT INTO hist (a, b) VALUES (1, 2)")
	if changed(onAcct) || changed(onOther) {
		t.Fatal("a write to hist changed a read of another table")
	}
	// Proposed, not applied.
	c := a.cmd(command.KindExecute)
	c.RequestID = command.RequestID{Client: 9, Seq: 1}
	wt, err := f.BeginWrite(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	st := command.Statement{SQL: "UPDATE acct SET bal = 5 WHERE id = 2"}
	if sr := wt.Exec(ctx, st); sr.Err != nil {
		t.Fatal(sr.Err)
	}
	c.Statements = []command.Statement{st}
	if err := wt.Propose(c); err != nil {
		t.Fatal(err)
	}
	if !changed(onAcct) {
		t.Fatal("a proposed write to acct did not change a read of it")
	}
	if changed(onOther) {
		t.Fatal("a proposed write to acct changed a read of other")
	}
	a.applyCmd(t, c)
	if f.Speculating() != 0 {
		t.Fatal("the applied command is still speculative")
	}
	if !changed(onAcct) || changed(onOther) {
		t.Fatal("after the apply: wrong tables changed")
	}
	a.exec(t, "ALTER TABLE other ADD COLUMN w")
	if !changed(onOther) {
		t.Fatal("a schema change did not change every read")
	}
}
