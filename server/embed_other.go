//go:build !unix

package server

import "net"

// connPair returns the two ends of a loopback TCP connection made for this
// purpose: a portable stand-in for a socket pair, buffered by the kernel
// like one.
func connPair() (client, server net.Conn, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	if client, err = net.Dial("tcp", ln.Addr().String()); err != nil {
		return nil, nil, err
	}
	// Another local process could connect to the listener first: accept
	// until the connection is the one just dialed.
	for {
		server, err = ln.Accept()
		if err != nil {
			client.Close()
			return nil, nil, err
		}
		if server.RemoteAddr().String() == client.LocalAddr().String() {
			return client, server, nil
		}
		server.Close()
	}
}
