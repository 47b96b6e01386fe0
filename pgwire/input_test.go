package pgwire

import (
	"fmt"
	"testing"
	"time"
)

// TestParseBool: what Postgres' boolin accepts (PostgreSQL 15).
func TestParseBool(t *testing.T) {
	for s, want := range map[string]any{
		"t": true, "tr": true, "tru": true, "TRUE": true, " true ": true, "y": true, "ye": true, "Yes": true,
		"on": true, "ON": true, "1": true, "\ttrue\n": true,
		"f": false, "fa": false, "FALSE": false, "n": false, "no": false, "of": false, "off": false, "0": false,
		"o": nil, "": nil, "truee": nil, "yess": nil, "onn": nil, "10": nil, "00": nil, "maybe": nil, "t rue": nil, "nope": nil,
	} {
		v, ok := parseBool(s)
		if want == nil {
			if ok {
				t.Errorf("parseBool(%q) = %v, want refused", s, v)
			}
			continue
		}
		if !ok || v != want {
			t.Errorf("parseBool(%q) = %v, %v; want %v", s, v, ok, want)
		}
	}
}

// TestInputText: the value text of a type is stored as, or Postgres'
// SQLSTATE and message for text the type does not accept.
func TestInputText(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, tc := range []struct {
		s    string
		oid  uint32
		loc  *time.Location
		want string // %T:%v of the value, or the SQLSTATE: message
	}{
		{" 42 ", oidInt4, nil, "int64:42"},
		{"+7", oidInt2, nil, "int64:7"},
		{"abc", oidInt4, nil, `22P02: invalid input syntax for type integer: "abc"`},
		{"32768", oidInt2, nil, `22003: value "32768" is out of range for type smallint`},
		{"-2147483649", oidInt4, nil, `22003: value "-2147483649" is out of range for type integer`},
		{"9223372036854775808", oidInt8, nil, `22003: value "9223372036854775808" is out of range for type bigint`},
		{"1.5", oidInt4, nil, `22P02: invalid input syntax for type integer: "1.5"`},
		{"1e400", oidFloat8, nil, `22003: "1e400" is out of range for type double precision`},
		{"-Infinity", oidFloat8, nil, "float64:-Inf"},
		{"1_000", oidFloat8, nil, `22P02: invalid input syntax for type double precision: "1_000"`},
		{" 1e5 ", oidFloat8, nil, "float64:100000"},
		{"1.2.3", oidNumeric, nil, `22P02: invalid input syntax for type numeric: "1.2.3"`},
		{" 1.50 ", oidNumeric, nil, "string:1.50"},
		{"tr", oidBool, nil, "bool:true"},
		{"maybe", oidBool, nil, `22P02: invalid input syntax for type boolean: "maybe"`},
		{"2024-1-5", oidDate, nil, "string:2024-01-05"},
		{"2024-01-05 23:00:00-05", oidDate, nil, "string:2024-01-05"},
		{"2024-02-30", oidDate, nil, `22008: date/time field value out of range: "2024-02-30"`},
		{"soon", oidDate, nil, `22007: invalid input syntax for type date: "soon"`},
		{"2024-01-05T10:00:00.5+02", oidTimestamp, nil, "string:2024-01-05 10:00:00.5"},
		{"2024-01-05 10:00:00+02", oidTimestampTZ, nil, "string:2024-01-05 08:00:00"},
		{"2024-07-05 10:00", oidTimestampTZ, paris, "string:2024-07-05 08:00:00"},
		{"x", oidTimestampTZ, nil, `22007: invalid input syntax for type timestamp with time zone: "x"`},
		{"10:00", oidTime, nil, "string:10:00:00"},
		{"25:00", oidTime, nil, `22008: date/time field value out of range: "25:00"`},
		{"{A0EEBC99-9C0B4EF8-BB6D-6BB9BD380A11}", oidUUID, nil, "string:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"not-a-uuid", oidUUID, nil, `22P02: invalid input syntax for type uuid: "not-a-uuid"`},
		{`{"a": [1, 2]}`, oidJSONB, nil, `string:{"a": [1, 2]}`},
		{"{bad", oidJSON, nil, "22P02: invalid input syntax for type json"},
		{`\x01 02`, oidBytea, nil, "[]uint8:[1 2]"},
		{`\x012`, oidBytea, nil, "22023: invalid hexadecimal data: odd number of digits"},
		{`\xzz`, oidBytea, nil, `22023: invalid hexadecimal digit: "z"`},
		{"anything", oidText, nil, "string:anything"},
	} {
		v, err := inputText(tc.s, tc.oid, tc.loc)
		got := fmt.Sprintf("%T:%v", v, v)
		if err != nil {
			e := toError(err)
			got = e.Code + ": " + e.Message
		}
		if got != tc.want {
			t.Errorf("inputText(%q, %d) = %s, want %s", tc.s, tc.oid, got, tc.want)
		}
	}
}
