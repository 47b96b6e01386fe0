package driver

import (
	"bytes"
	"database/sql/driver"
	"encoding/binary"
	"math"
	"testing"
	"time"
)

// TestParamRoundTrip encodes parameters as the driver sends them and
// decodes them as results of the type the driver declared.
func TestParamRoundTrip(t *testing.T) {
	t.Parallel()
	loc := time.FixedZone("x", 5*3600+1800)
	tests := []driver.Value{
		int64(0), int64(math.MaxInt64), int64(math.MinInt64), int64(-1),
		0.0, math.MaxFloat64, math.SmallestNonzeroFloat64, -1.5, math.Inf(1), math.Inf(-1),
		true, false,
		[]byte{}, []byte{0, 1, 2, 255}, bytes.Repeat([]byte{0xAB}, 1<<20),
		"", "héllo, 世界 🚀", "with\x01control",
		time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.UTC),
		time.Date(1999, 12, 31, 1, 2, 3, 0, loc),
		nil,
	}
	for _, v := range tests {
		oid := paramOID(v)
		b, format, err := encodeParam(v, oid)
		if err != nil {
			t.Fatalf("encodeParam(%v): %v", short(v), err)
		}
		decodeOID := oid
		switch v.(type) {
		case string:
			decodeOID = oidText
		case time.Time:
			decodeOID = oidTimestampTZ
		}
		got, err := decodeValue(decodeOID, format, b)
		if err != nil {
			t.Fatalf("decodeValue(%v): %v", short(v), err)
		}
		if !equalValue(got, v) {
			t.Errorf("round trip of %T %v: got %v", v, short(v), short(got))
		}
	}
}

func equalValue(a, b driver.Value) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || math.IsNaN(x) && math.IsNaN(y))
	}
	return a == b
}

func short(v driver.Value) any {
	if b, ok := v.([]byte); ok && len(b) > 16 {
		return b[:16]
	}
	return v
}

func TestDecodeText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		oid  uint32
		in   string
		want driver.Value
	}{
		{oidInt4, "42", int64(42)},
		{oidInt8, "-9223372036854775808", int64(math.MinInt64)},
		{oidInt8, "1.5", 1.5},   // SQLite stored a real in an INTEGER column
		{oidInt8, "abc", "abc"}, // or text
		{oidFloat8, "1e+300", 1e300},
		{oidFloat8, "-Infinity", math.Inf(-1)},
		{oidFloat4, "0.1", 0.1},
		{oidBool, "t", true},
		{oidBool, "f", false},
		{oidBytea, `\x00ff`, []byte{0, 255}},
		{oidBytea, `a\\b\001`, []byte{'a', '\\', 'b', 1}},
		{oidNumeric, "12345.678", "12345.678"},
		{oidText, "x", "x"},
		{oidVarchar, "", ""},
		{oidDate, "2024-01-02", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
		{oidTimestamp, "2024-01-02 03:04:05", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{oidTimestamp, "2024-01-02 03:04:05.5", time.Date(2024, 1, 2, 3, 4, 5, 5e8, time.UTC)},
		{oidTimestampTZ, "2024-01-02 03:04:05.123456+00", time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)},
		{oidTimestampTZ, "2024-01-02T03:04:05Z", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{oidTimestamp, "infinity", "infinity"},
		{oidUUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
	}
	for _, tt := range tests {
		got, err := decodeValue(tt.oid, formatText, []byte(tt.in))
		if err != nil {
			t.Errorf("decodeValue(%d, %q): %v", tt.oid, tt.in, err)
			continue
		}
		if !equalValue(got, tt.want) {
			t.Errorf("decodeValue(%d, %q) = %#v, want %#v", tt.oid, tt.in, got, tt.want)
		}
	}
	if v, err := decodeValue(oidText, formatText, nil); v != nil || err != nil {
		t.Errorf("decodeValue(NULL) = %v, %v; want nil, nil", v, err)
	}
}

func TestDecodeBinary(t *testing.T) {
	t.Parallel()
	be16 := func(v ...uint16) []byte {
		var b []byte
		for _, x := range v {
			b = binary.BigEndian.AppendUint16(b, x)
		}
		return b
	}
	tests := []struct {
		oid  uint32
		in   []byte
		want driver.Value
	}{
		{oidInt2, be16(0xFFFF), int64(-1)},
		{oidInt4, binary.BigEndian.AppendUint32(nil, 0x80000000), int64(math.MinInt32)},
		{oidFloat4, binary.BigEndian.AppendUint32(nil, math.Float32bits(1.5)), 1.5},
		{oidDate, binary.BigEndian.AppendUint32(nil, 1), time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC)},
		{oidTimestamp, binary.BigEndian.AppendUint64(nil, 1_500_000), time.Date(2000, 1, 1, 0, 0, 1, 5e8, time.UTC)},
		{oidTimestampTZ, binary.BigEndian.AppendUint64(nil, uint64(1<<64-1_000_000)), time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)},
		// 12345.678: ndigits 3, weight 1, sign +, dscale 3, digits 1 2345 6780
		{oidNumeric, be16(3, 1, 0, 3, 1, 2345, 6780), "12345.678"},
		// -0.0012: ndigits 1, weight -1, sign -, dscale 4, digit 12
		{oidNumeric, be16(1, 0xFFFF, 0x4000, 4, 12), "-0.0012"},
		{oidNumeric, be16(1, 2, 0, 0, 5), "500000000"},
		{oidNumeric, be16(0, 0, 0xC000, 0), "NaN"},
		{oidUUID, []byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{oidJSONB, []byte("\x01{}"), "{}"},
		{oidText, []byte("txt"), "txt"},
		{99999, []byte{1, 2}, []byte{1, 2}},
	}
	for _, tt := range tests {
		got, err := decodeValue(tt.oid, formatBinary, tt.in)
		if err != nil {
			t.Errorf("decodeValue(%d, %x): %v", tt.oid, tt.in, err)
			continue
		}
		if !equalValue(got, tt.want) {
			t.Errorf("decodeValue(%d, %x) = %#v, want %#v", tt.oid, tt.in, got, tt.want)
		}
	}
	for _, oid := range []uint32{oidInt2, oidInt4, oidInt8, oidFloat8, oidBool, oidDate, oidTimestamp, oidUUID, oidNumeric} {
		if _, err := decodeValue(oid, formatBinary, []byte{1, 2, 3}); err == nil {
			t.Errorf("decodeValue(%d, 3 bytes) accepted a malformed value", oid)
		}
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sql  string
		want kind
	}{
		{"SELECT 1", kindRead},
		{"  -- c\n /* x */ (select 1)", kindRead},
		{"with x as (select 1) select * from x", kindRead},
		{"WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", kindWrite},
		{"with x as (select 'insert') select * from x", kindRead},
		{"insert into t values (1)", kindWrite},
		{"CREATE TABLE t (a)", kindWrite},
		{"PRAGMA user_version = 3", kindWrite},
		{"begin", kindBegin},
		{"START TRANSACTION", kindBegin},
		{"commit", kindCommit},
		{"END", kindCommit},
		{"rollback", kindRollback},
		{"ROLLBACK TO SAVEPOINT a", kindTxOther},
		{"rollback transaction to a", kindTxOther},
		{"SET raftsql.read_consistency = none", kindSession},
		{"", kindRead},
		{"-- ping", kindRead},
	}
	for _, tt := range tests {
		if got := classify(tt.sql); got != tt.want {
			t.Errorf("classify(%q) = %d, want %d", tt.sql, got, tt.want)
		}
	}
}

func TestRowsAffected(t *testing.T) {
	t.Parallel()
	for tag, want := range map[string]int64{"INSERT 0 3": 3, "UPDATE 12": 12, "SELECT 0": 0, "CREATE TABLE": 0, "": 0, "SET": 0} {
		if got := rowsAffected(tag); got != want {
			t.Errorf("rowsAffected(%q) = %d, want %d", tag, got, want)
		}
	}
}

// FuzzDecodeValue feeds arbitrary bytes to the row decoder: it must not
// panic, and a value it accepts must not alias its input.
func FuzzDecodeValue(f *testing.F) {
	oids := []uint32{oidBool, oidBytea, oidInt2, oidInt4, oidInt8, oidFloat4, oidFloat8, oidText, oidDate,
		oidTimestamp, oidTimestampTZ, oidNumeric, oidUUID, oidJSONB, oidTime, 12345}
	f.Add(uint8(0), false, []byte("t"))
	f.Add(uint8(1), false, []byte(`\x00ff`))
	f.Add(uint8(1), false, []byte(`a\\b\001`))
	f.Add(uint8(11), true, []byte{0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 9, 41, 26, 124})
	f.Add(uint8(9), false, []byte("2024-01-02 03:04:05.123+02"))
	f.Fuzz(func(t *testing.T, o uint8, bin bool, b []byte) {
		oid := oids[int(o)%len(oids)]
		format := formatText
		if bin {
			format = formatBinary
		}
		in := append([]byte(nil), b...)
		v, err := decodeValue(oid, format, in)
		if err != nil {
			return
		}
		if bs, ok := v.([]byte); ok && len(bs) > 0 && len(in) > 0 {
			in[0] ^= 0xFF
			if &bs[0] == &in[0] {
				t.Fatalf("decodeValue(%d) returned bytes aliasing its input", oid)
			}
		}
	})
}

func BenchmarkDecodeNumericWorstCase(b *testing.B) {
	in := []byte{0, 0, 0x7F, 0xFF, 0, 0, 0x7F, 0xFF}
	for b.Loop() {
		if _, err := decodeNumeric(in); err != nil {
			b.Fatal(err)
		}
	}
}
