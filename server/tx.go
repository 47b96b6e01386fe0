package server

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/raftsql/raftsql/fsm"
	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/pgwire"
)

// An interactive transaction runs on the leader. Its reads before its first
// write come from one snapshot on a read connection, taken after a read
// barrier; the state machine notes the tables they read. Its first write
// takes the leader's write lock exclusively (every earlier single write is
// applied by then, and earlier transactions are at least proposed); if a
// table it read was written since its snapshot, by an applied entry or by a
// transaction proposed and not yet applied, it fails with 40001, as
// SQLite's own upgrade of a read transaction would. From then on its
// statements run on the state machine's write connection, on top of the
// transactions proposed before it (fsm.WriteTx), with the time and seed
// that its commit will carry, so the client sees its own writes, real row
// counts and RETURNING rows. COMMIT proposes the statements as one log
// entry, which every node applies like any other, and releases the lock as
// soon as the entry is queued for Raft (proposeTxs keeps the lock's order):
// transactions are pipelined, and the commits queued meanwhile share one
// group entry. The entry carries the
// digest of the results the client saw; a node that applies it and gets
// other results (an entry ahead of it failed or was lost) undoes it, and
// the client gets 40001. The client hears COMMIT only once its entry is
// applied, after every entry it ran on top of. A transaction that begins on
// a follower runs on the leader as a whole (remotetx.go).

// txn is a session's open transaction block.
type txn struct {
	mu       sync.Mutex // one statement or abort at a time
	readOnly bool
	failed   bool  // an error happened: only ROLLBACK (TO) is accepted
	aborted  error // ended from outside (leadership lost, idle timeout)

	read  *fsm.ReadTx  // snapshot for reads before the first write
	write *fsm.WriteTx // speculative execution after the first write
	// snapIndex is the state machine's applied index that the read
	// snapshot reflects, once snapped is set by the first read.
	snapIndex uint64
	snapped   bool
	// readTables and restores are what the read snapshot read and the
	// restores it reflects, kept for the conflict check at the first write.
	readTables []string
	restores   uint64
	locked     bool // holds the node's write lock exclusively
	// plain is set when the transaction ran with nothing proposed ahead of
	// it, because a member cannot read the result digest (txPlain): its
	// commit goes without one.
	plain bool

	time  int64
	seed  uint64
	stmts []command.Statement // what the commit will propose, in order

	// maxSteps and maxValueSize are the limits stamped at the first write.
	maxSteps, maxValueSize int64
	// savepoints names the savepoints opened before the first write, in
	// order; they are replayed on the write connection at the first write.
	savepoints []string

	idle *time.Timer
}

var (
	errLeadershipLost = &pgwire.Error{Code: "40001", Message: "transaction aborted: this node lost leadership",
		Hint: "run the transaction again"}
	errIdleTimeout = &pgwire.Error{Code: "25P03", Severity: "FATAL",
		Message: "terminating connection due to idle-in-transaction timeout"}
	errInFailedTx = &pgwire.Error{Code: "25P02",
		Message: "current transaction is aborted, commands ignored until end of transaction block"}
)

// beginTx starts a transaction block.
func (s *session) beginTx(c txControl) (*pgwire.Result, error) {
	tx := &txn{readOnly: c.readOnly}
	s.tx = tx
	s.armIdle(tx)
	return &pgwire.Result{Tag: "BEGIN"}, nil
}

// txStatement runs one statement inside the session's transaction.
func (s *session) txStatement(ctx context.Context, c txControl, stmt command.Statement) (*pgwire.Result, error) {
	tx := s.tx
	tx.mu.Lock()
	defer tx.mu.Unlock()
	defer s.armIdle(tx)
	if tx.aborted != nil {
		return nil, tx.aborted
	}
	if tx.failed && c.verb != txRollbackTo {
		return nil, errInFailedTx
	}
	res, err := s.txRun(ctx, tx, c, stmt)
	if err != nil {
		tx.failed = true
		return nil, err
	}
	if c.verb == txRollbackTo {
		tx.failed = false
	}
	return res, nil
}

func (s *session) txRun(ctx context.Context, tx *txn, c txControl, stmt command.Statement) (*pgwire.Result, error) {
	if c.verb != txNone {
		if tx.write == nil {
			return s.txSavepointBeforeWrite(tx, c)
		}
		stmt = command.Statement{SQL: c.savepointSQL()}
		return s.txWrite(ctx, tx, stmt)
	}
	info, err := s.txDescribe(ctx, tx, stmt.SQL)
	if err != nil {
		return nil, pgError(err)
	}
	ro := info.ReadOnly
	s.kind = kindOf(ro)
	if ro && tx.write == nil {
		return s.txRead(ctx, tx, stmt)
	}
	if !ro && !s.who.rights.CanWrite() {
		return nil, pgError(errCannotWrite(s.who.name))
	}
	if !ro && tx.readOnly {
		return nil, &pgwire.Error{Code: "25006", Message: "cannot execute a write in a read-only transaction"}
	}
	if tx.write == nil {
		if err := s.txUpgrade(ctx, tx); err != nil {
			return nil, err
		}
	}
	return s.txWrite(ctx, tx, stmt)
}

// txDescribe classifies and describes a statement of tx against the
// transaction's own state: once it has written, on the write connection it
// runs on, where the tables it created and the columns it added exist
// (the read and classify connections see only committed schema). Before,
// the committed state is the transaction's. The caller holds tx.mu.
func (s *session) txDescribe(ctx context.Context, tx *txn, sql string) (fsm.Info, error) {
	if tx.write == nil {
		return s.describe(ctx, sql)
	}
	return tx.write.Classify(sql)
}

// txDescribeStatement answers a Describe (the extended protocol's Parse
// and Describe) inside the session's transaction block.
func (s *session) txDescribeStatement(ctx context.Context, c txControl, sql string) (pgwire.Description, error) {
	if c.verb != txNone {
		// Ending the block or a savepoint returns no rows, and must be
		// possible in a failed block.
		return pgwire.Description{}, nil
	}
	tx := s.tx
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.aborted != nil {
		return pgwire.Description{}, tx.aborted
	}
	if tx.failed {
		return pgwire.Description{}, errInFailedTx
	}
	info, err := s.txDescribe(ctx, tx, sql)
	if err != nil {
		return pgwire.Description{}, pgError(err)
	}
	return pgwire.Description{Columns: pgColumns(info.Columns)}, nil
}

// txSavepointBeforeWrite records a savepoint statement of a transaction that
// has not written: there is nothing to undo yet, but the names must exist
// once it writes.
func (s *session) txSavepointBeforeWrite(tx *txn, c txControl) (*pgwire.Result, error) {
	switch c.verb {
	case txSavepoint:
		tx.savepoints = append(tx.savepoints, c.name)
		return &pgwire.Result{Tag: "SAVEPOINT"}, nil
	case txRelease, txRollbackTo:
		// The most recent savepoint of that name, as in Postgres.
		i := -1
		for j := len(tx.savepoints) - 1; j >= 0 && i < 0; j-- {
			if strings.EqualFold(tx.savepoints[j], c.name) {
				i = j
			}
		}
		if i < 0 {
			return nil, &pgwire.Error{Code: "3B001", Message: fmt.Sprintf("savepoint %q does not exist", c.name)}
		}
		if c.verb == txRelease {
			tx.savepoints = tx.savepoints[:i]
			return &pgwire.Result{Tag: "RELEASE"}, nil
		}
		tx.savepoints = tx.savepoints[:i+1]
		return &pgwire.Result{Tag: "ROLLBACK"}, nil
	}
	return nil, fmt.Errorf("unexpected transaction control")
}

// txRead runs a read of a transaction that has not written, on its snapshot.
func (s *session) txRead(ctx context.Context, tx *txn, stmt command.Statement) (*pgwire.Result, error) {
	if tx.read == nil {
		if s.level != ReadNone {
			if err := s.n.readBarrier(ctx); err != nil {
				return nil, pgError(err)
			}
		}
		rt, err := s.n.fsm.BeginRead(ctx)
		if err != nil {
			return nil, pgError(err)
		}
		tx.read = rt
		tx.snapIndex, tx.snapped = rt.Index(), true
	}
	res, err := tx.read.Query(ctx, []command.Statement{stmt})
	if err != nil {
		return nil, pgError(err)
	}
	return pgResult(res)
}

// txUpgrade makes tx a writing transaction: it takes the write lock, checks
// that nothing changed since its snapshot and opens the speculative
// execution.
func (s *session) txUpgrade(ctx context.Context, tx *txn) error {
	n := s.n
	if !n.raft.IsLeader() {
		return errLeadershipLost
	}
	// Only the snapshot's index matters from here on: give its read
	// connection back before waiting, so that waiting transactions never
	// hold what the lock holder needs.
	if tx.read != nil {
		tx.readTables, tx.restores = tx.read.Tables(), tx.read.Restores()
		tx.read.Close()
		tx.read = nil
	}
	if err := waitLock(ctx, s.lockTimeout, n.writes.acquireExclusive); err != nil {
		return pgError(err)
	}
	release := func() { n.writes.releaseExclusive() }
	// Entries of earlier terms may still be waiting to be applied; the
	// speculation must run on the state the commit will be applied to.
	// Once they are, this leader's own entries are all the speculation
	// runs ahead of, so the wait is once per leadership.
	if gen := n.leaderGen.Load(); n.txReadyGen.Load() != gen+1 {
		if err := n.readBarrier(ctx); err != nil {
			release()
			if !n.raft.IsLeader() {
				return errLeadershipLost
			}
			return pgError(err)
		}
		n.txReadyGen.Store(gen + 1)
	}
	plain, err := n.txPlain(ctx)
	if err != nil {
		release()
		return pgError(err)
	}
	tx.plain = plain
	tx.time = max(time.Now().UnixNano(), n.fsm.LastTime())
	tx.seed = rand.Uint64()
	tx.maxSteps, tx.maxValueSize = n.cfg.MaxWriteSteps, n.cfg.MaxValueSize
	wt, err := n.fsm.BeginWrite(ctx, &command.Command{TimeUnixNano: tx.time, Seed: tx.seed,
		MaxSteps: tx.maxSteps, MaxValueSize: tx.maxValueSize})
	if err != nil {
		release()
		return pgError(err)
	}
	if tx.snapped && wt.Changed(tx.snapIndex, tx.restores, tx.readTables) {
		wt.Rollback()
		release()
		return &pgwire.Error{Code: "40001", Message: "could not serialize access due to a concurrent write",
			Hint: "the transaction read a table that another transaction changed since; run it again"}
	}
	tx.write = wt
	tx.locked = true
	n.trackTx(tx, s)
	for _, name := range tx.savepoints {
		if _, err := s.txWrite(ctx, tx, command.Statement{SQL: "SAVEPOINT " + name}); err != nil {
			return err
		}
	}
	tx.savepoints = nil
	if !n.raft.IsLeader() {
		s.releaseTx(tx)
		return errLeadershipLost
	}
	return nil
}

// txWrite runs a statement speculatively and remembers it for the commit.
func (s *session) txWrite(ctx context.Context, tx *txn, stmt command.Statement) (*pgwire.Result, error) {
	if err := s.n.checkTxFuncs(ctx, tx.write, tx.stmts, stmt.SQL); err != nil {
		return nil, pgError(err)
	}
	sr := tx.write.Exec(ctx, stmt)
	if sr.Err != nil {
		return nil, pgError(sr.Err)
	}
	tx.stmts = append(tx.stmts, stmt)
	return pgResult(&command.Result{Statements: []command.StatementResult{sr}})
}

// commitTx ends the transaction block: a transaction that wrote proposes its
// statements as one log entry.
func (s *session) commitTx(ctx context.Context) (*pgwire.Result, error) {
	tx := s.tx
	tx.mu.Lock()
	defer tx.mu.Unlock()
	s.tx = nil
	s.stopIdle(tx)
	if tx.aborted != nil || tx.failed {
		s.releaseTx(tx)
		if tx.aborted == errIdleTimeout {
			return nil, tx.aborted
		}
		return &pgwire.Result{Tag: "ROLLBACK"}, nil
	}
	if tx.write == nil {
		s.releaseTx(tx)
		return &pgwire.Result{Tag: "COMMIT"}, nil
	}
	cmd := &command.Command{
		Kind:         command.KindExecute,
		RequestID:    s.nextRequestID(),
		TimeUnixNano: tx.time,
		Seed:         tx.seed,
		MaxSteps:     tx.maxSteps,
		MaxValueSize: tx.maxValueSize,
		Statements:   tx.stmts,
	}
	// The statements stay on the write connection as the state the next
	// transaction runs on; the write lock is released once the entry is
	// queued for Raft, so that nothing is proposed between this one and
	// the next.
	if err := tx.write.Propose(cmd); err != nil {
		s.releaseTx(tx)
		return nil, pgError(err)
	}
	if tx.plain {
		// It ran on the state its commit is applied to: the digest
		// guards nothing, and every member reads the entry without it.
		cmd.Expect = 0
	}
	tx.write = nil
	// Queued behind the commits of the transactions that held the lock
	// before, it reaches Raft in that order; the lock is free as soon as
	// it is queued, not once Raft took it (Raft's queue waits while the
	// leader syncs its log).
	p := &txProposal{cmd: cmd, done: make(chan proposed, 1)}
	select {
	case s.n.txQueue <- p:
	case <-s.n.ctx.Done():
		s.n.fsm.Withdraw(cmd.RequestID)
		s.releaseTx(tx)
		return nil, errLeadershipLost
	}
	s.releaseTx(tx)
	var pr proposed
	select {
	case pr = <-p.done:
	case <-s.n.ctx.Done():
		return nil, pgError(ErrOutcomeUnknown)
	}
	if pr.err != nil {
		// Not handed to Raft: the transaction did not happen, and those
		// that ran on top of it fail on apply (their digests).
		s.n.fsm.DropSpeculation()
		err := s.n.translate(pr.err)
		if errors.Is(err, ErrNoLeader) {
			return nil, errLeadershipLost
		}
		return nil, pgError(err)
	}
	// Handed to Raft, the commit cannot be withdrawn: it waits for its
	// outcome within its apply window, whatever the client does.
	res, idx, err := pr.wait()
	if err != nil {
		// Transactions that ran on top of this one find out when theirs
		// are applied (their digests); those that have not run yet must
		// not run on it.
		s.n.fsm.DropSpeculation()
		err = s.n.translate(err)
		if errors.Is(err, ErrNoLeader) {
			return nil, errLeadershipLost
		}
		return nil, pgError(err)
	}
	s.writeIndex = max(s.writeIndex, idx)
	if e := res.Err(); e != nil {
		// A conflict (the state it ran on was not the one it was applied
		// to), or the node itself failed; nothing was committed.
		return nil, pgError(e)
	}
	return &pgwire.Result{Tag: "COMMIT"}, nil
}

// txProposal is a transaction's commit on its way to Raft.
type txProposal struct {
	cmd  *command.Command
	done chan proposed
}

// proposed is the outcome of handing a commit to Raft: wait, or why it was
// not handed over.
type proposed struct {
	wait func() (*command.Result, uint64, error)
	err  error
}

// proposeTxs hands the commits of txQueue to Raft in order, each once Raft
// has queued the one before. The commits that queued up meanwhile go as one
// group entry: one append, one sync and one message for all of them.
func (n *Node) proposeTxs() {
	for {
		var batch []*txProposal
		select {
		case <-n.ctx.Done():
			return
		case p := <-n.txQueue:
			batch = append(batch, p)
		}
	more:
		for len(batch) < maxTxGroup {
			select {
			case p := <-n.txQueue:
				batch = append(batch, p)
			default:
				break more
			}
		}
		if len(batch) == 1 {
			wait, err := n.proposeStamped(batch[0].cmd)
			batch[0].done <- proposed{wait: wait, err: err}
			continue
		}
		n.proposeTxGroup(batch)
	}
}

// maxTxGroup bounds the commits one group entry carries.
const maxTxGroup = 64

// proposeTxGroup proposes the commits of batch as one group entry.
func (n *Node) proposeTxGroup(batch []*txProposal) {
	encoded := make([][]byte, len(batch))
	size := 0
	for i, p := range batch {
		encoded[i] = command.Encode(p.cmd)
		size += len(encoded[i])
	}
	ctx, committed, release := n.applyWindow(size)
	rwait, err := n.raft.ApplyAsync(ctx, command.EncodeGroup(encoded), committed)
	if err != nil {
		release()
		for _, p := range batch {
			p.done <- proposed{err: err}
		}
		return
	}
	var once sync.Once
	var results []*command.Result
	var index uint64
	var werr error
	wait := func() {
		defer release()
		resp, idx, err := rwait()
		index, werr = idx, err
		if err != nil {
			return
		}
		switch r := resp.(type) {
		case []*command.Result:
			if len(r) == len(batch) {
				results = r
				return
			}
		case error:
			werr = r
			return
		}
		werr = fmt.Errorf("state machine returned %T for a group of %d", resp, len(batch))
	}
	for i, p := range batch {
		p.done <- proposed{wait: func() (*command.Result, uint64, error) {
			once.Do(wait)
			if werr != nil {
				return nil, 0, werr
			}
			return results[i], index, nil
		}}
	}
}

// rollbackTx ends the transaction block, undoing everything.
func (s *session) rollbackTx() (*pgwire.Result, error) {
	tx := s.tx
	tx.mu.Lock()
	defer tx.mu.Unlock()
	s.tx = nil
	s.stopIdle(tx)
	s.releaseTx(tx)
	return &pgwire.Result{Tag: "ROLLBACK"}, nil
}

// releaseTx gives back what tx holds. The caller holds tx.mu.
func (s *session) releaseTx(tx *txn) {
	if tx.read != nil {
		tx.read.Close()
		tx.read = nil
	}
	if tx.write != nil {
		if err := tx.write.Rollback(); err != nil {
			s.n.log.Warn("undoing a transaction", "err", err)
		}
		tx.write = nil
	}
	if tx.locked {
		tx.locked = false
		s.n.untrackTx(tx)
		s.n.writes.releaseExclusive()
	}
}

// abortTx ends tx from outside the session's goroutine; the session learns
// it at its next statement.
func (s *session) abortTx(tx *txn, why error) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.aborted != nil {
		return
	}
	tx.aborted = why
	s.releaseTx(tx)
}

func (s *session) armIdle(tx *txn) {
	if s.idleTimeout <= 0 {
		return
	}
	if tx.idle == nil {
		tx.idle = time.AfterFunc(s.idleTimeout, func() { s.abortTx(tx, errIdleTimeout) })
		return
	}
	tx.idle.Reset(s.idleTimeout)
}

func (s *session) stopIdle(tx *txn) {
	if tx.idle != nil {
		tx.idle.Stop()
	}
}

// trackTx registers a transaction holding the write lock, so that losing
// leadership can abort it.
func (n *Node) trackTx(tx *txn, s *session) {
	n.txMu.Lock()
	defer n.txMu.Unlock()
	n.openTxs[tx] = s
}

func (n *Node) untrackTx(tx *txn) {
	n.txMu.Lock()
	defer n.txMu.Unlock()
	delete(n.openTxs, tx)
}

// watchLeadership aborts the transactions holding the write lock as soon as
// the node stops leading: the state machine must apply the new leader's
// entries, and their commits could no longer be proposed here.
func (n *Node) watchLeadership() {
	changes := n.raft.LeaderChanges()
	for {
		select {
		case <-n.ctx.Done():
			return
		case leader, ok := <-changes:
			if !ok {
				return
			}
			n.leaderGen.Add(1)
			if leader {
				continue
			}
			n.txMu.Lock()
			open := make(map[*txn]*session, len(n.openTxs))
			for tx, s := range n.openTxs {
				open[tx] = s
			}
			n.txMu.Unlock()
			for tx, s := range open {
				s.abortTx(tx, errLeadershipLost)
			}
			// What this node proposed is applied or not like any entry
			// now; nothing runs on top of it here any more.
			n.fsm.DropSpeculation()
		}
	}
}
