package snapshot

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
)

var update = flag.Bool("update", false, "rewrite testdata/v1.snap")

func body(n int) []byte {
	b := make([]byte, n)
	x := uint32(1)
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

func encode(t testing.TB, h Header, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, h, bytes.NewReader(b)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    Header
		size int
	}{
		{"empty", Header{}, 0},
		{"small", Header{Index: 7, Term: 3, Meta: []byte("meta")}, 100},
		{"large", Header{Index: 1 << 40, Term: 1 << 33, Meta: body(5000)}, 3<<20 + 17},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := body(tc.size)
			tc.h.Size = int64(len(b))
			data := encode(t, tc.h, b)
			var out bytes.Buffer
			h, err := Extract(&out, bytes.NewReader(data))
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if h.Index != tc.h.Index || h.Term != tc.h.Term || h.Size != tc.h.Size || !bytes.Equal(h.Meta, tc.h.Meta) {
				t.Fatalf("header: got %+v, want %+v", h, tc.h)
			}
			if !bytes.Equal(out.Bytes(), b) {
				t.Fatalf("body differs")
			}
		})
	}
}

func TestWriteSizeMismatch(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, Header{Size: 10}, bytes.NewReader(make([]byte, 9))); err == nil {
		t.Fatal("short body: got nil error")
	}
	if err := Write(&buf, Header{Size: 10}, bytes.NewReader(make([]byte, 11))); err == nil {
		t.Fatal("long body: got nil error")
	}
	if err := Write(&buf, Header{Meta: make([]byte, MaxMeta+1)}, bytes.NewReader(nil)); err == nil {
		t.Fatal("huge meta: got nil error")
	}
}

// Every truncation and every flipped bit must make reading fail.
func TestCorruption(t *testing.T) {
	b := body(300)
	data := encode(t, Header{Index: 9, Term: 2, Meta: []byte("xyz"), Size: int64(len(b))}, b)
	for n := 0; n < len(data); n++ {
		if _, err := Extract(io.Discard, bytes.NewReader(data[:n])); err == nil {
			t.Fatalf("truncated at %d of %d: got nil error", n, len(data))
		} else if !errors.Is(err, ErrTruncated) {
			t.Fatalf("truncated at %d: got %v, want ErrTruncated", n, err)
		}
	}
	for i := 0; i < len(data)*8; i++ {
		c := bytes.Clone(data)
		c[i/8] ^= 1 << (i % 8)
		if _, err := Extract(io.Discard, bytes.NewReader(c)); err == nil {
			t.Fatalf("bit %d flipped: got nil error", i)
		}
	}
}

func TestVerify(t *testing.T) {
	b := body(1000)
	data := encode(t, Header{Size: int64(len(b))}, b)
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	data[100] ^= 0xff
	r, err = NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(); !errors.Is(err, ErrChecksum) {
		t.Fatalf("Verify of corrupt body: got %v, want ErrChecksum", err)
	}
}

// TestCompat reads snapshots written by earlier versions of this package.
func TestCompat(t *testing.T) {
	path := filepath.Join("testdata", "v1.snap")
	want := Header{Index: 42, Term: 7, Meta: []byte("opaque meta"), Size: 4096}
	wantBody := body(4096)
	if *update {
		if err := os.WriteFile(path, encode(t, want, wantBody), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	h, err := Extract(&out, f)
	if err != nil {
		t.Fatalf("Extract %s: %v", path, err)
	}
	if h.Index != want.Index || h.Term != want.Term || h.Size != want.Size || !bytes.Equal(h.Meta, want.Meta) {
		t.Fatalf("header: got %+v, want %+v", h, want)
	}
	if !bytes.Equal(out.Bytes(), wantBody) {
		t.Fatal("body differs")
	}
}

func FuzzRead(f *testing.F) {
	b := body(64)
	valid := encode(f, Header{Index: 1, Term: 1, Meta: []byte("m"), Size: int64(len(b))}, b)
	f.Add(valid)
	f.Add(valid[:40])
	f.Add(encode(f, Header{}, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(r.Header.Meta) > len(data) {
			t.Fatalf("meta of %d bytes from %d input bytes", len(r.Header.Meta), len(data))
		}
		n, err := io.Copy(io.Discard, r)
		if err == nil && n != r.Header.Size {
			t.Fatalf("valid stream with %d body bytes, header says %d", n, r.Header.Size)
		}
	})
}

func TestEncodedSize(t *testing.T) {
	for _, h := range []Header{{}, {Index: 3, Meta: []byte("meta"), Size: 10}, {Meta: body(300), Size: 12345}} {
		b := body(int(h.Size))
		if got, want := EncodedSize(h), int64(len(encode(t, h, b))); got != want {
			t.Fatalf("EncodedSize(%+v) = %d, Write wrote %d", h, got, want)
		}
	}
}

// FuzzSnapshotReader reads arbitrary bytes as a snapshot, whole and a byte
// at a time: it must never panic, both reads must agree on the header, the
// body and whether the stream is valid, and a valid stream's body has the
// size its header says.
func FuzzSnapshotReader(f *testing.F) {
	b := body(64)
	valid := encode(f, Header{Index: 1, Term: 1, Meta: []byte("m"), Size: int64(len(b))}, b)
	f.Add(valid)
	f.Add(valid[:len(valid)-1])
	f.Add(encode(f, Header{}, nil))
	if golden, err := os.ReadFile(filepath.Join("testdata", "v1.snap")); err == nil {
		f.Add(golden)
	}
	if golden, err := os.ReadFile(filepath.Join("testdata", "v1-fsm.snap")); err == nil {
		f.Add(golden)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var whole bytes.Buffer
		h1, err1 := Extract(&whole, bytes.NewReader(data))
		var slow bytes.Buffer
		h2, err2 := Extract(&slow, iotest.OneByteReader(bytes.NewReader(data)))
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("whole read: %v; byte by byte: %v", err1, err2)
		}
		if h1.Index != h2.Index || h1.Term != h2.Term || h1.Size != h2.Size || !bytes.Equal(h1.Meta, h2.Meta) {
			t.Fatalf("headers differ: %+v and %+v", h1, h2)
		}
		if !bytes.Equal(whole.Bytes(), slow.Bytes()) {
			t.Fatal("bodies differ between whole and byte-by-byte reads")
		}
		if err1 == nil {
			if int64(whole.Len()) != h1.Size {
				t.Fatalf("valid stream with %d body bytes, header says %d", whole.Len(), h1.Size)
			}
			if EncodedSize(h1) > int64(len(data)) {
				t.Fatalf("valid stream of %d bytes, EncodedSize says %d", len(data), EncodedSize(h1))
			}
			// What was read writes back to the same bytes.
			if again := encode(t, h1, whole.Bytes()); !bytes.Equal(again, data[:len(again)]) {
				t.Fatal("re-encoding a valid stream gives other bytes")
			}
		}
	})
}
