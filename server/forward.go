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
	"sync/atomic"
	"time"
)

// The node-to-node request protocol, spoken on the raft package's side
// channel, where only cluster members get in (raft.PeerID names the member
// that dialed; a connection without one is refused). Every request and
// every answer is one frame, [u32 length][body], and every body is an
// envelope:
//
//	request: magic | version | type | u64 request id | identity | payload
//	answer:  magic | version | status | u64 request id | payload
//	identity: kind | uvarint-length name | rights
//
// The version is checked first: a node refuses a request of a version it
// does not speak with errKindVersion and applies nothing, so a node of
// another version is told so clearly (a body of an older, unversioned node
// starts with a type byte below magic and reads as version 0). The identity
// says on whose behalf the request runs: the node itself (its id, which
// must be the connection's member id) or a client, with the user name and
// rights the node it connected to authenticated; the leader applies those
// rights as if the client had connected to it. A request without an
// identity is refused. The answer echoes the request id.
//
// Requests on one connection are answered in order, one at a time; a
// follower keeps a small pool of connections to the leader so that
// concurrent clients do not queue.
const (
	envelopeMagic byte = 0xA7
	// protocolVersion is the version this node speaks; a node accepts only
	// its own.
	protocolVersion byte = 1

	reqExecute   byte = 1  // payload: command bytes; answer: index and result bytes
	reqReadIndex byte = 2  // payload: wantPoint or empty; answer: commit point, or u64 commit index the leader confirmed (readpoint.go)
	reqQuery     byte = 3  // payload: command bytes (weak read on the leader); answer: result bytes
	reqJoin      byte = 4  // payload: id, addr[, 1 for a non-voter]; answer: empty
	reqStatus    byte = 5  // answer: JSON NodeStatus
	reqSession   byte = 6  // payload: level, command bytes of one statement; answer: see remotetx.go
	reqMember    byte = 7  // payload: op, id, addr, requester, via (members.go); answer: text of what was done
	reqPing      byte = 8  // on a relayed block's connection: the follower is alive; answer: empty
	reqCommit    byte = 9  // answer: the leader's commit point, unconfirmed (readpoint.go)
	reqAdvisory  byte = 10 // payload: op, flags, key (advisory.go); answer: per op
	reqStage     byte = 11 // payload: restore id, size, CRC-32C, source address (restorecopy.go); answer: empty once staged
	reqFile      byte = 12 // payload: kind, key, snapshot id, offset, length (restorecopy.go); answer: size, snapshot id, bytes

	// peerVersion is the side-channel version this node serves: the set
	// of request types it knows (reqVersion), advertised in its status. The
	// envelope's protocolVersion stays 1, so that nodes of every release
	// read each other's envelopes; a request type a node does not know is
	// refused, cleanly, before it is sent (checkRequest) or by that node.
	// Raise peerVersion when adding a request type, and give the type that
	// version in reqVersion.
	//
	//	1: reqExecute to reqMember
	//	2: reqPing, reqCommit, reqAdvisory
	//	3: a relayed block's session ends with the block, not with its
	//	   connection (blockConnVersion)
	//	4: reqStage, reqFile (restores copied out of band)
	//	5: a relayed block's first statement may carry the block's BEGIN
	//	   (relayBeginVersion)
	peerVersion = 5
	// basePeerVersion is the side-channel version of a node that
	// advertises none (a release before the version gate).
	basePeerVersion = 1

	statusOK  byte = 0
	statusErr byte = 1

	// maxFrame bounds a frame so that a corrupt length cannot make a node
	// allocate without limit.
	maxFrame = 256 << 20

	// idleForwardConns bounds the idle connections kept per leader.
	idleForwardConns = 64
)

// reqVersion is the side-channel version that serves request type typ;
// above peerVersion for a type this build does not know.
func reqVersion(typ byte) int {
	switch typ {
	case reqExecute, reqReadIndex, reqQuery, reqJoin, reqStatus, reqSession, reqMember:
		return 1
	case reqPing, reqCommit, reqAdvisory:
		return 2
	case reqStage, reqFile:
		return copyVersion
	}
	return peerVersion + 1
}

// reqName names a request type in messages.
func reqName(typ byte) string {
	switch typ {
	case reqPing:
		return "a relayed block's ping"
	case reqCommit:
		return "a commit point"
	case reqAdvisory:
		return "advisory locks"
	case reqStage, reqFile:
		return "a restore copied out of band"
	}
	return fmt.Sprintf("request %d", typ)
}

// Identity kinds.
const (
	identNone   byte = 0 // refused
	identNode   byte = 1 // the sending node itself
	identClient byte = 2 // a client of the sending node
)

// identity is who a request runs for.
type identity struct {
	kind   byte
	name   string // node id, or user name ("" for the embedding program)
	rights Rights // of a client
}

// Error kinds carried in an error answer.
const (
	errKindOther          byte = 0
	errKindNotLeader      byte = 1
	errKindOutcomeUnknown byte = 2
	errKindUnavailable    byte = 3
	errKindDenied         byte = 4 // the identity lacks the right, or is missing
	errKindVersion        byte = 5 // the request's protocol version is not spoken here
	errKindLockTimeout    byte = 6 // the request gave up waiting for the write lock; nothing was applied
	errKindLimit          byte = 7 // the answer would exceed what the side channel carries
	errKindMembership     byte = 8 // the membership change was refused; nothing changed
	errKindNotUpgraded    byte = 9 // a member's release cannot read or serve what was asked (ErrNotUpgraded); nothing was done
)

// remoteError is an error answered by another node.
type remoteError struct {
	kind       byte
	msg        string
	leaderAddr string
}

func (e *remoteError) Error() string { return e.msg }

// Is makes a refusal for lack of rights match ErrPermissionDenied.
func (e *remoteError) Is(target error) bool {
	return target == ErrPermissionDenied && e.kind == errKindDenied
}

// envelope is one decoded request or answer.
type envelope struct {
	version byte
	typ     byte // request type, or answer status
	id      uint64
	ident   identity // requests only
	payload []byte
}

// errVersion is a body of a protocol version this node does not speak.
type errVersion struct{ version byte }

func (e errVersion) Error() string {
	return fmt.Sprintf("side-channel protocol version %d is not spoken here (this node speaks version %d): run the same raftsql version on every node", e.version, protocolVersion)
}

func appendRequest(b []byte, typ byte, id uint64, ident identity, payload []byte) []byte {
	b = append(b, envelopeMagic, protocolVersion, typ)
	b = binary.BigEndian.AppendUint64(b, id)
	b = append(b, ident.kind)
	b = appendString(b, ident.name)
	b = append(b, byte(ident.rights))
	return append(b, payload...)
}

// answerHeaderLen is the size of an answer's envelope before its payload.
const answerHeaderLen = 11

func appendAnswer(b []byte, status byte, id uint64, payload []byte) []byte {
	b = append(b, envelopeMagic, protocolVersion, status)
	b = binary.BigEndian.AppendUint64(b, id)
	return append(b, payload...)
}

// envelopeVersion returns the protocol version of a body: 0 for a body of
// an unversioned node, which begins with its type.
func envelopeVersion(b []byte) byte {
	if len(b) < 2 || b[0] != envelopeMagic {
		return 0
	}
	return b[1]
}

// decodeHeader reads what requests and answers share. A body of another
// version is errVersion, and nothing else of it is read.
func decodeHeader(b []byte) (envelope, []byte, error) {
	if v := envelopeVersion(b); v != protocolVersion {
		return envelope{version: v}, nil, errVersion{v}
	}
	if len(b) < 11 {
		return envelope{version: protocolVersion}, nil, errors.New("truncated side-channel envelope")
	}
	return envelope{version: b[1], typ: b[2], id: binary.BigEndian.Uint64(b[3:11])}, b[11:], nil
}

func decodeRequest(b []byte) (envelope, error) {
	e, rest, err := decodeHeader(b)
	if err != nil {
		return e, err
	}
	if len(rest) < 1 {
		return e, errors.New("side-channel request without identity")
	}
	e.ident.kind = rest[0]
	name, rest, ok := readString(rest[1:])
	if !ok || len(rest) < 1 {
		return e, errors.New("malformed identity in side-channel request")
	}
	e.ident.name, e.ident.rights = name, Rights(rest[0])
	e.payload = rest[1:]
	return e, nil
}

func decodeAnswer(b []byte) (envelope, error) {
	e, rest, err := decodeHeader(b)
	e.payload = rest
	return e, err
}

// writeAnswer writes the frame of an answer without copying its payload
// (a file range is up to copyChunk bytes).
func writeAnswer(w io.Writer, status byte, id uint64, payload []byte) error {
	head := appendAnswer(make([]byte, 0, 4+answerHeaderLen), status, id, nil)
	if len(head)+len(payload) > maxFrame {
		return fmt.Errorf("frame of %d bytes exceeds the %d byte limit", len(head)+len(payload), maxFrame)
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(head)+len(payload)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

func writeFrame(w io.Writer, body []byte) error {
	if len(body) > maxFrame {
		return fmt.Errorf("frame of %d bytes exceeds the %d byte limit", len(body), maxFrame)
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(body)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

func readFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 1 || n > maxFrame {
		return nil, fmt.Errorf("bad frame length %d", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return body, nil
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

// readString reads what appendString wrote; a length written in more bytes
// than it needs is refused, so that one string has one encoding.
func readString(p []byte) (string, []byte, bool) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) || k != len(binary.AppendUvarint(nil, n)) {
		return "", nil, false
	}
	return string(p[k : k+int(n)]), p[k+int(n):], true
}

// forwardConn is one pooled connection to a peer.
type forwardConn struct {
	net.Conn
	addr string // as dialed
	r    *bufio.Reader
	w    *bufio.Writer
}

// forwarder sends requests to other nodes, reusing connections.
type forwarder struct {
	dial   func(ctx context.Context, addr string) (net.Conn, error)
	nextID atomic.Uint64
	dials  atomic.Uint64 // connections dialed, for tests
	// sessionRequests counts the reqSession requests sent, for tests.
	sessionRequests atomic.Uint64
	// check, when set, is asked before a request goes to a peer: an error
	// refuses it unsent; skip answers it empty, unsent (checkRequest).
	check func(addr string, typ byte) (skip bool, err error)

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

// dialError is a request that failed because addr could not be dialed. It
// matches errSendFailed only: what the dial failed on is for messages (and
// for telling "did not answer" from "not a raft port"), not for retry
// decisions.
type dialError struct {
	addr string
	err  error
}

func (e *dialError) Error() string {
	return fmt.Sprintf("%v: dial %s: %v", errSendFailed, e.addr, e.err)
}
func (e *dialError) Unwrap() error { return errSendFailed }

// call sends one request to addr and returns the answer payload. An error
// answer is returned as *remoteError. A failure to send wraps errSendFailed; a
// failure after sending (the peer may have acted) does not.
func (f *forwarder) call(ctx context.Context, addr string, typ byte, ident identity, payload []byte) ([]byte, error) {
	if skip, err := f.checkRequest(addr, typ); skip || err != nil {
		return nil, err
	}
	c, err := f.get(ctx, addr)
	if err != nil {
		return nil, &dialError{addr: addr, err: err}
	}
	answer, err := f.roundTrip(ctx, c, typ, ident, payload)
	var re *remoteError
	if err == nil || (errors.As(err, &re) && re.kind != errKindVersion) {
		f.put(addr, c)
	}
	return answer, err
}

// roundTrip sends one request on c and reads its answer. On an I/O error c
// is closed.
func (f *forwarder) roundTrip(ctx context.Context, c *forwardConn, typ byte, ident identity, payload []byte) ([]byte, error) {
	if skip, err := f.checkRequest(c.addr, typ); skip || err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	} else {
		c.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	id := f.nextID.Add(1)
	if typ == reqSession {
		f.sessionRequests.Add(1)
	}
	if err := writeFrame(c.w, appendRequest(nil, typ, id, ident, payload)); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: %v", errSendFailed, err)
	}
	if err := c.w.Flush(); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: %v", errSendFailed, err)
	}
	body, err := readFrame(c.r)
	if err != nil {
		c.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("reading answer from %s: %w", c.RemoteAddr(), err)
	}
	env, err := decodeAnswer(body)
	if err == nil && env.id != id {
		err = fmt.Errorf("answer to request %d where %d was asked", env.id, id)
	}
	if err != nil {
		// The conversation is out of step; nothing more on c can be trusted.
		c.Close()
		var ve errVersion
		if errors.As(err, &ve) {
			return nil, &remoteError{kind: errKindVersion, msg: fmt.Sprintf("%s answered in side-channel protocol version %d; this node speaks version %d: run the same raftsql version on every node", c.RemoteAddr(), ve.version, protocolVersion)}
		}
		return nil, fmt.Errorf("answer from %s: %w", c.RemoteAddr(), err)
	}
	if env.typ != statusOK {
		return nil, decodeError(env.payload)
	}
	return env.payload, nil
}

func (f *forwarder) checkRequest(addr string, typ byte) (bool, error) {
	if f.check == nil {
		return false, nil
	}
	return f.check(addr, typ)
}

// dialConn opens a connection that the caller owns and closes, for a
// conversation that keeps state on the peer.
func (f *forwarder) dialConn(ctx context.Context, addr string) (*forwardConn, error) {
	f.dials.Add(1)
	nc, err := f.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	return &forwardConn{Conn: nc, addr: addr, r: bufio.NewReader(nc), w: bufio.NewWriter(nc)}, nil
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
	f.dials.Add(1)
	nc, err := f.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	return &forwardConn{Conn: nc, addr: addr, r: bufio.NewReader(nc), w: bufio.NewWriter(nc)}, nil
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
