package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sys/unix"

	"github.com/raftsql/raftsql/server/servertest"
)

// TestFatalStateMachineFailureExits makes the SQLite file of a running
// raftsqld unable to grow (a file size limit on the process, as a full disk
// would) and writes more than fits: the state machine fails, and the
// process must exit with an error so that a supervisor restarts it, not
// linger with its ports closed.
func TestFatalStateMachineFailureExits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a process")
	}
	bin := buildBinary(t)
	root := t.TempDir()
	p := &proc{id: "n1", raftAddr: freePort(t), pgAddr: freePort(t), httpAd: freePort(t)}
	p.dir = filepath.Join(root, p.id)
	p.args = []string{"--id", p.id, "--data-dir", p.dir, "--raft-addr", p.raftAddr, "--pg-addr", p.pgAddr,
		"--http-addr", p.httpAd, "--bootstrap", "--log-level", "warn"}
	p.start(t, bin)
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(root, p.id+".log"))
			t.Logf("log of %s:\n%s", p.id, b)
		}
	})
	var conn *pgx.Conn
	servertest.Eventually(t, 30*time.Second, "the node answers", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, "postgres://u@"+p.pgAddr+"/db?sslmode=disable")
		if err != nil {
			return err
		}
		if _, err := c.Exec(ctx, "CREATE TABLE IF NOT EXISTS t (b BLOB)"); err != nil {
			c.Close(ctx)
			return err
		}
		conn = c
		return nil
	})
	ctx := context.Background()
	defer conn.Close(ctx)

	// Every file of the process may now grow to 8 MiB at most: the Raft
	// log stays far below, the database's write-ahead log does not.
	limit := unix.Rlimit{Cur: 8 << 20, Max: 8 << 20}
	if err := unix.Prlimit(p.cmd.Process.Pid, unix.RLIMIT_FSIZE, &limit, nil); err != nil {
		t.Skipf("cannot limit the process's file size: %v", err)
	}
	_, err := conn.Exec(ctx, "INSERT INTO t VALUES (zeroblob(32 * 1024 * 1024))")
	t.Logf("the write that does not fit: %v", err)

	exited := make(chan error, 1)
	cmd := p.cmd
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		p.cmd = nil // reaped
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() <= 0 {
			t.Fatalf("raftsqld exited with %v, want a non-zero exit code", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("raftsqld still runs a minute after its state machine failed")
	}
	b, _ := os.ReadFile(filepath.Join(root, p.id+".log"))
	if !strings.Contains(string(b), "state machine failed") {
		t.Fatalf("the log does not say why the node stopped:\n%s", b)
	}
}
