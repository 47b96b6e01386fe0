package catalog

import (
	"fmt"
	"strings"
	"testing"
)

// TestEnums: the enum types of CREATE TYPE … AS ENUM (rows of pgwire's
// raftsql_enums) are rows of pg_type and their labels of pg_enum, in
// order, once the rewrite is told the table is there; format_type names
// them; a column that carries its type's CHECK is of the type in
// pg_attribute and information_schema.columns, and one without it (or of
// a type of another name) stays text. No view reads the table where it is
// not.
func TestEnums(t *testing.T) {
	db := openFixture(t)
	for _, s := range []string{
		`CREATE TABLE raftsql_enums (name TEXT PRIMARY KEY, labels TEXT NOT NULL)`,
		`INSERT INTO raftsql_enums VALUES ('mood', '["sad","ok","happy"]'), ('Odd', '[]')`,
		`CREATE TABLE feel (id INTEGER PRIMARY KEY, m mood CONSTRAINT "raftsql_enum:mood" CHECK (m IN ('sad', 'ok', 'happy')), ` +
			`o "Odd" CONSTRAINT "raftsql_enum:Odd" CHECK (o IN ()), t text)`,
		`CREATE TABLE other (plain mood)`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	query := func(has bool, q string) string {
		t.Helper()
		env := testEnv
		env.Enums = func() bool { return has }
		rw, _, err := Rewrite(q, env)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		rows, err := db.Query(rw)
		if err != nil {
			t.Fatalf("%s: %v\nrewritten: %s", q, err, rw)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, v := range vals {
				parts = append(parts, fmt.Sprint(v))
			}
			lines = append(lines, strings.Join(parts, "|"))
		}
		return strings.Join(lines, "\n")
	}
	mood, odd := OID("e", "mood"), OID("e", "Odd")
	for _, c := range []struct {
		has     bool
		q, want string
	}{
		{true, "SELECT typname, typtype, typcategory, typnamespace FROM pg_catalog.pg_type WHERE typtype = 'e' ORDER BY 1", "Odd|e|E|2200\nmood|e|E|2200"},
		{false, "SELECT typname FROM pg_catalog.pg_type WHERE typtype = 'e'", ""},
		{true, "SELECT e.enumlabel, e.enumsortorder FROM pg_catalog.pg_enum e JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid " +
			"WHERE t.typname = 'mood' ORDER BY e.oid", "sad|1|\nok|2\nhappy|3"},
		{true, "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'feel'::regclass AND a.attnum > 0 ORDER BY a.attnum",
			`id|integer` + "\n" + `m|mood` + "\n" + `o|"Odd"` + "\n" + `t|text`},
		{true, "SELECT column_name, data_type, udt_schema, udt_name FROM information_schema.columns WHERE table_name = 'feel' ORDER BY ordinal_position",
			"id|integer|pg_catalog|int4\nm|USER-DEFINED|public|mood\no|USER-DEFINED|public|Odd\nt|text|pg_catalog|text"},
		// A column of the type's name that has no CHECK of it is text.
		{true, "SELECT data_type FROM information_schema.columns WHERE table_name = 'other'", "text"},
		{true, "SELECT atttypid FROM pg_catalog.pg_attribute WHERE attrelid = 'feel'::regclass AND attname IN ('m', 'o') ORDER BY attnum", fmt.Sprintf("%d\n%d", mood, odd)},
	} {
		want := strings.ReplaceAll(c.want, "|1|\n", "|1\n")
		if got := query(c.has, c.q); got != want {
			t.Errorf("%s:\n got %q\nwant %q", c.q, got, want)
		}
	}
	// No view reads the table of enum types: dropping it leaves every view.
	if _, err := db.Exec("DROP TABLE raftsql_enums"); err != nil {
		t.Fatal(err)
	}
	if got := query(false, "SELECT count(*) FROM pg_catalog.pg_attribute WHERE attrelid = 'feel'::regclass"); got != "4" {
		t.Errorf("pg_attribute without the table of enum types: %q", got)
	}
}
