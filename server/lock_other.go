//go:build !unix

package server

import (
	"os"
	"path/filepath"
)

// lockDataDir opens dir's lock file. Without flock, a second process on
// the same directory is not detected here; the Raft log store's own file
// lock stops it later.
func lockDataDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o600)
}
