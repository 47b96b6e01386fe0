package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
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

	pgLn   net.Listener
	httpLn net.Listener
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

	// leaderPG caches the leader's Postgres address for leaderRaft.
	leaderMu    sync.Mutex
	leaderRaft  string
	leaderPG    string
	leaderAsked time.Time

	infoMu sync.RWMutex
	infos  map[string]cachedInfo // statement text -> what it is

	fatalOnce sync.Once
	closeOnce sync.Once
	closeErr  error
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
	n := &Node{cfg: cfg, log: log.With("node", cfg.ID), writes: newWriteLock(), openTxs: map[*txn]*session{}, infos: map[string]cachedInfo{}}
	n.group = newGrouper(n, cfg.ProposalsInFlight, cfg.MaxGroupWait)
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
	if err := os.MkdirAll(filepath.Dir(n.cfg.sqlitePath()), 0o755); err != nil {
		return err
	}
	n.fsm, err = fsm.Open(fsm.Config{
		Path:      n.cfg.sqlitePath(),
		ReadConns: n.cfg.ReadConns,
		Logger:    n.log.With("subsystem", "fsm"),
		OnFatal:   n.fatal,
	})
	if err != nil {
		return fmt.Errorf("opening state machine: %w", err)
	}

	rc := raft.DefaultConfig()
	rc.ID = n.cfg.ID
	rc.Dir = n.cfg.raftDir()
	rc.Addr = n.cfg.RaftAddr
	rc.Listener = n.cfg.RaftListener
	rc.Bootstrap = n.cfg.Bootstrap
	rc.SnapshotThreshold = hashedThreshold(n.cfg.SnapshotThreshold, n.cfg.ID)
	rc.SnapshotInterval = n.cfg.SnapshotInterval
	rc.TrailingLogs = n.cfg.TrailingLogs
	rc.HeartbeatTimeout = n.cfg.HeartbeatTimeout
	rc.ElectionTimeout = n.cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = n.cfg.LeaderLeaseTimeout
	rc.Logger = n.log.With("subsystem", "raft")
	rc.Gate = n.cfg.Gate
	n.raft, err = raft.New(rc, n.fsm)
	if err != nil {
		return fmt.Errorf("starting raft: %w", err)
	}
	n.fwd = newForwarder(n.raft.DialForward)
	n.goServe(func() { n.serveForward(n.raft.ForwardListener()) })
	n.goServe(n.watchLeadership)
	n.goServe(n.staggerSnapshots)

	n.pgLn = n.cfg.PGListener
	if n.pgLn == nil {
		if n.pgLn, err = net.Listen("tcp", n.cfg.PGAddr); err != nil {
			return fmt.Errorf("postgres listener: %w", err)
		}
	}
	n.pg = pgwire.New(pgwire.Config{
		Backend:        backend{n},
		Logger:         n.log.With("subsystem", "pgwire"),
		MaxConnections: n.cfg.MaxConnections,
		TLSConfig:      tlsConfig,
		RequireTLS:     n.cfg.PGRequireTLS,
		Auth:           auth,
	})
	n.goServe(func() { n.pg.Serve(n.pgLn) })

	if n.cfg.HTTPAddr != "" || n.cfg.HTTPListener != nil {
		n.httpLn = n.cfg.HTTPListener
		if n.httpLn == nil {
			if n.httpLn, err = net.Listen("tcp", n.cfg.HTTPAddr); err != nil {
				return fmt.Errorf("http listener: %w", err)
			}
		}
		n.http = &http.Server{Handler: n.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
		n.goServe(func() { n.http.Serve(n.httpLn) })
	}

	if len(n.cfg.Join) > 0 {
		n.goServe(n.joinLoop)
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
	})
	return n.closeErr
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
	n.fatalOnce.Do(func() {
		n.log.Error("state machine failed; stopping the node", "err", err)
		go n.Close()
	})
}

// PGAddr is the address the Postgres listener is bound to.
func (n *Node) PGAddr() string {
	if n.pgLn == nil {
		return n.cfg.PGAddr
	}
	return n.pgLn.Addr().String()
}

// HTTPAddr is the address of the admin endpoint, "" when disabled.
func (n *Node) HTTPAddr() string {
	if n.httpLn == nil {
		return n.cfg.HTTPAddr
	}
	return n.httpLn.Addr().String()
}

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

// joinLoop asks the configured members to add this node until one accepts.
func (n *Node) joinLoop() {
	payload := appendString(appendString(nil, n.cfg.ID), n.RaftAddr())
	backoff := 100 * time.Millisecond
	// A cluster that is starting up has no leader for a moment; say so
	// loudly only when it lasts.
	quietUntil := time.Now().Add(10 * time.Second)
	for {
		for _, addr := range n.cfg.Join {
			ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
			_, err := n.fwd.call(ctx, addr, reqJoin, payload)
			cancel()
			if err == nil {
				n.log.Info("joined cluster", "via", addr)
				return
			}
			level := slog.LevelInfo
			if time.Now().After(quietUntil) {
				level = slog.LevelWarn
			}
			n.log.Log(n.ctx, level, "join failed, will retry", "via", addr, "err", err)
		}
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
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

func (n *Node) serveForwardConn(c net.Conn) {
	defer c.Close()
	stop := context.AfterFunc(n.ctx, func() { c.Close() })
	defer stop()
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	// sess is the session of a transaction block a follower relays here.
	var sess *session
	defer func() {
		if sess != nil {
			sess.Close()
		}
	}()
	for {
		typ, payload, err := readFrame(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && n.ctx.Err() == nil {
				n.log.Debug("side channel read", "err", err)
			}
			return
		}
		var answer []byte
		if typ == reqSession {
			answer = n.serveSession(n.ctx, &sess, payload)
		} else {
			answer, err = n.handleForward(typ, payload)
		}
		if err != nil {
			err = writeFrame(w, statusErr, n.encodeErr(err))
		} else {
			err = writeFrame(w, statusOK, answer)
		}
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			return
		}
	}
}
