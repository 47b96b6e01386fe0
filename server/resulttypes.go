package server

import (
	"context"
	"strings"

	"github.com/raftsql/raftsql/fsm"
	"github.com/raftsql/raftsql/pgwire"
	"github.com/raftsql/raftsql/pgwire/pgsql"
)

var _ pgwire.TableTyper = (*session)(nil)

// TableColumnTypes returns the declared types of cols as the committed
// schema says, "" for a column it does not describe: it describes each
// table once, whole (the describe cache, by schema generation), and finds
// the columns in it the way SQLite resolves a name, without regard to
// case. A table the committed schema does not have (one the session's open
// block created) fails to describe only after a read barrier, a round trip
// to the leader; it is remembered at the schema generation, so that the
// block's statements do not each wait for the leader to say so again. It
// never looks into the session's transaction block.
func (s *session) TableColumnTypes(ctx context.Context, cols []pgsql.ParamColumn) []string {
	types := make([]string, len(cols))
	gen := s.n.fsm.SchemaGeneration()
tables:
	for i, c := range cols {
		for _, d := range cols[:i] {
			if d.Table == c.Table {
				continue tables // described with it
			}
		}
		info, ok := s.describeTableAt(ctx, c.Table, gen)
		if !ok {
			continue
		}
		// Every column of cols in this table, from its one description.
		for k := i; k < len(cols); k++ {
			if cols[k].Table != c.Table {
				continue
			}
			for _, col := range info.Columns {
				if strings.EqualFold(col.Name, cols[k].Column) {
					types[k] = col.DeclType
					break
				}
			}
		}
	}
	return types
}

// describeTable describes table whole from the committed schema (the
// describe cache); ok is false when it cannot, a table the schema lacks
// being remembered at the schema generation.
func (s *session) describeTable(ctx context.Context, table string) (fsm.Info, bool) {
	return s.describeTableAt(ctx, table, s.n.fsm.SchemaGeneration())
}

func (s *session) describeTableAt(ctx context.Context, table string, gen uint64) (fsm.Info, bool) {
	if s.missingTables[table] == gen+1 {
		return fsm.Info{}, false
	}
	info, err := s.describe(ctx, `SELECT * FROM "`+strings.ReplaceAll(table, `"`, `""`)+`"`)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			if s.missingTables == nil || len(s.missingTables) >= maxMissingTables {
				s.missingTables = map[string]uint64{}
			}
			s.missingTables[table] = gen + 1
		}
		return fsm.Info{}, false
	}
	return info, true
}

// maxMissingTables bounds the tables a session remembers the committed
// schema lacks.
const maxMissingTables = 64
