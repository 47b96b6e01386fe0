package command

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func sampleRestores() map[string]*Restore {
	return map[string]*Restore{
		"restore_v1_begin":   {Op: RestoreBegin, ID: 0x1122334455667788, Size: 1 << 30, Checksum: 0xcafef00d},
		"restore_v1_chunk":   {Op: RestoreChunk, ID: 0x1122334455667788, Offset: 65536, Data: []byte("SQLite format 3\x00chunk")},
		"restore_v1_commit":  {Op: RestoreCommit, ID: 0x1122334455667788, Size: 1 << 30, Checksum: 0xcafef00d},
		"restore_v1_abort":   {Op: RestoreAbort, ID: 0x1122334455667788},
		"restore_v1_install": {Op: RestoreInstall, ID: 0x1122334455667788, Size: 1 << 30, Checksum: 0xcafef00d},
	}
}

// TestRestoreGolden checks that the restore entry format never changes.
func TestRestoreGolden(t *testing.T) {
	for name, r := range sampleRestores() {
		path := filepath.Join("testdata", name+".bin")
		enc := EncodeRestore(r)
		if *update {
			if err := os.WriteFile(path, enc, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		golden, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if !bytes.Equal(enc, golden) {
			t.Errorf("%s: encoding drifted from %s", name, path)
		}
		got, err := DecodeRestore(golden)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("%s: decodes to %+v, want %+v", name, got, r)
		}
		if !IsRestore(golden) || IsGroup(golden) {
			t.Errorf("%s: IsRestore %v, IsGroup %v", name, IsRestore(golden), IsGroup(golden))
		}
		// Decoders of commands refuse it, and do not take it for one.
		if _, err := DecodeEntry(golden); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: DecodeEntry: %v, want ErrCorrupt", name, err)
		}
	}
}

func TestRestoreDamaged(t *testing.T) {
	enc := EncodeRestore(sampleRestores()["restore_v1_chunk"])
	for n := 0; n < len(enc); n++ {
		if _, err := DecodeRestore(enc[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated at %d: %v, want ErrCorrupt", n, err)
		}
	}
	for i := range enc {
		b := append([]byte(nil), enc...)
		b[i] ^= 0x10
		if _, err := DecodeRestore(b); err == nil {
			t.Fatalf("a flipped bit at byte %d was not noticed", i)
		}
	}
	unknown := appendChecksum([]byte{restoreV1, 9, 1})
	if _, err := DecodeRestore(unknown); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("unknown step: %v, want ErrUnsupported", err)
	}
	big := EncodeRestore(&Restore{Op: RestoreChunk, ID: 1, Data: make([]byte, MaxRestoreChunk+1)})
	if _, err := DecodeRestore(big); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("oversized chunk: %v, want ErrCorrupt", err)
	}
}

func FuzzDecodeRestore(f *testing.F) {
	for _, r := range sampleRestores() {
		f.Add(EncodeRestore(r))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeRestore(data)
		if err != nil {
			return
		}
		again, err := DecodeRestore(EncodeRestore(r))
		if err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if !reflect.DeepEqual(r, again) {
			t.Fatalf("decode→encode→decode changed the entry:\n%+v\n%+v", r, again)
		}
	})
}

// TestEntryFormatBytesAreDistinct: the first byte of an entry says how to
// read the rest, so no two entry formats may share it.
func TestEntryFormatBytesAreDistinct(t *testing.T) {
	formats := []struct {
		name string
		b    byte
	}{{"commandV1", commandV1}, {"groupV1", groupV1}, {"commandV2", commandV2}, {"groupV2", groupV2}, {"commandV3", commandV3}, {"restoreV1", restoreV1}}
	seen := map[byte]string{}
	for _, f := range formats {
		if other, ok := seen[f.b]; ok {
			t.Errorf("%s and %s both start with byte %d", other, f.name, f.b)
		}
		seen[f.b] = f.name
	}
}
