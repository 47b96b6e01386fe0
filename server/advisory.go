package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/raftsql/raftsql/pgwire"
	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// Advisory locks (pg_advisory_lock and its siblings) exclude each other
// across the whole cluster: the leader owns the one lock table, keyed by
// session. A session on the leader takes its locks there directly; a
// session on a follower takes them over a side-channel connection of its
// own to the leader (reqAdvisory), which stands for the session there: when
// it closes — the session ended, the follower went away — the leader
// releases what it held. While it holds locks the follower pings on it, and
// a connection silent for longer than advisoryLease (a follower cut off by
// a partition) is dropped by the leader, which releases its locks.
//
// The table lives in the leader's memory, not in the log, as Postgres keeps
// it in shared memory: when the leader changes the locks are lost, as
// Postgres loses them on a crash. Their holders are told so on their next
// statement, with a FATAL error that ends the connection as Postgres ends
// every session when it restarts; a holder that could not tell it lost its
// lock would go on believing it excludes the others.
//
// Transaction-level locks (pg_advisory_xact_lock) are held until the
// session's transaction block ends; outside one, until the statement ends,
// so they only wait.
//
// The front end recognises the statements by their shape, SELECT of these
// functions alone with integer literals or $n parameters as arguments,
// which is what migration tools and frameworks send (golang-migrate,
// goose, Rails, Flyway), and reports the calls as Statement.Advisory.

// advisoryPing is how often a follower session holding locks tells the
// leader it is alive, and advisoryLease how long the leader waits for a
// sign of life before it releases them. Variables only so that a test can
// shorten them (export_test.go); nothing else changes them.
var (
	advisoryPing  = 2 * time.Second
	advisoryLease = 10 * time.Second
)

// reqAdvisory ops.
const (
	advLock      byte = 1 // flags, key; answer: 1 granted, 0 not
	advUnlock    byte = 2 // flags, key; answer: 1 was held, 0 not
	advUnlockAll byte = 3 // answer: empty
	advPing      byte = 4 // answer: u64 the leader's term
	advCount     byte = 5 // answer: u64 holdings of the session
)

// Flags of a lock or unlock request.
const (
	advShared byte = 1 << 0
	advWait   byte = 1 << 1
)

// advisoryKey is a lock's key: Postgres keeps the one-bigint and the
// two-int4 forms apart.
type advisoryKey struct {
	pair bool
	key  int64
}

// advisoryMode is a key and a lock mode, what an owner counts holdings of.
type advisoryMode struct {
	advisoryKey
	shared bool
}

// errAdvisoryLost is told to a session whose locks were lost.
var errAdvisoryLost = &pgwire.Error{Code: "57P02", Severity: "FATAL",
	Message: "terminating connection: the cluster's leader changed, and with it the advisory locks this session held are lost",
	Hint:    "reconnect and take the locks again, as after a Postgres restart"}

// advisoryTable is the leader's lock table.
type advisoryTable struct {
	mu      sync.Mutex
	locks   map[advisoryKey]*advisoryLock
	owners  map[uint64]*advisoryOwner
	nextID  uint64
	changed chan struct{} // closed and replaced when a lock is released
}

type advisoryLock struct {
	excl      uint64 // owner holding it exclusively, 0 if none
	exclCount int
	shared    map[uint64]int // owner -> count
}

// advisoryOwner is a session holding locks in the table, or one whose
// holdings were lost (then gone from owners).
type advisoryOwner struct {
	id   uint64
	held map[advisoryMode]int
	lost bool
	// onLost, called outside the table's lock, tells the holder.
	onLost func()
}

func newAdvisoryTable() *advisoryTable {
	return &advisoryTable{locks: map[advisoryKey]*advisoryLock{}, owners: map[uint64]*advisoryOwner{}, changed: make(chan struct{})}
}

// newOwner registers a holder.
func (t *advisoryTable) newOwner(onLost func()) *advisoryOwner {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.nextID++
	o := &advisoryOwner{id: t.nextID, held: map[advisoryMode]int{}, onLost: onLost}
	t.owners[o.id] = o
	return o
}

// grantable reports whether o may take k in the mode: nobody else holds it
// exclusively, and, for an exclusive lock, nobody else holds it shared.
func (l *advisoryLock) grantable(o uint64, shared bool) bool {
	if l.excl != 0 && l.excl != o {
		return false
	}
	if shared {
		return true
	}
	for owner := range l.shared {
		if owner != o {
			return false
		}
	}
	return true
}

// acquire takes k for o, waiting while it is held when wait is set, until
// ctx ends. It reports whether o got it.
func (t *advisoryTable) acquire(ctx context.Context, o *advisoryOwner, k advisoryKey, shared, wait bool) (bool, error) {
	for {
		t.mu.Lock()
		if o.lost {
			t.mu.Unlock()
			return false, errAdvisoryLost
		}
		l := t.locks[k]
		if l == nil {
			l = &advisoryLock{shared: map[uint64]int{}}
			t.locks[k] = l
		}
		if l.grantable(o.id, shared) {
			if shared {
				l.shared[o.id]++
			} else {
				l.excl = o.id
				l.exclCount++
			}
			o.held[advisoryMode{k, shared}]++
			t.mu.Unlock()
			return true, nil
		}
		changed := t.changed
		t.mu.Unlock()
		if !wait {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-changed:
		}
	}
}

// release gives up one holding of k by o, reporting whether it had one.
func (t *advisoryTable) release(o *advisoryOwner, k advisoryKey, shared bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := advisoryMode{k, shared}
	if o.lost || o.held[m] == 0 {
		return false
	}
	t.dropLocked(o, m, 1)
	return true
}

// dropLocked gives up n holdings of m by o.
func (t *advisoryTable) dropLocked(o *advisoryOwner, m advisoryMode, n int) {
	if o.held[m] -= n; o.held[m] <= 0 {
		delete(o.held, m)
	}
	l := t.locks[m.advisoryKey]
	if l == nil {
		return
	}
	if m.shared {
		if l.shared[o.id] -= n; l.shared[o.id] <= 0 {
			delete(l.shared, o.id)
		}
	} else if l.excl == o.id {
		if l.exclCount -= n; l.exclCount <= 0 {
			l.excl, l.exclCount = 0, 0
		}
	}
	if l.excl == 0 && len(l.shared) == 0 {
		delete(t.locks, m.advisoryKey)
	}
	close(t.changed)
	t.changed = make(chan struct{})
}

// releaseAll gives up everything o holds; with forget, o leaves the table.
func (t *advisoryTable) releaseAll(o *advisoryOwner, forget bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for m, n := range o.held {
		t.dropLocked(o, m, n)
	}
	if forget {
		delete(t.owners, o.id)
	}
}

// holds reports how many holdings o has.
func (t *advisoryTable) holds(o *advisoryOwner) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range o.held {
		n += c
	}
	return n
}

// loseAll empties the table when the node stops leading: every owner is
// told, and waiters wake to find themselves lost.
func (t *advisoryTable) loseAll() {
	t.mu.Lock()
	owners := t.owners
	t.owners = map[uint64]*advisoryOwner{}
	t.locks = map[advisoryKey]*advisoryLock{}
	for _, o := range owners {
		o.lost = true
	}
	close(t.changed)
	t.changed = make(chan struct{})
	t.mu.Unlock()
	for _, o := range owners {
		if o.onLost != nil {
			o.onLost()
		}
	}
}

// watchAdvisory empties the lock table whenever this node stops leading.
func (n *Node) watchAdvisory() {
	changes := n.raft.LeaderChanges()
	for {
		select {
		case <-n.ctx.Done():
			n.advisory.loseAll()
			return
		case leader, ok := <-changes:
			if !ok {
				n.advisory.loseAll()
				return
			}
			if !leader {
				n.advisory.loseAll()
			}
		}
	}
}

// advisoryKeyOf evaluates a call's key with the statement's parameters.
func advisoryKeyOf(c pgsql.AdvisoryCall, params []any) (advisoryKey, *pgwire.Error) {
	vals := make([]int64, len(c.Args))
	for i, a := range c.Args {
		v := a.Value
		if a.Param > 0 {
			if a.Param > len(params) {
				return advisoryKey{}, &pgwire.Error{Code: "08P01", Message: fmt.Sprintf("there is no parameter $%d", a.Param)}
			}
			var ok bool
			if v, ok = integerParam(params[a.Param-1]); !ok {
				return advisoryKey{}, &pgwire.Error{Code: "22P02", Message: fmt.Sprintf("invalid input syntax for type bigint: %v", params[a.Param-1])}
			}
		}
		vals[i] = v
	}
	switch len(vals) {
	case 0: // pg_advisory_unlock_all names no key
		return advisoryKey{}, nil
	case 1:
		return advisoryKey{key: vals[0]}, nil
	}
	for _, v := range vals {
		if v < math.MinInt32 || v > math.MaxInt32 {
			return advisoryKey{}, &pgwire.Error{Code: "22003", Message: "integer out of range"}
		}
	}
	return advisoryKey{pair: true, key: vals[0]<<32 | int64(uint32(vals[1]))}, nil
}

func integerParam(p any) (int64, bool) {
	switch v := p.(type) {
	case int64:
		return v, true
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<63 {
			return int64(v), true
		}
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return n, err == nil
	case []byte:
		n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// advisoryColumns is the result shape of a SELECT of advisory lock calls.
func advisoryColumns(calls []pgsql.AdvisoryCall) []pgwire.Column {
	cols := make([]pgwire.Column, len(calls))
	for i, c := range calls {
		cols[i] = pgwire.Column{Name: c.Column, DeclType: "VOID"}
		if c.ReturnsBool() {
			cols[i].DeclType = "BOOLEAN"
		}
	}
	return cols
}

// sessionLocks is what a session holds in the leader's table: through its
// owner there when it took them on the leader, or through conn, its
// connection to the leader, when it took them on a follower.
type sessionLocks struct {
	owner *advisoryOwner // locks taken on this node, the leader
	table *advisoryTable

	mu   sync.Mutex // one request at a time on conn
	conn *forwardConn
	stop chan struct{} // ends the pinger
	done chan struct{}

	lostMu sync.Mutex
	lost   bool
	// term is the leader's term when the locks were first taken: once
	// this node knows of a later one, the leader changed, and the
	// table with it, whether or not the news has come any other way.
	term uint64
	n    *Node

	// xact are the transaction-level holdings to release when the
	// session's transaction block ends.
	xact []advisoryMode
}

func (l *sessionLocks) markLost() {
	l.lostMu.Lock()
	l.lost = true
	l.lostMu.Unlock()
}

func (l *sessionLocks) isLost() bool {
	l.lostMu.Lock()
	defer l.lostMu.Unlock()
	if !l.lost && l.n.raft.Term() > l.term {
		l.lost = true
	}
	return l.lost
}

// advisoryExecute runs a SELECT of advisory lock calls for the session,
// one call after the other, as Postgres evaluates a select list. The
// transaction-level locks a statement outside a transaction block takes
// are held until its last call has run.
func (s *session) advisoryExecute(ctx context.Context, calls []pgsql.AdvisoryCall, params []any) (*pgwire.Result, error) {
	if s.TxStatus() == 'E' {
		return nil, errInFailedTx
	}
	keys := make([]advisoryKey, len(calls))
	for i, c := range calls {
		if c.Op != pgsql.AdvisoryUnlockAll {
			var e *pgwire.Error
			if keys[i], e = advisoryKeyOf(c, params); e != nil {
				return nil, e
			}
		}
	}
	inBlock := s.tx != nil || s.remote != nil
	var stmtLocks []advisoryMode // xact locks to release when the statement ends
	release := func() error {
		var first error
		for _, m := range stmtLocks {
			if _, err := s.locks.unlock(ctx, s, m.advisoryKey, m.shared); err != nil && first == nil {
				first = err
			}
		}
		stmtLocks = nil
		return first
	}
	row := make([]any, len(calls))
	for i, c := range calls {
		if s.locks == nil {
			if c.Op != pgsql.AdvisoryLock {
				// Nothing is held: an unlock finds nothing, as in
				// Postgres, which warns.
				row[i] = advisoryValue(c, false)
				continue
			}
			if err := s.openLocks(ctx); err != nil {
				return nil, err
			}
		}
		var ok bool
		var err error
		k := keys[i]
		switch c.Op {
		case pgsql.AdvisoryLock:
			ok, err = s.locks.lock(ctx, s, k, c.Shared, c.Wait)
			if err == nil && ok && c.Xact {
				if inBlock {
					s.locks.xact = append(s.locks.xact, advisoryMode{k, c.Shared})
				} else {
					stmtLocks = append(stmtLocks, advisoryMode{k, c.Shared})
				}
			}
		case pgsql.AdvisoryUnlock:
			ok, err = s.locks.unlock(ctx, s, k, c.Shared)
		case pgsql.AdvisoryUnlockAll:
			err = s.locks.unlockAll(ctx, s)
		}
		if err != nil {
			release()
			return nil, s.advisoryError(err)
		}
		row[i] = advisoryValue(c, ok)
	}
	if s.locks != nil {
		// The statement's own transaction ends here.
		if err := release(); err != nil {
			return nil, s.advisoryError(err)
		}
		s.closeLocksIfIdle()
	}
	return &pgwire.Result{Columns: advisoryColumns(calls), Rows: [][]any{row}, Tag: "SELECT 1"}, nil
}

// advisoryValue is a call's result: whether it got or released the lock,
// or void.
func advisoryValue(c pgsql.AdvisoryCall, ok bool) any {
	if c.ReturnsBool() {
		return ok
	}
	return ""
}

// advisoryError is what a failed lock request tells the client.
func (s *session) advisoryError(err error) error {
	var pe *pgwire.Error
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.Is(err, context.Canceled):
		return &pgwire.Error{Code: "57014", Message: "canceling statement due to user request"}
	case expired(err):
		return &pgwire.Error{Code: "57014", Message: "canceling statement due to statement timeout"}
	}
	// The connection to the leader broke: whatever it held is gone there.
	s.locks.markLost()
	return s.reportLostLocks()
}

// reportLostLocks ends a session whose locks were lost: it forgets them and
// fails with errAdvisoryLost.
func (s *session) reportLostLocks() error {
	s.closeLocks()
	return errAdvisoryLost
}

// openLocks chooses where the session's locks live: here when this node
// leads, else on a connection of their own to the leader.
func (s *session) openLocks(ctx context.Context) error {
	n := s.n
	var l *sessionLocks
	_, err := n.onLeader(ctx, true,
		func(context.Context) error {
			l = &sessionLocks{table: n.advisory, n: n, term: n.raft.Term()}
			l.owner = n.advisory.newOwner(l.markLost)
			return nil
		},
		func(ctx context.Context, leader string) error {
			c, err := n.fwd.dialConn(ctx, leader)
			if err != nil {
				return fmt.Errorf("%w: dial %s: %v", errSendFailed, leader, err)
			}
			l = &sessionLocks{conn: c, n: n}
			// The leader may have just lost its post: a ping says, and
			// names its term.
			answer, err := l.call(ctx, s, advPing, 0, advisoryKey{})
			if err != nil {
				c.Close()
				return err
			}
			if len(answer) != 8 {
				c.Close()
				return errors.New("malformed advisory lock answer from the leader")
			}
			l.term = binary.BigEndian.Uint64(answer)
			l.stop, l.done = make(chan struct{}), make(chan struct{})
			go l.ping(s)
			return nil
		})
	if err != nil {
		return pgError(n.translate(err))
	}
	s.locks = l
	return nil
}

// appendAdvisoryRequest is the payload of a reqAdvisory request:
// op | flags | 0, or 1 for a two-key lock | u64 key.
func appendAdvisoryRequest(b []byte, op, flags byte, k advisoryKey) []byte {
	b = append(b, op, flags, boolByte(k.pair))
	return binary.BigEndian.AppendUint64(b, uint64(k.key))
}

// decodeAdvisoryRequest reads what appendAdvisoryRequest wrote.
func decodeAdvisoryRequest(p []byte) (op, flags byte, k advisoryKey, err error) {
	if len(p) != 11 || p[2] > 1 || p[0] < advLock || p[0] > advCount || p[1]&^(advShared|advWait) != 0 {
		return 0, 0, k, errors.New("malformed advisory lock request")
	}
	return p[0], p[1], advisoryKey{pair: p[2] == 1, key: int64(binary.BigEndian.Uint64(p[3:]))}, nil
}

// call sends one request on the locks' connection.
func (l *sessionLocks) call(ctx context.Context, s *session, op, flags byte, k advisoryKey) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return nil, errAdvisoryLost
	}
	payload := appendAdvisoryRequest(nil, op, flags, k)
	answer, err := s.n.fwd.roundTrip(ctx, l.conn, reqAdvisory, s.who, payload)
	if err != nil {
		var re *remoteError
		if !errors.As(err, &re) || re.kind == errKindNotLeader || re.kind == errKindUnavailable {
			// The conversation is broken (roundTrip closed the
			// connection), or the leader lost its table: the locks
			// are gone with it. A wait the client gave up on ends
			// here too, since only closing the connection stops it.
			l.conn.Close()
			l.conn = nil
			l.markLost()
		}
		return nil, err
	}
	return answer, nil
}

// ping keeps the leader's lease on the session's locks.
func (l *sessionLocks) ping(s *session) {
	defer close(l.done)
	t := time.NewTicker(advisoryPing)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), advisoryLease/2)
			_, err := l.call(ctx, s, advPing, 0, advisoryKey{})
			cancel()
			if err != nil {
				l.markLost()
				return
			}
		}
	}
}

func (l *sessionLocks) lock(ctx context.Context, s *session, k advisoryKey, shared, wait bool) (bool, error) {
	if l.isLost() {
		return false, errAdvisoryLost
	}
	if l.owner != nil {
		return l.table.acquire(ctx, l.owner, k, shared, wait)
	}
	var flags byte
	if shared {
		flags |= advShared
	}
	if wait {
		flags |= advWait
	}
	answer, err := l.call(ctx, s, advLock, flags, k)
	if err != nil {
		return false, err
	}
	return len(answer) == 1 && answer[0] == 1, nil
}

func (l *sessionLocks) unlock(ctx context.Context, s *session, k advisoryKey, shared bool) (bool, error) {
	if l.isLost() {
		return false, errAdvisoryLost
	}
	if l.owner != nil {
		return l.table.release(l.owner, k, shared), nil
	}
	var flags byte
	if shared {
		flags |= advShared
	}
	answer, err := l.call(ctx, s, advUnlock, flags, k)
	if err != nil {
		return false, err
	}
	return len(answer) == 1 && answer[0] == 1, nil
}

func (l *sessionLocks) unlockAll(ctx context.Context, s *session) error {
	if l.isLost() {
		return errAdvisoryLost
	}
	l.xact = nil
	if l.owner != nil {
		l.table.releaseAll(l.owner, false)
		return nil
	}
	_, err := l.call(ctx, s, advUnlockAll, 0, advisoryKey{})
	return err
}

// held reports how many holdings the session has, as far as it knows.
func (l *sessionLocks) held(ctx context.Context, s *session) int {
	if l.owner != nil {
		return l.table.holds(l.owner)
	}
	answer, err := l.call(ctx, s, advCount, 0, advisoryKey{})
	if err != nil || len(answer) != 8 {
		return 1
	}
	return int(binary.BigEndian.Uint64(answer))
}

// closeLocksIfIdle lets the session's locks go once it holds none: no
// owner in the table, no connection to the leader, nothing to lose.
func (s *session) closeLocksIfIdle() {
	l := s.locks
	if l == nil || len(l.xact) > 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.n.cfg.ReadTimeout)
	defer cancel()
	if l.held(ctx, s) == 0 {
		s.closeLocks()
	}
}

// closeLocks releases everything the session holds.
func (s *session) closeLocks() {
	l := s.locks
	if l == nil {
		return
	}
	s.locks = nil
	if l.owner != nil {
		l.table.releaseAll(l.owner, true)
		return
	}
	if l.stop != nil {
		close(l.stop)
		<-l.done
	}
	l.mu.Lock()
	if l.conn != nil {
		l.conn.Close() // the leader releases what the connection held
		l.conn = nil
	}
	l.mu.Unlock()
}

// endXactLocks releases the transaction-level locks of a block that ended.
func (s *session) endXactLocks(ctx context.Context) {
	l := s.locks
	if l == nil || len(l.xact) == 0 {
		return
	}
	xact := l.xact
	l.xact = nil
	for _, m := range xact {
		if _, err := l.unlock(ctx, s, m.advisoryKey, m.shared); err != nil {
			break
		}
	}
	s.closeLocksIfIdle()
}

// serveAdvisory answers a lock request of a follower session, whose locks
// the side-channel connection stands for (*owner, made on its first
// request). The caller releases them when the connection ends.
func (n *Node) serveAdvisory(ctx context.Context, owner **advisoryOwner, drop func(), env envelope) ([]byte, error) {
	op, flags, k, err := decodeAdvisoryRequest(env.payload)
	if err != nil {
		return nil, err
	}
	if *owner == nil {
		if !n.raft.IsLeader() {
			return nil, n.notLeader()
		}
		*owner = n.advisory.newOwner(drop)
	}
	o := *owner
	switch op {
	case advPing:
		n.advisory.mu.Lock()
		lost := o.lost
		n.advisory.mu.Unlock()
		if lost || !n.raft.IsLeader() {
			return nil, n.notLeader()
		}
		return binary.BigEndian.AppendUint64(nil, n.raft.Term()), nil
	case advLock:
		ok, err := n.advisory.acquire(ctx, o, k, flags&advShared != 0, flags&advWait != 0)
		if errors.Is(err, errAdvisoryLost) {
			return nil, n.notLeader()
		}
		if err != nil {
			return nil, err
		}
		return []byte{boolByte(ok)}, nil
	case advCount:
		return binary.BigEndian.AppendUint64(nil, uint64(n.advisory.holds(o))), nil
	case advUnlock:
		return []byte{boolByte(n.advisory.release(o, k, flags&advShared != 0))}, nil
	case advUnlockAll:
		n.advisory.releaseAll(o, false)
		return nil, nil
	}
	return nil, fmt.Errorf("unknown advisory lock op %d", op)
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
