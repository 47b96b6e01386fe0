package fsm

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/raftsql/raftsql/fsm/command"
)

// Raft hands committed entries to each node in batches of its own timing:
// how they are batched must change neither the database nor the results.
func TestBatchingChangesNothing(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	alone, batched := openTest(t), openTest(t)
	a := &applier{f: alone}
	setup := a.log(a.cmd(command.KindExecute, stmts(mixedSchema...)...))
	alone.Apply(setup)
	batched.Apply(setup)
	logs := mixedWorkload(a, 300, rng)
	for i := 0; i < len(logs); {
		batch := logs[i:min(i+1+rng.IntN(4), len(logs))]
		got := batched.ApplyBatch(batch)
		for j, l := range batch {
			want := alone.Apply(l)
			if g, w := encodeResponse(t, got[j]), encodeResponse(t, want); !bytes.Equal(g, w) {
				t.Fatalf("entry %d in a batch of %d: got %s, want %s", l.Index, len(batch), describe(got[j]), describe(want))
			}
		}
		if d, w := dump(t, batched), dump(t, alone); d != w {
			for _, l := range batch {
				cmds, _ := command.DecodeEntry(l.Data)
				for _, c := range cmds {
					t.Logf("entry %d: %v %v", l.Index, c.RequestID, c.Statements)
				}
			}
			t.Fatalf("after entries %d-%d the databases differ:\n%s\nwant:\n%s", batch[0].Index, batch[len(batch)-1].Index, d, w)
		}
		i += len(batch)
	}
}
