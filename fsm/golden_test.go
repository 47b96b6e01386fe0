package fsm

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/raftsql/raftsql/fsm/command"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite the golden snapshot in ../snapshot/testdata")

// The golden snapshot of format version 1 that this state machine wrote:
// every later version must still restore it to exactly this state.
var (
	goldenSnap = filepath.Join("..", "snapshot", "testdata", "v1-fsm.snap")
	goldenDump = filepath.Join("..", "snapshot", "testdata", "v1-fsm.dump")
)

var goldenRequest = command.RequestID{Client: 77, Seq: 5}

func TestGoldenSnapshotV1(t *testing.T) {
	if *updateGolden {
		f := openTest(t)
		a := &applier{f: f}
		loadRich(t, a)
		c := a.cmd(command.KindExecute, stmts("INSERT INTO plain VALUES (randomblob(8), datetime('now'))")...)
		c.RequestID = goldenRequest
		if err := a.applyCmd(t, c).Err(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenSnap, takeSnapshot(t, f), 0o644); err != nil {
			t.Fatal(err)
		}
		d := fmt.Sprintf("-- last time %d\n%s", f.LastTime(), dump(t, f))
		if err := os.WriteFile(goldenDump, []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(goldenSnap)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(goldenDump)
	if err != nil {
		t.Fatal(err)
	}
	g := openTest(t)
	if err := g.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
		t.Fatalf("restoring %s: %v", goldenSnap, err)
	}
	got := fmt.Sprintf("-- last time %d\n%s", g.LastTime(), dump(t, g))
	if got != string(want) {
		t.Fatalf("%s restores to another state:\n--- got\n%s\n--- want\n%s", goldenSnap, got, want)
	}
	// The remembered result of the request came along: a retry is not
	// applied again.
	a := &applier{f: g, index: 1000, seq: 1000}
	c := a.cmd(command.KindExecute, stmts("INSERT INTO plain VALUES (1, 1)")...)
	c.RequestID = goldenRequest
	if r := a.applyCmd(t, c); r.Err() != nil || len(r.Statements) != 1 || r.Statements[0].RowsAffected != 1 {
		t.Fatalf("retried request: %+v", r)
	}
	if after := dump(t, g); !strings.HasSuffix(got, after) {
		t.Fatalf("a retried request was applied again:\n%s", after)
	}
}
