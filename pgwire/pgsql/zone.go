package pgsql

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	// Every zone name Postgres knows must be known here whatever the host
	// has installed: a node without /usr/share/zoneinfo answers the same.
	_ "time/tzdata"
)

// This file is where a statement meets the session's TimeZone. The
// translation of a statement does not depend on the session, so that it
// can be cached by its text; where Postgres reads the zone (a timestamptz
// literal without an offset, date_trunc and extract of a timestamptz), the
// SQLite text holds a hole that Statement.InZone fills in for the session.
// A literal is converted there, once, on the node the client reached; a
// date function of a value gets the zone's name as an argument, so that the
// text a write carries into the log names its zone and every node computes
// the same value from it.

// LoadZone reads a TimeZone value as Postgres accepts one: a zone name of
// the IANA database (any case), UTC and its aliases, a number of hours east
// of UTC (SET TIME ZONE -8), or a POSIX fixed offset west of UTC (UTC+3,
// <-03>+03). It returns the zone and the value as SHOW gives it, which
// LoadZone reads back as the same zone.
func LoadZone(v string) (*time.Location, string, bool) {
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
	name := "<" + string(AppendOffset(nil, east)) + ">" + string(AppendOffset(nil, -east))
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

// AppendOffset appends a UTC offset in seconds east as Postgres writes one:
// +00, -08, +05:30, and seconds only when there are some (+00:09:21).
func AppendOffset(dst []byte, off int) []byte {
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

// zones caches LoadZone by the text the functions of this file are given,
// since time.LoadLocation reads the zone's rules afresh at every call.
var (
	zonesMu sync.Mutex
	zones   = map[string]*time.Location{}
)

const maxCachedZones = 256

// zoneArg reads the zone argument of the date functions.
func zoneArg(v string) (*time.Location, error) {
	zonesMu.Lock()
	loc, ok := zones[v]
	zonesMu.Unlock()
	if ok {
		return loc, nil
	}
	loc, _, ok = LoadZone(v)
	if !ok {
		return nil, fmt.Errorf("time zone %q not recognized", v)
	}
	zonesMu.Lock()
	if len(zones) >= maxCachedZones {
		clear(zones)
	}
	zones[v] = loc
	zonesMu.Unlock()
	return loc, nil
}

// zoneName is the text of loc the date functions read back (LoadZone),
// "UTC" for nil.
func zoneName(loc *time.Location) string {
	if loc == nil || loc == time.UTC {
		return "UTC"
	}
	name := loc.String()
	if l, _, ok := LoadZone(name); ok && sameZone(l, loc) {
		return name
	}
	// A fixed zone named otherwise: its offset.
	_, off := time.Date(2000, 1, 1, 0, 0, 0, 0, loc).Zone()
	_, name, _ = fixedEast(off)
	return name
}

func sameZone(a, b *time.Location) bool {
	if a.String() != b.String() {
		return false
	}
	for _, t := range []time.Time{time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2000, 7, 1, 0, 0, 0, 0, time.UTC)} {
		_, x := t.In(a).Zone()
		_, y := t.In(b).Zone()
		if x != y {
			return false
		}
	}
	return true
}

// The holes of a statement's SQLite text: what Statement.SQLite and
// InZone put in them.
type holeKind uint8

const (
	holeUser    holeKind = iota // the session user's name, quoted
	holeZone                    // the session's TimeZone, quoted, for the date functions
	holeLocalTS                 // a timestamptz literal without an offset: lit, the wall clock, read in the zone
)

type hole struct {
	kind holeKind
	lit  string
}

// holeMark is the byte that delimits a hole in the parser's output while
// it translates: a statement's text never holds it (Postgres' protocol
// ends its strings there), and Parse leaves a text that does without holes.
const holeMark = '\x00'

// fill is the text of h for a session whose user is user, in zone loc
// (nil: UTC).
func (h hole) fill(user string, loc *time.Location) string {
	switch h.kind {
	case holeZone:
		return quoteString(zoneName(loc))
	case holeLocalTS:
		t, _ := time.Parse("2006-01-02 15:04:05.999999999", h.lit)
		if loc != nil {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
		}
		return "'" + formatTimestamp(t.UTC()) + "'"
	}
	return quoteString(user)
}

// mark writes hole h into the output.
func (p *parser) mark(h hole) {
	p.materialize()
	p.out = append(p.out, p.holeText(h)...)
}

// holeText is the text that marks hole h in the output.
func (p *parser) holeText(h hole) string {
	if strings.IndexByte(p.src, holeMark) >= 0 {
		return h.fill("", nil)
	}
	p.holes = append(p.holes, h)
	return string(holeMark) + strconv.Itoa(len(p.holes)-1) + string(holeMark)
}

// hasZone reports whether a timestamp's text ends in a zone: Z, or an
// offset after the time of day.
func hasZone(s string) bool {
	if len(s) <= 10 {
		return false
	}
	return strings.ContainsAny(s[10:], "Zz+-")
}

// splitHoles cuts sql, the translated text, at its holes into
// Statement.parts and Statement.holes.
func (p *parser) splitHoles(sql string) {
	for {
		i := strings.IndexByte(sql, holeMark)
		if i < 0 {
			break
		}
		j := strings.IndexByte(sql[i+1:], holeMark)
		if j < 0 {
			break
		}
		n, err := strconv.Atoi(sql[i+1 : i+1+j])
		if err != nil || n < 0 || n >= len(p.holes) {
			break
		}
		p.st.parts = append(p.st.parts, sql[:i])
		p.st.holes = append(p.st.holes, p.holes[n])
		sql = sql[i+j+2:]
	}
	p.st.parts = append(p.st.parts, sql)
	p.st.SQL = p.st.SQLite("")
}

// adopt is the text of st, a part of the statement translated on its
// own, with its holes marked again as holes of p's output.
func (p *parser) adopt(st *Statement) string {
	if len(st.holes) == 0 || strings.IndexByte(p.src, holeMark) >= 0 {
		return st.SQLite("")
	}
	var b []byte
	for i, h := range st.holes {
		b = append(b, st.parts[i]...)
		p.holes = append(p.holes, h)
		b = append(b, holeMark)
		b = strconv.AppendInt(b, int64(len(p.holes)-1), 10)
		b = append(b, holeMark)
	}
	return string(append(b, st.parts[len(st.parts)-1]...))
}

// zoned reports whether the statement's text depends on the session's
// TimeZone.
func (s *Statement) zoned() bool {
	for _, h := range s.holes {
		if h.kind != holeUser {
			return true
		}
	}
	return false
}

// InZone is the statement as a session whose TimeZone is loc (nil: UTC)
// runs it: s itself when its text does not depend on the zone, or when loc
// is UTC, which Parse assumes.
func (s *Statement) InZone(loc *time.Location) *Statement {
	if loc == nil || loc == time.UTC || !s.zoned() {
		return s
	}
	cp := *s
	cp.parts, cp.holes = nil, nil
	cur := s.parts[0]
	for i, h := range s.holes {
		if h.kind == holeUser {
			cp.parts = append(cp.parts, cur)
			cp.holes = append(cp.holes, h)
			cur = s.parts[i+1]
			continue
		}
		cur += h.fill("", loc) + s.parts[i+1]
	}
	if len(cp.holes) == 0 {
		cp.SQL = cur
		return &cp
	}
	cp.parts = append(cp.parts, cur)
	cp.SQL = cp.SQLite("")
	return &cp
}

// The date functions of a timestamp with time zone, in a zone: date_trunc,
// extract and date_part, AT TIME ZONE.
const (
	dateTruncFunc = "_pg_date_trunc" // (unit, timestamptz, zone): the instant, as stored
	datePartFunc  = "_pg_date_part"  // (field, timestamptz, zone)
	atZoneFunc    = "_pg_at_zone"    // (zone, timestamptz): the wall clock there
	fromZoneFunc  = "_pg_from_zone"  // (zone, timestamp): the instant the wall clock there is
)

func zoneFunctions() []Function {
	return []Function{
		{Name: dateTruncFunc, NumArgs: 3, Fn: strict(nullable(dateTruncZone))},
		{Name: datePartFunc, NumArgs: 3, Fn: strict(nullable(datePartZone))},
		{Name: atZoneFunc, NumArgs: 2, Fn: strict(nullable(atZone))},
		{Name: fromZoneFunc, NumArgs: 2, Fn: strict(nullable(fromZone))},
		{Name: "to_timestamp", NumArgs: 1, Fn: strict(toTimestamp)},
	}
}

// toTimestamp is to_timestamp(seconds): the instant that many seconds
// after 1970-01-01 00:00:00 UTC, to the microsecond, stored as UTC.
func toTimestamp(args []any) (any, error) {
	var secs float64
	switch v := args[0].(type) {
	case int64:
		secs = float64(v)
	case float64:
		secs = v
	default:
		f, err := strconv.ParseFloat(strings.TrimSpace(textOf(v)), 64)
		if err != nil {
			return nil, fmt.Errorf("invalid input syntax for type double precision: %q", textOf(v))
		}
		secs = f
	}
	// Postgres' range: 4714-11-24 BC to 294276 AD; Go's time formats four
	// digit years, so the range here is years 1 to 9999.
	const minSecs, maxSecs = -62135596800, 253402300799
	if math.IsNaN(secs) || secs < minSecs || secs > maxSecs {
		return nil, errors.New("timestamp out of range for to_timestamp")
	}
	whole := math.Floor(secs)
	micros := math.Round((secs - whole) * 1e6)
	return formatTimestamp(time.Unix(int64(whole), int64(micros)*1000).UTC()), nil
}

// errNotTime is timeArg's error for a value that is no timestamp, which
// the functions answer with NULL, as SQLite's date functions do: a column
// of SQLite may hold anything.
var errNotTime = errors.New("not a timestamp")

// timeArg reads a stored timestamp (UTC when it says no zone).
func timeArg(v any) (time.Time, error) {
	if s, ok := v.(string); ok {
		if t, ok := parseTimestamp(strings.TrimSpace(s)); ok {
			return t, nil
		}
	}
	return time.Time{}, errNotTime
}

// nullable makes fn answer NULL for a value that is no timestamp.
func nullable(fn func(args []any) (any, error)) func(args []any) (any, error) {
	return func(args []any) (any, error) {
		v, err := fn(args)
		if err == errNotTime {
			return nil, nil
		}
		return v, err
	}
}

// truncTime truncates t, in its own zone, to unit; ok is false for a unit
// Postgres does not know.
func truncTime(t time.Time, unit string) (time.Time, bool) {
	y, mo, d := t.Date()
	loc := t.Location()
	switch unit {
	case "microseconds", "microsecond", "us":
		return t.Truncate(time.Microsecond), true
	case "milliseconds", "millisecond", "ms":
		return time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1e6*1e6, loc), true
	case "second", "seconds", "sec", "s":
		return time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), 0, loc), true
	case "minute", "minutes", "min", "m":
		return time.Date(y, mo, d, t.Hour(), t.Minute(), 0, 0, loc), true
	case "hour", "hours", "h":
		return time.Date(y, mo, d, t.Hour(), 0, 0, 0, loc), true
	case "day", "days", "d":
		return time.Date(y, mo, d, 0, 0, 0, 0, loc), true
	case "week", "weeks", "w":
		wd := (int(t.Weekday()) + 6) % 7 // days since Monday
		return time.Date(y, mo, d-wd, 0, 0, 0, 0, loc), true
	case "month", "months", "mon":
		return time.Date(y, mo, 1, 0, 0, 0, 0, loc), true
	case "quarter":
		return time.Date(y, (mo-1)/3*3+1, 1, 0, 0, 0, 0, loc), true
	case "year", "years", "y":
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc), true
	case "decade", "decades":
		return time.Date(floorDiv(y, 10)*10, 1, 1, 0, 0, 0, 0, loc), true
	case "century", "centuries":
		return time.Date(floorDiv(y-1, 100)*100+1, 1, 1, 0, 0, 0, 0, loc), true
	case "millennium", "millennia":
		return time.Date(floorDiv(y-1, 1000)*1000+1, 1, 1, 0, 0, 0, 0, loc), true
	}
	return time.Time{}, false
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// dateTruncZone is date_trunc(unit, ts, zone) of a timestamptz: truncated
// on the wall clock of zone, as Postgres truncates in the session's
// TimeZone, and stored back as UTC.
func dateTruncZone(args []any) (any, error) {
	unit := strings.ToLower(textOf(args[0]))
	t, err := timeArg(args[1])
	if err != nil {
		return nil, err
	}
	loc, err := zoneArg(textOf(args[2]))
	if err != nil {
		return nil, err
	}
	out, ok := truncTime(t.In(loc), unit)
	if !ok {
		return nil, fmt.Errorf("unit %q not recognized for type timestamp with time zone", unit)
	}
	return formatTimestamp(out.UTC()), nil
}

// datePartZone is extract(field FROM ts) of a timestamptz, on the wall
// clock of zone.
func datePartZone(args []any) (any, error) {
	field := strings.ToLower(textOf(args[0]))
	t, err := timeArg(args[1])
	if err != nil {
		return nil, err
	}
	loc, err := zoneArg(textOf(args[2]))
	if err != nil {
		return nil, err
	}
	t = t.In(loc)
	_, off := t.Zone()
	switch field {
	case "epoch":
		return float64(t.UnixMicro()) / 1e6, nil
	case "year", "years":
		return int64(t.Year()), nil
	case "month", "months", "mon":
		return int64(t.Month()), nil
	case "day", "days":
		return int64(t.Day()), nil
	case "hour", "hours":
		return int64(t.Hour()), nil
	case "minute", "minutes", "min":
		return int64(t.Minute()), nil
	case "second", "seconds", "sec":
		return float64(t.Second()) + float64(t.Nanosecond()/1000)/1e6, nil
	case "milliseconds", "millisecond", "ms":
		return float64(t.Second())*1000 + float64(t.Nanosecond()/1000)/1e3, nil
	case "microseconds", "microsecond", "us":
		return int64(t.Second())*1e6 + int64(t.Nanosecond()/1000), nil
	case "dow":
		return int64(t.Weekday()), nil
	case "isodow":
		return int64((int(t.Weekday())+6)%7 + 1), nil
	case "doy":
		return int64(t.YearDay()), nil
	case "week":
		_, w := t.ISOWeek()
		return int64(w), nil
	case "isoyear":
		y, _ := t.ISOWeek()
		return int64(y), nil
	case "quarter":
		return int64((t.Month()-1)/3 + 1), nil
	case "decade":
		return int64(floorDiv(t.Year(), 10)), nil
	case "century":
		if t.Year() > 0 {
			return int64((t.Year() + 99) / 100), nil
		}
		return int64(-((99 - (t.Year() - 1)) / 100)), nil
	case "millennium":
		if t.Year() > 0 {
			return int64((t.Year() + 999) / 1000), nil
		}
		return int64(-((999 - (t.Year() - 1)) / 1000)), nil
	case "timezone":
		return int64(off), nil
	case "timezone_hour":
		return int64(off / 3600), nil
	case "timezone_minute":
		return int64(off / 60 % 60), nil
	}
	return nil, fmt.Errorf("unit %q not recognized for type timestamp with time zone", field)
}

// atZone is ts AT TIME ZONE zone of a timestamptz: its wall clock in zone,
// a timestamp.
func atZone(args []any) (any, error) {
	t, err := timeArg(args[1])
	if err != nil {
		return nil, err
	}
	loc, err := zoneArg(textOf(args[0]))
	if err != nil {
		return nil, err
	}
	return formatTimestamp(t.In(loc)), nil
}

// fromZone is ts AT TIME ZONE zone of a timestamp: the instant its wall
// clock is in zone, stored as UTC.
func fromZone(args []any) (any, error) {
	t, err := timeArg(args[1])
	if err != nil {
		return nil, err
	}
	loc, err := zoneArg(textOf(args[0]))
	if err != nil {
		return nil, err
	}
	t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
	return formatTimestamp(t.UTC()), nil
}

// The translation of the date functions that read a zone.

// zoneText is the SQLite text of the session's zone: a hole.
func (p *parser) zoneText() string { return p.holeText(hole{kind: holeZone}) }

// argType is the type the front end gives the expression of tokens [a, b).
func (p *parser) argType(a, b int) string {
	if a >= b {
		return ""
	}
	return p.nameItemExpr(a, b).Type
}

// The units and fields SQLite's built-ins truncate to and extract.
var (
	strftimeTrunc = map[string]bool{"year": true, "month": true, "day": true, "hour": true, "minute": true, "second": true, "week": true}
	strftimePart  = map[string]bool{"year": true, "month": true, "day": true, "hour": true, "minute": true, "second": true,
		"dow": true, "doy": true, "isodow": true, "week": true, "isoyear": true, "epoch": true, "quarter": true}
)

// zonedTrunc translates date_trunc('unit', x) where x is a timestamptz or a
// date (which Postgres makes a timestamptz in the session's zone), or the
// unit is one SQLite's strftime cannot truncate to, into a call of
// dateTruncFunc; ok is false to leave it to strftime.
func (p *parser) zonedTrunc(i, start int, unit string) (int, bool) {
	if _, known := truncTime(time.Time{}, unit); !known {
		p.fail("22023", i+2, "unit "+strconv.Quote(unit)+" not recognized for type timestamp with time zone")
		return i + 1, true
	}
	end := p.matchParen(i + 1)
	typ := p.argType(i+4, end)
	if where := p.schemaAt(i); where != 0 {
		// Stored in the schema: no session's zone applies, and stock
		// sqlite3 must run it, so it truncates in UTC with strftime.
		typ = ""
		if where.strict() && !strftimeTrunc[unit] {
			p.refuseStored(i, "date_trunc('"+unit+"', …)", where)
			return i + 1, true
		}
	}
	open, closer := dateTruncFunc+"("+quoteString(unit)+", ", ", 'UTC')"
	switch typ {
	case "timestamptz":
		closer = ", " + p.zoneText() + ")"
	case "date":
		z := p.zoneText()
		open, closer = open+fromZoneFunc+"("+z+", ", "), "+z+")"
	default:
		if strftimeTrunc[unit] {
			return 0, false
		}
	}
	p.replace(i, open)
	p.drop(i + 1)
	p.drop(i + 2)
	p.drop(i + 3)
	p.frames = append(p.frames, frame{kind: fParen, start: start, startT: i, inner: p.outLen(), closer: closer})
	p.prim = -1
	return i + 4, true
}

// truncType is the type of date_trunc whose arguments open at token open.
func (p *parser) truncType(open int) string {
	end := p.matchParen(open)
	if end < 0 || !p.isPunct(open+2, ',') {
		return "timestamp"
	}
	switch p.argType(open+3, end) {
	case "timestamptz", "date":
		return "timestamptz"
	}
	return "timestamp"
}

// zonedPart translates extract(field FROM x) and date_part('field', x)
// where x is a timestamptz, or the field is one strftime does not give,
// into a call of datePartFunc; ok is false to leave it to strftime.
func (p *parser) zonedPart(i, start int, field string) (int, bool) {
	end := p.matchParen(i + 1)
	typ := p.argType(i+4, end)
	if where := p.schemaAt(i); where != 0 {
		// Stored in the schema: in UTC, with strftime where it can.
		typ = ""
		if where.strict() && !strftimePart[field] {
			p.refuseStored(i, "extract("+field+" from …)", where)
			return i + 1, true
		}
	}
	closer := ", 'UTC')"
	switch {
	case typ == "timestamptz":
		closer = ", " + p.zoneText() + ")"
	case strftimePart[field]:
		return 0, false
	}
	if _, err := datePartZone([]any{field, "2000-01-01", "UTC"}); err != nil {
		p.fail("22023", i+2, "unit "+strconv.Quote(field)+" not recognized for type timestamp with time zone")
		return i + 1, true
	}
	p.replace(i, datePartFunc+"("+quoteString(field)+", ")
	p.drop(i + 1)
	p.drop(i + 2)
	p.drop(i + 3)
	p.frames = append(p.frames, frame{kind: fParen, start: start, startT: i, inner: p.outLen(), closer: closer})
	p.prim = -1
	return i + 4, true
}

// atTimeZone translates x AT TIME ZONE z at token i (the AT), x being the
// primary before it: a timestamptz's wall clock in z, or for a timestamp
// the instant its wall clock is in z. An operand whose type the front end
// does not know (a column) is taken for a timestamptz.
func (p *parser) atTimeZone(i int) (int, bool) {
	if p.prim < 0 || p.word(i+1) != "time" || p.word(i+2) != "zone" {
		return 0, false
	}
	z := i + 3
	var zone string
	switch p.kindAt(z) {
	case tString, tEString, tDollar:
		v, ok := p.literal(z)
		if !ok {
			return z + 1, true
		}
		zone = quoteString(v)
	case tParam, tWord, tQIdent:
		if p.kindAt(z) == tWord && notPrimary[p.word(z)] {
			return 0, false
		}
		zone = p.text(z)
	default:
		return 0, false
	}
	typ := p.argType(p.primLo, i)
	if where := p.schemaAt(i); where.strict() && !(isUTC(zone) && typ != "date") {
		p.refuseStored(i, "AT TIME ZONE other than UTC", where)
		return z + 1, true
	}
	p.materialize()
	lo := p.prim
	lhs := strings.TrimRight(string(p.out[lo:]), " \t\r\n")
	var call string
	switch {
	case isUTC(zone) && typ != "date":
		// Stored as UTC already, either way: the value is its own text
		// (a column's DEFAULT (now() AT TIME ZONE 'utc') stays SQLite's).
		call = lhs
	case typ == "timestamp":
		call = fromZoneFunc + "(" + zone + ", " + lhs + ")"
	case typ == "date":
		call = atZoneFunc + "(" + zone + ", " + fromZoneFunc + "(" + p.zoneText() + ", " + lhs + "))"
	default:
		call = atZoneFunc + "(" + zone + ", " + lhs + ")"
	}
	p.out = append(p.out[:lo], call...)
	for k := i; k <= z; k++ {
		p.drop(k)
	}
	p.prim = lo
	return z + 1, true
}

// isUTC reports whether the SQLite text z is a literal of UTC.
func isUTC(z string) bool {
	if len(z) < 2 || z[0] != '\'' {
		return false
	}
	loc, _, ok := LoadZone(strings.Trim(z, "'"))
	return ok && loc == time.UTC
}

// zoneResult is the type of x AT TIME ZONE z, or timezone(z, x), for x of
// type typ.
func zoneResult(typ string) string {
	if typ == "timestamp" {
		return "timestamptz"
	}
	return "timestamp"
}

// timezoneCall translates timezone(z, x) at token i.
func (p *parser) timezoneCall(i, start int) (int, bool) {
	end := p.matchParen(i + 1)
	comma := -1
	for j, d := i+2, 0; j < end; j++ {
		switch {
		case p.isPunct(j, '('):
			d++
		case p.isPunct(j, ')'):
			d--
		case d == 0 && p.isPunct(j, ','):
			if comma >= 0 {
				return 0, false
			}
			comma = j
		}
	}
	if comma < 0 {
		return 0, false
	}
	typ := p.argType(comma+1, end)
	if comma == i+3 && p.kindAt(i+2) == tString && isUTC(p.text(i+2)) && typ != "date" {
		p.replace(i, "")
		p.drop(i + 2)
		p.drop(i + 3)
		p.prim, p.primLo = start, i
		return i + 4, true
	}
	switch typ {
	case "timestamp":
		p.replace(i, fromZoneFunc)
	case "date":
		return 0, false
	default:
		p.replace(i, atZoneFunc)
	}
	p.prim, p.primLo = start, i
	return i + 1, true
}

// timezoneType is the type of timezone(z, x) whose arguments open at open.
func (p *parser) timezoneType(open int) string {
	end := p.matchParen(open)
	for j, d := open+1, 0; j < end; j++ {
		switch {
		case p.isPunct(j, '('):
			d++
		case p.isPunct(j, ')'):
			d--
		case d == 0 && p.isPunct(j, ','):
			return zoneResult(p.argType(j+1, end))
		}
	}
	return ""
}

// clockPrecision is the SQLite text of CURRENT_TIMESTAMP(n) and
// LOCALTIMESTAMP(n), or with timeOnly of CURRENT_TIME(n) and LOCALTIME(n):
// the clock to n fractional digits, of the millisecond SQLite's clock has
// (a write's is the stamped time of its command).
func clockPrecision(n string, timeOnly bool) (string, bool) {
	d, err := strconv.Atoi(n)
	if err != nil || d < 0 {
		return "", false
	}
	whole, format, width := "CURRENT_TIMESTAMP", "%Y-%m-%d %H:%M:%f", 20
	if timeOnly {
		whole, format, width = "CURRENT_TIME", "%H:%M:%f", 9
	}
	switch {
	case d == 0:
		return whole, true
	case d < 3:
		return "substr(strftime('" + format + "', 'now'), 1, " + strconv.Itoa(width+d) + ")", true
	}
	return "strftime('" + format + "', 'now')", true
}

// castPrecision is the SQLite text of operand::timestamp(n) (display is
// the type as written) for an operand that is no literal: cut to n
// fractional digits; operand itself when n is 3 or more, or none is given.
func castPrecision(display, operand string) string {
	open := strings.IndexByte(display, '(')
	if open < 0 {
		return operand
	}
	closeAt := strings.IndexByte(display[open:], ')')
	if closeAt < 0 {
		return operand
	}
	d, err := strconv.Atoi(strings.TrimSpace(display[open+1 : open+closeAt]))
	if err != nil {
		return operand
	}
	switch {
	case d == 0:
		return "datetime(" + operand + ")"
	case d < 3:
		return "substr(strftime('%Y-%m-%d %H:%M:%f', " + operand + "), 1, " + strconv.Itoa(20+d) + ")"
	}
	return operand
}
