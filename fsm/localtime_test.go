package fsm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/raftsql/raftsql/fsm/command"
)

const tzHelperEnv = "RAFTSQL_FSM_TZ_HELPER"

// TestLocaltimeOnApplyIgnoresTheTimeZone applies the same writes in two
// processes of different time zones (TZ) and checks that they store the
// same values: on the apply path 'localtime' and 'utc' are UTC. Reads keep
// the process's own time zone.
func TestLocaltimeOnApplyIgnoresTheTimeZone(t *testing.T) {
	if os.Getenv(tzHelperEnv) != "" {
		tzHelper(t)
		return
	}
	run := func(tz string) map[string]string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestLocaltimeOnApplyIgnoresTheTimeZone$", "-test.count=1")
		cmd.Env = append(os.Environ(), tzHelperEnv+"=1", "TZ="+tz)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper with TZ=%s: %v\n%s", tz, err, out)
		}
		got := map[string]string{}
		for _, line := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "tz.") {
				got[k] = v
			}
		}
		if len(got) != 2 {
			t.Fatalf("helper with TZ=%s printed:\n%s", tz, out)
		}
		return got
	}
	utc := run("UTC")
	tokyo := run("JST-9") // Tokyo, as a POSIX rule that needs no zone files
	if utc["tz.write"] != tokyo["tz.write"] {
		t.Errorf("stored values depend on the time zone:\nTZ=UTC   %s\nTZ=JST-9 %s", utc["tz.write"], tokyo["tz.write"])
	}
	if want := "2023-11-14 22:13:20|2023-11-14 22:13:20|2024-05-06 07:08:11"; tokyo["tz.write"] != want {
		t.Errorf("stored under TZ=JST-9: %s, want %s", tokyo["tz.write"], want)
	}
	// Reads are local: the helper's zone is in effect.
	if utc["tz.read"] != "2023-11-14 22:13:20" || tokyo["tz.read"] != "2023-11-15 07:13:20" {
		t.Errorf("reads: TZ=UTC %s, TZ=JST-9 %s", utc["tz.read"], tokyo["tz.read"])
	}
}

func tzHelper(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE tz(a, b, c)")
	a.mustExec(t, `INSERT INTO tz VALUES (
		datetime(1700000000, 'unixepoch', 'localtime'),
		datetime('2023-11-14 22:13:20', 'utc'),
		datetime('now', 'localtime'))`)
	q, err := f.Query(context.Background(), []command.Statement{
		{SQL: "SELECT a || '|' || b || '|' || c FROM tz"},
		{SQL: "SELECT datetime(1700000000, 'unixepoch', 'localtime')"},
	})
	if err != nil || q.Err() != nil {
		t.Fatalf("query: %v %v", err, q.Err())
	}
	fmt.Printf("\ntz.write=%s\ntz.read=%s\n", q.Statements[0].Rows[0][0].Text, q.Statements[1].Rows[0][0].Text)
}
