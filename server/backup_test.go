package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// loadSample writes tables of every storage class, an AUTOINCREMENT
// sequence with a gap, a WITHOUT ROWID table, an index, a view and a
// trigger through node 0.
func loadSample(t *testing.T, c *servertest.Cluster, trigger bool) {
	t.Helper()
	conn := connect(t, c, 0)
	for _, s := range []string{
		"CREATE TABLE parent (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE)",
		"CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id), v ANY)",
		"CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID",
		"CREATE TABLE log (msg TEXT, at TEXT DEFAULT CURRENT_TIMESTAMP)",
		"CREATE INDEX child_v ON child (v)",
		"CREATE VIEW names AS SELECT name FROM parent",
		"INSERT INTO parent (name) VALUES ('a'), ('b'), ('it''s'), ('two\nlines')",
		"DELETE FROM parent WHERE name = 'b'",
		"INSERT INTO child (id, parent_id, v) VALUES (1, 1, 1.5), (2, 3, x'00ff10'), (3, NULL, 'text'), (4, 1, 42), (5, 1, NULL), (6, 1, 1e300)",
		"INSERT INTO kv VALUES ('k1', randomblob(3000)), ('k2', x'')",
		"INSERT INTO log (msg) VALUES ('loaded')",
	} {
		mustExec(t, conn, s)
	}
	if trigger {
		// psql splits a trigger's body at its semicolons, so SQL dumps
		// with triggers load through sqlite3 or a restore, not psql.
		mustExec(t, conn, "CREATE TRIGGER parent_log AFTER INSERT ON parent BEGIN INSERT INTO log (msg) VALUES ('parent ' || NEW.name); END")
	}
}

func dumpOf(t *testing.T, c *servertest.Cluster, i int) string {
	t.Helper()
	d, err := c.Node(i).Dump(context.Background())
	if err != nil {
		t.Fatalf("dump of node %d: %v", i, err)
	}
	return d
}

func backupToFile(t *testing.T, n *server.Node, opts server.BackupOptions) (string, server.BackupInfo) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := n.Backup(ctx, f, opts)
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, info
}

func restoreFile(t *testing.T, n *server.Node, path string) (server.RestoreInfo, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return n.Restore(ctx, f)
}

func sqlite3Check(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("sqlite3", path, "PRAGMA integrity_check").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("sqlite3 %s 'PRAGMA integrity_check': %v %s", path, err, out)
	}
}

// A backup of one cluster restored into a fresh one: every node of the new
// cluster holds exactly the source's data, and a node that joins later
// catches up from the restored snapshot.
func TestBackupRestoreIntoFreshCluster(t *testing.T) {
	src := servertest.NewCluster(t, 3, servertest.Options{})
	loadSample(t, src, true)
	src.EnsureSame()
	want := dumpOf(t, src, src.Leader())

	// A follower refuses a backup that needs the leader.
	if _, err := src.Node(src.Follower()).Backup(context.Background(), &bytes.Buffer{}, server.BackupOptions{}); !errors.Is(err, server.ErrNeedsLeader) {
		t.Fatalf("backup on a follower: got %v, want ErrNeedsLeader", err)
	}
	path, info := backupToFile(t, src.Node(src.Leader()), server.BackupOptions{})
	sqlite3Check(t, path)
	if info.Index == 0 || info.Index > src.Node(src.Leader()).AppliedIndex() {
		t.Fatalf("backup index %d, leader applied %d", info.Index, src.Node(src.Leader()).AppliedIndex())
	}

	dst := servertest.NewCluster(t, 3, servertest.Options{})
	mustExec(t, connect(t, dst, 0), "CREATE TABLE old_data (x)")
	ri, err := restoreFile(t, dst.Node(dst.Leader()), path)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if ri.Index == 0 {
		t.Fatalf("restore reported index 0")
	}
	dst.EnsureSame()
	for i := 0; i < dst.Size(); i++ {
		if got := dumpOf(t, dst, i); got != want {
			t.Fatalf("node %d of the restored cluster differs from the source:\n--- got\n%s\n--- want\n%s", i, got, want)
		}
		if a := dst.Node(i).AppliedIndex(); a < ri.Index {
			t.Fatalf("node %d applied %d, below the restore's index %d", i, a, ri.Index)
		}
	}
	// The restored cluster takes writes, and the trigger came along.
	mustExec(t, connect(t, dst, dst.Follower()), "INSERT INTO parent (name) VALUES ('after')")
	dst.EnsureSame()
	if n := count(t, connect(t, dst, 0), "SELECT count(*) FROM log WHERE msg = 'parent after'"); n != 1 {
		t.Fatalf("trigger rows after restore: %d", n)
	}

	// A brand-new node joins and catches up: from the log, which carries
	// the restore's entries, or from a snapshot taken after it.
	cfg := dst.Config(0)
	cfg.ID = "late"
	cfg.DataDir = t.TempDir()
	cfg.Bootstrap = false
	cfg.Join = []string{dst.Config(dst.Leader()).RaftAddr}
	cfg.RaftAddr, cfg.PGAddr, cfg.HTTPAddr = loopbackAddr(t), loopbackAddr(t), ""
	cfg.RaftListener, cfg.PGListener, cfg.HTTPListener = nil, nil, nil
	late, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := late.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { late.Close() })
	leader := dst.Node(dst.Leader())
	servertest.Eventually(t, 60*time.Second, "the new node catches up", func() error {
		target := leader.LocalStatus().CommitIndex
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if err := late.WaitApplied(ctx, target); err != nil {
			return err
		}
		d, err := late.Dump(context.Background())
		if err != nil {
			return err
		}
		if ld := dumpOf(t, dst, dst.Leader()); d != ld {
			return errors.New("dump differs from the leader's")
		}
		return nil
	})
	if a := late.AppliedIndex(); a < ri.Index {
		t.Fatalf("the new node applied %d, below the restore's index %d", a, ri.Index)
	}
}

func loopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Files that may not become a cluster's state are refused before anything
// changes, each with a message that says why.
func TestRestoreRefusesBadFiles(t *testing.T) {
	const limit = 1 << 20
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) { cfg.MaxRestoreSize = limit }})
	conn := connect(t, c, 0)
	mustExec(t, conn, "CREATE TABLE t (v BLOB)")
	for range 4 {
		mustExec(t, conn, "INSERT INTO t VALUES (randomblob(30000))")
	}
	c.EnsureSame()
	good, _ := backupToFile(t, c.Node(c.Leader()), server.BackupOptions{})
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	before := dumpOf(t, c, 0)
	beforeIndex := c.Node(c.Leader()).LocalStatus().CommitIndex
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	corrupt := bytes.Clone(data)
	for i := len(corrupt) - 4096; i < len(corrupt)-4096+64; i++ {
		corrupt[i] = 0xa5
	}
	vt := filepath.Join(dir, "vt.db")
	if out, err := exec.Command("sqlite3", vt, "CREATE TABLE ok (x); CREATE VIRTUAL TABLE s USING dbstat;").CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v %s", err, out)
	}
	big := write("big.db", append(bytes.Clone(data), make([]byte, limit)...))
	for _, tc := range []struct{ name, path, want string }{
		{"larger than the limit", big, "larger than the node's limit"},
		{"truncated", write("trunc.db", data[:len(data)/2+100]), "truncated"},
		{"not SQLite", write("notes.txt", []byte("name,qty\napple,3\n")), "not a SQLite database"},
		{"corrupt page", write("corrupt.db", corrupt), "integrity_check"},
		{"refused schema", vt, `virtual tables of module "dbstat" are not allowed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := restoreFile(t, c.Node(c.Leader()), tc.path)
			if !(errors.Is(err, server.ErrRestoreRefused) || errors.Is(err, server.ErrRestoreTooLarge)) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a refusal saying %q", err, tc.want)
			}
		})
	}
	// Over HTTP, a body whose length says it is too large is refused
	// before it is read.
	f, err := os.Open(big)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	req, err := http.NewRequest("POST", "http://"+c.Config(c.Leader()).HTTPAddr+"/restore", f)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	req.ContentLength = st.Size()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(msg), "this file has") {
		t.Fatalf("POST /restore of a file over the limit: %s %s", resp.Status, msg)
	}
	c.EnsureSame()
	for i := 0; i < c.Size(); i++ {
		if d := dumpOf(t, c, i); d != before {
			t.Fatalf("node %d changed after refused restores", i)
		}
	}
	if idx := c.Node(c.Leader()).LocalStatus().LastSnapshotIndex; idx > beforeIndex {
		t.Fatalf("a refused restore left a snapshot at %d", idx)
	}
}

// A SQL dump loads into sqlite3 and, in its psql form, through psql into a
// fresh cluster, and both hold exactly the source's data, triggers included.
func TestSQLDumpLoadsIntoSQLite3AndACluster(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (apt-get install postgresql-client)")
	}
	src := servertest.NewCluster(t, 3, servertest.Options{})
	loadSample(t, src, true)
	mustExec(t, connect(t, src, 0), "CREATE TRIGGER kv_two AFTER DELETE ON kv BEGIN INSERT INTO log (msg) VALUES ('gone; ' || OLD.k); INSERT INTO log (msg) VALUES ('twice'); END")
	src.EnsureSame()
	want := dumpOf(t, src, 0)
	sqlPath, _ := backupToFile(t, src.Node(src.Leader()), server.BackupOptions{Format: server.BackupSQL})
	psqlPath, _ := backupToFile(t, src.Node(src.Leader()), server.BackupOptions{Format: server.BackupPsql})

	dst := servertest.NewCluster(t, 3, servertest.Options{})
	host, port, _ := strings.Cut(dst.PGAddr(dst.Follower()), ":")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, psql, "-h", host, "-p", port, "-U", "raftsql", "-d", "raftsql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", psqlPath)
	cmd.Env = append(cmd.Environ(), "PGCONNECT_TIMEOUT=10")
	if out, err := cmd.CombinedOutput(); err != nil {
		dump, _ := os.ReadFile(psqlPath)
		t.Fatalf("psql -f: %v\n%s\n--- dump\n%s", err, out, dump)
	}
	dst.EnsureSame()
	if got := dumpOf(t, dst, 0); got != want {
		t.Fatalf("cluster loaded through psql differs:\n--- got\n%s\n--- want\n%s", got, want)
	}

	// The triggers came along whole, and fire.
	dc := connect(t, dst, 1)
	mustExec(t, dc, "DELETE FROM kv WHERE k = 'k2'")
	if n := count(t, dc, "SELECT count(*) FROM log WHERE msg IN ('gone; k2', 'twice')"); n != 2 {
		t.Fatalf("the two-statement trigger added %d rows, want 2", n)
	}
	dst.EnsureSame()

	dbPath := filepath.Join(t.TempDir(), "loaded.db")
	load := exec.Command("sqlite3", "-bail", dbPath, ".read "+sqlPath)
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("sqlite3 .read: %v %s", err, out)
	}
	sqlite3Check(t, dbPath)
	// What sqlite3 loaded, restored into the cluster, is the same again.
	if _, err := restoreFile(t, dst.Node(dst.Leader()), dbPath); err != nil {
		t.Fatalf("restoring what sqlite3 loaded: %v", err)
	}
	dst.EnsureSame()
	if got := dumpOf(t, dst, 0); got != want {
		t.Fatalf("file loaded by sqlite3 differs:\n--- got\n%s\n--- want\n%s", got, want)
	}
}

// The voters of a cluster spread their automatic snapshots: each waits for
// its own number of entries, by rank.
func TestSnapshotThresholdsAreStaggered(t *testing.T) {
	const threshold = 600
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		cfg.SnapshotThreshold = threshold
		cfg.SnapshotInterval = 2 * time.Second
	}})
	want := []uint64{600, 700, 800} // n1, n2, n3: ranks 0, 1 and 2 of 3 over [600, 900)
	servertest.Eventually(t, 30*time.Second, "staggered thresholds", func() error {
		for i, w := range want {
			if got := c.Node(i).SnapshotThreshold(); got != w {
				return fmt.Errorf("node %d waits for %d entries, want %d", i, got, w)
			}
		}
		return nil
	})
}

// A restore while clients write: writes wait for it or land before it, the
// restore goes through, and every node ends with the same data.
// A restore while two clients write, and while a follower is down: every
// node ends with the same data, the restored rows and none from before the
// backup; the follower that was down catches up when it comes back; no node
// keeps a staging file.
func TestRestoreWhileWriting(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	path := restoreFixtureSized(t, c, 300000)
	down := c.Follower()
	var up []int
	for i := range c.Size() {
		if i != down {
			up = append(up, i)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wrote [2]atomic.Int64
	done := make(chan struct{})
	for w := range 2 {
		wc := connect(t, c, up[w])
		go func() {
			defer func() { done <- struct{}{} }()
			for ctx.Err() == nil {
				wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
				_, err := wc.Exec(wctx, "INSERT INTO t (who) VALUES ($1)", fmt.Sprintf("writer %d", w))
				wcancel()
				if err == nil {
					wrote[w].Add(1)
				}
			}
		}()
	}
	servertest.Eventually(t, 10*time.Second, "writes flowing", func() error {
		if wrote[0].Load() < 5 || wrote[1].Load() < 5 {
			return fmt.Errorf("%d and %d writes", wrote[0].Load(), wrote[1].Load())
		}
		return nil
	})
	c.Stop(down)
	ri := restoreRetrying(t, c, path)
	before := [2]int64{wrote[0].Load(), wrote[1].Load()}
	servertest.Eventually(t, 20*time.Second, "writes after the restore", func() error {
		if wrote[0].Load() < before[0]+5 || wrote[1].Load() < before[1]+5 {
			return fmt.Errorf("%d and %d writes since", wrote[0].Load()-before[0], wrote[1].Load()-before[1])
		}
		return nil
	})
	c.Restart(down)
	cancel()
	<-done
	<-done
	// A write whose client gave up may still commit a moment later; the
	// nodes must agree once it has.
	servertest.Eventually(t, 30*time.Second, "every node the same", func() error {
		c.WaitSynced()
		first := dumpOf(t, c, 0)
		for i := 1; i < c.Size(); i++ {
			if dumpOf(t, c, i) != first {
				return fmt.Errorf("node %d differs from node 0", i)
			}
		}
		return nil
	})
	c.EnsureSame()
	if a := c.Node(down).AppliedIndex(); a < ri.Index {
		t.Fatalf("the node that was down applied %d, below the restore's %d", a, ri.Index)
	}
	check := connect(t, c, down)
	if n := count(t, check, "SELECT count(*) FROM t WHERE who = 'lost'"); n != 0 {
		t.Fatalf("a row written before the backup's restore survived it")
	}
	if n := count(t, check, "SELECT count(*) FROM t WHERE who = 'restored' AND length(pad) = 300000"); n != 1 {
		t.Fatalf("the restored row: %d", n)
	}
	for i := range c.Size() {
		staged, _ := filepath.Glob(filepath.Join(c.Config(i).DataDir, "*.restore-staging"))
		if staged = append(staged, stagingFilesOf(c, i)...); len(staged) > 0 {
			t.Fatalf("node %d keeps a staging file: %v", i, staged)
		}
	}
}

// A second restore while one is in progress is refused, and the first
// still completes.
func TestSecondRestoreIsRefused(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	conn := connect(t, c, 0)
	mustExec(t, conn, "CREATE TABLE t (v TEXT)")
	mustExec(t, conn, "INSERT INTO t VALUES ('restored')")
	c.EnsureSame()
	path, _ := backupToFile(t, c.Node(c.Leader()), server.BackupOptions{})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	leader := c.Node(c.Leader())
	pr, pw := io.Pipe()
	first := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		_, err := leader.Restore(ctx, pr)
		first <- err
	}()
	// The first is receiving its file (it holds the restore until then).
	if _, err := pw.Write(data[:100]); err != nil {
		t.Fatal(err)
	}
	if _, err := restoreFile(t, leader, path); !errors.Is(err, server.ErrRestoreBusy) {
		t.Fatalf("a second restore: got %v, want ErrRestoreBusy", err)
	}
	pw.Write(data[100:])
	pw.Close()
	if err := <-first; err != nil {
		t.Fatalf("the first restore: %v", err)
	}
	c.EnsureSame()
}

// stagingFilesOf lists node i's staging files of a restore: through the
// log (.restore-staging), or copied out of band (.restore-ID.partial while
// copied, .restore-ID.staged once whole).
func stagingFilesOf(c *servertest.Cluster, i int) []string {
	var all []string
	for _, pattern := range []string{"*.restore-staging", "*.restore-*.partial", "*.restore-*.staged"} {
		m, _ := filepath.Glob(filepath.Join(c.Config(i).DataDir, "db", pattern))
		all = append(all, m...)
	}
	return all
}

func stagingFiles(t *testing.T, c *servertest.Cluster) []string {
	t.Helper()
	var all []string
	for i := range c.Size() {
		all = append(all, stagingFilesOf(c, i)...)
	}
	return all
}

// A leader lost while the members copy its restore: the restore is
// installed nowhere, the next leader aborts it and every node removes its
// staging file, the old leader comes back with the others' data.
func TestRestoreAbandonedWhenItsLeaderIsLost(t *testing.T) {
	// Slow copies, so that the leader is lost while they run.
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) { cfg.RestoreCopyRate = 4 }})
	conn := connect(t, c, 0)
	mustExec(t, conn, "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
	for range 40 {
		mustExec(t, conn, "INSERT INTO t (v) VALUES (randomblob(1000000))")
	}
	c.EnsureSame()
	path, _ := backupToFile(t, c.Node(c.Leader()), server.BackupOptions{})
	mustExec(t, conn, "CREATE TABLE later (x)")
	c.EnsureSame()
	before := dumpOf(t, c, c.Leader())

	l := c.Leader()
	done := make(chan error, 1)
	go func() {
		_, err := restoreFile(t, c.Node(l), path)
		done <- err
	}()
	servertest.Eventually(t, 60*time.Second, "a follower staging the restore", func() error {
		for i := range c.Size() {
			if i == l {
				continue
			}
			if m := stagingFilesOf(c, i); len(m) > 0 {
				return nil
			}
		}
		select {
		case err := <-done:
			t.Fatalf("the restore ended (%v) before a follower was seen staging it; make the file larger", err)
		default:
		}
		return errors.New("no staging file yet")
	})
	c.Crash(l)
	if err := <-done; err == nil {
		t.Fatal("the restore succeeded although its leader was lost in the middle")
	}
	c.WaitLeader()
	servertest.Eventually(t, 30*time.Second, "the staging files removed", func() error {
		if m := stagingFiles(t, c); len(m) > 0 {
			return fmt.Errorf("staging files: %v", m)
		}
		return nil
	})
	c.Restart(l)
	mustExec(t, connect(t, c, c.Leader()), "INSERT INTO later VALUES (1)")
	c.EnsureSame()
	if m := stagingFiles(t, c); len(m) > 0 {
		t.Fatalf("staging files after the old leader came back: %v", m)
	}
	if got := dumpOf(t, c, l); !strings.Contains(got, "later") || got == before {
		t.Fatalf("the old leader does not hold the cluster's data")
	}
	if n := count(t, connect(t, c, l), "SELECT count(*) FROM later"); n != 1 {
		t.Fatalf("the old leader holds %d rows of later, want 1", n)
	}
}
