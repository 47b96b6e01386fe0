//go:build race

package server_test

// raceEnabled is whether the tests run under the race detector, which makes
// SQLite's own work several times slower: tests that need a long apply size
// their workload by it.
const raceEnabled = true
