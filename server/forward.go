package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// The node-to-node request protocol, spoken on the raft package's side
// channel. A request is a frame [u32 length][u8 type][payload]; the answer is
// a frame [u32 length][u8 status][payload]. Requests on one connection are
// answered in order, one at a time; a follower keeps a small pool of
// connections to the leader so that concurrent clients do not queue.
const (
	reqExecute   byte = 1 // payload: command bytes; answer: result bytes
	reqReadIndex byte = 2 // answer: u64 commit index the leader confirmed
	reqQuery     byte = 3 // payload: command bytes (weak read on the leader); answer: result bytes
	reqJoin      byte = 4 // payload: id, addr; answer: empty
	reqStatus    byte = 5 // answer: JSON NodeStatus
	reqSession   byte = 6 // payload: level, command bytes of one statement; answer: see remotetx.go

	statusOK  byte = 0
	statusErr byte = 1

	// maxFrame bounds a frame so that a corrupt length cannot make a node
	// allocate without limit.
	maxFrame = 256 << 20

	// idleForwardConns bounds the idle connections kept per leader.
	idleForwardConns = 64
)

// Error kinds carried in an error answer.
const (
	errKindOther          byte = 0
	errKindNotLeader      byte = 1
	errKindOutcomeUnknown byte = 2
	errKindUnavailable    byte = 3
)

// remoteError is an error answered by another node.
type remoteError struct {
	kind       byte
	msg        string
	leaderAddr string
}

func (e *remoteError) Error() string { return e.msg }

func writeFrame(w io.Writer, typ byte, payload []byte) error {
	if len(payload)+1 > maxFrame {
		return fmt.Errorf("frame of %d bytes exceeds the %d byte limit", len(payload), maxFrame)
	}
	var hdr [5]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(payload)+1))
	hdr[4] = typ
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

func readFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:4])
	if n < 1 || n > maxFrame {
		return 0, nil, fmt.Errorf("bad frame length %d", n)
	}
	payload := make([]byte, n-1)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return hdr[4], payload, nil
}

func encodeError(kind byte, msg, leaderAddr string) []byte {
	b := []byte{kind}
	b = binary.AppendUvarint(b, uint64(len(msg)))
	b = append(b, msg...)
	b = binary.AppendUvarint(b, uint64(len(leaderAddr)))
	return append(b, leaderAddr...)
}

func decodeError(p []byte) *remoteError {
	e := &remoteError{msg: "malformed error from peer"}
	if len(p) < 1 {
		return e
	}
	kind := p[0]
	p = p[1:]
	msg, p, ok := readString(p)
	if !ok {
		return e
	}
	leader, _, ok := readString(p)
	if !ok {
		return e
	}
	return &remoteError{kind: kind, msg: msg, leaderAddr: leader}
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func readString(p []byte) (string, []byte, bool) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return "", nil, false
	}
	return string(p[k : k+int(n)]), p[k+int(n):], true
}

// forwardConn is one pooled connection to a peer.
type forwardConn struct {
	net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

// forwarder sends requests to other nodes, reusing connections.
type forwarder struct {
	dial func(ctx context.Context, addr string) (net.Conn, error)

	mu     sync.Mutex
	idle   map[string][]*forwardConn
	closed bool
}

func newForwarder(dial func(ctx context.Context, addr string) (net.Conn, error)) *forwarder {
	return &forwarder{dial: dial, idle: make(map[string][]*forwardConn)}
}

// errSendFailed marks a request that never fully left this node, so the peer
// cannot have acted on it.
var errSendFailed = errors.New("request not sent")

// call sends one request to addr and returns the answer payload. An error
// answer is returned as *remoteError. A failure to send wraps errSendFailed; a
// failure after sending (the peer may have acted) does not.
func (f *forwarder) call(ctx context.Context, addr string, typ byte, payload []byte) ([]byte, error) {
	c, err := f.get(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("%w: dial %s: %v", errSendFailed, addr, err)
	}
	answer, err := f.roundTrip(ctx, c, typ, payload)
	var re *remoteError
	if err == nil || errors.As(err, &re) {
		f.put(addr, c)
	}
	return answer, err
}

// roundTrip sends one request on c and reads its answer. On an I/O error c
// is closed.
func (f *forwarder) roundTrip(ctx context.Context, c *forwardConn, typ byte, payload []byte) ([]byte, error) {
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	} else {
		c.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := writeFrame(c.w, typ, payload); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: %v", errSendFailed, err)
	}
	if err := c.w.Flush(); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: %v", errSendFailed, err)
	}
	status, answer, err := readFrame(c.r)
	if err != nil {
		c.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("reading answer from %s: %w", c.RemoteAddr(), err)
	}
	if status != statusOK {
		return nil, decodeError(answer)
	}
	return answer, nil
}

// dialConn opens a connection that the caller owns and closes, for a
// conversation that keeps state on the peer.
func (f *forwarder) dialConn(ctx context.Context, addr string) (*forwardConn, error) {
	nc, err := f.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	return &forwardConn{Conn: nc, r: bufio.NewReader(nc), w: bufio.NewWriter(nc)}, nil
}

func (f *forwarder) get(ctx context.Context, addr string) (*forwardConn, error) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil, errors.New("node is closing")
	}
	if list := f.idle[addr]; len(list) > 0 {
		c := list[len(list)-1]
		f.idle[addr] = list[:len(list)-1]
		f.mu.Unlock()
		return c, nil
	}
	f.mu.Unlock()
	nc, err := f.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	return &forwardConn{Conn: nc, r: bufio.NewReader(nc), w: bufio.NewWriter(nc)}, nil
}

func (f *forwarder) put(addr string, c *forwardConn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || len(f.idle[addr]) >= idleForwardConns {
		c.Close()
		return
	}
	f.idle[addr] = append(f.idle[addr], c)
}

// drop closes the idle connections to addr, after the peer proved unreachable.
func (f *forwarder) drop(addr string) {
	f.mu.Lock()
	list := f.idle[addr]
	delete(f.idle, addr)
	f.mu.Unlock()
	for _, c := range list {
		c.Close()
	}
}

func (f *forwarder) close() {
	f.mu.Lock()
	f.closed = true
	idle := f.idle
	f.idle = map[string][]*forwardConn{}
	f.mu.Unlock()
	for _, list := range idle {
		for _, c := range list {
			c.Close()
		}
	}
}
