package pgwire

import (
	"testing"
	"time"
)

// BenchmarkAppendTextTemporal is the text encoding of a row's date and
// time values as SQLite stores them, as DataRow writes them.
func BenchmarkAppendTextTemporal(b *testing.B) {
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, bc := range []struct {
		name string
		v    any
		oid  uint32
		loc  *time.Location
	}{
		{"timestamptz/UTC", "2026-12-03 14:05:06.123456", oidTimestampTZ, nil},
		{"timestamptz/Paris", "2026-12-03 14:05:06.123456", oidTimestampTZ, paris},
		{"timestamp", "2026-12-03 14:05:06", oidTimestamp, nil},
		{"date", "2026-12-03", oidDate, nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 64)
			for b.Loop() {
				var err error
				if buf, err = appendText(buf[:0], bc.v, bc.oid, bc.loc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
