package pgwire

import (
	"fmt"
	"time"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// This file reads the TimeZone parameter and writes values in it. Values
// are stored as UTC text; the zone changes how a timestamp with time zone
// is shown to this session, how one written without an offset is read (a
// literal, through the front end's Statement.InZone; a parameter, in
// decodeParamIn), and what date_trunc, extract and AT TIME ZONE make of
// one, whose SQLite text names the zone, so that a write carries it into
// the log and every node computes the same value.

// loadZone reads a TimeZone value as Postgres accepts one (pgsql.LoadZone):
// the zone and the value as SHOW gives it.
func loadZone(v string) (*time.Location, string, bool) { return pgsql.LoadZone(v) }

// errTimeZone is the error for a TimeZone value loadZone does not read.
func errTimeZone(value string) *Error {
	return newError(codeInvalidParameterValue, fmt.Sprintf("invalid value for parameter \"TimeZone\": %q", value))
}

// appendOffset appends a UTC offset in seconds east as Postgres writes one.
func appendOffset(dst []byte, off int) []byte { return pgsql.AppendOffset(dst, off) }

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

// inZone reads t, a timestamp written without an offset, in the zone loc
// (nil: UTC), as Postgres reads a timestamptz in the session's TimeZone.
func inZone(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		return t
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
}
