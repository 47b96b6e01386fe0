package catalog

import (
	"strings"
	"testing"
)

// TestRewritePassesThrough: statements that name no catalog reach SQLite
// as they are, whatever words they hold.
func TestRewritePassesThrough(t *testing.T) {
	for _, sql := range []string{
		"SELECT abalance FROM pgbench_accounts WHERE aid = $1",
		"INSERT INTO t (name) VALUES ('pg_class'), ('version()')",
		"SELECT sqlite_version()",
		"UPDATE pg_stuff SET v = 1 WHERE k = 'current_schema'",
		"SELECT * FROM t -- pg_catalog.pg_class",
	} {
		out, ok, err := Rewrite(sql, testEnv)
		if err != nil || ok || out != sql {
			t.Errorf("Rewrite(%q) = %q, %v, %v; want it unchanged", sql, out, ok, err)
		}
	}
}

// TestRewrite: the translation of the constructs catalog queries use.
func TestRewrite(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"SELECT 'fruit'::regclass", "SELECT coalesce((SELECT _rn_name FROM _pg_relnames WHERE _rn_oid = _pg_regclass('fruit')), _pg_relname(_pg_regclass('fruit')))"},
		{"SELECT oid FROM pg_class WHERE oid = 'fruit'::regclass", "SELECT oid FROM pg_class AS \"pg_class\" WHERE oid = _pg_regclass('fruit')"},
		{"SELECT c.oid::pg_catalog.regclass::pg_catalog.text FROM pg_catalog.pg_class c",
			"SELECT CAST(coalesce((SELECT _rn_name FROM _pg_relnames WHERE _rn_oid = c.oid), _pg_relname(c.oid)) AS TEXT) FROM pg_class c"},
		{"SELECT 1 FROM pg_class c WHERE c.oid::regclass = 'fruit' UNION SELECT 'x'::regclass",
			"SELECT 1 FROM pg_class c WHERE c.oid = _pg_regclass('fruit') UNION SELECT _pg_regclass('x')"},
		{"SELECT 1 WHERE n.nspname OPERATOR(pg_catalog.~) '^(x)$' COLLATE pg_catalog.default",
			"SELECT 1 WHERE n.nspname  REGEXP  '^(x)$' "},
		{"SELECT 1 FROM pg_am WHERE a !~* 'x'", `SELECT 1 FROM pg_am AS "pg_am" WHERE a  NOT REGEXP '(?i)' ||  'x'`},
		{"SELECT E'a\\nb' FROM pg_am", "SELECT 'a\nb' FROM pg_am AS \"pg_am\""},
		{"SELECT x = ANY (y) FROM pg_catalog.pg_am", `SELECT (_pg_array_contains(y, x)) FROM pg_am AS "pg_am"`},
		{"SELECT a[1] FROM pg_catalog.pg_am", `SELECT _pg_array_get(a, 1) FROM pg_am AS "pg_am"`},
		{"SELECT * FROM information_schema.tables t", "SELECT * FROM (SELECT 'shop' AS table_catalog, "},
		{"SELECT current_user, current_database()", "SELECT 'alice', 'shop'"},
		{"SELECT count(*) FROM pg_catalog.pg_nothing", `SELECT count(*) FROM "pg_catalog.pg_nothing" AS "pg_nothing"`},
		{"SELECT x AS default FROM pg_am", `SELECT x AS "default" FROM pg_am AS "pg_am"`},
		// TypeORM and others read scalar functions as relations.
		{"SELECT * FROM current_schema()", `SELECT * FROM (SELECT 'public' AS "current_schema") AS "current_schema"`},
		{"SELECT s.v FROM pg_catalog.current_database() AS s(v)", `SELECT s.v FROM (SELECT 'shop' AS "v") AS "s"`},
	} {
		got, ok, err := Rewrite(tt.in, testEnv)
		if err != nil || !ok {
			t.Errorf("Rewrite(%q): %v, %v", tt.in, ok, err)
			continue
		}
		if got != tt.want && !(strings.HasSuffix(tt.want, ", ") && strings.HasPrefix(got, tt.want)) {
			t.Errorf("Rewrite(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
	for _, sql := range []string{
		"SELECT a[1:2] FROM pg_catalog.pg_class",
	} {
		_, _, err := Rewrite(sql, testEnv)
		if e, ok := err.(*Error); !ok || e.Code != "0A000" {
			t.Errorf("Rewrite(%q) = %v, want a 0A000 error", sql, err)
		}
	}
}

// FuzzRewrite: the rewrite never panics, and what it gives either runs on
// the catalog views or fails with an error from SQLite.
func FuzzRewrite(f *testing.F) {
	for _, s := range []string{
		"SELECT c.oid::regclass FROM pg_catalog.pg_class c WHERE c.relname ~ '^t'",
		"SELECT (information_schema._pg_expandarray(i.indkey)).n FROM pg_index i",
		"SELECT array(select 1) = any('{1}'), x[2] FROM pg_catalog.generate_series(1, 3) g(x)",
		"SELECT trim(both '\"' from pg_get_indexdef(1, 1, false)), E'\\'' FROM information_schema.columns",
		"SELECT unnest(current_schemas(true)) FROM pg_namespace",
		"select '1'::pg_catalog.int2[] /* pg_ */ -- x",
		"SELECT conrelid::regclass, 'int4'::regtype::text, x.oid::regclass = 'fruit' FROM pg_constraint, pg_class x WHERE x.oid = $1::regclass UNION SELECT 1::regclass, 2, 3",
		"SELECT pg_size_pretty(pg_total_relation_size(c.oid)), pg_indexes_size('fruit') FROM pg_class c",
	} {
		f.Add(s)
	}
	db := openFixture(f)
	f.Fuzz(func(t *testing.T, sql string) {
		out, ok, err := Rewrite(sql, testEnv)
		if err != nil {
			if _, isErr := err.(*Error); !isErr {
				t.Fatalf("Rewrite(%q): error of type %T", sql, err)
			}
			return
		}
		if !ok && out != sql {
			t.Fatalf("Rewrite(%q) changed a statement it did not rewrite", sql)
		}
		if ok && len(out) < 1<<16 && strings.HasPrefix(strings.ToLower(strings.TrimSpace(out)), "select") {
			rows, err := db.Query(out)
			if err == nil {
				rows.Close()
			}
		}
	})
}

// BenchmarkMentions measures what every statement pays for the catalogs
// in pgwire: one scan of its text.
//
//	go test ./pgwire/pgsql/catalog -run XXX -bench Mentions
func BenchmarkMentions(b *testing.B) {
	for name, sql := range map[string]string{
		"point-select": "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
		"update":       "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
		"insert":       "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)",
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if Mentions(sql) {
					b.Fatal("mentions the catalogs")
				}
			}
		})
	}
}

// array_agg's result is typed as the array of its element's type, so that
// a client (node-postgres) reads an int2[] as a list.
func TestArrayAggTyped(t *testing.T) {
	_, ok, types, err := RewriteTyped("SELECT array_agg(a.attnum) AS idx, array_agg(a.attname) AS names, array_agg(a.attrelid ORDER BY a.attnum) AS rels, array_agg(lower(a.attname)) AS other FROM pg_attribute a", testEnv)
	if err != nil || !ok {
		t.Fatalf("ok %v, err %v", ok, err)
	}
	for col, want := range map[string]string{"idx": "_INT2", "names": "_NAME", "rels": "_OID", "other": "_TEXT"} {
		if types[col] != want {
			t.Errorf("%s: type %q, want %q", col, types[col], want)
		}
	}
}

// x::regtype of an expression is the type's name, whether x is an OID or
// a name (TypeORM's ('"' || udt_schema || '"."' || udt_name || '"')::regtype).
func TestRegtypeOfExpression(t *testing.T) {
	db := openFixture(t)
	got, err := query(t, db, `SELECT ('"' || 'pg_catalog' || '"."' || 'int4' || '"')::"regtype"::text, (a.atttypid)::regtype
		FROM pg_attribute a WHERE a.attrelid = 'fruit'::regclass AND a.attname = 'name'`)
	if err != nil {
		t.Fatal(err)
	}
	if want := "integer | text\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// A column of a subquery in FROM that has a catalog column's name but is
// something else (TypeORM's CASE … END AS condeferred) keeps its own type
// through an alias outside: here text, not pg_constraint's boolean.
func TestAliasOfSubqueryColumnTyped(t *testing.T) {
	_, ok, types, err := RewriteTyped(`SELECT "con"."condeferred" AS "deferred", "con"."condeferrable" AS "deferrable" FROM (SELECT c.condeferrable, CASE WHEN c.condeferred THEN 'INITIALLY DEFERRED' ELSE 'INITIALLY IMMEDIATE' END as condeferred FROM pg_constraint c) "con"`, testEnv)
	if err != nil || !ok {
		t.Fatalf("ok %v, err %v", ok, err)
	}
	for col, want := range map[string]string{"deferred": "", "deferrable": "BOOLEAN"} {
		if got, ok := types[col]; !ok || got != want {
			t.Errorf("%s: type %q (%v), want %q", col, got, ok, want)
		}
	}
}
