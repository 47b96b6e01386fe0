package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/klauspost/compress/zstd"

	"github.com/raftsql/raftsql/server/servertest"
)

func httpAddrs(c *servertest.Cluster, order ...int) string {
	var addrs []string
	for _, i := range order {
		addrs = append(addrs, c.Config(i).HTTPAddr)
	}
	return strings.Join(addrs, ",")
}

func mustRun(t *testing.T, args ...string) (string, string) {
	t.Helper()
	var out, errOut syncBuffer
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("raftsql %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

func clusterDump(t *testing.T, c *servertest.Cluster, i int) string {
	t.Helper()
	d, err := c.Node(i).Dump(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The CLI end to end: backup through a follower (sent on to the leader) in
// every format, restore into a fresh cluster, a refused restore, and an
// on-demand snapshot.
func TestBackupRestoreSnapshotCommands(t *testing.T) {
	src := servertest.NewCluster(t, 3, servertest.Options{})
	conn, err := pgx.Connect(context.Background(), src.DSN(0))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, s := range []string{
		"CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, data BLOB)",
		"INSERT INTO items (name, data) VALUES ('a', randomblob(100000)), ('b', x'0001'), ('c', NULL)",
		"CREATE INDEX items_name ON items (name)",
	} {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	src.EnsureSame()
	want := clusterDump(t, src, 0)
	dir := t.TempDir()
	follower := src.Follower()
	addrs := "127.0.0.1:1," + httpAddrs(src, follower) // the first is down

	dbPath := filepath.Join(dir, "backup.db")
	out, _ := mustRun(t, "backup", "--addr", addrs, "-o", dbPath)
	m := regexp.MustCompile(`backup of index (\d+) `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("backup printed no index: %q", out)
	}
	if idx, _ := strconv.ParseUint(m[1], 10, 64); idx == 0 || idx > src.Node(src.Leader()).AppliedIndex() {
		t.Fatalf("backup index %s, leader applied %d", m[1], src.Node(src.Leader()).AppliedIndex())
	}
	if got, err := exec.Command("sqlite3", dbPath, "PRAGMA integrity_check").CombinedOutput(); err != nil || strings.TrimSpace(string(got)) != "ok" {
		t.Fatalf("sqlite3 integrity_check: %v %s", err, got)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*.partial-*")); len(matches) > 0 {
		t.Fatalf("partial files left: %v", matches)
	}

	// The same from the follower itself, with --consistency none, to
	// stdout, compressed.
	var zout, zerr syncBuffer
	if err := run(context.Background(), []string{"backup", "--addr", httpAddrs(src, follower), "--consistency", "none", "--compress", "zstd", "-o", "-"}, &zout, &zerr); err != nil {
		t.Fatalf("backup to stdout: %v\n%s", err, zerr.String())
	}
	if !strings.Contains(zerr.String(), "written to stdout") {
		t.Fatalf("backup to stdout reported %q on stderr", zerr.String())
	}
	zr, err := zstd.NewReader(strings.NewReader(zout.String()))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	zr.Close()
	if err != nil {
		t.Fatalf("zstd: %v", err)
	}
	if !bytes.HasPrefix(plain, []byte("SQLite format 3\x00")) {
		t.Fatalf("decompressed backup is not a SQLite file")
	}
	zPath := filepath.Join(dir, "backup.db.zst")
	if err := os.WriteFile(zPath, []byte(zout.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	sqlPath := filepath.Join(dir, "backup.sql")
	mustRun(t, "backup", "--addr", addrs, "--format", "sql", "-o", sqlPath)
	loaded := filepath.Join(dir, "loaded.db")
	if got, err := exec.Command("sqlite3", "-bail", loaded, ".read "+sqlPath).CombinedOutput(); err != nil {
		t.Fatalf("sqlite3 .read: %v %s", err, got)
	}

	dst := servertest.NewCluster(t, 3, servertest.Options{})
	dstAddrs := httpAddrs(dst, dst.Follower())
	// A refused file changes nothing and says why.
	bad := filepath.Join(dir, "bad.db")
	if err := os.WriteFile(bad, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	var rout, rerr syncBuffer
	err = run(context.Background(), []string{"restore", "--addr", dstAddrs, bad}, &rout, &rerr)
	if err == nil || !strings.Contains(err.Error(), "not a SQLite database") || !strings.Contains(err.Error(), "restore refused") {
		t.Fatalf("restore of a text file: got %v, want a refusal saying it is not a SQLite database", err)
	}

	for _, file := range []string{dbPath, zPath, loaded} {
		out, _ := mustRun(t, "restore", "--addr", dstAddrs, file)
		if !regexp.MustCompile(`as of index [1-9]\d*`).MatchString(out) {
			t.Fatalf("restore printed %q", out)
		}
		dst.EnsureSame()
		for i := 0; i < dst.Size(); i++ {
			if got := clusterDump(t, dst, i); got != want {
				t.Fatalf("after restoring %s, node %d differs:\n--- got\n%s\n--- want\n%s", filepath.Base(file), i, got, want)
			}
		}
	}

	out, _ = mustRun(t, "snapshot", "--addr", httpAddrs(dst, 0))
	m = regexp.MustCompile(`snapshot at index (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("snapshot printed %q", out)
	}
	if idx, _ := strconv.ParseUint(m[1], 10, 64); idx == 0 || idx != dst.Node(0).LocalStatus().LastSnapshotIndex {
		t.Fatalf("snapshot index %s, node reports %d", m[1], dst.Node(0).LocalStatus().LastSnapshotIndex)
	}
}

func TestProgressLines(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, "backup", 1000)
	p.every = 0
	p.add(250)
	p.add(250)
	p.finish()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "25% 250 B of 1000 B") || !strings.Contains(lines[0], "ETA") || !strings.Contains(lines[2], "50%") {
		t.Fatalf("progress lines:\n%s", buf.String())
	}
	if strings.Contains(buf.String(), "\r") {
		t.Fatal("progress to a non-terminal redraws in place")
	}
}
