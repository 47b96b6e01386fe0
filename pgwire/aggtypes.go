package pgwire

import (
	"context"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// aggregateTypes are the types of st's result columns that are an
// aggregate or window function of a table column (Statement.Aggregates),
// by result column (0: the front end's type stands), from the columns'
// declared types as the session's ParamTyper tells them: the committed
// schema, never the session's open transaction block, and no Describe or
// Execute of the session. nil when st has none or the session cannot tell.
func (c *conn) aggregateTypes(ctx context.Context, st *pgsql.Statement) []uint32 {
	ag := st.Aggregates
	if ag == nil || st.Err != nil {
		return nil
	}
	pt, ok := c.sess.(ParamTyper)
	if !ok {
		return nil
	}
	decls := pt.ColumnTypes(ctx, ag.Columns)
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
