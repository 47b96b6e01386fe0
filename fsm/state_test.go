package fsm

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer collects a state machine's log lines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// stateMarker is written into every row of cleanlyClosed's table, so that
// a test can find that table's pages in the file.
const stateMarker = "committed-row-marker"

// cleanlyClosed opens a state machine in dir, fills a table over many
// pages and closes it cleanly; it returns the dump of its state.
func cleanlyClosed(t *testing.T, cfg Config) string {
	t.Helper()
	f, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
	for range 4 {
		a.mustExec(t, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 200) INSERT INTO t(v) SELECT '"+stateMarker+" ' || i FROM n")
	}
	want := dump(t, f)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return want
}

// flipPastHead changes one byte of the table's data beyond the first 4 KiB
// of the closed file, in a way SQLite does not notice (a letter of a text
// value), and optionally gives the file back its modification time, as bit
// rot would.
func flipPastHead(t *testing.T, path string, keepMtime bool) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	off := bytes.LastIndex(b, []byte(stateMarker))
	if off < 2*4096 {
		t.Fatalf("the marker's last copy is at %d, want it past the first pages", off)
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
	if keepMtime {
		if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
}

// A file that changed while the state machine was closed, anywhere in it
// and by whatever means, or a record that cannot be trusted, makes Open
// start empty (Raft then restores the snapshot) and log which check failed.
func TestKeptFileIsVerified(t *testing.T) {
	for _, tc := range []struct {
		name, check string
		damage      func(t *testing.T, cfg Config)
	}{
		{"byte flipped past the head, mtime kept", "checksum", func(t *testing.T, cfg Config) {
			flipPastHead(t, cfg.Path, true)
		}},
		{"byte flipped past the head", "mtime", func(t *testing.T, cfg Config) {
			flipPastHead(t, cfg.Path, false)
		}},
		{"cut short", "size", func(t *testing.T, cfg Config) {
			fi, _ := os.Stat(cfg.Path)
			if err := os.Truncate(cfg.Path, fi.Size()-4096); err != nil {
				t.Fatal(err)
			}
		}},
		{"a copy put in its place", "inode", func(t *testing.T, cfg Config) {
			b, _ := os.ReadFile(cfg.Path)
			fi, _ := os.Stat(cfg.Path)
			if err := os.WriteFile(cfg.Path+".copy", b, 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(cfg.Path+".copy", fi.ModTime(), fi.ModTime())
			if err := os.Rename(cfg.Path+".copy", cfg.Path); err != nil {
				t.Fatal(err)
			}
		}},
		{"file gone", "missing", func(t *testing.T, cfg Config) { os.Remove(cfg.Path) }},
		{"WAL left", "journal", func(t *testing.T, cfg Config) {
			os.WriteFile(cfg.Path+"-wal", []byte("frames"), 0o644)
		}},
		{"record damaged", "record", func(t *testing.T, cfg Config) {
			b, _ := os.ReadFile(cfg.Path + stateSuffix)
			b[len(b)/2] ^= 0x10
			os.WriteFile(cfg.Path+stateSuffix, b, 0o644)
		}},
		{"record cut short", "record", func(t *testing.T, cfg Config) {
			b, _ := os.ReadFile(cfg.Path + stateSuffix)
			os.WriteFile(cfg.Path+stateSuffix, b[:len(b)-3], 0o644)
		}},
		{"record of version 1", "record", func(t *testing.T, cfg Config) {
			b, _ := os.ReadFile(cfg.Path + stateSuffix)
			b[len(stateMagic)] = stateV1
			b = binary.LittleEndian.AppendUint32(b[:len(b)-4], crc32.Checksum(b[:len(b)-4], castagnoli))
			os.WriteFile(cfg.Path+stateSuffix, b, 0o644)
		}},
		{"record of another database", "", func(t *testing.T, cfg Config) {
			other := Config{Path: cfg.Path + ".other", ReadConns: 1}
			cleanlyClosed(t, other)
			if err := os.Rename(other.Path+stateSuffix, cfg.Path+stateSuffix); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs lockedBuffer
			cfg := Config{Path: t.TempDir() + "/" + DefaultFile, ReadConns: 1,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			cleanlyClosed(t, cfg)
			tc.damage(t, cfg)
			g, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			if i, _ := g.HeldIndex(); i != 0 {
				t.Fatalf("HeldIndex %d, want 0: the file was kept", i)
			}
			if got := dump(t, g); strings.Contains(got, "CREATE TABLE") {
				t.Fatalf("the state machine kept a state:\n%s", got)
			}
			if _, err := os.Stat(g.statePath()); !os.IsNotExist(err) {
				t.Fatalf("the record is still there: %v", err)
			}
			if tc.check != "" && !strings.Contains(logs.String(), "check="+tc.check) {
				t.Fatalf("the log does not name the %s check:\n%s", tc.check, logs.String())
			}
		})
	}
}

// An intact file is kept: the same inode, the same state; the record holds
// the CRC-32C of every byte of the file.
func TestIntactKeptFileIsKept(t *testing.T) {
	var logs lockedBuffer
	cfg := Config{Path: t.TempDir() + "/" + DefaultFile, ReadConns: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	want := cleanlyClosed(t, cfg)
	b, err := os.ReadFile(cfg.Path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := os.ReadFile(cfg.Path + stateSuffix)
	if err != nil {
		t.Fatal(err)
	}
	st, err := decodeState(rec)
	if err != nil {
		t.Fatal(err)
	}
	if sum := crc32.Checksum(b, castagnoli); st.file.sum != sum || st.file.size != int64(len(b)) {
		t.Fatalf("record: sum %08x of %d bytes, the file: %08x of %d", st.file.sum, st.file.size, sum, len(b))
	}
	for _, p := range []string{"-wal", "-shm", "-journal"} {
		if fi, err := os.Stat(cfg.Path + p); err == nil && fi.Size() > 0 {
			t.Fatalf("%s of %d bytes left at a clean close", p, fi.Size())
		}
	}
	// A record a crash left half written beside it changes nothing.
	os.WriteFile(cfg.Path+stateSuffix+".tmp", rec[:10], 0o644)
	ino := inode(t, cfg.Path)
	g, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if i, _ := g.HeldIndex(); i != st.index || i == 0 {
		t.Fatalf("HeldIndex %d, want %d\n%s", i, st.index, logs.String())
	}
	if inode(t, cfg.Path) != ino {
		t.Fatal("Open replaced the database file")
	}
	if got := dump(t, g); got != want {
		t.Fatalf("kept state differs:\n%s\nwant\n%s", got, want)
	}
	if _, err := os.Stat(cfg.Path + stateSuffix + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("the half-written record is still there: %v", err)
	}
}

func FuzzDecodeState(f *testing.F) {
	f.Add(encodeState(cleanState{index: 7, term: 2, file: fileID{size: 4096, mtime: 1, ino: 12, sum: 3}, meta: []byte{metaV1, 0, 0}}))
	f.Add(encodeState(cleanState{index: 1 << 40, term: 9, file: fileID{size: 1 << 30, mtime: -5, sum: 0xffffffff}, meta: []byte{metaV1, 2, 1, 7, 3, 0}}))
	f.Add([]byte(stateMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeState(b)
		if err != nil {
			return
		}
		again, err := decodeState(encodeState(st))
		if err != nil || again.index != st.index || again.term != st.term || again.file != st.file ||
			again.lastTime != st.lastTime || !bytes.Equal(again.meta, st.meta) {
			t.Fatalf("round trip: %+v %v", again, err)
		}
	})
}
