package pgwire

import (
	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// commandTag returns the CommandComplete tag for a statement that ran:
// res.Tag when the session chose one, else the statement's own, with the
// row count Postgres puts in it. rowsSent is the number of rows sent for
// the statement.
func commandTag(st *pgsql.Statement, res *Result, rowsSent int64) string {
	if res != nil && res.Tag != "" {
		return res.Tag
	}
	var affected int64
	hasRows := false
	if res != nil {
		affected = res.RowsAffected
		hasRows = res.Columns != nil
		if affected == 0 && len(res.Rows) > 0 {
			affected = int64(len(res.Rows))
		}
	}
	return st.Tag(affected, rowsSent, hasRows)
}

// exprTypes are the types of a statement's result columns where its text
// gives them (casts, literals, some functions), by position; nil when the
// text does not list ncols columns (SELECT *), 0 for a column it does not
// type.
func exprTypes(st *pgsql.Statement, ncols int) []uint32 {
	if st.Columns == nil && st.Items != nil {
		return starExprTypes(st.Items, ncols)
	}
	if st.Columns == nil || len(st.Columns) != ncols {
		return nil
	}
	out := make([]uint32, ncols)
	for i, col := range st.Columns {
		if col.Type != "" {
			out[i] = declOID(col.Type)
		}
	}
	return out
}

// starExprTypes gives the result columns before the first * and after the
// last the types of their select-list items.
func starExprTypes(items []pgsql.Column, ncols int) []uint32 {
	first, last := -1, -1
	for i, it := range items {
		if it.Name == "*" {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	after := len(items) - 1 - last
	if first < 0 || first+after > ncols {
		return nil
	}
	out := make([]uint32, ncols)
	for i := 0; i < first; i++ {
		if items[i].Type != "" {
			out[i] = declOID(items[i].Type)
		}
	}
	for k := 0; k < after; k++ {
		if t := items[last+1+k].Type; t != "" {
			out[ncols-after+k] = declOID(t)
		}
	}
	return out
}

// resultExprTypes is exprTypes for the result st gave.
func resultExprTypes(st *pgsql.Statement, res *Result) []uint32 {
	if res.ran != nil {
		st = res.ran
	}
	return withAggregates(exprTypes(st, len(res.Columns)), res.aggs)
}

// frontEndError is the error of a statement the front end refused.
func frontEndError(e *pgsql.Error) *Error {
	return &Error{Code: e.Code, Message: e.Message, Position: e.Position}
}
