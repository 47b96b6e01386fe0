package pgwire

import (
	"context"
	"fmt"
	"github.com/raftsql/raftsql/pgwire/pgsql"
	"github.com/raftsql/raftsql/pgwire/pgsql/catalog"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgproto3"
)

// prepStmt is a statement prepared with Parse.
type prepStmt struct {
	name      string
	sql       string // the one statement, without a trailing ';'
	st        *pgsql.Statement
	offset    int  // character offset of sql in the Parse query string
	empty     bool // the query string held no statement
	paramOIDs []uint32
	local     *pgsql.SessionCmd // a statement pgwire answers itself
	sqlTypes  []string          // the parameter types a PREPARE wrote

	described bool // cols and oids are known
	cols      []Column
	oids      []uint32
}

// portal is a statement bound to parameters with Bind.
type portal struct {
	stmt    *prepStmt
	params  []any
	formats []int16 // result format codes as the client sent them

	res    *Result    // set once executed
	stream RowSource  // the open cursor of a streamed result, until done
	w      *rowWriter // encodes the stream's rows
	oids   []uint32
	fmts   []int16
	next   int              // next row to send
	done   bool             // every row was sent
	prevTx byte             // TxStatus before the statement ran
	ran    *pgsql.Statement // what ran: the prepared statement, or the one its EXECUTE named
}

// maxParams is the most parameters a statement may have (Postgres' limit).
const maxParams = 65535

// charOffset converts a byte offset in s into a character offset.
func charOffset(s string, byteOff int) int {
	if byteOff <= 0 || byteOff > len(s) {
		return 0
	}
	return utf8.RuneCountInString(s[:byteOff])
}

// simpleQuery runs a Query message: each statement in turn, stopping at the
// first error, then one ReadyForQuery.
func (c *conn) simpleQuery(q string) {
	delete(c.stmts, "")
	c.dropPortal("")
	stmts := pgsql.Split(q)
	if len(stmts) == 0 {
		c.send(&pgproto3.EmptyQueryResponse{})
	}
	for _, st := range stmts {
		if e := c.runSimple(c.srv.stmts.Parse(st.SQL)); e != nil {
			if e.Severity == "FATAL" {
				c.sendFatal(e)
				c.ended = true
				return
			}
			c.send(errorResponse(e, charOffset(q, st.Offset)))
			break
		}
		if c.writeErr != nil {
			return
		}
	}
	c.readyForQuery()
}

// runSimple runs one statement of a Query message: RowDescription, the rows
// and CommandComplete. Types come from the result, rows included.
func (c *conn) runSimple(st *pgsql.Statement) *Error {
	if st.Execute != nil {
		bound, e := c.bindExecute(st)
		if e != nil {
			return e
		}
		st = bound
	}
	prev := c.sess.TxStatus()
	var res *Result
	var e *Error
	local, isLocal, perr := c.local(st)
	copyCmd, isCopy := copyFrom{}, false
	if !isLocal && st.Kind == pgsql.Copy {
		copyCmd, isCopy, perr = copyOf(st)
	}
	if perr != nil {
		return perr
	}
	if isLocal {
		res, e = c.runLocal(local)
	} else if isCopy {
		if copyCmd.to {
			res, e = c.runCopyOut(copyCmd)
		} else {
			res, e = c.runCopy(copyCmd)
		}
	} else {
		ctx, done := c.execContext()
		defer done()
		res, e = c.run(ctx, st, nil)
		if e == nil && res.Stream != nil {
			defer res.Stream.Close()
			if res.Columns == nil {
				// Nothing to stream: a statement without result columns.
				res.Stream.Close()
			} else {
				oids := columnOIDs(res.Columns, resultExprTypes(st, res))
				c.send(&pgproto3.RowDescription{Fields: fieldDescs(res.Columns, oids, nil)})
				w := newRowWriter(res.Columns, oids, nil)
				n, _, e := c.streamRows(ctx, res.Stream, w, 0)
				if e != nil {
					return e
				}
				c.send(&pgproto3.CommandComplete{CommandTag: []byte(c.tag(st, res, n, prev))})
				return nil
			}
		}
	}
	if e != nil {
		return e
	}
	var n int64
	if res.Columns != nil {
		oids := columnOIDs(res.Columns, resultExprTypes(st, res))
		c.send(&pgproto3.RowDescription{Fields: fieldDescs(res.Columns, oids, nil)})
		if e := c.sendRows(res.Columns, res.Rows, oids, nil); e != nil {
			return e
		}
		n = int64(len(res.Rows))
	}
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(c.tag(st, res, n, prev))})
	return nil
}

// local is the statement pgwire answers itself (SET, RESET, SHOW,
// DISCARD …), if st is one.
func (c *conn) local(st *pgsql.Statement) (pgsql.SessionCmd, bool, *Error) {
	if st.Session == nil {
		return pgsql.SessionCmd{}, false, nil
	}
	if st.Err != nil {
		return pgsql.SessionCmd{}, true, frontEndError(st.Err)
	}
	return *st.Session, true, nil
}

// tag is the statement's command tag, plus Postgres' answer to COMMIT in a
// failed transaction: ROLLBACK.
func (c *conn) tag(st *pgsql.Statement, res *Result, rows int64, prev byte) string {
	t := commandTag(st, res, rows)
	if res.Tag == "" && t == "COMMIT" && prev == 'E' {
		return "ROLLBACK"
	}
	return t
}

// execute runs one statement pgwire made up, in SQLite's text, on the
// session under a cancellable context, its whole result in memory (a
// streamed one is read to the end).
func (c *conn) execute(sql string, params []any) (*Result, *Error) {
	ctx, done := c.execContext()
	defer done()
	res, e := c.run(ctx, pgsql.Verbatim(sql), params)
	if e != nil || res.Stream == nil {
		return res, e
	}
	src := res.Stream
	defer src.Close()
	cp := *res
	cp.Stream = nil
	for {
		row, err := src.Next(ctx)
		if err != nil {
			return nil, c.stmtError(err)
		}
		if row == nil {
			return &cp, nil
		}
		cp.Rows = append(cp.Rows, append([]any(nil), row...))
	}
}

// stmtError is the error a statement failed with, as the client sees it:
// a cancelled statement is 57014 however the session put it.
func (c *conn) stmtError(err error) *Error {
	c.cmu.Lock()
	cancelled := c.cancelled
	c.cmu.Unlock()
	switch {
	case cancelled:
		return newError(codeQueryCanceled, "canceling statement due to user request")
	case c.srv.ctx.Err() != nil:
		return newError(codeAdminShutdown, "terminating connection due to administrator command")
	}
	return toError(err)
}

// run runs one statement on the session in ctx, from execContext. A
// streamed result's rows are read in ctx too; the caller closes Stream.
func (c *conn) run(ctx context.Context, st *pgsql.Statement, params []any) (*Result, *Error) {
	if st.Prepare != nil {
		return c.prepareSQL(ctx, st)
	}
	if len(params) == 0 {
		switch st.Verb {
		case "DROP", "TRUNCATE", "CREATE", "ALTER", "COMMENT":
			// The front end's text: qualifiers, casts and strings already
			// in SQLite's terms.
			ddl := st.Source
			if st.Err == nil {
				ddl = st.SQLite(c.set.vals["session_authorization"])
			} else if st.Err.Code == codeFeatureNotSupported {
				// Refused by the front end (what SQLite lacks, a function
				// the schema of a portable backup cannot hold): no
				// translation here revives it.
				break
			}
			t, ok := translateDDL(ddl)
			if t, ok = c.withEnumChecks(ddl, t, ok); ok {
				return c.runTranslated(t)
			}
		case "SELECT":
			if b, ok := parseBackendCall(st); ok {
				return c.runBackendCall(ctx, b)
			}
			if st.Sequence != nil {
				return c.runSequenceCall(st.Sequence)
			}
			if read, ok := parseSequenceRead(st.Source); ok {
				if res, ok, e := c.runSequenceRead(read); ok || e != nil {
					return res, e
				}
			}
		case "VACUUM":
			return c.runVacuum(st)
		case "COPY":
			// The simple protocol takes COPY before it gets here.
			return nil, errCopyExtended()
		}
	}
	st = c.withInsertColumns(ctx, st)
	st, le := c.withTypedLiterals(ctx, st)
	if le != nil {
		return nil, le
	}
	named := st // the names the client's text gives the columns
	// Asked before the statement runs: a streamed result holds a
	// connection of the node's until it is read.
	aggs := c.aggregateTypes(ctx, named)
	st, se := c.withSettings(st)
	if se != nil {
		return nil, se
	}
	st = st.InZone(c.loc)
	orig := st
	if pre := st.Prelude(); pre != nil && st.Err == nil {
		// The set_config the statement's advisory lock calls are
		// selected from, first.
		if _, e := c.runLocal(*pre); e != nil {
			return nil, e
		}
	}
	st, catalogTypes, ce := c.catalogStatement(st)
	if ce != nil {
		return nil, ce
	}
	if st.Err != nil {
		return nil, frontEndError(st.Err)
	}
	res, err := c.sess.Execute(ctx, st, params)
	if err != nil {
		return nil, locate(c.stmtError(err), orig)
	}
	if res == nil {
		res = &Result{}
	}
	if st.Explain != nil {
		return c.planResult(ctx, st.Explain, res)
	}
	if named != orig {
		postgresNames(res.Columns, named)
	}
	if catalogTypes != nil {
		postgresNames(res.Columns, orig)
		catalogColumns(res.Columns, catalogTypes)
		res.ran = st
	} else {
		res.aggs = aggs
	}
	return res, nil
}

// fieldDescs builds RowDescription fields; fmts nil means text.
func fieldDescs(cols []Column, oids []uint32, fmts []int16) []pgproto3.FieldDescription {
	fs := make([]pgproto3.FieldDescription, len(cols))
	for i, col := range cols {
		f := pgproto3.FieldDescription{
			Name:         []byte(col.Name),
			DataTypeOID:  oids[i],
			DataTypeSize: typeSize(oids[i]),
			TypeModifier: -1,
		}
		// A column declared varchar(n) or numeric(p,s) carries its
		// modifier, which drivers report as its size and precision
		// (psycopg2's description, JDBC's metadata, Django's inspectdb).
		if oid, mod := catalog.TypeModifier(col.DeclType); col.DeclType != "" && oid == oids[i] {
			f.TypeModifier = mod
		}
		if fmts != nil {
			f.Format = fmts[i]
		}
		fs[i] = f
	}
	return fs
}

// rowWriter encodes rows as DataRows in the given formats (nil: text),
// reusing its buffers from row to row.
type rowWriter struct {
	cols []Column
	oids []uint32
	fmts []int16
	buf  []byte
	ends []int
	vals [][]byte
}

func newRowWriter(cols []Column, oids []uint32, fmts []int16) *rowWriter {
	return &rowWriter{cols: cols, oids: oids, fmts: fmts, buf: make([]byte, 0, 256),
		ends: make([]int, len(oids)), vals: make([][]byte, len(oids))}
}

// maxKeptRowBuf is the largest encoding buffer a rowWriter keeps from one
// row to the next: a large value does not pin its size for the result.
const maxKeptRowBuf = 1 << 20

// writeRow sends one row, flushing as the output grows. A value that
// cannot be sent as its column's type ends the result with an error
// naming the column.
func (c *conn) writeRow(w *rowWriter, row []any) *Error {
	buf := w.buf[:0]
	for i, oid := range w.oids {
		var v any
		if i < len(row) {
			v = row[i]
		}
		if v == nil {
			w.ends[i] = -1
			continue
		}
		var err error
		if w.fmts != nil && w.fmts[i] == formatBinary {
			buf, err = appendBinary(buf, v, oid)
		} else {
			buf, err = appendText(buf, v, oid, c.loc)
		}
		if err != nil {
			return valueError(err, w.cols, i, oid)
		}
		w.ends[i] = len(buf)
	}
	start := 0
	for i := range w.vals {
		if w.ends[i] < 0 {
			w.vals[i] = nil
			continue
		}
		w.vals[i] = buf[start:w.ends[i]:w.ends[i]]
		start = w.ends[i]
	}
	c.send(&pgproto3.DataRow{Values: w.vals})
	c.pending += len(buf) + 4*len(w.vals) + 7
	if cap(buf) > maxKeptRowBuf {
		buf = make([]byte, 0, 256)
	}
	w.buf = buf
	if c.pending >= flushThreshold {
		c.flush()
	}
	return nil
}

// sendRows sends rows as DataRows in the given formats (nil: text).
func (c *conn) sendRows(cols []Column, rows [][]any, oids []uint32, fmts []int16) *Error {
	w := newRowWriter(cols, oids, fmts)
	for _, row := range rows {
		if e := c.writeRow(w, row); e != nil {
			return e
		}
		if c.writeErr != nil {
			return nil
		}
	}
	return nil
}

// streamRows sends the rows of src as they come, at most max of them
// (0: all). It returns how many it sent, whether src has no more (at its
// end, or failed), and the error that ended the result. A failure after
// some rows is an ErrorResponse after DataRows, as Postgres may send.
func (c *conn) streamRows(ctx context.Context, src RowSource, w *rowWriter, max int64) (n int64, finished bool, e *Error) {
	for max <= 0 || n < max {
		row, err := src.Next(ctx)
		if err != nil {
			return n, true, c.stmtError(err)
		}
		if row == nil {
			return n, true, nil
		}
		if e := c.writeRow(w, row); e != nil {
			return n, true, e
		}
		n++
		if c.writeErr != nil {
			return n, true, nil
		}
	}
	return n, false, nil
}

// valueError names the column whose value could not be encoded.
func valueError(err error, cols []Column, i int, oid uint32) *Error {
	e := *toError(err)
	if i < len(cols) {
		e.Message = fmt.Sprintf("column %q: %s", cols[i].Name, e.Message)
	}
	if e.Hint == "" && e.Code != codeInternalError {
		e.Hint = fmt.Sprintf("SQLite stores any value in any column: this one does not read as %s; "+
			"declare the column with a type that holds its values, or cast it in the query (CAST(x AS TEXT))", typeName(oid))
	}
	return &e
}

// extended handles Parse, Bind, Describe, Execute and Close.
func (c *conn) extended(msg pgproto3.FrontendMessage) *stmtError {
	switch m := msg.(type) {
	case *pgproto3.Parse:
		return c.parse(m)
	case *pgproto3.Bind:
		return wrap(c.bind(m), 0)
	case *pgproto3.Describe:
		return c.describe(m)
	case *pgproto3.Execute:
		return c.executePortal(m)
	case *pgproto3.Close:
		if m.ObjectType == 'S' {
			delete(c.stmts, m.Name)
		} else {
			c.dropPortal(m.Name)
		}
		c.send(&pgproto3.CloseComplete{})
	}
	return nil
}

func wrap(e *Error, offset int) *stmtError {
	if e == nil {
		return nil
	}
	return &stmtError{err: e, offset: offset}
}

func (c *conn) parse(m *pgproto3.Parse) *stmtError {
	if m.Name != "" {
		if _, ok := c.stmts[m.Name]; ok {
			return wrap(newError(codeDuplicatePStatement, fmt.Sprintf("prepared statement %q already exists", m.Name)), 0)
		}
	}
	stmts := pgsql.Split(m.Query)
	if len(stmts) > 1 {
		return wrap(newError(codeSyntaxError, "cannot insert multiple commands into a prepared statement"), 0)
	}
	st := &prepStmt{name: m.Name}
	if len(stmts) == 0 {
		st.empty = true
		st.described = true
		st.st = pgsql.Parse("")
	} else {
		st.sql = stmts[0].SQL
		st.offset = charOffset(m.Query, stmts[0].Offset)
		st.st = c.srv.stmts.Parse(st.sql)
	}
	n := st.st.NumParams
	if st.st.Prepare != nil {
		n = 0 // the $n are the prepared statement's, bound by its EXECUTE
	}
	if n < 0 || len(m.ParameterOIDs) > maxParams {
		return wrap(newError(codeProgramLimitExceeded, fmt.Sprintf("too many parameters: at most %d are allowed", maxParams)), st.offset)
	}
	st.paramOIDs = make([]uint32, max(n, len(m.ParameterOIDs)))
	copy(st.paramOIDs, m.ParameterOIDs)
	for i, p := range st.st.Params {
		if i < len(st.paramOIDs) && st.paramOIDs[i] == oidUnknown && p.Type != "" {
			st.paramOIDs[i] = declOID(p.Type)
		}
	}
	if st.st.Kind == pgsql.CatalogRead && n > 0 {
		// What the catalog columns the parameters are compared with say.
		for i, typ := range catalog.ParamTypes(st.sql, n) {
			if st.paramOIDs[i] == oidUnknown && typ != "" {
				st.paramOIDs[i] = declOID(typ)
			}
		}
	}
	if cols, at := c.untypedColumns(st.st, st.paramOIDs); cols != nil {
		ctx, done := c.execContext()
		c.columnParamTypes(ctx, cols, at, st.paramOIDs)
		done()
	}
	if !st.empty {
		cmd, ok, perr := c.local(st.st)
		if perr != nil {
			return wrap(perr, st.offset)
		}
		if ok {
			st.local = &cmd
		}
	}
	c.stmts[m.Name] = st
	c.send(&pgproto3.ParseComplete{})
	return nil
}

// untypedColumns returns the columns (Param.Column) of the
// parameters of st still untyped in oids, and the parameters' indexes;
// nil when there are none or the session cannot tell column types.
func (c *conn) untypedColumns(st *pgsql.Statement, oids []uint32) (cols []pgsql.ParamColumn, at []int) {
	if _, ok := c.sess.(ParamTyper); !ok || st.Err != nil {
		return nil, nil
	}
	for i, p := range st.Params {
		if i < len(oids) && oids[i] == oidUnknown && p.Column.Column != "" {
			cols = append(cols, p.Column)
			at = append(at, i)
		}
	}
	return cols, at
}

// columnParamTypes types boolean the parameters at of oids whose columns,
// cols, the session says are declared boolean (ParamTyper).
func (c *conn) columnParamTypes(ctx context.Context, cols []pgsql.ParamColumn, at []int, oids []uint32) {
	for k, typ := range c.sess.(ParamTyper).ColumnTypes(ctx, cols) {
		if k < len(at) && declOID(typ) == oidBool {
			oids[at[k]] = oidBool
		}
	}
}

func (c *conn) lookupStmt(name string) (*prepStmt, *Error) {
	st, ok := c.stmts[name]
	if !ok {
		if name == "" {
			return nil, newError(codeInvalidSQLStatement, "unnamed prepared statement does not exist")
		}
		return nil, newError(codeInvalidSQLStatement, fmt.Sprintf("prepared statement %q does not exist", name))
	}
	return st, nil
}

func (c *conn) lookupPortal(name string) (*portal, *Error) {
	p, ok := c.portals[name]
	if !ok {
		if name == "" {
			return nil, newError(codeInvalidCursorName, "unnamed portal does not exist")
		}
		return nil, newError(codeInvalidCursorName, fmt.Sprintf("portal %q does not exist", name))
	}
	return p, nil
}

func (c *conn) bind(m *pgproto3.Bind) *Error {
	st, e := c.lookupStmt(m.PreparedStatement)
	if e != nil {
		return e
	}
	if m.DestinationPortal != "" {
		if _, ok := c.portals[m.DestinationPortal]; ok {
			return newError("42P03", fmt.Sprintf("cursor %q already exists", m.DestinationPortal))
		}
	}
	if len(m.Parameters) != len(st.paramOIDs) {
		return newError(codeProtocolViolation, fmt.Sprintf("bind message supplies %d parameters, but prepared statement %q requires %d",
			len(m.Parameters), st.name, len(st.paramOIDs)))
	}
	nf := len(m.ParameterFormatCodes)
	if nf > 1 && nf != len(m.Parameters) {
		return newError(codeProtocolViolation, fmt.Sprintf("bind message has %d parameter formats but %d parameters", nf, len(m.Parameters)))
	}
	var params []any
	if len(m.Parameters) > 0 {
		params = make([]any, len(m.Parameters))
	}
	for i, raw := range m.Parameters {
		format := formatText
		switch nf {
		case 0:
		case 1:
			format = m.ParameterFormatCodes[0]
		default:
			format = m.ParameterFormatCodes[i]
		}
		v, err := decodeParamIn(raw, st.paramOIDs[i], format, c.loc)
		if err != nil {
			e := toError(err)
			if e.Code == "22P03" || e.Code == "22P02" {
				e.Message = fmt.Sprintf("%s (parameter $%d)", e.Message, i+1)
			}
			return e
		}
		params[i] = v
	}
	c.dropPortal(m.DestinationPortal) // the unnamed portal is replaced
	c.portals[m.DestinationPortal] = &portal{
		stmt:    st,
		params:  params,
		formats: append([]int16(nil), m.ResultFormatCodes...),
	}
	c.send(&pgproto3.BindComplete{})
	return nil
}

// describeStmt returns the result columns of st and their types, asking the
// session once per prepared statement.
func (c *conn) describeStmt(st *prepStmt) ([]Column, []uint32, *Error) {
	if st.described {
		return st.cols, st.oids, nil
	}
	var cols []Column
	var ran *pgsql.Statement // the catalog rewrite's, if it ran (see Result)
	var aggs []uint32        // the types of aggregates of columns (aggtypes.go)
	stmt := st.st
	if stmt.Execute != nil {
		bound, e := c.bindExecute(stmt)
		if e != nil {
			return nil, nil, e
		}
		stmt, ran = bound, bound
	}
	if stmt.Err != nil && stmt.Verb == "INSERT" {
		ctx, done := c.execContext()
		stmt = c.withInsertColumns(ctx, stmt)
		done()
	}
	named := stmt // the names the client's text gives the columns
	if _, isCall := parseBackendCall(stmt); !isCall {
		withSet, e := c.withSettings(stmt)
		if e != nil {
			return nil, nil, e
		}
		stmt = withSet.InZone(c.loc)
	}
	if st.local != nil {
		cols = localColumns(*st.local)
	} else if stmt.Prepare != nil {
		// PREPARE returns no rows.
	} else if b, ok := parseBackendCall(stmt); ok {
		cols = b.columns()
	} else if ddlVerb(st.st.Verb) && rewritesDDL(st.sql) {
		// DDL: no rows.
	} else if st.st.Sequence != nil {
		cols = sequenceColumns(st.st.Sequence)
	} else if read, ok := parseSequenceRead(st.sql); ok && c.isSequence(read.name) {
		cols = read.columns()
	} else if st.st.Kind == pgsql.Copy {
		return nil, nil, errCopyExtended()
	} else if runSt, catalogTypes, ce := c.catalogStatement(stmt); ce != nil {
		return nil, nil, ce
	} else if runSt.Err != nil {
		return nil, nil, frontEndError(runSt.Err)
	} else {
		ctx, done := c.execContext()
		desc, err := c.sess.Describe(ctx, runSt)
		if err == nil && catalogTypes == nil && runSt.Explain == nil {
			aggs = c.aggregateTypes(ctx, named)
		}
		cancelled := done()
		if err != nil {
			if cancelled {
				return nil, nil, newError(codeQueryCanceled, "canceling statement due to user request")
			}
			return nil, nil, locate(toError(err), stmt)
		}
		cols = desc.Columns
		if runSt.Explain != nil {
			cols = planColumns()
		}
		if named != stmt {
			postgresNames(cols, named)
		}
		if catalogTypes != nil {
			postgresNames(cols, stmt)
			catalogColumns(cols, catalogTypes)
			ran = runSt
		}
	}
	st.cols = cols
	if cols != nil {
		st.oids = columnOIDs(cols, resultExprTypes(st.st, &Result{Columns: cols, ran: ran, aggs: aggs}))
	}
	st.described = true
	return st.cols, st.oids, nil
}

// resolveFormats expands Bind's result format codes to one per column.
func resolveFormats(codes []int16, oids []uint32) ([]int16, *Error) {
	n := len(oids)
	fmts := make([]int16, n)
	switch len(codes) {
	case 0:
	case 1:
		for i := range fmts {
			fmts[i] = codes[0]
		}
	case n:
		copy(fmts, codes)
	default:
		return nil, newError(codeProtocolViolation, fmt.Sprintf("bind message has %d result formats but query has %d columns", len(codes), n))
	}
	for i, f := range fmts {
		switch {
		case f != formatText && f != formatBinary:
			return nil, newError(codeProtocolViolation, fmt.Sprintf("unsupported format code: %d", f))
		case f == formatBinary && !supportsBinary(oids[i]):
			return nil, newError("42883", fmt.Sprintf("no binary output function available for type %s", typeName(oids[i])))
		}
	}
	return fmts, nil
}

func (c *conn) describe(m *pgproto3.Describe) *stmtError {
	if m.ObjectType == 'S' {
		st, e := c.lookupStmt(m.Name)
		if e != nil {
			return wrap(e, 0)
		}
		cols, oids, e := c.describeStmt(st)
		if e != nil {
			return wrap(e, st.offset)
		}
		c.send(&pgproto3.ParameterDescription{ParameterOIDs: st.paramOIDs})
		if cols == nil {
			c.send(&pgproto3.NoData{})
		} else {
			c.send(&pgproto3.RowDescription{Fields: fieldDescs(cols, oids, nil)})
		}
		return nil
	}
	p, e := c.lookupPortal(m.Name)
	if e != nil {
		return wrap(e, 0)
	}
	cols, oids, e := c.describeStmt(p.stmt)
	if e != nil {
		return wrap(e, p.stmt.offset)
	}
	if cols == nil {
		c.send(&pgproto3.NoData{})
		return nil
	}
	fmts, e := resolveFormats(p.formats, oids)
	if e != nil {
		return wrap(e, 0)
	}
	c.send(&pgproto3.RowDescription{Fields: fieldDescs(cols, oids, fmts)})
	return nil
}

// executePortal runs a portal, or continues one that a row limit
// suspended. A streamed result stays open in the portal, its statement
// stepped as far as the rows sent, until the portal is done or closed; a
// result in memory is kept until the portal is done. maxRows only applies
// to statements returning rows; as in Postgres, reaching it suspends the
// portal even when no row is left, and the next Execute completes it.
func (c *conn) executePortal(m *pgproto3.Execute) *stmtError {
	p, e := c.lookupPortal(m.Portal)
	if e != nil {
		return wrap(e, 0)
	}
	st := p.stmt
	if st.empty {
		c.send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	if p.done {
		// A portal runs once; executing it again yields nothing.
		c.send(&pgproto3.CommandComplete{CommandTag: []byte(c.tag(p.ran, &Result{Columns: p.res.Columns}, 0, p.prevTx))})
		return nil
	}
	var ctx context.Context
	if p.res == nil {
		p.prevTx = c.sess.TxStatus()
		p.ran = st.st
		if st.st.Execute != nil {
			bound, e := c.bindExecute(st.st)
			if e != nil {
				return wrap(e, st.offset)
			}
			p.ran = bound
		}
		var res *Result
		if st.local != nil {
			res, e = c.runLocal(*st.local)
		} else {
			var done func() bool
			ctx, done = c.execContext()
			defer done()
			res, e = c.run(ctx, p.ran, p.params)
		}
		if e != nil {
			return wrap(e, st.offset)
		}
		cp := *res // the portal trims its copy as rows go out
		p.res = &cp
		if res.Stream != nil {
			p.stream, p.res.Stream = res.Stream, nil
			if res.Columns == nil {
				p.closeStream()
			}
		}
		if res.Columns != nil {
			oids := st.oids
			if !st.described || len(oids) != len(res.Columns) {
				oids = columnOIDs(res.Columns, resultExprTypes(p.ran, res))
			}
			fmts, e := resolveFormats(p.formats, oids)
			if e != nil {
				p.closeStream()
				p.done = true
				return wrap(e, 0)
			}
			p.oids, p.fmts = oids, fmts
		}
	}
	res := p.res
	if p.stream != nil {
		if ctx == nil {
			var done func() bool
			ctx, done = c.execContext()
			defer done()
		}
		if p.w == nil {
			p.w = newRowWriter(res.Columns, p.oids, p.fmts)
		}
		n, finished, e := c.streamRows(ctx, p.stream, p.w, int64(m.MaxRows))
		if finished {
			p.closeStream()
			p.done = true
		}
		if e != nil {
			return wrap(e, 0)
		}
		if !finished {
			c.send(&pgproto3.PortalSuspended{})
			return nil
		}
		c.send(&pgproto3.CommandComplete{CommandTag: []byte(c.tag(p.ran, res, n, p.prevTx))})
		return nil
	}
	rows := res.Rows[p.next:]
	if res.Columns != nil && m.MaxRows > 0 && int64(len(rows)) > int64(m.MaxRows) {
		rows = rows[:m.MaxRows]
	}
	if res.Columns != nil {
		if e := c.sendRows(res.Columns, rows, p.oids, p.fmts); e != nil {
			p.done = true
			return wrap(e, 0)
		}
	}
	p.next += len(rows)
	if p.next < len(res.Rows) {
		c.send(&pgproto3.PortalSuspended{})
		return nil
	}
	p.done = true
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(c.tag(p.ran, res, int64(len(rows)), p.prevTx))})
	res.Rows = nil // sent: let them go
	return nil
}

// closeStream closes the portal's open cursor, if any.
func (p *portal) closeStream() {
	if p.stream != nil {
		p.stream.Close()
		p.stream = nil
	}
}

// dropPortal closes and forgets a portal.
func (c *conn) dropPortal(name string) {
	if p, ok := c.portals[name]; ok {
		p.closeStream()
		delete(c.portals, name)
	}
}

// closePortals closes and forgets every portal.
func (c *conn) closePortals() {
	for _, p := range c.portals {
		p.closeStream()
	}
	clear(c.portals)
}
