package pgwire

import (
	"testing"
	"time"
)

func TestLoadZone(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, show string
		off      int // seconds east at 2026-01-15 12:00 UTC
		ok       bool
	}{
		{"UTC", "UTC", 0, true},
		{"utc", "UTC", 0, true},
		{"Etc/UTC", "UTC", 0, true},
		{"0", "UTC", 0, true},
		{"GMT", "GMT", 0, true},
		{"Europe/Paris", "Europe/Paris", 3600, true},
		{"europe/paris", "Europe/Paris", 3600, true},
		{"America/New_York", "America/New_York", -5 * 3600, true},
		{"america/new_york", "America/New_York", -5 * 3600, true},
		{"Asia/Kolkata", "Asia/Kolkata", 5*3600 + 1800, true},
		{"EST5EDT", "EST5EDT", -5 * 3600, true},
		{"-8", "<-08>+08", -8 * 3600, true},
		{"5.5", "<+05:30>-05:30", 5*3600 + 1800, true},
		{"UTC+3", "UTC+3", -3 * 3600, true},
		{"GMT-05:30", "GMT-05:30", 5*3600 + 1800, true},
		{"<-03>+03", "<-03>+03", -3 * 3600, true},
		{"INTERVAL '+02:00' HOUR TO MINUTE", "<+02>-02", 2 * 3600, true},
		{"interval '-08:00' hour to minute", "<-08>+08", -8 * 3600, true},
		{"INTERVAL '1 day'", "", 0, false},
		{"Local", "", 0, false},
		{"Mars/Olympus", "", 0, false},
		{"../../etc/passwd", "", 0, false},
		{"", "", 0, false},
		{"99", "", 0, false},
	} {
		loc, show, ok := loadZone(tt.in)
		if ok != tt.ok || show != tt.show {
			t.Errorf("loadZone(%q) = %q, %v; want %q, %v", tt.in, show, ok, tt.show, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if _, off := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC).In(loc).Zone(); off != tt.off {
			t.Errorf("loadZone(%q): offset %d, want %d", tt.in, off, tt.off)
		}
	}
}

// TestTimestampTZText is Postgres' timestamptz output (DateStyle ISO) for
// values as SQLite stores them, in several session zones.
func TestTimestampTZText(t *testing.T) {
	t.Parallel()
	zone := func(name string) *time.Location {
		loc, _, ok := loadZone(name)
		if !ok {
			t.Fatalf("zone %q", name)
		}
		return loc
	}
	for _, tt := range []struct {
		v    any
		zone string
		want string
	}{
		{"2026-12-03 14:05:06", "UTC", "2026-12-03 14:05:06+00"},
		{"2026-12-03 14:05:06.123456", "UTC", "2026-12-03 14:05:06.123456+00"},
		{"2026-12-03 14:05:06.120", "UTC", "2026-12-03 14:05:06.12+00"},
		{"2026-12-03 14:05:06", "Europe/Paris", "2026-12-03 15:05:06+01"},
		{"2026-07-03 14:05:06", "Europe/Paris", "2026-07-03 16:05:06+02"},
		{"2026-12-03 14:05:06", "Asia/Kolkata", "2026-12-03 19:35:06+05:30"},
		{"2026-12-03 14:05:06", "America/Los_Angeles", "2026-12-03 06:05:06-08"},
		{"2026-12-03 14:05:06Z", "America/Los_Angeles", "2026-12-03 06:05:06-08"},
		{"2020-01-01 10:00+02", "UTC", "2020-01-01 08:00:00+00"},
		{"2020-01-01T10:00:00+02:00", "Europe/Paris", "2020-01-01 09:00:00+01"},
		{"1900-01-01 00:00:00", "Europe/Amsterdam", "1900-01-01 00:19:32+00:19:32"},
		{int64(0), "UTC", "1970-01-01 00:00:00+00"},
		{"2026-12-03", "UTC", "2026-12-03 00:00:00+00"},
	} {
		got, err := appendText(nil, tt.v, oidTimestampTZ, zone(tt.zone))
		if err != nil || string(got) != tt.want {
			t.Errorf("%v in %s: %q, %v; want %q", tt.v, tt.zone, got, err, tt.want)
		}
		// The binary form is the instant, whatever the zone.
		b1, err1 := appendBinary(nil, tt.v, oidTimestampTZ)
		want, _ := toTime(tt.v, oidTimestampTZ)
		us := want.UnixMicro() - pgEpoch.UnixMicro()
		if err1 != nil || len(b1) != 8 || int64(beUint64(b1)) != us {
			t.Errorf("%v: binary %x, %v; want %d µs since 2000", tt.v, b1, err1, us)
		}
	}
}

func beUint64(b []byte) uint64 {
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return n
}

// parseByLayouts is parseTimestamp without its fast path.
func parseByLayouts(s string) (time.Time, bool) {
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// FuzzParseISOTimestamp: what both the fast path and time.Parse's layouts
// read, they read as the same instant and zone offset. (The fast path also
// takes a few spellings the layouts miss, such as 10:00+0000.)
func FuzzParseISOTimestamp(f *testing.F) {
	for _, s := range []string{
		"2026-12-03", "2026-12-03 14:05:06", "2026-12-03T14:05:06.123456789", "2026-12-03 14:05",
		"2026-12-03 14:05:06Z", "2026-12-03 14:05:06+02", "2026-12-03 14:05:06-05:30", "2026-12-03 14:05:06.5 +00:00",
		"2026-12-03 14:05+02", "2026-12-03 14:05:06+0530", "2024-02-29", "2023-02-29", "2026-13-01", "2026-12-03 24:00:00",
		"2026-12-03 14:05:60", "2026-12-03 14:05:06.", "2026-12-03 14:05:06+2", "2026-12-03x14:05", "0000-01-01",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseISOTimestamp(s)
		if !ok {
			return
		}
		want, wok := parseByLayouts(s)
		if !wok {
			return
		}
		_, goff := got.Zone()
		_, woff := want.Zone()
		if !got.Equal(want) || goff != woff {
			t.Fatalf("%q: fast path %v, layouts %v", s, got, want)
		}
	})
}

func TestParseISOTimestampCommon(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"2026-12-03", "2026-12-03 14:05:06", "2026-12-03 14:05:06.123", "2026-12-03T14:05:06Z", "2026-12-03 14:05:06+02", "2026-12-03 14:05"} {
		if _, ok := parseISOTimestamp(s); !ok {
			t.Errorf("%q takes the slow path", s)
		}
	}
}
