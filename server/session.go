package server

import (
	"context"
	"errors"
	"fmt"
	"github.com/raftsql/raftsql/pgwire/pgsql"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/raftsql/raftsql/fsm"
	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/pgwire"
)

// settingReadConsistency is the session setting (and startup parameter) that
// chooses the read consistency level.
const settingReadConsistency = "raftsql.read_consistency"

// backend opens a session per Postgres connection.
type backend struct{ n *Node }

func (b backend) NewSession(ctx context.Context, params map[string]string) (pgwire.Session, error) {
	if b.n.ctx.Err() != nil {
		return nil, &pgwire.Error{Code: "57P01", Message: ErrNotReady.Error(), Severity: "FATAL"}
	}
	who, err := b.n.clientIdentity(ctx, params["user"])
	if err != nil {
		return nil, err
	}
	s := b.n.newSession(who)
	s.metered = b.n.metrics.connOpened()
	return s, nil
}

// clientIdentity is who a new Postgres connection runs as: the user that
// authenticated, with the password file's rights; every right when no
// password file is configured, or for a trusted connection from inside the
// process (Node.DB).
func (n *Node) clientIdentity(ctx context.Context, user string) (identity, error) {
	if !n.authOn() {
		return identity{kind: identClient, name: user, rights: RightsAdmin}, nil
	}
	authed, ok := pgwire.AuthenticatedUser(ctx)
	if !ok {
		return identity{kind: identClient, name: user, rights: RightsAdmin}, nil
	}
	u, ok := n.users[authed]
	if !ok || u.Rights < RightsRead {
		return identity{}, &pgwire.Error{Code: "28000", Severity: "FATAL", Message: fmt.Sprintf("user %q has no rights", authed)}
	}
	return identity{kind: identClient, name: authed, rights: u.Rights}, nil
}

func (n *Node) newSession(who identity) *session {
	return &session{
		n:           n,
		who:         who,
		level:       n.cfg.ReadConsistency,
		client:      rand.Uint64() | 1,
		idleTimeout: n.cfg.IdleInTransactionTimeout,
		lockTimeout: n.cfg.LockTimeout,
	}
}

// session is the state of one client connection.
type session struct {
	n   *Node
	who identity // the client, with its rights
	// relayed: the session runs a block a follower relays (remotetx.go);
	// it never relays again.
	relayed bool
	level   string
	client  uint64 // request ids of this session: (client, seq)
	seq     uint64

	// driverClient and pendingSeq identify the next write when the
	// client names its writes itself (raftsql.client_id at startup, then
	// SET raftsql.request_seq before a write), so that a retry of it after
	// a reconnect is applied once.
	driverClient uint64
	pendingSeq   uint64
	// minReadIndex makes reads wait until this node has applied that log
	// index (SET raftsql.min_read_index): read-your-writes on any node.
	minReadIndex uint64
	// maxStaleness bounds how long ago a follower serving a read at
	// consistency none may last have heard from the leader; 0: no bound.
	maxStaleness time.Duration

	// writeIndex is the log index of the session's last write, and
	// reported/reportedLeader what ReportStatus last sent.
	writeIndex     uint64
	reportedIndex  uint64
	reportedLeader string

	// missingTables are the tables the committed schema lacked, by the
	// schema generation (plus one) it lacked them at (resulttypes.go).
	missingTables map[string]uint64

	tx          *txn          // open transaction block on this node
	locks       *sessionLocks // advisory locks held (advisory.go), nil if none
	remote      *remoteTx     // open transaction block relayed to the leader
	idleTimeout time.Duration
	// lockTimeout bounds a wait for the write lock (SET lock_timeout,
	// at most the node's LockTimeout); statementTimeout, when not zero,
	// bounds each statement (SET statement_timeout).
	lockTimeout      time.Duration
	statementTimeout time.Duration

	// For metrics.go: metered says the session counts as a client
	// connection; kind is what execute learned of the running statement;
	// txStart is when the open transaction block began.
	metered bool
	kind    string
	txStart time.Time
	// outer is the context pgwire gave the statement running, and
	// deadline and cancelStmt those of its statement_timeout, which a
	// streamed result takes over (rowStream).
	outer      context.Context
	deadline   time.Time
	cancelStmt context.CancelFunc
}

// errStatementTimeout is the cause of a statement's context that reached
// statement_timeout.
var errStatementTimeout = errors.New("statement timeout")

func (s *session) nextRequestID() command.RequestID {
	if s.driverClient != 0 && s.pendingSeq != 0 {
		id := command.RequestID{Client: s.driverClient, Seq: s.pendingSeq}
		s.pendingSeq = 0
		return id
	}
	s.seq++
	return command.RequestID{Client: s.client, Seq: s.seq}
}

func (s *session) Describe(ctx context.Context, st *pgsql.Statement) (pgwire.Description, error) {
	sql := st.SQLite(s.who.name)
	if len(st.Advisory) > 0 {
		return pgwire.Description{Columns: advisoryColumns(st.Advisory)}, nil
	}
	if s.remote != nil && s.remote.begin != nil {
		// A statement is described against the block's state: the
		// block must exist first, here or on the leader.
		if err := s.openPendingAlone(ctx); err != nil {
			return pgwire.Description{}, err
		}
	}
	switch {
	case s.remote != nil:
		return s.remoteDescribe(ctx, sql)
	case s.tx != nil:
		return s.txDescribeStatement(ctx, txControlOf(st), sql)
	}
	info, err := s.describe(ctx, sql)
	if err != nil {
		return pgwire.Description{}, pgError(err)
	}
	return pgwire.Description{Columns: pgColumns(info.Columns)}, nil
}

// classify asks SQLite what sql is. A statement may name a table this node
// has not applied yet; when preparing it fails for a reason other than its
// text, the node catches up with the leader and asks again, so the answer is
// the one the leader's state gives.
func (s *session) classify(ctx context.Context, sql string) (fsm.Info, error) {
	info, err := s.n.fsm.Classify(ctx, sql)
	if err == nil || refused(err) || syntaxError(err) {
		return info, err
	}
	if berr := s.n.readBarrier(ctx); berr != nil {
		if s.level == ReadNone {
			// The session reads this node's copy as it is, and it has
			// no such thing.
			return info, err
		}
		// Whether the statement is right depends on writes this node
		// could not catch up with: say that, not what its stale copy
		// says (a node that restarted has no tables for a moment).
		return info, berr
	}
	return s.n.fsm.Classify(ctx, sql)
}

// describe is classify through a cache: what a statement text is stays true
// while the schema does not change. The cache is bounded and starts over
// when full.
func (s *session) describe(ctx context.Context, sql string) (fsm.Info, error) {
	n := s.n
	gen := n.fsm.SchemaGeneration()
	n.infoMu.RLock()
	c, ok := n.infos[sql]
	n.infoMu.RUnlock()
	if ok && c.gen == gen {
		return c.info, nil
	}
	info, err := s.classify(ctx, sql)
	if err != nil || len(sql) > maxCachedInfoSQL {
		return info, err
	}
	n.infoMu.Lock()
	if len(n.infos) >= maxInfos {
		clear(n.infos)
	}
	n.infos[sql] = cachedInfo{gen: gen, info: info}
	n.infoMu.Unlock()
	return info, nil
}

// readOnly reports whether sql only reads.
func (s *session) readOnly(ctx context.Context, sql string) (bool, error) {
	info, err := s.describe(ctx, sql)
	return info.ReadOnly, err
}

// cachedInfo is a statement's description at a schema generation.
type cachedInfo struct {
	gen  uint64
	info fsm.Info
}

// maxInfos bounds the cache of statement descriptions, and
// maxCachedInfoSQL the text of a statement it keeps: a statement holding a
// large literal is described again rather than kept in memory.
const (
	maxInfos         = 4096
	maxCachedInfoSQL = 64 << 10
)

// Execute runs one statement within the session's statement_timeout: a
// statement that reaches it fails with 57014, except one already handed to
// Raft, which cannot be withdrawn and waits for its outcome.
func (s *session) Execute(ctx context.Context, st *pgsql.Statement, params []any) (res *pgwire.Result, err error) {
	sql, c := st.SQLite(s.who.name), txControlOf(st)
	defer func(start time.Time) { s.observe(sql, c, start, res, err) }(time.Now())
	defer func() {
		if err != nil {
			err = s.named(ctx, st, params, err)
		}
	}()
	s.outer, s.deadline, s.cancelStmt = ctx, time.Time{}, nil
	if s.statementTimeout <= 0 {
		return s.execute(ctx, st, sql, c, params)
	}
	deadline := time.Now().Add(s.statementTimeout)
	ctx, cancel := context.WithDeadlineCause(ctx, deadline, errStatementTimeout)
	s.deadline, s.cancelStmt = deadline, cancel
	defer func() {
		// A streamed result takes the timeout's context over.
		if s.cancelStmt != nil {
			s.cancelStmt()
		}
		s.outer, s.cancelStmt = nil, nil
	}()
	res, err = s.execute(ctx, st, sql, c, params)
	// A connection's deadline, set to the context's, may fire a moment
	// before the context ends: the clock decides.
	over := context.Cause(ctx) == errStatementTimeout || (ctx.Err() == nil && !time.Now().Before(deadline))
	if err != nil && over && timedOut(err) {
		return nil, &pgwire.Error{Code: "57014", Message: "canceling statement due to statement timeout",
			Detail: fmt.Sprintf("statement_timeout is %v", s.statementTimeout)}
	}
	return res, err
}

// timedOut reports whether err is what a statement whose context ended
// returns: not a definite answer of its own, and not an unknown outcome.
func timedOut(err error) bool {
	var pe *pgwire.Error
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57014", "57P03", "55P03", "XX000":
			return true
		}
		return false
	}
	return !errors.Is(err, ErrOutcomeUnknown)
}

// execute runs st, whose SQLite text is sql and transaction control c.
func (s *session) execute(ctx context.Context, st *pgsql.Statement, sql string, c txControl, params []any) (*pgwire.Result, error) {
	if s.locks != nil && s.locks.isLost() {
		return nil, s.reportLostLocks()
	}
	if len(st.Advisory) > 0 {
		return s.advisoryExecute(ctx, st.Advisory, params)
	}
	if s.locks != nil && len(s.locks.xact) > 0 {
		switch c.verb {
		case txCommit, txRollback:
			// The block's transaction-level advisory locks end with it,
			// whatever its end gives.
			defer s.endXactLocks(ctx)
		}
	}
	stmt := command.Statement{SQL: sql}
	for i, p := range params {
		v, err := command.FromAny(p)
		if err != nil {
			return nil, &pgwire.Error{Code: "22023", Message: fmt.Sprintf("parameter $%d: %v", i+1, err)}
		}
		stmt.Params = append(stmt.Params, v)
	}
	if s.remote != nil && s.remote.begin != nil {
		// The block's BEGIN has not gone to the leader yet: it goes
		// with this statement, or the block starts here.
		if res, err, done := s.openPending(ctx, sql, c, stmt.Params); done {
			return res, err
		}
	}
	if s.remote != nil {
		return s.remoteExec(ctx, sql, c, stmt.Params)
	}
	if c.bad != "" {
		return nil, &pgwire.Error{Code: "0A000", Message: c.bad}
	}
	switch c.verb {
	case txBegin:
		if s.tx != nil {
			return &pgwire.Result{Tag: "BEGIN"}, nil // Postgres warns and goes on
		}
		if !c.readOnly && !s.relayed && !s.n.raft.IsLeader() {
			if s.deferBegin(c) {
				s.remote = &remoteTx{status: 'T', begin: &pendingBegin{sql: sql, c: c}}
				return &pgwire.Result{Tag: "BEGIN"}, nil
			}
			if res, err := s.beginRemote(ctx, sql); res != nil || err != nil {
				return res, err
			}
		}
		return s.beginTx(c)
	case txCommit:
		if s.tx == nil {
			return &pgwire.Result{Tag: "COMMIT"}, nil
		}
		return s.commitTx(ctx)
	case txRollback:
		if s.tx == nil {
			return &pgwire.Result{Tag: "ROLLBACK"}, nil
		}
		return s.rollbackTx()
	case txSavepoint, txRelease, txRollbackTo:
		if s.tx == nil {
			return nil, &pgwire.Error{Code: "25P01", Message: "SAVEPOINT can only be used in transaction blocks"}
		}
	}
	if s.tx != nil {
		return s.txStatement(ctx, c, stmt)
	}
	stmts := []command.Statement{stmt}

	ro, err := s.readOnly(ctx, sql)
	if err != nil {
		return nil, pgError(err)
	}
	var res *command.Result
	s.kind = kindOf(ro)
	if ro {
		if wait := s.readAfter(); wait > 0 {
			if err := s.n.waitIndex(ctx, wait); err != nil {
				return nil, pgError(err)
			}
		}
		if s.level == ReadNone && s.maxStaleness > 0 && !s.n.raft.IsLeader() {
			if since := time.Since(s.n.raft.LastContact()); since > s.maxStaleness {
				return nil, &pgwire.Error{Code: StateNoLeader, Message: fmt.Sprintf("this node last heard from the leader %v ago, more than raftsql.max_staleness (%v)", since.Round(time.Millisecond), s.maxStaleness),
					Hint: "read from another node, or at a stronger consistency"}
			}
		}
		var rows *fsm.Rows
		rows, res, err = s.n.queryRows(ctx, s.who, stmt, s.level)
		if rows != nil {
			st := newRowStream(rows, s.statementTimeout, s.outer, ctx, s.deadline, s.cancelStmt)
			s.cancelStmt = nil
			return &pgwire.Result{Columns: pgColumns(rows.Columns()), Stream: st}, nil
		}
	} else {
		var idx uint64
		res, idx, err = s.n.execute(ctx, s.who, stmts, s.nextRequestID(), s.lockTimeout)
		s.writeIndex = max(s.writeIndex, idx)
	}
	if err != nil {
		return nil, pgError(err)
	}
	return pgResult(res)
}

// readAfter is the log index this node must have applied before the
// session reads here: the client's token (raftsql.min_read_index) and the
// session's own last write, so that a session reads its writes on any node.
// A linearizable read waits for its read index, which covers the write; a
// strong read is itself an entry after it; a weak read on a follower is the
// leader's, which applied the write before acknowledging it.
func (s *session) readAfter() uint64 {
	wait := s.minReadIndex
	if s.level == ReadNone || (s.level == ReadWeak && s.n.raft.IsLeader()) {
		wait = max(wait, s.writeIndex)
	}
	return wait
}

func (s *session) Set(name, value string) error {
	switch strings.ToLower(name) {
	case settingReadConsistency:
		if value == "" {
			s.level = s.n.cfg.ReadConsistency
			return nil
		}
		v := strings.ToLower(strings.TrimSpace(value))
		if !validLevel(v) {
			return &pgwire.Error{Code: "22023", Message: fmt.Sprintf("invalid value for %s: %q", settingReadConsistency, value),
				Hint: "use linearizable, strong, weak or none"}
		}
		s.level = v
	case "raftsql.client_id":
		id, err := strconv.ParseUint(strings.TrimSpace(value), 10, 64)
		if value != "" && (err != nil || id == 0) {
			return &pgwire.Error{Code: "22023", Message: fmt.Sprintf("invalid raftsql.client_id %q: want a non-zero integer", value)}
		}
		s.driverClient = id
	case "raftsql.request_seq":
		seq, err := strconv.ParseUint(strings.TrimSpace(value), 10, 64)
		if value != "" && err != nil {
			return &pgwire.Error{Code: "22023", Message: fmt.Sprintf("invalid raftsql.request_seq %q", value)}
		}
		s.pendingSeq = seq
	case "raftsql.min_read_index":
		idx, err := strconv.ParseUint(strings.TrimSpace(value), 10, 64)
		if value != "" && err != nil {
			return &pgwire.Error{Code: "22023", Message: fmt.Sprintf("invalid raftsql.min_read_index %q", value)}
		}
		s.minReadIndex = idx
	case "raftsql.max_staleness":
		d, err := parseMillis(value)
		if err != nil || d < 0 {
			return &pgwire.Error{Code: "22023", Message: fmt.Sprintf("invalid raftsql.max_staleness %q: want a duration such as 500ms", value)}
		}
		s.maxStaleness = d
	case "idle_in_transaction_session_timeout":
		d, err := parseMillis(value)
		if err != nil {
			return &pgwire.Error{Code: "22023", Message: fmt.Sprintf("invalid idle_in_transaction_session_timeout %q", value)}
		}
		// 0 turns the timeout off in Postgres; here a transaction may hold
		// the cluster's write lock, so the node's bound stays.
		if d <= 0 || d > s.n.cfg.IdleInTransactionTimeout {
			d = s.n.cfg.IdleInTransactionTimeout
		}
		s.idleTimeout = d
	case "lock_timeout":
		d, err := parseMillis(value)
		if err != nil || d < 0 {
			return &pgwire.Error{Code: "22023", Message: fmt.Sprintf("invalid lock_timeout %q", value)}
		}
		// 0 waits for ever in Postgres; here the node's bound stays.
		if d == 0 || d > s.n.cfg.LockTimeout {
			d = s.n.cfg.LockTimeout
		}
		s.lockTimeout = d
	case "statement_timeout":
		d, err := parseMillis(value)
		if err != nil || d < 0 {
			return &pgwire.Error{Code: "22023", Message: fmt.Sprintf("invalid statement_timeout %q", value)}
		}
		s.statementTimeout = d
	}
	return nil
}

// parseMillis reads a Postgres time setting: a number of milliseconds or a
// number with a unit (ms, s, min, h).
func parseMillis(v string) (time.Duration, error) {
	v = strings.Trim(strings.TrimSpace(v), "'")
	if v == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(n) * time.Millisecond, nil
	}
	v = strings.ReplaceAll(v, " ", "")
	v = strings.TrimSuffix(v, "in") // "min" -> "m"
	return time.ParseDuration(v)
}

func (s *session) Show(name string) (string, bool) {
	if strings.EqualFold(name, settingReadConsistency) {
		return s.level, true
	}
	return "", false
}

func (s *session) TxStatus() byte {
	switch {
	case s.remote != nil:
		return s.remote.status
	case s.tx == nil:
		return 'I'
	}
	s.tx.mu.Lock()
	defer s.tx.mu.Unlock()
	if s.tx.failed || s.tx.aborted != nil {
		return 'E'
	}
	return 'T'
}

// ReportStatus sends the client the leader's Postgres address, so that a
// cluster-aware client can send writes there directly, and the index of the
// session's last write, which it can ask any node to have applied before a
// read (SET raftsql.min_read_index).
func (s *session) ReportStatus(report func(name, value string)) {
	if addr := s.n.leaderPGAddr(); addr != "" && addr != s.reportedLeader {
		s.reportedLeader = addr
		report("raftsql.leader_pg_addr", addr)
	}
	if s.writeIndex > s.reportedIndex {
		s.reportedIndex = s.writeIndex
		report("raftsql.write_index", strconv.FormatUint(s.writeIndex, 10))
	}
}

// Close ends the session; an open transaction block is rolled back.
func (s *session) Close() {
	if s.metered {
		s.metered = false
		s.n.metrics.connClosed()
	}
	s.closeRemote()
	if s.tx != nil {
		s.rollbackTx()
	}
	s.closeLocks()
}

func refused(err error) bool {
	var ce *command.Error
	return errors.As(err, &ce) && ce.Code == command.CodeRefused
}

func syntaxError(err error) bool {
	var ce *command.Error
	return errors.As(err, &ce) && ce.Code&0xff == sqliteError && generalState(ce.Message) == "42601"
}

func pgColumns(cols []command.Column) []pgwire.Column {
	if cols == nil {
		return nil
	}
	out := make([]pgwire.Column, len(cols))
	for i, c := range cols {
		out[i] = pgwire.Column{Name: c.Name, DeclType: c.DeclType}
	}
	return out
}

// pgResult converts the result of a one-statement command.
func pgResult(res *command.Result) (*pgwire.Result, error) {
	if err := res.Err(); err != nil {
		return nil, pgError(err)
	}
	if len(res.Statements) == 0 {
		return &pgwire.Result{}, nil
	}
	sr := res.Statements[len(res.Statements)-1]
	out := &pgwire.Result{Columns: pgColumns(sr.Columns), RowsAffected: sr.RowsAffected}
	if len(sr.Rows) > 0 {
		out.Rows = make([][]any, len(sr.Rows))
		for i, row := range sr.Rows {
			r := make([]any, len(row))
			for j, v := range row {
				r[j] = v.Any()
			}
			out.Rows[i] = r
		}
	}
	return out, nil
}
