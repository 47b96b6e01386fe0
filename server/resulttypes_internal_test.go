package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"

	"github.com/raftsql/raftsql/fsm"
	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// TestTableColumnTypes: the columns of aggregates are found in their
// tables' whole descriptions: the columns an unqualified name over a join
// gives ("" where a table lacks one), a rowid alias (BIGINT), a view's
// column, a quoted name matched as SQLite matches it. (A table the committed schema lacks, which needs the
// leader's read index to tell, is TestAggregatesInTransactionBlock's.)
func TestTableColumnTypes(t *testing.T) {
	f, err := fsm.Open(fsm.Config{Dir: t.TempDir(), ReadConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	resp := f.Apply(&hraft.Log{Index: 1, Term: 1, Type: hraft.LogCommand, Data: command.Encode(&command.Command{
		Kind: command.KindExecute, TimeUnixNano: time.Now().UnixNano(), Seed: 1, Statements: []command.Statement{
			{SQL: `CREATE TABLE tb (id INTEGER PRIMARY KEY, n int, "Ts" timestamptz)`},
			{SQL: "CREATE TABLE tu (tb_id int, k smallint, n numeric(10,2))"},
			{SQL: "CREATE VIEW tv AS SELECT id, n FROM tb"},
		}})})
	if r, ok := resp.(*command.Result); !ok || r.Err() != nil {
		t.Fatalf("setup: %v", resp)
	}
	s := &session{n: &Node{fsm: f, infos: map[string]cachedInfo{}}}
	ctx := context.Background()
	st := pgsql.Parse("SELECT max(id), sum(k), min(ts), avg(tu.n), max(tv.n) FROM tb JOIN tu ON tb_id = id, tv")
	if st.Aggregates == nil {
		t.Fatal("no aggregates")
	}
	got := fmt.Sprint(s.TableColumnTypes(ctx, st.Aggregates.Columns))
	// tb.id, tu.id, tv.id, tb.k, tu.k, tv.k, tb.ts, tu.ts, tv.ts, tu.n, tv.n
	if want := "[BIGINT  BIGINT  smallint  timestamptz   numeric(10,2) INT]"; got != want {
		t.Errorf("types %s, want %s (columns %v)", got, want, st.Aggregates.Columns)
	}
}
