package pgwire

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Startup packet codes (the first 4 bytes of the body).
const (
	codeSSLRequest    = 80877103
	codeGSSENCRequest = 80877104
	codeCancelRequest = 80877102
	maxStartupPacket  = 10000
)

// flushThreshold is how many bytes of DataRows pgwire buffers before it
// writes them out, so a large result does not sit in memory.
const flushThreshold = 32 << 10

// conn is one client connection. Its goroutine (serve) owns every field
// except those under cmu, which CancelRequest and Close touch.
type conn struct {
	srv *Server
	raw net.Conn // the accepted connection; Close sets deadlines on it
	nc  net.Conn // raw, or the TLS connection over it
	log *slog.Logger
	be  *pgproto3.Backend
	// ended is set when the session ended the connection with a FATAL error.
	ended bool

	pid      uint32
	secret   []byte
	user     string // as the client logged in; set before the connection is in byPID
	admitted bool
	trusted  bool // from inside the process: no TLS or authentication needed

	sess     Session
	set      *settings
	database string          // as the client named it at startup
	changed  map[string]bool // reported parameters to send before ReadyForQuery
	loc      *time.Location  // the TimeZone parameter's zone, for timestamptz output (nil: UTC)

	stmts          map[string]*prepStmt
	portals        map[string]*portal
	seqLast        map[string]int64 // what nextval and setval last gave, for currval
	enumChecked    bool             // running statements that have their enum columns' CHECKs (enum.go)
	ignoreTillSync bool
	pending        int   // bytes sent since the last flush
	writeErr       error // the connection can no longer be written

	closing atomic.Bool // the server is shutting down

	cmu       sync.Mutex
	running   context.CancelFunc // cancels the statement that is running
	cancelled bool               // running was cancelled by a CancelRequest
}

// interrupt wakes the connection's goroutine so that it notices the server
// is closing.
func (c *conn) interrupt() {
	c.closing.Store(true)
	now := time.Now()
	_ = c.raw.SetReadDeadline(now)
	_ = c.raw.SetWriteDeadline(now.Add(100 * time.Millisecond))
}

func (c *conn) cancelRunning() {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	if c.running != nil {
		c.cancelled = true
		c.running()
	}
}

// execContext returns the context for one statement; done must be called
// when it returns, and reports whether a CancelRequest cancelled it.
// The context also ends if the client closes the connection meanwhile: a
// statement nobody waits for must not go on holding a read connection (or
// the write lock). The watch for that starts only once the statement has
// run for hangupWatchDelay: most statements end sooner, and a watch costs
// a goroutine, a poll and three deadline changes on the socket, a large
// part of what a point query costs.
func (c *conn) execContext() (ctx context.Context, done func() (cancelled bool)) {
	ctx, cancel := context.WithCancel(c.srv.ctx)
	c.cmu.Lock()
	c.running = cancel
	c.cancelled = false
	c.cmu.Unlock()
	w := &lateWatch{}
	w.timer = time.AfterFunc(hangupWatchDelay, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.ended {
			return
		}
		w.stop = watchHangup(c.raw, func() {
			c.log.Debug("client hung up during a statement; canceling it")
			cancel()
		})
	})
	return ctx, func() bool {
		w.end()
		c.cmu.Lock()
		defer c.cmu.Unlock()
		c.running = nil
		cancel()
		return c.cancelled
	}
}

// hangupWatchDelay is how long a statement runs before its connection is
// watched for the client closing it.
const hangupWatchDelay = 10 * time.Millisecond

// lateWatch is a hangup watch that starts when its timer fires, unless the
// statement ended first.
type lateWatch struct {
	timer *time.Timer
	mu    sync.Mutex
	ended bool
	stop  func() // set once the watch started
}

// end stops the watch, or keeps it from starting; it returns once no
// watch runs.
func (w *lateWatch) end() {
	w.timer.Stop()
	w.mu.Lock()
	w.ended = true
	stop := w.stop
	w.mu.Unlock()
	if stop != nil {
		stop()
	}
}

func (c *conn) serve() {
	defer c.srv.wg.Done()
	defer c.srv.release(c)
	defer c.nc.Close()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic serving connection", "panic", r, "stack", string(debug.Stack()))
			if c.be != nil {
				c.sendFatal(newError(codeInternalError, "internal error"))
			}
		}
	}()
	ok := c.startup()
	if c.sess != nil {
		defer c.sess.Close()
		defer c.closePortals() // before the session: a cursor holds its reads
	}
	if ok {
		c.loop()
	}
}

// readStartupPacket reads one length-prefixed startup packet. pgwire reads
// these itself, without buffering, so that nothing a client sends before the
// TLS handshake can be taken as sent over TLS.
func readStartupPacket(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(hdr[:]))) - 4
	if n < 4 || n > maxStartupPacket {
		return nil, fmt.Errorf("invalid length of startup packet: %d", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return body, nil
}

// fatalRaw writes a FATAL ErrorResponse before a Backend exists.
func (c *conn) fatalRaw(e *Error) {
	e.Severity = "FATAL"
	buf, err := errorResponse(e, 0).Encode(nil)
	if err == nil {
		_, _ = c.nc.Write(buf)
	}
}

// startup negotiates TLS, reads the StartupMessage (or a CancelRequest),
// authenticates and opens the session. It returns false when the
// connection is to be closed.
func (c *conn) startup() bool {
	cfg := &c.srv.cfg
	_ = c.nc.SetDeadline(time.Now().Add(cfg.StartupTimeout))
	if c.closing.Load() {
		return false
	}
	var body []byte
	negotiated := false
	for {
		var err error
		body, err = readStartupPacket(c.nc)
		if err != nil {
			if !isEOF(err) && !c.closing.Load() {
				c.log.Debug("bad startup packet", "err", err)
				if !isTimeout(err) {
					c.fatalRaw(newError(codeProtocolViolation, err.Error()))
				}
			}
			return false
		}
		code := binary.BigEndian.Uint32(body)
		switch code {
		case codeSSLRequest, codeGSSENCRequest:
			if negotiated {
				c.fatalRaw(newError(codeProtocolViolation, "unexpected encryption request"))
				return false
			}
			negotiated = true
			if code == codeSSLRequest && cfg.TLSConfig != nil {
				if _, err := c.nc.Write([]byte{'S'}); err != nil {
					return false
				}
				tc := tls.Server(c.nc, cfg.TLSConfig)
				if err := tc.Handshake(); err != nil {
					c.log.Debug("TLS handshake failed", "err", err)
					return false
				}
				c.nc = tc
				continue
			}
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return false
			}
			continue
		case codeCancelRequest:
			if len(body) >= 12 {
				c.srv.cancelRequest(binary.BigEndian.Uint32(body[4:8]), body[8:])
			}
			return false
		}
		break
	}
	major, minor := body[0:2], body[2:4]
	if binary.BigEndian.Uint16(major) != 3 {
		c.fatalRaw(newError(codeFeatureNotSupported, fmt.Sprintf("unsupported frontend protocol %d.%d: server supports 3.0",
			binary.BigEndian.Uint16(major), binary.BigEndian.Uint16(minor))))
		return false
	}
	params, unrecognized, err := parseStartupParams(body[4:])
	if err != nil {
		c.fatalRaw(newError(codeProtocolViolation, err.Error()))
		return false
	}

	c.be = pgproto3.NewBackend(c.nc, c.nc)
	c.be.SetMaxBodyLen(cfg.MaxMessageSize)
	if binary.BigEndian.Uint16(minor) > 0 || len(unrecognized) > 0 {
		c.be.Send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unrecognized})
	}
	user := params["user"]
	if user == "" {
		c.sendFatal(newError(codeInvalidAuthorization, "no PostgreSQL user name specified in startup packet"))
		return false
	}
	c.user = user
	if _, secure := c.nc.(*tls.Conn); cfg.RequireTLS && !secure && !c.trusted {
		e := newError(codeInvalidAuthorization, "this server accepts only connections over TLS")
		e.Hint = "connect with sslmode=require"
		c.sendFatal(e)
		return false
	}
	if params["database"] == "" {
		params["database"] = user
	}
	if params["replication"] != "" && params["replication"] != "false" && params["replication"] != "0" && params["replication"] != "off" {
		c.sendFatal(newError(codeFeatureNotSupported, "replication connections are not supported"))
		return false
	}
	if !c.srv.admit(c) {
		c.sendFatal(newError(codeTooManyConnections, "sorry, too many clients already"))
		return false
	}
	c.log = c.log.With("pid", c.pid, "user", user)

	sessCtx := c.srv.ctx
	if cfg.Auth != nil && !c.trusted {
		ex := &AuthExchange{User: user, Database: params["database"], Params: params, RemoteAddr: c.nc.RemoteAddr(), be: c.be}
		if tc, ok := c.nc.(*tls.Conn); ok {
			st := tc.ConnectionState()
			ex.TLS = &st
		}
		if err := cfg.Auth.Authenticate(c.srv.ctx, ex); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				e = newError("28P01", fmt.Sprintf("password authentication failed for user %q", user))
			}
			c.log.Info("authentication failed", "err", err)
			c.sendFatal(e)
			return false
		}
		_ = c.be.SetAuthType(pgproto3.AuthTypeOk)
		sessCtx = context.WithValue(sessCtx, authenticatedKey{}, user)
	}
	c.be.Send(&pgproto3.AuthenticationOk{})

	sess, err := cfg.Backend.NewSession(sessCtx, params)
	if err != nil {
		c.sendFatal(toError(err))
		return false
	}
	c.sess = sess
	c.database = params["database"]
	c.set = newSettings(cfg.ServerVersion, user, versionNum(cfg.ServerVersion))
	c.changed = make(map[string]bool)
	if e := c.applyStartupParams(params); e != nil {
		c.sendFatal(e)
		return false
	}
	c.set.snapshot()
	for _, d := range gucDefs {
		if d.report {
			c.be.Send(&pgproto3.ParameterStatus{Name: d.name, Value: c.set.vals[strings.ToLower(d.name)]})
		}
	}
	clear(c.changed)
	c.reportSessionStatus(c.be.Send)
	c.be.Send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret})
	c.be.Send(&pgproto3.ReadyForQuery{TxStatus: c.sess.TxStatus()})
	if err := c.be.Flush(); err != nil {
		return false
	}
	_ = c.nc.SetDeadline(time.Time{})
	if c.closing.Load() {
		_ = c.raw.SetReadDeadline(time.Now())
	}
	c.stmts = make(map[string]*prepStmt)
	c.portals = make(map[string]*portal)
	c.log.Debug("connection ready", "database", params["database"])
	return true
}

// parseStartupParams reads the name/value pairs of a StartupMessage.
// Protocol options (_pq_.*) are returned apart: pgwire supports none.
func parseStartupParams(b []byte) (map[string]string, []string, error) {
	params := make(map[string]string)
	var unrecognized []string
	for {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return nil, nil, errors.New("invalid startup packet layout: expected terminator as last byte")
		}
		if i == 0 {
			if len(b) != 1 {
				return nil, nil, errors.New("invalid startup packet layout: expected terminator as last byte")
			}
			return params, unrecognized, nil
		}
		name := string(b[:i])
		b = b[i+1:]
		j := bytes.IndexByte(b, 0)
		if j < 0 {
			return nil, nil, errors.New("invalid startup packet layout: missing value")
		}
		if strings.HasPrefix(name, "_pq_.") {
			unrecognized = append(unrecognized, name)
		} else {
			params[name] = string(b[:j])
		}
		b = b[j+1:]
	}
}

// applyStartupParams applies the StartupMessage parameters other than user
// and database as if SET, including -c name=value in options.
func (c *conn) applyStartupParams(params map[string]string) *Error {
	type kv struct{ k, v string }
	var list []kv
	for k, v := range params {
		switch k {
		case "user", "database", "replication":
			continue
		case "options":
			for _, o := range splitOptions(v) {
				o = strings.TrimPrefix(o, "--")
				name, val, ok := strings.Cut(o, "=")
				if !ok {
					continue
				}
				list = append(list, kv{strings.ToLower(strings.ReplaceAll(name, "-", "_")), val})
			}
			continue
		}
		list = append(list, kv{strings.ToLower(k), v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].k < list[j].k })
	for _, p := range list {
		if e := c.setParam(p.k, p.v, false); e != nil {
			e.Severity = "FATAL"
			return e
		}
	}
	return nil
}

// splitOptions splits the options startup parameter into -c name=value
// arguments (spaces separate, a backslash escapes the next character).
func splitOptions(s string) []string {
	var out []string
	var cur strings.Builder
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case r == ' ' || r == '\t':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	var args []string
	for i := 0; i < len(out); i++ {
		switch {
		case out[i] == "-c" && i+1 < len(out):
			args = append(args, out[i+1])
			i++
		case strings.HasPrefix(out[i], "-c"):
			args = append(args, out[i][2:])
		case strings.HasPrefix(out[i], "--"):
			args = append(args, out[i])
		}
	}
	return args
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// loop reads and answers messages until the connection ends.
func (c *conn) loop() {
	idle := c.srv.cfg.IdleTimeout
	for {
		if c.writeErr != nil {
			return
		}
		if c.closing.Load() {
			c.sendFatal(newError(codeAdminShutdown, "terminating connection due to administrator command"))
			return
		}
		if idle > 0 {
			_ = c.nc.SetReadDeadline(time.Now().Add(idle))
			if c.closing.Load() {
				continue // Close may have set its deadline before ours
			}
		}
		msg, err := c.be.Receive()
		if err != nil {
			var tooBig *pgproto3.ExceededMaxBodyLenErr
			switch {
			case c.closing.Load():
				c.sendFatal(newError(codeAdminShutdown, "terminating connection due to administrator command"))
			case isTimeout(err) && idle > 0:
				c.sendFatal(newError(codeIdleSessionTimeout, "terminating connection due to idle-session timeout"))
			case errors.As(err, &tooBig):
				// Refused from its length, before it is read: the
				// connection cannot skip it, so it ends.
				e := newError(codeProgramLimitExceeded, fmt.Sprintf("message of %d bytes exceeds the maximum query size of %d bytes", tooBig.ActualBodyLen, tooBig.MaxExpectedBodyLen))
				e.Hint = "the server's --max-query-size bounds a query's text, a Bind with its parameters and a COPY chunk; pass large values as parameters of several statements, or raise the limit"
				c.sendFatal(e)
				c.discardInput(int64(tooBig.ActualBodyLen))
			case isEOF(err):
				c.log.Debug("client disconnected")
			default:
				c.log.Debug("bad message", "err", err)
				c.sendFatal(newError(codeProtocolViolation, err.Error()))
			}
			return
		}
		if c.ignoreTillSync {
			// After an error in the extended protocol everything up to
			// Sync is skipped, Query messages included (as Postgres does).
			switch msg.(type) {
			case *pgproto3.Sync, *pgproto3.Terminate:
			default:
				continue
			}
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			c.simpleQuery(m.String)
			if c.ended {
				return
			}
		case *pgproto3.Parse, *pgproto3.Bind, *pgproto3.Describe, *pgproto3.Execute, *pgproto3.Close:
			if e := c.extended(msg); e != nil {
				if e.err.Severity == "FATAL" {
					// The session ended the connection (idle-in-transaction
					// timeout, shutdown): say why and close, as Postgres does.
					c.sendFatal(e.err)
					return
				}
				c.send(errorResponse(e.err, e.offset))
				c.ignoreTillSync = true
			}
		case *pgproto3.Sync:
			c.ignoreTillSync = false
			c.readyForQuery()
		case *pgproto3.Flush:
			c.flush()
		case *pgproto3.Terminate:
			c.log.Debug("client terminated")
			return
		case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
			// Postgres ignores these outside COPY.
		case *pgproto3.FunctionCall:
			c.send(errorResponse(newError(codeFeatureNotSupported, "function calls are not supported"), 0))
			c.readyForQuery()
		default:
			c.sendFatal(newError(codeProtocolViolation, fmt.Sprintf("unexpected message %T", msg)))
			return
		}
	}
}

func (c *conn) send(msg pgproto3.BackendMessage) {
	c.be.Send(msg)
}

func (c *conn) flush() {
	c.pending = 0
	if c.writeErr != nil {
		return
	}
	if wt := c.srv.cfg.WriteTimeout; wt > 0 && !c.closing.Load() {
		_ = c.nc.SetWriteDeadline(time.Now().Add(wt))
	}
	if err := c.be.Flush(); err != nil {
		c.writeErr = err
		c.log.Debug("write failed", "err", err)
	}
}

// discardInput reads and drops up to n bytes the client is still sending,
// for a short while, before the connection closes: closing a socket with
// unread data resets it, and the client, still writing its message, would
// never read the error that says why.
func (c *conn) discardInput(n int64) {
	_ = c.nc.SetReadDeadline(time.Now().Add(discardTimeout))
	_, _ = io.CopyN(io.Discard, c.nc, min(n, maxDiscard))
}

const (
	discardTimeout = 2 * time.Second
	maxDiscard     = 1 << 30
)

func (c *conn) sendFatal(e *Error) {
	e.Severity = "FATAL"
	if c.closing.Load() {
		_ = c.raw.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	}
	c.send(errorResponse(e, 0))
	c.flush()
}

// readyForQuery reports changed parameters, then ReadyForQuery, and
// flushes. Portals do not outlive a transaction.
func (c *conn) readyForQuery() {
	st := c.sess.TxStatus()
	if st == 'I' {
		c.closePortals()
	}
	if len(c.changed) > 0 {
		names := make([]string, 0, len(c.changed))
		for k := range c.changed {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			c.send(&pgproto3.ParameterStatus{Name: canonicalName(k), Value: c.set.vals[k]})
		}
		clear(c.changed)
	}
	c.reportSessionStatus(func(m pgproto3.BackendMessage) { c.send(m) })
	c.send(&pgproto3.ReadyForQuery{TxStatus: st})
	c.flush()
}

// reportSessionStatus sends the ParameterStatus messages a session reports
// of its own (see StatusReporter).
func (c *conn) reportSessionStatus(send func(pgproto3.BackendMessage)) {
	if r, ok := c.sess.(StatusReporter); ok {
		r.ReportStatus(func(name, value string) {
			send(&pgproto3.ParameterStatus{Name: name, Value: value})
		})
	}
}

// stmtError is an error and the character offset of its statement in the
// query string, for the error position.
type stmtError struct {
	err    *Error
	offset int
}
