package pgsql

// keywords are the words the parser compares with; lowering a word that
// is one of them costs no allocation.
var keywords = func() map[string]string {
	m := map[string]string{}
	for _, w := range []string{
		"all", "any", "array", "as", "bit", "bool", "boolean", "bpchar", "bytea", "cast", "char", "character", "citext",
		"clock_timestamp", "coalesce", "current_date", "current_role", "current_time", "current_timestamp", "current_user",
		"date", "date_trunc", "day", "decimal", "default", "distinct", "double", "dow", "doy", "end", "epoch", "extract",
		"false", "fetch", "for", "from", "gen_random_uuid", "greatest", "hour", "ilike", "interval", "into", "isodow",
		"isoyear", "json", "jsonb", "key", "least", "localtime", "localtimestamp", "locked", "materialized", "min",
		"minute", "mon", "month", "name", "no", "now", "nowait", "null", "nullif", "numeric", "of", "offset", "oid", "on",
		"operator", "pg_catalog", "precision", "public", "quarter", "regclass", "regnamespace", "regoper", "regproc",
		"regprocedure", "regrole", "regtype", "row", "rows", "sec", "second", "select", "session_user", "share",
		"similar", "skip", "some", "statement_timestamp", "text", "ties", "time", "timestamp", "timestamptz", "timetz",
		"to", "transaction_timestamp", "true", "union", "unknown", "update", "user", "uuid", "varchar", "varying", "week",
		"where", "with", "without", "year", "zone", "insert", "delete", "values", "set", "and", "or", "not", "in", "is",
		"like", "join", "by", "having", "when", "then", "else", "case", "between", "exists", "intersect", "except",
		"returning", "limit", "using", "group", "order", "glob", "regexp", "match", "escape", "over", "partition",
		"filter", "within", "lateral", "do", "conflict", "table", "window", "int", "integer", "int2", "int4", "int8",
		"bigint", "smallint", "real", "float", "float4", "float8", "count", "sum", "avg", "max", "lower", "upper",
		"first", "next", "only", "left", "right", "inner", "outer", "cross", "asc", "desc", "nulls", "last",
	} {
		m[w] = w
	}
	return m
}()

// lowerWord lower-cases an unquoted word, without allocating for a
// keyword or a word already in lower case.
func lowerWord(s string) string {
	upper := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			upper = true
			break
		}
	}
	if !upper {
		return s
	}
	if len(s) <= 24 {
		var buf [24]byte
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		if w, ok := keywords[string(buf[:len(s)])]; ok {
			return w
		}
	}
	return lower(s)
}
