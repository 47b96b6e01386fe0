package pgwire

import (
	"strings"
	"testing"
)

func TestTranslateSequence(t *testing.T) {
	ins := "INSERT INTO raftsql_sequences (name, last_value, increment, min_value, max_value, is_called) VALUES "
	for _, tt := range []struct{ sql, want string }{
		{"CREATE SEQUENCE s", "CREATE SEQUENCE|" + sequenceTable + "; " + ins + "('s', 1, 1, 1, 9223372036854775807, 0)"},
		{"CREATE SEQUENCE public.dump_customers_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1",
			"CREATE SEQUENCE|" + sequenceTable + "; " + ins + "('dump_customers_id_seq', 1, 1, 1, 2147483647, 0)"},
		{`create sequence if not exists "Odd" increment -2 owned by t.id`,
			"CREATE SEQUENCE|" + sequenceTable + "; INSERT OR IGNORE INTO raftsql_sequences (name, last_value, increment, min_value, max_value, is_called) VALUES ('Odd', -1, -2, -9223372036854775808, -1, 0)"},
		{"CREATE SEQUENCE s MINVALUE 10 MAXVALUE 20 START 15", "CREATE SEQUENCE|" + sequenceTable + "; " + ins + "('s', 15, 1, 10, 20, 0)"},
		{"DROP SEQUENCE IF EXISTS a, public.b CASCADE", "DROP SEQUENCE|" + sequenceTable + "; DELETE FROM raftsql_sequences WHERE name IN ('a', 'b')"},
		{"ALTER SEQUENCE public.s OWNED BY public.t.id", "ALTER SEQUENCE|"},
		{"ALTER SEQUENCE s RESTART WITH 7", "ALTER SEQUENCE|UPDATE raftsql_sequences SET last_value = 7, is_called = 0 WHERE name = 's'"},
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
	for _, sql := range []string{"CREATE SEQUENCE", "CREATE SEQUENCE s INCREMENT 0", "CREATE SEQUENCE s AS text", "ALTER SEQUENCE s INCREMENT 2", "DROP SEQUENCE"} {
		if got, ok := translateDDL(sql); ok && got.err == nil {
			t.Errorf("%q rewritten to %+v", sql, got)
		}
	}
}
