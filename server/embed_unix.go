//go:build unix

package server

import (
	"net"
	"os"
	"syscall"
)

// connPair returns the two ends of a connected Unix stream socket pair.
// Unlike net.Pipe, the kernel buffers each direction, so a client that
// pipelines messages while the server writes its answers cannot deadlock.
func connPair() (client, server net.Conn, err error) {
	// Hold ForkLock so no child process inherits the descriptors before
	// they are marked close-on-exec (what package net does where
	// SOCK_CLOEXEC is missing).
	syscall.ForkLock.RLock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	if client, err = fileConn(fds[0], "raftsql-client"); err != nil {
		syscall.Close(fds[1])
		return nil, nil, err
	}
	if server, err = fileConn(fds[1], "raftsql-server"); err != nil {
		client.Close()
		return nil, nil, err
	}
	return client, server, nil
}

// fileConn turns fd into a net.Conn and closes fd (net.FileConn works on a
// duplicate).
func fileConn(fd int, name string) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	return net.FileConn(f)
}
