package server

import (
	"context"
	"testing"

	"github.com/raftsql/raftsql/fsm/command"
)

// BenchmarkFuncGateUpgraded measures the function gate's cost on a write
// once every member is upgraded, beside the entry gate's (checkProposal),
// which every proposal already pays.
//
//	go test ./server -run XXX -bench FuncGateUpgraded -count 5
func BenchmarkFuncGateUpgraded(b *testing.B) {
	n := &Node{versions: newVersionTable()}
	n.versions.state.Store(&gateState{entry: command.EntryVersion, peer: peerVersion, entryKnown: true})
	cmd := &command.Command{Kind: command.KindExecute, Statements: []command.Statement{{SQL: "INSERT INTO t VALUES (1)"}}}
	ctx := context.Background()
	b.Run("funcs", func(b *testing.B) {
		for range b.N {
			if err := n.checkFuncs(ctx, cmd); err != nil {
				b.Fatal(err)
			}
		}
	})
	encoded := command.Encode(cmd)
	b.Run("entry", func(b *testing.B) {
		for range b.N {
			if err := n.checkProposal(encoded); err != nil {
				b.Fatal(err)
			}
		}
	})
}
