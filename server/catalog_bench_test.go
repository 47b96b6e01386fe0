package server

import (
	"context"
	"strconv"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"
	"github.com/raftsql/raftsql/fsm"
	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/pgwire/pgsql/catalog"
)

// benchFSM opens a state machine with or without the catalogs' functions
// and views on its connections.
func benchFSM(b *testing.B, withCatalog bool) *fsm.FSM {
	b.Helper()
	cfg := fsm.Config{Dir: b.TempDir(), ReadConns: 4}
	if withCatalog {
		cfg.Funcs, cfg.ConnInit = catalogSetup()
	}
	f, err := fsm.Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// BenchmarkStateMachineOpen measures opening the state machine's seven
// connections, with and without the catalog views: the setup every node
// does at start and after each snapshot restore.
//
//	go test ./server -run XXX -bench 'BenchmarkStateMachineOpen|BenchmarkPointSelect' -count 6
func BenchmarkStateMachineOpen(b *testing.B) {
	for _, tc := range []struct {
		name    string
		catalog bool
	}{{"plain", false}, {"catalog", true}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				f := benchFSM(b, tc.catalog)
				f.Close()
			}
		})
	}
}

// BenchmarkPointSelect measures a read by primary key through the state
// machine's read connections, with and without the catalog views on them,
// and the scan every statement gets in pgwire for catalog names.
func BenchmarkPointSelect(b *testing.B) {
	const q = "SELECT v FROM kv WHERE k = $1"
	for _, tc := range []struct {
		name    string
		catalog bool
	}{{"plain", false}, {"catalog", true}} {
		b.Run(tc.name, func(b *testing.B) {
			f := benchFSM(b, tc.catalog)
			defer f.Close()
			var st []command.Statement
			st = append(st, command.Statement{SQL: "CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)"})
			st = append(st, command.Statement{SQL: "INSERT INTO kv SELECT value, 'v' || value FROM json_each('[" + numbers(1000) + "]')"})
			resp := f.Apply(&hraft.Log{Index: 1, Term: 1, Type: hraft.LogCommand, Data: command.Encode(&command.Command{
				Kind: command.KindExecute, TimeUnixNano: time.Now().UnixNano(), Seed: 1, Statements: st})})
			if r, ok := resp.(*command.Result); !ok || r.Err() != nil {
				b.Fatalf("setup: %v", resp)
			}
			ctx := context.Background()
			i := int64(0)
			for b.Loop() {
				i++
				if catalog.Mentions(q) {
					b.Fatal("a point select mentions the catalogs")
				}
				res, err := f.Query(ctx, []command.Statement{{SQL: q, Params: []command.Value{command.Int(i%1000 + 1)}}})
				if err != nil || res.Err() != nil || len(res.Statements[0].Rows) != 1 {
					b.Fatalf("query: %v %v", err, res)
				}
			}
		})
	}
}

func numbers(n int) string {
	b := make([]byte, 0, n*5)
	for i := 1; i <= n; i++ {
		if i > 1 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(i), 10)
	}
	return string(b)
}
