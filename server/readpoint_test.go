package server

import (
	"bytes"
	"testing"

	"github.com/raftsql/raftsql/raft"
)

// FuzzDecodePoint: any answer bytes decode to a point or an error, never a
// panic, and a full point encodes back to the same bytes.
func FuzzDecodePoint(f *testing.F) {
	f.Add(appendPoint(nil, raft.CommitPoint{Index: 42, EntryTerm: 3, Term: 4}))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 7})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePoint(b)
		if err != nil {
			if len(b) == 8 || len(b) == pointLen {
				t.Fatalf("%d bytes refused: %v", len(b), err)
			}
			return
		}
		switch len(b) {
		case pointLen:
			if got := appendPoint(nil, p); !bytes.Equal(got, b) {
				t.Fatalf("round trip of %x gave %x", b, got)
			}
		case 8:
			if p.EntryTerm != 0 || p.Term != 0 {
				t.Fatalf("a bare index decoded with terms: %+v", p)
			}
		default:
			t.Fatalf("%d bytes accepted", len(b))
		}
	})
}
