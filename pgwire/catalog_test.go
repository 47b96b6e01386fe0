package pgwire

import (
	"strings"
	"testing"
)

// Queries psql 15 sends for \dt, \d NAME and \di, as captured from a real
// PostgreSQL (shared with the pgcompat captures).
const (
	psqlListTables = `SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND c.relname OPERATOR(pg_catalog.~) '^(t.*)$' COLLATE pg_catalog.default
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;`
	psqlLookup = `SELECT c.oid,
  n.nspname,
  c.relname
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(t1)$' COLLATE pg_catalog.default
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 2, 3;`
	psqlColumns = `SELECT a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)
   FROM pg_catalog.pg_attrdef d
   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
  a.attnotnull,
  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
  a.attidentity,
  a.attgenerated
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = '16385' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;`
	psqlInherits = `SELECT c.oid::pg_catalog.regclass
FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
WHERE c.oid = i.inhparent AND i.inhrelid = '16385'
  AND c.relkind != 'p' AND c.relkind != 'I'
ORDER BY inhseqno;`
)

func TestMatchCatalog(t *testing.T) {
	for _, tt := range []struct {
		name, sql string
		kind      catalogKind
		names     string
		relkinds  string
		pattern   string
		oid       int64
	}{
		{"list", psqlListTables, catalogList, "Schema,Name,Type,Owner", "rp", "^(t.*)$", 0},
		{"lookup", psqlLookup, catalogLookup, "oid,nspname,relname", "", "^(t1)$", 0},
		{"columns", psqlColumns, catalogColumns, "attname,format_type,?column?,attnotnull,attcollation,attidentity,attgenerated", "", "", 16385},
		{"inherits", psqlInherits, catalogNothing, "oid", "", "", 0},
		{"viewdef", "SELECT pg_catalog.pg_get_viewdef('16390'::pg_catalog.oid, true);", catalogViewDef, "pg_get_viewdef", "", "", 16390},
	} {
		q, ok := matchCatalog(tt.sql)
		if !ok {
			t.Errorf("%s: not recognised", tt.name)
			continue
		}
		if q.kind != tt.kind || strings.Join(q.names, ",") != tt.names || q.relkinds != tt.relkinds || q.pattern != tt.pattern || q.oid != tt.oid {
			t.Errorf("%s: got kind %d names %q relkinds %q pattern %q oid %d, want %d %q %q %q %d",
				tt.name, q.kind, strings.Join(q.names, ","), q.relkinds, q.pattern, q.oid, tt.kind, tt.names, tt.relkinds, tt.pattern, tt.oid)
		}
	}
	for _, sql := range []string{
		"SELECT * FROM t",
		"select relname from pg_catalog.pg_class", // a catalog query psql does not send
		"SELECT 'from pg_catalog.pg_class c where c.relkind in (''r'')'",
		"INSERT INTO t SELECT * FROM pg_catalog.pg_class c",
	} {
		if q, ok := matchCatalog(sql); ok {
			t.Errorf("%q recognised as %+v", sql, q)
		}
	}
}

func TestSplitTopLevel(t *testing.T) {
	got := splitTopLevel(`a, f(b, c), 'x,y', "q,r" as "n", (select 1, 2) as s`)
	want := []string{"a", "f(b, c)", "'x,y'", `"q,r" as "n"`, "(select 1, 2) as s"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func FuzzMatchCatalog(f *testing.F) {
	for _, s := range []string{psqlListTables, psqlLookup, psqlColumns, psqlInherits, "select (", "select ')", `select "a" from pg_catalog.x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		q, ok := matchCatalog(sql)
		if ok && len(q.items) != len(q.names) {
			t.Fatalf("%d items but %d names", len(q.items), len(q.names))
		}
	})
}
