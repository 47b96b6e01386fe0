package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/raftsql/raftsql/fsm"
	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// laterFunc poses as a function a later release adds (entry version 5): a
// node of the older release does not have it.
var laterFunc = fsm.Func{Name: "later_double", NArgs: 1, Since: 5, Fn: func(a []any) (any, error) {
	if n, ok := a[0].(int64); ok {
		return n * 2, nil
	}
	return nil, nil
}}

// TestFunctionOfNewerReleaseWaitsForUpgrade: while one member runs a
// release without a function (advertising entry version 4), the leader
// refuses a write that calls it, directly or in a transaction, and a DDL
// that stores a call of it (a DEFAULT, an index, a trigger, a view, a
// CHECK), with 0A000 naming the function and the member, and no node
// stores anything; once the member is upgraded the same writes succeed
// and every node agrees.
func TestFunctionOfNewerReleaseWaitsForUpgrade(t *testing.T) {
	const old = 2
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		cfg.TestEntryVersion = 4
	}})
	_, peer := c.Node(0).ClusterVersions()
	for i := range 3 {
		if i == old {
			continue
		}
		c.Stop(i)
		c.Reconfigure(i, func(cfg *server.Config) { cfg.TestEntryVersion, cfg.TestFuncs = 0, []fsm.Func{laterFunc} })
		c.Restart(i)
		c.WaitLeader()
	}
	waitClusterVersions(t, c, 4, peer)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if c.WaitLeader() == old {
		if _, err := c.Node(old).TransferLeadership(ctx, servertest.NodeID(0), "test"); err != nil {
			t.Fatal(err)
		}
	}
	leader := c.WaitLeader()
	if leader == old {
		t.Fatal("the old member still leads")
	}
	follower := 1 - leader // the other upgraded node
	conn := connect(t, c, follower)
	mustExec(t, conn, "CREATE TABLE t (a INTEGER, b INTEGER)")
	mustExec(t, conn, "CREATE TABLE log (x INTEGER)")

	refused := func(what string, run func() error) {
		t.Helper()
		err := run()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "0A000" {
			t.Fatalf("%s: %v, want SQLSTATE 0A000", what, err)
		}
		if strings.Contains(pe.Message, "later_double()") && strings.Contains(pe.Message, "portable backup") {
			// What a table would store (a DEFAULT, a CHECK, an index) calls
			// only what stock sqlite3 runs: refused before the gate asks,
			// and after the upgrade too.
			return
		}
		if !strings.Contains(pe.Message, "later_double") || !strings.Contains(pe.Message, servertest.NodeID(old)) {
			t.Fatalf("%s: the message does not name the function and node %s: %s", what, servertest.NodeID(old), pe.Message)
		}
	}
	exec := func(sql string) func() error {
		return func() error { _, err := conn.Exec(ctx, sql); return err }
	}
	refused("a direct call", exec("INSERT INTO t VALUES (1, later_double(1))"))
	refused("through the leader", func() error {
		_, err := connect(t, c, leader).Exec(ctx, "UPDATE t SET b = later_double(a)")
		return err
	})
	refused("a stored DEFAULT", exec("CREATE TABLE d (a INTEGER, b INTEGER DEFAULT (later_double(2)))"))
	refused("an expression index", exec("CREATE INDEX ti ON t (later_double(a))"))
	refused("in a transaction", func() error {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, "INSERT INTO log VALUES (1)"); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO log VALUES (later_double(3))")
		return err
	})
	refused("a stored trigger", exec("CREATE TRIGGER tr AFTER INSERT ON log BEGIN INSERT INTO t VALUES (new.x, later_double(new.x)); END"))
	refused("a stored view", exec("CREATE VIEW v AS SELECT later_double(a) AS x FROM t"))
	refused("a stored CHECK", exec("CREATE TABLE ck (a INTEGER CHECK (later_double(a) < 100))"))
	refused("a DDL in a transaction", func() error {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		_, err = tx.Exec(ctx, "ALTER TABLE t ADD COLUMN c INTEGER DEFAULT (later_double(5))")
		return err
	})
	// A batch's statements are each a write of their own: the table is
	// created, the insert refused.
	refused("a batch", exec("CREATE TABLE nb (a INTEGER); INSERT INTO nb VALUES (later_double(1))"))
	refused("a DDL on a table the transaction created", func() error {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, "CREATE TABLE nt (a INTEGER)"); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "CREATE VIEW nv AS SELECT later_double(a) AS x FROM nt")
		return err
	})
	// One command of several statements (the embedding API's) is judged
	// whole: the insert uses the table the command creates.
	if _, err := c.Node(leader).Execute(ctx, []command.Statement{{SQL: "CREATE TABLE ne (a INTEGER)"}, {SQL: "INSERT INTO ne VALUES (later_double(1))"}}, command.RequestID{}); !errors.Is(err, server.ErrNotUpgraded) || !strings.Contains(err.Error(), "later_double") {
		t.Fatalf("a command of several statements: %v", err)
	}
	// What calls none is written as usual.
	mustExec(t, conn, "CREATE VIEW pv AS SELECT abs(a) AS x FROM t")
	mustExec(t, conn, "DROP VIEW pv")

	c.WaitSynced()
	for i := range 3 {
		d, err := c.Node(i).Dump(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(d, "-- rows of t: 0") || !strings.Contains(d, "-- rows of log: 0") || strings.Contains(d, " d on ") || strings.Contains(d, "index ti") ||
			strings.Contains(d, "trigger tr") || strings.Contains(d, "view v") || strings.Contains(d, " ck on ") || !strings.Contains(d, "-- rows of nb: 0") || strings.Contains(d, " nt on ") || strings.Contains(d, " ne on ") || strings.Contains(d, "later_double") {
			t.Fatalf("node %d holds what was refused:\n%s", i, d)
		}
	}

	c.Stop(old)
	c.Reconfigure(old, func(cfg *server.Config) { cfg.TestEntryVersion, cfg.TestFuncs = 0, []fsm.Func{laterFunc} })
	c.Restart(old)
	c.WaitLeader()
	waitClusterVersions(t, c, server.EntryVersion, peer)
	conn = connect(t, c, c.Follower())
	mustExec(t, conn, "INSERT INTO t VALUES (1, later_double(1))")
	mustExec(t, conn, "CREATE TABLE d (a INTEGER, b INTEGER DEFAULT 4)")
	mustExec(t, conn, "INSERT INTO d (a) VALUES (1)")
	mustExec(t, conn, "CREATE TRIGGER tr AFTER INSERT ON d BEGIN INSERT INTO t VALUES (new.a, later_double(new.b)); END")
	mustExec(t, conn, "INSERT INTO d (a) VALUES (2)")
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO log VALUES (later_double(3))"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	c.WaitSynced()
	var want string
	for i := range 3 {
		d, err := c.Node(i).Dump(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			want = d
			if !strings.Contains(d, "-- rows of d: 2") || !strings.Contains(d, "-- rows of log: 1") || !strings.Contains(d, "-- rows of t: 2") {
				t.Fatalf("node 0 does not hold the writes:\n%s", d)
			}
		} else if d != want {
			t.Fatalf("node %d differs from node 0:\n%s\n---\n%s", i, d, want)
		}
	}
}
