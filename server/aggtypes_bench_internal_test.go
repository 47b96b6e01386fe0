package server

import (
	"context"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// BenchmarkAggregateColumnTypes measures what a statement with aggregates
// of table columns asks the node for its result types: the declared types
// of the columns (TableColumnTypes, through the describe cache of the
// schema generation), for the three columns of
// SELECT max(id), sum(n), min(ts) FROM tb, for the six a join of two
// tables with unqualified names gives, beside ColumnTypes (a describe of
// each column, which fails for a column its table lacks) for the first,
// and the first statement's own read.
//
//	go test ./server -run XXX -bench AggregateColumnTypes -count 5
func BenchmarkAggregateColumnTypes(b *testing.B) {
	f := benchFSM(b, false)
	defer f.Close()
	st := []command.Statement{
		{SQL: "CREATE TABLE tb (id int PRIMARY KEY, n int, ts timestamptz)"},
		{SQL: "INSERT INTO tb VALUES (1, 2, '2026-01-01 10:00:00+00'), (2, 5, '2026-01-01 12:00:00+00')"},
		{SQL: "CREATE TABLE tu (tb_id int, k smallint)"},
	}
	resp := f.Apply(&hraft.Log{Index: 1, Term: 1, Type: hraft.LogCommand, Data: command.Encode(&command.Command{
		Kind: command.KindExecute, TimeUnixNano: time.Now().UnixNano(), Seed: 1, Statements: st})})
	if r, ok := resp.(*command.Result); !ok || r.Err() != nil {
		b.Fatalf("setup: %v", resp)
	}
	s := &session{n: &Node{fsm: f, infos: map[string]cachedInfo{}}}
	ctx := context.Background()
	q := pgsql.Parse("SELECT max(id), sum(n), min(ts) FROM tb")
	if q.Aggregates == nil || len(q.Aggregates.Columns) != 3 {
		b.Fatalf("aggregates %+v", q.Aggregates)
	}
	join := pgsql.Parse("SELECT max(id), sum(k), min(ts) FROM tb JOIN tu ON tb_id = id")
	if join.Aggregates == nil || len(join.Aggregates.Columns) != 6 {
		b.Fatalf("aggregates %+v", join.Aggregates)
	}
	b.Run("lookup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if types := s.TableColumnTypes(ctx, q.Aggregates.Columns); types[2] != "timestamptz" {
				b.Fatalf("types %q", types)
			}
		}
	})
	b.Run("join", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if types := s.TableColumnTypes(ctx, join.Aggregates.Columns); types[3] != "smallint" {
				b.Fatalf("types %q", types)
			}
		}
	})
	b.Run("columns", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if types := s.ColumnTypes(ctx, q.Aggregates.Columns); types[2] != "timestamptz" {
				b.Fatalf("types %q", types)
			}
		}
	})
	b.Run("query", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			res, err := f.Query(ctx, []command.Statement{{SQL: q.SQL}})
			if err != nil || res.Err() != nil || len(res.Statements[0].Rows) != 1 {
				b.Fatalf("query: %v %v", err, res)
			}
		}
	})
}
