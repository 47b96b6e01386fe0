package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server/servertest"
)

// TestAlterToTheSameDefinitionCopiesNothing: an ALTER TABLE that leaves the
// table's definition as it is (TypeORM sets a column's default on every
// start) does not rebuild the table, while one that changes it does.
func TestAlterToTheSameDefinitionCopiesNothing(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn := connect(t, c, c.Follower())
	mustExec(t, conn, "CREATE TABLE ev (id integer PRIMARY KEY, at timestamptz DEFAULT now(), n integer NOT NULL DEFAULT 0)")
	mustExec(t, conn, "INSERT INTO ev (id) VALUES (1), (2)")
	schemaRow := func() int64 {
		var p int64
		if err := conn.QueryRow(ctx, "SELECT rowid FROM sqlite_schema WHERE name = 'ev'").Scan(&p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The first of each may write the definition in the form a rebuild
	// writes it; the second finds it so.
	for _, sql := range []string{
		`ALTER TABLE "ev" ALTER COLUMN "at" SET DEFAULT now()`,
		`ALTER TABLE ev ALTER COLUMN n SET NOT NULL`,
	} {
		mustExec(t, conn, sql)
		before := schemaRow()
		mustExec(t, conn, sql)
		if after := schemaRow(); after != before {
			t.Errorf("%s rebuilt the table again (its schema row %d, was %d)", sql, after, before)
		}
	}
	before := schemaRow()
	mustExec(t, conn, "ALTER TABLE ev ALTER COLUMN n SET DEFAULT 5")
	if after := schemaRow(); after == before {
		t.Errorf("a new default left the table's schema row at %d: not rebuilt", after)
	}
	mustExec(t, conn, "INSERT INTO ev (id) VALUES (3)")
	if n := count(t, conn, "SELECT n FROM ev WHERE id = 3"); n != 5 {
		t.Errorf("the new default gave %d, want 5", n)
	}
	c.EnsureSame()
}
