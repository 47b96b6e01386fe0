package server

import (
	"bytes"
	"testing"
)

// FuzzMemberRequest feeds arbitrary bytes to the decoder of a forwarded
// membership change and of a join's payload: they return an error or a
// value, never panic, and what decodes encodes back to the same bytes.
func FuzzMemberRequest(f *testing.F) {
	f.Add(appendMemberRequest(memberRemove, "n3", "", "user root (http from 127.0.0.1:5000)", "n2"))
	f.Add(appendMemberRequest(memberAddNonvoter, "n4", "127.0.0.1:7436", "", "n1"))
	f.Add(appendMemberRequest(memberTransfer, "", "", "test", "n1"))
	f.Add(joinPayload("n4", "127.0.0.1:7436", true))
	f.Add(joinPayload("n4", "127.0.0.1:7436", false))
	f.Add([]byte{memberPromote, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		if op, id, addr, by, via, err := decodeMemberRequest(b); err == nil {
			if back := appendMemberRequest(op, id, addr, by, via); !bytes.Equal(back, b) {
				t.Fatalf("membership request %x encodes back as %x", b, back)
			}
		}
		if id, rest, ok := readString(b); ok {
			if addr, rest, ok := readString(rest); ok && len(rest) <= 1 && (len(rest) == 0 || rest[0] == 1) {
				if back := joinPayload(id, addr, len(rest) == 1); !bytes.Equal(back, b) {
					t.Fatalf("join payload %x encodes back as %x", b, back)
				}
			}
		}
	})
}
