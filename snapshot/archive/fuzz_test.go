package archive

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzSegmentReader: whatever the bytes, the reader returns records in
// increasing index order within the header's range, or an error, without
// panicking or allocating beyond what the input holds; a segment that
// reads whole encodes back to the same bytes.
func FuzzSegmentReader(f *testing.F) {
	f.Add(buildSegment(f, 1, Record{Index: 1, Term: 1, TimeUnixNano: 1, Data: []byte("x")}).Bytes())
	f.Add(buildSegment(f, 7, Record{Index: 7}, Record{Index: 8, Term: 2, Data: []byte{}}, Record{Index: 9}).Bytes())
	f.Add([]byte("RSQLSEG\x00"))
	golden, _ := filepath.Glob(filepath.Join("testdata", "golden-v1", "seg", "*.seg"))
	for _, g := range golden {
		if b, err := os.ReadFile(g); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sr, err := NewSegmentReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		b := NewSegmentBuilder(sr.First)
		prev := sr.First - 1
		for n := 0; ; n++ {
			r, err := sr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("error not wrapping ErrCorrupt: %v", err)
				}
				return
			}
			if r.Index <= prev || r.Index > sr.Last {
				t.Fatalf("record %d after %d in %d..%d", r.Index, prev, sr.First, sr.Last)
			}
			prev = r.Index
			if err := b.Add(r); err != nil {
				t.Fatal(err)
			}
		}
		b.Skip(sr.Last)
		if got := b.Bytes(); !bytes.Equal(got, data) {
			t.Fatalf("re-encoded segment differs")
		}
	})
}

// FuzzMetadata: the manifest, base and gap readers accept or refuse any
// bytes without panicking.
func FuzzMetadata(f *testing.F) {
	f.Add([]byte(`{"format":1,"segment_bytes":4194304,"last_index":12}`))
	f.Add([]byte(`{"format":1,"index":5,"term":1,"size":4,"crc32c":1,"meta":"AQI="}`))
	f.Add([]byte(`{"format":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := ParseManifest(bytes.NewReader(data)); err == nil && m.Format != Version {
			t.Fatalf("manifest of format %d accepted", m.Format)
		}
		if b, err := ParseBase(bytes.NewReader(data)); err == nil && (b.Index == 0 || b.Size < 0) {
			t.Fatalf("base %+v accepted", b)
		}
		if _, _, ok := parseRange(string(data), ".seg"); ok && len(data) != 45 {
			t.Fatalf("range name %q accepted", data)
		}
	})
}
