package pgwire

import (
	"math"
	"reflect"
	"testing"
)

// TestDeclOID is the declared type → OID table: Postgres' own type for every
// Postgres type name, float8 for every floating-point name (SQLite keeps 8
// bytes), text for a name Postgres does not know.
func TestDeclOID(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		decl string
		want uint32
	}{
		{"INTEGER", oidInt4}, {"int", oidInt4}, {"Integer", oidInt4}, {"INT(11)", oidInt4}, {"INT4", oidInt4},
		{"mediumint", oidInt4}, {"SERIAL", oidInt4}, {"serial4", oidInt4},
		{"BIGINT", oidInt8}, {"int8", oidInt8}, {"BIGSERIAL", oidInt8}, {"serial8", oidInt8}, {"unsigned big int", oidInt8},
		{"SMALLINT", oidInt2}, {"tinyint", oidInt2}, {"smallserial", oidInt2}, {"INT2", oidInt2},
		{"REAL", oidFloat8}, {"float4", oidFloat8}, {"FLOAT", oidFloat8}, {"double", oidFloat8},
		{"DOUBLE PRECISION", oidFloat8}, {"double  precision", oidFloat8}, {"float8", oidFloat8}, {"pg_catalog.float8", oidFloat8},
		{"BOOL", oidBool}, {"boolean", oidBool},
		{"TEXT", oidText}, {"clob", oidText}, {"text[]", oidText},
		{"VARCHAR(255)", oidVarchar}, {"character varying(10)", oidVarchar}, {"NVARCHAR(5)", oidVarchar},
		{"CHAR(3)", oidBPChar}, {"character", oidBPChar}, {"bpchar", oidBPChar},
		{"BLOB", oidBytea}, {"bytea", oidBytea},
		{"NUMERIC(10,2)", oidNumeric}, {"decimal", oidNumeric},
		{"DATE", oidDate}, {"TIMESTAMP", oidTimestamp}, {"datetime", oidTimestamp}, {"timestamptz", oidTimestampTZ},
		{"timestamp with time zone", oidTimestampTZ}, {"TIME", oidTime},
		{"uuid", oidUUID}, {"JSON", oidJSON}, {"jsonb", oidJSONB},
		{"", oidUnknown}, {"whatever", oidUnknown},
	} {
		if got := declOID(tt.decl); got != tt.want {
			t.Errorf("declOID(%q) = %d, want %d", tt.decl, got, tt.want)
		}
	}
}

// TestColumnOIDs: the declared type decides, then the expression's guess,
// then text; nothing else takes part.
func TestColumnOIDs(t *testing.T) {
	t.Parallel()
	cols := []Column{{"a", "INTEGER"}, {"b", "REAL"}, {"c", ""}, {"d", ""}, {"e", ""}, {"f", "weird"}}
	got := columnOIDs(cols, []uint32{oidText, 0, oidInt8, 0, oidBool, oidInt4})
	want := []uint32{oidInt4, oidFloat8, oidInt8, oidText, oidBool, oidText}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("columnOIDs = %v, want %v", got, want)
	}
	if got := columnOIDs(cols[:2], nil); !reflect.DeepEqual(got, want[:2]) {
		t.Errorf("columnOIDs without guesses = %v, want %v", got, want[:2])
	}
}

// TestEncodeMisfits: a value SQLite let into a column of another type is
// sent in the column's type when it reads as one, else refused the same way
// in text and binary.
func TestEncodeMisfits(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		v    any
		oid  uint32
		text string // "" when refused
		code string
	}{
		{3.0, oidInt4, "3", ""},
		{2.5, oidInt4, "", "22P02"},
		{"abc", oidInt4, "", "22P02"},
		{"42", oidInt8, "42", ""},
		{int64(math.MaxInt32 + 1), oidInt4, "", "22003"},
		{int64(math.MaxInt32 + 1), oidInt8, "2147483648", ""},
		{int64(3), oidFloat8, "3", ""},
		{"1.5", oidFloat8, "1.5", ""},
		{"x", oidFloat8, "", "22P02"},
		{0.1, oidFloat8, "0.1", ""},
		{1e300, oidFloat8, "1e+300", ""},
		{"yes", oidBool, "t", ""},
		{"maybe", oidBool, "", "22P02"},
		{"12.5", oidNumeric, "12.5", ""},
		{"twelve", oidNumeric, "", "22P02"},
		{int64(86400), oidDate, "1970-01-02", ""},
		{"2024-05-06T07:08:09", oidTimestamp, "2024-05-06 07:08:09", ""},
		{"2024-05-06 07:08:09+02", oidTimestamp, "2024-05-06 07:08:09", ""},
		{"2024-05-06 07:08", oidTimestamp, "2024-05-06 07:08:00", ""},
		{1.5, oidTimestamp, "1970-01-01 00:00:01.5", ""},
		{"2026-12-02 06:02:31.347 +00:00", oidTimestampTZ, "2026-12-02 06:02:31.347+00", ""},
		{"2026-12-02 06:02:31 -05", oidTimestampTZ, "2026-12-02 11:02:31+00", ""},
		{"not a date", oidDate, "", "22007"},
		{"{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}", oidUUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", ""},
		{"nope", oidUUID, "", "22P02"},
		{2.5, oidText, "2.5", ""},
		{int64(7), oidVarchar, "7", ""},
	} {
		txt, err := appendText(nil, tt.v, tt.oid, nil)
		_, berr := appendBinary(nil, tt.v, tt.oid)
		if tt.code == "" {
			if err != nil || string(txt) != tt.text || berr != nil {
				t.Errorf("%v as %s: text %q, %v, binary err %v; want %q", tt.v, typeName(tt.oid), txt, err, berr, tt.text)
			}
			continue
		}
		if err == nil || toError(err).Code != tt.code || berr == nil || toError(berr).Code != tt.code {
			t.Errorf("%v as %s: text err %v, binary err %v; want code %s in both", tt.v, typeName(tt.oid), err, berr, tt.code)
		}
	}
}
