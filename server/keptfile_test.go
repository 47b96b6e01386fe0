package server_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/raftsql/raftsql/server/servertest"
)

// A node shut down cleanly whose database file is then damaged past its
// first 4 KiB (one letter of a row changed, the modification time put
// back, as bit rot would leave it) does not keep the file: it restores its
// snapshot and replays the log, and holds exactly the committed data, the
// same as the other nodes.
func TestCleanRestartWithDamagedFileRestores(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	conn := connect(t, c, 0)
	const marker = "committed-row-marker"
	mustExec(t, conn, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
	row := "'" + strings.Repeat(marker+" ", 40) + "'"
	for range 20 {
		mustExec(t, conn, "INSERT INTO t (v) VALUES ("+row+")")
	}
	c.EnsureSame()
	f := c.Follower()
	if _, err := c.Node(f).Snapshot(); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		mustExec(t, conn, "INSERT INTO t (v) VALUES ("+row+")")
	}
	c.EnsureSame()
	c.Stop(f)
	path := filepath.Join(c.Config(f).DataDir, "db", "raftsql.db")
	if _, err := os.Stat(path + ".state"); err != nil {
		t.Fatalf("no state record after a clean shutdown: %v", err)
	}
	ino, mtime := dbFileStat(t, c, f)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	off := bytes.LastIndex(b, []byte(marker))
	if off < 4096 {
		t.Fatalf("the table's last row is at offset %d, want it past the first 4 KiB", off)
	}
	file, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := file.WriteAt([]byte{'C'}, int64(off)); err != nil {
		t.Fatal(err)
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}

	c.Restart(f)
	if gotIno, _ := dbFileStat(t, c, f); gotIno == ino {
		t.Fatal("the restart kept the damaged database file")
	}
	mustExec(t, conn, "INSERT INTO t (v) VALUES ('after the restart')")
	c.EnsureSame()
	fconn := connect(t, c, f)
	if n := count(t, fconn, "SELECT count(*) FROM t"); n != 26 {
		t.Fatalf("the restarted node holds %d rows, want 26", n)
	}
	if n := count(t, fconn, "SELECT count(*) FROM t WHERE instr(v, 'Committed') > 0"); n != 0 {
		t.Fatalf("the restarted node serves %d damaged rows", n)
	}

	// Intact, the file it restored is kept at the next clean restart.
	c.Stop(f)
	ino, _ = dbFileStat(t, c, f)
	c.Restart(f)
	if gotIno, _ := dbFileStat(t, c, f); gotIno != ino {
		t.Fatal("the restart replaced an intact database file")
	}
	c.EnsureSame()
}
