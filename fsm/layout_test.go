package fsm

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	hraft "github.com/hashicorp/raft"
	"github.com/raftsql/raftsql/fsm/command"
	_ "modernc.org/sqlite"
)

// TestFileLayoutStaysOutOfWrites restores a database with auto_vacuum on
// two state machines, which then apply the same entries, one by one and in
// one batch: SQLite gives free pages back at each commit there, so the
// pages a database has depend on where each node's transactions ended.
// A write may not store them (refused before it is proposed, and at apply
// the same on both); a read may ask; the rest stays the same.
func TestFileLayoutStaysOutOfWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "av.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"PRAGMA auto_vacuum = FULL", "CREATE TABLE t(v)", "CREATE TABLE out(what, n)",
		"INSERT INTO t WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < 2000) SELECT randomblob(300) FROM s"} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	var fs [2]*FSM
	var as [2]*applier
	for i := range fs {
		fs[i] = openTest(t)
		as[i] = &applier{f: fs[i]}
		logs := restoreLogs(t, path, 1, 1, 1<<14)
		as[i].index = uint64(len(logs))
		for _, r := range fs[i].ApplyBatch(logs) {
			if err := resultErr(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	layout := []string{
		"INSERT INTO out SELECT 'free', freelist_count FROM pragma_freelist_count",
		"INSERT INTO out SELECT 'pages', page_count FROM pragma_page_count()",
		"INSERT INTO out VALUES ('pages', (SELECT * FROM pragma_page_count))",
		"UPDATE out SET n = (SELECT freelist_count FROM pragma_freelist_count)",
		"INSERT INTO out SELECT name, pgsize FROM dbstat('main', 1)",
	}
	for _, sql := range layout {
		_, err := fs[0].Classify(context.Background(), sql)
		var ce *command.Error
		if !errors.As(err, &ce) || ce.Code != command.CodeRefused || !strings.Contains(ce.Message, "file layout") {
			t.Errorf("Classify(%q) = %v, want refused for the file layout", sql, err)
		}
	}
	for _, sql := range []string{"SELECT * FROM pragma_page_count", "PRAGMA freelist_count", "SELECT sum(pgsize) FROM dbstat('main', 1) WHERE name = 't'"} {
		if _, err := fs[0].Classify(context.Background(), sql); err != nil {
			t.Errorf("Classify(%q): %v, want a read", sql, err)
		}
		if res, err := fs[0].Query(context.Background(), stmts(sql)); err != nil || res.Err() != nil {
			t.Errorf("read %q: %v %v", sql, err, res.Err())
		}
	}
	entries := func(a *applier) []*hraft.Log {
		logs := []*hraft.Log{a.log(a.cmd(command.KindExecute, stmts("DELETE FROM t WHERE rowid > 100")...))}
		for _, sql := range layout {
			logs = append(logs, a.log(a.cmd(command.KindExecute, stmts(sql)...)))
		}
		return append(logs, a.log(a.cmd(command.KindExecute, stmts(
			"CREATE TABLE later(x)",
			"INSERT INTO out SELECT 'root', rootpage FROM sqlite_schema WHERE name = 'later'")...)))
	}
	var results [2][]any
	for _, l := range entries(as[0]) {
		results[0] = append(results[0], fs[0].Apply(l))
	}
	results[1] = fs[1].ApplyBatch(entries(as[1]))
	for i := 1; i <= len(layout); i++ {
		for n := range fs {
			err := resultErr(results[n][i])
			var ce *command.Error
			if !errors.As(err, &ce) || ce.Code != command.CodeRefused {
				t.Errorf("node %d, %q: %v, want refused", n, layout[i-1], err)
			}
		}
	}
	if d0, d1 := dump(t, fs[0]), dump(t, fs[1]); d0 != d1 {
		t.Fatalf("the state machines differ:\n%s\n---\n%s", tail(d0), tail(d1))
	}
}
