package fsm

import (
	"context"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"
	"github.com/raftsql/raftsql/fsm/command"
)

func openTest(t testing.TB) *FSM {
	t.Helper()
	f, err := Open(Config{Dir: t.TempDir(), ReadConns: 2, OnFatal: func(err error) { t.Errorf("fatal: %v", err) }})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

type applier struct {
	f     *FSM
	index uint64
	seq   uint64
}

var testTime = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC).UnixNano()

func stmts(sqls ...string) []command.Statement {
	out := make([]command.Statement, len(sqls))
	for i, s := range sqls {
		out[i] = command.Statement{SQL: s}
	}
	return out
}

func (a *applier) cmd(kind command.Kind, st ...command.Statement) *command.Command {
	a.seq++
	return &command.Command{Kind: kind, TimeUnixNano: testTime + int64(a.seq)*int64(time.Second), Seed: a.seq * 7919, Statements: st}
}

func (a *applier) log(c *command.Command) *hraft.Log {
	a.index++
	return &hraft.Log{Index: a.index, Term: 1, Type: hraft.LogCommand, Data: command.Encode(c)}
}

func (a *applier) applyCmd(t testing.TB, c *command.Command) *command.Result {
	t.Helper()
	resp := a.f.Apply(a.log(c))
	r, ok := resp.(*command.Result)
	if !ok {
		t.Fatalf("Apply: got %T %v, want *command.Result", resp, resp)
	}
	return r
}

func (a *applier) exec(t testing.TB, sqls ...string) *command.Result {
	t.Helper()
	return a.applyCmd(t, a.cmd(command.KindExecute, stmts(sqls...)...))
}

func (a *applier) mustExec(t testing.TB, sqls ...string) *command.Result {
	t.Helper()
	r := a.exec(t, sqls...)
	if err := r.Err(); err != nil {
		t.Fatalf("exec %q: %v (code %d)", sqls, err, err.Code)
	}
	return r
}

func dump(t testing.TB, f *FSM) string {
	t.Helper()
	d, err := f.Dump(context.Background())
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	return d
}
