package fsm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

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
	f        *FSM
	c        *conn
	index    uint64
	restores uint64
	tables   map[string]struct{}
}

// BeginRead starts a read transaction. Its snapshot reflects at least the
// entries up to Index.
func (f *FSM) BeginRead(ctx context.Context) (*ReadTx, error) {
	c, err := f.acquire(ctx)
	if err != nil {
		return nil, err
	}
	// The index syncSchema returns is a lower bound of what the snapshot
	// holds: a commit records its index only once it has committed.
	var index uint64
	restores := f.restores.Load()
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
	return &ReadTx{f: f, c: c, index: index, restores: restores, tables: map[string]struct{}{}}, nil
}

// Index is the last log index the transaction's snapshot reflects.
func (t *ReadTx) Index() uint64 { return t.index }

// Restores is the number of restored snapshots its state reflects (see
// WriteTx.Changed).
func (t *ReadTx) Restores() uint64 { return t.restores }

// Tables returns the tables (lower case) the transaction's statements have
// read so far.
func (t *ReadTx) Tables() []string {
	out := make([]string, 0, len(t.tables))
	for k := range t.tables {
		out = append(out, k)
	}
	return out
}

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
	c.tables = t.tables
	res, err := queryOn(ctx, c, stmts)
	c.tables = nil
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
// get when applied after every command proposed before it. It runs on the
// state those commands will leave (see Propose), inside a savepoint of its
// own. Rollback undoes what it did; Propose keeps it as the speculative
// state of the commands that follow, while its command goes through the
// log. While it is open no entry is applied, so its caller must make sure
// that nothing but the commands it proposed through Propose is waiting to
// be applied (the server holds its write lock and has waited for every
// other entry).
type WriteTx struct {
	f      *FSM
	broken bool
	seed   uint64
	// kept counts the statements that succeeded: those are the ones the
	// command will hold, so each statement runs as it will at that
	// position of the command. results are theirs, in order.
	kept    int
	results []command.StatementResult
	writes  map[string]struct{}
}

// allTables stands for every table in a set of tables written: the schema
// changed, or the whole state was replaced.
const allTables = "*"

// txSavepoint holds the statements of the open WriteTx, nested in the
// transaction that holds the speculative state under it.
const txSavepoint = reservedSavepointPrefix + "tx"

// specEntry is a command proposed by a WriteTx and not yet applied.
type specEntry struct {
	cmd    *command.Command
	writes map[string]struct{}
}

// BeginWrite starts a speculative write transaction whose statements run
// as those of a command stamped as c (time, seed, limits) would when
// applied after every command proposed before it; c's statements and kind
// are not used.
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
	w := f.w
	if !f.specOpen {
		if err := f.beforeWrite(); err != nil {
			f.applyMu.Unlock()
			return nil, err
		}
		if err := f.replaySpec(); err != nil {
			f.applyMu.Unlock()
			return nil, err
		}
	}
	eff := max(c.TimeUnixNano, f.lastTime.Load())
	for _, e := range f.spec {
		eff = max(eff, e.cmd.TimeUnixNano)
	}
	f.env.setTime(eff)
	f.env.seed(c.Seed)
	f.env.setLimits(w, c.MaxSteps, c.MaxValueSize)
	w.memo = nil
	sqlite3.Xsqlite3_set_last_insert_rowid(w.tls, w.db, 0)
	if err := w.exec("SAVEPOINT " + txSavepoint); err != nil {
		f.discardSpec()
		f.applyMu.Unlock()
		return nil, err
	}
	t := &WriteTx{f: f, seed: c.Seed, writes: map[string]struct{}{}}
	f.writing = t.writes
	return t, nil
}

// replaySpec opens the transaction of the speculative state: it runs the
// commands proposed and not yet applied exactly as applying them will, one
// savepoint each. f.applyMu is held and no transaction is open on w.
func (f *FSM) replaySpec() error {
	items := make([]item, len(f.spec))
	lastTime := f.lastTime.Load()
	for i, e := range f.spec {
		lastTime = max(lastTime, e.cmd.TimeUnixNano)
		items[i] = item{cmd: e.cmd, eff: lastTime, sql: true}
	}
	f.writing = nil
	txOpen, err := f.execute(items, true)
	if err != nil {
		return err
	}
	if !txOpen {
		if err := f.w.exec("BEGIN"); err != nil {
			return err
		}
	}
	f.specOpen = true
	return nil
}

// discardSpec undoes the speculative state on w, if it is there: entries
// are applied to the state they will be committed on. f.applyMu is held.
// An error is a local failure, and stops the node.
func (f *FSM) discardSpec() error {
	if !f.specOpen {
		return nil
	}
	f.specOpen = false
	if w := f.w; w != nil && !w.autocommit() {
		if err := w.exec("ROLLBACK"); err != nil {
			return f.fail(fmt.Errorf("undoing the speculative state: %w", err))
		}
	}
	f.noteSchema()
	return nil
}

// applied notes that the command with id was applied: it and any command
// proposed before it are no longer speculative. f.applyMu is held.
func (f *FSM) applied(id command.RequestID) {
	if id.IsZero() {
		return
	}
	for i, e := range f.spec {
		if e.cmd.RequestID == id {
			clear(f.spec[:i+1])
			f.spec = f.spec[i+1:]
			return
		}
	}
}

// Withdraw forgets the speculative command with id: it was not handed to
// Raft after all. The commands proposed after it must not have been.
func (f *FSM) Withdraw(id command.RequestID) {
	f.applyMu.Lock()
	defer f.applyMu.Unlock()
	f.discardSpec()
	f.spec = slices.DeleteFunc(f.spec, func(e *specEntry) bool { return e.cmd.RequestID == id })
}

// DropSpeculation forgets every command proposed and not yet applied: this
// node stopped leading, and whatever of them the log keeps will be applied
// like any entry. A transaction that ran on top of one that is lost fails
// on apply (Command.Expect).
func (f *FSM) DropSpeculation() {
	f.applyMu.Lock()
	defer f.applyMu.Unlock()
	f.discardSpec()
	f.spec = nil
}

// Speculating returns the number of commands proposed and not yet applied.
func (f *FSM) Speculating() int {
	f.applyMu.Lock()
	defer f.applyMu.Unlock()
	return len(f.spec)
}

// Changed reports whether a table of reads (a ReadTx's Tables) may have
// changed since the state of its snapshot (its Index and Restores): an
// applied entry after it, or a command proposed and not applied, wrote it.
func (t *WriteTx) Changed(index, restores uint64, reads []string) bool {
	f := t.f
	if f == nil || f.restores.Load() != restores {
		return true
	}
	if f.index == index && len(f.spec) == 0 {
		return false
	}
	if f.tableWrite[allTables] > index {
		return true
	}
	for _, e := range f.spec {
		if _, ok := e.writes[allTables]; ok {
			return true
		}
	}
	for _, r := range reads {
		if f.tableWrite[r] > index {
			return true
		}
		for _, e := range f.spec {
			if _, ok := e.writes[r]; ok {
				return true
			}
		}
	}
	return false
}

// Propose ends the transaction for its commit through the log: it stamps
// cmd, which must hold exactly the statements that succeeded, in order,
// with the digest of their results (Command.Expect), and keeps their
// effects as the speculative state the next WriteTx runs on while cmd is
// not applied. The caller hands cmd to Raft next, before any other
// command, or calls Withdraw. On error nothing changed, and the caller
// still calls Rollback.
func (t *WriteTx) Propose(cmd *command.Command) error {
	f := t.f
	if f == nil || t.broken {
		return &command.Error{Code: codeAbort, Message: "the transaction was rolled back"}
	}
	w := f.w
	if t.kept > 0 && w.deferredFKs() {
		return &command.Error{Code: codeConstraint, Message: "FOREIGN KEY constraint failed"}
	}
	cmd.Expect = command.ResultDigest(t.results)
	if err := w.exec("RELEASE " + txSavepoint); err != nil {
		return err
	}
	f.spec = append(f.spec, &specEntry{cmd: cmd, writes: t.writes})
	f.writing = nil
	t.f = nil
	f.applyMu.Unlock()
	return nil
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
	// from the generator and the budget is given back, and so is the
	// rowid of a row it inserted before it failed, which SQLite keeps as
	// last_insert_rowid().
	rng, left := t.f.env.rngState(), t.f.env.stepsLeft()
	lastID := sqlite3.Xsqlite3_last_insert_rowid(w.tls, w.db)
	memo := maps.Clone(w.memo)
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
		// The speculative state under the transaction went with it.
		t.f.specOpen = false
		t.broken = true
		if sr.Err == nil {
			sr.Err = &command.Error{Code: codeAbort, Message: "the statement rolled back the whole transaction"}
		}
	}
	if sr.Err != nil {
		t.f.env.setRNGState(rng)
		t.f.env.setStepsLeft(left)
		sqlite3.Xsqlite3_set_last_insert_rowid(w.tls, w.db, lastID)
		w.memo = memo
	} else {
		t.kept++
		t.results = append(t.results, sr)
	}
	return sr
}

// Rollback undoes everything the transaction did and lets entries be
// applied again. It is safe to call more than once, and after Propose.
func (t *WriteTx) Rollback() error {
	if t.f == nil {
		return nil
	}
	f := t.f
	t.f = nil
	defer f.applyMu.Unlock()
	f.writing = nil
	w := f.w
	if w == nil || w.autocommit() {
		f.specOpen = false
		f.noteSchema()
		return nil
	}
	if f.specOpen {
		if err := w.exec("ROLLBACK TO " + txSavepoint); err == nil {
			if err := w.exec("RELEASE " + txSavepoint); err == nil {
				return nil
			}
		}
	}
	if err := f.discardSpec(); err != nil {
		return err
	}
	if !w.autocommit() {
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
	if s := w.stmts[sql]; s != nil && s.epoch == w.epoch && s.txVerb == "" {
		// Compiled for this schema already, by a statement the
		// transaction ran: its description is the same.
		var sr command.StatementResult
		w.columns(s, &sr)
		return Info{ReadOnly: s.readOnly, Columns: sr.Columns, Params: s.names, FuncSince: s.funcSince, Func: s.funcName, Schema: s.ddl}, nil
	}
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
	return Info{ReadOnly: s.readOnly, Columns: sr.Columns, Params: s.names, Transaction: s.txVerb,
		FuncSince: s.funcSince, Func: s.funcName, Schema: s.ddl}, nil
}
