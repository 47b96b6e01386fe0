package driver

import (
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Postgres type OIDs the driver knows.
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
)

const (
	formatText   int16 = 0
	formatBinary int16 = 1
)

// timeFormat is how time.Time parameters are sent, in UTC: text that
// SQLite's date functions read, that keeps nanoseconds, and whose wall
// clock is the instant, so that a timestamp without time zone (which drops
// a zone, as in Postgres) reads back as the same instant.
const timeFormat = "2006-01-02 15:04:05.999999999Z07:00"

// pgEpoch is the zero of Postgres' binary dates and timestamps.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// checkValue converts a parameter to one of the types encodeParam takes:
// nil, int64, float64, bool, []byte, string or time.Time.
func checkValue(v any) (driver.Value, error) {
	switch v.(type) {
	case nil, int64, float64, bool, []byte, string, time.Time:
		return v, nil
	}
	cv, err := driver.DefaultParameterConverter.ConvertValue(v)
	if err != nil {
		return nil, fmt.Errorf("raftsql: %w", err)
	}
	return cv, nil
}

// paramOID is the type OID the driver declares in Parse for a value.
// Strings and times are sent as untyped text so the server infers the type,
// as it would for a literal.
func paramOID(v driver.Value) uint32 {
	switch x := v.(type) {
	case int64:
		return oidInt8
	case float64:
		return oidFloat8
	case bool:
		return oidBool
	case []byte:
		if x != nil {
			return oidBytea
		}
	}
	return oidUnknown
}

// encodeParam encodes v for a parameter declared as oid and returns the
// bytes (nil for NULL) and the format code.
func encodeParam(v driver.Value, oid uint32) ([]byte, int16, error) {
	switch x := v.(type) {
	case nil:
		return nil, formatText, nil
	case int64:
		switch oid {
		case oidInt8:
			return binary.BigEndian.AppendUint64(nil, uint64(x)), formatBinary, nil
		case oidInt4:
			if x < math.MinInt32 || x > math.MaxInt32 {
				return nil, 0, fmt.Errorf("raftsql: %d does not fit the server's integer parameter", x)
			}
			return binary.BigEndian.AppendUint32(nil, uint32(int32(x))), formatBinary, nil
		case oidInt2:
			if x < math.MinInt16 || x > math.MaxInt16 {
				return nil, 0, fmt.Errorf("raftsql: %d does not fit the server's smallint parameter", x)
			}
			return binary.BigEndian.AppendUint16(nil, uint16(int16(x))), formatBinary, nil
		}
		return strconv.AppendInt(nil, x, 10), formatText, nil
	case float64:
		if oid == oidFloat8 {
			return binary.BigEndian.AppendUint64(nil, math.Float64bits(x)), formatBinary, nil
		}
		return []byte(formatFloat(x)), formatText, nil
	case bool:
		if oid == oidBool {
			if x {
				return []byte{1}, formatBinary, nil
			}
			return []byte{0}, formatBinary, nil
		}
		if x {
			return []byte("true"), formatText, nil
		}
		return []byte("false"), formatText, nil
	case []byte:
		if x == nil {
			return nil, formatText, nil
		}
		if oid == oidBytea {
			return x, formatBinary, nil
		}
		return append([]byte(`\x`), hex.EncodeToString(x)...), formatText, nil
	case string:
		return []byte(x), formatText, nil
	case time.Time:
		return []byte(x.UTC().Format(timeFormat)), formatText, nil
	}
	return nil, 0, fmt.Errorf("raftsql: cannot send a parameter of type %T", v)
}

func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// binaryResult reports whether the driver asks for oid's results in binary
// format: only bytea, whose text form is twice as long. Everything else
// comes as text, which tolerates SQLite storing a value of another type in
// a column.
func binaryResult(oid uint32) bool { return oid == oidBytea }

var errBadBinary = errors.New("raftsql: malformed binary value from server")

// decodeValue turns a column value from a DataRow into a driver.Value. The
// result never aliases b.
func decodeValue(oid uint32, format int16, b []byte) (driver.Value, error) {
	if b == nil {
		return nil, nil
	}
	if format == formatBinary {
		return decodeBinary(oid, b)
	}
	if format != formatText {
		return nil, fmt.Errorf("raftsql: unknown result format code %d", format)
	}
	s := string(b)
	switch oid {
	case oidBool:
		switch s {
		case "t", "true", "1", "TRUE", "T", "y", "yes", "on":
			return true, nil
		case "f", "false", "0", "FALSE", "F", "n", "no", "off":
			return false, nil
		}
		return s, nil
	case oidBytea:
		return decodeByteaText(s)
	case oidInt2, oidInt4, oidInt8, oidOID:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		if f, ok := parseFloat(s); ok {
			return f, nil
		}
		return s, nil
	case oidFloat4, oidFloat8:
		if f, ok := parseFloat(s); ok {
			return f, nil
		}
		return s, nil
	case oidDate, oidTimestamp, oidTimestampTZ:
		if t, ok := parseTime(s); ok {
			return t, nil
		}
		return s, nil
	}
	return s, nil
}

func parseFloat(s string) (float64, bool) {
	switch strings.ToLower(s) {
	case "nan":
		return math.NaN(), true
	case "infinity", "inf", "+infinity":
		return math.Inf(1), true
	case "-infinity", "-inf":
		return math.Inf(-1), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// ParseFloat reports overflow with ±Inf and an error; keep text.
		return 0, false
	}
	return f, true
}

var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02 15:04:05.999999999Z07:00:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseTime reads the timestamps Postgres, SQLite and this driver write. A
// time without an offset is UTC.
func parseTime(s string) (time.Time, bool) {
	if len(s) < 10 || s[4] != '-' {
		return time.Time{}, false
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// decodeByteaText reads bytea's text output: \x and hex, or the escape
// format.
func decodeByteaText(s string) (driver.Value, error) {
	if strings.HasPrefix(s, `\x`) {
		b, err := hex.DecodeString(s[2:])
		if err != nil {
			return nil, fmt.Errorf("raftsql: malformed bytea from server: %v", err)
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
			n, err := strconv.ParseUint(s[i+1:i+4], 8, 8)
			if err == nil {
				out = append(out, byte(n))
				i += 3
				continue
			}
		}
		return nil, errors.New("raftsql: malformed bytea escape from server")
	}
	return out, nil
}

func decodeBinary(oid uint32, b []byte) (driver.Value, error) {
	switch oid {
	case oidBool:
		if len(b) != 1 {
			return nil, errBadBinary
		}
		return b[0] != 0, nil
	case oidInt2:
		if len(b) != 2 {
			return nil, errBadBinary
		}
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case oidInt4:
		if len(b) != 4 {
			return nil, errBadBinary
		}
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	case oidOID:
		if len(b) != 4 {
			return nil, errBadBinary
		}
		return int64(binary.BigEndian.Uint32(b)), nil
	case oidInt8:
		if len(b) != 8 {
			return nil, errBadBinary
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	case oidFloat4:
		if len(b) != 4 {
			return nil, errBadBinary
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case oidFloat8:
		if len(b) != 8 {
			return nil, errBadBinary
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case oidDate:
		if len(b) != 4 {
			return nil, errBadBinary
		}
		switch d := int32(binary.BigEndian.Uint32(b)); d {
		case math.MaxInt32:
			return "infinity", nil
		case math.MinInt32:
			return "-infinity", nil
		default:
			return pgEpoch.AddDate(0, 0, int(d)), nil
		}
	case oidTimestamp, oidTimestampTZ:
		if len(b) != 8 {
			return nil, errBadBinary
		}
		switch us := int64(binary.BigEndian.Uint64(b)); us {
		case math.MaxInt64:
			return "infinity", nil
		case math.MinInt64:
			return "-infinity", nil
		default:
			sec, rem := us/1e6, us%1e6
			return time.Unix(pgEpoch.Unix()+sec, rem*1000).UTC(), nil
		}
	case oidNumeric:
		s, err := decodeNumeric(b)
		if err != nil {
			return nil, err
		}
		return s, nil
	case oidUUID:
		if len(b) != 16 {
			return nil, errBadBinary
		}
		h := hex.EncodeToString(b)
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
	case oidJSONB:
		if len(b) < 1 || b[0] != 1 {
			return nil, errBadBinary
		}
		return string(b[1:]), nil
	case oidText, oidVarchar, oidBPChar, oidName, oidJSON, oidUnknown, oidUnknownLit, oidTime:
		return string(b), nil
	}
	return append([]byte(nil), b...), nil
}

// decodeNumeric reads numeric's binary format: digit count, weight, sign,
// display scale, then base-10000 digits.
func decodeNumeric(b []byte) (string, error) {
	if len(b) < 8 {
		return "", errBadBinary
	}
	n := int(int16(binary.BigEndian.Uint16(b)))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(int16(binary.BigEndian.Uint16(b[6:])))
	if n < 0 || dscale < 0 || len(b) != 8+2*n {
		return "", errBadBinary
	}
	switch sign {
	case 0xC000:
		return "NaN", nil
	case 0xD000:
		return "Infinity", nil
	case 0xF000:
		return "-Infinity", nil
	case 0, 0x4000:
	default:
		return "", errBadBinary
	}
	digits := make([]int, n)
	for i := range digits {
		d := int(binary.BigEndian.Uint16(b[8+2*i:]))
		if d > 9999 {
			return "", errBadBinary
		}
		digits[i] = d
	}
	digit := func(i int) int {
		if i >= 0 && i < n {
			return digits[i]
		}
		return 0
	}
	var sb strings.Builder
	if sign == 0x4000 {
		sb.WriteByte('-')
	}
	if weight < 0 {
		sb.WriteByte('0')
	} else {
		for i := 0; i <= weight; i++ {
			if i == 0 {
				sb.WriteString(strconv.Itoa(digit(i)))
			} else {
				sb.Write(digits4(digit(i)))
			}
		}
	}
	if dscale > 0 {
		frac := make([]byte, 0, dscale+4)
		for i := weight + 1; len(frac) < dscale; i++ {
			frac = append(frac, digits4(digit(i))...)
		}
		sb.WriteByte('.')
		sb.Write(frac[:dscale])
	}
	return sb.String(), nil
}

// digits4 formats d (0 to 9999) as four digits.
func digits4(d int) []byte {
	return []byte{byte('0' + d/1000), byte('0' + d/100%10), byte('0' + d/10%10), byte('0' + d%10)}
}

// typeName is the name ColumnTypeDatabaseTypeName reports.
func typeName(oid uint32) string {
	switch oid {
	case oidBool:
		return "BOOL"
	case oidBytea:
		return "BYTEA"
	case oidName:
		return "NAME"
	case oidInt8:
		return "INT8"
	case oidInt2:
		return "INT2"
	case oidInt4:
		return "INT4"
	case oidText:
		return "TEXT"
	case oidOID:
		return "OID"
	case oidJSON:
		return "JSON"
	case oidFloat4:
		return "FLOAT4"
	case oidFloat8:
		return "FLOAT8"
	case oidUnknownLit:
		return "UNKNOWN"
	case oidBPChar:
		return "BPCHAR"
	case oidVarchar:
		return "VARCHAR"
	case oidDate:
		return "DATE"
	case oidTime:
		return "TIME"
	case oidTimestamp:
		return "TIMESTAMP"
	case oidTimestampTZ:
		return "TIMESTAMPTZ"
	case oidNumeric:
		return "NUMERIC"
	case oidUUID:
		return "UUID"
	case oidJSONB:
		return "JSONB"
	}
	return strconv.FormatUint(uint64(oid), 10)
}

var (
	typeInt64   = reflect.TypeFor[int64]()
	typeFloat64 = reflect.TypeFor[float64]()
	typeBool    = reflect.TypeFor[bool]()
	typeBytes   = reflect.TypeFor[[]byte]()
	typeString  = reflect.TypeFor[string]()
	typeTime    = reflect.TypeFor[time.Time]()
	typeAny     = reflect.TypeFor[any]()
)

// scanType is the Go type decodeValue returns for oid's well-formed values.
func scanType(oid uint32) reflect.Type {
	switch oid {
	case oidBool:
		return typeBool
	case oidBytea:
		return typeBytes
	case oidInt2, oidInt4, oidInt8, oidOID:
		return typeInt64
	case oidFloat4, oidFloat8:
		return typeFloat64
	case oidDate, oidTimestamp, oidTimestampTZ:
		return typeTime
	case oidText, oidVarchar, oidBPChar, oidName, oidJSON, oidJSONB, oidUUID, oidNumeric, oidTime, oidUnknownLit:
		return typeString
	}
	return typeAny
}
