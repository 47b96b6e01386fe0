package fsm

import (
	"context"
	"fmt"
	"testing"

	"github.com/raftsql/raftsql/fsm/command"
)

// TestSpeculationSeesTheLastInsertRowidApplySees checks that a statement of
// a transaction block that fails after inserting rows (and is therefore
// not part of the entry) leaves last_insert_rowid() as the entry will have
// it.
func TestSpeculationSeesTheLastInsertRowidApplySees(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE a(id INTEGER PRIMARY KEY AUTOINCREMENT)", "CREATE TABLE b(x)")
	ctx := context.Background()
	c := a.cmd(command.KindExecute)
	wt, err := f.BeginWrite(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	var seen [][]command.Value
	for _, sql := range []string{
		"INSERT INTO a VALUES (1)",
		"SAVEPOINT s",
		"INSERT INTO a(id) VALUES (NULL), (1)", // inserts a row, then fails
		"ROLLBACK TO s",
		"INSERT INTO b VALUES (last_insert_rowid()) RETURNING x",
	} {
		st := command.Statement{SQL: sql}
		sr := wt.Exec(ctx, st)
		if sr.Err != nil {
			continue // not part of the entry, as the server does
		}
		c.Statements = append(c.Statements, st)
		seen = append(seen, sr.Rows...)
	}
	if err := wt.Rollback(); err != nil {
		t.Fatal(err)
	}
	r := a.applyCmd(t, c)
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	var stored [][]command.Value
	for _, sr := range r.Statements {
		stored = append(stored, sr.Rows...)
	}
	if fmt.Sprint(seen) != fmt.Sprint(stored) {
		t.Errorf("speculation saw %v, the entry stored %v", seen, stored)
	}
}
