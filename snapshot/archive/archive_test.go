package archive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func buildSegment(t testing.TB, first uint64, recs ...Record) *SegmentBuilder {
	t.Helper()
	b := NewSegmentBuilder(first)
	for _, r := range recs {
		if r.Data == nil {
			b.Skip(r.Index)
			continue
		}
		if err := b.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func readAll(t testing.TB, data []byte) (*SegmentReader, []Record, error) {
	t.Helper()
	sr, err := NewSegmentReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	var out []Record
	for {
		r, err := sr.Next()
		if err == io.EOF {
			return sr, out, nil
		}
		if err != nil {
			return sr, out, err
		}
		out = append(out, r)
	}
}

func TestSegmentRoundTrip(t *testing.T) {
	b := buildSegment(t, 10,
		Record{Index: 10, Term: 2, TimeUnixNano: 100, Data: []byte("a")},
		Record{Index: 11}, // a configuration change: nothing to replay
		Record{Index: 12, Term: 3, TimeUnixNano: -5, Data: []byte{}},
		Record{Index: 14, Term: 3, TimeUnixNano: 1 << 62, Data: bytes.Repeat([]byte("x"), 70000)},
	)
	b.Skip(15)
	sr, recs, err := readAll(t, b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if sr.First != 10 || sr.Last != 15 {
		t.Fatalf("range %d..%d, want 10..15", sr.First, sr.Last)
	}
	if len(recs) != 3 || recs[0].Index != 10 || string(recs[0].Data) != "a" || recs[1].Index != 12 || recs[1].TimeUnixNano != -5 ||
		len(recs[1].Data) != 0 || recs[2].Index != 14 || len(recs[2].Data) != 70000 || recs[2].Term != 3 {
		t.Fatalf("records %+v", recs)
	}
}

// Every single flipped byte and every truncation of a segment is reported
// as corrupt, never read as a shorter or different segment.
func TestSegmentCorruptionDetected(t *testing.T) {
	data := buildSegment(t, 1,
		Record{Index: 1, Term: 1, TimeUnixNano: 7, Data: []byte("INSERT")},
		Record{Index: 2, Term: 1, TimeUnixNano: 8, Data: []byte("UPDATE")},
	).Bytes()
	for i := range data {
		bad := bytes.Clone(data)
		bad[i] ^= 0x40
		if _, _, err := readAll(t, bad); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("byte %d flipped: got %v, want ErrCorrupt", i, err)
		}
	}
	for n := 0; n < len(data); n++ {
		if _, _, err := readAll(t, data[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: got %v, want ErrCorrupt", n, err)
		}
	}
	if _, _, err := readAll(t, append(bytes.Clone(data), 0)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trailing byte: got %v, want ErrCorrupt", err)
	}
}

func newStore(t *testing.T) *DirStore {
	s, err := NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDirStore(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.Put(ctx, "seg/a.seg", strings.NewReader("one")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "seg/a.seg", strings.NewReader("two")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "base/b.db", strings.NewReader("")); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "/x", "../x", "a//b", "a/", "a b", ".tmp-x"} {
		if err := s.Put(ctx, bad, strings.NewReader("")); err == nil {
			t.Errorf("Put(%q) accepted", bad)
		}
	}
	names, err := s.List(ctx, "seg/")
	if err != nil || len(names) != 1 || names[0] != "seg/a.seg" {
		t.Fatalf("List: %v %v", names, err)
	}
	rc, err := s.Get(ctx, "seg/a.seg")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "two" {
		t.Fatalf("Get: %q", b)
	}
	if _, err := s.Get(ctx, "seg/none"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a missing object: %v", err)
	}
	// A failed Put leaves nothing behind.
	if err := s.Put(ctx, "seg/c.seg", io.MultiReader(strings.NewReader("part"), iotestErr{})); err == nil {
		t.Fatal("Put from a failing reader succeeded")
	}
	if names, _ := s.List(ctx, ""); len(names) != 2 {
		t.Fatalf("after a failed Put: %v", names)
	}
	if err := s.Delete(ctx, "seg/a.seg"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "seg/a.seg"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// writeArchive makes an archive: a base at 5, segments 6..10 and 11..20, a
// gap from 21 with a base at 30, a segment 31..35, and segment times equal
// to ten times the index.
func writeArchive(t testing.TB, s Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := Init(ctx, s, 1<<20); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteBase(ctx, s, Base{Index: 5, Term: 1, TimeUnixNano: 50, Size: 4, Meta: []byte{1, 2}}, strings.NewReader("base"), ""); err != nil {
		t.Fatal(err)
	}
	seg := func(first, last uint64) {
		b := NewSegmentBuilder(first)
		for i := first; i <= last; i++ {
			if i%4 == 0 {
				b.Skip(i)
				continue
			}
			if err := b.Add(Record{Index: i, Term: 1, TimeUnixNano: int64(i) * 10, Data: []byte{byte(i)}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := WriteSegment(ctx, s, b); err != nil {
			t.Fatal(err)
		}
	}
	seg(6, 10)
	seg(11, 20)
	seg(8, 14) // overlapping, as two leaders may write
	if err := WriteGap(ctx, s, Gap{From: 21, Base: 30, Reason: "compacted"}); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteBase(ctx, s, Base{Index: 30, Term: 2, TimeUnixNano: 300, Size: 5}, strings.NewReader("base2"), "n/1 "); err != nil {
		t.Fatal(err)
	}
	seg(31, 35)
}

func replayed(t *testing.T, s Store, p Plan, stop func(Record) bool) ([]uint64, uint64) {
	t.Helper()
	var got []uint64
	reached, err := Replay(context.Background(), s, p, func(r Record) (bool, error) {
		if stop != nil && stop(r) {
			return false, nil
		}
		got = append(got, r.Index)
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, reached
}

func TestPlanAndReplay(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	writeArchive(t, s)
	cat, err := Load(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if cat.LastIndex() != 35 || cat.ResumeIndex() != 35 || len(cat.Bases) != 2 || len(cat.Gaps) != 1 {
		t.Fatalf("catalog %+v", cat)
	}
	if got := cat.Bases[1].FileName(); got != "base/00000000000000000030.n1.db" {
		t.Fatalf("base file of writer n/1: %s", got)
	}
	// A file of a base another writer's metadata replaced, left behind.
	if err := s.Put(ctx, "base/00000000000000000005.n9.db", strings.NewReader("lost")); err != nil {
		t.Fatal(err)
	}
	p, err := cat.PlanIndex(13)
	if err != nil {
		t.Fatal(err)
	}
	if p.Base.Index != 5 {
		t.Fatalf("base %d", p.Base.Index)
	}
	got, _ := replayed(t, s, p, func(r Record) bool { return r.Index > 13 })
	if want := []uint64{6, 7, 9, 10, 11, 13}; !equal(got, want) {
		t.Fatalf("replayed %v, want %v", got, want)
	}
	p, err = cat.PlanIndex(33)
	if err != nil || p.Base.Index != 30 {
		t.Fatalf("plan 33: %+v %v", p, err)
	}
	if p, err = cat.PlanIndex(30); err != nil || p.Base.Index != 30 {
		t.Fatalf("plan 30: %+v %v", p, err)
	}
	for _, bad := range []uint64{4, 21, 25, 29, 36} {
		if _, err := cat.PlanIndex(bad); !errors.Is(err, ErrOutOfRange) {
			t.Fatalf("plan %d: %v, want ErrOutOfRange", bad, err)
		}
	}
	if _, err := cat.PlanTime(49); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("time before the first base: %v", err)
	}
	p, err = cat.PlanTime(125)
	if err != nil || p.Base.Index != 5 {
		t.Fatalf("plan time: %+v %v", p, err)
	}
	got, _ = replayed(t, s, p, func(r Record) bool { return r.TimeUnixNano > 125 })
	if got[len(got)-1] != 11 {
		t.Fatalf("replay to time 125 ends at %v", got)
	}

	// Retention keeps the newest base and what it needs.
	if n, err := Retain(ctx, s, cat, 1); err != nil || n == 0 {
		t.Fatalf("Retain: %d %v", n, err)
	}
	cat, err = Load(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Bases) != 1 || cat.Bases[0].Index != 30 || len(cat.Gaps) != 0 || len(cat.Segments) != 1 {
		t.Fatalf("after Retain: %+v", cat)
	}
	if names, _ := s.List(ctx, "base/"); len(names) != 2 {
		t.Fatalf("base objects after Retain: %v", names)
	}
	if _, err := cat.PlanIndex(13); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("plan 13 after Retain: %v", err)
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A damaged segment fails the replay with an error naming it, before any of
// its records is handed out; a damaged base fails its reader.
func TestCorruptObjectsDetected(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	writeArchive(t, s)
	path := filepath.Join(s.Dir, filepath.FromSlash(SegmentName(11, 20)))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(s.Dir, filepath.FromSlash(SegmentName(8, 14))))
	cat, err := Load(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cat.PlanIndex(18)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	_, err = Replay(ctx, s, p, func(r Record) (bool, error) { got = append(got, r.Index); return true, nil })
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), SegmentName(11, 20)) {
		t.Fatalf("replay over a corrupt segment: %v", err)
	}
	if len(got) != 4 || got[3] != 10 {
		t.Fatalf("replayed %v before the corrupt segment", got)
	}

	bpath := filepath.Join(s.Dir, filepath.FromSlash(BaseName(5)))
	os.WriteFile(bpath, []byte("bese"), 0o644)
	rc, err := OpenBase(ctx, s, cat.Bases[0])
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("reading a damaged base: %v", err)
	}
}

// The committed archive of format version 1 (written by a cluster: see
// server's TestWriteGoldenArchive) still reads: every base matches its
// checksum and every segment reads whole, covering the indexes after the
// first base without a hole.
func TestGoldenV1(t *testing.T) {
	ctx := context.Background()
	s := &DirStore{Dir: filepath.Join("testdata", "golden-v1")}
	cat, err := Load(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if cat.Manifest.Format != 1 || len(cat.Bases) < 2 || len(cat.Segments) < 2 {
		t.Fatalf("golden catalog %+v", cat)
	}
	for _, b := range cat.Bases {
		rc, err := OpenBase(ctx, s, b)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.HasPrefix(data, []byte("SQLite format 3\x00")) {
			t.Fatalf("base %d: %v", b.Index, err)
		}
	}
	p, err := cat.PlanIndex(cat.LastIndex())
	if err != nil {
		t.Fatal(err)
	}
	p.Base = cat.Bases[0]
	p.Segments, _ = cat.cover(p.Base.Index, cat.LastIndex())
	n := 0
	reached, err := Replay(ctx, s, p, func(r Record) (bool, error) { n++; return true, nil })
	if err != nil || reached != cat.LastIndex() || n < 30 {
		t.Fatalf("replay of the golden archive: %d records to index %d of %d: %v", n, reached, cat.LastIndex(), err)
	}
}

// The temporary files a crashed Put left are removed once old, and never
// listed.
func TestDirStoreRemovesStaleTemporaries(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "seg"), 0o755)
	old := filepath.Join(dir, "seg", ".tmp-123")
	fresh := filepath.Join(dir, "seg", ".tmp-456")
	os.WriteFile(old, []byte("x"), 0o644)
	os.WriteFile(fresh, []byte("x"), 0o644)
	long := time.Now().Add(-2 * staleTemp)
	os.Chtimes(old, long, long)
	s, err := NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale temporary file kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("fresh temporary file removed: %v", err)
	}
	if names, _ := s.List(context.Background(), ""); len(names) != 0 {
		t.Fatalf("List shows %v", names)
	}
}
