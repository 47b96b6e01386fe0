package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftsql/raftsql/fsm"
	"github.com/raftsql/raftsql/pgwire"
	"github.com/raftsql/raftsql/raft"
)

// Node is one raftsql node.
type Node struct {
	cfg Config
	log *slog.Logger

	fsm  *fsm.FSM
	raft *raft.Node
	pg   *pgwire.Server
	http *http.Server
	fwd  *forwarder
	// archiver keeps the continuous archive; nil without Config.ArchiveDir.
	archiver *archiver

	metrics *metrics

	// users are the password file's, nil when every client is trusted.
	users map[string]User
	// httpAuth checks the admin endpoint's credentials.
	httpAuth *httpAuth
	// membersSeen caches when a peer was last found in the configuration.
	membersMu   sync.Mutex
	membersSeen map[string]time.Time

	pgLn   net.Listener
	httpLn net.Listener
	// pgAddr and httpAddr publish the listeners' addresses once they are
	// bound: the side channel and the admin endpoint serve LocalStatus
	// while Open is still binding them.
	pgAddr, httpAddr atomic.Pointer[string]
	// dirLock holds the data directory's lock until Close.
	dirLock *os.File

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// writes orders ordinary proposals against interactive transactions.
	writes  *writeLock
	group   *grouper
	txMu    sync.Mutex
	openTxs map[*txn]*session
	// restoreMu is held by the restore this node, as leader, is sending
	// through the log (backup.go): one at a time.
	restoreMu sync.Mutex
	// restoreActive is the id of the restore this node is receiving or
	// sending, 0 if none.
	restoreActive atomic.Uint64
	// fileBufs holds the buffers of the file ranges this node sends.
	fileBufs *fileBufPool
	// leaderGen counts changes of leadership seen by watchLeadership;
	// txReadyGen is leaderGen+1 once a transaction has waited, in that
	// leadership, for every entry of earlier terms (tx.go).
	leaderGen, txReadyGen atomic.Uint64
	// txQueue carries transactions' commits, in the order their
	// transactions held the write lock, to proposeTxs, which hands them to
	// Raft one after another (tx.go).
	txQueue chan *txProposal
	// advisory is the advisory lock table, in use while the node leads.
	advisory *advisoryTable
	versions *versionTable // the members' entry and side-channel versions (versions.go)

	// leaderPG caches the leader's Postgres address for leaderRaft.
	leaderMu    sync.Mutex
	leaderRaft  string
	leaderPG    string
	leaderAsked time.Time

	infoMu sync.RWMutex
	infos  map[string]cachedInfo // statement text -> what it is

	fatalOnce sync.Once
	failMu    sync.Mutex
	fatalErr  error // why the node closed itself; guarded by failMu
	closeOnce sync.Once
	closeErr  error
	done      chan struct{} // closed once Close has finished
}

// New checks cfg and returns a node that Open starts.
func New(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("server config: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Node{cfg: cfg, log: log.With("node", cfg.ID), writes: newWriteLock(), openTxs: map[*txn]*session{}, txQueue: make(chan *txProposal, 256), infos: map[string]cachedInfo{}, done: make(chan struct{}), metrics: newMetrics(), advisory: newAdvisoryTable(), versions: newVersionTable()}
	n.group = newGrouper(nodeProposer{n}, realClock{}, cfg.ProposalsInFlight, cfg.MaxGroupWait)
	n.writes.onWait = n.group.endGathering
	return n, nil
}

// Open starts the node: the state machine, Raft, the side channel, the
// Postgres and HTTP listeners, and, when configured, joins the cluster. It
// returns once the node serves; joining goes on in the background until it
// succeeds or the node closes.
func (n *Node) Open(ctx context.Context) (err error) {
	n.ctx, n.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	tlsConfig, auth, err := n.pgSecurity()
	if err != nil {
		return err
	}
	if n.dirLock, err = lockDataDir(n.cfg.DataDir); err != nil {
		return err
	}
	if err := n.versions.loadRemembered(n.cfg.DataDir); err != nil {
		n.log.Warn("cannot read the members' remembered versions; they count as the base release until they answer", "err", err)
	}
	if err := os.MkdirAll(filepath.Dir(n.cfg.sqlitePath()), 0o755); err != nil {
		return err
	}
	funcs, connInit := catalogSetup()
	funcs = append(funcs, sequenceFuncs()...)
	funcs = append(funcs, n.cfg.TestFuncs...)
	n.fsm, err = fsm.Open(fsm.Config{
		Funcs:            funcs,
		ConnInit:         connInit,
		Path:             n.cfg.sqlitePath(),
		ReadConns:        n.cfg.ReadConns,
		MaxReadValueSize: n.cfg.MaxValueSize,
		SnapshotRate:     n.cfg.SnapshotRate << 20,
		Logger:           n.log, // fsm adds its subsystem
		OnFatal:          n.fatal,
	})
	if err != nil {
		return fmt.Errorf("opening state machine: %w", err)
	}

	rc := raft.DefaultConfig()
	rc.ID = n.cfg.ID
	rc.Dir = n.cfg.raftDir()
	rc.Addr = n.cfg.RaftAddr
	rc.Listener = n.cfg.RaftListener
	if rc.Listener == nil && n.cfg.RaftListenAddr != "" {
		if rc.Listener, err = net.Listen("tcp", n.cfg.RaftListenAddr); err != nil {
			return fmt.Errorf("raft listener: %w", err)
		}
	}
	if n.cfg.RaftTLSCertFile != "" {
		if rc.TLS, err = raft.LoadTLSConfig(n.cfg.RaftTLSCertFile, n.cfg.RaftTLSKeyFile, n.cfg.RaftTLSCAFile); err != nil {
			if rc.Listener != nil && n.cfg.RaftListener == nil {
				rc.Listener.Close()
			}
			return err
		}
	}
	rc.Insecure = n.cfg.RaftInsecure
	rc.Bootstrap = n.cfg.Bootstrap
	rc.SnapshotThreshold = hashedThreshold(n.cfg.SnapshotThreshold, n.cfg.ID)
	rc.SnapshotInterval = n.cfg.SnapshotInterval
	rc.TrailingLogs = n.cfg.TrailingLogs
	rc.HeartbeatTimeout = n.cfg.HeartbeatTimeout
	rc.ElectionTimeout = n.cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = n.cfg.LeaderLeaseTimeout
	rc.Logger = n.cfg.Logger // raft adds the node and subsystem attributes itself
	rc.Gate = n.cfg.Gate
	rc.OnPeer = func(string) { n.versions.refreshSoon() }
	rc.CheckProposal = n.checkProposal
	n.raft, err = raft.New(rc, n.fsm)
	if errors.Is(err, raft.ErrInsecure) {
		return fmt.Errorf("starting raft: %w; give the node a certificate (--raft-tls-cert, --raft-tls-key and --raft-tls-ca; `raftsql cert` makes them), "+
			"or pass --raft-insecure to let anyone who reaches the raft address into the cluster", err)
	}
	if err != nil {
		return fmt.Errorf("starting raft: %w", err)
	}
	n.metrics.registerNode(n)
	n.fwd = newForwarder(n.raft.DialForward)
	n.fileBufs = newFileBufPool()
	n.fwd.check = n.checkRequest
	n.fsm.SetRestoreSource(n.ctx, restoreSource{n})
	n.goServe(func() { n.serveForward(n.raft.ForwardListener()) })
	n.goServe(n.watchLeadership)
	n.goServe(n.proposeTxs)
	n.goServe(n.watchAdvisory)
	n.goServe(n.staggerSnapshots)
	n.goServe(n.abortAbandonedRestores)
	n.goServe(n.watchVersions)

	n.pgLn = n.cfg.PGListener
	if n.pgLn == nil {
		if n.pgLn, err = net.Listen("tcp", n.cfg.PGAddr); err != nil {
			return fmt.Errorf("postgres listener: %w", err)
		}
	}
	n.pg = pgwire.New(pgwire.Config{
		Backend:        backend{n},
		Logger:         n.log, // pgwire adds its subsystem
		MaxConnections: n.cfg.MaxConnections,
		MaxMessageSize: n.cfg.MaxQuerySize,
		WriteTimeout:   n.cfg.ClientWriteTimeout,
		TLSConfig:      tlsConfig,
		RequireTLS:     n.cfg.PGRequireTLS,
		Auth:           auth,
	})
	n.pgAddr.Store(ptr(n.pgLn.Addr().String()))
	n.goServe(func() { n.pg.Serve(n.pgLn) })

	if n.cfg.HTTPAddr != "" || n.cfg.HTTPListener != nil {
		n.httpLn = n.cfg.HTTPListener
		if n.httpLn == nil {
			if n.httpLn, err = net.Listen("tcp", n.cfg.HTTPAddr); err != nil {
				return fmt.Errorf("http listener: %w", err)
			}
		}
		n.httpAddr.Store(ptr(n.httpLn.Addr().String()))
		scram, _ := auth.(*pgwire.SCRAMAuth)
		if n.httpAuth, err = n.newHTTPAuth(scram); err != nil {
			return err
		}
		httpTLS, err := n.httpTLS()
		if err != nil {
			return err
		}
		if httpTLS != nil {
			n.httpLn = tls.NewListener(n.httpLn, httpTLS)
		} else if n.httpAuth != nil {
			n.log.Warn("the admin endpoint asks for credentials over plain HTTP; give it --http-tls-cert and --http-tls-key", "addr", n.HTTPAddr())
		}
		n.http = &http.Server{Handler: n.httpAuth.wrap(n.httpHandler()), ReadHeaderTimeout: 10 * time.Second}
		n.goServe(func() { n.http.Serve(n.httpLn) })
	}

	if len(n.cfg.Join) > 0 {
		n.goServe(n.joinLoop)
	}
	if n.cfg.ReapAfter > 0 {
		n.goServe(n.reapLoop)
	}
	if err := n.startArchiver(); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	n.log.Info("node open", "raft", n.RaftAddr(), "pg", n.PGAddr(), "http", n.HTTPAddr())
	return nil
}

func (n *Node) goServe(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

// Close stops the node. A leader first hands leadership to another voter so
// the cluster does not wait for an election timeout.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		if n.cfg.LeaveOnShutdown && n.raft != nil && n.fatalCause() == nil {
			n.leave()
		}
		if n.cancel != nil {
			n.cancel()
		}
		var errs []error
		if n.http != nil {
			errs = append(errs, ignoreClosed(n.http.Close()))
		}
		if n.pg != nil {
			errs = append(errs, ignoreClosed(n.pg.Close()))
		} else if n.pgLn != nil {
			n.pgLn.Close()
		}
		if n.fwd != nil {
			n.fwd.close()
		}
		if n.raft != nil {
			errs = append(errs, n.raft.Close())
		}
		n.group.close()
		n.wg.Wait()
		if n.fsm != nil {
			errs = append(errs, n.fsm.Close())
		}
		if n.dirLock != nil {
			n.dirLock.Close()
		}
		n.closeErr = errors.Join(errs...)
		close(n.done)
	})
	return n.closeErr
}

// Done returns a channel that is closed when the node has stopped: after
// Close, or after a fatal failure of its state machine (disk full, I/O
// error), when it closes itself. A program that embeds a node should watch
// it and exit (or restart the node) when it closes unasked: see Err.
func (n *Node) Done() <-chan struct{} { return n.done }

// Err returns, once Done is closed, why the node stopped: nil after Close,
// the state machine's failure when it closed itself. A node that failed
// rebuilds its database from the Raft log when it is opened again.
func (n *Node) Err() error {
	select {
	case <-n.done:
		n.failMu.Lock()
		defer n.failMu.Unlock()
		return n.fatalErr
	default:
		return nil
	}
}

func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// fatal stops a node whose state machine can no longer keep the same state
// as the others (disk full, I/O error). The SQLite file is rebuilt from the
// Raft log at the next start, so nothing committed is lost.
func (n *Node) fatal(err error) {
	n.fail(fmt.Errorf("state machine failed: %w", err))
}

// fail stops the node for err, which Err then returns.
func (n *Node) fail(err error) {
	n.fatalOnce.Do(func() {
		n.log.Error("stopping the node", "err", err)
		n.failMu.Lock()
		n.fatalErr = err
		n.failMu.Unlock()
		go n.Close()
	})
}

// fatalCause is why the node stopped itself, nil while it has not.
func (n *Node) fatalCause() error {
	n.failMu.Lock()
	defer n.failMu.Unlock()
	return n.fatalErr
}

// PGAddr is the address the Postgres listener is bound to.
func (n *Node) PGAddr() string {
	if a := n.pgAddr.Load(); a != nil {
		return *a
	}
	return n.cfg.PGAddr
}

// HTTPAddr is the address of the admin endpoint, "" when disabled.
func (n *Node) HTTPAddr() string {
	if a := n.httpAddr.Load(); a != nil {
		return *a
	}
	return n.cfg.HTTPAddr
}

func ptr[T any](v T) *T { return &v }

// RaftAddr is the node-to-node address.
func (n *Node) RaftAddr() string {
	if n.raft != nil {
		return n.raft.Status().Addr
	}
	return n.cfg.RaftAddr
}

// ID is the node's ID.
func (n *Node) ID() string { return n.cfg.ID }

// IsLeader reports whether the node currently leads the cluster.
func (n *Node) IsLeader() bool { return n.raft.IsLeader() }

// Dump returns a canonical text dump of the node's database: the same on
// every node that has applied the same entries.
func (n *Node) Dump(ctx context.Context) (string, error) { return n.fsm.Dump(ctx) }

// AppliedIndex is the last log index this node's database reflects.
func (n *Node) AppliedIndex() uint64 { return n.raft.AppliedIndex() }

// WaitApplied blocks until the node has applied index.
func (n *Node) WaitApplied(ctx context.Context, index uint64) error {
	return n.raft.WaitApplied(ctx, index)
}

// joinLoop asks the configured members to add this node until one
// accepts, or JoinTimeout passes: then the node stops itself with an error
// that says, for each address, why it did not help. A node that is in its
// own configuration already (a restarted member) is not stopped: it asks
// until it is answered, as a member whose cluster is down for a while must
// not give up on it.
func (n *Node) joinLoop() {
	payload := joinPayload(n.cfg.ID, n.RaftAddr(), n.cfg.NonVoter)
	backoff := 100 * time.Millisecond
	start := time.Now()
	// A cluster that is starting up has no leader for a moment; say so
	// loudly only when it lasts.
	quietUntil := start.Add(10 * time.Second)
	last := map[string]error{}
	timeout := n.cfg.JoinTimeout
	if n.isSelfMember() {
		timeout = 0
	}
	for {
		for _, addr := range n.cfg.Join {
			ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
			if timeout > 0 {
				cancel()
				ctx, cancel = context.WithTimeout(n.ctx, min(time.Until(start.Add(timeout)), 10*time.Second))
			}
			_, err := n.fwd.call(ctx, addr, reqJoin, n.self(), payload)
			cancel()
			if err == nil {
				n.log.Info("joined cluster", "via", addr, "non_voter", n.cfg.NonVoter)
				return
			}
			if n.ctx.Err() != nil {
				return
			}
			last[addr] = joinError(addr, err)
			level := slog.LevelInfo
			if time.Now().After(quietUntil) {
				level = slog.LevelWarn
			}
			n.log.Log(n.ctx, level, "join failed, will retry", "via", addr, "err", last[addr])
		}
		if timeout > 0 && time.Since(start) >= timeout {
			errs := make([]error, 0, len(n.cfg.Join))
			for _, addr := range n.cfg.Join {
				errs = append(errs, last[addr])
			}
			n.fail(fmt.Errorf("could not join the cluster within %v: %w", timeout, errors.Join(errs...)))
			return
		}
		wait := backoff
		if timeout > 0 {
			wait = max(min(wait, time.Until(start.Add(timeout))), 0)
		}
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// joinError says why a join through addr failed, telling an address that
// did not answer from one where something other than a raftsql raft port
// (or one that does not trust this node) answered.
func joinError(addr string, err error) error {
	var de *dialError
	if errors.As(err, &de) {
		if errors.Is(de.err, raft.ErrHandshake) {
			return fmt.Errorf("%s answered, but not as a raftsql raft port (the node-to-node handshake failed: is it the --raft-addr of a member, with the same TLS CA?): %v", addr, de.err)
		}
		return fmt.Errorf("%s did not answer (is a member running there?): %v", addr, de.err)
	}
	return fmt.Errorf("join through %s: %w", addr, err)
}

// isSelfMember reports whether this node is in its own copy of the
// configuration: a restarted member, or one whose join answer was lost.
func (n *Node) isSelfMember() bool {
	members, err := n.raft.Members()
	if err != nil {
		return false
	}
	for _, m := range members {
		if m.ID == n.cfg.ID {
			return true
		}
	}
	return false
}

// serveForward answers the side-channel requests of other nodes.
func (n *Node) serveForward(ln net.Listener) {
	var conns sync.WaitGroup
	defer conns.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		conns.Add(1)
		go func() {
			defer conns.Done()
			n.serveForwardConn(c)
		}()
	}
}

// watchPeer returns the context of one side-channel request on c: it ends
// when the asker closes c (it gave up, or went away) or the node closes, so
// that the request stops working for nobody. Requests are answered one at
// a time, so nothing else reads r meanwhile; done ends the watch and leaves
// r as it was, a byte of a next request peeked at most. The watch starts
// once the request has run for peerWatchDelay: most are answered sooner,
// and a watch costs a goroutine, a read and two deadline changes, a large
// part of what relaying a statement costs.
func watchPeer(parent context.Context, c net.Conn, r *bufio.Reader) (ctx context.Context, done func()) {
	ctx, cancel := context.WithCancel(parent)
	var mu sync.Mutex
	ended, started := false, false
	watched := make(chan struct{})
	timer := time.AfterFunc(peerWatchDelay, func() {
		mu.Lock()
		if ended {
			mu.Unlock()
			return
		}
		started = true
		mu.Unlock()
		defer close(watched)
		if _, err := r.Peek(1); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			cancel()
		}
	})
	return ctx, func() {
		timer.Stop()
		mu.Lock()
		ended = true
		wake := started
		mu.Unlock()
		if wake {
			_ = c.SetReadDeadline(time.Now()) // wake the Peek
			<-watched
			_ = c.SetReadDeadline(time.Time{})
		}
		cancel()
	}
}

// peerWatchDelay is how long a side-channel request runs before its
// connection is watched for the asker closing it.
const peerWatchDelay = 10 * time.Millisecond

func (n *Node) serveForwardConn(c net.Conn) {
	defer c.Close()
	// Only members get a side-channel connection: the raft package's
	// handshake (mutual TLS) names the one that dialed. A connection that
	// names none is not served at all.
	peer, ok := raft.PeerID(c)
	if !ok || peer == "" {
		n.log.Warn("side-channel connection without a member id refused", "remote", c.RemoteAddr())
		return
	}
	stop := context.AfterFunc(n.ctx, func() { c.Close() })
	defer stop()
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	// sess is the session of a transaction block a follower relays here,
	// and advisory the owner of the advisory locks of a follower session.
	var sess *session
	var advisory *advisoryOwner
	defer func() {
		if sess != nil {
			sess.Close()
		}
		if advisory != nil {
			n.advisory.releaseAll(advisory, true)
		}
	}()
	member := func() bool { return n.isMember(peer) }
	for {
		switch {
		case sess != nil:
			// A relayed block may hold the write lock: a follower that
			// goes silent (frozen, cut off) loses it within the bound.
			deadline := n.cfg.RelayTimeout
			if advisory != nil && n.advisory.holds(advisory) > 0 && advisoryLease < deadline {
				deadline = advisoryLease
			}
			_ = c.SetReadDeadline(time.Now().Add(deadline))
		case advisory != nil && n.advisory.holds(advisory) > 0:
			// The follower pings while its session holds locks; silence
			// means it is gone, and the locks with it.
			_ = c.SetReadDeadline(time.Now().Add(advisoryLease))
		default:
			_ = c.SetReadDeadline(time.Time{})
		}
		body, err := readFrame(r)
		if sess != nil {
			_ = c.SetReadDeadline(time.Time{})
		}
		if err != nil {
			if sess != nil && n.ctx.Err() == nil && !errors.Is(err, io.EOF) {
				n.log.Warn("relayed transaction block aborted: the follower went silent", "peer", peer, "err", err)
			}
			if !errors.Is(err, io.EOF) && n.ctx.Err() == nil {
				n.log.Debug("side channel read", "err", err)
			}
			return
		}
		if advisory != nil {
			// A request may wait long (for a lock): watchPeer must go on
			// watching the asker all that time.
			_ = c.SetReadDeadline(time.Time{})
		}
		env, err := decodeRequest(body)
		if err == nil {
			err = n.authorize(peer, env, member)
		}
		var answer, fileBuf []byte
		if err == nil {
			// ctx ends when the asker goes away: nobody waits for the
			// answer any more.
			ctx, done := watchPeer(n.ctx, c, r)
			switch env.typ {
			case reqPing:
			case reqSession:
				answer, err = n.serveSession(ctx, &sess, env)
			case reqAdvisory:
				answer, err = n.serveAdvisory(ctx, &advisory, func() { c.Close() }, env)
			default:
				answer, err = n.handleForward(ctx, env)
				if env.typ == reqFile && err == nil {
					// A range of a file, in a buffer of the pool: given
					// back once sent.
					fileBuf = answer
				}
			}
			done()
			if err == nil && len(answer)+answerHeaderLen > maxFrame {
				// Say so rather than drop the connection, which the asker
				// would take for a lost leader and ask again.
				err = &limitError{msg: fmt.Sprintf("the answer of %d bytes exceeds the %d-byte limit of the node-to-node channel", len(answer), maxFrame-answerHeaderLen)}
			}
		} else {
			n.log.Warn("side-channel request refused", "peer", peer, "err", err)
		}
		status := byte(statusOK)
		if err != nil {
			status, answer = statusErr, n.encodeErr(err)
		}
		var ve errVersion
		if errors.As(err, &ve) && ve.version == 0 {
			// A node from before the envelope reads [status][error] and
			// shows the message: it learns why, not just that.
			err = writeFrame(w, append([]byte{statusErr}, encodeError(errKindOther, err.Error(), "")...))
		} else {
			err = writeAnswer(w, status, env.id, answer)
		}
		if fileBuf != nil {
			// w copied what it did not write to the connection.
			n.fileBufs.put(fileBuf)
		}
		if sess != nil {
			// Nor may one that stops reading.
			_ = c.SetWriteDeadline(time.Now().Add(n.cfg.RelayTimeout))
		}
		if err == nil {
			err = w.Flush()
		}
		if sess != nil {
			_ = c.SetWriteDeadline(time.Time{})
		}
		if err != nil {
			return
		}
	}
}

// memberCheckInterval is how long a positive member check holds before the
// configuration is asked again. Asking goes through Raft's main loop, and a
// relayed transaction block may open a connection of its own (while a
// member of an older release is in the cluster), so a check per connection
// would cost every block a round through it.
const memberCheckInterval = 5 * time.Second

// isMember reports whether id is in the cluster's configuration.
func (n *Node) isMember(id string) bool {
	n.membersMu.Lock()
	at, ok := n.membersSeen[id]
	n.membersMu.Unlock()
	if ok && time.Since(at) < memberCheckInterval {
		return true
	}
	members, err := n.raft.Members()
	if err != nil {
		return false
	}
	for _, m := range members {
		if m.ID == id {
			n.membersMu.Lock()
			if n.membersSeen == nil || len(n.membersSeen) > 1024 {
				n.membersSeen = map[string]time.Time{}
			}
			n.membersSeen[id] = time.Now()
			n.membersMu.Unlock()
			return true
		}
	}
	return false
}
