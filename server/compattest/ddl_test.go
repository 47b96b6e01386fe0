package compattest

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPsqlDDL: psql -f of DDL such as pg_dump and migration tools write
// (OWNER TO, COMMENT ON, CREATE INDEX … USING btree, CREATE EXTENSION),
// then the indexes it made do their work.
func TestPsqlDDL(t *testing.T) {
	need(t, "psql", "--version")
	dropTables(t, "ddl_things")
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	dsn := dsnFor(t, cluster.Follower())
	path, _ := filepath.Abs("testdata/ddl.sql")
	out, err := exec.CommandContext(ctx, "psql", "-X", "-v", "ON_ERROR_STOP=1", "-f", path, dsn).CombinedOutput()
	if err != nil {
		t.Fatalf("psql -f ddl.sql: %v\n%s", err, out)
	}
	for _, tag := range []string{"CREATE EXTENSION", "ALTER TABLE", "COMMENT", "CREATE INDEX", "ALTER INDEX", "INSERT 0 2"} {
		if !strings.Contains(string(out), tag) {
			t.Errorf("psql printed no %s:\n%s", tag, out)
		}
	}
	out, err = exec.CommandContext(ctx, "psql", "-X", "-c", "INSERT INTO ddl_things VALUES (3, 'a', 'x')", dsn).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `duplicate key value violates unique constraint "ddl_things_kind_name"`) {
		t.Errorf("the unique index made with USING btree did not hold: %v\n%s", err, out)
	}
	out, err = exec.CommandContext(ctx, "psql", "-X", "-c", `CREATE EXTENSION "uuid-ossp"`, dsn).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not available") {
		t.Errorf("an extension raftsql lacks was accepted: %v\n%s", err, out)
	}
}
