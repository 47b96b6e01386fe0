package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
	"github.com/raftsql/raftsql/snapshot/archive"
)

// The CLI end to end: rebuild from an archive to an index into a file, then
// into the cluster through --addr; a target outside the archive is refused
// with a message saying what the archive holds.
func TestRestoreFromArchiveCommand(t *testing.T) {
	dir := t.TempDir()
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) { cfg.ArchiveDir = dir }})
	servertest.Eventually(t, 30*time.Second, "the leader to archive", func() error {
		if !c.Node(c.Leader()).ArchiveStatus().Active {
			return fmt.Errorf("not archiving")
		}
		return nil
	})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN(c.Leader()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	var mid uint64
	for i := 1; i <= 20; i++ {
		if _, err := conn.Exec(ctx, "INSERT INTO t VALUES ($1)", i); err != nil {
			t.Fatal(err)
		}
		if i == 12 {
			mid, _ = strconv.ParseUint(conn.PgConn().ParameterStatus("raftsql.write_index"), 10, 64)
		}
	}
	last, _ := strconv.ParseUint(conn.PgConn().ParameterStatus("raftsql.write_index"), 10, 64)
	servertest.Eventually(t, 30*time.Second, "the archive to hold the last write", func() error {
		cat, err := archive.Load(ctx, &archive.DirStore{Dir: dir})
		if err != nil {
			return err
		}
		if cat.LastIndex() < last {
			return fmt.Errorf("archived through %d of %d", cat.LastIndex(), last)
		}
		return nil
	})

	out := filepath.Join(t.TempDir(), "mid.db")
	stdout, _ := mustRun(t, "restore", "--from-archive", dir, "--to-index", strconv.FormatUint(mid, 10), "-o", out)
	if !regexp.MustCompile(`as of index ` + strconv.FormatUint(mid, 10) + ` `).MatchString(stdout) {
		t.Fatalf("restore printed %q", stdout)
	}
	got, err := exec.Command("sqlite3", out, "SELECT count(*), max(id) FROM t").CombinedOutput()
	if err != nil || strings.TrimSpace(string(got)) != "12|12" {
		t.Fatalf("rebuilt file: %s %v", got, err)
	}

	stdout, _ = mustRun(t, "restore", "--from-archive", dir, "--to-index", strconv.FormatUint(mid, 10), "--addr", httpAddrs(c, c.Follower()), "--quiet")
	if !strings.Contains(stdout, "restored ") {
		t.Fatalf("restore --addr printed %q", stdout)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 12 {
		t.Fatalf("after the restore the cluster has %d rows (%v), want 12", n, err)
	}

	var o, e syncBuffer
	err = run(ctx, []string{"restore", "--from-archive", dir, "--to-index", strconv.FormatUint(last+100000, 10), "-o", out}, &o, &e)
	if err == nil || !strings.Contains(err.Error(), "outside the archive") {
		t.Fatalf("restore beyond the archive: %v", err)
	}
	err = run(ctx, []string{"restore", "--from-archive", dir, "--to-time", "2001-01-01T00:00:00Z", "-o", out}, &o, &e)
	if err == nil || !strings.Contains(err.Error(), "before the oldest base") {
		t.Fatalf("restore before the archive: %v", err)
	}
}
