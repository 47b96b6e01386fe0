package driver

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

var (
	_ driver.Driver             = (*Driver)(nil)
	_ driver.DriverContext      = (*Driver)(nil)
	_ driver.Connector          = (*connector)(nil)
	_ driver.Conn               = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
)

// conn is a database/sql connection. Outside a transaction it may move to
// another node (after the node it was on failed, or to follow the leader),
// carrying its session settings along.
type conn struct {
	cl          *connector
	w           *wireConn
	consistency string   // read consistency in effect for this session
	sets        []string // session SET statements to replay on a new node
	sentMinRead uint64   // raftsql.min_read_index last sent on w
	rows        *rows    // open streaming result on w
	bad         bool     // unusable; database/sql should discard it
	nextStmt    uint64
	cache       *stmtCache // nil when Config.StatementCacheSize < 0
}

// request is one statement to run.
type request struct {
	sql   string
	kind  kind
	st    *stmt // prepared statement, nil for a one-shot statement
	args  []driver.Value
	query bool // the caller wants rows
}

func namedValues(args []driver.NamedValue) ([]driver.Value, error) {
	vals := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, fmt.Errorf("raftsql: named parameter %q: use positional parameters $1, $2, …", a.Name)
		}
		v, err := checkValue(a.Value)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return vals, nil
}

// ExecContext runs a statement that returns no rows.
func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	vals, err := namedValues(args)
	if err != nil {
		return nil, err
	}
	res, _, err := c.runOneShot(ctx, query, vals, false)
	if err != nil {
		return nil, err
	}
	return execResult(rowsAffected(res.tag)), nil
}

// QueryContext runs a statement that returns rows.
func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	vals, err := namedValues(args)
	if err != nil {
		return nil, err
	}
	_, r, err := c.runOneShot(ctx, query, vals, true)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// runOneShot runs a statement given as SQL text. A read or write that the
// connection's statement cache has seen before runs as a named statement
// (see stmtCache); a statement that may change the schema empties the
// cache, as the descriptions of cached statements may have changed.
func (c *conn) runOneShot(ctx context.Context, query string, args []driver.Value, wantRows bool) (result, *rows, error) {
	req := &request{sql: query, args: args, query: wantRows}
	if c.cache == nil {
		req.kind = classify(query)
		return c.run(ctx, req)
	}
	e, fresh, evicted := c.cache.lookup(query)
	c.forget(evicted)
	req.kind = e.kind
	simple := len(args) == 0 && !wantRows
	if !simple && (e.kind == kindRead || e.kind == kindWrite) && !changesSchema(query) {
		if e.st == nil && !fresh {
			c.nextStmt++
			e.st = &stmt{c: c, name: "raftsql_c" + strconv.FormatUint(c.nextStmt, 10), sql: query, kind: e.kind}
		}
		req.st = e.st
	}
	res, r, err := c.run(ctx, req)
	if err == nil && req.st != nil && req.st.fields == nil {
		// Later runs ask for binary results by these types.
		if r != nil {
			req.st.fields = r.fields
		} else {
			req.st.fields = res.fields
		}
	}
	if changesSchema(query) {
		c.forget(c.cache.clear())
	}
	return res, r, err
}

// forget closes the named statements of evicted cache entries, in front of
// the connection's next request.
func (c *conn) forget(evicted []*cacheEntry) {
	for _, e := range evicted {
		if e.st == nil || c.w == nil {
			continue
		}
		if _, ok := c.w.prepared[e.st.name]; ok {
			delete(c.w.prepared, e.st.name)
			c.w.closeLater = append(c.w.closeLater, e.st.name)
		}
	}
}

// CheckNamedValue accepts int64, float64, bool, []byte, string, time.Time
// and nil, and whatever driver.DefaultParameterConverter turns into one of
// them. Named parameters are refused.
func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if nv.Name != "" {
		return fmt.Errorf("raftsql: named parameter %q: use positional parameters $1, $2, …", nv.Name)
	}
	v, err := checkValue(nv.Value)
	if err != nil {
		return err
	}
	nv.Value = v
	return nil
}

type execResult int64

func (r execResult) LastInsertId() (int64, error) {
	return 0, errors.New("raftsql: LastInsertId is not supported; use INSERT … RETURNING")
}

func (r execResult) RowsAffected() (int64, error) { return int64(r), nil }

// run executes req with the driver's retry rules and returns its complete
// result, or open rows for a streaming query.
//
// Outside a transaction every statement is safe to send again: reads have
// no effect, and writes carry a request id (raftsql.request_seq) under
// which the cluster applies them at most once. So when the node has no
// leader (57P03), reports an unknown outcome (40003), or the connection
// is lost after sending, run resends, on another node if need be, until
// RetryTimeout. Inside a transaction nothing is resent.
func (c *conn) run(ctx context.Context, req *request) (result, *rows, error) {
	if c.bad || c.w == nil {
		return result{}, nil, driver.ErrBadConn
	}
	c.finishRows()
	if c.w.broken {
		c.bad = true
		return result{}, nil, driver.ErrBadConn
	}
	if err := ctx.Err(); err != nil {
		return result{}, nil, err
	}
	inTx := c.w.txStatus != 'I'
	var seq uint64
	switch {
	case req.kind == kindWrite && !inTx:
		seq = c.cl.nextSeq()
	case req.kind == kindCommit && c.w.txStatus == 'T':
		seq = c.cl.nextSeq()
	}
	writeish := req.kind == kindWrite || req.kind == kindCommit
	deadline := time.Now().Add(c.cl.cfg.retryTimeout())
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	var (
		lastErr   error // why the previous attempt failed
		avoid     string
		ambiguous bool // a write was sent and its outcome never learned
	)
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if !c.backoff(ctx, attempt, deadline) {
				if ce := ctx.Err(); ce != nil {
					lastErr = fmt.Errorf("%w: %w", ce, lastErr)
				}
				if ambiguous {
					return result{}, nil, &outcomeError{lastErr}
				}
				return result{}, nil, lastErr
			}
		}
		if c.w.broken {
			if inTx {
				c.bad = true
				return result{}, nil, lastErr
			}
			if err := c.switchTo(ctx, req.kind == kindWrite || c.consistency != None, avoid); err != nil {
				lastErr = errors.Join(lastErr, err)
				continue
			}
		}
		cl, err := c.buildCall(req, seq, inTx)
		if err != nil {
			return result{}, nil, err
		}
		stop := c.w.watch(ctx)
		parsed := c.w.parseCompletes
		rfqs, sent, err := c.w.send(cl)
		var (
			res  result
			r    *rows
			perr *Error
		)
		if err == nil {
			if req.query && !writeish {
				r, perr, err = c.readHead(rfqs)
			} else {
				res, perr, err = c.w.readAll(rfqs, req.query)
			}
		}
		canceled := stop()
		if perr != nil && req.st != nil && cl.parse && c.w.parseCompletes-parsed <= len(cl.prefix) {
			// The error ended the call before its Parse took effect:
			// the name is free on the server. After a ParseComplete
			// (an error of Bind or Execute, such as 40003 for a write
			// sent again below) the server keeps the statement, and
			// parsing it again would be refused (42P05).
			delete(c.w.prepared, req.st.name)
		}
		if canceled {
			if err == nil && perr == nil {
				return c.finish(req, res, r)
			}
			if r != nil {
				r.Close()
			}
			if err != nil {
				c.bad = true
				if writeish && (sent || ambiguous) {
					return result{}, nil, &outcomeError{ctx.Err()}
				}
				return result{}, nil, ctx.Err()
			}
			if writeish && (ambiguous || perr.Code == codeOutcomeUnknown) {
				return result{}, nil, &outcomeError{fmt.Errorf("%w: %w", ctx.Err(), perr)}
			}
			return result{}, nil, fmt.Errorf("%w: %w", ctx.Err(), perr)
		}
		if err != nil {
			if !sent && attempt == 0 {
				c.bad = true
				return result{}, nil, driver.ErrBadConn
			}
			if inTx {
				c.bad = true
				if req.kind == kindCommit {
					return result{}, nil, &outcomeError{err}
				}
				return result{}, nil, fmt.Errorf("raftsql: connection lost inside a transaction, which the server rolls back: %w", err)
			}
			lastErr = err
			avoid = c.w.addr
			ambiguous = ambiguous || (writeish && sent)
			continue
		}
		if perr != nil {
			switch {
			case perr.Code == codeNoLeader && !inTx:
				lastErr = perr
				if attempt >= 2 {
					c.switchTo(ctx, true, c.w.addr)
				}
				continue
			case perr.Code == codeOutcomeUnknown && seq != 0 && !inTx:
				lastErr = perr
				ambiguous = true
				continue
			case perr.Code == codeAdminShutdown && !inTx:
				// The node is shutting down and closes the connection:
				// go on on another node, as when a connection is lost
				// after sending. A write it answered so may have been
				// handed to Raft first.
				c.w.broken = true
				lastErr = perr
				avoid = c.w.addr
				ambiguous = ambiguous || writeish
				continue
			case perr.Code == codeOutcomeUnknown && writeish:
				return result{}, nil, &outcomeError{perr}
			}
			return result{}, nil, perr
		}
		return c.finish(req, res, r)
	}
}

// finish completes a successful run.
func (c *conn) finish(req *request, res result, r *rows) (result, *rows, error) {
	if req.kind == kindSession && len(req.args) == 0 && c.w.txStatus == 'I' {
		c.noteSession(req.sql)
	}
	if req.query && r == nil {
		r = &rows{c: c, fields: res.fields, buf: res.rows}
	}
	if r != nil && r.streaming {
		c.rows = r
	}
	return res, r, nil
}

// backoff sleeps before attempt, and reports false when the deadline or
// ctx leaves no time for it.
func (c *conn) backoff(ctx context.Context, attempt int, deadline time.Time) bool {
	d := 10 * time.Millisecond << min(attempt-1, 6)
	d = min(d, 500*time.Millisecond)
	d = d/2 + time.Duration(mrand.Int64N(int64(d/2)+1))
	if time.Now().Add(d).After(deadline) {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// buildCall prepares the messages for req on the current connection.
func (c *conn) buildCall(req *request, seq uint64, inTx bool) (*call, error) {
	cl := &call{sql: req.sql}
	if seq != 0 {
		cl.prefix = append(cl.prefix, "SET "+settingRequestSeq+" = "+strconv.FormatUint(seq, 10))
	}
	if c.consistency == None && !inTx && req.kind == kindRead {
		if n := c.cl.writeIndex.Load(); n > c.sentMinRead {
			cl.prefix = append(cl.prefix, "SET "+settingMinReadIndex+" = "+strconv.FormatUint(n, 10))
			c.sentMinRead = n
		}
	}
	if req.st == nil && len(req.args) == 0 && !req.query {
		cl.simple = true
		return cl, nil
	}
	oids := make([]uint32, len(req.args))
	if req.st != nil {
		cl.name = req.st.name
		prep, ok := c.w.prepared[req.st.name]
		for i, v := range req.args {
			switch {
			case v == nil, paramOID(v) == oidUnknown:
				if ok && i < len(prep) {
					oids[i] = prep[i]
				}
			default:
				oids[i] = paramOID(v)
			}
		}
		if !ok || !slices.Equal(prep, oids) {
			cl.parse = true
			cl.closeFirst = ok
			c.w.prepared[req.st.name] = oids
		}
		for i, f := range req.st.fields {
			if binaryResult(f.oid) {
				if cl.resultFormats == nil {
					cl.resultFormats = make([]int16, len(req.st.fields))
				}
				cl.resultFormats[i] = formatBinary
			}
		}
	} else {
		cl.parse = true
		for i, v := range req.args {
			oids[i] = paramOID(v)
		}
	}
	cl.oids = oids
	cl.params = make([][]byte, len(req.args))
	cl.paramFormats = make([]int16, len(req.args))
	for i, v := range req.args {
		b, f, err := encodeParam(v, oids[i])
		if err != nil {
			return nil, fmt.Errorf("raftsql: parameter $%d: %w", i+1, err)
		}
		cl.params[i], cl.paramFormats[i] = b, f
	}
	return cl, nil
}

// readHead reads a query's answer up to its first row (or its end).
func (c *conn) readHead(rfqs int) (*rows, *Error, error) {
	r := &rows{c: c}
	described := false
	var perr *Error
	for rfqs > 0 {
		msg, err := c.w.recv()
		if err != nil {
			return nil, perr, err
		}
		switch m := msg.(type) {
		case *pgproto3.RowDescription:
			r.fields = fieldsOf(m)
			described = true
		case *pgproto3.NoData:
			r.fields = nil
			described = true
		case *pgproto3.DataRow:
			if !described || perr != nil {
				continue
			}
			row, derr := decodeRow(r.fields, m.Values)
			if derr != nil {
				return nil, perr, c.fail(derr)
			}
			r.pending = row
			r.streaming = true
			return r, nil, nil
		case *pgproto3.CommandComplete, *pgproto3.EmptyQueryResponse:
		case *pgproto3.ErrorResponse:
			if perr == nil {
				perr = serverError(m)
			}
		case *pgproto3.ReadyForQuery:
			rfqs--
		case *pgproto3.ParseComplete, *pgproto3.BindComplete, *pgproto3.CloseComplete,
			*pgproto3.ParameterDescription, *pgproto3.PortalSuspended:
		default:
			return nil, perr, c.fail(fmt.Errorf("raftsql: unexpected %T from server", msg))
		}
	}
	if perr != nil {
		return nil, perr, nil
	}
	return r, nil, nil
}

// fail marks the connection broken after a protocol error.
func (c *conn) fail(err error) error {
	c.w.broken = true
	c.bad = true
	return err
}

// finishRows reads away what is left of an open result.
func (c *conn) finishRows() {
	if c.rows != nil {
		c.rows.Close()
		c.rows = nil
	}
}

// switchTo moves the connection to another node, preferring the leader
// when wantLeader, and replays the session settings there. It leaves the
// connection as it was when no node can be reached.
func (c *conn) switchTo(ctx context.Context, wantLeader bool, avoid string) error {
	if c.w.txStatus != 'I' && !c.w.broken {
		return nil
	}
	w, err := c.cl.open(ctx, wantLeader, avoid)
	if err != nil {
		return err
	}
	for _, s := range c.sets {
		w.fe.Send(&pgproto3.Query{String: s})
		if _, err := w.flush(); err != nil {
			w.close()
			return err
		}
		if _, _, err := w.readAll(1, false); err != nil {
			w.close()
			return err
		}
	}
	c.w.close()
	c.w = w
	c.sentMinRead = 0
	return nil
}

// noteSession remembers a successful SET so that it can be replayed when
// the connection moves to another node.
func (c *conn) noteSession(sql string) {
	words := leadingWords(sql, 2)
	if len(words) == 2 && (words[0] == "RESET" || words[0] == "DISCARD") && words[1] == "ALL" {
		c.sets = nil
		c.consistency = c.cl.cfg.ReadConsistency
		if words[0] == "DISCARD" {
			// The server dropped its prepared statements: parse them
			// again on next use.
			clear(c.w.prepared)
			c.w.closeLater = nil
		}
		return
	}
	name, value, ok := sessionSetting(sql)
	if words[0] == "RESET" && len(words) == 2 {
		name, ok = strings.ToLower(strings.TrimSpace(strings.TrimRight(skipSpace(sql)[len("RESET"):], "; "))), true
		value = ""
	}
	if !ok {
		return
	}
	if name == paramReadConsistency {
		if value == "" || strings.EqualFold(value, "default") {
			c.consistency = c.cl.cfg.ReadConsistency
		} else {
			c.consistency = strings.ToLower(value)
		}
	}
	c.sets = slices.DeleteFunc(c.sets, func(s string) bool {
		n, _, _ := sessionSetting(s)
		return n == name
	})
	if words[0] == "SET" {
		c.sets = append(c.sets, sql)
	}
}

// PrepareContext parses query as a named statement on the server.
func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if c.bad || c.w == nil || c.w.broken {
		c.bad = true
		return nil, driver.ErrBadConn
	}
	c.finishRows()
	c.nextStmt++
	name := "raftsql_" + strconv.FormatUint(c.nextStmt, 10)
	w := c.w
	w.fe.SendParse(&pgproto3.Parse{Name: name, Query: query})
	w.fe.SendDescribe(&pgproto3.Describe{ObjectType: 'S', Name: name})
	w.fe.SendSync(&pgproto3.Sync{})
	stop := w.watch(ctx)
	var (
		st   = &stmt{c: c, name: name, sql: query, kind: classify(query)}
		perr *Error
		oids []uint32
		err  error
	)
	if _, err = w.flush(); err == nil {
	read:
		for {
			var msg pgproto3.BackendMessage
			if msg, err = w.recv(); err != nil {
				break
			}
			switch m := msg.(type) {
			case *pgproto3.ParameterDescription:
				oids = append([]uint32(nil), m.ParameterOIDs...)
			case *pgproto3.RowDescription:
				st.fields = fieldsOf(m)
			case *pgproto3.ErrorResponse:
				if perr == nil {
					perr = serverError(m)
				}
			case *pgproto3.ReadyForQuery:
				break read
			}
		}
	}
	if stop() {
		if err != nil {
			c.bad = true
		}
		return nil, ctx.Err()
	}
	if err != nil {
		// Parsing has no effect, so database/sql may safely try again on
		// another connection.
		c.bad = true
		return nil, driver.ErrBadConn
	}
	if perr != nil {
		return nil, perr
	}
	st.numInput = len(oids)
	w.prepared[name] = oids
	return st, nil
}

// Prepare is PrepareContext without a context.
func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// closeStmt closes a named statement on the connection it was parsed on.
func (c *conn) closeStmt(name string) error {
	if c.bad || c.w == nil || c.w.broken {
		return nil
	}
	if _, ok := c.w.prepared[name]; !ok {
		return nil
	}
	c.finishRows()
	delete(c.w.prepared, name)
	c.w.fe.SendClose(&pgproto3.Close{ObjectType: 'S', Name: name})
	c.w.fe.SendSync(&pgproto3.Sync{})
	if _, err := c.w.flush(); err != nil {
		c.bad = true
		return nil
	}
	if _, _, err := c.w.readAll(1, false); err != nil {
		c.bad = true
	}
	return nil
}

// BeginTx starts a transaction. Transactions in raftsql are serializable
// whatever level is asked for; ReadOnly sends BEGIN READ ONLY. The
// connection first moves to the leader when it is known and elsewhere.
func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.bad || c.w == nil || c.w.broken {
		c.bad = true
		return nil, driver.ErrBadConn
	}
	c.finishRows()
	if c.w.txStatus != 'I' {
		return nil, errors.New("raftsql: a transaction is already open on this connection")
	}
	if leader := c.cl.knownLeader(); leader != "" && leader != c.w.addr {
		c.switchTo(ctx, true, "")
	}
	q := "BEGIN"
	if opts.Isolation != driver.IsolationLevel(0) {
		q += " ISOLATION LEVEL SERIALIZABLE"
	}
	if opts.ReadOnly {
		q += " READ ONLY"
	}
	if _, _, err := c.run(ctx, &request{sql: q, kind: kindBegin}); err != nil {
		return nil, err
	}
	if c.w.txStatus != 'T' {
		return nil, fmt.Errorf("raftsql: server did not open a transaction for %s (status %q)", q, c.w.txStatus)
	}
	return &tx{c: c}, nil
}

// Begin is BeginTx with default options.
func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// Ping sends an empty query.
func (c *conn) Ping(ctx context.Context) error {
	if c.bad || c.w == nil || c.w.broken {
		c.bad = true
		return driver.ErrBadConn
	}
	c.finishRows()
	stop := c.w.watch(ctx)
	c.w.fe.Send(&pgproto3.Query{String: "-- ping"})
	_, err := c.w.flush()
	var perr *Error
	if err == nil {
		_, perr, err = c.w.readAll(1, false)
	}
	if stop() {
		if err != nil {
			c.bad = true
		}
		return ctx.Err()
	}
	if err != nil {
		c.bad = true
		return driver.ErrBadConn
	}
	if perr != nil {
		return perr
	}
	return nil
}

// ResetSession is called before a pooled connection is reused. It finishes
// any unread result and, outside transactions, moves the connection to
// the leader when the leader changed and the read consistency needs it.
func (c *conn) ResetSession(ctx context.Context) error {
	if c.bad || c.w == nil || c.w.broken {
		c.bad = true
		return driver.ErrBadConn
	}
	c.finishRows()
	if c.w.broken {
		c.bad = true
		return driver.ErrBadConn
	}
	if c.w.txStatus == 'I' && c.consistency != None {
		if leader := c.cl.knownLeader(); leader != "" && leader != c.w.addr {
			c.switchTo(ctx, true, "")
		}
	}
	return nil
}

// IsValid reports whether the connection can be used again.
func (c *conn) IsValid() bool { return !c.bad && c.w != nil && !c.w.broken }

// Close closes the connection.
func (c *conn) Close() error {
	if c.w != nil {
		c.w.close()
	}
	c.bad = true
	return nil
}

// tx is an open transaction.
type tx struct{ c *conn }

var errTxRolledBack = errors.New("raftsql: COMMIT rolled the transaction back because an earlier statement failed")

// Commit sends COMMIT, preceded by a request id so that the transaction's
// single log entry is applied at most once.
func (t *tx) Commit() error {
	c := t.c
	if c.bad || c.w == nil || c.w.broken {
		return errors.New("raftsql: the connection was lost; the transaction was rolled back")
	}
	res, _, err := c.run(context.Background(), &request{sql: "COMMIT", kind: kindCommit})
	if err != nil {
		return err
	}
	if res.tag == "ROLLBACK" {
		return errTxRolledBack
	}
	return nil
}

// Rollback sends ROLLBACK. On a lost connection the server has already
// rolled back, so it returns nil.
func (t *tx) Rollback() error {
	c := t.c
	if c.bad || c.w == nil || c.w.broken {
		c.bad = true
		return nil
	}
	_, _, err := c.run(context.Background(), &request{sql: "ROLLBACK", kind: kindRollback})
	if err != nil && (c.bad || c.w.broken) {
		return nil
	}
	return err
}

// stmt is a named prepared statement. After the connection moves to
// another node it is parsed there again on first use.
type stmt struct {
	c        *conn
	name     string
	sql      string
	kind     kind
	numInput int
	fields   []field
}

var (
	_ driver.Stmt              = (*stmt)(nil)
	_ driver.StmtExecContext   = (*stmt)(nil)
	_ driver.StmtQueryContext  = (*stmt)(nil)
	_ driver.NamedValueChecker = (*stmt)(nil)
)

func (s *stmt) Close() error  { return s.c.closeStmt(s.name) }
func (s *stmt) NumInput() int { return s.numInput }

func (s *stmt) CheckNamedValue(nv *driver.NamedValue) error { return s.c.CheckNamedValue(nv) }

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	vals, err := namedValues(args)
	if err != nil {
		return nil, err
	}
	res, _, err := s.c.run(ctx, &request{sql: s.sql, kind: s.kind, st: s, args: vals})
	if err != nil {
		return nil, err
	}
	return execResult(rowsAffected(res.tag)), nil
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	vals, err := namedValues(args)
	if err != nil {
		return nil, err
	}
	_, r, err := s.c.run(ctx, &request{sql: s.sql, kind: s.kind, st: s, args: vals, query: true})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Exec and Query are required by driver.Stmt; database/sql uses the
// context versions.
func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), valuesToNamed(args))
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), valuesToNamed(args))
}

func valuesToNamed(args []driver.Value) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return nv
}
