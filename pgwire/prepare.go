package pgwire

import (
	"context"
	"fmt"
	"strings"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// This file runs PREPARE and EXECUTE sent as SQL. A statement PREPARE
// makes is kept with those of the Parse message, in one namespace per
// connection, as Postgres keeps them: DEALLOCATE, Close and DISCARD ALL
// drop either kind, and EXECUTE runs either kind. EXECUTE runs the
// prepared text with its arguments in place of the $n, parsed as any
// statement, so the server routes it as what it is (a write through the
// log, a read as the session's reads go).

// prepareSQL runs PREPARE.
func (c *conn) prepareSQL(ctx context.Context, st *pgsql.Statement) (*Result, *Error) {
	pr := st.Prepare
	if _, ok := c.stmts[pr.Name]; ok {
		return nil, newError(codeDuplicatePStatement, fmt.Sprintf("prepared statement %q already exists", pr.Name))
	}
	body := c.srv.stmts.Parse(pr.Body)
	if body.Err != nil {
		e := frontEndError(body.Err)
		if e.Position > 0 {
			e.Position += charOffset(st.Source, pr.BodyOffset)
		}
		return nil, e
	}
	n := body.NumParams
	if n < 0 || len(pr.Types) > maxParams {
		return nil, newError(codeProgramLimitExceeded, fmt.Sprintf("too many parameters: at most %d are allowed", maxParams))
	}
	ps := &prepStmt{name: pr.Name, sql: pr.Body, st: body, sqlTypes: pr.Types,
		offset: charOffset(st.Source, pr.BodyOffset)}
	ps.paramOIDs = make([]uint32, max(n, len(pr.Types)))
	for i, typ := range pr.Types {
		ps.paramOIDs[i] = declOID(typ)
	}
	for i, p := range body.Params {
		if ps.paramOIDs[i] == oidUnknown && p.Type != "" {
			ps.paramOIDs[i] = declOID(p.Type)
		}
	}
	if cols, at := c.untypedColumns(body, ps.paramOIDs); cols != nil {
		c.columnParamTypes(ctx, cols, at, ps.paramOIDs)
	}
	c.stmts[pr.Name] = ps
	return &Result{Tag: "PREPARE"}, nil
}

// bindExecute returns the statement an EXECUTE runs: the prepared one
// with the arguments in place of its parameters, each cast to the
// parameter's type.
func (c *conn) bindExecute(st *pgsql.Statement) (*pgsql.Statement, *Error) {
	ex := st.Execute
	ps, ok := c.stmts[ex.Name]
	if !ok || ex.Name == "" {
		return nil, newError(codeInvalidSQLStatement, fmt.Sprintf("prepared statement %q does not exist", ex.Name))
	}
	if ps.empty || ps.local != nil || (ps.st.Kind != pgsql.Read && ps.st.Kind != pgsql.Write && ps.st.Kind != pgsql.CatalogRead) {
		return nil, newError(codeFeatureNotSupported, fmt.Sprintf("EXECUTE of prepared statement %q, which is no SELECT, INSERT, UPDATE or DELETE, is not supported", ex.Name))
	}
	if len(ex.Args) != len(ps.paramOIDs) {
		e := newError(codeSyntaxError, fmt.Sprintf("wrong number of parameters for prepared statement %q", ex.Name))
		e.Detail = fmt.Sprintf("Expected %d parameters but got %d.", len(ps.paramOIDs), len(ex.Args))
		return nil, e
	}
	if len(ex.Args) == 0 {
		return ps.st, nil
	}
	types := make([]string, len(ps.paramOIDs))
	for i, oid := range ps.paramOIDs {
		switch {
		case i < len(ps.sqlTypes):
			types[i] = ps.sqlTypes[i]
		case oid != oidUnknown:
			types[i] = typeName(oid)
		}
	}
	bound := c.srv.stmts.Parse(pgsql.Bind(ps.sql, types, ex.Args))
	if bound.Err != nil {
		// A position in the bound text points at nothing the client wrote.
		e := frontEndError(bound.Err)
		e.Position = 0
		return nil, e
	}
	return bound, nil
}

// withInsertColumns is st, an INSERT … VALUES (DEFAULT, …) without a
// column list that the front end refused, with the table's columns
// named, as the session describes the table, and with the defaults of
// the columns some rows give DEFAULT and others values filled in
// (withColumnDefaults); st itself when it is not such a statement or the
// table cannot be described.
func (c *conn) withInsertColumns(ctx context.Context, st *pgsql.Statement) *pgsql.Statement {
	if _, _, ok := st.DefaultsWanted(); ok {
		return c.withColumnDefaults(st)
	}
	if st.Err == nil || st.Err.Code != codeFeatureNotSupported || !strings.Contains(st.Err.Message, "without a column list") {
		return st
	}
	table, at, items, ok := st.InsertTable()
	if !ok {
		return st
	}
	desc, err := c.sess.Describe(ctx, pgsql.Parse("SELECT * FROM "+table))
	if err != nil || len(desc.Columns) < items {
		return st
	}
	names := make([]string, items)
	for i := range names {
		names[i] = desc.Columns[i].Name
	}
	return c.withColumnDefaults(c.srv.stmts.Parse(st.WithColumns(at, names)))
}
