package fsm

import (
	"context"
	"errors"
	"sync"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/raftsql/raftsql/fsm/command"
)

// bigSQL is the length from which a statement's text is not kept in a
// connection's statement cache: a query carrying a large literal would
// otherwise stay in memory, once per connection, long after it ran.
const bigSQL = 64 << 10

// Rows is the result of one read-only statement, stepped a row at a time
// as the caller asks for rows, so that a large result never sits in
// memory. It holds a read connection and its read transaction, one
// snapshot of the database, until Close; until then a Restore waits, so
// a caller must not keep it open for long without reading (it is the
// cursor of a portal, or of a streamed result). Rows is not safe for
// concurrent use, except that a context passed to Next may end from any
// goroutine.
type Rows struct {
	f      *FSM
	c      *conn
	s      *stmt
	cached bool // s lives in the connection's cache
	gen    uint64
	cols   []command.Column
	ncol   int
	first  bool // the first step is still to come

	// mu guards stepping against the interrupt of a context that ends:
	// only a step under way is interrupted, so that the end of the
	// context of an earlier Next (an Execute of a portal that returned)
	// does not fail the next step.
	mu       sync.Mutex
	stepping bool
	ctx      context.Context // the context whose end interrupts
	stop     func() bool

	err    error
	done   bool
	closed bool
}

// QueryRows prepares one read-only statement on a read connection, inside
// a read transaction, binds params and returns its rows, to be stepped by
// Next. The columns are known before the first row. A SQL error, a
// refusal or a statement that writes (CodeReadOnly) is a *command.Error,
// as in Query's results; other errors are for a cancelled ctx or a
// stopped state machine. On success the caller must Close the Rows.
func (f *FSM) QueryRows(ctx context.Context, st command.Statement) (*Rows, error) {
	c, err := f.acquire(ctx)
	if err != nil {
		return nil, err
	}
	r := &Rows{f: f, c: c, gen: c.gen.Load(), first: true}
	if err := r.open(ctx, st); err != nil {
		r.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, readError(err)
	}
	return r, nil
}

func (r *Rows) open(ctx context.Context, st command.Statement) error {
	c := r.c
	r.watch(ctx)
	r.mu.Lock()
	r.stepping = true // BEGIN and the schema's read may wait on the disk
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.stepping = false
		r.mu.Unlock()
	}()
	if err := c.exec("BEGIN"); err != nil {
		return err
	}
	if _, err := r.f.syncSchema(c); err != nil {
		return err
	}
	cache := c.stmts
	if len(st.SQL) >= bigSQL {
		cache = nil
	}
	s, err := c.prepare(st.SQL, cache)
	if err != nil {
		return err
	}
	if s == nil {
		r.done = true
		return nil
	}
	r.s, r.cached = s, cache != nil
	if !s.readOnly {
		return &command.Error{Code: command.CodeReadOnly, Message: "statement writes: it must go through the log"}
	}
	if s.txVerb != "" {
		return &command.Error{Code: command.CodeRefused, Message: s.txVerb + " is not allowed here: transactions are handled by the server"}
	}
	if err := c.bind(s, st.Params); err != nil {
		return err
	}
	var sr command.StatementResult
	r.ncol = c.columns(s, &sr)
	r.cols = sr.Columns
	return nil
}

// readError turns a SQLite error of a read into the *command.Error that
// Query would report in its result.
func readError(err error) error {
	var ce *command.Error
	if errors.As(err, &ce) {
		return ce
	}
	var se *sqliteError
	if errors.As(err, &se) {
		return &command.Error{Code: se.code, Message: se.msg}
	}
	return err
}

// watch makes the end of ctx interrupt the steps that follow.
func (r *Rows) watch(ctx context.Context) {
	if ctx == r.ctx {
		return
	}
	if r.stop != nil {
		r.stop()
	}
	r.ctx = ctx
	c, gen := r.c, r.gen
	r.stop = context.AfterFunc(ctx, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.stepping {
			c.interrupt(gen)
		}
	})
}

// Columns are the result columns; nil for a statement that returns no
// rows.
func (r *Rows) Columns() []command.Column { return r.cols }

// Next steps the statement and returns the next row, or nil after the
// last one. The row's values are the caller's. ctx interrupts the step
// (it may differ from call to call: a portal's every Execute has its own).
// Errors are as QueryRows'; after one, or after the last row, Next keeps
// returning the same.
func (r *Rows) Next(ctx context.Context) ([]command.Value, error) {
	if r.err != nil || r.done || r.closed {
		if r.closed && r.err == nil && !r.done {
			return nil, errors.New("fsm: rows are closed")
		}
		return nil, r.err
	}
	if err := ctx.Err(); err != nil {
		r.err = err
		return nil, err
	}
	r.watch(ctx)
	c, s := r.c, r.s
	r.mu.Lock()
	r.stepping = true
	r.mu.Unlock()
	c.stepping, c.running = true, s.p
	rc := sqlite3.Xsqlite3_step(c.tls, s.p)
	c.stepping, c.running = false, 0
	r.mu.Lock()
	r.stepping = false
	r.mu.Unlock()
	switch rc {
	case sqlite3.SQLITE_ROW:
		return c.row(s, r.ncol), nil
	case sqlite3.SQLITE_DONE:
		r.done = true
		return nil, nil
	}
	if ctx.Err() != nil {
		r.err = ctx.Err()
		return nil, r.err
	}
	e := c.errorf(rc)
	if c.refused != "" && e.code&0xff == sqlite3.SQLITE_AUTH {
		r.err = &command.Error{Code: command.CodeRefused, Message: c.refused}
	} else {
		r.err = &command.Error{Code: e.code, Message: e.msg}
	}
	return nil, r.err
}

// Close ends the statement and the read transaction and gives the read
// connection back. It may be called more than once.
func (r *Rows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	c := r.c
	if r.stop != nil {
		r.stop()
	}
	if r.s != nil {
		sqlite3.Xsqlite3_reset(c.tls, r.s.p)
		if r.s.nParams > 0 {
			sqlite3.Xsqlite3_clear_bindings(c.tls, r.s.p)
		}
		if !r.cached {
			c.finalize(r.s)
		}
	}
	c.mu.Lock()
	c.gen.Add(1)
	c.mu.Unlock()
	if !c.autocommit() {
		c.exec("ROLLBACK")
	}
	r.f.release(c)
}

// IdleReadConns is the number of read connections in the pool, not
// taken by a read: a gauge of reads holding a connection.
func (f *FSM) IdleReadConns() int { return len(f.readers) }
