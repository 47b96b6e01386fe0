package fsm

import (
	"context"
	"fmt"
	"math/rand/v2"
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

// encodeResponse gives Apply's answer a comparable form.
func encodeResponse(t *testing.T, resp any) []byte {
	t.Helper()
	switch r := resp.(type) {
	case *command.Result:
		return command.EncodeResult(r)
	case []*command.Result:
		var b []byte
		for _, x := range r {
			b = append(b, command.EncodeResult(x)...)
		}
		return b
	case nil:
		return nil
	}
	t.Fatalf("Apply answered %T %v", resp, resp)
	return nil
}

// mixedWorkload is a stream of entries that write with the leader's clock
// and seed, fail constraints, end their transaction, change the schema and
// repeat request ids, alone and in groups.
// mixedSchema creates the tables mixedWorkload writes.
var mixedSchema = []string{
	"CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, at TEXT, r)",
	"CREATE TABLE p(id INTEGER PRIMARY KEY)",
	"CREATE TABLE c(id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id))",
	"CREATE TABLE d(id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)",
	"CREATE TABLE trig(id INTEGER PRIMARY KEY, v INTEGER)",
	`CREATE TRIGGER trig_check BEFORE INSERT ON trig BEGIN
		SELECT CASE
			WHEN new.v = 1 THEN RAISE(ABORT, 'abort')
			WHEN new.v = 2 THEN RAISE(ROLLBACK, 'rollback')
			WHEN new.v = 3 THEN RAISE(FAIL, 'fail')
		END;
	END`,
}

func mixedWorkload(a *applier, n int, rng *rand.Rand) []*hraft.Log {
	statements := [][]string{
		{"INSERT INTO t(v, at, r) VALUES ('x', CURRENT_TIMESTAMP, random())"},
		{"INSERT INTO t(id, v) VALUES (1, 'dup')"}, // fails after the first
		{"UPDATE t SET v = v || '!', r = randomblob(4) WHERE id % 3 = 0"},
		{"INSERT INTO t(v, at) VALUES ('a', datetime('now')) RETURNING id, at"},
		{"INSERT OR ROLLBACK INTO t(id, v) VALUES (1, 'gone')"}, // ends the transaction
		{"CREATE TABLE IF NOT EXISTS u(k INTEGER PRIMARY KEY, w)", "INSERT INTO u(w) VALUES (random())"},
		{"DELETE FROM t WHERE id > 40"},
		{"INSERT INTO nosuch VALUES (1)"},
		{"INSERT OR REPLACE INTO t(id, v, at) VALUES (2, 'replaced', CURRENT_TIME)"},
		{"INSERT INTO t(id, v) VALUES (3, 'up') ON CONFLICT(id) DO UPDATE SET v = excluded.v || v"},
		{"INSERT OR IGNORE INTO t(id, v) VALUES (1, 'ignored')", "INSERT OR FAIL INTO t(id, v) VALUES (1, 'failed')"},
		{"INSERT INTO p(id) VALUES (abs(random()) % 5)"},
		{"INSERT INTO c(pid) VALUES (abs(random()) % 7)"},  // fails when the parent is missing
		{"INSERT INTO d(pid) VALUES (abs(random()) % 7)"},  // deferred: fails at the command's end
		{"DELETE FROM p WHERE id = abs(random()) % 5"},     // fails while children point at it
		{"INSERT INTO trig(v) VALUES (abs(random()) % 4)"}, // a trigger raises on some values
		{"UPDATE t SET v = 'two' WHERE id = 2", "INSERT INTO t(id) VALUES (2)"},
		{"SAVEPOINT s"}, // refused inside a command
	}
	var logs []*hraft.Log
	client := uint64(0)
	for range n {
		one := func() []byte {
			c := a.cmd(command.KindExecute, stmts(statements[rng.IntN(len(statements))]...)...)
			if rng.IntN(10) == 0 {
				// A read through the log, as at the strong level.
				c = a.cmd(command.KindQuery, stmts("SELECT count(*), max(id), group_concat(v) FROM t")...)
			}
			if rng.IntN(3) == 0 {
				client++
				// Now and then an id seen before: a retried request.
				c.RequestID = command.RequestID{Client: 1 + client%4, Seq: 1 + uint64(rng.IntN(int(client)+1))/4}
			}
			return command.Encode(c)
		}
		var data []byte
		if rng.IntN(3) == 0 {
			members := make([][]byte, 2+rng.IntN(4))
			for i := range members {
				members[i] = one()
			}
			data = command.EncodeGroup(members)
		} else {
			data = one()
		}
		a.index++
		logs = append(logs, &hraft.Log{Index: a.index, Term: 1, Type: hraft.LogCommand, Data: data})
	}
	return logs
}

func describe(resp any) string {
	switch r := resp.(type) {
	case *command.Result:
		return fmt.Sprintf("%+v", *r)
	case []*command.Result:
		var out []string
		for _, x := range r {
			out = append(out, fmt.Sprintf("%+v", *x))
		}
		return fmt.Sprint(out)
	}
	return fmt.Sprint(resp)
}
