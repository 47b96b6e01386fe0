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

// TestPsqlSerialFromSequence: what pg_dump writes for a serial column —
// CREATE SEQUENCE, OWNED BY, SET DEFAULT nextval, setval — or for an
// identity one (ADD GENERATED … AS IDENTITY), in one transaction, makes
// the column a serial that numbers on from the sequence; a sequence that
// cannot number the column is refused.
func TestPsqlSerialFromSequence(t *testing.T) {
	need(t, "psql", "--version")
	dropTables(t, "sd_items", "sd_tags", "sd_other", "sd_ident")
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	psql := func(node int, args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "psql", append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-At"}, append(args, dsnFor(t, node))...)...).CombinedOutput()
		return string(out), err
	}
	path, _ := filepath.Abs("testdata/serialdefault.sql")
	out, err := psql(cluster.Follower(), "-1", "-f", path)
	if want := "1|f\n7\n8\n8|t\n9\n9\n10\npublic.sd_items_id_seq\n2\n2|t\n2\n3\n"; err != nil || out != want {
		t.Fatalf("psql -1 -f serialdefault.sql: %v\n%s\nwant\n%s", err, out, want)
	}
	if out, err := psql(cluster.Leader(), "-c", "INSERT INTO sd_items (name) VALUES ('e') RETURNING id"); err != nil || out != "11\n" {
		t.Errorf("the next id on the leader: %v %q, want 11", err, out)
	}
	if out, err := psql(cluster.Leader(), "-c", "CREATE TABLE sd_other (id integer NOT NULL)"); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	for _, sql := range []string{
		"CREATE SEQUENCE sd_shared; ALTER TABLE sd_other ALTER COLUMN id SET DEFAULT nextval('sd_shared')",
		"CREATE SEQUENCE sd_other_id_seq INCREMENT BY 2; ALTER TABLE sd_other ALTER COLUMN id SET DEFAULT nextval('sd_other_id_seq')",
		"SELECT nextval('sd_tags_n_seq')",
	} {
		if out, err := psql(cluster.Leader(), "-1", "-c", sql); err == nil || !strings.Contains(out, "is not supported") {
			t.Errorf("%s: %v %q, want a refusal", sql, err, out)
		}
	}
}
