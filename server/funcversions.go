package server

import (
	"context"
	"strings"

	"github.com/raftsql/raftsql/fsm"
	"github.com/raftsql/raftsql/fsm/command"
)

// A node of an older release lacks the SQL functions a newer one added: it
// would fail, with "no such function", a write the others apply, and the
// nodes would diverge. Every Go function the state machine registers
// therefore carries the entry version of the release that added it
// (fsm.Func.Since), and while some member advertises a lower entry version
// the leader refuses, before proposing it, a statement that calls such a
// function (directly, or through a column DEFAULT, a trigger or a view it
// uses, or through what a CREATE TABLE, CREATE INDEX or ALTER TABLE stores
// in the schema), with ErrNotUpgraded.
//
// Adding a function: give it the current command.EntryVersion in
// funcSince (raising EntryVersion, with a line in its list, when this
// release has not already). TestFuncsHaveVersions fails for a function
// that is in neither table.

// baseFuncs are the functions of the releases before functions carried a
// version: every node of the cluster has them.
var baseFuncs = map[string]bool{
	"version": true, "current_schemas": true, "format_type": true, "pg_encoding_to_char": true,
	"pg_typeof": true, "array_to_string": true, "array_upper": true, "array_lower": true,
	"array_length": true, "cardinality": true, "quote_ident": true, "_pg_visible": true,
	"_pg_viewquery": true, "_pg_oid": true, "_pg_regclass": true, "_pg_regtype": true,
	"_pg_regtype_name": true, "_pg_subscripts": true, "_pg_array_lower": true, "_pg_bool": true,
	"_pg_array_get": true, "_pg_array_contains": true, "_pg_set_config": true, "array_remove": true,
	"quote_literal": true, "_pg_array_elem": true, "_pg_array_json": true, "_pg_typeoid": true,
	"_pg_conname": true, "_pg_typmod": true, "_pg_sqltype": true, "regexp": true,
	"_pg_divisor": true, "_pg_series_step": true, "_pg_array": true, "_pg_array_text": true,
	"to_char": true, "lpad": true, "rpad": true, "md5": true,
	"_pg_json_text": true, "repeat": true, "regexp_replace": true, "split_part": true,
	"left": true, "right": true, "reverse": true, "initcap": true,
	"translate": true, "starts_with": true, "to_hex": true, "format": true,
	"quote_nullable": true, "encode": true, "decode": true, "sha224": true,
	"sha256": true, "sha384": true, "sha512": true, "div": true,
	"mod": true, "gcd": true, "lcm": true, "cbrt": true,
	"trunc": true, "width_bucket": true, "json_typeof": true, "jsonb_typeof": true,
	"_pg_json_path": true, "_pg_json_path_text": true,
}

// funcSince is the entry version of each function added since the base.
var funcSince = map[string]int{
	"nextval": 5, "setval": 5, "currval": 5, "raftsql_currval": 5, // inside statements and DEFAULTs
	"_pg_date_trunc": 5, "_pg_date_part": 5, "_pg_at_zone": 5, "_pg_from_zone": 5, // the session's TimeZone
	"_pg_size_pretty": 5, "_pg_relname": 5,
	"_pg_jsonb_contains": 6, "_pg_jsonb_contained": 6, "_pg_jsonb_exists": 6, // jsonb's @>, <@, ?, ?| and ?&
	"_pg_jsonb_exists_any": 6, "_pg_jsonb_exists_all": 6,
	"to_timestamp": 6, "_pg_jsonb_concat": 6, "_pg_jsonb_delete": 6, "_pg_jsonb_set": 6, "_pg_jsonb_insert": 6, // jsonb's ||, -, jsonb_set, jsonb_insert
}

// sinceOf is the Since of the function named name: a function in neither
// table counts as one of this release.
func sinceOf(name string) int {
	name = strings.ToLower(name)
	if baseFuncs[name] {
		return 0
	}
	if v, ok := funcSince[name]; ok {
		return v
	}
	return command.EntryVersion
}

// checkFuncs is the leader's check, before it proposes cmd, that every
// member has the functions its statements call. When every member reads
// this build's entry version, the usual case, it is one atomic load.
func (n *Node) checkFuncs(ctx context.Context, cmd *command.Command) error {
	st := n.versions.state.Load()
	if st.entry >= command.EntryVersion || cmd.Kind == command.KindQuery {
		return nil
	}
	judge := false
	for _, s := range cmd.Statements {
		info, err := n.statementInfo(ctx, s.SQL)
		if err != nil {
			// It may use a table an earlier statement of cmd creates.
			judge = true
			continue
		}
		if info.FuncSince > st.entry {
			return funcsRefused(st, info.Func, info.FuncSince)
		}
		judge = judge || info.Schema
	}
	if !judge {
		return nil
	}
	sqls := make([]string, len(cmd.Statements))
	for i, s := range cmd.Statements {
		sqls[i] = s.SQL
	}
	return n.missingFuncs(ctx, st, sqls)
}

// statementInfo is what the state machine says of sql, from the cache of
// the sessions' descriptions when it holds it for the current schema.
func (n *Node) statementInfo(ctx context.Context, sql string) (fsm.Info, error) {
	gen := n.fsm.SchemaGeneration()
	n.infoMu.RLock()
	c, ok := n.infos[sql]
	n.infoMu.RUnlock()
	if ok && c.gen == gen {
		return c.info, nil
	}
	return n.fsm.Classify(ctx, sql)
}

// checkTxFuncs is checkFuncs for the statement sql of tx, which runs on
// tx's write connection before the commit proposes it with the statements
// before (done).
func (n *Node) checkTxFuncs(ctx context.Context, tx *fsm.WriteTx, done []command.Statement, sql string) error {
	st := n.versions.state.Load()
	if st.entry >= command.EntryVersion {
		return nil
	}
	info, err := tx.Classify(sql)
	if err != nil {
		return nil // running it reports the error
	}
	if info.FuncSince > st.entry {
		return funcsRefused(st, info.Func, info.FuncSince)
	}
	if !info.Schema {
		return nil
	}
	// Judged on the committed schema with what the transaction did to it.
	sqls := make([]string, 0, len(done)+1)
	for _, s := range done {
		sqls = append(sqls, s.SQL)
	}
	return n.missingFuncs(ctx, st, append(sqls, sql))
}

// missingFuncs refuses sqls, run in order, when they, or what they store in
// the schema (a CHECK, a DEFAULT, an index, a view, a trigger), call a
// function that a member reading entry version st.entry lacks, now or when
// a later write uses it (fsm.MissingFuncFor).
func (n *Node) missingFuncs(ctx context.Context, st *gateState, sqls []string) error {
	name, since, err := n.fsm.MissingFuncFor(ctx, sqls, st.entry)
	if err != nil {
		return err
	}
	if name == "" {
		return nil
	}
	return funcsRefused(st, name, since)
}

// funcsRefused is ErrNotUpgraded for a statement that calls the function
// name, of entry version since, which the member st.entryNode lacks.
func funcsRefused(st *gateState, name string, since int) error {
	version := st.entry
	if !st.entryKnown {
		version = 0
	}
	return &notUpgradedError{node: st.entryNode, version: version, need: since, what: "entry",
		op: "the function " + name + ", which that node does not have"}
}
