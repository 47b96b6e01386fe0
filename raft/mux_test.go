package raft

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHandshakeRoundTrip(t *testing.T) {
	for _, kind := range []byte{kindRaft, kindForward, kindProbe} {
		for _, id := range []string{"n1", "node-é", strings.Repeat("x", maxIDLen)} {
			b := appendHello(nil, kind, id)
			r := bytes.NewReader(append(b, "rest"...))
			gk, gid, err := readHello(r)
			if err != nil || gk != kind || gid != id {
				t.Fatalf("readHello(%q) = %q, %q, %v; want %q, %q", b, gk, gid, err, kind, id)
			}
			if r.Len() != len("rest") {
				t.Errorf("readHello consumed %d bytes past the message", len("rest")-r.Len())
			}
		}
	}
}

func TestHandshakeRejects(t *testing.T) {
	long := strings.Repeat("x", maxIDLen+1)
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"unknown kind", appendHello(nil, 'X', "n1")},
		{"zero kind", appendHello(nil, 0, "n1")},
		{"empty id", appendHello(nil, kindRaft, "")},
		{"long id", appendHello(nil, kindRaft, long)},
		{"huge length", []byte{kindRaft, handshakeVersion, 0xff, 0xff}},
		{"short id", []byte{kindRaft, handshakeVersion, 0, 5, 'a', 'b'}},
		{"no version", []byte{kindRaft}},
		{"space in id", appendHello(nil, kindRaft, "a b")},
		{"control in id", appendHello(nil, kindRaft, "a\x00b")},
		{"bad utf8", appendHello(nil, kindRaft, "a\xffb")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if k, id, err := readHello(bytes.NewReader(tt.in)); err == nil {
				t.Fatalf("readHello(%q) = %q, %q, nil; want an error", tt.in, k, id)
			}
		})
	}
}

func TestHandshakeVersion(t *testing.T) {
	// What a node of an earlier release sends: kind, id length, id.
	old := append([]byte{kindRaft}, appendID(nil, "n1")...)
	_, _, err := readHello(bytes.NewReader(old))
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Peer != 0 || ve.Local != handshakeVersion {
		t.Fatalf("readHello of an unversioned hello: %v, want a *VersionError for version 0", err)
	}
	if !strings.Contains(err.Error(), "version 0") || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("error %q does not name both versions", err)
	}
	future := appendHello(nil, kindForward, "n1")
	future[1] = handshakeVersion + 1
	if _, _, err := readHello(bytes.NewReader(future)); !errors.As(err, &ve) || ve.Peer != handshakeVersion+1 {
		t.Errorf("readHello of a newer version: %v", err)
	}
	reply := appendReply(nil, "n2")
	if id, err := readReply(bytes.NewReader(reply)); err != nil || id != "n2" {
		t.Errorf("readReply = %q, %v", id, err)
	}
	reply[0] = 7
	if _, err := readReply(bytes.NewReader(reply)); !errors.As(err, &ve) || ve.Peer != 7 {
		t.Errorf("readReply of version 7: %v", err)
	}
	// An old node reads the version byte as the high byte of the id
	// length, which it refuses at once instead of waiting for id bytes.
	hello := appendHello(nil, kindRaft, "n1")
	if l := int(hello[1])<<8 | int(hello[2]); l <= maxIDLen {
		t.Errorf("an old node would read id length %d, which it accepts", l)
	}
}

// TestMuxRefusesOtherVersion: a dialer speaking another version gets this
// node's version back, then the connection is closed, and the node's own
// dialer reports a *VersionError against such a peer.
func TestMuxRefusesOtherVersion(t *testing.T) {
	m := newTestMux(t, "a", nil)
	c, err := net.Dial("tcp", m.addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hello := appendHello(nil, kindRaft, "x")
	hello[1] = handshakeVersion + 1
	c.Write(hello)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	if want := appendReply(nil, ""); !bytes.Equal(got, want) {
		t.Errorf("answer to another version: %q, %v; want %q then EOF", got, err, want)
	}

	// A peer that answers with another version.
	ln := listen(t, "")
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		readHello(c)
		c.Write([]byte{handshakeVersion + 1, 0, 0})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var ve *VersionError
	if _, err := m.dial(ctx, ln.Addr().String(), kindForward); !errors.As(err, &ve) {
		t.Errorf("dial to a peer of another version: %v, want a *VersionError", err)
	}
}

func FuzzHandshake(f *testing.F) {
	f.Add(appendHello(nil, kindRaft, "n1"))
	f.Add(appendHello(nil, kindForward, "node-2"))
	f.Add(appendHello(nil, kindProbe, "n3"))
	f.Add([]byte{kindRaft, handshakeVersion, 0xff, 0xff, 'a'})
	f.Add([]byte{kindForward, 0, 0})
	f.Add([]byte{kindRaft, 0, 2, 'n', '1'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		kind, id, err := readHello(bytes.NewReader(data))
		if err != nil {
			return
		}
		if validateID(id) != nil || (kind != kindRaft && kind != kindForward && kind != kindProbe) {
			t.Fatalf("accepted kind %q id %q", kind, id)
		}
		enc := appendHello(nil, kind, id)
		if !bytes.HasPrefix(data, enc) {
			t.Fatalf("decoded %q, %q from %q, which does not start with its encoding %q", kind, id, data, enc)
		}
		id2, err := readReply(bytes.NewReader(appendReply(nil, id)))
		if err != nil || id2 != id {
			t.Fatalf("readReply round trip: %q, %v; want %q", id2, err, id)
		}
	})
}

func newTestMux(t *testing.T, id string, gate func(string) bool) *mux {
	t.Helper()
	ln := listen(t, "")
	m := newMux(ln, id, ln.Addr().String(), nil, gate, nil, discardLogger())
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMuxClosesBadHandshake(t *testing.T) {
	m := newTestMux(t, "a", nil)
	for _, junk := range [][]byte{[]byte("GET / HTTP/1.1\r\n\r\n"), {kindRaft, handshakeVersion, 0xff, 0xff}, {0, 0, 0, 0}} {
		c, err := net.Dial("tcp", m.addr.String())
		if err != nil {
			t.Fatal(err)
		}
		c.Write(junk)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(make([]byte, 64))
		if err == nil || n != 0 {
			t.Errorf("after %q: read %d bytes, %v; want the connection closed", junk, n, err)
		}
		c.Close()
	}
}

func TestMuxCloseUnblocksSilentConn(t *testing.T) {
	m := newTestMux(t, "a", nil)
	c, err := net.Dial("tcp", m.addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, 5*time.Second, "the silent connection to be accepted", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.pending) == 1
	})
	start := time.Now()
	m.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v with a silent connection pending", d)
	}
}

func TestMuxRoutesAndGates(t *testing.T) {
	var open atomic.Bool
	open.Store(true)
	gate := func(string) bool { return open.Load() }
	a := newTestMux(t, "a", gate)
	b := newTestMux(t, "b", gate)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	accepted := make(chan net.Conn, 2)
	for _, k := range []byte{kindRaft, kindForward} {
		go func() {
			c, err := b.layers[k].Accept()
			if err == nil {
				accepted <- c
			}
		}()
	}
	rc, err := a.dial(ctx, b.addr.String(), kindRaft)
	if err != nil {
		t.Fatal(err)
	}
	if rc.PeerID() != "b" {
		t.Errorf("dialer sees %q, want b", rc.PeerID())
	}
	got := <-accepted
	if id, _ := PeerID(got); id != "a" {
		t.Errorf("acceptor sees %q, want a", id)
	}
	if _, err := rc.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := io.ReadFull(got, buf); err != nil || string(buf) != "hi" {
		t.Fatalf("read %q, %v", buf, err)
	}

	// A closed gate fails I/O and closes the connection on both sides.
	open.Store(false)
	if _, err := rc.Write([]byte("x")); !errors.Is(err, errGated) {
		t.Errorf("Write through a closed gate: %v", err)
	}
	if _, err := got.Read(buf); !errors.Is(err, errGated) {
		t.Errorf("Read through a closed gate: %v", err)
	}
	open.Store(true)
	if _, err := rc.Write([]byte("x")); err == nil {
		t.Errorf("Write on a connection closed by the gate succeeded")
	}

	// A second kind goes to its own layer.
	fc, err := a.dial(ctx, b.addr.String(), kindForward)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	select {
	case <-accepted:
	case <-ctx.Done():
		t.Fatal("forward connection not accepted")
	}

	// Close releases live connections.
	b.Close()
	fc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := fc.Read(buf); err == nil || errors.Is(err, errGated) {
		t.Errorf("read after the peer closed: %v, want EOF or reset", err)
	}
}

func TestDialContextCancel(t *testing.T) {
	// A listener that never answers the handshake.
	ln := listen(t, "")
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	m := newTestMux(t, "a", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := m.dial(ctx, ln.Addr().String(), kindForward); err == nil {
		t.Fatal("dial to a mute peer succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("dial took %v despite the context deadline", d)
	}
}
