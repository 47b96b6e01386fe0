package server_test

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/raftsql/raftsql/driver/drivertest"
	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// TestEmbeddedDB runs the database/sql suite on the in-process connections
// of a follower and of the leader of a 3-node cluster: they must behave as
// a remote client's do.
func TestEmbeddedDB(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	for _, role := range []string{"Follower", "Leader"} {
		t.Run(role, func(t *testing.T) {
			i := c.Leader()
			if role == "Follower" {
				i = c.Follower()
			}
			drivertest.Run(t, func(t *testing.T) *sql.DB {
				db := c.Node(i).DB()
				t.Cleanup(func() { db.Close() })
				return db
			})
		})
	}
	c.EnsureSame()
}

// openNode starts a one-node cluster on loopback listeners and closes it
// when the test ends.
func openNode(t *testing.T) *server.Node {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.ID = "solo"
	cfg.DataDir = t.TempDir()
	cfg.Bootstrap = true
	cfg.RaftListener = listen(t)
	cfg.PGListener = listen(t)
	n, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	servertest.Eventually(t, 30*time.Second, "leadership", func() error {
		if !n.IsLeader() {
			return errors.New("not leader yet")
		}
		return nil
	})
	return n
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestEmbeddedSingleNode runs the suite on a one-node cluster, the usual
// way to embed raftsql in one program.
func TestEmbeddedSingleNode(t *testing.T) {
	n := openNode(t)
	drivertest.Run(t, func(t *testing.T) *sql.DB {
		db := n.DB()
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func TestEmbeddedConnectorConfig(t *testing.T) {
	n := openNode(t)
	ctx := context.Background()
	conn, err := n.Connector(server.ConnectorConfig{ReadConsistency: server.ReadNone, User: "app", ApplicationName: "embedtest"})
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	var level, user, app string
	if err := db.QueryRowContext(ctx, `SHOW raftsql.read_consistency`).Scan(&level); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SHOW session_authorization`).Scan(&user); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SHOW application_name`).Scan(&app); err != nil {
		t.Fatal(err)
	}
	if level != "none" || user != "app" || app != "embedtest" {
		t.Errorf("session: read consistency %q, user %q, application %q; want none, app, embedtest", level, user, app)
	}
	if _, err := n.Connector(server.ConnectorConfig{ReadConsistency: "eventual"}); err == nil {
		t.Error("Connector accepted read consistency \"eventual\"")
	}
}

// TestEmbeddedAfterClose checks that the connections of a closed node fail
// with ErrNodeNotOpen instead of hanging or reaching another node.
func TestEmbeddedAfterClose(t *testing.T) {
	n := openNode(t)
	ctx := context.Background()
	conn, err := n.Connector(server.ConnectorConfig{RetryTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := db.ExecContext(ctx, `INSERT INTO t VALUES (1)`); err == nil {
		t.Fatal("insert on a closed node succeeded")
	}
	if err := db.PingContext(ctx); !errors.Is(err, server.ErrNodeNotOpen) {
		t.Errorf("ping on a closed node: got %v, want ErrNodeNotOpen", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("failing took %v", d)
	}
	fresh := n.DB()
	defer fresh.Close()
	if err := fresh.PingContext(ctx); !errors.Is(err, server.ErrNodeNotOpen) {
		t.Errorf("new DB of a closed node: got %v, want ErrNodeNotOpen", err)
	}
}

func TestEmbeddedBeforeOpen(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.ID = "unopened"
	cfg.DataDir = t.TempDir()
	cfg.RaftAddr = "127.0.0.1:1"
	cfg.PGAddr = "127.0.0.1:1"
	n, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := n.DB()
	defer db.Close()
	if err := db.Ping(); !errors.Is(err, server.ErrNodeNotOpen) {
		t.Errorf("ping before Open: got %v, want ErrNodeNotOpen", err)
	}
}
