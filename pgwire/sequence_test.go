package pgwire

import (
	"strings"
	"testing"
)

func TestTranslateSequence(t *testing.T) {
	ins := "INSERT INTO raftsql_sequences (name, last_value, increment, min_value, max_value, is_called, start_value, owned_table, owned_column) VALUES "
	for _, tt := range []struct{ sql, want string }{
		{"CREATE SEQUENCE s", "CREATE SEQUENCE|" + sequenceTable + "; " + ins + "('s', 1, 1, 1, 9223372036854775807, 0, 1, NULL, NULL)"},
		{"CREATE SEQUENCE public.dump_customers_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1",
			"CREATE SEQUENCE|" + sequenceTable + "; " + ins + "('dump_customers_id_seq', 1, 1, 1, 2147483647, 0, 1, NULL, NULL)"},
		{`create sequence if not exists "Odd" increment -2 owned by t.id`,
			"CREATE SEQUENCE|" + sequenceTable + "; INSERT OR IGNORE INTO raftsql_sequences (name, last_value, increment, min_value, max_value, is_called, start_value, owned_table, owned_column) VALUES ('Odd', -1, -2, -9223372036854775808, -1, 0, -1, 't', 'id')"},
		{"CREATE SEQUENCE s MINVALUE 10 MAXVALUE 20 START 15", "CREATE SEQUENCE|" + sequenceTable + "; " + ins + "('s', 15, 1, 10, 20, 0, 15, NULL, NULL)"},
		{"DROP SEQUENCE IF EXISTS a, public.b CASCADE", "DROP SEQUENCE|" + sequenceTable + "; DELETE FROM raftsql_sequences WHERE name IN ('a', 'b')"},
		{"ALTER SEQUENCE public.s OWNED BY public.t.id", "ALTER SEQUENCE|" + sequenceTable + "; UPDATE raftsql_sequences SET owned_table = 't', owned_column = 'id' WHERE name = 's'"},
		{`ALTER SEQUENCE s OWNED BY NONE`, "ALTER SEQUENCE|" + sequenceTable + "; UPDATE raftsql_sequences SET owned_table = NULL, owned_column = NULL WHERE name = 's'"},
		{"ALTER SEQUENCE s RESTART", "ALTER SEQUENCE|" + sequenceTable + "; UPDATE raftsql_sequences SET last_value = coalesce(start_value, CASE WHEN increment > 0 THEN min_value ELSE max_value END), is_called = 0 WHERE name = 's'"},
		{"ALTER SEQUENCE s RESTART WITH 7", "ALTER SEQUENCE|" + sequenceTable + "; UPDATE raftsql_sequences SET last_value = 7, is_called = 0 WHERE name = 's'"},
	} {
		got, ok := translateDDL(tt.sql)
		if !ok || got.err != nil {
			t.Errorf("%q: not rewritten (%v)", tt.sql, got.err)
			continue
		}
		if s := got.tag + "|" + strings.Join(got.stmts, "; "); s != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.sql, s, tt.want)
		}
	}
	for sql, code := range map[string]string{"CREATE SEQUENCE s CYCLE": "0A000", "CREATE SEQUENCE s MINVALUE 5 START 1": "22023"} {
		if got, ok := translateDDL(sql); !ok || got.err == nil || got.err.Code != code {
			t.Errorf("%q: %+v, want %s", sql, got, code)
		}
	}
	for _, sql := range []string{"CREATE SEQUENCE", "CREATE SEQUENCE s INCREMENT 0", "CREATE SEQUENCE s AS text", "ALTER SEQUENCE s INCREMENT 2", "DROP SEQUENCE", "ALTER SEQUENCE s OWNED BY t", "CREATE SEQUENCE s OWNED BY id"} {
		if got, ok := translateDDL(sql); ok && got.err == nil {
			t.Errorf("%q rewritten to %+v", sql, got)
		}
	}
}

// BenchmarkMentionsSequenceRead is what a SELECT without parameters pays
// for the look for a read of a sequence's state.
func BenchmarkMentionsSequenceRead(b *testing.B) {
	sql := "SELECT abalance FROM pgbench_accounts WHERE aid = 89445 AND bid = 1 ORDER BY abalance LIMIT 10"
	for b.Loop() {
		if mentionsSequenceRead(sql) {
			b.Fatal("found")
		}
	}
}

func TestParseSequenceRead(t *testing.T) {
	for sql, want := range map[string]string{
		"SELECT last_value, is_called FROM public.dump_customers_id_seq": "dump_customers_id_seq|last_value,is_called",
		`select IS_CALLED , log_cnt from "Odd";`:                         "Odd|is_called,log_cnt",
	} {
		got, ok := parseSequenceRead(sql)
		if s := got.name + "|" + strings.Join(got.cols, ","); !ok || s != want {
			t.Errorf("%s: %s %v, want %s", sql, s, ok, want)
		}
	}
	for _, sql := range []string{"SELECT last_value FROM s WHERE 1", "SELECT last_value, x FROM s", "SELECT last_value FROM a, b",
		"SELECT is_called", "SELECT last_value FROM", "UPDATE s SET last_value = 1"} {
		if got, ok := parseSequenceRead(sql); ok {
			t.Errorf("%s: recognised as %+v", sql, got)
		}
	}
	for sql, want := range map[string]bool{"SELECT LAST_VALUE FROM s": true, "select x.Is_Called": true, "SELECT value FROM t": false,
		"SELECT a_valu": false, "_VALUE": true, "is_calle": false} {
		if got := mentionsSequenceRead(sql); got != want {
			t.Errorf("mentionsSequenceRead(%q) = %v", sql, got)
		}
	}
	for text, want := range map[string]string{
		"nextval('public.t_id_seq'::regclass)": "t_id_seq", `pg_catalog.nextval('"T_id_seq"')`: "T_id_seq",
		"nextval('t_id_seq') + 1": "", "nextval(t_id_seq)": "", "nextval('a b')": "", "now()": "",
	} {
		if got, ok := nextvalDefault(text); got != want || ok != (want != "") {
			t.Errorf("%s: %q %v, want %q", text, got, ok, want)
		}
	}
}

func FuzzParseSequenceRead(f *testing.F) {
	for _, s := range []string{"SELECT last_value, is_called FROM public.s", "select is_called from \"", "nextval('s'::regclass)", "nextval('"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		if r, ok := parseSequenceRead(sql); ok && (r.name == "" || len(r.cols) == 0) {
			t.Fatalf("%q: %+v", sql, r)
		}
		if name, ok := nextvalDefault(sql); ok && name == "" {
			t.Fatalf("%q: no name", sql)
		}
	})
}
