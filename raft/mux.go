package raft

import (
	"context"
	"crypto/tls"
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
	tls    *nodeTLS // nil: plain TCP, peers' ids are taken on their word
	gate   func(peerID string) bool
	onPeer func(peerID string) // nil, or told of each Raft connection's peer
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

func newMux(ln net.Listener, id, addr string, t *nodeTLS, gate func(string) bool, onPeer func(string), log *slog.Logger) *mux {
	m := &mux{
		ln:      ln,
		id:      id,
		addr:    advertiseAddr(addr),
		tls:     t,
		gate:    gate,
		onPeer:  onPeer,
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
func (m *mux) accept(raw net.Conn) {
	m.mu.Lock()
	if m.pending == nil {
		m.mu.Unlock()
		raw.Close()
		return
	}
	m.pending[raw] = struct{}{}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.pending, raw)
		m.mu.Unlock()
	}()

	remote := raw.RemoteAddr().String()
	_ = raw.SetDeadline(time.Now().Add(handshakeTimeout))
	c, certID, err := m.secureAccept(raw)
	if err != nil {
		select {
		case <-m.closed: // cut short by Close
		default:
			m.log.Warn("refused a node-to-node connection: TLS handshake failed", logKeyRemote, remote, logKeyError, err)
		}
		raw.Close()
		return
	}
	kind, peer, err := readHello(c)
	if err != nil {
		var ve *VersionError
		if errors.As(err, &ve) {
			// Tell the dialer which version this node speaks, so that it
			// can say so too.
			_, _ = c.Write(appendReply(nil, ""))
			m.log.Warn("refused a node-to-node connection from a node of another protocol version", logKeyRemote, remote, "peer_version", ve.Peer, "version", ve.Local)
		} else if m.tls != nil {
			m.log.Warn("refused a node-to-node connection: bad handshake", logKeyRemote, remote, logKeyPeer, certID, logKeyError, err)
		} else {
			m.log.Debug("handshake failed", logKeyRemote, remote, logKeyError, err)
		}
		c.Close()
		return
	}
	if m.tls != nil && peer != certID {
		m.log.Warn("refused a node-to-node connection: the peer claims another node's id", logKeyRemote, remote, "claimed", peer, "certificate", certID)
		c.Close()
		return
	}
	if m.gate != nil && !m.gate(peer) {
		c.Close()
		return
	}
	if _, err := c.Write(appendReply(nil, m.id)); err != nil {
		c.Close()
		return
	}
	if kind == kindProbe {
		c.Close()
		return
	}
	_ = raw.SetDeadline(time.Time{})
	pc, ok := m.track(c, peer)
	if !ok {
		return
	}
	m.peerConnected(kind, peer)
	l := m.layers[kind]
	select {
	case l.ch <- pc:
	case <-l.closed:
		pc.Close()
	case <-m.closed:
		pc.Close()
	}
}

// secureAccept runs the TLS handshake on an accepted connection, when the
// node has a certificate, and returns the connection to speak on and the
// node id the peer's verified certificate names.
func (m *mux) secureAccept(raw net.Conn) (net.Conn, string, error) {
	if m.tls == nil {
		return raw, "", nil
	}
	tc := tls.Server(raw, m.tls.server)
	if err := tc.Handshake(); err != nil {
		return nil, "", err
	}
	id, err := peerCertID(tc.ConnectionState())
	if err != nil {
		return nil, "", err
	}
	return tc, id, nil
}

// dial connects to addr and runs the dialer's side of the handshake.
func (m *mux) dial(ctx context.Context, addr string, kind byte) (*peerConn, error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(handshakeTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = raw.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	c := raw
	peer, err := func() (string, error) {
		var certID string
		if m.tls != nil {
			tc := tls.Client(raw, m.tls.clientFor(addr))
			if err := tc.Handshake(); err != nil {
				return "", fmt.Errorf("TLS: %w", err)
			}
			c = tc
			var err error
			if certID, err = peerCertID(tc.ConnectionState()); err != nil {
				return "", err
			}
		}
		if _, err := c.Write(appendHello(nil, kind, m.id)); err != nil {
			return "", err
		}
		peer, err := readReply(c)
		if err != nil {
			return "", err
		}
		if m.tls != nil && peer != certID {
			return "", fmt.Errorf("the peer says it is node %q, but its certificate names %q", peer, certID)
		}
		return peer, nil
	}()
	if !stop() {
		err = errors.Join(err, ctx.Err())
	}
	if err != nil {
		c.Close()
		var ve *VersionError
		if errors.As(err, &ve) {
			m.log.Warn("a peer speaks another node protocol version", logKeyRemote, addr, "peer_version", ve.Peer, "version", ve.Local)
		}
		// The address accepted the connection, and what answers there did
		// not complete the handshake (in time): not a node that speaks this
		// protocol, or not one that trusts this node.
		return nil, fmt.Errorf("raft: handshake with %s: %w: %w", addr, ErrHandshake, err)
	}
	if m.gate != nil && !m.gate(peer) {
		c.Close()
		return nil, fmt.Errorf("raft: dial %s (%s): %w", addr, peer, errGated)
	}
	if kind == kindProbe {
		c.Close()
		return &peerConn{peer: peer}, nil
	}
	_ = raw.SetDeadline(time.Time{})
	pc, ok := m.track(c, peer)
	if !ok {
		return nil, ErrShutdown
	}
	m.peerConnected(kind, peer)
	return pc, nil
}

// peerConnected tells onPeer of a Raft connection that completed its
// handshake. Side-channel connections are not told: the embedding server
// opens those itself, often to ask exactly what onPeer prompts it to ask.
func (m *mux) peerConnected(kind byte, peer string) {
	if kind == kindRaft && m.onPeer != nil {
		m.onPeer(peer)
	}
}

// probe asks the node at addr for its id, verified by its certificate when
// the node has TLS.
func (m *mux) probe(ctx context.Context, addr string) (string, error) {
	pc, err := m.dial(ctx, addr, kindProbe)
	if err != nil {
		return "", err
	}
	return pc.peer, nil
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
