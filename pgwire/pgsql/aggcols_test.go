package pgsql

import (
	"strconv"
	"strings"
	"testing"
)

// aggregatesString renders st.Aggregates as "result:fn(table.column|…)
// with", one item after another, "" for none.
func aggregatesString(st *Statement) string {
	ag := st.Aggregates
	if ag == nil {
		return ""
	}
	var b strings.Builder
	for i, it := range ag.Items {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(it.Result) + ":" + it.Func + "(")
		for k, a := range it.Args {
			if k > 0 {
				b.WriteByte('|')
			}
			b.WriteString(ag.Columns[a].Table + "." + ag.Columns[a].Column)
		}
		b.WriteByte(')')
		if it.With != "" {
			b.WriteString("+" + it.With)
		}
	}
	return b.String()
}

func TestAggregates(t *testing.T) {
	for _, tt := range []struct{ sql, want string }{
		{"SELECT min(n), sum(n), avg(n), sum(d) FROM tb", "0:min(tb.n) 1:sum(tb.n) 2:avg(tb.n) 3:sum(tb.d)"},
		{"SELECT max(id) FROM tb WHERE n > $1", "0:max(tb.id)"},
		{"select MAX(ts) AS latest, count(*), Max(\"Ts\") m FROM public.tb", "0:max(tb.ts) 2:max(tb.Ts)"},
		// Aliases, qualified names, joins.
		{"SELECT max(x.n), min(tb.n), sum(public.u.n) FROM tb JOIN u ON u.id = tb.id, v AS x", "0:max(v.n) 1:min(tb.n) 2:sum(u.n)"},
		{"SELECT max(n) FROM tb a LEFT JOIN u b ON a.id = b.id WHERE a.n > 1 GROUP BY a.t",
			"0:max(tb.n|u.n)"},
		{"SELECT max(tb.n) FROM tb AS a", ""}, // the alias hides the table's name
		// Window functions, FILTER, DISTINCT.
		{"SELECT max(n) OVER (PARTITION BY t ORDER BY id), lag(ts) OVER w, lead(n, 2) OVER w, lag(n, 1, 0) OVER w, " +
			"first_value(t) OVER w, nth_value(n, 2) OVER w FROM tb WINDOW w AS (ORDER BY id)",
			"0:max(tb.n) 1:lag(tb.ts) 2:lead(tb.n) 3:lag(tb.n)+int4 4:first_value(tb.t) 5:nth_value(tb.n)"},
		{"SELECT sum(DISTINCT n), avg(n) FILTER (WHERE n > 0), sum(n) FILTER (WHERE b) OVER () FROM tb",
			"0:sum(tb.n) 1:avg(tb.n) 2:sum(tb.n)"},
		// coalesce of a call and a literal.
		{"SELECT coalesce(max(n), 0), coalesce(sum(n), 0.5) s, coalesce(max(t), ''), coalesce(max(n), NULL), coalesce(min(n), -1) FROM tb",
			"0:max(tb.n)+int4 1:sum(tb.n)+numeric 2:max(tb.t)+unknown 3:max(tb.n)+unknown 4:min(tb.n)+int4"},
		// What stays untyped: expressions, SQLite's scalar max, subqueries,
		// common table expressions, set operations, SELECT *.
		{"SELECT max(n) + 1, max(n + 1), max(n)::int8, max(1, n), coalesce(max(n), n), coalesce(max(n), 0, 1) FROM tb", ""},
		{"SELECT max(n), lag(n) FROM tb", "0:max(tb.n)"}, // lag without OVER is no call Postgres has
		{"SELECT max(n) FROM (SELECT n FROM tb) s", ""},
		{"WITH tb AS (SELECT 1 AS n) SELECT max(n) FROM tb", ""},
		{"WITH w AS (SELECT 1 AS n) SELECT max(tb.n), max(n) FROM tb, w", "0:max(tb.n)"},
		{"SELECT max(n) FROM tb UNION SELECT max(n) FROM u", ""},
		{"SELECT *, max(n) FROM tb", ""},
		{"SELECT max(n) FROM generate_series(1, 3) AS n", ""},
		{"SELECT max(n)", ""},
		{"SELECT string_agg(t, ','), count(n), max(n ORDER BY n) FROM tb", ""},
		{"INSERT INTO tb SELECT max(n) FROM tb", ""},
		{"SELECT max(oid) FROM pg_class", ""},
	} {
		st := Parse(tt.sql)
		if st.Err != nil {
			t.Errorf("%s: %v", tt.sql, st.Err)
			continue
		}
		if got := aggregatesString(st); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.sql, got, tt.want)
		}
	}
}

func TestAggregateType(t *testing.T) {
	for _, tt := range []struct {
		fn, with string
		types    []string
		want     string
	}{
		{"max", "", []string{"timestamptz"}, "timestamptz"},
		{"min", "", []string{"int4"}, "int4"},
		{"max", "", []string{"varchar"}, "text"},
		{"max", "", []string{"bool"}, ""}, // Postgres has no max(boolean)
		{"sum", "", []string{"int2"}, "int8"},
		{"sum", "", []string{"int4"}, "int8"},
		{"sum", "", []string{"int8"}, "numeric"},
		{"sum", "", []string{"numeric"}, "numeric"},
		{"sum", "", []string{"float4"}, "float4"},
		{"sum", "", []string{"float8"}, "float8"},
		{"sum", "", []string{"text"}, ""},
		{"avg", "", []string{"int8"}, "numeric"},
		{"avg", "", []string{"float8"}, "float8"},
		{"lag", "", []string{"varchar"}, "varchar"},
		{"first_value", "", []string{"bool"}, "bool"},
		{"max", "int4", []string{"int4"}, "int4"},
		{"max", "int4", []string{"int2"}, "int4"},
		{"sum", "int4", []string{"int4"}, "int8"},
		{"max", "numeric", []string{"int8"}, "numeric"},
		{"max", "numeric", []string{"float8"}, "float8"},
		{"max", "unknown", []string{"timestamptz"}, "timestamptz"},
		{"max", "int4", []string{"timestamptz"}, ""}, // Postgres refuses it
		// An unqualified name over a join: the one table that has it.
		{"max", "", []string{"", "int8"}, "int8"},
		{"max", "", []string{"int4", "int8"}, ""},
		{"max", "", []string{"", ""}, ""},
	} {
		a := Aggregate{Func: tt.fn, With: tt.with}
		for k := range tt.types {
			a.Args = append(a.Args, k)
		}
		if got := a.Type(tt.types); got != tt.want {
			t.Errorf("%s(%v) with %q: %q, want %q", tt.fn, tt.types, tt.with, got, tt.want)
		}
	}
}
