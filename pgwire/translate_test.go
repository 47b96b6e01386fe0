package pgwire

import (
	"strings"
	"testing"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

func TestTranslateDDL(t *testing.T) {
	for _, tt := range []struct{ sql, want string }{
		{"drop table if exists pgbench_accounts, pgbench_branches", "DROP TABLE|DROP TABLE IF EXISTS pgbench_accounts; DROP TABLE IF EXISTS pgbench_branches"},
		{"DROP TABLE a CASCADE;", "DROP TABLE|DROP TABLE a"},
		{`drop view s."V", w`, `DROP VIEW|DROP VIEW s."V"; DROP VIEW w`},
		{"truncate table a, b restart identity cascade", "TRUNCATE TABLE|DELETE FROM a; DELETE FROM b"},
		{"TRUNCATE only t", "TRUNCATE TABLE|DELETE FROM t"},
		{"create table pgbench_tellers(tid int not null,bid int,tbalance int,filler char(84)) with (fillfactor=100)",
			"CREATE TABLE|CREATE table pgbench_tellers(tid int not null,bid int,tbalance int,filler char(84))"},
		{"CREATE UNLOGGED TABLE t (a int) WITH (fillfactor = 90, autovacuum_enabled = off)", "CREATE TABLE|CREATE TABLE t (a int)"},
		{"alter table pgbench_branches add primary key (bid)", `ALTER TABLE|CREATE UNIQUE INDEX "pgbench_branches_pkey" ON pgbench_branches (bid)`},
		{`ALTER TABLE s."Odd" ADD CONSTRAINT odd_ab UNIQUE (a, "B")`, `ALTER TABLE|CREATE UNIQUE INDEX odd_ab ON s."Odd" (a, "B")`},
		{`ALTER TABLE Odd ADD UNIQUE (a, "B")`, `ALTER TABLE|CREATE UNIQUE INDEX "odd_a_B_key" ON Odd (a, "B")`},
		// pg_dump, ORMs and migration tools.
		{"CREATE INDEX dump_name_idx ON dump USING btree (name)", "CREATE INDEX|CREATE INDEX dump_name_idx ON dump (name)"},
		{"create unique index concurrently if not exists i on only t using HASH (lower(a)) where b = 'using btree'",
			"CREATE INDEX|create unique index if not exists i on t (lower(a)) where b = 'using btree'"},
		{`CREATE INDEX "auth_group_name_a6ea08ec_like" ON "auth_group" ("name" varchar_pattern_ops)`,
			`CREATE INDEX|CREATE INDEX "auth_group_name_a6ea08ec_like" ON "auth_group" ("name")`},
		{`create index i on t using btree (a text_pattern_ops desc, lower(b) COLLATE "C" text_pattern_ops, c) where d`,
			`CREATE INDEX|create index i on t (a desc, lower(b) COLLATE "C", c) where d`},
		{`ALTER TABLE "django_content_type" DROP COLUMN "name" CASCADE`, `ALTER TABLE|ALTER TABLE "django_content_type" DROP COLUMN "name"`},
		{`alter table only s.t drop b restrict`, `ALTER TABLE|ALTER TABLE s.t DROP COLUMN b`},
		{"ALTER TABLE public.t OWNER TO postgres", "ALTER TABLE|"},
		{"ALTER TABLE ONLY t OWNER TO \"Some One\"", "ALTER TABLE|"},
		{"ALTER SEQUENCE t_id_seq OWNER TO app;", "ALTER SEQUENCE|"},
		{"ALTER SCHEMA public OWNER TO pg_database_owner", "ALTER SCHEMA|"},
		{"COMMENT ON TABLE t IS 'the table'", "COMMENT|"},
		{"COMMENT ON COLUMN public.t.a IS NULL", "COMMENT|"},
		{"CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public", "CREATE EXTENSION|"},
		{`create extension "plpgsql"`, "CREATE EXTENSION|"},
		// A time type's precision before its zone, as pg_dump, Rails and
		// Prisma write it; a string that reads so stays as it is.
		{`CREATE TABLE t (a timestamp(3) without time zone NOT NULL, "b" TIME(0) WITH TIME ZONE, c text default 'timestamp(3) with time zone')`,
			`CREATE TABLE|CREATE TABLE t (a timestamp(3) NOT NULL, "b" timetz(0), c text default 'timestamp(3) with time zone')`},
		{`create table t (id serial primary key, at timestamp(6) with time zone) with (fillfactor = 90)`,
			`CREATE TABLE|CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, at timestamptz(6))`},
		{`ALTER TABLE t ADD COLUMN u timestamp(6) without time zone`, `ALTER TABLE|ALTER TABLE t ADD COLUMN u timestamp(6)`},
	} {
		got, ok := translateDDL(tt.sql)
		if !ok {
			t.Errorf("%q: not rewritten", tt.sql)
			continue
		}
		if s := got.tag + "|" + strings.Join(got.stmts, "; "); s != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.sql, s, tt.want)
		}
	}
	for _, sql := range []string{
		"DROP TABLE a", "DROP TABLE IF EXISTS a", "DROP TRIGGER a, b", "CREATE TABLE t (a int)",
		"CREATE TABLE t WITH (x) AS SELECT 1", "CREATE TABLE t AS SELECT * FROM u WITH", "ALTER TABLE t ADD COLUMN c int",
		"ALTER TABLE t ADD PRIMARY KEY (a) USING INDEX TABLESPACE x", "SELECT 1", "TRUNCATE", "drop table a, ",
		"CREATE INDEX i ON t (a)", "CREATE INDEX i ON t USING gin (a)", "CREATE INDEX i ON t (text_pattern_ops, b)", "COMMENT ON TABLE t", "COMMENT ON TABLE t IS 1",
		"ALTER TABLE t OWNER TO", "ALTER ROLE r OWNER TO x", "ALTER TABLE t DROP COLUMN c",
		"ALTER TABLE t DROP COLUMN IF EXISTS c CASCADE", "CREATE EXTENSION", "CREATE EXTENSION x WITH SOMETHING",
	} {
		if got, ok := translateDDL(sql); ok {
			t.Errorf("%q rewritten to %v", sql, got)
		}
	}
}

func FuzzTranslateDDL(f *testing.F) {
	for _, s := range []string{"drop table a, b", "truncate a", "create table t (a) with (x=1)", `alter table "t" add primary key ("a")`, "create table ) with (",
		"create table s (id serial primary key, v text)", "create table s (a text primary key, b bigserial not null, c int generated always as identity (start 1))",
		"create table s (id serial, primary key (id)) with (x=1)", "create table s (id serial constraint",
		"create type mood as enum ('sad', 'ok')", "create type public.e as enum ()", "create type e as enum ('a',)", "create type e as enum ('a' 'b')",
		"drop type if exists a, public.b cascade", "drop type", "create type e as (a int)",
		"alter type e add value if not exists 'x' after 'y'", "alter type e rename value 'a' to 'b'", "alter type e add value"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		if got, ok := translateDDL(sql); ok && got.tag == "" {
			t.Fatalf("%q: empty rewriting %v", sql, got)
		}
		for _, c := range enumCandidates(sql) {
			if c.at > len(sql) || c.typ == "" {
				t.Fatalf("%q: enum column %+v", sql, c)
			}
		}
		enumColumns(sql, "mood")
	})
}

func TestCreateExtensionRefused(t *testing.T) {
	got, ok := translateDDL(`CREATE EXTENSION IF NOT EXISTS "uuid-ossp"`)
	if !ok || got.err == nil || got.err.Code != "0A000" || !strings.Contains(got.err.Message, "uuid-ossp") {
		t.Fatalf("an extension raftsql lacks: %+v %v", got, ok)
	}
}

func TestCreateSchema(t *testing.T) {
	for _, tt := range []struct{ sql, code string }{
		{`CREATE SCHEMA IF NOT EXISTS "public"`, ""}, // Drizzle's migrator
		{"create schema if not exists public authorization app", ""},
		{"CREATE SCHEMA IF NOT EXISTS information_schema", ""},
		{"CREATE SCHEMA public", "42P06"},
		{`CREATE SCHEMA IF NOT EXISTS "drizzle"`, "0A000"},
		{"CREATE SCHEMA app AUTHORIZATION app", "0A000"},
		{"CREATE SCHEMA AUTHORIZATION bob", "0A000"},
		{"CREATE SCHEMA IF NOT EXISTS AUTHORIZATION public", ""},
	} {
		got, ok := translateDDL(tt.sql)
		if !ok || got.tag != "CREATE SCHEMA" || len(got.stmts) != 0 {
			t.Errorf("%q: %+v %v", tt.sql, got, ok)
			continue
		}
		if code := ""; got.err != nil {
			code = got.err.Code
			if code != tt.code {
				t.Errorf("%q: %v, want %s", tt.sql, got.err, tt.code)
			}
		} else if tt.code != "" {
			t.Errorf("%q: accepted, want %s", tt.sql, tt.code)
		}
	}
	for _, sql := range []string{"CREATE SCHEMA", "CREATE SCHEMA a b", "CREATE SCHEMA a CREATE TABLE t (x int)", "CREATE SCHEMA AUTHORIZATION"} {
		if got, ok := translateDDL(sql); ok {
			t.Errorf("%q rewritten to %+v", sql, got)
		}
	}
}

func TestVacuumError(t *testing.T) {
	for _, sql := range []string{"vacuum analyze pgbench_branches", "VACUUM", "/* x */ vacuum (verbose) t", "VACUUM FULL"} {
		if e := vacuumError(pgsql.Parse(sql)); e != nil {
			t.Errorf("%q: refused (%v), want it taken", sql, e)
		}
	}
	for _, sql := range []string{"VACUUM INTO '/tmp/x.db'", "vacuum main into 'y'"} {
		if e := vacuumError(pgsql.Parse(sql)); e == nil || e.Code != "42501" {
			t.Errorf("%q: got %v, want a 42501 refusal", sql, e)
		}
	}
	if e := vacuumError(pgsql.Parse("SELECT 'vacuum'")); e != nil {
		t.Errorf("a SELECT refused: %v", e)
	}
}
