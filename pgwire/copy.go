package pgwire

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// This file runs COPY … FROM STDIN in the text and CSV formats (psql's
// \copy, pgbench -i, lib/pq's CopyIn, psycopg's copy, JDBC's CopyManager)
// and in the binary format (pgx's CopyFrom). The rows become multi-row
// INSERTs that the session executes; outside a transaction block they run
// inside one, so a COPY is all or nothing, as in Postgres. COPY … TO
// STDOUT (psql's \copy … to) sends a query's rows in the text or CSV
// format.

// copyFrom is a parsed COPY … FROM STDIN, or COPY … TO STDOUT when to is
// set.
type copyFrom struct {
	to      bool
	query   string   // COPY TO: the query whose rows are sent
	table   string   // as written, quoted or qualified
	columns []string // as written; nil for all of the table's columns
	csv     bool
	binary  bool
	header  bool
	delim   byte
	null    string
	quote   byte
	escape  byte
	// forceQuote and forceQuoteAll are FORCE_QUOTE's (col, …) and *.
	forceQuote    []string
	forceQuoteAll bool
	// tableName and columnNames are the table's and columns' names as
	// Postgres folds them, for their types (copyTypes).
	tableName   string
	columnNames []string
}

// errCopyExtended refuses COPY in the extended query protocol.
func errCopyExtended() *Error {
	return newError(codeFeatureNotSupported, "COPY is supported in the simple query protocol only")
}

// copyMaxBytes bounds the data of one COPY: its rows become one log entry.
const copyMaxBytes = 64 << 20

// copyBatchRows and copyBatchParams bound one INSERT of a COPY (SQLite
// takes at most 32766 parameters in a statement).
const (
	copyBatchRows   = 500
	copyBatchParams = 30000
)

// copyOf is the COPY st is; ok is false for a statement that is not COPY,
// e is set for a COPY that does not run.
func copyOf(st *pgsql.Statement) (cmd copyFrom, ok bool, e *Error) {
	if st.Kind != pgsql.Copy {
		return copyFrom{}, false, nil
	}
	if st.Err != nil || st.Copy == nil {
		return copyFrom{}, true, frontEndError(st.Err)
	}
	c := st.Copy
	return copyFrom{to: c.To, query: c.Query, table: c.Table, columns: c.Columns, csv: c.CSV, binary: c.Binary,
		header: c.Header, delim: c.Delim, null: c.Null, quote: c.Quote, escape: c.Escape,
		forceQuote: c.ForceQuote, forceQuoteAll: c.ForceQuoteAll, tableName: c.TableName, columnNames: c.ColumnNames}, true, nil
}

// runCopyOut sends the rows of a COPY … TO STDOUT, one CopyData per row.
func (c *conn) runCopyOut(cmd copyFrom) (*Result, *Error) {
	ctx, done := c.execContext()
	defer done()
	query := c.srv.stmts.Parse(cmd.query)
	res, e := c.run(ctx, query, nil)
	if e != nil {
		return nil, e
	}
	if res.Stream != nil {
		defer res.Stream.Close()
	}
	if res.Columns == nil {
		return nil, newError(codeFeatureNotSupported, "COPY query must return rows")
	}
	oids := columnOIDs(res.Columns, resultExprTypes(query, res))
	forced, e := cmd.forcedColumns(res.Columns)
	if e != nil {
		return nil, e
	}
	c.send(&pgproto3.CopyOutResponse{OverallFormat: 0, ColumnFormatCodes: make([]uint16, len(res.Columns))})
	var line, field []byte
	emit := func() {
		line = append(line, '\n')
		c.send(&pgproto3.CopyData{Data: append([]byte(nil), line...)})
		c.pending += len(line) + 5
		if c.pending >= flushThreshold {
			c.flush()
		}
		line = line[:0]
	}
	if cmd.header {
		for i, col := range res.Columns {
			if i > 0 {
				line = append(line, cmd.delim)
			}
			line = cmd.appendField(line, []byte(col.Name))
		}
		emit()
	}
	// A streamed result's rows are sent as they come.
	next := func() ([]any, *Error) {
		if res.Stream != nil {
			row, err := res.Stream.Next(ctx)
			if err != nil {
				return nil, c.stmtError(err)
			}
			return row, nil
		}
		if len(res.Rows) == 0 {
			return nil, nil
		}
		row := res.Rows[0]
		res.Rows = res.Rows[1:]
		return row, nil
	}
	n := 0
	for {
		row, e := next()
		if e != nil {
			return nil, e
		}
		if row == nil {
			break
		}
		n++
		for i, v := range row {
			if i > 0 {
				line = append(line, cmd.delim)
			}
			if v == nil {
				line = append(line, cmd.null...)
				continue
			}
			var err error
			if field, err = appendRaw(field[:0], v, oids[i], c.loc); err != nil {
				return nil, toError(err)
			}
			if forced != nil && forced[i] {
				line = cmd.appendQuoted(line, field)
				continue
			}
			line = cmd.appendField(line, field)
		}
		emit()
		if c.writeErr != nil {
			return nil, newError(codeConnectionFailure, "connection lost during COPY")
		}
	}
	c.send(&pgproto3.CopyDone{})
	return &Result{Tag: "COPY " + strconv.Itoa(n)}, nil
}

// forcedColumns says, by result column, which FORCE_QUOTE quotes: nil
// when it quotes none. A column it names that the COPY does not send
// fails with 42P10, as in Postgres.
func (cmd copyFrom) forcedColumns(cols []Column) ([]bool, *Error) {
	if !cmd.forceQuoteAll && len(cmd.forceQuote) == 0 {
		return nil, nil
	}
	forced := make([]bool, len(cols))
	for i := range forced {
		forced[i] = cmd.forceQuoteAll
	}
	for _, name := range cmd.forceQuote {
		found := false
		for i, col := range cols {
			if strings.EqualFold(col.Name, name) {
				forced[i], found = true, true
			}
		}
		if !found {
			return nil, newError("42P10", fmt.Sprintf("FORCE_QUOTE column %q not referenced by COPY", name))
		}
	}
	return forced, nil
}

// appendQuoted appends a CSV value quoted whatever it holds (FORCE_QUOTE).
func (cmd copyFrom) appendQuoted(dst, v []byte) []byte {
	dst = append(dst, cmd.quote)
	for _, b := range v {
		if b == cmd.quote || b == cmd.escape {
			dst = append(dst, cmd.escape)
		}
		dst = append(dst, b)
	}
	return append(dst, cmd.quote)
}

// appendField appends a value in the text format's escapes, or quoted as
// CSV needs it.
func (cmd copyFrom) appendField(dst, v []byte) []byte {
	if cmd.csv {
		special := len(v) == 0 && cmd.null == "" || string(v) == cmd.null
		for _, b := range v {
			if b == cmd.delim || b == cmd.quote || b == '\n' || b == '\r' {
				special = true
			}
		}
		if !special {
			return append(dst, v...)
		}
		return cmd.appendQuoted(dst, v)
	}
	for _, b := range v {
		switch b {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case cmd.delim:
			dst = append(dst, '\\', b)
		default:
			dst = append(dst, b)
		}
	}
	return dst
}

// runCopy receives the data of a COPY FROM STDIN and inserts its rows.
// It returns the command's result, or an error after which the client's
// remaining copy messages are dropped by the main loop.
func (c *conn) runCopy(cmd copyFrom) (*Result, *Error) {
	if c.sess.TxStatus() == 'E' {
		return nil, newError(codeInFailedTransaction, "current transaction is aborted, commands ignored until end of transaction block")
	}
	var oids []uint32
	if cmd.binary {
		// Binary fields carry no type: decode each as its column's type,
		// which is what the client was told when it described the table.
		cols := "*"
		if len(cmd.columns) > 0 {
			cols = strings.Join(cmd.columns, ", ")
		}
		sel := "SELECT " + cols + " FROM " + cmd.table
		ctx, done := c.execContext()
		st := pgsql.Verbatim(sel)
		desc, err := c.sess.Describe(ctx, st)
		done()
		if err != nil {
			return nil, toError(err)
		}
		oids = columnOIDs(desc.Columns, exprTypes(st, len(desc.Columns)))
	}
	var in []uint32
	if !cmd.binary {
		ctx, done := c.execContext()
		in = c.copyTypes(ctx, cmd)
		done()
	}
	overall, formats := byte(0), make([]uint16, max(len(cmd.columns), len(oids)))
	if cmd.binary {
		overall = 1
		for i := range formats {
			formats[i] = 1
		}
	}
	c.send(&pgproto3.CopyInResponse{OverallFormat: overall, ColumnFormatCodes: formats})
	c.flush()
	if c.writeErr != nil {
		return nil, newError(codeConnectionFailure, "connection lost")
	}
	implicit := c.sess.TxStatus() == 'I'
	if implicit {
		if _, e := c.execute("BEGIN", nil); e != nil {
			return nil, e
		}
	}
	var rows int64
	e := c.receiveCopy(cmd, oids, in, &rows)
	if implicit {
		end := "COMMIT"
		if e != nil {
			end = "ROLLBACK"
		}
		if _, ee := c.execute(end, nil); ee != nil && e == nil {
			e = ee
		}
	}
	if e != nil {
		return nil, e
	}
	return &Result{Tag: "COPY " + strconv.FormatInt(rows, 10)}, nil
}

// receiveCopy reads CopyData until CopyDone and inserts the rows in
// batches, counting them in *rows. A text or CSV field of a column typed
// in in is read as that type (inputText), as a literal or a parameter of
// the column would be.
func (c *conn) receiveCopy(cmd copyFrom, oids, in []uint32, rows *int64) *Error {
	p := copyParser{cmd: cmd, skipHeader: cmd.header, oids: oids}
	var batch [][]any
	total := 0
	insert := func() *Error {
		if len(batch) == 0 {
			return nil
		}
		sql, params := copyInsert(cmd, batch)
		if _, e := c.execute(sql, params); e != nil {
			// As Postgres, the message stays the statement's, so that
			// clients that read it (a constraint's name) still do.
			where := *e
			where.Where = fmt.Sprintf("COPY %s, in the rows ending at line %d", cmd.table, p.line)
			return &where
		}
		*rows += int64(len(batch))
		batch = batch[:0]
		return nil
	}
	width := max(len(cmd.columns), len(oids))
	// takeRows moves the complete rows of the data received into batches,
	// inserting each batch that is full.
	takeRows := func(final bool) *Error {
		for {
			row, ok, e := p.next(final)
			if e != nil || !ok {
				return e
			}
			if width == 0 {
				width = len(row)
			}
			if len(row) != width {
				return newError(codeBadCopyFormat, fmt.Sprintf("line %d has %d fields, want %d", p.line, len(row), width))
			}
			if e := c.copyValues(cmd, row, in, p.line); e != nil {
				return e
			}
			batch = append(batch, row)
			if len(batch) >= copyBatchRows || (len(batch)+1)*width > copyBatchParams {
				if e := insert(); e != nil {
					return e
				}
			}
		}
	}
	idle := c.srv.cfg.IdleTimeout
	for {
		if idle > 0 {
			// The idle limit applies to each message, as outside COPY.
			_ = c.nc.SetReadDeadline(time.Now().Add(idle))
		}
		msg, err := c.be.Receive()
		if err != nil {
			c.writeErr = err
			return newError(codeConnectionFailure, "connection lost during COPY")
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			total += len(m.Data)
			if total > copyMaxBytes {
				return newError(codeProgramLimitExceeded, fmt.Sprintf("COPY data exceeds %d MiB; split it into several COPY commands", copyMaxBytes>>20))
			}
			p.buf = append(p.buf, m.Data...)
			if e := takeRows(false); e != nil {
				return e
			}
		case *pgproto3.CopyDone:
			if e := takeRows(true); e != nil {
				return e
			}
			return insert()
		case *pgproto3.CopyFail:
			return newError(codeQueryCanceled, "COPY from stdin failed: "+m.Message)
		case *pgproto3.Flush, *pgproto3.Sync:
			// Allowed during COPY, and meaningless.
		default:
			return newError(codeProtocolViolation, fmt.Sprintf("unexpected message %T during COPY", msg))
		}
	}
}

// copyInsert is the INSERT of a batch of COPY rows.
func copyInsert(cmd copyFrom, batch [][]any) (string, []any) {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(cmd.table)
	if len(cmd.columns) > 0 {
		b.WriteString(" (" + strings.Join(cmd.columns, ", ") + ")")
	}
	b.WriteString(" VALUES ")
	params := make([]any, 0, len(batch)*len(batch[0]))
	for r, row := range batch {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for f, v := range row {
			if f > 0 {
				b.WriteString(", ")
			}
			params = append(params, v)
			b.WriteString("$" + strconv.Itoa(len(params)))
		}
		b.WriteByte(')')
	}
	return b.String(), params
}

// copyParser splits COPY data into rows: of string or nil fields in the
// text and CSV formats, of values decoded as oids in the binary format.
type copyParser struct {
	cmd        copyFrom
	oids       []uint32
	sawHeader  bool // binary: the signature and header were read
	buf        []byte
	line       int // lines consumed
	skipHeader bool
	ended      bool // the \. end marker was seen
}

// next returns the next complete row. At the end of the data (final) an
// unterminated last line is a row too.
func (p *copyParser) next(final bool) (row []any, ok bool, e *Error) {
	if p.cmd.binary {
		return p.nextBinary(final)
	}
	for {
		if p.ended {
			return nil, false, nil
		}
		end := p.recordEnd()
		if end < 0 {
			if !final || len(p.buf) == 0 {
				return nil, false, nil
			}
			if p.cmd.csv && p.openQuote() {
				return nil, false, newError(codeBadCopyFormat, fmt.Sprintf("unterminated CSV quoted field at line %d", p.line+1))
			}
			end = len(p.buf)
		}
		rec := p.buf[:end]
		p.buf = p.buf[min(end+1, len(p.buf)):]
		p.line += 1 + bytes.Count(rec, []byte{'\n'})
		rec = bytes.TrimSuffix(rec, []byte{'\r'})
		if string(rec) == `\.` {
			p.ended = true
			return nil, false, nil
		}
		if p.skipHeader {
			p.skipHeader = false
			continue
		}
		if p.cmd.csv {
			row, e = p.csvFields(rec)
		} else {
			row, e = p.textFields(rec)
		}
		return row, e == nil, e
	}
}

// recordEnd finds the newline that ends the first record in buf, or -1.
func (p *copyParser) recordEnd() int {
	if !p.cmd.csv {
		return bytes.IndexByte(p.buf, '\n')
	}
	quoted := false
	for i := 0; i < len(p.buf); i++ {
		c := p.buf[i]
		switch {
		case quoted && c == p.cmd.escape && p.cmd.escape != p.cmd.quote && i+1 < len(p.buf):
			i++
		case c == p.cmd.quote:
			quoted = !quoted
		case c == '\n' && !quoted:
			return i
		}
	}
	return -1
}

func (p *copyParser) openQuote() bool {
	quoted := false
	for _, c := range p.buf {
		if c == p.cmd.quote {
			quoted = !quoted
		}
	}
	return quoted
}

// textFields splits a record of the text format: fields separated by the
// delimiter, backslash escapes, \N (or the NULL string) for NULL.
func (p *copyParser) textFields(rec []byte) ([]any, *Error) {
	var row []any
	var field []byte
	raw := 0 // start of the current field in rec, to compare with NULL
	for i := 0; i <= len(rec); i++ {
		if i == len(rec) || rec[i] == p.cmd.delim {
			if string(rec[raw:i]) == p.cmd.null {
				row = append(row, nil)
			} else {
				row = append(row, string(field))
			}
			field, raw = field[:0], i+1
			continue
		}
		c := rec[i]
		if c != '\\' || i+1 >= len(rec) {
			field = append(field, c)
			continue
		}
		i++
		switch c = rec[i]; c {
		case 'b':
			field = append(field, '\b')
		case 'f':
			field = append(field, '\f')
		case 'n':
			field = append(field, '\n')
		case 'r':
			field = append(field, '\r')
		case 't':
			field = append(field, '\t')
		case 'v':
			field = append(field, '\v')
		case 'x':
			j := i + 1
			for j < len(rec) && j < i+3 && isHexDigit(rec[j]) {
				j++
			}
			if j == i+1 {
				field = append(field, 'x')
				break
			}
			v, _ := strconv.ParseUint(string(rec[i+1:j]), 16, 8)
			field = append(field, byte(v))
			i = j - 1
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(rec) && j < i+3 && rec[j] >= '0' && rec[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(string(rec[i:j]), 8, 16)
			field = append(field, byte(v))
			i = j - 1
		default:
			field = append(field, c)
		}
	}
	return row, nil
}

func isHexDigit(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// csvFields splits a CSV record: an unquoted field equal to the NULL
// string is NULL; a quoted one never is.
func (p *copyParser) csvFields(rec []byte) ([]any, *Error) {
	var row []any
	var field []byte
	quotedField, quoted := false, false
	start := 0
	for i := 0; i <= len(rec); i++ {
		if i == len(rec) || (!quoted && rec[i] == p.cmd.delim) {
			if quoted {
				return nil, newError(codeBadCopyFormat, fmt.Sprintf("unterminated CSV quoted field at line %d", p.line))
			}
			if !quotedField && string(rec[start:i]) == p.cmd.null {
				row = append(row, nil)
			} else {
				row = append(row, string(field))
			}
			field, quotedField, start = field[:0], false, i+1
			continue
		}
		c := rec[i]
		switch {
		case quoted && c == p.cmd.escape && i+1 < len(rec) && (rec[i+1] == p.cmd.quote || rec[i+1] == p.cmd.escape) && (p.cmd.escape != p.cmd.quote || rec[i+1] == p.cmd.quote):
			field = append(field, rec[i+1])
			i++
		case c == p.cmd.quote:
			quoted = !quoted
			quotedField = true
		default:
			field = append(field, c)
		}
	}
	return row, nil
}

// copyBinarySignature starts binary COPY data.
var copyBinarySignature = []byte("PGCOPY\n\xff\r\n\x00")

// nextBinary returns the next tuple of binary COPY data: an int16 field
// count (-1 ends the data), then per field an int32 length (-1 for NULL)
// and the value in its type's binary format.
func (p *copyParser) nextBinary(final bool) ([]any, bool, *Error) {
	bad := func(msg string) ([]any, bool, *Error) {
		return nil, false, newError(codeBadCopyFormat, "invalid binary COPY data: "+msg)
	}
	if p.ended {
		if len(p.buf) > 0 {
			return bad("data after the trailer")
		}
		return nil, false, nil
	}
	if !p.sawHeader {
		if len(p.buf) < len(copyBinarySignature)+8 {
			if final {
				return bad("no header")
			}
			return nil, false, nil
		}
		if !bytes.Equal(p.buf[:len(copyBinarySignature)], copyBinarySignature) {
			return bad("no PGCOPY signature")
		}
		flags := binary.BigEndian.Uint32(p.buf[11:15])
		if flags&(1<<16) != 0 {
			return bad("tuples with OIDs")
		}
		ext := int(binary.BigEndian.Uint32(p.buf[15:19]))
		if ext < 0 || ext > copyMaxBytes {
			return bad("header extension length")
		}
		if len(p.buf) < 19+ext {
			if final {
				return bad("short header extension")
			}
			return nil, false, nil
		}
		p.buf, p.sawHeader = p.buf[19+ext:], true
	}
	if len(p.buf) < 2 {
		if final && len(p.buf) > 0 {
			return bad("truncated tuple")
		}
		// The end of the data; the trailer is optional (pgx sends none).
		return nil, false, nil
	}
	n := int(int16(binary.BigEndian.Uint16(p.buf)))
	if n == -1 {
		p.buf, p.ended = p.buf[2:], true
		return p.nextBinary(final)
	}
	if n != len(p.oids) {
		return nil, false, newError(codeBadCopyFormat, fmt.Sprintf("row %d has %d fields, want %d", p.line+1, n, len(p.oids)))
	}
	// Decode only once the whole tuple is here.
	at := 2
	for i := 0; i < n; i++ {
		if len(p.buf) < at+4 {
			return p.incomplete(final)
		}
		size := int(int32(binary.BigEndian.Uint32(p.buf[at:])))
		at += 4
		if size < -1 || size > copyMaxBytes {
			return bad("field length")
		}
		if size > 0 {
			if len(p.buf) < at+size {
				return p.incomplete(final)
			}
			at += size
		}
	}
	row := make([]any, n)
	at = 2
	for i := 0; i < n; i++ {
		size := int(int32(binary.BigEndian.Uint32(p.buf[at:])))
		at += 4
		if size == -1 {
			continue
		}
		v, err := decodeParam(p.buf[at:at+size], p.oids[i], formatBinary)
		if err != nil {
			e := toError(err)
			e.Message = fmt.Sprintf("%s (row %d, field %d)", e.Message, p.line+1, i+1)
			return nil, false, e
		}
		row[i] = v
		at += size
	}
	p.buf = p.buf[at:]
	p.line++
	return row, true, nil
}

func (p *copyParser) incomplete(final bool) ([]any, bool, *Error) {
	if final {
		return nil, false, newError(codeBadCopyFormat, "invalid binary COPY data: truncated tuple")
	}
	return nil, false, nil
}

// copyTypes returns, by field, the type a text or CSV field of COPY FROM
// is read as: its column's, as the committed schema declares it (the
// literals' types, literalOID), oidUnknown for a column stored as
// written; nil when no column is typed or the schema cannot tell.
func (c *conn) copyTypes(ctx context.Context, cmd copyFrom) []uint32 {
	typer, ok := c.sess.(ParamTyper)
	if !ok || cmd.tableName == "" {
		return nil
	}
	var decls []string
	if len(cmd.columnNames) > 0 {
		cols := make([]pgsql.ParamColumn, len(cmd.columnNames))
		for i, name := range cmd.columnNames {
			cols[i] = pgsql.ParamColumn{Table: cmd.tableName, Column: name}
		}
		decls = typer.ColumnTypes(ctx, cols)
	} else if tt, ok := c.sess.(TableLister); ok {
		decls = tt.TableTypes(ctx, cmd.tableName)
	}
	var in []uint32
	for i, d := range decls {
		if oid := literalOID(d); oid != oidUnknown {
			if in == nil {
				in = make([]uint32, len(decls))
			}
			in[i] = oid
		}
	}
	return in
}

// copyValues reads the fields of row, a text or CSV row of COPY FROM at
// line, as the types in (copyTypes); the error of a field its type
// refuses says where, as Postgres' CONTEXT does.
func (c *conn) copyValues(cmd copyFrom, row []any, in []uint32, line int) *Error {
	for f, v := range row {
		s, ok := v.(string)
		if !ok || f >= len(in) || in[f] == oidUnknown || keptAsWritten(s, in[f]) {
			continue
		}
		val, err := inputText(s, in[f], c.loc)
		if err != nil {
			e := *toError(err)
			name := ""
			if f < len(cmd.columns) {
				name = cmd.columns[f]
			} else if res, ee := c.execute("SELECT name FROM pragma_table_info($1) LIMIT 1 OFFSET $2", []any{bare(cmd.table), int64(f)}); ee == nil && len(res.Rows) == 1 {
				name, _ = res.Rows[0][0].(string)
			}
			e.Where = fmt.Sprintf("COPY %s, line %d, column %s: \"%s\"", cmd.table, line, name, s)
			return &e
		}
		row[f] = val
	}
	return nil
}
