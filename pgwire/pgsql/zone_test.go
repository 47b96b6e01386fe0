package pgsql

import (
	"strings"
	"testing"
	"time"
)

func TestInZone(t *testing.T) {
	berlin, _, ok := LoadZone("europe/berlin")
	if !ok {
		t.Fatal("LoadZone(europe/berlin) failed")
	}
	kolkata, _, _ := LoadZone("+5.5")
	for _, tt := range []struct {
		sql  string
		loc  *time.Location
		want string
	}{
		{"SELECT date_trunc('day', '2026-03-29 01:30+00'::timestamptz)", berlin,
			`SELECT _pg_date_trunc('day',  '2026-03-29 01:30:00', 'Europe/Berlin') AS "date_trunc"`},
		{"SELECT date_trunc('day', '2026-03-29 01:30+00'::timestamptz)", nil,
			`SELECT _pg_date_trunc('day',  '2026-03-29 01:30:00', 'UTC') AS "date_trunc"`},
		{"SELECT '2026-01-01 10:00'::timestamptz, '2026-07-01 10:00'::timestamptz, '2026-07-01 10:00Z'::timestamptz", berlin,
			`SELECT '2026-01-01 09:00:00' AS "timestamptz", '2026-07-01 08:00:00' AS "timestamptz", '2026-07-01 10:00:00' AS "timestamptz"`},
		{"SELECT '2026-01-01 10:00'::timestamptz", kolkata, `SELECT '2026-01-01 04:30:00' AS "timestamptz"`},
		{"SELECT extract(hour from now()) FROM t", kolkata,
			`SELECT _pg_date_part('hour',   CURRENT_TIMESTAMP, '<+05:30>-05:30') AS "extract" FROM t`},
		{"INSERT INTO t (b, ts) VALUES (current_user, '2026-01-01 10:00'::timestamptz)", berlin,
			`INSERT INTO t (b, ts) VALUES ('alice', '2026-01-01 09:00:00')`},
		{"SELECT 1", berlin, `SELECT 1 AS "?column?"`},
	} {
		st := Parse(tt.sql)
		if st.Err != nil {
			t.Fatalf("%s: %v", tt.sql, st.Err)
		}
		if got := st.InZone(tt.loc).SQLite("alice"); got != tt.want {
			t.Errorf("%s in %v:\n got %s\nwant %s", tt.sql, tt.loc, got, tt.want)
		}
		if tt.loc != nil && strings.Contains(st.SQL, "Berlin") {
			t.Errorf("%s: the cached statement holds the zone: %s", tt.sql, st.SQL)
		}
	}
}

func TestZoneFunctions(t *testing.T) {
	for _, tt := range []struct {
		fn   func([]any) (any, error)
		args []any
		want any
	}{
		// The day 2026-03-29 starts at 00:00+01 in Berlin, an hour before
		// clocks go forward.
		{dateTruncZone, []any{"day", "2026-03-29 01:30:00", "Europe/Berlin"}, "2026-03-28 23:00:00"},
		{dateTruncZone, []any{"hour", "2026-03-29 01:30:00", "Europe/Berlin"}, "2026-03-29 01:00:00"},
		{dateTruncZone, []any{"week", "2026-12-03 10:00:00", "UTC"}, "2026-11-30 00:00:00"},
		{dateTruncZone, []any{"quarter", "2026-05-05 10:00:00", "UTC"}, "2026-04-01 00:00:00"},
		{dateTruncZone, []any{"century", "2026-05-05", "UTC"}, "2001-01-01 00:00:00"},
		{dateTruncZone, []any{"milliseconds", "2026-05-05 10:00:00.123456", "UTC"}, "2026-05-05 10:00:00.123"},
		{datePartZone, []any{"hour", "2026-03-29 01:30:00", "Europe/Berlin"}, int64(3)},
		{datePartZone, []any{"timezone", "2026-03-29 01:30:00", "Europe/Berlin"}, int64(7200)},
		{datePartZone, []any{"epoch", "1970-01-01 00:00:01.5", "Europe/Berlin"}, 1.5},
		{datePartZone, []any{"century", "2000-12-31", "UTC"}, int64(20)},
		{atZone, []any{"America/New_York", "2026-01-01 05:00:00"}, "2026-01-01 00:00:00"},
		{fromZone, []any{"America/New_York", "2026-01-01 00:00:00"}, "2026-01-01 05:00:00"},
		{fromZone, []any{"UTC+3", "2026-01-01 00:00:00"}, "2026-01-01 03:00:00"},
		{nullable(atZone), []any{"UTC", int64(3)}, nil},
	} {
		got, err := tt.fn(tt.args)
		if err != nil || got != tt.want {
			t.Errorf("%v: got %v, %v; want %v", tt.args, got, err, tt.want)
		}
	}
	if _, err := atZone([]any{"Mars/Olympus", "2026-01-01"}); err == nil {
		t.Error("an unknown zone was accepted")
	} else if code, _ := ErrorState(err.Error()); code != "22023" {
		t.Errorf("unknown zone: %v, SQLSTATE %s; want 22023", err, code)
	}
}
