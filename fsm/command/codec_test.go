package command

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sampleCommands are the commands of the current format's golden files.
func sampleCommands() map[string]*Command {
	m := map[string]*Command{}
	for name, c := range sampleV1Commands() {
		c.MaxSteps = 250_000_000
		c.MaxValueSize = 64 << 20
		m[strings.Replace(name, "_v1_", "_v2_", 1)] = c
	}
	m["command_v2_noop"].MaxSteps, m["command_v2_noop"].MaxValueSize = 0, 0
	// Format 3: a transaction's commit, with the digest of its results.
	v3 := *sampleV1Commands()["command_v1_execute"]
	v3.MaxSteps, v3.MaxValueSize, v3.Expect = 250_000_000, 64<<20, 0xfeedfacecafebeef
	m["command_v3_execute"] = &v3
	return m
}

// sampleV1Commands are what the golden files of format 1, which this
// package no longer writes, decode to.
func sampleV1Commands() map[string]*Command {
	return map[string]*Command{
		"command_v1_execute": {
			Kind:         KindExecute,
			RequestID:    RequestID{Client: 0xdeadbeef, Seq: 7},
			TimeUnixNano: 1714979289123456789,
			Seed:         0x0123456789abcdef,
			Statements: []Statement{
				{SQL: "INSERT INTO t(a, b, c, d, e) VALUES ($1, $2, $3, $4, $5)", Params: []Value{
					Null(), Int(-42), Float(math.Pi), Text("héllo"), Blob([]byte{0, 1, 0xff}),
				}},
				{SQL: "UPDATE t SET a = :a", Params: []Value{{Type: TypeInteger, Int: 1, Name: "a"}}},
				{SQL: "DELETE FROM t"},
			},
		},
		"command_v1_query": {Kind: KindQuery, TimeUnixNano: -1, Statements: []Statement{{SQL: "SELECT 1"}}},
		"command_v1_noop":  {Kind: KindNoop},
	}
}

func sampleResults() map[string]*Result {
	return map[string]*Result{
		"result_v1": {Statements: []StatementResult{
			{RowsAffected: 3, LastInsertID: 9},
			{
				Columns: []Column{{Name: "id", DeclType: "INTEGER"}, {Name: "x", DeclType: ""}},
				Rows: [][]Value{
					{Int(1), Text("a")},
					{Int(math.MinInt64), Null()},
					{Float(-0.5), Blob(nil)},
				},
				RowsAffected: 1, LastInsertID: -1,
			},
			{Err: &Error{Code: 2067, Message: "UNIQUE constraint failed: t.v"}},
		}},
		"result_v1_empty": {},
	}
}

// normalize makes decoded values comparable with what was encoded: a
// decoded empty blob is non-nil.
func normalizeResult(r *Result) {
	for i := range r.Statements {
		for _, row := range r.Statements[i].Rows {
			for j := range row {
				if row[j].Type == TypeBlob && row[j].Blob == nil {
					row[j].Blob = []byte{}
				}
			}
		}
	}
}

func TestCommandRoundTrip(t *testing.T) {
	for name, c := range sampleCommands() {
		got, err := Decode(Encode(c))
		if err != nil {
			t.Fatalf("%s: Decode: %v", name, err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("%s: got %+v, want %+v", name, got, c)
		}
	}
}

func TestResultRoundTrip(t *testing.T) {
	for name, r := range sampleResults() {
		got, err := DecodeResult(EncodeResult(r))
		if err != nil {
			t.Fatalf("%s: DecodeResult: %v", name, err)
		}
		normalizeResult(r)
		normalizeResult(got)
		if !reflect.DeepEqual(got, r) {
			t.Errorf("%s: got %+v, want %+v", name, got, r)
		}
	}
}

// TestGolden checks that the encoding of the current format version never
// changes and that entries written by earlier versions still decode.
func TestGolden(t *testing.T) {
	read := func(name string, enc []byte) []byte {
		t.Helper()
		path := filepath.Join("testdata", name+".bin")
		if *update && enc != nil {
			if err := os.WriteFile(path, enc, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		golden, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if enc != nil && !bytes.Equal(enc, golden) {
			t.Errorf("%s: encoding drifted from %s", name, path)
		}
		return golden
	}
	check := func(name string, enc []byte, decode func([]byte) (any, error), want any) {
		t.Helper()
		golden := read(name, enc)
		got, err := decode(golden)
		if err != nil {
			t.Fatalf("%s: decoding golden: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: golden decodes to %+v, want %+v", name, got, want)
		}
	}
	decodeCommand := func(b []byte) (any, error) { return Decode(b) }
	decodeEntry := func(b []byte) (any, error) { return DecodeEntry(b) }
	for name, c := range sampleCommands() {
		check(name, Encode(c), decodeCommand, c)
	}
	// Format 1 is read, never written: its files are fixed.
	for name, c := range sampleV1Commands() {
		check(name, nil, decodeCommand, c)
	}
	group, members := sampleGroup()
	check("group_v2", group, decodeEntry, members)
	v1 := sampleV1Commands()
	check("group_v1", nil, decodeEntry, []*Command{v1["command_v1_execute"], v1["command_v1_noop"], v1["command_v1_query"]})
	for name, r := range sampleResults() {
		enc := EncodeResult(r)
		normalizeResult(r)
		check(name, enc, func(b []byte) (any, error) {
			r, err := DecodeResult(b)
			if err == nil {
				normalizeResult(r)
			}
			return r, err
		}, r)
	}
}

// sampleGroup returns a group entry of the sample commands and the commands
// it holds, in order.
func sampleGroup() ([]byte, []*Command) {
	cmds := sampleCommands()
	members := []*Command{cmds["command_v2_execute"], cmds["command_v2_noop"], cmds["command_v2_query"]}
	encoded := make([][]byte, len(members))
	for i, c := range members {
		encoded[i] = Encode(c)
	}
	return EncodeGroup(encoded), members
}

// TestChecksum checks that no change of one byte of an entry, single or
// group, decodes: each is reported as damage, never applied.
func TestChecksum(t *testing.T) {
	group, _ := sampleGroup()
	for name, enc := range map[string][]byte{
		"command": Encode(sampleCommands()["command_v2_execute"]),
		"group":   group,
	} {
		for i := range enc {
			for _, flip := range []byte{0x01, 0x80, 0xff} {
				bad := bytes.Clone(enc)
				bad[i] ^= flip
				_, err := DecodeEntry(bad)
				if err == nil || errors.Is(err, ErrUnsupported) || !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%s with byte %d ^ %#x: got %v, want a corrupt entry", name, i, flip, err)
				}
				if i > 0 && !errors.Is(err, ErrChecksum) {
					t.Fatalf("%s with byte %d ^ %#x: got %v, want ErrChecksum", name, i, flip, err)
				}
			}
		}
	}
	// An intact entry of a kind this version does not know is not damage.
	b := Encode(&Command{Kind: 77})
	if _, err := DecodeEntry(b); !errors.Is(err, ErrUnsupported) || errors.Is(err, ErrCorrupt) {
		t.Errorf("unknown kind: got %v, want ErrUnsupported", err)
	}
	v1 := bytes.Clone(read1(t, "command_v1_noop"))
	v1[1] = 77
	if _, err := DecodeEntry(v1); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown kind, format 1: got %v, want ErrUnsupported", err)
	}
}

func read1(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".bin"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeEntry(t *testing.T) {
	single := sampleCommands()["command_v2_query"]
	got, err := DecodeEntry(Encode(single))
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], single) {
		t.Fatalf("single command: got %+v, %v", got, err)
	}
	if IsGroup(Encode(single)) {
		t.Errorf("IsGroup(single command) = true")
	}
	group, members := sampleGroup()
	if !IsGroup(group) {
		t.Errorf("IsGroup(group) = false")
	}
	for n := 1; n < len(group); n++ {
		if _, err := DecodeEntry(group[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("group truncated at %d: got %v, want ErrCorrupt", n, err)
		}
	}
	if _, err := DecodeEntry(append(bytes.Clone(group), 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing byte: got %v", err)
	}
	for name, b := range map[string][]byte{
		"empty group":     {groupV1, 0},
		"empty group v2":  appendChecksum([]byte{groupV2, 0}),
		"nested group":    EncodeGroup([][]byte{group}),
		"nested group v1": append(binary.AppendUvarint([]byte{groupV1, 1}, uint64(len(group))), group...),
		"huge count":      binary.AppendUvarint([]byte{groupV1}, MaxGroup+1),
	} {
		if _, err := DecodeEntry(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
	}
	if got, err := DecodeEntry(group); err != nil || !reflect.DeepEqual(got, members) {
		t.Errorf("group: got %+v, %v", got, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	c := Encode(sampleCommands()["command_v2_execute"])
	for n := 0; n < len(c); n++ {
		if _, err := Decode(c[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated at %d: got %v, want ErrCorrupt", n, err)
		}
	}
	if _, err := Decode(append(bytes.Clone(c), 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing byte: got %v", err)
	}
	bad := bytes.Clone(c)
	bad[0] = 99
	if _, err := Decode(bad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("bad version: got %v", err)
	}
	bad = bytes.Clone(c)
	bad[1] = 99
	if _, err := Decode(bad); !errors.Is(err, ErrChecksum) {
		t.Errorf("bad kind, checksum not updated: got %v", err)
	}
	r := EncodeResult(sampleResults()["result_v1"])
	for n := 0; n < len(r); n++ {
		if _, err := DecodeResult(r[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("result truncated at %d: got %v, want ErrCorrupt", n, err)
		}
	}
}

func FuzzDecodeCommand(f *testing.F) {
	for _, c := range sampleCommands() {
		f.Add(Encode(c))
	}
	for name := range sampleV1Commands() {
		if b, err := os.ReadFile(filepath.Join("testdata", name+".bin")); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Decode(data)
		if err != nil {
			return
		}
		enc := Encode(c)
		c2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("decode→encode→decode changed the command:\n%+v\n%+v", c, c2)
		}
		if !bytes.Equal(Encode(c2), enc) {
			t.Fatalf("encoding is not stable")
		}
	})
}

func FuzzDecodeEntry(f *testing.F) {
	group, _ := sampleGroup()
	f.Add(group)
	if b, err := os.ReadFile(filepath.Join("testdata", "group_v1.bin")); err == nil {
		f.Add(b)
	}
	for _, c := range sampleCommands() {
		f.Add(Encode(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cmds, err := DecodeEntry(data)
		if err != nil {
			return
		}
		if len(cmds) == 0 || len(cmds) > MaxGroup {
			t.Fatalf("decoded %d commands", len(cmds))
		}
		if !IsGroup(data) {
			return
		}
		encoded := make([][]byte, len(cmds))
		for i, c := range cmds {
			encoded[i] = Encode(c)
		}
		again, err := DecodeEntry(EncodeGroup(encoded))
		if err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if !reflect.DeepEqual(cmds, again) {
			t.Fatalf("decode→encode→decode changed the group")
		}
	})
}

func FuzzDecodeResult(f *testing.F) {
	for _, r := range sampleResults() {
		f.Add(EncodeResult(r))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeResult(data)
		if err != nil {
			return
		}
		enc := EncodeResult(r)
		r2, err := DecodeResult(enc)
		if err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if !reflect.DeepEqual(r, r2) {
			t.Fatalf("decode→encode→decode changed the result:\n%+v\n%+v", r, r2)
		}
		if !bytes.Equal(EncodeResult(r2), enc) {
			t.Fatalf("encoding is not stable")
		}
	})
}
