//go:build race

package server_test

// raceEnabled is whether the tests run under the race detector, which makes
// SQLite's own work several times slower.
const raceEnabled = true
