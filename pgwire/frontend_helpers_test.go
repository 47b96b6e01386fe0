package pgwire

import "github.com/raftsql/raftsql/pgwire/pgsql"

// The tests of statement splitting, placeholders and tags predate the
// front end; these adapt them to it.

type statement struct {
	sql    string
	offset int
}

func splitStatements(q string) []statement {
	var out []statement
	for _, p := range pgsql.Split(q) {
		out = append(out, statement{sql: p.SQL, offset: p.Offset})
	}
	return out
}

func countParams(sql string) int { return pgsql.Parse(sql).NumParams }

func mainVerb(sql string) string { return pgsql.Parse(sql).Verb }

func inferParamTypes(sql string, oids []uint32) {
	for i, p := range pgsql.Parse(sql).Params {
		if i < len(oids) && oids[i] == oidUnknown && p.Type != "" {
			oids[i] = declOID(p.Type)
		}
	}
}
