package server

import (
	"bytes"
	"testing"
)

// headerFix marks a WAL-mode header as rollback-journal however the
// header is split across writes, and leaves anything else as it is.
func TestHeaderFixMarksWALHeaders(t *testing.T) {
	wal := append([]byte("SQLite format 3\x00\x10\x00\x02\x02"), bytes.Repeat([]byte{7}, 100)...)
	want := append([]byte("SQLite format 3\x00\x10\x00\x01\x01"), bytes.Repeat([]byte{7}, 100)...)
	other := append([]byte("not a database, 2\x00\x02\x02"), bytes.Repeat([]byte{7}, 100)...)
	for _, tc := range []struct{ in, want []byte }{{wal, want}, {want, want}, {other, other}, {wal[:19], wal[:19]}} {
		for split := 0; split <= len(tc.in); split++ {
			var out bytes.Buffer
			h := &headerFix{w: &out}
			for _, p := range [][]byte{tc.in[:split], tc.in[split:]} {
				if n, err := h.Write(p); n != len(p) || err != nil {
					t.Fatalf("Write: %d, %v", n, err)
				}
			}
			if err := h.flush(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), tc.want) {
				t.Fatalf("split at %d: wrote %q, want %q", split, out.Bytes()[:20], tc.want[:min(20, len(tc.want))])
			}
		}
	}
}
