//go:build unix

package fsm

import (
	"os"
	"syscall"
)

// fileInode returns the file's inode number, which changes when another file
// is put in its place.
func fileInode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
