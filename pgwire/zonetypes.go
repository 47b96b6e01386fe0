package pgwire

import "strings"

// Postgres writes a time type's precision before its zone: timestamp(3)
// with time zone, time(0) without time zone (pg_dump prints columns so,
// and Rails and Prisma declare them so). SQLite's grammar takes words and
// then one parenthesised size, so the DDL that declares such a column is
// rewritten to the short name with the precision after it, timestamptz(3)
// or timestamp(3), which the catalogs read back as the same type and
// precision.

// zoneTypesFolded returns sql with every time or timestamp type whose
// precision comes before WITH or WITHOUT TIME ZONE written as its short
// name and the precision, and whether there was one.
func zoneTypesFolded(tl tokenList) (string, bool) {
	var b strings.Builder
	last := 0
	for i := 0; i+6 < len(tl.toks); i++ {
		name := tl.word(i)
		if name != "time" && name != "timestamp" || tl.text(i+1) != "(" || tl.toks[i+2].kind != tkNumber ||
			tl.text(i+3) != ")" || tl.word(i+5) != "time" || tl.word(i+6) != "zone" {
			continue
		}
		switch tl.word(i + 4) {
		case "with":
			name += "tz"
		case "without":
		default:
			continue
		}
		b.WriteString(tl.sql[last:tl.toks[i].start])
		b.WriteString(name + "(" + tl.text(i+2) + ")")
		last = tl.toks[i+6].end
		i += 6
	}
	if last == 0 {
		return "", false
	}
	b.WriteString(tl.sql[last:])
	return b.String(), true
}

// translateZoneTypes is the translation of a CREATE TABLE or ALTER TABLE
// that declares such a type: the folded text, as translateDDL rewrites it
// further or else as it stands.
func translateZoneTypes(tl tokenList) (translated, bool) {
	w := tl.word
	tag := ""
	switch {
	case w(0) == "create" && (w(1) == "table" || w(1) == "unlogged" && w(2) == "table"):
		tag = "CREATE TABLE"
	case w(0) == "alter" && w(1) == "table":
		tag = "ALTER TABLE"
	default:
		return translated{}, false
	}
	folded, ok := zoneTypesFolded(tl)
	if !ok {
		return translated{}, false
	}
	if t, ok := translateDDL(folded); ok {
		return t, true
	}
	return translated{tag: tag, stmts: []string{folded}}, true
}
