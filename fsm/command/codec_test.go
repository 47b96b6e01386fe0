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
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func sampleCommands() map[string]*Command {
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

// TestGolden checks that the encoding of each format version never changes
// and that entries written by earlier versions still decode.
func TestGolden(t *testing.T) {
	check := func(name string, enc []byte, decode func([]byte) (any, error), want any) {
		path := filepath.Join("testdata", name+".bin")
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
		got, err := decode(golden)
		if err != nil {
			t.Fatalf("%s: decoding golden: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: golden decodes to %+v, want %+v", name, got, want)
		}
	}
	for name, c := range sampleCommands() {
		check(name, Encode(c), func(b []byte) (any, error) { return Decode(b) }, c)
	}
	group, members := sampleGroup()
	check("group_v1", group, func(b []byte) (any, error) { return DecodeEntry(b) }, members)
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
	members := []*Command{cmds["command_v1_execute"], cmds["command_v1_noop"], cmds["command_v1_query"]}
	encoded := make([][]byte, len(members))
	for i, c := range members {
		encoded[i] = Encode(c)
	}
	return EncodeGroup(encoded), members
}

func TestDecodeEntry(t *testing.T) {
	single := sampleCommands()["command_v1_query"]
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
		"empty group":  {groupV1, 0},
		"nested group": EncodeGroup([][]byte{group}),
		"huge count":   binary.AppendUvarint([]byte{groupV1}, MaxGroup+1),
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
	c := Encode(sampleCommands()["command_v1_execute"])
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
	if _, err := Decode(bad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("bad kind: got %v", err)
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
