package fsm

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/raftsql/raftsql/fsm/command"
)

// acquire takes a read connection. The caller must call release.
// It returns with f.swapMu held for reading.
func (f *FSM) acquire(ctx context.Context) (*conn, error) {
	return f.acquireFrom(ctx, false)
}

// classifyConns is the number of connections kept for Classify.
const classifyConns = 2

// acquireFrom takes a connection of the read pool, or of the classifiers';
// release gives it back where it came from.
func (f *FSM) acquireFrom(ctx context.Context, classify bool) (*conn, error) {
	if err := f.stopped(); err != nil {
		return nil, err
	}
	f.swapMu.RLock()
	if err := f.stopped(); err != nil {
		f.swapMu.RUnlock()
		return nil, err
	}
	pool := f.readers
	if classify {
		pool = f.classifiers
	}
	select {
	case c := <-pool:
		if c.needsSetup {
			if err := f.setupRead(c); err != nil {
				f.release(c)
				return nil, err
			}
		}
		return c, nil
	case <-ctx.Done():
		f.swapMu.RUnlock()
		return nil, ctx.Err()
	}
}

// setupRead runs the connection setup on a read connection, outside any
// transaction (the temporary views would go with its rollback), with
// query_only lifted while it runs.
func (f *FSM) setupRead(c *conn) error {
	if err := c.exec("PRAGMA query_only=0"); err != nil {
		return err
	}
	err := c.setup(f.funcs, f.connInit)
	if qerr := c.exec("PRAGMA query_only=1"); err == nil {
		err = qerr
	}
	if err != nil {
		return err
	}
	c.needsSetup = false
	return nil
}

func (f *FSM) release(c *conn) {
	c.shrinkScratch()
	c.home <- c
	f.swapMu.RUnlock()
}

// withReadTx runs fn on a read connection inside one read transaction, so
// that everything fn reads comes from one snapshot of the database. A
// cancelled ctx interrupts the statement running.
func (f *FSM) withReadTx(ctx context.Context, fn func(c *conn) error) error {
	c, err := f.acquire(ctx)
	if err != nil {
		return err
	}
	defer f.release(c)
	gen := c.gen.Load()
	stop := context.AfterFunc(ctx, func() { c.interrupt(gen) })
	defer func() {
		stop()
		c.mu.Lock()
		c.gen.Add(1)
		c.mu.Unlock()
	}()
	if err := c.exec("BEGIN"); err != nil {
		return err
	}
	if _, err := f.syncSchema(c); err != nil {
		c.exec("ROLLBACK")
		return err
	}
	err = fn(c)
	if rerr := c.exec("ROLLBACK"); rerr != nil && !c.autocommit() && err == nil {
		err = rerr
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// Query runs read-only statements on the local database, inside one read
// transaction, with the real clock and real randomness. SQL errors,
// refusals and writes (CodeReadOnly) come back in the result, as from
// Apply: the first failing statement carries the error and ends the list.
// The error is for a cancelled ctx or a stopped or closed state machine.
func (f *FSM) Query(ctx context.Context, stmts []command.Statement) (*command.Result, error) {
	var res *command.Result
	err := f.withReadTx(ctx, func(c *conn) error {
		var err error
		res, err = queryOn(ctx, c, stmts)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// queryOn runs read-only statements on c, in the transaction c has open.
func queryOn(ctx context.Context, c *conn, stmts []command.Statement) (*command.Result, error) {
	res := &command.Result{Statements: make([]command.StatementResult, 0, len(stmts))}
	for _, st := range stmts {
		res.Statements = append(res.Statements, command.StatementResult{})
		sr := &res.Statements[len(res.Statements)-1]
		err := runRead(c, st, sr)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ce *command.Error
		if !errors.As(err, &ce) {
			var se *sqliteError
			if !errors.As(err, &se) {
				return nil, err
			}
			ce = &command.Error{Code: se.code, Message: se.msg}
		}
		sr.Err = ce
		break
	}
	return res, nil
}

func runRead(c *conn, st command.Statement, sr *command.StatementResult) error {
	cache := c.stmts
	if len(st.SQL) >= bigSQL {
		cache = nil
	}
	s, err := c.prepare(st.SQL, cache)
	if err != nil || s == nil {
		return err
	}
	if cache == nil {
		defer c.finalize(s)
	}
	if c.tables != nil {
		for _, t := range s.reads {
			c.tables[t] = struct{}{}
		}
	}
	if !s.readOnly {
		return &command.Error{Code: command.CodeReadOnly, Message: "statement writes: it must go through the log"}
	}
	if s.txVerb != "" {
		return &command.Error{Code: command.CodeRefused, Message: s.txVerb + " is not allowed here: transactions are handled by the server"}
	}
	return c.run(s, st.Params, sr)
}

// syncSchema makes a read connection compile against the schema of the
// snapshot it reads. SQLite compiles a statement against the schema the
// connection last loaded, and notices a change only when a statement reads
// the database: a statement compiled before that fails on the old
// definitions ("SELECT 1 IN t" of a table re-created with other columns),
// and a cached one is compiled again inside its step. syncSchema reads the
// database first, which loads the schema of the snapshot (and takes the
// snapshot, if a transaction is open), and drops the connection's cached
// statements when the schema generation moved since they were compiled.
//
// It returns an index the snapshot reflects: the applied index as it was
// just before the snapshot was taken. A commit stores that index only once
// it has committed, so the snapshot holds every entry up to it; it may also
// hold the batch whose commit was finishing then (the index is one batch
// behind, in that window of microseconds, which can only make a
// transaction's conflict check report a conflict, never miss one). So a
// read does not wait for a commit in progress, however large: it reads the
// state before it. The schema generation is paired with the snapshot
// exactly: when a commit that changes the schema overlaps the snapshot
// (ddlSeq odd or moved), the statements are dropped, now and at the next
// read, whichever schema the snapshot holds.
func (f *FSM) syncSchema(c *conn) (uint64, error) {
	ddl := f.ddlSeq.Load()
	gen, index := f.schemaGen.Load(), f.readIndex.Load()
	if err := c.exec("SELECT 1 FROM sqlite_schema LIMIT 1"); err != nil {
		return 0, err
	}
	sure := ddl%2 == 0 && f.ddlSeq.Load() == ddl
	if c.seenSchema != gen || !sure {
		for k, s := range c.stmts {
			c.finalize(s)
			delete(c.stmts, k)
		}
		c.seenSchema = gen
		if !sure {
			c.seenSchema = unsureSchema
		}
	}
	return index, nil
}

// unsureSchema is the seenSchema of a connection that may have loaded a
// schema newer than the generation it read: no generation matches it.
const unsureSchema = math.MaxUint64

// Info describes a statement, as Classify found it.
type Info struct {
	// ReadOnly is SQLite's own verdict (sqlite3_stmt_readonly): the
	// statement does not write the database. Transaction control
	// statements are read-only.
	ReadOnly bool
	// Columns are the result columns, empty for a statement that returns
	// no rows.
	Columns []command.Column
	// Params are the parameter names by position: "" for "?", "$1",
	// ":name" and so on.
	Params []string
	// Transaction is BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE or
	// ROLLBACK TO for a transaction control statement, else "".
	Transaction string
	// Empty is set for text that holds no statement (only comments).
	Empty bool
	// FuncSince is the highest Func.Since of the Go functions the
	// statement calls, directly or through what SQLite compiles with it
	// (the triggers it fires, the views it reads, the column DEFAULTs it
	// uses; for a schema statement, the DEFAULTs, generated columns and
	// index expressions it stores), 0 when it calls none with a Since;
	// Func names one such function. The CHECK constraints, generated
	// columns and index expressions of the tables a statement writes are
	// not seen (SQLite resolved them when it loaded the schema), nor
	// what a CREATE VIEW, CREATE TRIGGER or CHECK stores: MissingFuncFor
	// judges those.
	FuncSince int
	Func      string
	// Schema is set for a statement that changes the schema (CREATE,
	// DROP, ALTER, ANALYZE, REINDEX): what it stores may call functions
	// only later (MissingFuncFor).
	Schema bool
}

// Classify prepares (does not run) one SQL statement on a read connection
// and describes it. It returns a *command.Error: with Code
// command.CodeRefused when the statement is refused wherever it comes from
// (ATTACH, PRAGMAs that set a value, temporary objects, VACUUM, ...);
// otherwise with SQLite's code when the statement does not compile here,
// for instance because it uses a table created by an earlier statement of
// the same batch, which the caller may decide to send through the log
// anyway.
func (f *FSM) Classify(ctx context.Context, sql string) (Info, error) {
	c, err := f.acquireFrom(ctx, true)
	if err != nil {
		return Info{}, err
	}
	defer f.release(c)
	if _, err := f.syncSchema(c); err != nil {
		return Info{}, err
	}
	c.classify = true
	s, err := c.prepare(sql, nil)
	c.classify = false
	if err != nil {
		return Info{}, err
	}
	if s == nil {
		return Info{ReadOnly: true, Empty: true}, nil
	}
	defer c.finalize(s)
	if why := c.prepNodeDep; why != "" && !s.readOnly {
		// What the write connection would refuse at apply, on every node,
		// is refused before it is proposed.
		return Info{}, &command.Error{Code: command.CodeRefused, Message: why}
	}
	var sr command.StatementResult
	c.columns(s, &sr)
	return Info{ReadOnly: s.readOnly, Columns: sr.Columns, Params: s.names, Transaction: s.txVerb,
		FuncSince: s.funcSince, Func: s.funcName, Schema: s.ddl}, nil
}

// Dump returns a canonical text dump of the database: the schema sorted by
// type and name, then the rows of every table in rowid (or primary key)
// order, each value with its storage class. Two nodes hold the same data
// exactly when their dumps are equal.
func (f *FSM) Dump(ctx context.Context) (string, error) {
	var b strings.Builder
	err := f.withReadTx(ctx, func(c *conn) error {
		schema, err := readAll(c, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")
		if err != nil {
			return err
		}
		var tables []string
		for _, r := range schema {
			fmt.Fprintf(&b, "%s %s on %s: %s\n", r[0].Text, r[1].Text, r[2].Text, formatValue(r[3]))
			if r[0].Text == "table" && !strings.HasPrefix(strings.ToUpper(r[3].Text), "CREATE VIRTUAL") {
				tables = append(tables, r[1].Text)
			}
		}
		sort.Strings(tables)
		for _, t := range tables {
			q := quoteIdent(t)
			rows, err := readAll(c, "SELECT * FROM "+q+" ORDER BY _rowid_")
			if err != nil {
				// WITHOUT ROWID tables are scanned in primary key order.
				if rows, err = readAll(c, "SELECT * FROM "+q); err != nil {
					return err
				}
			}
			fmt.Fprintf(&b, "-- rows of %s: %d\n", t, len(rows))
			for _, r := range rows {
				for i, v := range r {
					if i > 0 {
						b.WriteString(", ")
					}
					b.WriteString(formatValue(v))
				}
				b.WriteByte('\n')
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return b.String(), nil
}

func readAll(c *conn, sql string) ([][]command.Value, error) {
	s, err := c.prepare(sql, nil)
	if err != nil {
		return nil, err
	}
	defer c.finalize(s)
	var sr command.StatementResult
	if err := c.run(s, nil, &sr); err != nil {
		return nil, err
	}
	return sr.Rows, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// formatValue writes a value with its storage class, exactly.
func formatValue(v command.Value) string {
	switch v.Type {
	case command.TypeInteger:
		return "int " + strconv.FormatInt(v.Int, 10)
	case command.TypeFloat:
		return "real " + strconv.FormatFloat(v.Float, 'g', -1, 64) + " (" + strconv.FormatUint(math.Float64bits(v.Float), 16) + ")"
	case command.TypeText:
		return "text " + strconv.Quote(v.Text)
	case command.TypeBlob:
		return "blob x'" + hex.EncodeToString(v.Blob) + "'"
	}
	return "NULL"
}
