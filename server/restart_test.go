package server_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server/servertest"
)

func dbFileStat(t *testing.T, c *servertest.Cluster, i int) (ino uint64, mtime time.Time) {
	t.Helper()
	fi, err := os.Stat(filepath.Join(c.Config(i).DataDir, "db", "raftsql.db"))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino, fi.ModTime()
}

// A node restarted after a clean shutdown, with a snapshot behind it and
// entries after it, keeps its database file (same inode, not written by
// the restart) instead of restoring the snapshot into a new one, and holds
// exactly the cluster's data: the entries after the snapshot are not
// applied twice.
func TestCleanRestartKeepsTheDatabaseFile(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	conn := connect(t, c, 0)
	mustExec(t, conn, "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
	for range 20 {
		mustExec(t, conn, "INSERT INTO t (v) VALUES (randomblob(50000))")
	}
	c.EnsureSame()
	f := c.Follower()
	if _, err := c.Node(f).Snapshot(); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		mustExec(t, conn, "INSERT INTO t (v) VALUES (randomblob(100))")
	}
	mustExec(t, conn, "UPDATE t SET v = x'00' WHERE id = 1")
	c.EnsureSame()
	c.Stop(f)
	ino, mtime := dbFileStat(t, c, f)
	c.Restart(f)
	if gotIno, gotMtime := dbFileStat(t, c, f); gotIno != ino || !gotMtime.Equal(mtime) {
		t.Fatalf("the restart rewrote the database file: inode %d → %d, mtime %v → %v", ino, gotIno, mtime, gotMtime)
	}
	if st := c.Node(f).LocalStatus(); st.LastSnapshotIndex == 0 {
		t.Fatal("the node has no snapshot behind it")
	}
	mustExec(t, conn, "INSERT INTO t (v) VALUES (x'01')")
	c.EnsureSame()
	if n := count(t, connect(t, c, f), "SELECT count(*) FROM t"); n != 26 {
		t.Fatalf("the restarted node holds %d rows, want 26", n)
	}
}

// A node whose database file was removed, or damaged, while it was down
// restores it from its snapshot and the log.
func TestRestartWithoutItsFileRestores(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	conn := connect(t, c, 0)
	mustExec(t, conn, "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
	for range 5 {
		mustExec(t, conn, "INSERT INTO t (v) VALUES (randomblob(10000))")
	}
	c.EnsureSame()
	f := c.Follower()
	if _, err := c.Node(f).Snapshot(); err != nil {
		t.Fatal(err)
	}
	mustExec(t, conn, "INSERT INTO t (v) VALUES (x'02')")
	c.EnsureSame()
	for _, damage := range []func(path string){
		func(path string) { os.Remove(path) },
		func(path string) {
			file, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			file.WriteAt([]byte("not a database"), 0)
			file.Close()
		},
	} {
		c.Stop(f)
		path := filepath.Join(c.Config(f).DataDir, "db", "raftsql.db")
		damage(path)
		c.Restart(f)
		mustExec(t, conn, "INSERT INTO t (v) VALUES (x'03')")
		c.EnsureSame()
	}
}
