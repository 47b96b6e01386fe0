package compattest

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPsqlSequences: CREATE SEQUENCE, nextval, currval, setval from psql,
// the numbers going on from another node, and a sequence's bound.
func TestPsqlSequences(t *testing.T) {
	need(t, "psql", "--version")
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	psql := func(node int, args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "psql", append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-At"}, append(args, dsnFor(t, node))...)...).CombinedOutput()
		return string(out), err
	}
	path, _ := filepath.Abs("testdata/sequence.sql")
	out, err := psql(cluster.Follower(), "-f", path)
	if want := "1\n2\n2\n41\n42\n10\n5\n0\n"; err != nil || out != want {
		t.Fatalf("psql -f sequence.sql: %v\n%s\nwant\n%s", err, out, want)
	}
	// Another node goes on where the sequence is.
	if out, err := psql(cluster.Leader(), "-c", "SELECT nextval('seq_orders_id_seq')"); err != nil || out != "43\n" {
		t.Errorf("nextval on the leader: %v %q, want 43", err, out)
	}
	if out, err := psql(cluster.Leader(), "-c", "SELECT nextval('seq_down')"); err == nil || !strings.Contains(out, "reached minimum value") {
		t.Errorf("nextval past the bound: %v %q", err, out)
	}
	if out, err := psql(cluster.Leader(), "-c", "SELECT currval('seq_down')"); err == nil || !strings.Contains(out, "not yet defined in this session") {
		t.Errorf("currval in a new session: %v %q", err, out)
	}
	if out, err := psql(cluster.Leader(), "-c", "SELECT nextval('no_such_seq')"); err == nil || !strings.Contains(out, "does not exist") {
		t.Errorf("nextval of a missing sequence: %v %q", err, out)
	}
}
