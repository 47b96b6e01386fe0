package pgwire

import (
	"github.com/raftsql/raftsql/pgwire/pgsql"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"-- ping", nil},
		{" ; ;; ", nil},
		{"/* a /* nested */ comment */", nil},
		{"select 1; select 2", []string{"select 1", "select 2"}},
		{"select 1;select 2;", []string{"select 1", "select 2"}},
		{"select 'a;b'; select 2", []string{"select 'a;b'", "select 2"}},
		{"select 'it''s;'; x", []string{"select 'it''s;'", "x"}},
		{`select E'a\';b'; x`, []string{`select E'a\';b'`, "x"}},
		{`select 'a\'; x`, []string{`select 'a\'`, "x"}},
		{`select "a;""b"; x`, []string{`select "a;""b"`, "x"}},
		{"select $$a;b$$; x", []string{"select $$a;b$$", "x"}},
		{"select $tag$a;$$;b$tag$; x", []string{"select $tag$a;$$;b$tag$", "x"}},
		{"select $1; select $2", []string{"select $1", "select $2"}},
		{"select a$b; x", []string{"select a$b", "x"}},
		{"select 1 -- c;\n; x", []string{"select 1", "x"}},
		{"select /* ; /* ; */ ; */ 1; x", []string{"select /* ; /* ; */ ; */ 1", "x"}},
		{"-- lead\nselect 1 /* trail */", []string{"select 1"}},
		{"select 'unterminated; x", []string{"select 'unterminated; x"}},
		{"select /* unterminated; x", []string{"select"}},
		{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u VALUES (1); UPDATE v SET a = CASE WHEN 1 THEN 2 END; END; select 1",
			[]string{"CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u VALUES (1); UPDATE v SET a = CASE WHEN 1 THEN 2 END; END", "select 1"}},
		{"create temp trigger tr before delete on t begin select 1; end", []string{"create temp trigger tr before delete on t begin select 1; end"}},
		{"BEGIN; select 1; END;", []string{"BEGIN", "select 1", "END"}},
	}
	for _, tt := range tests {
		var got []string
		for _, s := range splitStatements(tt.in) {
			if tt.in[s.offset:s.offset+len(s.sql)] != s.sql {
				t.Errorf("%q: offset %d does not locate %q", tt.in, s.offset, s.sql)
			}
			got = append(got, s.sql)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitStatements(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCountParams(t *testing.T) {
	for in, want := range map[string]int{
		"select 1":                     0,
		"select $1, $3":                3,
		"select '$5', \"$6\", $$ $7$$": 0,
		"select $2 -- $9":              2,
		"select $65535":                65535,
		"select $65536":                -1,
		"select $99999999999999":       -1,
		"select a$1":                   0,
	} {
		if got := countParams(in); got != want {
			t.Errorf("countParams(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestCommandTag(t *testing.T) {
	rows := &Result{Columns: []Column{{"a", ""}}, Rows: [][]any{{1}, {2}}}
	tests := []struct {
		sql  string
		res  *Result
		want string
	}{
		{"select 1", rows, "SELECT 2"},
		{"  (select 1)", rows, "SELECT 2"},
		{"/* c */ values (1),(2)", rows, "SELECT 2"},
		{"insert into t values (1)", &Result{RowsAffected: 3}, "INSERT 0 3"},
		{"REPLACE into t values (1)", &Result{RowsAffected: 1}, "INSERT 0 1"},
		{"insert into t values (1) returning id", rows, "INSERT 0 2"},
		{"with x as (select 1) insert into t select * from x", &Result{RowsAffected: 4}, "INSERT 0 4"},
		{"with recursive x(n) as (select 1 union select n+1 from x) select * from x", rows, "SELECT 2"},
		{"update t set a = 1", &Result{RowsAffected: 5}, "UPDATE 5"},
		{"delete from t", &Result{}, "DELETE 0"},
		{"create table t (a int)", &Result{}, "CREATE TABLE"},
		{"create temp table t (a int)", &Result{}, "CREATE TABLE"},
		{"create unique index if not exists i on t(a)", &Result{}, "CREATE INDEX"},
		{"create virtual table v using fts5(a)", &Result{}, "CREATE TABLE"},
		{"CREATE OR REPLACE VIEW v AS select 1", &Result{}, "CREATE VIEW"},
		{"create trigger tr after insert on t begin select 1; end", &Result{}, "CREATE TRIGGER"},
		{"drop table if exists t", &Result{}, "DROP TABLE"},
		{"drop index i", &Result{}, "DROP INDEX"},
		{"alter table t add column b", &Result{}, "ALTER TABLE"},
		{"begin", &Result{}, "BEGIN"},
		{"BEGIN READ WRITE", &Result{}, "BEGIN"},
		{"start transaction", &Result{}, "BEGIN"},
		{"commit", &Result{}, "COMMIT"},
		{"END", &Result{}, "COMMIT"},
		{"rollback to savepoint a", &Result{}, "ROLLBACK"},
		{"abort", &Result{}, "ROLLBACK"},
		{"savepoint a", &Result{}, "SAVEPOINT"},
		{"release a", &Result{}, "RELEASE"},
		{"truncate table t", &Result{}, "TRUNCATE TABLE"},
		{"vacuum", &Result{}, "VACUUM"},
		{"analyze t", &Result{}, "ANALYZE"},
		{"pragma foreign_keys = on", &Result{}, "PRAGMA"},
		{"pragma table_info(t)", rows, "SELECT 2"},
		{"explain query plan select 1", rows, "SELECT 2"},
		{"select 1", &Result{Tag: "CUSTOM 9", Columns: rows.Columns}, "CUSTOM 9"},
	}
	for _, tt := range tests {
		n := int64(len(tt.res.Rows))
		if got := commandTag(pgsql.Parse(tt.sql), tt.res, n); got != tt.want {
			t.Errorf("commandTag(%q) = %q, want %q", tt.sql, got, tt.want)
		}
	}
}

func TestExprTypes(t *testing.T) {
	tests := []struct {
		sql  string
		n    int
		want []uint32
	}{
		{"select count(*) from t", 1, []uint32{oidInt8}},
		{"select 1, 1.5, 'x', true, $1::int4, cast($2 as double precision) as d, a.b c from t", 7,
			[]uint32{oidInt4, oidNumeric, oidText, oidBool, oidInt4, oidFloat8, 0}},
		{"select distinct -1 x", 1, []uint32{oidInt4}},
		{"select * from t", 3, nil},
		{"insert into t values (1)", 0, nil},
		{"with x as (select 'a') select 5000000000 from x", 1, []uint32{oidInt8}},
	}
	for _, tt := range tests {
		if got := exprTypes(pgsql.Parse(tt.sql), tt.n); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("exprTypes(%q) = %v, want %v", tt.sql, got, tt.want)
		}
	}
	oids := make([]uint32, 4)
	oids[3] = oidVarchar
	inferParamTypes("select $1::bytea, CAST($2 AS bigint), $3, $4::int", oids)
	if want := []uint32{oidBytea, oidInt8, 0, oidVarchar}; !reflect.DeepEqual(oids, want) {
		t.Errorf("inferParamTypes = %v, want %v", oids, want)
	}
}

func TestFormatFloat(t *testing.T) {
	tests := []struct {
		f    float64
		bits int
		want string
	}{
		{0, 64, "0"}, {math.Copysign(0, -1), 64, "-0"}, {1, 64, "1"}, {1.5, 64, "1.5"}, {-2.25, 64, "-2.25"},
		{0.1, 64, "0.1"}, {1.0 / 3, 64, "0.3333333333333333"}, {100, 64, "100"},
		{1e14, 64, "100000000000000"}, {1e15, 64, "1e+15"}, {123456789012345678, 64, "1.2345678901234568e+17"},
		{0.0001, 64, "0.0001"}, {0.00001, 64, "1e-05"}, {1.5e-7, 64, "1.5e-07"}, {1e300, 64, "1e+300"},
		{math.Inf(1), 64, "Infinity"}, {math.Inf(-1), 64, "-Infinity"}, {math.NaN(), 64, "NaN"},
		{float64(float32(0.1)), 32, "0.1"}, {123456, 32, "123456"}, {1234567, 32, "1.234567e+06"},
	}
	for _, tt := range tests {
		if got := formatFloat(tt.f, tt.bits); got != tt.want {
			t.Errorf("formatFloat(%v, %d) = %q, want %q", tt.f, tt.bits, got, tt.want)
		}
	}
}

func TestEncodeValues(t *testing.T) {
	tests := []struct {
		v      any
		oid    uint32
		text   string
		binary []byte
		code   string // expected error code for binary
	}{
		{int64(1), oidBool, "t", []byte{1}, ""},
		{int64(0), oidBool, "f", []byte{0}, ""},
		{[]byte{0xab, 0x01}, oidBytea, `\xab01`, []byte{0xab, 0x01}, ""},
		{int64(7), oidInt4, "7", []byte{0, 0, 0, 7}, ""},
		{int64(math.MaxInt32 + 1), oidInt4, "2147483648", nil, "22003"},
		{int64(70000), oidInt2, "70000", nil, "22003"},

		{"12.50", oidNumeric, "12.50", []byte{0, 2, 0, 0, 0, 0, 0, 2, 0, 12, 0x13, 0x88}, ""},
		{"2000-01-02", oidDate, "2000-01-02", []byte{0, 0, 0, 1}, ""},
		{"2000-01-01 00:00:01", oidTimestamp, "2000-01-01 00:00:01", []byte{0, 0, 0, 0, 0, 0x0f, 0x42, 0x40}, ""},
		{"héllo", oidText, "héllo", []byte("héllo"), ""},
	}
	for _, tt := range tests {
		txt, err := appendText(nil, tt.v, tt.oid, nil)
		if tt.code != "" && (err == nil || toError(err).Code != tt.code) {
			t.Errorf("appendText(%v, %d): err %v, want code %s", tt.v, tt.oid, err, tt.code)
		}
		if tt.code == "" && (err != nil || string(txt) != tt.text) {
			t.Errorf("appendText(%v, %d) = %q, %v; want %q", tt.v, tt.oid, txt, err, tt.text)
		}
		bin, err := appendBinary(nil, tt.v, tt.oid)
		if tt.code != "" {
			if err == nil || toError(err).Code != tt.code {
				t.Errorf("appendBinary(%v, %d): err %v, want code %s", tt.v, tt.oid, err, tt.code)
			}
			continue
		}
		if err != nil || string(bin) != string(tt.binary) {
			t.Errorf("appendBinary(%v, %d) = %x, %v; want %x", tt.v, tt.oid, bin, err, tt.binary)
		}
	}
	// Numeric round trip through the binary format.
	for _, s := range []string{"0", "12.50", "-0.001", "123456789.000001", "10000", "1e3"} {
		b, ok := appendNumeric(nil, s)
		if !ok {
			t.Errorf("appendNumeric(%q) failed", s)
			continue
		}
		back, ok := decodeNumeric(b)
		f1, _ := parseFloat(s)
		f2, _ := parseFloat(back)
		if !ok || f1 != f2 {
			t.Errorf("numeric %q -> %x -> %q", s, b, back)
		}
	}
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		"select 1; select 2", "select 'a;b''c'; x", `E'\'';`, `"a""b";`, "$$;$$;$a$;$a$", "/* /* */ ; */;",
		"-- x\n;", "create trigger t begin select case when 1 then 2 end; end; x", "select $1, $2", "$", "E", "'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		stmts := splitStatements(q)
		prevEnd := 0
		for _, s := range stmts {
			if s.offset < prevEnd || s.offset+len(s.sql) > len(q) || q[s.offset:s.offset+len(s.sql)] != s.sql {
				t.Fatalf("bad statement %+v in %q", s, q)
			}
			// Leading space never; trailing space only inside an
			// unterminated quote or comment that runs to the end.
			if s.sql == "" || strings.TrimLeft(s.sql, " \t\n\r\f\v") != s.sql {
				t.Fatalf("statement %q is empty or untrimmed", s.sql)
			}
			prevEnd = s.offset + len(s.sql)
			// A statement splits back into itself.
			again := splitStatements(s.sql)
			if len(again) != 1 || again[0].sql != s.sql {
				t.Fatalf("statement %q splits again into %+v", s.sql, again)
			}
		}
		countParams(q)
		mainVerb(q)
		commandTag(pgsql.Parse(q), &Result{}, 0)
		exprTypes(pgsql.Parse(q), 2)
		inferParamTypes(q, make([]uint32, 3))
	})
}
