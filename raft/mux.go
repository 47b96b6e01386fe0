package raft

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	hraft "github.com/hashicorp/raft"
)

// handshakeTimeout bounds the handshake on both sides of a connection.
const handshakeTimeout = 5 * time.Second

// errGated is returned by I/O on a connection that Config.Gate denies.
var errGated = errors.New("raft: connection blocked by gate")

// mux owns the node's TCP listener. It runs the handshake on every accepted
// connection and hands it to the layer of its kind, and it dials peers.
type mux struct {
	ln     net.Listener
	id     string
	addr   advertiseAddr
	gate   func(peerID string) bool
	log    *slog.Logger
	layers map[byte]*layer

	closeOnce sync.Once
	closed    chan struct{}
	wg        sync.WaitGroup

	mu      sync.Mutex
	conns   map[*peerConn]struct{} // live connections, closed by Close
	pending map[net.Conn]struct{}  // accepted, handshake in progress
}

// advertiseAddr is the address peers dial, as a net.Addr.
type advertiseAddr string

func (a advertiseAddr) Network() string { return "tcp" }
func (a advertiseAddr) String() string  { return string(a) }

func newMux(ln net.Listener, id, addr string, gate func(string) bool, log *slog.Logger) *mux {
	m := &mux{
		ln:      ln,
		id:      id,
		addr:    advertiseAddr(addr),
		gate:    gate,
		log:     log,
		closed:  make(chan struct{}),
		conns:   make(map[*peerConn]struct{}),
		pending: make(map[net.Conn]struct{}),
	}
	m.layers = map[byte]*layer{
		kindRaft:    newLayer(m, kindRaft),
		kindForward: newLayer(m, kindForward),
	}
	m.wg.Add(1)
	go m.serve()
	return m
}

func (m *mux) serve() {
	defer m.wg.Done()
	var backoff time.Duration
	for {
		c, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.closed:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait and try again.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			m.log.Warn("accept failed", logKeyError, err)
			select {
			case <-time.After(backoff):
			case <-m.closed:
				return
			}
			continue
		}
		backoff = 0
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.accept(c)
		}()
	}
}

// accept runs the acceptor's side of the handshake and routes the connection.
func (m *mux) accept(c net.Conn) {
	m.mu.Lock()
	if m.pending == nil {
		m.mu.Unlock()
		c.Close()
		return
	}
	m.pending[c] = struct{}{}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.pending, c)
		m.mu.Unlock()
	}()

	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	kind, peer, err := readHello(c)
	if err != nil {
		m.log.Debug("handshake failed", logKeyRemote, c.RemoteAddr().String(), logKeyError, err)
		c.Close()
		return
	}
	if m.gate != nil && !m.gate(peer) {
		c.Close()
		return
	}
	if _, err := c.Write(appendID(nil, m.id)); err != nil {
		c.Close()
		return
	}
	_ = c.SetDeadline(time.Time{})
	pc, ok := m.track(c, peer)
	if !ok {
		return
	}
	l := m.layers[kind]
	select {
	case l.ch <- pc:
	case <-l.closed:
		pc.Close()
	case <-m.closed:
		pc.Close()
	}
}

// dial connects to addr and runs the dialer's side of the handshake.
func (m *mux) dial(ctx context.Context, addr string, kind byte) (*peerConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(handshakeTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	peer, err := func() (string, error) {
		if _, err := c.Write(appendHello(nil, kind, m.id)); err != nil {
			return "", err
		}
		return readID(c)
	}()
	if !stop() {
		err = errors.Join(err, ctx.Err())
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("raft: handshake with %s: %w", addr, err)
	}
	if m.gate != nil && !m.gate(peer) {
		c.Close()
		return nil, fmt.Errorf("raft: dial %s (%s): %w", addr, peer, errGated)
	}
	_ = c.SetDeadline(time.Time{})
	pc, ok := m.track(c, peer)
	if !ok {
		return nil, ErrShutdown
	}
	return pc, nil
}

// track wraps c and registers it so that Close can close it. It fails (and
// closes c) once the mux is closed.
func (m *mux) track(c net.Conn, peer string) (*peerConn, bool) {
	pc := &peerConn{Conn: c, peer: peer, gate: m.gate, m: m}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conns == nil {
		c.Close()
		return nil, false
	}
	m.conns[pc] = struct{}{}
	return pc, true
}

func (m *mux) untrack(pc *peerConn) {
	m.mu.Lock()
	if m.conns != nil {
		delete(m.conns, pc)
	}
	m.mu.Unlock()
}

// Close stops accepting, closes every layer and every live connection, and
// waits for the handshake goroutines.
func (m *mux) Close() error {
	var err error
	m.closeOnce.Do(func() {
		close(m.closed)
		err = m.ln.Close()
		for _, l := range m.layers {
			l.Close()
		}
		m.mu.Lock()
		conns, pending := m.conns, m.pending
		m.conns, m.pending = nil, nil
		m.mu.Unlock()
		for pc := range conns {
			pc.Conn.Close()
		}
		for c := range pending {
			c.Close()
		}
		m.wg.Wait()
	})
	return err
}

// layer is a net.Listener over the connections of one kind.
type layer struct {
	m         *mux
	kind      byte
	ch        chan net.Conn
	closeOnce sync.Once
	closed    chan struct{}
}

func newLayer(m *mux, kind byte) *layer {
	return &layer{m: m, kind: kind, ch: make(chan net.Conn), closed: make(chan struct{})}
}

// Accept waits for the next connection of the layer's kind.
func (l *layer) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close stops the layer; connections of its kind are refused from then on.
// The shared TCP listener stays open.
func (l *layer) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

// Addr is the node's advertised address.
func (l *layer) Addr() net.Addr { return l.m.addr }

// raftStream is the hraft.StreamLayer for Raft's NetworkTransport.
type raftStream struct{ *layer }

var _ hraft.StreamLayer = raftStream{}

func (s raftStream) Dial(address hraft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return s.m.dial(ctx, string(address), kindRaft)
}

// peerConn is a node-to-node connection whose peer id is known. When the mux
// has a gate, every Read and Write asks it first, and a denied connection
// closes itself.
type peerConn struct {
	net.Conn
	peer      string
	gate      func(string) bool
	m         *mux
	closeOnce sync.Once
}

// PeerID is the node id of the other end, learnt in the handshake.
func (c *peerConn) PeerID() string { return c.peer }

func (c *peerConn) denied() bool {
	if c.gate == nil || c.gate(c.peer) {
		return false
	}
	c.Close()
	return true
}

func (c *peerConn) Read(b []byte) (int, error) {
	if c.denied() {
		return 0, errGated
	}
	n, err := c.Conn.Read(b)
	if n > 0 && c.denied() {
		// The link was cut while this read waited: what arrived is lost.
		return 0, errGated
	}
	return n, err
}

func (c *peerConn) Write(b []byte) (int, error) {
	if c.denied() {
		return 0, errGated
	}
	return c.Conn.Write(b)
}

func (c *peerConn) Close() error {
	err := net.ErrClosed
	c.closeOnce.Do(func() {
		c.m.untrack(c)
		err = c.Conn.Close()
	})
	return err
}

// PeerID returns the node id of the other end of a connection obtained from
// Node.ForwardListener or Node.DialForward.
func PeerID(c net.Conn) (string, bool) {
	pc, ok := c.(*peerConn)
	if !ok {
		return "", false
	}
	return pc.peer, true
}
