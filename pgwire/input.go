package pgwire

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// This file is the one place where a value written as text meets its
// column's type on the way in: a bound parameter in the text format
// (decodeParamIn), a string literal stored in or compared with a typed
// column (literals.go) and a field of COPY FROM in text or CSV (copy.go).
// Each is checked with the type's input rules, as Postgres' input
// functions check it, and becomes the value the database stores for the
// type, so that a value is stored the same way whichever way it came:
//
//	boolean                 a bool (SQLite's 1 or 0)
//	smallint, integer, bigint  an int64 in the type's range
//	real, double precision  a float64
//	numeric                 its text, checked (SQLite's NUMERIC affinity keeps it a number)
//	date                    YYYY-MM-DD
//	time                    HH:MM:SS[.ffffff]
//	timestamp               YYYY-MM-DD HH:MM:SS[.ffffff], a zone written into it dropped
//	timestamptz             the instant in UTC, as timestamp (storedTimestampTZ)
//	uuid                    lower-case, with hyphens
//	json, jsonb             its text, checked
//	bytea                   its bytes (\x hex or the escape format)
//
// Anything else is stored as the text it is. Values are read back by the
// same parsers (toTime, toBool …), so what is accepted here is readable.

// inputText is the value the text s of a value of type oid is stored as,
// or Postgres' error for text the type does not accept. A timestamptz
// without an offset is read in the zone loc (nil: UTC).
func inputText(s string, oid uint32, loc *time.Location) (any, error) {
	switch oid {
	case oidInt2, oidInt4, oidInt8:
		return inputInt(s, oid)
	case oidOID:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, errValue("22P02", "invalid input syntax for type %s: %q", typeName(oid), s)
		}
		return n, nil
	case oidFloat4, oidFloat8:
		t := strings.TrimSpace(s)
		f, ok := parseFloat(t)
		if !ok || strings.ContainsAny(t, "_xX") { // Go's 1_000 and 0x1p4 are no float8 input
			return nil, errValue("22P02", "invalid input syntax for type %s: %q", typeName(oid), s)
		}
		if math.IsInf(f, 0) && !strings.Contains(strings.ToLower(t), "inf") {
			return nil, errValue("22003", "%q is out of range for type %s", t, typeName(oid))
		}
		return f, nil
	case oidBool:
		v, ok := parseBool(s)
		if !ok {
			return nil, errValue("22P02", "invalid input syntax for type boolean: %q", s)
		}
		return v, nil
	case oidNumeric:
		t := strings.TrimSpace(s)
		if _, ok := appendNumeric(nil, t); !ok {
			return nil, errValue("22P02", "invalid input syntax for type numeric: %q", s)
		}
		return t, nil
	case oidBytea:
		return decodeByteaText(s)
	case oidDate, oidTimestamp, oidTimestampTZ:
		t, ok := parseTimestamp(s)
		if !ok {
			// Fields without their leading zeros: 2024-1-5 9:30.
			for _, layout := range []string{"2006-1-2", "2006-1-2 15:04:05.999999999", "2006-1-2 15:04"} {
				var err error
				if t, err = time.Parse(layout, strings.TrimSpace(s)); err == nil {
					ok = true
					break
				}
			}
		}
		if !ok {
			return nil, dateTimeError(s, oid)
		}
		switch oid {
		case oidDate:
			return t.Format("2006-01-02"), nil
		case oidTimestamp:
			return t.Format("2006-01-02 15:04:05.999999"), nil
		}
		if !hasOffset(s) {
			t = inZone(t, loc)
		}
		return storedTimestampTZ(t), nil
	case oidTime:
		t := strings.TrimSpace(s)
		tt, err := time.Parse("15:04:05.999999999", t)
		if err != nil {
			tt, err = time.Parse("15:04", t)
		}
		if err != nil {
			return nil, dateTimeError(s, oid)
		}
		return tt.Format("15:04:05.999999"), nil
	case oidUUID:
		b, err := appendBinaryTemporal(nil, strings.TrimSpace(s), oid)
		if err != nil {
			return nil, errValue("22P02", "invalid input syntax for type uuid: %q", s)
		}
		h := hex.EncodeToString(b)
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
	case oidJSON, oidJSONB:
		if !json.Valid([]byte(s)) {
			return nil, errValue("22P02", "invalid input syntax for type json")
		}
		return s, nil
	}
	return s, nil
}

// inputInt reads an integer of type oid (int2, int4 or int8), with
// Postgres' errors: 22P02 for text that is no integer, 22003 for one out
// of the type's range.
func inputInt(s string, oid uint32) (any, error) {
	t := strings.TrimSpace(s)
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return nil, errValue("22003", "value %q is out of range for type %s", t, typeName(oid))
		}
		return nil, errValue("22P02", "invalid input syntax for type %s: %q", typeName(oid), s)
	}
	if oid == oidInt2 && (n < math.MinInt16 || n > math.MaxInt16) || oid == oidInt4 && (n < math.MinInt32 || n > math.MaxInt32) {
		return nil, errValue("22003", "value %q is out of range for type %s", t, typeName(oid))
	}
	return n, nil
}

// dateTimeError is Postgres' error for text a date, time or timestamp
// does not accept: 22008 when its fields have the shape of one but a
// field is out of range (2024-13-45, 25:00), 22007 otherwise.
func dateTimeError(s string, oid uint32) error {
	name := map[uint32]string{oidDate: "date", oidTime: "time", oidTimestamp: "timestamp", oidTimestampTZ: "timestamp with time zone"}[oid]
	if dateTimeShape(strings.TrimSpace(s), oid == oidTime) {
		return errValue("22008", "date/time field value out of range: %q", s)
	}
	return errValue("22007", "invalid input syntax for type %s: %q", name, s)
}

// dateTimeShape reports text that begins as a numeric ISO date
// (Y-M-D) or, for a time, H:M, whatever the fields' values.
func dateTimeShape(s string, timeOnly bool) bool {
	digits := func(i int) int { // the end of a run of digits at i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i
	}
	sep := byte('-')
	n := 3
	if timeOnly {
		sep, n = ':', 2
	}
	i := 0
	for k := 0; k < n; k++ {
		j := digits(i)
		if j == i || j-i > 4 {
			return false
		}
		i = j
		if k < n-1 {
			if i >= len(s) || s[i] != sep {
				return false
			}
			i++
		}
	}
	return true
}
