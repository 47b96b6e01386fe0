package fsm

import (
	"context"
	"errors"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/raftsql/raftsql/fsm/command"
)

// Savepoint names the state machine uses itself; statements may not name
// savepoints with this prefix.
const (
	reservedSavepointPrefix = "raftsql_"
	cmdSavepoint            = reservedSavepointPrefix + "cmd"
)

// ReadTx is a read transaction: every statement it runs reads the one
// snapshot of the database it started on. It holds a read connection until
// Close.
type ReadTx struct {
	f     *FSM
	c     *conn
	index uint64
}

// BeginRead starts a read transaction. Its snapshot reflects exactly the
// entries up to Index.
func (f *FSM) BeginRead(ctx context.Context) (*ReadTx, error) {
	c, err := f.acquire(ctx)
	if err != nil {
		return nil, err
	}
	// Apply holds stateMu from before its COMMIT until it has recorded the
	// entry's index, so the snapshot syncSchema takes and the index match.
	var index uint64
	err = c.exec("BEGIN")
	if err == nil {
		index, err = f.syncSchema(c)
	}
	if err != nil {
		if !c.autocommit() {
			c.exec("ROLLBACK")
		}
		f.release(c)
		return nil, err
	}
	return &ReadTx{f: f, c: c, index: index}, nil
}

// Index is the last log index the transaction's snapshot reflects.
func (t *ReadTx) Index() uint64 { return t.index }

// Query runs read-only statements on the transaction's snapshot, with the
// same result conventions as FSM.Query.
func (t *ReadTx) Query(ctx context.Context, stmts []command.Statement) (*command.Result, error) {
	// The interrupt may run after Query has returned and Close has cleared
	// t.c, so everything here uses this copy.
	c := t.c
	if c == nil {
		return nil, ErrClosed
	}
	gen := c.gen.Load()
	stop := context.AfterFunc(ctx, func() { c.interrupt(gen) })
	defer func() {
		stop()
		c.mu.Lock()
		c.gen.Add(1)
		c.mu.Unlock()
	}()
	res, err := queryOn(ctx, c, stmts)
	if err == nil && c.autocommit() {
		// An interrupted statement may end the transaction; its snapshot
		// is gone.
		err = errors.New("fsm: read transaction ended")
	}
	return res, err
}

// Close ends the transaction and gives back its connection.
func (t *ReadTx) Close() {
	if t.c == nil {
		return
	}
	if !t.c.autocommit() {
		t.c.exec("ROLLBACK")
	}
	t.f.release(t.c)
	t.c = nil
}

// WriteTx runs statements speculatively on the write connection, with the
// clock and randomness a command stamped with the same time and seed would
// get when applied next. Nothing it does is kept: Rollback undoes it all,
// and the caller proposes the statements as one command. While it is open,
// no entry is applied, so its caller must make sure none is waiting (the
// server holds its write lock and has waited for every earlier entry).
type WriteTx struct {
	f      *FSM
	broken bool
	seed   uint64
	// kept counts the statements that succeeded: those are the ones the
	// command will hold, so each statement runs as it will at that
	// position of the command.
	kept int
}

// BeginWrite starts a speculative write transaction whose statements run
// as those of a command stamped as c (time, seed, limits) would when
// applied next; c's statements and kind are not used.
func (f *FSM) BeginWrite(ctx context.Context, c *command.Command) (*WriteTx, error) {
	f.applyMu.Lock()
	if err := f.stopped(); err != nil {
		f.applyMu.Unlock()
		return nil, err
	}
	if f.closed.Load() {
		f.applyMu.Unlock()
		return nil, ErrClosed
	}
	if err := f.beforeWrite(); err != nil {
		f.applyMu.Unlock()
		return nil, err
	}
	w := f.w
	f.env.setTime(max(c.TimeUnixNano, f.lastTime.Load()))
	f.env.seed(c.Seed)
	f.env.setLimits(w, c.MaxSteps, c.MaxValueSize)
	sqlite3.Xsqlite3_set_last_insert_rowid(w.tls, w.db, 0)
	if err := w.exec("BEGIN"); err != nil {
		f.applyMu.Unlock()
		return nil, err
	}
	return &WriteTx{f: f, seed: c.Seed}, nil
}

// Exec runs one statement. SQL errors come back in the result; so does a
// statement that ended the whole transaction (INSERT OR ROLLBACK,
// RAISE(ROLLBACK)), after which the WriteTx accepts nothing more.
func (t *WriteTx) Exec(ctx context.Context, st command.Statement) command.StatementResult {
	var sr command.StatementResult
	if t.f == nil || t.broken {
		sr.Err = &command.Error{Code: codeAbort, Message: "the transaction was rolled back"}
		return sr
	}
	w := t.f.w
	// A statement that fails is not part of the command: what it drew
	// from the generator and the budget is given back.
	rng, left := t.f.env.rngState(), t.f.env.stepsLeft()
	gen := w.gen.Load()
	stop := context.AfterFunc(ctx, func() { w.interrupt(gen) })
	err := t.f.runStatement(command.KindExecute, t.seed, t.kept, st, &sr)
	stop()
	w.mu.Lock()
	w.gen.Add(1)
	w.mu.Unlock()
	if err != nil {
		var ce *command.Error
		var se *sqliteError
		switch {
		case errors.As(err, &ce):
			sr.Err = ce
		case errors.As(err, &se):
			sr.Err = &command.Error{Code: se.code, Message: se.msg}
		default:
			sr.Err = &command.Error{Code: codeError, Message: err.Error()}
		}
	}
	if w.autocommit() {
		t.broken = true
		if sr.Err == nil {
			sr.Err = &command.Error{Code: codeAbort, Message: "the statement rolled back the whole transaction"}
		}
	}
	if sr.Err != nil {
		t.f.env.setRNGState(rng)
		t.f.env.setStepsLeft(left)
	} else {
		t.kept++
	}
	return sr
}

// Rollback undoes everything the transaction did and lets entries be
// applied again. It is safe to call more than once.
func (t *WriteTx) Rollback() error {
	if t.f == nil {
		return nil
	}
	f := t.f
	t.f = nil
	defer f.applyMu.Unlock()
	if w := f.w; w != nil && !w.autocommit() {
		if err := w.exec("ROLLBACK"); err != nil {
			return f.fail(err)
		}
	}
	f.noteSchema()
	return nil
}

// Classify describes one statement as Classify does, against the
// transaction's own state: a table it created or a column it added is
// there. Nothing runs.
func (t *WriteTx) Classify(sql string) (Info, error) {
	if t.f == nil || t.broken {
		return Info{}, &command.Error{Code: codeAbort, Message: "the transaction was rolled back"}
	}
	w := t.f.w
	w.classify = true
	s, err := w.prepare(sql, nil)
	w.classify = false
	if err != nil {
		return Info{}, err
	}
	if s == nil {
		return Info{ReadOnly: true, Empty: true}, nil
	}
	defer w.finalize(s)
	var sr command.StatementResult
	w.columns(s, &sr)
	return Info{ReadOnly: s.readOnly, Columns: sr.Columns, Params: s.names, Transaction: s.txVerb}, nil
}
