package server

import (
	"context"

	"github.com/raftsql/raftsql/pgwire"
	"github.com/raftsql/raftsql/pgwire/pgsql"
)

var _ pgwire.ParamTyper = (*session)(nil)

// ColumnTypes returns the declared types of cols, as the committed schema
// says (the describe cache, by schema generation), "" for a column it
// cannot describe. It never looks into the session's open transaction
// block: a table created there is not described yet, and its columns'
// parameters stay untyped.
func (s *session) ColumnTypes(ctx context.Context, cols []pgsql.ParamColumn) []string {
	types := make([]string, len(cols))
	for i, c := range cols {
		info, err := s.describe(ctx, c.Probe())
		if err != nil || len(info.Columns) != 1 {
			continue
		}
		types[i] = info.Columns[0].DeclType
	}
	return types
}

var _ pgwire.TableLister = (*session)(nil)

// TableTypes returns the declared types of table's columns in order, as
// the committed schema says (the describe cache, and the tables it lacks
// remembered as TableColumnTypes remembers them), nil when it cannot
// describe the table; like ColumnTypes, never from the session's open
// transaction block.
func (s *session) TableTypes(ctx context.Context, table string) []string {
	info, ok := s.describeTable(ctx, table)
	if !ok {
		return nil
	}
	types := make([]string, len(info.Columns))
	for i, c := range info.Columns {
		types[i] = c.DeclType
	}
	return types
}
