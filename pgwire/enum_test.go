package pgwire

import (
	"fmt"
	"strings"
	"testing"
)

func TestTranslateEnumDDL(t *testing.T) {
	for _, tt := range []struct{ sql, want string }{
		{"CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')", "CREATE TYPE|create [mood] [sad ok happy]"},
		{`CREATE TYPE "public"."user_role_enum" AS ENUM('admin', 'it''s')`, "CREATE TYPE|create [user_role_enum] [admin it's]"},
		{"create type Empty as enum ()", "CREATE TYPE|create [empty] []"},
		{"DROP TYPE mood", "DROP TYPE|drop [mood] false false"},
		{"DROP TYPE IF EXISTS a, public.b CASCADE", "DROP TYPE|drop [a b] true true"},
		{"drop type a restrict", "DROP TYPE|drop [a] false false"},
	} {
		got, ok := translateDDL(tt.sql)
		if !ok || got.err != nil || got.enum == nil {
			t.Errorf("%q: not an enum statement (%+v)", tt.sql, got)
			continue
		}
		d := got.enum
		s := fmt.Sprintf("%s|create %v %v", got.tag, d.names, d.labels)
		if d.drop {
			s = fmt.Sprintf("%s|drop %v %v %v", got.tag, d.names, d.ifExists, d.cascade)
		}
		if s != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.sql, s, tt.want)
		}
	}
	for sql, code := range map[string]string{
		"CREATE TYPE e AS ENUM ('a', 'b', 'a')":                     "42710",
		"CREATE TYPE e AS ENUM ('')":                                "22023",
		"CREATE TYPE e AS ENUM ('" + strings.Repeat("x", 64) + "')": "22023",
	} {
		if got, ok := translateDDL(sql); !ok || got.err == nil || got.err.Code != code {
			t.Errorf("%q: %+v, want %s", sql, got, code)
		}
	}
	for _, sql := range []string{"CREATE TYPE e AS (a int)", "CREATE TYPE e AS ENUM ('a' 'b')", "CREATE TYPE e AS ENUM ('a',)",
		"CREATE TYPE e AS ENUM (1)", "CREATE TYPE e AS RANGE (subtype = int4)", "DROP TYPE", "DROP TYPE a b"} {
		if got, ok := translateDDL(sql); ok && got.err == nil {
			t.Errorf("%q rewritten to %+v", sql, got)
		}
	}
}

func TestEnumCandidates(t *testing.T) {
	for sql, want := range map[string]string{
		`CREATE TABLE t (id INTEGER PRIMARY KEY, m mood NOT NULL DEFAULT 'ok', n "Mood", o text, p varchar(3), q mood[])`: "m:mood@46 n:Mood@78",
		"CREATE TABLE t (a int, b text)":                                                    "",
		"ALTER TABLE t ADD COLUMN m mood":                                                   "m:mood@31",
		"alter table t add m mood default 'x'":                                              "m:mood@24",
		"ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)":                                      "",
		"CREATE TABLE t AS SELECT 'a'::text AS m":                                           "",
		"CREATE TABLE t (m mood CONSTRAINT c CHECK (m IN ('a')), check (m <> 'b'))":         "m:mood@22",
		`CREATE TABLE t (m mood CONSTRAINT "raftsql_enum:mood" CHECK (m IN ('a')), n mood)`: "n:mood@80",
	} {
		var got []string
		for _, c := range enumCandidates(sql) {
			got = append(got, fmt.Sprintf("%s:%s@%d", c.col, c.typ, c.at))
		}
		if s := strings.Join(got, " "); s != want {
			t.Errorf("%q: %s, want %s", sql, s, want)
		}
	}
}

func TestEnumChecksAndColumns(t *testing.T) {
	check := enumCheck("mood", `"m"`, []string{"sad", "it's"})
	if want := `CONSTRAINT "raftsql_enum:mood" CHECK ("m" IN ('sad', 'it''s'))`; check != want {
		t.Fatalf("enumCheck: %s, want %s", check, want)
	}
	if typ, ok := EnumCheckType("raftsql_enum:mood"); !ok || typ != "mood" {
		t.Errorf("EnumCheckType: %q %v", typ, ok)
	}
	if _, ok := EnumCheckType("t_m_check"); ok {
		t.Error("EnumCheckType took a CHECK of another kind")
	}
	def := `CREATE TABLE t (id INTEGER PRIMARY KEY, "m" mood ` + check + ` NOT NULL, o other CONSTRAINT "raftsql_enum:other" CHECK (o IN ()), ` +
		`p mood CONSTRAINT "raftsql_enum:mood" CHECK (p IN ('sad')), CHECK (o <> 'x'))`
	if got := strings.Join(enumColumns(def, "mood"), ","); got != `"m",p` {
		t.Errorf("enumColumns(mood): %s", got)
	}
	if got := strings.Join(enumColumns(def, "none"), ","); got != "" {
		t.Errorf("enumColumns(none): %s", got)
	}
}

func TestTranslateAlterType(t *testing.T) {
	for sql, want := range map[string]string{
		"ALTER TYPE mood ADD VALUE 'meh'":                                  "add mood meh  false false",
		"alter type public.mood add value if not exists 'meh' before 'ok'": "add mood meh ok false true",
		"ALTER TYPE mood ADD VALUE 'meh' AFTER 'ok'":                       "add mood meh ok true false",
		"ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'":                     "rename mood sad blue false false",
	} {
		got, ok := translateDDL(sql)
		if !ok || got.err != nil || got.enum == nil || got.tag != "ALTER TYPE" {
			t.Errorf("%q: %+v", sql, got)
			continue
		}
		d := got.enum
		if s := fmt.Sprintf("%s %s %s %s %v %v", d.alter, d.names[0], d.label, d.other, d.after, d.ifNotExists); s != want {
			t.Errorf("%q: %s, want %s", sql, s, want)
		}
	}
	for _, sql := range []string{"ALTER TYPE mood ADD VALUE meh", "ALTER TYPE mood RENAME VALUE 'a'", "ALTER TYPE mood RENAME TO feeling",
		"ALTER TYPE mood ADD VALUE 'a' BEFORE", "ALTER TYPE mood ADD ATTRIBUTE a int"} {
		if got, ok := translateDDL(sql); ok && got.err == nil {
			t.Errorf("%q rewritten to %+v", sql, got)
		}
	}
	if got, ok := translateDDL("ALTER TYPE mood OWNER TO app"); !ok || got.enum != nil || len(got.stmts) != 0 {
		t.Errorf("OWNER TO: %+v", got)
	}
}

func TestReplaceEnumChecks(t *testing.T) {
	def := `CREATE TABLE t (id INTEGER PRIMARY KEY, m mood CONSTRAINT "raftsql_enum:mood" CHECK (m IN ('a', 'b')) NOT NULL, ` +
		`o other CONSTRAINT "raftsql_enum:other" CHECK (o IN ('a')), CHECK (m <> 'x'))`
	want := `CREATE TABLE t (id INTEGER PRIMARY KEY, m mood CONSTRAINT "raftsql_enum:mood" CHECK (m IN ('a', 'c', 'b')) NOT NULL, ` +
		`o other CONSTRAINT "raftsql_enum:other" CHECK (o IN ('a')), CHECK (m <> 'x'))`
	if got := replaceEnumChecks(def, "mood", []string{"a", "c", "b"}); got != want {
		t.Errorf("replaceEnumChecks:\n got %s\nwant %s", got, want)
	}
}
