package server

import "time"

// SetAdvisoryTiming shortens the advisory lock lease for a test; the
// returned function puts it back. Tests using it must not run in parallel.
func SetAdvisoryTiming(ping, lease time.Duration) (restore func()) {
	p, l := advisoryPing, advisoryLease
	advisoryPing, advisoryLease = ping, lease
	return func() { advisoryPing, advisoryLease = p, l }
}
