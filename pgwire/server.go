package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"github.com/raftsql/raftsql/pgwire/pgsql"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults for Config fields left zero.
const (
	DefaultServerVersion  = "15.0 (raftsql)"
	DefaultMaxMessageSize = 64 << 20
	DefaultStartupTimeout = 10 * time.Second
)

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("pgwire: server closed")

// Config configures a Server.
type Config struct {
	// Backend opens a Session for each client that completes startup.
	// Required.
	Backend Backend

	// Logger receives connection-level events; nil discards them.
	Logger *slog.Logger

	// ServerVersion is reported as server_version (default
	// DefaultServerVersion). Clients choose their queries by its major
	// version, so it should read "15.x".
	ServerVersion string

	// MaxMessageSize bounds the body of one client message in bytes
	// (default DefaultMaxMessageSize). A larger message ends the
	// connection with an error.
	MaxMessageSize int

	// MaxConnections bounds the number of open sessions; 0 means no limit.
	// A client beyond it gets FATAL 53300.
	MaxConnections int

	// IdleTimeout ends a connection that sends nothing for this long
	// (FATAL 57P05); 0 means never.
	IdleTimeout time.Duration

	// WriteTimeout ends a connection that takes nothing of what the server
	// sends for this long (its socket buffers stay full); 0 means never.
	// A streamed result holds a read connection and the database's
	// snapshot until it is sent, so a client that stops reading must not
	// hold them for ever.
	WriteTimeout time.Duration

	// StartupTimeout bounds TLS negotiation, startup and authentication
	// (default DefaultStartupTimeout).
	StartupTimeout time.Duration

	// TLSConfig enables TLS: SSLRequest is answered 'S' and the connection
	// upgraded. nil answers 'N'.
	TLSConfig *tls.Config
	// RequireTLS refuses (FATAL 28000) a client that did not negotiate
	// TLS. It needs TLSConfig.
	RequireTLS bool

	// Auth authenticates clients after startup; nil trusts every client.
	Auth Authenticator
}

// Server accepts Postgres wire protocol connections and runs each one's
// statements on a Session from Config.Backend.
type Server struct {
	cfg    Config
	log    *slog.Logger
	ctx    context.Context // cancelled by Close: running statements stop
	cancel context.CancelFunc

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	byPID     map[uint32]*conn // connections that received BackendKeyData
	sessions  int              // connections past startup, for MaxConnections
	wg        sync.WaitGroup

	stmts *pgsql.Cache // parsed statements, shared by the connections
}

// Statement cache bounds: how many parsed statements the server keeps, and
// the longest text it keeps one for (a statement holding a large literal
// is parsed again rather than kept).
const (
	maxCachedStatements = 4096
	maxCachedStatement  = 64 << 10
)

// New returns a Server for cfg, with defaults applied to zero fields.
func New(cfg Config) *Server {
	if cfg.ServerVersion == "" {
		cfg.ServerVersion = DefaultServerVersion
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.StartupTimeout <= 0 {
		cfg.StartupTimeout = DefaultStartupTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		stmts:     pgsql.NewCache(maxCachedStatements, maxCachedStatement),
		cfg:       cfg,
		log:       log.With("subsystem", "pgwire"),
		ctx:       ctx,
		cancel:    cancel,
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
		byPID:     make(map[uint32]*conn),
	}
}

// Serve accepts connections on ln until Close, serving each on its own
// goroutine. It returns ErrServerClosed after Close, or the listener's
// error.
func (s *Server) Serve(ln net.Listener) error {
	if s.cfg.Backend == nil {
		return errors.New("pgwire: Config.Backend is nil")
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscallEMFILE) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "retry_in", backoff)
				select {
				case <-time.After(backoff):
				case <-s.ctx.Done():
				}
				continue
			}
			return err
		}
		backoff = 0
		c := s.newConn(nc)
		if c == nil {
			nc.Close()
			return ErrServerClosed
		}
		go c.serve()
	}
}

// ServeConn serves one already established connection (an in-process pipe,
// for example) on its own goroutine, as if Serve had accepted it.
func (s *Server) ServeConn(nc net.Conn) error {
	return s.serveConn(nc, false)
}

// ServeTrustedConn is ServeConn for a connection from inside the process,
// whose client the program itself is: it needs neither TLS nor
// authentication, whatever Config.RequireTLS and Config.Auth say.
func (s *Server) ServeTrustedConn(nc net.Conn) error {
	return s.serveConn(nc, true)
}

func (s *Server) serveConn(nc net.Conn, trusted bool) error {
	if s.cfg.Backend == nil {
		return errors.New("pgwire: Config.Backend is nil")
	}
	c := s.newConn(nc)
	if c == nil {
		nc.Close()
		return ErrServerClosed
	}
	c.trusted = trusted
	go c.serve()
	return nil
}

// Close stops accepting, ends every connection (running statements are
// cancelled; clients get FATAL 57P01) and waits for their goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	var err error
	for ln := range s.listeners {
		if e := ln.Close(); e != nil && !errors.Is(e, net.ErrClosed) {
			err = e
		}
	}
	s.cancel()
	for c := range s.conns {
		c.interrupt()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) newConn(nc net.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	c := &conn{srv: s, raw: nc, nc: nc, log: s.log.With("remote", nc.RemoteAddr().String())}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return c
}

// admit registers c for MaxConnections and cancel requests, choosing its
// process ID and secret key. It fails when the server is full.
func (s *Server) admit(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.MaxConnections > 0 && s.sessions >= s.cfg.MaxConnections {
		return false
	}
	s.sessions++
	c.admitted = true
	var b [8]byte
	for {
		_, _ = rand.Read(b[:])
		pid := binary.BigEndian.Uint32(b[:4]) & 0x7fffffff
		if pid == 0 {
			continue
		}
		if _, taken := s.byPID[pid]; taken {
			continue
		}
		c.pid = pid
		c.secret = append([]byte(nil), b[4:8]...)
		s.byPID[pid] = c
		return true
	}
}

func (s *Server) release(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if c.admitted {
		s.sessions--
		delete(s.byPID, c.pid)
	}
}

// cancelRequest handles a CancelRequest: the statement running on the
// connection with that process ID and secret key is cancelled. A wrong key
// is ignored, as Postgres does, so as not to reveal which IDs exist.
func (s *Server) cancelRequest(pid uint32, key []byte) {
	s.mu.Lock()
	c := s.byPID[pid]
	s.mu.Unlock()
	if c == nil || subtle.ConstantTimeCompare(c.secret, key) != 1 {
		s.log.Debug("cancel request for unknown connection", "pid", pid)
		return
	}
	c.cancelRunning()
}

// versionNum turns "15.4 (raftsql)" into server_version_num "150004".
func versionNum(v string) string {
	f := strings.FieldsFunc(v, func(r rune) bool { return r != '.' && (r < '0' || r > '9') })
	if len(f) == 0 {
		return "150000"
	}
	parts := strings.Split(f[0], ".")
	major, _ := strconv.Atoi(parts[0])
	minor := 0
	if len(parts) > 1 {
		minor, _ = strconv.Atoi(parts[1])
	}
	return strconv.Itoa(major*10000 + minor)
}

// isEOF reports a connection that the client closed.
func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}
