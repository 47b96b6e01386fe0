package catalog

import (
	"fmt"
	"sort"
	"strings"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// Relation is a catalog relation as a statement reads it.
type Relation struct {
	Schema, Name string
	// sqlite is the name of the TEMP VIEW that holds it, for a relation
	// every session sees alike.
	sqlite string
	// session is the query that stands for it where it reports the
	// session's user or database ({{user}}, {{db}}): the rewrite inlines
	// it as a subquery.
	session string
	// def is the view's query.
	def string
	// seqRows are the relation's rows for the sequences made with CREATE
	// SEQUENCE, where it lists them ("" where it does not).
	seqRows string
	// enumRows are the relation's rows for the enum types (enum.go).
	enumRows string
}

// SQLite is the text that reads r in a FROM clause of SQLite SQL.
func (r Relation) SQLite(env Env) string {
	return (&rewriter{env: env}).relationText(r)
}

// view is one relation's definition: helper views (schema "") come first,
// in the order they depend on each other.
type view struct {
	schema, name, sql string
}

// The empty relations: what raftsql has none of (policies, triggers,
// publications, inheritance, …), with the columns tools select.
var emptyRelations = map[string]string{
	"pg_description":           "objoid, classoid, objsubid, description",
	"pg_shdescription":         "objoid, classoid, description",
	"pg_db_role_setting":       "setdatabase, setrole, setconfig",
	"pg_range":                 "rngtypid, rngsubtype, rngmultitypid, rngcollation, rngsubopc, rngcanonical, rngsubdiff",
	"pg_enum":                  "oid, enumtypid, enumsortorder, enumlabel",
	"pg_extension":             "oid, extname, extowner, extnamespace, extrelocatable, extversion, extconfig, extcondition",
	"pg_inherits":              "inhrelid, inhparent, inhseqno, inhdetachpending",
	"pg_policy":                "oid, polname, polrelid, polcmd, polpermissive, polroles, polqual, polwithcheck",
	"pg_statistic_ext":         "oid, stxrelid, stxname, stxnamespace, stxowner, stxstattarget, stxkeys, stxkind, stxexprs",
	"pg_publication":           "oid, pubname, pubowner, puballtables, pubinsert, pubupdate, pubdelete, pubtruncate, pubviaroot",
	"pg_publication_rel":       "oid, prpubid, prrelid, prqual, prattrs",
	"pg_publication_namespace": "oid, pnpubid, pnnspid",
	"pg_trigger": "oid, tgrelid, tgparentid, tgname, tgfoid, tgtype, tgenabled, tgisinternal, tgconstrrelid, " +
		"tgconstrindid, tgconstraint, tgdeferrable, tginitdeferred, tgnargs, tgattr, tgargs, tgqual, tgoldtable, tgnewtable",
	"pg_partitioned_table": "partrelid, partstrat, partnatts, partdefid, partattrs, partclass, partcollation, partexprs",
	"pg_rewrite":           "oid, rulename, ev_class, ev_type, ev_enabled, is_instead, ev_qual, ev_action",
	"pg_auth_members":      "oid, roleid, member, grantor, admin_option",
	"pg_foreign_table":     "ftrelid, ftserver, ftoptions",
	"pg_event_trigger":     "oid, evtname, evtevent, evtowner, evtfoid, evtenabled, evttags",
	"pg_proc": "oid, proname, pronamespace, proowner, prolang, procost, prorows, provariadic, prosupport, prokind, " +
		"prosecdef, proleakproof, proisstrict, proretset, provolatile, proparallel, pronargs, pronargdefaults, " +
		"prorettype, proargtypes, proallargtypes, proargmodes, proargnames, proargdefaults, protrftypes, prosrc, " +
		"probin, prosqlbody, proconfig, proacl",
	"pg_opclass":    "oid, opcmethod, opcname, opcnamespace, opcowner, opcfamily, opcintype, opcdefault, opckeytype",
	"pg_conversion": "oid, conname, connamespace, conowner, conforencoding, contoencoding, conproc, condefault",
	"pg_operator": "oid, oprname, oprnamespace, oprowner, oprkind, oprcanmerge, oprcanhash, oprleft, oprright, " +
		"oprresult, oprcom, oprnegate, oprcode, oprrest, oprjoin",
	"pg_foreign_data_wrapper": "oid, fdwname, fdwowner, fdwhandler, fdwvalidator, fdwacl, fdwoptions",
	"pg_foreign_server":       "oid, srvname, srvowner, srvfdw, srvtype, srvversion, srvacl, srvoptions",
	"pg_default_acl":          "oid, defaclrole, defaclnamespace, defaclobjtype, defaclacl",
	"pg_init_privs":           "objoid, classoid, objsubid, privtype, initprivs",
	"pg_seclabel":             "objoid, classoid, objsubid, provider, label",
	"pg_cast":                 "oid, castsource, casttarget, castfunc, castcontext, castmethod",
	"pg_aggregate":            "aggfnoid, aggkind, aggnumdirectargs, aggtransfn, aggfinalfn",
	"pg_language":             "oid, lanname, lanowner, lanispl, lanpltrusted, lanplcallfoid, laninline, lanvalidator, lanacl",
	"pg_opfamily":             "oid, opfmethod, opfname, opfnamespace, opfowner",
	"pg_amop":                 "oid, amopfamily, amoplefttype, amoprighttype, amopstrategy, amoppurpose, amopopr, amopmethod, amopsortfamily",
	"pg_seclabels":            "objoid, classoid, objsubid, objtype, objnamespace, objname, provider, label",
	"pg_amproc":               "oid, amprocfamily, amproclefttype, amprocrighttype, amprocnum, amproc",
	"pg_transform":            "oid, trftype, trflang, trffromsql, trftosql",
	"pg_ts_parser":            "oid, prsname, prsnamespace, prsstart, prstoken, prsend, prsheadline, prslextype",
	"pg_ts_dict":              "oid, dictname, dictnamespace, dictowner, dicttemplate, dictinitoption",
	"pg_ts_template":          "oid, tmplname, tmplnamespace, tmplinit, tmpllexize",
	"pg_ts_config":            "oid, cfgname, cfgnamespace, cfgowner, cfgparser",
	"pg_ts_config_map":        "mapcfg, maptokentype, mapseqno, mapdict",
	"pg_subscription": "oid, subdbid, subskiplsn, subname, subowner, subenabled, subbinary, substream, subtwophasestate, " +
		"subdisableonerr, subconninfo, subslotname, subsynccommit, subpublications",
	"pg_largeobject_metadata": "oid, lomowner, lomacl",
	"pg_shseclabel":           "objoid, classoid, provider, label",
	"pg_matviews":             "schemaname, matviewname, matviewowner, tablespace, hasindexes, ispopulated, definition",
}

func emptyView(cols string) string {
	var items []string
	for _, c := range strings.Split(cols, ",") {
		items = append(items, "NULL AS "+strings.TrimSpace(c))
	}
	return "SELECT " + strings.Join(items, ", ") + " WHERE 0"
}

// userSequences are the sequences made with CREATE SEQUENCE, rows of
// raftsql_sequences (package pgwire), which the first CREATE SEQUENCE
// makes. No view may read that table where it may not be: SQLite checks
// every view when a table is renamed. So the relations that list
// sequences have their rows of these (sequenceRows) added to them in the
// statement's text, where Env.Sequences says the table is there. The table
// keeps no type: a sequence's is the one its bounds are the range of. A
// table made before it had start_value has none: the start is then the
// first value of the sequence's range (the subquery's start_value is the
// table's where it has one, else the NULL of _pg_nostart; so for the
// column of OWNED BY, owned_table and owned_column). The bounds are
// expressions, not columns, which would give the relations SQLite's
// declared type, INTEGER, read as int4.
const userSequences = `(SELECT s.name AS name, _pg_oid('r', s.name) AS oid,
  CASE WHEN s.max_value = 32767 OR s.min_value = -32768 THEN 21
    WHEN s.max_value = 2147483647 OR s.min_value = -2147483648 THEN 23 ELSE 20 END AS typid,
  coalesce((SELECT start_value FROM main.raftsql_sequences i WHERE i.name = s.name),
    CASE WHEN s.increment > 0 THEN s.min_value ELSE s.max_value END) AS start,
  s.increment + 0 AS inc, s.min_value + 0 AS minv, s.max_value + 0 AS maxv,
  (SELECT owned_table FROM main.raftsql_sequences i WHERE i.name = s.name) AS owned_table,
  (SELECT owned_column FROM main.raftsql_sequences i WHERE i.name = s.name) AS owned_column
FROM main.raftsql_sequences s, (SELECT NULL AS start_value, NULL AS owned_table, NULL AS owned_column) _pg_nostart)`

// ownedSequences are the sequences of userSequences that OWNED BY gave a
// column that is there, with its table's OID and its number.
const ownedSequences = `(SELECT u.*, r.oid AS relid, p.cid + 1 AS attnum, r.name AS tbl, p.name AS col
FROM {{useq}} u JOIN _pg_rel r ON r.type = 'table' AND lower(r.name) = lower(u.owned_table)
JOIN pragma_table_info(r.name, 'main') p ON lower(p.name) = lower(u.owned_column))`

// sequenceRows are the rows of the relations that list sequences for
// userSequences ({{useq}}), with the relations' columns.
var sequenceRows = map[[2]string]string{
	{"", "_pg_relnames"}: `SELECT oid, name FROM {{useq}} u`,
	{"pg_catalog", "pg_class"}: `SELECT u.oid, u.name, 2200, 0, 0, 10, 0, 0, 0, 0, -1, 0, 0, 0, 0, 'p', 'S', 3, 0, 0, 0, 0, 0, 0, 1, 'n',
  0, 0, 0, 0, NULL, NULL, NULL, {{tableoid}} FROM {{useq}} u`,
	{"pg_catalog", "pg_sequence"}: `SELECT oid, typid, start, inc, maxv, minv, 1, 0, {{tableoid}} FROM {{useq}} u`,
	{"pg_catalog", "pg_depend"}:   `SELECT 1259, oid, 0, 1259, relid, attnum, 'a', {{tableoid}} FROM {{owned}} o`,
	{"", "_pg_serialseq"}:         `SELECT relid, col, 'public.' || quote_ident(name) FROM {{owned}} o`,
	{"information_schema", "sequences"}: `SELECT {{db}}, 'public', name,
  CASE typid WHEN 20 THEN 'bigint' WHEN 21 THEN 'smallint' ELSE 'integer' END,
  CASE typid WHEN 20 THEN 64 WHEN 21 THEN 16 ELSE 32 END, 2, 0, CAST(start AS TEXT), CAST(minv AS TEXT),
  CAST(maxv AS TEXT), CAST(inc AS TEXT), 'NO' FROM {{useq}} u`,
}

// withSequences is the SQLite text that reads a relation, base, with its
// rows for the sequences made with CREATE SEQUENCE.
func withSequences(base, rows string) string {
	rows = strings.ReplaceAll(rows, "{{owned}}", ownedSequences)
	return "(SELECT * FROM " + base + " UNION ALL " + strings.ReplaceAll(rows, "{{useq}}", userSequences) + ")"
}

// uuidDefault is gen_random_uuid() as SQLite keeps a column's default of
// it, without the parentheses around it, quoted for the views' text.
var uuidDefault = strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(pgsql.RandomUUIDExpr, "("), ")"), "'", "''")

// Helper views: the database's relations, columns, indexes and keys, as
// sqlite_schema and the pragma functions give them, with the names their
// CREATE TABLE gave them, else those Postgres makes up (TABLE_pkey,
// TABLE_COLUMNS_key, TABLE_COLUMNS_fkey: connames.go), and the OIDs
// derived from those names.
var helperViews = []view{
	{"", "_pg_rel", `SELECT name, type, sql, _pg_oid('r', name) AS oid FROM main.sqlite_schema
WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE 'raftsql\_%' ESCAPE '\'`},
	{"", "_pg_col0", `SELECT r.name AS tbl, r.oid AS relid, r.type AS reltype, p.cid + 1 AS attnum, p.name AS attname,
  p.type AS decl,
  -- The rowid alias is declared INTEGER; one declared BIGSERIAL, bigint,
  -- SMALLSERIAL or smallint says so in a comment (pgwire's rowidTypeMark).
  CASE WHEN instr(r.sql, '/* raftsql:') > 0 AND p.pk = 1 AND upper(p.type) = 'INTEGER' THEN
      CASE WHEN instr(r.sql, '/* raftsql:bigint */') > 0 THEN 20 WHEN instr(r.sql, '/* raftsql:smallint */') > 0 THEN 21 ELSE 23 END
    WHEN ` + enumColumnTest + ` THEN _pg_oid('e', ` + enumDeclName + `)
    ELSE _pg_typeoid(p.type) END AS typid, _pg_typmod(p.type) AS typmod,
  (p."notnull" OR p.pk > 0) AS nn, p.dflt_value AS dflt0, p.pk AS pk,
  CASE WHEN r.type = 'table' AND (p.pk = 1 AND upper(p.type) = 'INTEGER'
      AND (SELECT count(*) FROM pragma_table_info(r.name, 'main') q WHERE q.pk > 0) = 1
    OR EXISTS (SELECT 1 FROM main.sqlite_schema s WHERE s.type = 'trigger'
      AND lower(s.name) = lower(r.name || '_' || p.name || '_seq'))) THEN 1 ELSE 0 END AS serial
FROM _pg_rel r, pragma_table_info(r.name, 'main') p`},
	// A column that numbers its rows (the rowid alias, or one a trigger
	// numbers: serial.go) is a serial: its default takes the next value
	// of the sequence TABLE_COLUMN_seq, which stands for the numbering.
	{"", "_pg_col", `SELECT c.*, CASE WHEN c.serial THEN 'nextval(''' || quote_ident(c.tbl || '_' || c.attname || '_seq') || '''::regclass)'
    -- A boolean default as Postgres shows it (Rails reads only false/true).
  WHEN upper(c.dflt0) IN ('TRUE', 'FALSE') THEN lower(c.dflt0)
  WHEN c.dflt0 IN ('` + strings.ReplaceAll(pgsql.RandomUUIDExpr, "'", "''") + `', '` + uuidDefault + `') THEN 'gen_random_uuid()'
  ELSE c.dflt0 END AS dflt, '' AS identity FROM _pg_col0 c`},
	{"", "_pg_serial", `SELECT c.tbl AS tbl, c.relid AS relid, c.attnum AS attnum, c.attname AS col,
  c.tbl || '_' || c.attname || '_seq' AS name, _pg_oid('r', c.tbl || '_' || c.attname || '_seq') AS oid,
  _pg_oid('d', c.tbl || '.' || c.attname) AS defoid,
  CASE c.typid WHEN 20 THEN 20 WHEN 21 THEN 21 ELSE 23 END AS typid,
  CASE c.typid WHEN 20 THEN 9223372036854775807 WHEN 21 THEN 32767 ELSE 2147483647 END AS maxv
FROM _pg_col0 c WHERE c.serial`},
	{"", "_pg_idx0", `SELECT r.name AS tbl, r.oid AS relid, l.name AS sqlite_name,
  CASE WHEN l.origin = 'pk' THEN coalesce(_pg_conname(r.sql, 'p', ''), r.name || '_pkey')
    WHEN l.origin = 'u' AND l.name LIKE 'sqlite\_autoindex\_%' ESCAPE '\' THEN
      coalesce(_pg_conname(r.sql, 'u', (SELECT group_concat(ii.name, ',' ORDER BY ii.seqno) FROM pragma_index_info(l.name, 'main') ii)),
        r.name || '_' || (SELECT group_concat(ii.name, '_' ORDER BY ii.seqno) FROM pragma_index_info(l.name, 'main') ii) || '_key')
    ELSE l.name END AS name,
  l."unique" AS uniq,
  -- ALTER TABLE t ADD PRIMARY KEY, which pg_dump writes for every key, is
  -- a unique index of the key's name (translate.go): the key, in a table
  -- that has no other.
  CASE WHEN l.origin = 'c' AND l."unique" AND NOT l.partial AND l.name = r.name || '_pkey' COLLATE NOCASE
    AND NOT EXISTS (SELECT 1 FROM pragma_table_info(r.name, 'main') p WHERE p.pk > 0) THEN 'pk'
    ELSE l.origin END AS origin, l.partial AS partial
FROM _pg_rel r, pragma_index_list(r.name, 'main') l WHERE r.type = 'table'
  -- ADD PRIMARY KEY (id) of the rowid alias, as a loaded dump has it,
  -- made an index of the key's name: the key itself stands for it.
  AND NOT (l.origin = 'c' AND l."unique" AND l.name = r.name || '_pkey' COLLATE NOCASE
    AND (SELECT group_concat(ii.name) FROM pragma_index_info(l.name, 'main') ii)
      IS (SELECT group_concat(p.name) FROM pragma_table_info(r.name, 'main') p WHERE p.pk > 0)
    AND NOT EXISTS (SELECT 1 FROM pragma_index_list(r.name, 'main') k WHERE k.origin = 'pk'))
UNION ALL
SELECT r.name, r.oid, NULL, coalesce(_pg_conname(r.sql, 'p', ''), r.name || '_pkey'), 1, 'pk', 0 FROM _pg_rel r
WHERE r.type = 'table' AND EXISTS (SELECT 1 FROM pragma_table_info(r.name, 'main') p WHERE p.pk > 0)
  AND NOT EXISTS (SELECT 1 FROM pragma_index_list(r.name, 'main') l WHERE l.origin = 'pk')`},
	{"", "_pg_idx", `SELECT x.*, _pg_oid('r', x.name) AS oid FROM _pg_idx0 x`},
	{"", "_pg_idxcol", `SELECT x.oid AS idxoid, x.name AS idxname, x.tbl AS tbl, x.relid AS relid, ii.seqno + 1 AS seq,
  coalesce(ii.name, 'expression') AS col, CASE WHEN ii.cid < 0 THEN 0 ELSE ii.cid + 1 END AS attnum
FROM _pg_idx x, pragma_index_info(x.sqlite_name, 'main') ii WHERE x.sqlite_name IS NOT NULL
UNION ALL
SELECT x.oid, x.name, x.tbl, x.relid, p.pk, p.name, p.cid + 1
FROM _pg_idx x, pragma_table_info(x.tbl, 'main') p WHERE x.sqlite_name IS NULL AND p.pk > 0`},
	{"", "_pg_indexdef", `SELECT x.oid AS oid, 'CREATE ' || CASE WHEN x.uniq THEN 'UNIQUE ' ELSE '' END || 'INDEX ' || x.name ||
  ' ON public.' || x.tbl || ' USING btree (' ||
  (SELECT group_concat(c.col, ', ' ORDER BY c.seq) FROM _pg_idxcol c WHERE c.idxoid = x.oid) || ')' AS def
FROM _pg_idx x`},
	{"", "_pg_fkcol", `SELECT r.name AS tbl, r.oid AS relid, f.id AS id, f.seq + 1 AS seq, f."from" AS col, f."table" AS reftbl,
  coalesce(f."to", (SELECT p.name FROM pragma_table_info(f."table", 'main') p WHERE p.pk = f.seq + 1)) AS refcol,
  f.on_update AS on_update, f.on_delete AS on_delete
FROM _pg_rel r, pragma_foreign_key_list(r.name, 'main') f WHERE r.type = 'table'`},
	{"", "_pg_fkcol2", `SELECT f.*,
  (SELECT p.cid + 1 FROM pragma_table_info(f.tbl, 'main') p WHERE p.name = f.col) AS attnum,
  (SELECT p.cid + 1 FROM pragma_table_info(f.reftbl, 'main') p WHERE p.name = f.refcol) AS refattnum
FROM _pg_fkcol f`},
	{"", "_pg_fk", `SELECT tbl, relid, id, reftbl, _pg_oid('r', reftbl) AS refrelid,
  coalesce(_pg_conname((SELECT r.sql FROM _pg_rel r WHERE r.name = tbl), 'f', group_concat(col, ',' ORDER BY seq)),
    tbl || '_' || group_concat(col, '_' ORDER BY seq) || '_fkey') AS name,
  group_concat(col, ', ' ORDER BY seq) AS cols, group_concat(refcol, ', ' ORDER BY seq) AS refcols,
  '{' || group_concat(attnum, ',' ORDER BY seq) || '}' AS conkey,
  '{' || group_concat(refattnum, ',' ORDER BY seq) || '}' AS confkey,
  max(on_update) AS on_update, max(on_delete) AS on_delete
FROM _pg_fkcol2 GROUP BY tbl, id`},
	{"", "_pg_con", `SELECT _pg_oid('c', x.tbl || '.' || x.name) AS oid, x.name AS conname,
  CASE x.origin WHEN 'pk' THEN 'p' ELSE 'u' END AS contype, x.relid AS relid, x.tbl AS tbl, x.oid AS indid,
  0 AS confrelid, NULL AS reftbl,
  '{' || (SELECT group_concat(c.attnum, ',' ORDER BY c.seq) FROM _pg_idxcol c WHERE c.idxoid = x.oid) || '}' AS conkey,
  NULL AS confkey, ' ' AS upd, ' ' AS del,
  CASE x.origin WHEN 'pk' THEN 'PRIMARY KEY (' ELSE 'UNIQUE (' END ||
    (SELECT group_concat(c.col, ', ' ORDER BY c.seq) FROM _pg_idxcol c WHERE c.idxoid = x.oid) || ')' AS def
FROM _pg_idx x WHERE x.origin IN ('pk', 'u')
UNION ALL
SELECT _pg_oid('c', f.tbl || '.' || f.name), f.name, 'f', f.relid, f.tbl,
  coalesce((SELECT x.oid FROM _pg_idx x WHERE lower(x.tbl) = lower(f.reftbl) AND x.uniq
    AND (SELECT group_concat(c.col, ', ' ORDER BY c.seq) FROM _pg_idxcol c WHERE c.idxoid = x.oid) = f.refcols
    ORDER BY x.origin = 'pk' DESC LIMIT 1), 0),
  f.refrelid, f.reftbl, f.conkey, f.confkey,
  CASE upper(f.on_update) WHEN 'CASCADE' THEN 'c' WHEN 'SET NULL' THEN 'n' WHEN 'SET DEFAULT' THEN 'd' WHEN 'RESTRICT' THEN 'r' ELSE 'a' END,
  CASE upper(f.on_delete) WHEN 'CASCADE' THEN 'c' WHEN 'SET NULL' THEN 'n' WHEN 'SET DEFAULT' THEN 'd' WHEN 'RESTRICT' THEN 'r' ELSE 'a' END,
  'FOREIGN KEY (' || f.cols || ') REFERENCES ' || f.reftbl || '(' || f.refcols || ')' ||
    CASE WHEN upper(f.on_update) IN ('NO ACTION', '') OR f.on_update IS NULL THEN '' ELSE ' ON UPDATE ' || upper(f.on_update) END ||
    CASE WHEN upper(f.on_delete) IN ('NO ACTION', '') OR f.on_delete IS NULL THEN '' ELSE ' ON DELETE ' || upper(f.on_delete) END
FROM _pg_fk f`},
	// The views the rewrite's subqueries read have column names of their
	// own, so that an unqualified argument (oid) names the outer query's.
	{"", "_pg_condef", `SELECT oid AS _cd_oid, def AS _cd_def FROM _pg_con`},
	{"", "_pg_viewdef", `SELECT oid AS _vd_oid, ' ' || _pg_viewquery(sql) || ';' AS _vd_def FROM _pg_rel WHERE type = 'view'`},
	{"", "_pg_idxcoldef", `SELECT idxoid AS _ic_oid, seq AS _ic_seq, col AS _ic_col FROM _pg_idxcol`},
	{"", "_pg_indexdef2", `SELECT oid AS _id_oid, def AS _id_def FROM _pg_indexdef`},
	{"", "_pg_serialseq", `SELECT relid AS _ss_relid, col AS _ss_col, 'public.' || quote_ident(name) AS _ss_seq FROM _pg_serial`},
	{"", "_pg_relnames", `SELECT oid AS _rn_oid, name AS _rn_name FROM _pg_rel UNION ALL SELECT oid, name FROM _pg_idx
UNION ALL SELECT oid, name FROM _pg_serial`},
}

// catalogViews are the relations of pg_catalog and information_schema that
// are not empty; the session ones use {{user}} and {{db}}.
func catalogViews() []view {
	vs := []view{
		{"pg_catalog", "pg_namespace", `SELECT 11 AS oid, 'pg_catalog' AS nspname, 10 AS nspowner, NULL AS nspacl
UNION ALL SELECT 2200, 'public', 10, NULL UNION ALL SELECT 13000, 'information_schema', 10, NULL`},
		{"pg_catalog", "pg_am", `SELECT 2 AS oid, 'heap' AS amname, 0 AS amhandler, 't' AS amtype
UNION ALL SELECT 403, 'btree', 0, 'i'`},
		{"pg_catalog", "pg_type", typeRows()},
		{"pg_catalog", "pg_class", `SELECT r.oid AS oid, r.name AS relname, 2200 AS relnamespace, 0 AS reltype, 0 AS reloftype,
  10 AS relowner, CASE r.type WHEN 'table' THEN 2 ELSE 0 END AS relam, 0 AS relfilenode, 0 AS reltablespace,
  0 AS relpages, -1 AS reltuples, 0 AS relallvisible, 0 AS reltoastrelid,
  EXISTS (SELECT 1 FROM _pg_idx x WHERE x.relid = r.oid) AS relhasindex, 0 AS relisshared, 'p' AS relpersistence,
  CASE r.type WHEN 'table' THEN 'r' ELSE 'v' END AS relkind,
  (SELECT count(*) FROM pragma_table_info(r.name, 'main')) AS relnatts, 0 AS relchecks, 0 AS relhasrules,
  (EXISTS (SELECT 1 FROM pragma_foreign_key_list(r.name, 'main'))
    OR EXISTS (SELECT 1 FROM _pg_fkcol f WHERE lower(f.reftbl) = lower(r.name))) AS relhastriggers,
  0 AS relhassubclass, 0 AS relrowsecurity, 0 AS relforcerowsecurity, 1 AS relispopulated, 'd' AS relreplident,
  0 AS relispartition, 0 AS relrewrite, 0 AS relfrozenxid, 0 AS relminmxid, NULL AS relacl, NULL AS reloptions,
  NULL AS relpartbound
FROM _pg_rel r
UNION ALL
SELECT x.oid, x.name, 2200, 0, 0, 10, 403, 0, 0, 0, -1, 0, 0, 0, 0, 'p', 'i',
  (SELECT count(*) FROM _pg_idxcol c WHERE c.idxoid = x.oid), 0, 0, 0, 0, 0, 0, 1, 'n', 0, 0, 0, 0, NULL, NULL, NULL
FROM _pg_idx x
UNION ALL
SELECT s.oid, s.name, 2200, 0, 0, 10, 0, 0, 0, 0, -1, 0, 0, 0, 0, 'p', 'S', 3, 0, 0, 0, 0, 0, 0, 1, 'n', 0, 0, 0, 0, NULL, NULL, NULL
FROM _pg_serial s
UNION ALL
` + catalogClassRows()},
		{"pg_catalog", "pg_sequence", `SELECT oid AS seqrelid, typid AS seqtypid, 1 AS seqstart, 1 AS seqincrement, maxv AS seqmax,
  1 AS seqmin, 1 AS seqcache, 0 AS seqcycle FROM _pg_serial`},
		// A serial's sequence belongs to its column (deptype a), and the
		// column's default uses the sequence (n), as Postgres records them.
		{"pg_catalog", "pg_depend", `SELECT 1259 AS classid, oid AS objid, 0 AS objsubid, 1259 AS refclassid, relid AS refobjid,
  attnum AS refobjsubid, 'a' AS deptype FROM _pg_serial
UNION ALL
SELECT 2604, defoid, 0, 1259, oid, 0, 'n' FROM _pg_serial`},
		{"pg_catalog", "pg_attribute", `SELECT c.relid AS attrelid, c.attname AS attname, c.typid AS atttypid, -1 AS attstattarget,
  coalesce((SELECT t.typlen FROM pg_type t WHERE t.oid = c.typid), -1) AS attlen, c.attnum AS attnum, 0 AS attndims,
  -1 AS attcacheoff, c.typmod AS atttypmod, 0 AS attbyval, 'i' AS attalign,
  coalesce((SELECT t.typstorage FROM pg_type t WHERE t.oid = c.typid), 'p') AS attstorage, '' AS attcompression,
  c.nn AS attnotnull, c.dflt IS NOT NULL AS atthasdef, 0 AS atthasmissing, c.identity AS attidentity,
  '' AS attgenerated, 0 AS attisdropped, 1 AS attislocal, 0 AS attinhcount,
  CASE WHEN c.typid IN (25, 1042, 1043) THEN 100 ELSE 0 END AS attcollation, NULL AS attacl, NULL AS attoptions,
  NULL AS attfdwoptions, NULL AS attmissingval
FROM _pg_col c
UNION ALL
SELECT i.idxoid, i.col, coalesce(q.typid, 25), -1, coalesce((SELECT t.typlen FROM pg_type t WHERE t.oid = q.typid), -1),
  i.seq, 0, -1, coalesce(q.typmod, -1), 0, 'i', 'x', '', 0, 0, 0, '', '', 0, 1, 0,
  CASE WHEN q.typid IN (25, 1042, 1043) THEN 100 ELSE 0 END, NULL, NULL, NULL, NULL
FROM _pg_idxcol i LEFT JOIN _pg_col q ON q.relid = i.relid AND q.attname = i.col`},
		{"pg_catalog", "pg_attrdef", `SELECT _pg_oid('d', tbl || '.' || attname) AS oid, relid AS adrelid, attnum AS adnum, dflt AS adbin
FROM _pg_col WHERE dflt IS NOT NULL`},
		{"pg_catalog", "pg_index", `SELECT x.oid AS indexrelid, x.relid AS indrelid,
  (SELECT count(*) FROM _pg_idxcol c WHERE c.idxoid = x.oid) AS indnatts,
  (SELECT count(*) FROM _pg_idxcol c WHERE c.idxoid = x.oid) AS indnkeyatts,
  x.uniq AS indisunique, 0 AS indnullsnotdistinct, x.origin = 'pk' AS indisprimary, 0 AS indisexclusion,
  1 AS indimmediate, 0 AS indisclustered, 1 AS indisvalid, 0 AS indcheckxmin, 1 AS indisready, 1 AS indislive,
  0 AS indisreplident,
  (SELECT group_concat(c.attnum, ' ' ORDER BY c.seq) FROM _pg_idxcol c WHERE c.idxoid = x.oid) AS indkey,
  (SELECT group_concat(CASE WHEN c.attnum > 0 THEN 100 ELSE 0 END, ' ' ORDER BY c.seq) FROM _pg_idxcol c WHERE c.idxoid = x.oid) AS indcollation,
  (SELECT group_concat(0, ' ') FROM _pg_idxcol c WHERE c.idxoid = x.oid) AS indclass,
  (SELECT group_concat(0, ' ') FROM _pg_idxcol c WHERE c.idxoid = x.oid) AS indoption,
  CASE WHEN EXISTS (SELECT 1 FROM _pg_idxcol c WHERE c.idxoid = x.oid AND c.attnum = 0) THEN 'expression' END AS indexprs,
  CASE WHEN x.partial THEN 'partial' END AS indpred
FROM _pg_idx x`},
		{"pg_catalog", "pg_constraint", `SELECT oid, conname, 2200 AS connamespace, contype, 0 AS condeferrable, 0 AS condeferred,
  1 AS convalidated, relid AS conrelid, 0 AS contypid, indid AS conindid, 0 AS conparentid, confrelid,
  upd AS confupdtype, del AS confdeltype, CASE contype WHEN 'f' THEN 's' ELSE ' ' END AS confmatchtype,
  1 AS conislocal, 0 AS coninhcount, 1 AS connoinherit, conkey, confkey, NULL AS conpfeqop, NULL AS conppeqop,
  NULL AS conffeqop, NULL AS confdelsetcols, NULL AS conexclop, NULL AS conbin
FROM _pg_con`},
		{"pg_catalog", "pg_collation", `SELECT 100 AS oid, 'default' AS collname, 11 AS collnamespace, 10 AS collowner,
  'd' AS collprovider, 1 AS collisdeterministic, -1 AS collencoding, NULL AS collcollate, NULL AS collctype,
  NULL AS colliculocale, NULL AS collversion
UNION ALL SELECT 950, 'C', 11, 10, 'c', 1, -1, 'C', 'C', NULL, NULL
UNION ALL SELECT 951, 'POSIX', 11, 10, 'c', 1, -1, 'POSIX', 'POSIX', NULL, NULL`},
		{"pg_catalog", "pg_tablespace", `SELECT 1663 AS oid, 'pg_default' AS spcname, 10 AS spcowner, NULL AS spcacl, NULL AS spcoptions
UNION ALL SELECT 1664, 'pg_global', 10, NULL, NULL`},
		{"pg_catalog", "pg_settings", settingsRows()},
		{"pg_catalog", "pg_indexes", `SELECT 'public' AS schemaname, x.tbl AS tablename, x.name AS indexname, NULL AS tablespace,
  d.def AS indexdef FROM _pg_idx x JOIN _pg_indexdef d ON d.oid = x.oid`},
		{"pg_catalog", "pg_database", `SELECT 5 AS oid, {{db}} AS datname, 10 AS datdba, 6 AS encoding, 'c' AS datlocprovider,
  0 AS datistemplate, 1 AS datallowconn, -1 AS datconnlimit, 0 AS datfrozenxid, 0 AS datminmxid, 1663 AS dattablespace,
  'C' AS datcollate, 'C' AS datctype, NULL AS daticulocale, NULL AS datcollversion, NULL AS datacl`},
		{"pg_catalog", "pg_roles", `SELECT {{user}} AS rolname, 1 AS rolsuper, 1 AS rolinherit, 1 AS rolcreaterole,
  1 AS rolcreatedb, 1 AS rolcanlogin, 1 AS rolreplication, -1 AS rolconnlimit, '********' AS rolpassword,
  NULL AS rolvaliduntil, 1 AS rolbypassrls, NULL AS rolconfig, 10 AS oid`},
		{"pg_catalog", "pg_authid", `SELECT 10 AS oid, {{user}} AS rolname, 1 AS rolsuper, 1 AS rolinherit, 1 AS rolcreaterole,
  1 AS rolcreatedb, 1 AS rolcanlogin, 1 AS rolreplication, 1 AS rolbypassrls, -1 AS rolconnlimit, NULL AS rolpassword,
  NULL AS rolvaliduntil`},
		{"pg_catalog", "pg_user", `SELECT {{user}} AS usename, 10 AS usesysid, 1 AS usecreatedb, 1 AS usesuper, 1 AS userepl,
  1 AS usebypassrls, '********' AS passwd, NULL AS valuntil, NULL AS useconfig`},
		{"pg_catalog", "pg_tables", `SELECT 'public' AS schemaname, r.name AS tablename, {{user}} AS tableowner, NULL AS tablespace,
  EXISTS (SELECT 1 FROM _pg_idx x WHERE x.relid = r.oid) AS hasindexes, 0 AS hasrules,
  EXISTS (SELECT 1 FROM pragma_foreign_key_list(r.name, 'main')) AS hastriggers, 0 AS rowsecurity
FROM _pg_rel r WHERE r.type = 'table'`},
		{"pg_catalog", "pg_views", `SELECT 'public' AS schemaname, r.name AS viewname, {{user}} AS viewowner,
  ' ' || _pg_viewquery(r.sql) || ';' AS definition FROM _pg_rel r WHERE r.type = 'view'`},
		{"pg_catalog", "pg_stat_activity", `SELECT 5 AS datid, {{db}} AS datname, NULL AS pid, NULL AS leader_pid, 10 AS usesysid,
  {{user}} AS usename, '' AS application_name, NULL AS client_addr, NULL AS client_hostname, NULL AS client_port,
  NULL AS backend_start, NULL AS xact_start, NULL AS query_start, NULL AS state_change, NULL AS wait_event_type,
  NULL AS wait_event, 'active' AS state, NULL AS backend_xid, NULL AS backend_xmin, NULL AS query_id, '' AS query,
  'client backend' AS backend_type`},

		{"information_schema", "schemata", `SELECT {{db}} AS catalog_name, nspname AS schema_name, {{user}} AS schema_owner,
  NULL AS default_character_set_catalog, NULL AS default_character_set_schema, NULL AS default_character_set_name,
  NULL AS sql_path FROM pg_namespace`},
		{"information_schema", "tables", `SELECT {{db}} AS table_catalog, 'public' AS table_schema, name AS table_name,
  CASE type WHEN 'table' THEN 'BASE TABLE' ELSE 'VIEW' END AS table_type, NULL AS self_referencing_column_name,
  NULL AS reference_generation, NULL AS user_defined_type_catalog, NULL AS user_defined_type_schema,
  NULL AS user_defined_type_name, CASE type WHEN 'table' THEN 'YES' ELSE 'NO' END AS is_insertable_into,
  'NO' AS is_typed, NULL AS commit_action FROM _pg_rel`},
		{"information_schema", "columns", `SELECT {{db}} AS table_catalog, 'public' AS table_schema, c.tbl AS table_name,
  c.attname AS column_name, c.attnum AS ordinal_position, c.dflt AS column_default,
  CASE WHEN c.nn THEN 'NO' ELSE 'YES' END AS is_nullable, _pg_sqltype(c.typid) AS data_type,
  CASE WHEN c.typid IN (1042, 1043) AND c.typmod >= 4 THEN c.typmod - 4 END AS character_maximum_length,
  CASE WHEN c.typid IN (25, 1042, 1043) THEN 1073741824 END AS character_octet_length,
  CASE c.typid WHEN 21 THEN 16 WHEN 23 THEN 32 WHEN 20 THEN 64 WHEN 700 THEN 24 WHEN 701 THEN 53
    WHEN 1700 THEN CASE WHEN c.typmod >= 4 THEN (c.typmod - 4) >> 16 END END AS numeric_precision,
  CASE WHEN c.typid IN (21, 23, 20, 700, 701) THEN 2 WHEN c.typid = 1700 THEN 10 END AS numeric_precision_radix,
  CASE WHEN c.typid IN (21, 23, 20) THEN 0 WHEN c.typid = 1700 AND c.typmod >= 4 THEN (c.typmod - 4) & 65535 END AS numeric_scale,
  CASE WHEN c.typid = 1082 THEN 0 WHEN c.typid IN (1083, 1114, 1184, 1266) THEN CASE WHEN c.typmod >= 0 THEN c.typmod ELSE 6 END END AS datetime_precision,
  NULL AS interval_type, NULL AS interval_precision, NULL AS character_set_catalog, NULL AS character_set_schema,
  NULL AS character_set_name, NULL AS collation_catalog, NULL AS collation_schema, NULL AS collation_name,
  NULL AS domain_catalog, NULL AS domain_schema, NULL AS domain_name, {{db}} AS udt_catalog,
  CASE WHEN _pg_sqltype(c.typid) = 'USER-DEFINED' THEN 'public' ELSE 'pg_catalog' END AS udt_schema,
  coalesce((SELECT t.typname FROM pg_type t WHERE t.oid = c.typid), ` + enumUDTName + `) AS udt_name, NULL AS scope_catalog, NULL AS scope_schema,
  NULL AS scope_name, NULL AS maximum_cardinality, c.attnum AS dtd_identifier, 'NO' AS is_self_referencing,
  CASE WHEN c.identity = 'd' THEN 'YES' ELSE 'NO' END AS is_identity,
  CASE WHEN c.identity = 'd' THEN 'BY DEFAULT' END AS identity_generation, NULL AS identity_start,
  NULL AS identity_increment, NULL AS identity_maximum, NULL AS identity_minimum,
  CASE WHEN c.identity = 'd' THEN 'NO' END AS identity_cycle, 'NEVER' AS is_generated, NULL AS generation_expression,
  CASE WHEN c.reltype = 'table' THEN 'YES' ELSE 'NO' END AS is_updatable FROM _pg_col c`},
		{"information_schema", "views", `SELECT {{db}} AS table_catalog, 'public' AS table_schema, name AS table_name,
  _pg_viewquery(sql) AS view_definition, 'NONE' AS check_option, 'NO' AS is_updatable, 'NO' AS is_insertable_into,
  'NO' AS is_trigger_updatable, 'NO' AS is_trigger_deletable, 'NO' AS is_trigger_insertable_into
FROM _pg_rel WHERE type = 'view'`},
		{"information_schema", "table_constraints", `SELECT {{db}} AS constraint_catalog, 'public' AS constraint_schema,
  conname AS constraint_name, {{db}} AS table_catalog, 'public' AS table_schema, tbl AS table_name,
  CASE contype WHEN 'p' THEN 'PRIMARY KEY' WHEN 'u' THEN 'UNIQUE' WHEN 'f' THEN 'FOREIGN KEY' END AS constraint_type,
  'NO' AS is_deferrable, 'NO' AS initially_deferred, 'YES' AS enforced,
  CASE WHEN contype IN ('p', 'u') THEN 'YES' END AS nulls_distinct FROM _pg_con`},
		{"information_schema", "key_column_usage", `SELECT {{db}} AS constraint_catalog, 'public' AS constraint_schema,
  k.conname AS constraint_name, {{db}} AS table_catalog, 'public' AS table_schema, k.tbl AS table_name,
  c.col AS column_name, c.seq AS ordinal_position, NULL AS position_in_unique_constraint
FROM _pg_con k JOIN _pg_idxcol c ON c.idxoid = k.indid WHERE k.contype IN ('p', 'u')
UNION ALL
SELECT {{db}}, 'public', f.name, {{db}}, 'public', f.tbl, c.col, c.seq, c.seq
FROM _pg_fk f JOIN _pg_fkcol c ON c.tbl = f.tbl AND c.id = f.id`},
		{"information_schema", "constraint_column_usage", `SELECT {{db}} AS table_catalog, 'public' AS table_schema,
  k.tbl AS table_name, c.col AS column_name, {{db}} AS constraint_catalog, 'public' AS constraint_schema,
  k.conname AS constraint_name
FROM _pg_con k JOIN _pg_idxcol c ON c.idxoid = k.indid WHERE k.contype IN ('p', 'u')
UNION ALL
SELECT {{db}}, 'public', f.reftbl, c.refcol, {{db}}, 'public', f.name
FROM _pg_fk f JOIN _pg_fkcol c ON c.tbl = f.tbl AND c.id = f.id`},
		{"information_schema", "referential_constraints", `SELECT {{db}} AS constraint_catalog, 'public' AS constraint_schema,
  f.conname AS constraint_name, {{db}} AS unique_constraint_catalog, 'public' AS unique_constraint_schema,
  (SELECT k.conname FROM _pg_con k WHERE k.indid = f.indid AND k.contype IN ('p', 'u')) AS unique_constraint_name,
  'NONE' AS match_option,
  CASE f.upd WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS update_rule,
  CASE f.del WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS delete_rule
FROM _pg_con f WHERE f.contype = 'f'`},
		{"information_schema", "sequences", `SELECT {{db}} AS sequence_catalog, 'public' AS sequence_schema, name AS sequence_name,
  CASE typid WHEN 20 THEN 'bigint' WHEN 21 THEN 'smallint' ELSE 'integer' END AS data_type,
  CASE typid WHEN 20 THEN 64 WHEN 21 THEN 16 ELSE 32 END AS numeric_precision, 2 AS numeric_precision_radix,
  0 AS numeric_scale, '1' AS start_value, '1' AS minimum_value, CAST(maxv AS TEXT) AS maximum_value, '1' AS increment,
  'NO' AS cycle_option FROM _pg_serial`},
	}
	names := make([]string, 0, len(emptyRelations))
	for n := range emptyRelations {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		vs = append(vs, view{"pg_catalog", n, emptyView(emptyRelations[n])})
	}
	return vs
}

func typeRows() string {
	var rows []string
	for _, t := range builtinTypes {
		typtype := "b"
		if t.category == "P" || t.category == "X" {
			typtype = "p"
		}
		coll := 0
		if t.category == "S" && t.oid != 19 && t.oid != 18 {
			coll = 100
		}
		if t.oid == 19 {
			coll = 950
		}
		byval := 0
		if t.len > 0 && t.len <= 8 {
			byval = 1
		}
		rows = append(rows, fmt.Sprintf("(%d, '%s', %d, %s, '%s', %d, %d, %d)", t.oid, t.name, t.len, sqlBool(byval == 1), typtype+"', '"+t.category, 0, t.array, coll))
		if t.array != 0 {
			rows = append(rows, fmt.Sprintf("(%d, '_%s', -1, 0, 'b', 'A', %d, 0, %d)", t.array, t.name, t.oid, coll))
		}
	}
	return `SELECT column1 AS oid, column2 AS typname, 11 AS typnamespace, 10 AS typowner, column3 AS typlen,
  column4 AS typbyval, column5 AS typtype, column6 AS typcategory, 0 AS typispreferred, 1 AS typisdefined,
  ',' AS typdelim, 0 AS typrelid, 0 AS typsubscript, column7 AS typelem, column8 AS typarray,
  column2 || 'in' AS typinput, column2 || 'out' AS typoutput, column2 || 'recv' AS typreceive,
  column2 || 'send' AS typsend, 0 AS typmodin, 0 AS typmodout, 0 AS typanalyze, 'i' AS typalign,
  'p' AS typstorage, 0 AS typnotnull, 0 AS typbasetype, -1 AS typtypmod, 0 AS typndims, column9 AS typcollation,
  NULL AS typdefaultbin, NULL AS typdefault, NULL AS typacl
FROM (VALUES ` + strings.Join(rows, ",\n") + `)`
}

func sqlBool(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// systemViews are the relations of pg_catalog that Postgres defines as
// views; the others are its tables.
var systemViews = map[string]bool{"pg_roles": true, "pg_user": true, "pg_settings": true, "pg_tables": true,
	"pg_indexes": true, "pg_views": true, "pg_stat_activity": true, "pg_matviews": true, "pg_seclabels": true}

// catalogClassRows are pg_class's rows for the catalog relations
// themselves.
func catalogClassRows() string {
	var rows []string
	for _, r := range Relations() {
		ns, kind := nsPgCatalog, "r"
		if r.Schema == "information_schema" {
			ns, kind = nsInfoSchema, "v"
		} else if systemViews[r.Name] {
			kind = "v"
		}
		oid := relationOID(r.Schema + "." + quoteIdent(r.Name))
		rows = append(rows, fmt.Sprintf("(%d, '%s', %d, '%s')", oid, r.Name, ns, kind))
	}
	return `SELECT column1, column2, column3, 0, 0, 10, CASE column4 WHEN 'r' THEN 2 ELSE 0 END, 0, 0, 0, -1, 0, 0, 0, 0,
  'p', column4, 0, 0, 0, 0, 0, 0, 0, 1, 'n', 0, 0, 0, 0, NULL, NULL, NULL
FROM (VALUES ` + strings.Join(rows, ",\n") + `)`
}

// Settings that tools read from pg_settings.
var settings = [][2]string{
	{"block_size", "8192"}, {"client_encoding", "UTF8"}, {"DateStyle", "ISO, MDY"},
	{"default_transaction_read_only", "off"}, {"integer_datetimes", "on"}, {"IntervalStyle", "postgres"},
	{"max_identifier_length", "63"}, {"max_index_keys", "32"}, {"search_path", `"$user", public`},
	{"server_encoding", "UTF8"}, {"server_version", "{{version}}"}, {"server_version_num", "{{version_num}}"},
	{"standard_conforming_strings", "on"}, {"TimeZone", "{{timezone}}"}, {"transaction_isolation", "serializable"},
}

func settingsRows() string {
	var rows []string
	for _, s := range settings {
		rows = append(rows, fmt.Sprintf("(%s, %s)", quoteString(s[0]), quoteString(s[1])))
	}
	return `SELECT column1 AS name, column2 AS setting, NULL AS unit, 'raftsql' AS category, '' AS short_desc,
  NULL AS extra_desc, 'user' AS context, 'string' AS vartype, 'default' AS source, NULL AS min_val, NULL AS max_val,
  NULL AS enumvals, column2 AS boot_val, column2 AS reset_val, NULL AS sourcefile, NULL AS sourceline,
  0 AS pending_restart
FROM (VALUES ` + strings.Join(rows, ", ") + `)`
}

var (
	relations  []Relation
	byName     = map[[2]string]int{}
	viewsCache []view
)

func init() {
	vs := catalogViews()
	// Relations first, so that catalogClassRows can list them.
	for _, v := range vs {
		relations = append(relations, Relation{Schema: v.schema, Name: v.name})
	}
	vs = catalogViews()
	for i, v := range vs {
		if v.schema == "pg_catalog" && !systemViews[v.name] {
			// Every row of a system catalog has the catalog's OID in the
			// system column tableoid, which pg_dump selects.
			v.sql = fmt.Sprintf("SELECT *, %d AS tableoid FROM (%s)", relationOID("pg_catalog."+v.name), v.sql)
			vs[i] = v
		}
		r := &relations[i]
		r.def = v.sql
		if strings.Contains(v.sql, "{{user}}") || strings.Contains(v.sql, "{{db}}") || strings.Contains(v.sql, "{{timezone}}") {
			r.session = v.sql
		} else if v.schema == "pg_catalog" {
			r.sqlite = v.name
		} else {
			r.sqlite = quoteIdent(v.schema + "." + v.name)
		}
		if rows, ok := enumRows[[2]string{v.schema, v.name}]; ok {
			r.enumRows = strings.ReplaceAll(rows, "{{tableoid}}", fmt.Sprint(relationOID("pg_catalog."+v.name)))
		}
		if rows, ok := sequenceRows[[2]string{v.schema, v.name}]; ok {
			r.seqRows = strings.ReplaceAll(rows, "{{tableoid}}", fmt.Sprint(relationOID("pg_catalog."+v.name)))
		}
		byName[[2]string{v.schema, v.name}] = i
	}
	viewsCache = vs
}

// Relations lists the catalog relations raftsql serves.
func Relations() []Relation { return relations }

// Resolve finds the catalog relation that schema.name names; an empty
// schema searches the search path, where pg_catalog comes first (an
// unqualified information_schema name is not found, as in Postgres with
// the default search_path).
func Resolve(schema, name string) (Relation, bool) {
	if schema == "" {
		schema = "pg_catalog"
	}
	i, ok := byName[[2]string{schema, name}]
	if !ok {
		return Relation{}, false
	}
	return relations[i], true
}

// InitSQL are the statements a connection that serves reads runs when it
// opens: the TEMP VIEWs the catalogs read. They use Funcs, which must be
// registered first. version and versionNum are what pg_settings reports
// as server_version and server_version_num.
func InitSQL(version, versionNum string) []string {
	var out []string
	for _, v := range helperViews {
		out = append(out, "CREATE TEMP VIEW "+v.name+" AS "+v.sql)
	}
	for i, v := range viewsCache {
		r := relations[i]
		if r.session != "" {
			continue
		}
		sql := strings.NewReplacer("{{version}}", version, "{{version_num}}", versionNum).Replace(v.sql)
		out = append(out, "CREATE TEMP VIEW "+r.sqlite+" AS "+sql)
	}
	return out
}
