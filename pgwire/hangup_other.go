//go:build !linux

package pgwire

import "net"

// watchHangup is a no-op where POLLRDHUP is not available: a statement
// whose client went away runs to its end (or to statement_timeout), and the
// connection notices at its next read or write.
func watchHangup(raw net.Conn, hangup func()) (stop func()) { return func() {} }
