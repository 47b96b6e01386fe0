package driver

import (
	"database/sql/driver"
	"fmt"
	"io"
	"reflect"

	"github.com/jackc/pgx/v5/pgproto3"
)

var (
	_ driver.Rows                           = (*rows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
	_ driver.RowsColumnTypeNullable         = (*rows)(nil)
)

// rows is a result: either buffered (writes with RETURNING, so that they
// can be resent) or streamed from the connection (reads).
type rows struct {
	c         *conn
	fields    []field
	buf       [][]driver.Value // buffered rows not yet returned
	pending   []driver.Value   // the first streamed row, read ahead
	streaming bool             // more of the result is on the connection
	err       error            // the error that ended the stream
}

func (r *rows) Columns() []string {
	names := make([]string, len(r.fields))
	for i, f := range r.fields {
		names[i] = f.name
	}
	return names
}

func (r *rows) ColumnTypeDatabaseTypeName(i int) string { return typeName(r.fields[i].oid) }

func (r *rows) ColumnTypeScanType(i int) reflect.Type { return scanType(r.fields[i].oid) }

// ColumnTypeNullable reports that nullability is unknown: SQLite does not
// enforce declared types, and the server does not say.
func (r *rows) ColumnTypeNullable(i int) (nullable, ok bool) { return true, false }

func (r *rows) Next(dest []driver.Value) error {
	if r.pending != nil {
		copy(dest, r.pending)
		r.pending = nil
		return nil
	}
	if len(r.buf) > 0 {
		copy(dest, r.buf[0])
		r.buf = r.buf[1:]
		return nil
	}
	if !r.streaming {
		if r.err != nil {
			return r.err
		}
		return io.EOF
	}
	w := r.c.w
	for {
		msg, err := w.recv()
		if err != nil {
			r.streaming = false
			r.c.bad = true
			r.err = fmt.Errorf("raftsql: connection lost while reading rows: %w", err)
			return r.err
		}
		switch m := msg.(type) {
		case *pgproto3.DataRow:
			if len(m.Values) != len(r.fields) || len(dest) < len(m.Values) {
				r.streaming = false
				r.err = r.c.fail(fmt.Errorf("raftsql: server sent %d values for %d columns", len(m.Values), len(r.fields)))
				return r.err
			}
			for i, v := range m.Values {
				dv, err := decodeValue(r.fields[i].oid, r.fields[i].format, v)
				if err != nil {
					r.err = fmt.Errorf("raftsql: column %q: %w", r.fields[i].name, err)
					r.drain()
					return r.err
				}
				dest[i] = dv
			}
			return nil
		case *pgproto3.CommandComplete, *pgproto3.EmptyQueryResponse, *pgproto3.PortalSuspended:
			r.drain()
			if r.err != nil {
				return r.err
			}
			return io.EOF
		case *pgproto3.ErrorResponse:
			r.err = serverError(m)
			r.drain()
			return r.err
		case *pgproto3.ReadyForQuery:
			r.streaming = false
			return io.EOF
		}
	}
}

// drain reads up to the ReadyForQuery that ends the result.
func (r *rows) drain() {
	for r.streaming {
		msg, err := r.c.w.recv()
		if err != nil {
			r.streaming = false
			r.c.bad = true
			if r.err == nil {
				r.err = err
			}
			return
		}
		switch m := msg.(type) {
		case *pgproto3.ErrorResponse:
			if r.err == nil {
				r.err = serverError(m)
			}
		case *pgproto3.ReadyForQuery:
			r.streaming = false
		}
	}
}

// Close reads away the rest of the result.
func (r *rows) Close() error {
	r.pending = nil
	r.buf = nil
	r.drain()
	if r.c.rows == r {
		r.c.rows = nil
	}
	return nil
}
