package command

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEntryVersionOfGolden pins the version of every golden entry: what an
// entry needs never changes once written.
func TestEntryVersionOfGolden(t *testing.T) {
	want := map[string]int{
		"command_v1_execute": 2, "command_v1_noop": 2, "command_v1_query": 2,
		"command_v2_execute": 2, "command_v2_noop": 2, "command_v2_query": 2,
		"command_v3_execute": 3,
		"group_v1":           2, "group_v2": 2,
		"restore_v1_begin": 4, "restore_v1_chunk": 4, "restore_v1_commit": 4, "restore_v1_abort": 4,
	}
	for name, v := range want {
		b, err := os.ReadFile(filepath.Join("testdata", name+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		if got := EntryVersionOf(b); got != v {
			t.Errorf("%s: version %d, want %d", name, got, v)
		}
	}
}

// TestEntryVersionOfGroups: a group needs what its most demanding command
// needs.
func TestEntryVersionOfGroups(t *testing.T) {
	plain := Encode(&Command{Kind: KindExecute, Statements: []Statement{{SQL: "INSERT INTO t VALUES (1)"}}})
	digest := Encode(&Command{Kind: KindExecute, Expect: 7, Statements: []Statement{{SQL: "INSERT INTO t VALUES (2)"}}})
	for _, c := range []struct {
		name  string
		entry []byte
		want  int
	}{
		{"plain", EncodeGroup([][]byte{plain, plain}), 2},
		{"one digest", EncodeGroup([][]byte{plain, digest}), 3},
		{"unknown kind", Encode(&Command{Kind: Kind(200)}), unknownVersion},
		{"unknown format", []byte{0xEE, 1, 2, 3}, unknownVersion},
		{"unknown restore step", EncodeRestore(&Restore{Op: RestoreOp(99)}), unknownVersion},
		{"empty", nil, unknownVersion},
		{"truncated group", EncodeGroup([][]byte{plain})[:6], unknownVersion},
	} {
		if got := EntryVersionOf(c.entry); got != c.want {
			t.Errorf("%s: version %d, want %d", c.name, got, c.want)
		}
	}
}

// TestEveryFormatHasAVersion: a format byte added without a version would be
// refused by every gate, its own build's included.
func TestEveryFormatHasAVersion(t *testing.T) {
	for _, b := range []byte{commandV1, groupV1, commandV2, groupV2, commandV3, restoreV1} {
		if v := formatVersion[b]; v == 0 || int(v) > EntryVersion {
			t.Errorf("format byte %d has version %d (EntryVersion %d)", b, v, EntryVersion)
		}
	}
	for k, v := range kindVersion {
		if v > EntryVersion {
			t.Errorf("kind %v has version %d above EntryVersion %d", k, v, EntryVersion)
		}
	}
	for op, v := range restoreOpVersion {
		if v > EntryVersion {
			t.Errorf("restore step %v has version %d above EntryVersion %d", op, v, EntryVersion)
		}
	}
}

// FuzzEntryVersionOf: any bytes get a version without a panic, and an entry
// that decodes needs a version this build has.
func FuzzEntryVersionOf(f *testing.F) {
	for _, name := range []string{"command_v2_execute", "command_v3_execute", "group_v2", "restore_v1_chunk"} {
		b, err := os.ReadFile(filepath.Join("testdata", name+".bin"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{groupV2, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		v := EntryVersionOf(b)
		if v < 1 || v > unknownVersion {
			t.Fatalf("version %d", v)
		}
		decoded := false
		if IsRestore(b) {
			_, err := DecodeRestore(b)
			decoded = err == nil
		} else {
			_, err := DecodeEntry(b)
			decoded = err == nil
		}
		if decoded && v > EntryVersion {
			t.Fatalf("an entry this build decodes needs version %d", v)
		}
	})
}
