package pgwire

import (
	"context"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// aggregateTypes are the types of st's result columns that are an
// aggregate or window function of a table column (Statement.Aggregates),
// by result column (0: the front end's type stands), from the columns'
// declared types as the session's TableTyper (or ParamTyper) tells them:
// the committed schema, never the session's open transaction block, and no
// Describe or Execute of the session. nil when st has none or the session cannot tell.
func (c *conn) aggregateTypes(ctx context.Context, st *pgsql.Statement) []uint32 {
	ag := st.Aggregates
	if ag == nil || st.Err != nil {
		return nil
	}
	var decls []string
	switch t := c.sess.(type) {
	case TableTyper:
		decls = t.TableColumnTypes(ctx, ag.Columns)
	case ParamTyper:
		decls = t.ColumnTypes(ctx, ag.Columns)
	default:
		return nil
	}
	types := make([]string, len(decls))
	for i, d := range decls {
		types[i] = frontEndTypes[declOID(d)]
	}
	var oids []uint32
	for _, it := range ag.Items {
		t := it.Type(types)
		if t == "" || it.Result >= len(st.Columns) {
			continue
		}
		if oids == nil {
			oids = make([]uint32, len(st.Columns))
		}
		oids[it.Result] = declOID(t)
	}
	return oids
}

// TableTyper is implemented by a Session that can tell the declared types
// of table columns a table at a time: like ParamTyper's ColumnTypes, from
// the committed schema and never from the session's open transaction
// block, and it may remember which tables that schema lacks. pgwire asks
// it, or else ParamTyper, for the columns of Statement.Aggregates, where
// an unqualified name over a join names a column of every table and a
// statement in a block may name a table the block created.
type TableTyper interface {
	// TableColumnTypes returns the declared type of each of cols, ""
	// for a column it cannot tell.
	TableColumnTypes(ctx context.Context, cols []pgsql.ParamColumn) []string
}

// withAggregates is exprs with the types of aggs (aggregateTypes) where
// they have one.
func withAggregates(exprs, aggs []uint32) []uint32 {
	if aggs == nil || len(exprs) != len(aggs) {
		return exprs
	}
	out := make([]uint32, len(exprs))
	for i, oid := range exprs {
		if aggs[i] != oidUnknown {
			oid = aggs[i]
		}
		out[i] = oid
	}
	return out
}

// frontEndTypes are the front end's names of the types a declared column
// has (declOID), for pgsql.Aggregate.Type.
var frontEndTypes = map[uint32]string{
	oidBool: "bool", oidBytea: "bytea", oidName: "name", oidInt8: "int8", oidInt2: "int2", oidInt4: "int4",
	oidText: "text", oidJSON: "json", oidFloat4: "float4", oidFloat8: "float8", oidBPChar: "bpchar",
	oidVarchar: "varchar", oidDate: "date", oidTime: "time", oidTimestamp: "timestamp",
	oidTimestampTZ: "timestamptz", oidNumeric: "numeric", oidUUID: "uuid", oidJSONB: "jsonb",
}
