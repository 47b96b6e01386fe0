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

// TestTimePrecisionBeforeZone: columns declared with the precision before
// the zone, as pg_dump prints them and Rails and Prisma declare them
// (timestamp(6) without time zone), are made and keep their types.
func TestTimePrecisionBeforeZone(t *testing.T) {
	need(t, "psql", "--version")
	dropTables(t, "zoned")
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	dsn := dsnFor(t, cluster.Follower())
	script := `CREATE TABLE zoned (id bigint PRIMARY KEY, created_at timestamp(6) without time zone NOT NULL, seen TIMESTAMP(3) WITH TIME ZONE);
ALTER TABLE zoned ADD COLUMN updated_at timestamp(6) with time zone;
ALTER TABLE zoned ALTER COLUMN created_at TYPE timestamp(3) without time zone;
INSERT INTO zoned VALUES (1, '2024-05-06 07:08:09.123', '2024-05-06 07:08:09.5+02', '2024-05-06 00:00:00+00');
SELECT created_at, seen FROM zoned;
SELECT created_at, seen, updated_at FROM zoned \gdesc
SELECT column_name, datetime_precision, format_type(a.atttypid, a.atttypmod) FROM information_schema.columns c
  JOIN pg_attribute a ON a.attrelid = 'zoned'::regclass AND a.attname = c.column_name
  WHERE table_name = 'zoned' AND column_name <> 'id' ORDER BY ordinal_position;`
	cmd := exec.CommandContext(ctx, "psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", dsn)
	cmd.Stdin = strings.NewReader("SET TIME ZONE 'UTC';\n" + script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	for _, want := range []string{"2024-05-06 07:08:09.123|2024-05-06 05:08:09.5+00\n",
		// The precision, as pg_dump, Rails' schema dumper and Prisma's
		// introspection read it back.
		"created_at|timestamp(3) without time zone\nseen|timestamp(3) with time zone\nupdated_at|timestamp(6) with time zone\n",
		"created_at|3|timestamp(3) without time zone\nseen|3|timestamp(3) with time zone\nupdated_at|6|timestamp(6) with time zone\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("psql printed\n%s\nwant %q", out, want)
		}
	}
}
