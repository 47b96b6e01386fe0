package server_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/snapshot/archive"
)

// goldenArchive is the archive of format version 1 that every later
// version must still rebuild; goldenExpect what it holds.
var (
	goldenArchive = filepath.Join("..", "snapshot", "archive", "testdata", "golden-v1")
	goldenExpect  = filepath.Join("..", "snapshot", "archive", "testdata", "golden-v1.json")
)

// goldenRows is, for an index of the golden archive, the rows of table t
// then, as sqlite3 prints them.
type goldenRows struct {
	Index uint64 `json:"index"`
	Rows  string `json:"rows"`
}

func rowsIn(t *testing.T, path string) string {
	t.Helper()
	out, err := execSQLite(path, "SELECT id, v, at, hex(r) FROM t ORDER BY id")
	if err != nil {
		t.Fatalf("sqlite3 %s: %v %s", path, err, out)
	}
	return strings.TrimSpace(out)
}

// TestWriteGoldenArchive makes the golden archive again from a live
// cluster when RAFTSQL_WRITE_GOLDEN_ARCHIVE=1; it is committed, and only a
// new format version should need a new one (kept beside the old).
func TestWriteGoldenArchive(t *testing.T) {
	if os.Getenv("RAFTSQL_WRITE_GOLDEN_ARCHIVE") != "1" {
		t.Skip("set RAFTSQL_WRITE_GOLDEN_ARCHIVE=1 to write the golden archive")
	}
	dir := t.TempDir()
	c := archivedCluster(t, dir)
	waitArchiving(t, c)
	conn := connect(t, c, c.Leader())
	mustExec(t, conn, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, at TEXT DEFAULT CURRENT_TIMESTAMP, r BLOB DEFAULT (randomblob(4)))")
	var marks []uint64
	for i := 1; i <= 30; i++ {
		w := insert(t, conn, i)
		if i%5 == 0 {
			mustExec(t, conn, "UPDATE t SET v = v || ' updated' WHERE id = $1", i-1)
			mustExec(t, conn, "DELETE FROM t WHERE id = $1", i-3)
		}
		if i == 15 {
			if _, err := c.Node(c.Leader()).Snapshot(); err != nil {
				t.Fatal(err)
			}
		}
		marks = append(marks, w.index)
	}
	w := insert(t, conn, 1000)
	marks = append(marks, w.index)
	waitArchived(t, dir, w.index)
	live, _ := backupToFile(t, c.Node(c.Leader()), server.BackupOptions{})
	c.Close()
	if out, _ := rebuild(t, dir, server.ArchiveTarget{Index: w.index}); rowsIn(t, out) != rowsIn(t, live) {
		t.Fatalf("the rebuild of the last write differs from the cluster's backup:\n%s\n%s", rowsIn(t, out), rowsIn(t, live))
	}

	var expect []goldenRows
	for _, idx := range []uint64{marks[0], marks[9], marks[14], marks[20], marks[len(marks)-1]} {
		out, _ := rebuild(t, dir, server.ArchiveTarget{Index: idx})
		expect = append(expect, goldenRows{Index: idx, Rows: rowsIn(t, out)})
	}
	if err := os.RemoveAll(goldenArchive); err != nil {
		t.Fatal(err)
	}
	if err := copyTree(dir, goldenArchive); err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(expect, "", "  ")
	if err := os.WriteFile(goldenExpect, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyTree(from, to string) error {
	return filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if fi.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if strings.HasPrefix(fi.Name(), ".tmp-") {
			return nil
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		out, err := os.Create(dst)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, src); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// The committed archive of format version 1 still rebuilds to exactly the
// rows it held when it was written, time stamps and random defaults
// included.
func TestGoldenArchiveV1(t *testing.T) {
	b, err := os.ReadFile(goldenExpect)
	if err != nil {
		t.Fatal(err)
	}
	var expect []goldenRows
	if err := json.Unmarshal(b, &expect); err != nil {
		t.Fatal(err)
	}
	if len(expect) == 0 {
		t.Fatal("no expectations")
	}
	cat, err := archive.Load(context.Background(), &archive.DirStore{Dir: goldenArchive})
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Bases) < 2 {
		t.Fatalf("the golden archive has %d bases, want at least 2", len(cat.Bases))
	}
	for _, e := range expect {
		out, info := rebuild(t, goldenArchive, server.ArchiveTarget{Index: e.Index})
		if got := rowsIn(t, out); got != e.Rows {
			t.Fatalf("golden archive at index %d (base %d): rows\n%s\nwant\n%s", e.Index, info.BaseIndex, got, e.Rows)
		}
	}
}

func execSQLite(path, sql string) (string, error) {
	out, err := exec.Command("sqlite3", path, sql).CombinedOutput()
	return string(out), err
}
