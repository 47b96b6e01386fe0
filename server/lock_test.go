package server_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// TestDataDirectoryInUseIsRefused starts a second node on the data
// directory of a running one: it must fail at once, and the running node
// must keep its data and keep serving.
func TestDataDirectoryInUseIsRefused(t *testing.T) {
	c := servertest.NewCluster(t, 1, servertest.Options{})
	conn := connect(t, c, 0)
	mustExec(t, conn, "CREATE TABLE t (v INTEGER)")
	mustExec(t, conn, "INSERT INTO t VALUES (1)")

	cfg := c.Config(0)
	cfg.RaftAddr, cfg.PGAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0", ""
	cfg.RaftListener, cfg.PGListener, cfg.HTTPListener = nil, nil, nil
	cfg.Bootstrap = false
	second, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	err = second.Open(ctx)
	if err == nil {
		second.Close()
		t.Fatal("a second node opened a data directory in use")
	}
	if !strings.Contains(err.Error(), "in use") {
		t.Errorf("error: got %q, want it to say the directory is in use", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusal took %v", d)
	}
	entries, err := os.ReadDir(cfg.DataDir + "/db")
	if err != nil || len(entries) == 0 {
		t.Fatalf("the running node's SQLite files: %v, %v", entries, err)
	}
	mustExec(t, conn, "INSERT INTO t VALUES (2)")
	if n := count(t, conn, "SELECT count(*) FROM t"); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
	c.Stop(0)
	c.Restart(0)
	if n := count(t, connect(t, c, 0), "SELECT sum(v) FROM t"); n != 3 {
		t.Fatalf("after restart: sum %d, want 3", n)
	}
}
