package pgwire

import (
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// watchHangup calls hangup if the client closes its end of raw (a FIN, or
// a reset) before stop is called. It reads nothing: pipelined messages stay
// in the socket for the connection's goroutine. It waits in Go's network
// poller, which wakes it when the socket changes, and asks the kernel for
// POLLRDHUP, which a closed peer sets even while unread bytes are queued.
// stop ends the watch and returns once it has.
func watchHangup(raw net.Conn, hangup func()) (stop func()) {
	sc, ok := raw.(syscall.Conn)
	if !ok {
		return func() {}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return func() {}
	}
	// The deadline the loop set for its idle wait must not end the watch
	// of a long statement.
	_ = raw.SetReadDeadline(time.Time{})
	var stopped atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = rc.Read(func(fd uintptr) bool {
			if stopped.Load() {
				return true
			}
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
			n, err := unix.Poll(fds, 0)
			if err == nil && n > 0 && fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0 {
				hangup()
				return true
			}
			return false // wait until the socket changes
		})
	}()
	return func() {
		stopped.Store(true)
		// A deadline in the past wakes the poller's wait; the loop sets
		// the deadline it wants before its next read.
		_ = raw.SetReadDeadline(time.Unix(1, 0))
		<-done
		_ = raw.SetReadDeadline(time.Time{})
	}
}
