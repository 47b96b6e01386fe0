package pgwire

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Postgres type OIDs that pgwire uses.
const (
	oidUnknown     uint32 = 0
	oidBool        uint32 = 16
	oidBytea       uint32 = 17
	oidName        uint32 = 19
	oidInt8        uint32 = 20
	oidInt2        uint32 = 21
	oidInt4        uint32 = 23
	oidText        uint32 = 25
	oidOID         uint32 = 26
	oidJSON        uint32 = 114
	oidFloat4      uint32 = 700
	oidFloat8      uint32 = 701
	oidUnknownLit  uint32 = 705
	oidBPChar      uint32 = 1042
	oidVarchar     uint32 = 1043
	oidDate        uint32 = 1082
	oidTime        uint32 = 1083
	oidTimestamp   uint32 = 1114
	oidTimestampTZ uint32 = 1184
	oidNumeric     uint32 = 1700
	oidUUID        uint32 = 2950
	oidJSONB       uint32 = 3802
	oidInt2Vector  uint32 = 22
	oidInt2Array   uint32 = 1005
	oidOIDArray    uint32 = 1028
	oidInt4Array   uint32 = 1007
	oidNameArray   uint32 = 1003
	oidTextArray   uint32 = 1009
	oidRegclass    uint32 = 2205 // sent as the relation's name, as text
	oidRegtype     uint32 = 2206 // sent as the type's name, as text
)

const (
	formatText   int16 = 0
	formatBinary int16 = 1
)

// typeSize is the typlen Postgres reports in RowDescription (-1: variable).
func typeSize(oid uint32) int16 {
	switch oid {
	case oidBool:
		return 1
	case oidInt2:
		return 2
	case oidInt4, oidFloat4, oidDate, oidOID:
		return 4
	case oidInt8, oidFloat8, oidTimestamp, oidTimestampTZ, oidTime:
		return 8
	case oidUUID:
		return 16
	case oidName:
		return 64
	}
	return -1
}

// declOID maps a declared column type to the type OID Postgres gives that
// type name (0 if the declaration says nothing Postgres would recognise).
// Case, (n) suffixes and a pg_catalog. prefix are ignored.
//
// INT and INTEGER are int4, as in Postgres, whatever SQLite could store in
// them: a value that does not fit is an error naming its column when it is
// sent (see appendText), never a type that changes with the rows. Every
// floating-point type is float8, REAL and FLOAT4 included: SQLite keeps
// 8-byte floats whatever the declaration, and float4 would round them.
func declOID(decl string) uint32 {
	d := strings.ToUpper(strings.TrimSpace(decl))
	if i := strings.IndexByte(d, '('); i >= 0 {
		d = strings.TrimSpace(d[:i])
	}
	d = strings.Join(strings.Fields(d), " ")
	d = strings.TrimPrefix(d, "PG_CATALOG.")
	switch d {
	// The catalogs' arrays, by Postgres' internal names (package
	// catalog declares them so); a value is in the array's text form.
	case "_INT2":
		return oidInt2Array
	case "INT2VECTOR":
		return oidInt2Vector
	case "_OID":
		return oidOIDArray
	case "_INT4":
		return oidInt4Array
	case "_NAME":
		return oidNameArray
	case "_TEXT":
		return oidTextArray
	}
	if strings.HasSuffix(d, "[]") {
		return oidText
	}
	switch d {
	case "":
		return oidUnknown
	case "INT", "INTEGER", "INT4", "MEDIUMINT", "SERIAL", "SERIAL4":
		return oidInt4
	case "BIGINT", "INT8", "UNSIGNED BIG INT", "BIGSERIAL", "SERIAL8":
		return oidInt8
	case "SMALLINT", "INT2", "TINYINT", "SMALLSERIAL", "SERIAL2":
		return oidInt2
	case "REAL", "FLOAT4", "FLOAT", "DOUBLE", "DOUBLE PRECISION", "FLOAT8":
		return oidFloat8
	case "BOOL", "BOOLEAN":
		return oidBool
	case "TEXT", "CLOB", "STRING", "CITEXT":
		return oidText
	case "VARCHAR", "CHARACTER VARYING", "NVARCHAR", "VARYING CHARACTER", "NATIVE CHARACTER":
		return oidVarchar
	case "CHAR", "CHARACTER", "BPCHAR", "NCHAR":
		return oidBPChar
	case "BLOB", "BYTEA":
		return oidBytea
	case "NUMERIC", "DECIMAL":
		return oidNumeric
	case "DATE":
		return oidDate
	case "TIMESTAMP", "DATETIME", "TIMESTAMP WITHOUT TIME ZONE":
		return oidTimestamp
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
		return oidTimestampTZ
	case "TIME", "TIME WITHOUT TIME ZONE":
		return oidTime
	case "UUID":
		return oidUUID
	case "JSON":
		return oidJSON
	case "JSONB":
		return oidJSONB
	case "NAME":
		return oidName
	case "OID":
		return oidOID
	case "REGCLASS":
		return oidRegclass
	case "REGTYPE":
		return oidRegtype
	}
	return oidUnknown
}

// columnOIDs is the one place that decides the types of result columns,
// whichever way they are asked for: at Describe, before anything runs; in
// the simple protocol, after; for COPY TO. A declared type gives its
// Postgres type (declOID; text for a declaration Postgres does not know);
// an expression takes the type exprs (from exprTypes, may be nil) guessed;
// anything else is text. The rows never take part, so the same statement
// is described the same way by every protocol and whatever its rows hold.
func columnOIDs(cols []Column, exprs []uint32) []uint32 {
	oids := make([]uint32, len(cols))
	for i, c := range cols {
		oid := declOID(c.DeclType)
		if oid == oidUnknown && c.DeclType != "" {
			oid = oidText
		}
		if oid == oidUnknown && i < len(exprs) {
			oid = exprs[i]
		}
		if oid == oidUnknown {
			oid = oidText
		}
		oids[i] = oid
	}
	return oids
}

// supportsBinary reports whether pgwire can encode and decode oid in binary.
func supportsBinary(oid uint32) bool {
	switch oid {
	case oidBool, oidBytea, oidName, oidInt8, oidInt2, oidInt4, oidText, oidOID, oidJSON,
		oidFloat4, oidFloat8, oidUnknownLit, oidBPChar, oidVarchar, oidDate, oidTime,
		oidTimestamp, oidTimestampTZ, oidNumeric, oidUUID, oidJSONB:
		return true
	}
	return false
}

// typeName is the Postgres name of oid, for error messages.
func typeName(oid uint32) string {
	switch oid {
	case oidBool:
		return "boolean"
	case oidBytea:
		return "bytea"
	case oidInt8:
		return "bigint"
	case oidInt2:
		return "smallint"
	case oidInt4:
		return "integer"
	case oidFloat4:
		return "real"
	case oidFloat8:
		return "double precision"
	case oidNumeric:
		return "numeric"
	case oidDate:
		return "date"
	case oidTime:
		return "time without time zone"
	case oidTimestamp:
		return "timestamp without time zone"
	case oidTimestampTZ:
		return "timestamp with time zone"
	case oidUUID:
		return "uuid"
	case oidJSON:
		return "json"
	case oidJSONB:
		return "jsonb"
	case oidOID:
		return "oid"
	}
	return "text"
}

// formatFloat formats f as Postgres' float8out and float4out do with the
// default extra_float_digits: the shortest text that reads back as the same
// value, in exponent form when the decimal exponent is below -4 or at least
// the type's digit count (15 for float8, 6 for float4).
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	e := strconv.FormatFloat(f, 'e', -1, bits) // -d.ddde±XX
	_, exps, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(exps)
	maxExp := 15
	if bits == 32 {
		maxExp = 6
	}
	if exp < -4 || exp >= maxExp {
		return e
	}
	return strconv.FormatFloat(f, 'f', -1, bits)
}

// errValue reports a value that cannot be sent as its column's type.
func errValue(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// appendText appends the text format of v for a column of type oid. SQLite
// lets a column hold a value of any storage class whatever its declared
// type; a value that reads as the column's type (the integer 3 or the text
// '3' in a float8 column, 1 in a boolean one) is sent in that type's form,
// and one that does not (2.5 or 'abc' in an integer column, a number past
// int4 in an INTEGER one) is an error, 22P02 or 22003, rather than text the
// client would misread: the same rule as the binary format. Text-like types
// take every value. A timestamptz is shown in the zone loc (nil: UTC).
func appendText(dst []byte, v any, oid uint32, loc *time.Location) ([]byte, error) {
	switch oid {
	case oidInt2, oidInt4, oidInt8, oidOID:
		n, err := toInt(v, oid)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(dst, n, 10), nil
	case oidFloat4, oidFloat8:
		f, err := toFloat(v, oid)
		if err != nil {
			return nil, err
		}
		bits := 64
		if oid == oidFloat4 {
			bits = 32
		}
		return append(dst, formatFloat(f, bits)...), nil
	case oidBool:
		b, err := toBool(v)
		if err != nil {
			return nil, err
		}
		if b {
			return append(dst, 't'), nil
		}
		return append(dst, 'f'), nil
	case oidNumeric:
		s, err := toNumeric(v)
		if err != nil {
			return nil, err
		}
		return append(dst, s...), nil
	case oidDate, oidTime, oidTimestamp, oidTimestampTZ:
		t, err := toTime(v, oid)
		if err != nil {
			return nil, err
		}
		// Postgres' output with DateStyle ISO, whatever way the value
		// was written: strict parsers (pgx, psycopg) read no other. A
		// timestamp without time zone is its wall clock (a zone written
		// into one is dropped, as Postgres drops it on input); a
		// timestamptz is shown in the session's TimeZone.
		switch oid {
		case oidDate:
			return t.AppendFormat(dst, "2006-01-02"), nil
		case oidTime:
			return t.AppendFormat(dst, "15:04:05.999999"), nil
		case oidTimestamp:
			return t.AppendFormat(dst, "2006-01-02 15:04:05.999999"), nil
		}
		return appendTimestampTZ(dst, t, loc), nil
	case oidUUID:
		b, err := appendBinaryTemporal(nil, v, oid)
		if err != nil {
			return nil, err
		}
		h := hex.EncodeToString(b)
		return append(dst, h[0:8]+"-"+h[8:12]+"-"+h[12:16]+"-"+h[16:20]+"-"+h[20:]...), nil
	}
	return appendRaw(dst, v, oid, loc)
}

// appendRaw appends the text of v as it is stored, for text-like column
// types and for COPY TO, which exports values unharmed whatever their
// column's declared type; only a timestamptz that reads as one is shown
// as Postgres shows it, in the zone loc (nil: UTC).
func appendRaw(dst []byte, v any, oid uint32, loc *time.Location) ([]byte, error) {
	switch x := v.(type) {
	case int64:
		if oid == oidBool {
			if x != 0 {
				return append(dst, 't'), nil
			}
			return append(dst, 'f'), nil
		}
		return strconv.AppendInt(dst, x, 10), nil
	case float64:
		bits := 64
		if oid == oidFloat4 {
			bits = 32
		}
		if oid == oidBool {
			if x != 0 {
				return append(dst, 't'), nil
			}
			return append(dst, 'f'), nil
		}
		return append(dst, formatFloat(x, bits)...), nil
	case bool:
		if oid == oidBool {
			if x {
				return append(dst, 't'), nil
			}
			return append(dst, 'f'), nil
		}
		if x {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case string:
		if oid == oidBytea {
			dst = append(dst, `\x`...)
			return hex.AppendEncode(dst, []byte(x)), nil
		}
		if oid == oidTimestampTZ {
			if t, ok := parseTimestamp(x); ok {
				return appendTimestampTZ(dst, t, loc), nil
			}
		}
		return append(dst, x...), nil
	case []byte:
		if oid == oidBytea || !utf8.Valid(x) {
			dst = append(dst, `\x`...)
			return hex.AppendEncode(dst, x), nil
		}
		return append(dst, x...), nil
	}
	return nil, errValue("XX000", "cannot encode value of Go type %T", v)
}

// appendBinary appends the binary format of v for a column of type oid;
// supportsBinary(oid) must be true.
func appendBinary(dst []byte, v any, oid uint32) ([]byte, error) {
	switch oid {
	case oidInt2, oidInt4, oidInt8, oidOID:
		n, err := toInt(v, oid)
		if err != nil {
			return nil, err
		}
		switch oid {
		case oidInt2:
			return binary.BigEndian.AppendUint16(dst, uint16(n)), nil
		case oidInt4:
			return binary.BigEndian.AppendUint32(dst, uint32(n)), nil
		case oidOID:
			return binary.BigEndian.AppendUint32(dst, uint32(n)), nil
		}
		return binary.BigEndian.AppendUint64(dst, uint64(n)), nil
	case oidFloat4, oidFloat8:
		f, err := toFloat(v, oid)
		if err != nil {
			return nil, err
		}
		if oid == oidFloat4 {
			return binary.BigEndian.AppendUint32(dst, math.Float32bits(float32(f))), nil
		}
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(f)), nil
	case oidBool:
		b, err := toBool(v)
		if err != nil {
			return nil, err
		}
		if b {
			return append(dst, 1), nil
		}
		return append(dst, 0), nil
	case oidBytea:
		switch x := v.(type) {
		case []byte:
			return append(dst, x...), nil
		case string:
			return append(dst, x...), nil
		}
		return appendText(dst, v, oidText, nil)
	case oidJSONB:
		return appendText(append(dst, 1), v, oidText, nil)
	case oidDate, oidTime, oidTimestamp, oidTimestampTZ, oidNumeric, oidUUID:
		return appendBinaryTemporal(dst, v, oid)
	}
	// text, varchar, bpchar, name, json, unknown: the text form.
	return appendText(dst, v, oidText, nil)
}

func toInt(v any, oid uint32) (int64, error) {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case float64:
		if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
			return 0, errValue("22P02", "invalid input syntax for type %s: %q", typeName(oid), formatFloat(x, 64))
		}
		n = int64(x)
	case bool:
		if x {
			n = 1
		}
	case string, []byte:
		s := strings.TrimSpace(asString(x))
		var err error
		n, err = strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, errValue("22P02", "invalid input syntax for type %s: %q", typeName(oid), s)
		}
	default:
		return 0, errValue("XX000", "cannot encode value of Go type %T", v)
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	switch oid {
	case oidInt2:
		lo, hi = math.MinInt16, math.MaxInt16
	case oidInt4:
		lo, hi = math.MinInt32, math.MaxInt32
	case oidOID:
		lo, hi = 0, math.MaxUint32
	}
	if n < lo || n > hi {
		return 0, errValue("22003", "value %d is out of range for type %s", n, typeName(oid))
	}
	return n, nil
}

func toFloat(v any, oid uint32) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case string, []byte:
		s := strings.TrimSpace(asString(x))
		if f, ok := parseFloat(s); ok {
			return f, nil
		}
		return 0, errValue("22P02", "invalid input syntax for type %s: %q", typeName(oid), s)
	}
	return 0, errValue("XX000", "cannot encode value of Go type %T", v)
}

func toBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case int64:
		return x != 0, nil
	case float64:
		return x != 0, nil
	case string, []byte:
		s := strings.TrimSpace(asString(x))
		if b, ok := parseBool(s); ok {
			return b, nil
		}
		return false, errValue("22P02", "invalid input syntax for type boolean: %q", s)
	}
	return false, errValue("XX000", "cannot encode value of Go type %T", v)
}

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

func parseFloat(s string) (float64, bool) {
	switch strings.ToLower(s) {
	case "nan":
		return math.NaN(), true
	case "infinity", "inf", "+infinity", "+inf":
		return math.Inf(1), true
	case "-infinity", "-inf":
		return math.Inf(-1), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

// parseBool accepts what Postgres' boolin does: true, yes, on, 1, false,
// no, off and 0 in any case, with white space around, and any prefix of
// true, false, yes and no, and of on and off of two letters or more ('o'
// alone could be either).
func parseBool(s string) (bool, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 5 {
		return false, false
	}
	var buf [5]byte
	w := buf[:len(s)]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		w[i] = c
	}
	prefix := func(of string) bool { return len(w) <= len(of) && string(w) == of[:len(w)] }
	switch w[0] {
	case 't':
		return true, prefix("true")
	case 'f':
		return false, prefix("false")
	case 'y':
		return true, prefix("yes")
	case 'n':
		return false, prefix("no")
	case 'o':
		switch {
		case len(w) >= 2 && prefix("on"):
			return true, true
		case len(w) >= 2 && prefix("off"):
			return false, true
		}
	case '1':
		return true, len(w) == 1
	case '0':
		return false, len(w) == 1
	}
	return false, false
}

// pgEpoch is the origin of Postgres' binary dates and timestamps.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

var timestampLayouts = []string{
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02 15:04:05.999999999-0700",
	// Sequelize writes a space before the zone, which Postgres accepts.
	"2006-01-02 15:04:05.999999999 Z07:00",
	"2006-01-02 15:04:05.999999999 Z07",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04Z07:00",
	"2006-01-02 15:04Z07",
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseTimestamp reads the timestamps SQLite's date functions and Postgres
// clients write. A time without a zone is UTC.
func parseTimestamp(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, ok := parseISOTimestamp(s); ok {
		return t, true
	}
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseISOTimestamp reads, without time.Parse's trial of layouts, the
// forms that fill a column: YYYY-MM-DD, then optionally a space or T,
// HH:MM[:SS[.fraction]] and a zone (Z, ±HH, ±HH:MM, ±HHMM, after an
// optional space). It reports false for anything else, out-of-range
// fields included, for parseTimestamp's layouts to decide.
func parseISOTimestamp(s string) (time.Time, bool) {
	num := func(i, n int) (int, bool) {
		if i+n > len(s) {
			return 0, false
		}
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' || mo < 1 || mo > 12 || d < 1 ||
		d > time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return time.Time{}, false
	}
	if len(s) == 10 {
		return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC), true
	}
	var hh, mi, ss, ns int
	if s[10] != ' ' && s[10] != 'T' {
		return time.Time{}, false
	}
	hh, ok1 = num(11, 2)
	mi, ok2 = num(14, 2)
	if !ok1 || !ok2 || s[13] != ':' || hh > 23 || mi > 59 {
		return time.Time{}, false
	}
	i := 16
	if i < len(s) && s[i] == ':' {
		if ss, ok1 = num(i+1, 2); !ok1 || ss > 59 {
			return time.Time{}, false
		}
		i += 3
		if i < len(s) && s[i] == '.' {
			i++
			start := i
			for scale := 100000000; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
				ns += int(s[i]-'0') * scale
				scale /= 10
			}
			if i == start {
				return time.Time{}, false
			}
		}
	}
	loc := time.UTC
	if i < len(s) && s[i] == ' ' {
		i++
	}
	if i < len(s) {
		switch s[i] {
		case 'Z':
			if i+1 != len(s) {
				return time.Time{}, false
			}
		case '+', '-':
			zh, ok := num(i+1, 2)
			if !ok {
				return time.Time{}, false
			}
			j := i + 3
			zm := 0
			if j < len(s) && s[j] == ':' {
				j++
			}
			if j < len(s) {
				if zm, ok = num(j, 2); !ok || j+2 != len(s) {
					return time.Time{}, false
				}
			}
			if zh > 23 || zm > 59 {
				return time.Time{}, false
			}
			off := zh*3600 + zm*60
			if s[i] == '-' {
				off = -off
			}
			if off != 0 {
				loc = time.FixedZone("", off)
			}
		default:
			return time.Time{}, false
		}
	}
	return time.Date(y, time.Month(mo), d, hh, mi, ss, ns, loc), true
}

// appendBinaryTemporal encodes dates, times, timestamps, numerics and UUIDs,
// which SQLite stores as text (or numbers), in Postgres' binary format.
func appendBinaryTemporal(dst []byte, v any, oid uint32) ([]byte, error) {
	if oid == oidUUID {
		if b, ok := v.([]byte); ok && len(b) == 16 {
			return append(dst, b...), nil
		}
		s := strings.ReplaceAll(strings.Trim(asString(v), "{}"), "-", "")
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 16 {
			return nil, errValue("22P02", "invalid input syntax for type uuid: %q", asString(v))
		}
		return append(dst, b...), nil
	}
	if oid == oidNumeric {
		s, err := toNumeric(v)
		if err != nil {
			return nil, err
		}
		b, ok := appendNumeric(dst, s)
		if !ok {
			return nil, errValue("22P02", "invalid input syntax for type numeric: %q", s)
		}
		return b, nil
	}
	t, err := toTime(v, oid)
	if err != nil {
		return nil, err
	}
	switch oid {
	case oidDate:
		y, m, d := t.Date()
		days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(pgEpoch).Hours() / 24
		return binary.BigEndian.AppendUint32(dst, uint32(int32(math.Round(days)))), nil
	case oidTime:
		us := int64(t.Hour())*3600e6 + int64(t.Minute())*60e6 + int64(t.Second())*1e6 + int64(t.Nanosecond()/1000)
		return binary.BigEndian.AppendUint64(dst, uint64(us)), nil
	}
	us := t.Unix()*1e6 + int64(t.Nanosecond()/1000) - pgEpoch.Unix()*1e6
	return binary.BigEndian.AppendUint64(dst, uint64(us)), nil
}

// toTime reads a date, time or timestamp as SQLite stores one: text, or a
// number of seconds since 1970. A timestamp without time zone is the wall
// clock as written, a timestamptz the instant.
func toTime(v any, oid uint32) (time.Time, error) {
	var t time.Time
	switch x := v.(type) {
	case int64:
		t = time.Unix(x, 0).UTC()
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e15 {
			return t, errValue("22008", "%s value out of range: %s", typeName(oid), formatFloat(x, 64))
		}
		sec, frac := math.Modf(x)
		t = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	case bool:
		return t, errValue("22007", "invalid input syntax for type %s: %q", typeName(oid), fmt.Sprint(x))
	default:
		s := strings.TrimSpace(asString(v))
		if oid == oidTime {
			tt, err := time.Parse("15:04:05.999999999", s)
			if err != nil {
				tt, err = time.Parse("15:04", s)
			}
			if err != nil {
				return t, errValue("22007", "invalid input syntax for type time: %q", s)
			}
			return tt, nil
		}
		var ok bool
		t, ok = parseTimestamp(s)
		if !ok {
			return t, errValue("22007", "invalid input syntax for type %s: %q", typeName(oid), s)
		}
	}
	if oid == oidTimestamp || oid == oidDate {
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	}
	return t, nil
}

// toNumeric is the decimal text of v for a numeric column.
func toNumeric(v any) (string, error) {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		switch {
		case math.IsNaN(x):
			return "NaN", nil
		case math.IsInf(x, 0):
			return "", errValue("22003", "cannot convert infinity to numeric")
		}
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return "", errValue("22P02", "invalid input syntax for type numeric: %q", fmt.Sprint(x))
	}
	s := strings.TrimSpace(asString(v))
	if _, ok := appendNumeric(nil, s); !ok {
		return "", errValue("22P02", "invalid input syntax for type numeric: %q", s)
	}
	return s, nil
}

// appendNumeric encodes a decimal string in numeric's binary format: digit
// count, weight, sign, display scale, then base-10000 digits.
func appendNumeric(dst []byte, s string) ([]byte, bool) {
	if strings.EqualFold(s, "nan") {
		return append(dst, 0, 0, 0, 0, 0xC0, 0, 0, 0), true
	}
	f, ok := parseFloat(s)
	if !ok || math.IsInf(f, 0) {
		return nil, false
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	// Expand an exponent into plain digits.
	if strings.ContainsAny(s, "eE") {
		s = strconv.FormatFloat(math.Abs(f), 'f', -1, 64)
	}
	intPart, frac, _ := strings.Cut(s, ".")
	for _, c := range intPart + frac {
		if c < '0' || c > '9' {
			return nil, false
		}
	}
	intPart = strings.TrimLeft(intPart, "0")
	dscale := len(frac)
	// Pad the integer part on the left and the fraction on the right to
	// whole groups of four digits.
	if r := len(intPart) % 4; r != 0 {
		intPart = strings.Repeat("0", 4-r) + intPart
	}
	if r := len(frac) % 4; r != 0 {
		frac += strings.Repeat("0", 4-r)
	}
	all := intPart + frac
	digits := make([]uint16, 0, len(all)/4)
	for i := 0; i+4 <= len(all); i += 4 {
		d, _ := strconv.Atoi(all[i : i+4])
		digits = append(digits, uint16(d))
	}
	weight := len(intPart)/4 - 1
	for len(digits) > 0 && digits[0] == 0 {
		digits = digits[1:]
		weight--
	}
	for len(digits) > 0 && digits[len(digits)-1] == 0 {
		digits = digits[:len(digits)-1]
	}
	sign := uint16(0)
	if neg && len(digits) > 0 {
		sign = 0x4000
	}
	if len(digits) == 0 {
		weight = 0
	}
	if len(digits) > math.MaxInt16 || dscale > 0x3FFF || weight > math.MaxInt16 || weight < math.MinInt16 {
		return nil, false
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(digits)))
	dst = binary.BigEndian.AppendUint16(dst, uint16(int16(weight)))
	dst = binary.BigEndian.AppendUint16(dst, sign)
	dst = binary.BigEndian.AppendUint16(dst, uint16(dscale))
	for _, d := range digits {
		dst = binary.BigEndian.AppendUint16(dst, d)
	}
	return dst, true
}

// decodeParam turns a Bind parameter into a value for Session.Execute: nil,
// int64, float64, string, []byte or bool.
func decodeParam(b []byte, oid uint32, format int16) (any, error) {
	return decodeParamIn(b, oid, format, nil)
}

// decodeParamIn is decodeParam for a session in the zone loc (nil: UTC),
// in which a timestamptz in text without an offset is read.
func decodeParamIn(b []byte, oid uint32, format int16, loc *time.Location) (any, error) {
	if b == nil {
		return nil, nil
	}
	if format == formatText {
		return inputText(string(b), oid, loc)
	}
	if format != formatBinary {
		return nil, errValue("08P01", "unsupported format code: %d", format)
	}
	bad := func() (any, error) {
		return nil, errValue("22P03", "incorrect binary data format in bind parameter of type %s", typeName(oid))
	}
	switch oid {
	case oidInt2:
		if len(b) != 2 {
			return bad()
		}
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case oidInt4:
		if len(b) != 4 {
			return bad()
		}
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	case oidOID:
		if len(b) != 4 {
			return bad()
		}
		return int64(binary.BigEndian.Uint32(b)), nil
	case oidInt8:
		if len(b) != 8 {
			return bad()
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	case oidFloat4:
		if len(b) != 4 {
			return bad()
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case oidFloat8:
		if len(b) != 8 {
			return bad()
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case oidBool:
		if len(b) != 1 {
			return bad()
		}
		return b[0] != 0, nil
	case oidBytea:
		return append([]byte{}, b...), nil
	case oidJSONB:
		if len(b) < 1 || b[0] != 1 {
			return bad()
		}
		return string(b[1:]), nil
	case oidUUID:
		if len(b) != 16 {
			return bad()
		}
		h := hex.EncodeToString(b)
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
	case oidDate:
		if len(b) != 4 {
			return bad()
		}
		days := int32(binary.BigEndian.Uint32(b))
		return pgEpoch.AddDate(0, 0, int(days)).Format("2006-01-02"), nil
	case oidTimestamp, oidTimestampTZ:
		if len(b) != 8 {
			return bad()
		}
		us := int64(binary.BigEndian.Uint64(b))
		t := pgEpoch.Add(time.Duration(us) * time.Microsecond)
		if oid == oidTimestampTZ {
			return storedTimestampTZ(t), nil
		}
		return t.Format("2006-01-02 15:04:05.999999"), nil
	case oidTime:
		if len(b) != 8 {
			return bad()
		}
		us := int64(binary.BigEndian.Uint64(b))
		return time.Time{}.Add(time.Duration(us) * time.Microsecond).Format("15:04:05.999999"), nil
	case oidNumeric:
		s, ok := decodeNumeric(b)
		if !ok {
			return bad()
		}
		return s, nil
	case oidText, oidVarchar, oidBPChar, oidName, oidJSON, oidUnknown, oidUnknownLit:
		return string(b), nil
	}
	return nil, errValue("0A000", "binary format for parameters of type OID %d is not supported", oid)
}

// storedTimestampTZ is the text a timestamptz parameter is stored as: the
// instant in UTC without a zone, as CURRENT_TIMESTAMP and the front end's
// casts write it, so that values compare as text and whatever zone the
// client wrote or the session shows.
func storedTimestampTZ(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.999999")
}

// hasOffset reports whether a timestamp's text ends in a zone: Z, or an
// offset after the time of day.
func hasOffset(s string) bool {
	s = strings.TrimSpace(s)
	return len(s) > 10 && strings.ContainsAny(s[10:], "Zz+-")
}

// decodeByteaText reads bytea's text input: \x followed by hex, or the
// escape format.
func decodeByteaText(s string) (any, error) {
	if strings.HasPrefix(s, `\x`) || strings.HasPrefix(s, `\X`) {
		// As Postgres' hex_decode: pairs of digits, white space between.
		h := s[2:]
		b := make([]byte, 0, len(h)/2)
		for i := 0; i < len(h); {
			if c := h[i]; c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				i++
				continue
			}
			if !isHexDigit(h[i]) {
				return nil, errValue("22023", "invalid hexadecimal digit: %q", h[i:i+1])
			}
			if i+1 >= len(h) {
				return nil, errValue("22023", "invalid hexadecimal data: odd number of digits")
			}
			if !isHexDigit(h[i+1]) {
				return nil, errValue("22023", "invalid hexadecimal digit: %q", h[i+1:i+2])
			}
			v, _ := hex.DecodeString(h[i : i+2])
			b = append(b, v[0])
			i += 2
		}
		return b, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\\' {
			out = append(out, '\\')
			i++
			continue
		}
		if i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				out = append(out, byte(n))
				i += 3
				continue
			}
		}
		return nil, errValue("22P02", "invalid input syntax for type bytea")
	}
	return out, nil
}

// decodeNumeric turns numeric's binary format into a decimal string.
func decodeNumeric(b []byte) (string, bool) {
	if len(b) < 8 {
		return "", false
	}
	n := int(binary.BigEndian.Uint16(b))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(binary.BigEndian.Uint16(b[6:]))
	if len(b) != 8+2*n || dscale > 0x3FFF {
		return "", false
	}
	switch sign {
	case 0xC000:
		return "NaN", true
	case 0xD000:
		return "Infinity", true
	case 0xF000:
		return "-Infinity", true
	case 0, 0x4000:
	default:
		return "", false
	}
	if weight > 1000 || weight < -1000 {
		return "", false
	}
	var sb strings.Builder
	if sign == 0x4000 {
		sb.WriteByte('-')
	}
	digit := func(i int) int {
		if i < 0 || i >= n {
			return 0
		}
		return int(binary.BigEndian.Uint16(b[8+2*i:]))
	}
	if weight < 0 {
		sb.WriteByte('0')
	} else {
		for i := 0; i <= weight; i++ {
			if i == 0 {
				sb.WriteString(strconv.Itoa(digit(i)))
			} else {
				fmt.Fprintf(&sb, "%04d", digit(i))
			}
		}
	}
	if dscale > 0 {
		sb.WriteByte('.')
		var frac strings.Builder
		for i := weight + 1; frac.Len() < dscale; i++ {
			fmt.Fprintf(&frac, "%04d", digit(i))
		}
		sb.WriteString(frac.String()[:dscale])
	}
	return sb.String(), true
}
