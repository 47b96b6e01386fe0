package raft

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

// writeBolt makes a real bolt file of several pages at path.
func writeBolt(t *testing.T, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("logs"))
		if err != nil {
			return err
		}
		for i := range 2000 {
			if err := b.Put([]byte{byte(i >> 8), byte(i)}, bytes.Repeat([]byte{'x'}, 100)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCheckBoltFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "raft.db")
	if err := checkBoltFile(path); err != nil {
		t.Fatalf("missing file: %v", err)
	}
	writeBolt(t, path)
	if err := checkBoltFile(path); err != nil {
		t.Fatalf("intact file: %v", err)
	}
	st, _ := os.Stat(path)
	meta, err := func() (boltMeta, error) {
		f, err := os.Open(path)
		if err != nil {
			return boltMeta{}, err
		}
		defer f.Close()
		return readBoltMeta(f, st.Size())
	}()
	if err != nil || meta.pgid*uint64(meta.pageSize) > uint64(st.Size()) || meta.pgid < 10 {
		t.Fatalf("meta %+v, %v of a %d-byte file", meta, err, st.Size())
	}

	// Cut the file inside the pages in use.
	if err := os.Truncate(path, int64(meta.pgid*uint64(meta.pageSize))/2); err != nil {
		t.Fatal(err)
	}
	err = checkBoltFile(path)
	if err == nil || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), path) {
		t.Fatalf("truncated file: %v; want an error naming %s as truncated", err, path)
	}

	// Both meta pages destroyed.
	junk := bytes.Repeat([]byte{0xAB}, 3*int(meta.pageSize))
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkBoltFile(path); err == nil || !strings.Contains(err.Error(), "neither meta page") {
		t.Fatalf("junk file: %v", err)
	}
}

// TestTruncatedLogStoreIsRefused starts a node on a raft.db cut short: bbolt
// would die with SIGBUS reading past the end; the node must refuse with an
// error naming the file.
func TestTruncatedLogStoreIsRefused(t *testing.T) {
	c := newCluster(t, 1, nil)
	for i := range 300 {
		apply(t, c.nodes[0], strings.Repeat("y", 200+i))
	}
	dir := c.dirs[0]
	c.stop(0)
	path := filepath.Join(dir, "raft.db")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()/3); err != nil {
		t.Fatal(err)
	}
	n, err := New(testConfig("n0", dir, listen(t, "")), &listFSM{})
	if err == nil {
		n.Close()
		t.Fatal("a node started on a truncated raft.db")
	}
	if !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q does not name %s as truncated", err, path)
	}
	if errors.Is(err, ErrShutdown) {
		t.Fatal(err)
	}
}

func FuzzBoltMeta(f *testing.F) {
	path := filepath.Join(f.TempDir(), "seed.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		f.Fatal(err)
	}
	db.Close()
	seed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed[:8192])
	f.Add(seed[:4096])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := readBoltMeta(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		if m.pageSize < boltMinPageSize || m.pageSize&(m.pageSize-1) != 0 || m.pgid < 2 {
			t.Fatalf("accepted meta %+v", m)
		}
	})
}
