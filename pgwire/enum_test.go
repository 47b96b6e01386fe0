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
		"CREATE TABLE t (a int, b text)":                                            "",
		"ALTER TABLE t ADD COLUMN m mood":                                           "m:mood@31",
		"alter table t add m mood default 'x'":                                      "m:mood@24",
		"ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)":                              "",
		"CREATE TABLE t AS SELECT 'a'::text AS m":                                   "",
		"CREATE TABLE t (m mood CONSTRAINT c CHECK (m IN ('a')), check (m <> 'b'))": "m:mood@22",
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
