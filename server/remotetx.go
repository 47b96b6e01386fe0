package server

import (
	"context"
	"errors"
	"fmt"
	"github.com/raftsql/raftsql/pgwire/pgsql"
	"strings"
	"sync"
	"time"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/pgwire"
)

// A transaction that begins on a follower runs on the leader as a whole: the
// follower takes a side-channel connection to the leader for the block
// alone, where a session of its own executes every statement of the block,
// and relays the results. The leader's session ends with the block (when
// its status is back to idle) or with the connection, so a follower or
// client that goes away leaves nothing behind. A connection whose block
// ended goes back to the follower's pool, for the next block or any other
// request, so that a BEGIN does not pay for a dial and a TLS handshake;
// while a member of an older release is in the cluster (whose leader kept
// the session as long as the connection), it is closed instead. The
// block's BEGIN goes to the leader with its first statement
// (pendingBegin).

// remoteTx is a transaction block relayed to the leader.
type remoteTx struct {
	conn   *forwardConn // nil once the block was given up (see remoteExec)
	status byte
	// mu is held by whoever talks on conn: a statement of the block, or
	// the heartbeat. stopBeat ends the heartbeat.
	mu       *sync.Mutex
	stopBeat func()
	// dead is set, under mu, by a heartbeat that failed and closed conn.
	dead bool
	// begin, while set, is the block's BEGIN, not sent yet: the block
	// is open for the client and holds nothing anywhere (conn is nil).
	begin *pendingBegin
}

// pendingBegin is a BEGIN the follower answered itself, to be relayed with
// the block's first statement (relayBeginVersion): a block relayed to the
// leader then costs one round trip less. A BEGIN that takes no lock and
// reads nothing cannot fail on the leader in a way the follower cannot see
// first (an option it does not accept, which is relayed at once); a block
// whose first statement ends it (COMMIT, ROLLBACK) ran nothing and ends on
// the follower.
type pendingBegin struct {
	sql string
	c   txControl
}

// relayBeginVersion is the side-channel version of a leader that accepts a
// relayed block's BEGIN and first statement in one request.
const relayBeginVersion = 5

// deferBegin reports whether the BEGIN c may wait for the block's first
// statement: the leader must accept the pair, and the BEGIN must be one
// that the leader's fresh session accepts.
func (s *session) deferBegin(c txControl) bool {
	return c.bad == "" && s.n.versions.state.Load().peer >= relayBeginVersion
}

// openPending opens the pending block for its first statement, sql: on
// the leader, with the statement in the same request, and answers the
// statement (done); or, when this node leads now or the leader cannot take
// the pair, opens the block alone and returns done false, so that the
// statement runs the usual way within it.
func (s *session) openPending(ctx context.Context, sql string, c txControl, params []command.Value) (*pgwire.Result, error, bool) {
	p := s.remote.begin
	if c.bad == "" {
		switch c.verb {
		case txCommit:
			s.remote = nil
			return &pgwire.Result{Tag: "COMMIT"}, nil, true
		case txRollback:
			s.remote = nil
			return &pgwire.Result{Tag: "ROLLBACK"}, nil, true
		}
	}
	if s.n.versions.state.Load().peer < relayBeginVersion {
		// A member of an older release joined since the BEGIN.
		if err := s.openPendingAlone(ctx); err != nil {
			return nil, err, true
		}
		return nil, nil, false
	}
	s.remote = nil
	var res *pgwire.Result
	var perr *pgwire.Error // the leader's answer to the statement
	here := false
	// The pair may be sent again whatever happened, as a BEGIN may: the
	// statement ran, if at all, in a block that nothing committed, and
	// the connection it ran on is closed, which ends the leader's
	// session and the block with it (a pooled connection the leader
	// closed meanwhile fails this way too). Finding the leader is
	// bounded as a BEGIN's is; the statement itself, as any statement
	// of a block.
	lctx, cancel := context.WithTimeout(ctx, s.n.cfg.ApplyTimeout)
	defer cancel()
	_, err := s.n.onLeader(lctx, true,
		func(context.Context) error {
			here = true
			return nil
		},
		func(lctx context.Context, leader string) error {
			conn, err := s.blockConn(lctx, leader)
			if err != nil {
				return fmt.Errorf("%w: dial %s: %v", errSendFailed, leader, err)
			}
			status, r, pe, err := s.relayPair(ctx, conn, p.sql, sql, params)
			if err != nil {
				conn.Close()
				return err
			}
			if status == 'I' {
				s.n.endBlockConn(conn)
				if pe != nil {
					// Only the BEGIN's own failure leaves the block
					// ended after its first statement; the client was
					// told the block began, so it stays failed here.
					s.remote = &remoteTx{status: 'E'}
				}
			} else {
				s.remote = &remoteTx{conn: conn, status: status}
				s.startHeartbeat(s.remote)
			}
			res, perr = r, pe
			return nil
		})
	switch {
	case here:
		s.beginTx(p.c)
		return nil, nil, false
	case err != nil:
		err = s.relayFailed(ctx, c, err)
		// The client was told the block began: it stays failed until it
		// ends, rather than run what follows outside of it.
		s.remote = &remoteTx{status: 'E'}
		return nil, err, true
	case perr != nil:
		return nil, perr, true
	}
	return res, nil, true
}

// openPendingAlone sends the pending block's BEGIN by itself, or opens the
// block here when this node leads now.
func (s *session) openPendingAlone(ctx context.Context) error {
	p := s.remote.begin
	s.remote = nil
	res, err := s.beginRemote(ctx, p.sql)
	switch {
	case err != nil:
		// The client was told the block began: it stays failed until it
		// ends.
		s.remote = &remoteTx{status: 'E'}
		return err
	case res == nil:
		s.beginTx(p.c)
	}
	return nil
}

// relayPair sends a block's BEGIN and its first statement in one request
// and reads the leader's answer to the statement.
func (s *session) relayPair(ctx context.Context, c *forwardConn, begin, sql string, params []command.Value) (byte, *pgwire.Result, *pgwire.Error, error) {
	payload := appendString(nil, s.level)
	payload = append(payload, command.Encode(&command.Command{
		Kind:       command.KindExecute,
		Statements: []command.Statement{{SQL: begin}, {SQL: sql, Params: params}},
	})...)
	answer, err := s.n.fwd.roundTrip(ctx, c, reqSession, s.who, payload)
	if err != nil {
		return 0, nil, nil, err
	}
	return decodeSessionAnswer(answer)
}

// startHeartbeat keeps a relayed block alive on the leader while its client
// thinks: the leader aborts a block it hears nothing of for
// Config.RelayTimeout, so that a follower that freezes or is cut off cannot
// keep the write lock. A heartbeat that fails closes the connection: the
// block is gone, and its next statement says so.
func (s *session) startHeartbeat(r *remoteTx) {
	r.mu = new(sync.Mutex)
	every := s.n.cfg.RelayTimeout / 4
	done := make(chan struct{})
	var once sync.Once
	r.stopBeat = func() { once.Do(func() { close(done) }) }
	c, who := r.conn, s.who
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-s.n.ctx.Done():
				return
			case <-t.C:
			}
			if !r.mu.TryLock() {
				continue // a statement is talking to the leader
			}
			select {
			case <-done:
				r.mu.Unlock()
				return
			default:
			}
			ctx, cancel := context.WithTimeout(s.n.ctx, s.n.cfg.RelayTimeout)
			_, err := s.n.fwd.roundTrip(ctx, c, reqPing, who, nil)
			cancel()
			if err != nil {
				c.Close()
				r.dead = true
			}
			r.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
}

// beginRemote opens a relayed transaction block on the leader. It returns
// nil, nil when this node leads: the caller then runs the block here.
func (s *session) beginRemote(ctx context.Context, sql string) (*pgwire.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, s.n.cfg.ApplyTimeout)
	defer cancel()
	var res *pgwire.Result
	var perr *pgwire.Error // the leader's answer to BEGIN: final, not retried
	here := false
	// A BEGIN that fails leaves nothing behind: the connection is closed,
	// and the leader's session ends with it. So it may be repeated
	// whatever happened (a pooled connection the leader closed meanwhile
	// fails this way too).
	_, err := s.n.onLeader(ctx, true,
		func(context.Context) error {
			here = true
			return nil
		},
		func(ctx context.Context, leader string) error {
			c, err := s.blockConn(ctx, leader)
			if err != nil {
				return fmt.Errorf("%w: dial %s: %v", errSendFailed, leader, err)
			}
			status, r, pe, err := s.relay(ctx, c, sql, nil)
			if err != nil {
				c.Close()
				return err
			}
			if status == 'I' {
				s.n.endBlockConn(c)
			} else {
				s.remote = &remoteTx{conn: c, status: status}
				s.startHeartbeat(s.remote)
			}
			res, perr = r, pe
			return nil
		})
	switch {
	case here:
		return nil, nil
	case err != nil:
		return nil, pgError(s.n.translate(err))
	case perr != nil:
		return nil, perr
	}
	return res, nil
}

// relay sends one statement of a block over c and reads the leader's
// answer: the block's status and the statement's result or error.
func (s *session) relay(ctx context.Context, c *forwardConn, sql string, params []command.Value) (byte, *pgwire.Result, *pgwire.Error, error) {
	payload := appendString(nil, s.level)
	payload = append(payload, command.Encode(&command.Command{
		Kind:       command.KindExecute,
		Statements: []command.Statement{{SQL: sql, Params: params}},
	})...)
	answer, err := s.n.fwd.roundTrip(ctx, c, reqSession, s.who, payload)
	if err != nil {
		return 0, nil, nil, err
	}
	return decodeSessionAnswer(answer)
}

// remoteExec relays one statement of the block to the leader.
func (s *session) remoteExec(ctx context.Context, sql string, c txControl, params []command.Value) (*pgwire.Result, error) {
	r := s.remote
	if r.conn == nil {
		// The block was given up: as in Postgres, it is failed until it
		// ends.
		switch c.verb {
		case txCommit, txRollback:
			s.remote = nil
			return &pgwire.Result{Tag: "ROLLBACK"}, nil
		}
		return nil, errInFailedTx
	}
	r.mu.Lock()
	status, res, perr, err := s.relay(ctx, r.conn, sql, params)
	r.mu.Unlock()
	if err != nil {
		// The block is gone with the connection.
		s.closeRemote()
		return nil, s.relayFailed(ctx, c, err)
	}
	r.status = status
	if status == 'I' {
		s.endRemote()
	}
	if perr != nil {
		return nil, perr
	}
	return res, nil
}

// relayFailed is the error of a statement of a relayed block whose
// request failed with err: the block is gone with its connection.
func (s *session) relayFailed(ctx context.Context, c txControl, err error) error {
	verb := c.verb
	var re *remoteError
	if errors.As(err, &re) && (re.kind == errKindDenied || re.kind == errKindVersion) {
		return pgError(s.n.translate(err))
	}
	if verb == txCommit && !errors.Is(err, errSendFailed) {
		return pgError(ErrOutcomeUnknown)
	}
	if (ctx.Err() != nil || expired(err)) && verb != txCommit && verb != txRollback && verb != txBegin {
		// The client gave up on the statement (statement_timeout, a
		// cancel request): the leader rolled the block back when the
		// connection closed; the block stays failed here until the
		// client ends it.
		s.remote = &remoteTx{status: 'E'}
		if ctx.Err() != nil {
			return pgError(ctx.Err())
		}
		return pgError(context.DeadlineExceeded)
	}
	return errLeadershipLost
}

// blockConnVersion is the side-channel version of a leader that ends a
// relayed block's session with the block, so that its connection can
// serve again.
const blockConnVersion = 3

// blockConn returns a connection to the leader for a relayed block: a
// pooled one when every member ends a block's session with the block.
func (s *session) blockConn(ctx context.Context, leader string) (*forwardConn, error) {
	if s.n.versions.state.Load().peer >= blockConnVersion {
		return s.n.fwd.get(ctx, leader)
	}
	return s.n.fwd.dialConn(ctx, leader)
}

// endBlockConn gives back the connection of a block that ended (the
// leader answered with status idle): to the pool when the leader ended
// the block's session, closed otherwise.
func (n *Node) endBlockConn(c *forwardConn) {
	if n.versions.state.Load().peer >= blockConnVersion {
		n.fwd.put(c.addr, c)
		return
	}
	c.Close()
}

// endRemote ends the relayed block after the leader said it ended: the
// heartbeat stops (and any ping in flight finishes) before the connection
// serves anything else.
func (s *session) endRemote() {
	r := s.remote
	s.remote = nil
	if r.stopBeat != nil {
		r.stopBeat()
	}
	r.mu.Lock()
	dead := r.dead
	r.mu.Unlock()
	if dead {
		r.conn.Close()
		return
	}
	s.n.endBlockConn(r.conn)
}

// remoteDescribe describes a statement of the relayed block on the leader,
// against the block's own state there. The level field carries the
// describeSuffix, which says that the statement is to be described, not
// run; a leader that predates it refuses the request as malformed rather
// than run the statement.
func (s *session) remoteDescribe(ctx context.Context, sql string) (pgwire.Description, error) {
	r := s.remote
	if r.conn == nil {
		// The block was given up (see remoteExec).
		return pgwire.Description{}, errInFailedTx
	}
	payload := appendString(nil, s.level+describeSuffix)
	payload = append(payload, command.Encode(&command.Command{
		Kind:       command.KindExecute,
		Statements: []command.Statement{{SQL: sql}},
	})...)
	r.mu.Lock()
	answer, err := s.n.fwd.roundTrip(ctx, r.conn, reqSession, s.who, payload)
	r.mu.Unlock()
	if err != nil {
		s.closeRemote()
		return pgwire.Description{}, errLeadershipLost
	}
	status, res, perr, err := decodeSessionAnswer(answer)
	if err != nil {
		s.closeRemote()
		return pgwire.Description{}, err
	}
	r.status = status
	if perr != nil {
		return pgwire.Description{}, perr
	}
	return pgwire.Description{Columns: res.Columns}, nil
}

// describeSuffix marks a relayed statement that is only to be described.
const describeSuffix = "/describe"

func (s *session) closeRemote() {
	if s.remote != nil {
		if s.remote.stopBeat != nil {
			s.remote.stopBeat()
		}
		if s.remote.conn != nil {
			s.remote.conn.Close()
		}
		s.remote = nil
	}
}

// serveSession runs one statement of a relayed block on this node (the
// leader), in the session bound to the side-channel connection, with the
// rights of the client the follower authenticated.
func (n *Node) serveSession(ctx context.Context, sess **session, env envelope) ([]byte, error) {
	level, rest, ok := readString(env.payload)
	level, describe := strings.CutSuffix(level, describeSuffix)
	cmd, err := command.Decode(rest)
	var begin *pgsql.Statement
	if err == nil && len(cmd.Statements) == 2 && *sess == nil && !describe {
		// A block's BEGIN and its first statement (relayBeginVersion).
		begin = pgsql.Verbatim(cmd.Statements[0].SQL)
		if c := txControlOf(begin); c.verb != txBegin || c.readOnly || len(cmd.Statements[0].Params) > 0 {
			begin = nil
		} else {
			cmd.Statements = cmd.Statements[1:]
		}
	}
	if !ok || err != nil || len(cmd.Statements) != 1 || !validLevel(level) {
		return encodeSessionAnswer('I', nil, &pgwire.Error{Code: "08P01", Message: "malformed relayed statement"}), nil
	}
	if *sess == nil {
		if !n.raft.IsLeader() {
			// The follower finds the leader again; a block relayed twice
			// would outlive the connection it depends on.
			return nil, n.notLeader()
		}
		*sess = n.newSession(env.ident)
		(*sess).relayed = true
	} else if (*sess).who != env.ident {
		return nil, &deniedError{msg: "permission denied: the identity changed within a relayed transaction block"}
	}
	s := *sess
	s.level = level
	st := cmd.Statements[0]
	params := make([]any, len(st.Params))
	for i, p := range st.Params {
		params[i] = p.Any()
	}
	var res *pgwire.Result
	if begin != nil {
		if _, err = s.Execute(ctx, begin, nil); err != nil || s.TxStatus() != 'T' {
			if err == nil {
				err = &pgwire.Error{Code: "08P01", Message: "the relayed BEGIN did not open a transaction block"}
			}
			var pe *pgwire.Error
			if !errors.As(err, &pe) {
				pe = &pgwire.Error{Code: "XX000", Message: err.Error()}
			}
			s.Close()
			*sess = nil
			return encodeSessionAnswer('I', nil, pe), nil
		}
	}
	if describe {
		var desc pgwire.Description
		// The follower sent SQLite's text, which the front end made.
		if desc, err = s.Describe(ctx, pgsql.Verbatim(st.SQL)); err == nil {
			res = &pgwire.Result{Columns: desc.Columns}
		}
	} else {
		res, err = s.Execute(ctx, pgsql.Verbatim(st.SQL), params)
	}
	var pe *pgwire.Error
	if err != nil && !errors.As(err, &pe) {
		pe = &pgwire.Error{Code: "XX000", Message: err.Error()}
	}
	status := s.TxStatus()
	if status == 'I' {
		// The block ended: so does its session, and the connection may
		// carry the follower's next block or other requests
		// (blockConnVersion).
		s.Close()
		*sess = nil
	}
	return encodeSessionAnswer(status, res, pe), nil
}

func encodeSessionAnswer(status byte, res *pgwire.Result, pe *pgwire.Error) []byte {
	b := []byte{status}
	if pe != nil {
		b = append(b, 1)
		// The object fields come after the five the first release sent,
		// which a follower of that release reads and stops at.
		for _, f := range []string{pe.Code, pe.Message, pe.Detail, pe.Hint, pe.Severity,
			pe.Schema, pe.Table, pe.Column, pe.Constraint} {
			b = appendString(b, f)
		}
		return b
	}
	b = append(b, 0)
	b = appendString(b, res.Tag)
	sr := command.StatementResult{RowsAffected: res.RowsAffected}
	for _, c := range res.Columns {
		sr.Columns = append(sr.Columns, command.Column{Name: c.Name, DeclType: c.DeclType})
	}
	if res.Columns != nil && sr.Columns == nil {
		sr.Columns = []command.Column{}
	}
	for _, row := range res.Rows {
		out := make([]command.Value, len(row))
		for i, v := range row {
			out[i], _ = command.FromAny(v)
		}
		sr.Rows = append(sr.Rows, out)
	}
	return append(b, command.EncodeResult(&command.Result{Statements: []command.StatementResult{sr}})...)
}

func decodeSessionAnswer(b []byte) (byte, *pgwire.Result, *pgwire.Error, error) {
	bad := fmt.Errorf("malformed answer from the leader")
	if len(b) < 2 {
		return 0, nil, nil, bad
	}
	status, kind, rest := b[0], b[1], b[2:]
	if kind == 1 {
		var f [9]string
		for i := range f {
			var ok bool
			if f[i], rest, ok = readString(rest); !ok {
				if i < 5 {
					return 0, nil, nil, bad
				}
				break // a leader of the first release sends five
			}
		}
		return status, nil, &pgwire.Error{Code: f[0], Message: f[1], Detail: f[2], Hint: f[3], Severity: f[4],
			Schema: f[5], Table: f[6], Column: f[7], Constraint: f[8]}, nil
	}
	tag, rest, ok := readString(rest)
	if !ok {
		return 0, nil, nil, bad
	}
	r, err := command.DecodeResult(rest)
	if err != nil || len(r.Statements) != 1 {
		return 0, nil, nil, bad
	}
	res, err := pgResult(r)
	if err != nil {
		return 0, nil, nil, err
	}
	res.Tag = tag
	return status, res, nil, nil
}
