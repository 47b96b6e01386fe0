package pgwire

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	// Every zone name Postgres knows must be known here whatever the host
	// has installed: a node without /usr/share/zoneinfo answers the same.
	_ "time/tzdata"
)

// This file reads the TimeZone parameter and writes values in it. The zone
// only changes how a timestamp with time zone is shown to this session:
// values are stored as UTC text, so no replicated data depends on it.

// loadZone reads a TimeZone value as Postgres accepts one: a zone name of
// the IANA database (any case), UTC and its aliases, a number of hours east
// of UTC (SET TIME ZONE -8), or a POSIX fixed offset west of UTC (UTC+3,
// <-03>+03). It returns the zone and the value as SHOW gives it.
func loadZone(v string) (*time.Location, string, bool) {
	v = strings.TrimSpace(v)
	switch strings.ToLower(v) {
	case "":
		return nil, "", false
	case "utc", "etc/utc", "uct", "etc/uct", "zulu", "etc/zulu", "universal", "etc/universal", "z", "0":
		return time.UTC, "UTC", true
	case "local":
		// Go's name for the host's zone: it would differ from node to node.
		return nil, "", false
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		// Hours east of UTC, as SET TIME ZONE takes a number.
		if math.IsNaN(f) || math.Abs(f) > 15 {
			return nil, "", false
		}
		return fixedEast(int(math.Round(f * 3600)))
	}
	if east, ok := intervalOffset(v); ok {
		return fixedEast(east)
	}
	if strings.ContainsAny(v, " \\") || strings.Contains(v, "..") || strings.HasPrefix(v, "/") {
		return nil, "", false
	}
	if loc, err := time.LoadLocation(v); err == nil {
		return loc, v, true
	}
	if name := zoneCase(v); name != v {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc, name, true
		}
	}
	if west, ok := posixOffset(v); ok {
		return time.FixedZone(v, -west), v, true
	}
	return nil, "", false
}

// fixedEast is the zone off seconds east of UTC, named as Postgres names
// it: <+05:30>-05:30.
func fixedEast(east int) (*time.Location, string, bool) {
	if east < -15*3600 || east > 15*3600 {
		return nil, "", false
	}
	name := "<" + string(appendOffset(nil, east)) + ">" + string(appendOffset(nil, -east))
	return time.FixedZone(name, east), name, true
}

// intervalOffset reads SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE (the
// value as the front end keeps it): an offset east of UTC, [+-]hh[:mm].
func intervalOffset(v string) (int, bool) {
	rest, ok := strings.CutPrefix(strings.ToLower(v), "interval")
	if !ok {
		return 0, false
	}
	rest = strings.TrimSpace(rest)
	if len(rest) < 2 || rest[0] != '\'' {
		return 0, false
	}
	end := strings.IndexByte(rest[1:], '\'')
	if end < 0 {
		return 0, false
	}
	lit, qual := strings.TrimSpace(rest[1:1+end]), strings.Join(strings.Fields(rest[2+end:]), " ")
	if qual != "" && qual != "hour to minute" && qual != "hour" {
		return 0, false
	}
	// posixOffset reads the literal's sign as written; here it is east.
	return posixOffset("UTC" + lit)
}

// zoneCase spells a zone name as the IANA database does, for the common
// shapes (europe/paris, AMERICA/NEW_YORK, est5edt): Postgres looks names up
// whatever their case.
func zoneCase(v string) string {
	if !strings.Contains(v, "/") {
		return strings.ToUpper(v)
	}
	b := []byte(strings.ToLower(v))
	up := true
	for i, c := range b {
		if up && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		up = c == '/' || c == '_' || c == '-'
	}
	return string(b)
}

// posixOffset reads a POSIX time zone without daylight saving rules: an
// abbreviation (three or more letters, or <…>) and an offset in hours west
// of UTC, [+-]hh[:mm[:ss]]. It returns the offset in seconds.
func posixOffset(v string) (int, bool) {
	i := 0
	if strings.HasPrefix(v, "<") {
		j := strings.IndexByte(v, '>')
		if j < 2 {
			return 0, false
		}
		i = j + 1
	} else {
		for i < len(v) && (v[i] >= 'a' && v[i] <= 'z' || v[i] >= 'A' && v[i] <= 'Z') {
			i++
		}
		if i < 3 {
			return 0, false
		}
	}
	rest := v[i:]
	sign := 1
	switch {
	case strings.HasPrefix(rest, "-"):
		sign, rest = -1, rest[1:]
	case strings.HasPrefix(rest, "+"):
		rest = rest[1:]
	}
	parts := strings.Split(rest, ":")
	if len(parts) > 3 {
		return 0, false
	}
	secs := 0
	for k, part := range parts {
		if len(part) == 0 || len(part) > 2 {
			return 0, false
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 || (k > 0 && n > 59) {
			return 0, false
		}
		secs += n * []int{3600, 60, 1}[k]
	}
	if secs > 15*3600 {
		return 0, false
	}
	return sign * secs, true
}

// errTimeZone is the error for a TimeZone value loadZone does not read.
func errTimeZone(value string) *Error {
	return newError(codeInvalidParameterValue, fmt.Sprintf("invalid value for parameter \"TimeZone\": %q", value))
}

// appendOffset appends a UTC offset in seconds east as Postgres writes one:
// +00, -08, +05:30, and seconds only when there are some (+00:09:21).
func appendOffset(dst []byte, off int) []byte {
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	dst = append(dst, sign)
	dst = appendTwo(dst, off/3600)
	if m, s := off/60%60, off%60; m != 0 || s != 0 {
		dst = appendTwo(append(dst, ':'), m)
		if s != 0 {
			dst = appendTwo(append(dst, ':'), s)
		}
	}
	return dst
}

func appendTwo(dst []byte, n int) []byte {
	if n < 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, int64(n), 10)
}

// appendTimestampTZ appends the instant t as Postgres' timestamptz output
// does with DateStyle ISO, in the zone loc (nil: UTC): 2026-12-03
// 15:05:06.123456+01, the fraction only when there is one.
func appendTimestampTZ(dst []byte, t time.Time, loc *time.Location) []byte {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	dst = t.AppendFormat(dst, "2006-01-02 15:04:05.999999")
	_, off := t.Zone()
	return appendOffset(dst, off)
}
