package catalog

import (
	"reflect"
	"testing"
)

func TestParamTypes(t *testing.T) {
	for _, c := range []struct {
		sql  string
		n    int
		want []string
	}{
		// Kysely's introspection, as node-postgres sends it.
		{`select "a"."attname" from "pg_catalog"."pg_attribute" as "a" inner join "pg_catalog"."pg_class" as "c" on "a"."attrelid" = "c"."oid"
			where "c"."relkind" in ($1, $2, $3) and "ns"."nspname" !~ $4 and "a"."attnum" >= $5 and "a"."attisdropped" != $6`, 6,
			[]string{"", "", "", "", "SMALLINT", "BOOLEAN"}},
		{"SELECT * FROM pg_class WHERE $1 = relnamespace AND oid IN ($2, $3)", 3, []string{"OID", "OID", "OID"}},
		{"SELECT * FROM pg_attribute a WHERE $1 = a.attnum", 1, []string{"SMALLINT"}},
		// A cast says what the column is compared as; a call is no column.
		{"SELECT * FROM pg_attribute WHERE attnum::text = $1 AND $2 = lower(attname) AND $2 = attnum(x)", 2, nil},
		{"SELECT * FROM pg_class WHERE relname = $1 AND relkind = ANY($2)", 2, nil},
		// The first comparison a parameter is in gives its type.
		{"SELECT * FROM pg_attribute WHERE atttypmod > $1 OR attnum = $1", 1, []string{"INTEGER"}},
	} {
		if got := ParamTypes(c.sql, c.n); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\ngot  %q\nwant %q", c.sql, got, c.want)
		}
	}
}
