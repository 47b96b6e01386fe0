package pgwire

import (
	"context"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// This file shows an EXPLAIN as Postgres does: the front end ran it as
// SQLite's EXPLAIN QUERY PLAN, a read; its rows (id, parent, notused,
// detail) become one text column, "QUERY PLAN", a line per plan node.

// planColumns are the result columns of an EXPLAIN.
func planColumns() []Column {
	return []Column{{Name: pgsql.PlanColumn, DeclType: textColumn}}
}

// planResult reads res, SQLite's plan rows, to the end and returns the
// plan's lines as Postgres' EXPLAIN result.
func (c *conn) planResult(ctx context.Context, ex *pgsql.Explain, res *Result) (*Result, *Error) {
	var rows []pgsql.PlanRow
	add := func(row []any) {
		if len(row) < 4 {
			return
		}
		id, _ := row[0].(int64)
		parent, _ := row[1].(int64)
		rows = append(rows, pgsql.PlanRow{ID: id, Parent: parent, Detail: asString(row[3])})
	}
	for _, row := range res.Rows {
		add(row)
	}
	if src := res.Stream; src != nil {
		defer src.Close()
		for {
			row, err := src.Next(ctx)
			if err != nil {
				return nil, c.stmtError(err)
			}
			if row == nil {
				break
			}
			add(row)
		}
	}
	lines := ex.PlanLines(rows)
	out := &Result{Columns: planColumns(), Rows: make([][]any, len(lines))}
	for i, l := range lines {
		out.Rows[i] = []any{l}
	}
	return out, nil
}
