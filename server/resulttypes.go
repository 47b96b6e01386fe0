package server

import (
	"context"
	"strings"

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
		if s.missingTables[c.Table] == gen+1 {
			continue
		}
		info, err := s.describe(ctx, `SELECT * FROM "`+strings.ReplaceAll(c.Table, `"`, `""`)+`"`)
		if err != nil {
			if strings.Contains(err.Error(), "no such table") {
				if s.missingTables == nil || len(s.missingTables) >= maxMissingTables {
					s.missingTables = map[string]uint64{}
				}
				s.missingTables[c.Table] = gen + 1
			}
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

// maxMissingTables bounds the tables a session remembers the committed
// schema lacks.
const maxMissingTables = 64
