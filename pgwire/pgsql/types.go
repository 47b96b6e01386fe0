package pgsql

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// readType reads a type name from token i: one or more words
// (double precision, timestamp with time zone), an optional pg_catalog.
// qualifier, an optional (precision[, scale]) and [] for arrays. It returns
// the canonical Postgres name ("int4[]" for an array), the name as written
// and the token after it; typ is "" when token i starts no type name.
func (p *parser) readType(i int) (typ, display string, next int) {
	if (p.word(i) == "pg_catalog" || p.word(i) == "public") && p.isPunct(i+1, '.') {
		i += 2
	}
	k := p.kindAt(i)
	if k != tWord && k != tQIdent {
		return "", "", i
	}
	start := i
	name := strings.Trim(lower(p.text(i)), `"`)
	i++
	switch name {
	case "double":
		if p.word(i) == "precision" {
			name, i = "double precision", i+1
		}
	case "character", "char", "bit":
		if p.word(i) == "varying" {
			name, i = name+" varying", i+1
		}
	case "timestamp", "time":
		if p.word(i) == "with" || p.word(i) == "without" {
			if p.word(i+1) == "time" && p.word(i+2) == "zone" {
				if p.word(i) == "with" {
					name += "tz"
				}
				i += 3
			}
		}
	}
	if p.isPunct(i, '(') {
		j := i + 1
		for j < len(p.toks) && (p.kindAt(j) == tNumber || p.isPunct(j, ',')) {
			j++
		}
		if p.isPunct(j, ')') {
			i = j + 1
		}
	}
	// Time zones after the precision: timestamp(3) with time zone.
	if (name == "timestamp" || name == "time") && p.word(i) == "with" && p.word(i+1) == "time" && p.word(i+2) == "zone" {
		name, i = name+"tz", i+3
	} else if (name == "timestamp" || name == "time") && p.word(i) == "without" && p.word(i+1) == "time" && p.word(i+2) == "zone" {
		i += 3
	}
	typ = canonicalType(name)
	for p.isPunct(i, '[') {
		j := i + 1
		if p.kindAt(j) == tNumber {
			j++
		}
		if !p.isPunct(j, ']') {
			break
		}
		typ, i = strings.TrimSuffix(typ, "[]")+"[]", j+1
	}
	return typ, p.src[p.toks[start].start:p.toks[i-1].end], i
}

// canonicalType returns Postgres' own name of a type name.
func canonicalType(name string) string {
	switch name {
	case "int", "integer", "int4", "serial", "serial4":
		return "int4"
	case "bigint", "int8", "bigserial", "serial8":
		return "int8"
	case "smallint", "int2", "smallserial", "serial2":
		return "int2"
	case "real", "float4":
		return "float4"
	case "float", "float8", "double precision":
		return "float8"
	case "numeric", "decimal":
		return "numeric"
	case "bool", "boolean":
		return "bool"
	case "varchar", "character varying", "char varying":
		return "varchar"
	case "char", "character", "bpchar":
		return "bpchar"
	case "timestamp", "timestamp without time zone":
		return "timestamp"
	case "timestamptz", "timestamp with time zone":
		return "timestamptz"
	case "time", "time without time zone":
		return "time"
	case "timetz":
		return "timetz"
	}
	return name
}

// cast translates operand::typ, the operand being SQLite text; lit is its
// value when the operand is one string literal (then the cast is done
// here, with Postgres' errors), param whether it is one $n (whose value
// the client sends in the type the cast gives it). tok is the type's token.
func (p *parser) cast(typ, display, operand, lit string, isLit, param bool, tok, litTok int) (string, bool) {
	operand = strings.TrimSpace(operand)
	if strings.HasSuffix(typ, "[]") {
		p.unsupported(tok, "arrays ("+display+")")
		return "", false
	}
	if isLit {
		if !knownType(typ) && !strings.HasPrefix(typ, "reg") && typ != "oid" {
			if userType(typ) {
				return p.castLiteral("text", lit, litTok)
			}
			return "", p.unknownType(typ, display, tok)
		}
		return p.castLiteral(typ, lit, litTok)
	}
	switch typ {
	case "regclass", "regtype", "regproc", "regprocedure", "regnamespace", "regrole", "regoper", "oid":
		if CatalogCast != nil {
			if s, ok := CatalogCast(typ, operand); ok {
				return s, true
			}
		}
		if typ == "oid" && !param {
			return "CAST(" + operand + " AS INTEGER)", true
		}
		return operand, true
	}
	if param {
		return operand, knownType(typ) || userType(typ) || p.unknownType(typ, display, tok)
	}
	switch typ {
	case "int2", "int4", "int8":
		return "CAST(" + operand + " AS INTEGER)", true
	case "float4", "float8":
		return "CAST(" + operand + " AS REAL)", true
	case "numeric":
		return "CAST(" + operand + " AS NUMERIC)", true
	case "text", "varchar", "bpchar", "name", "citext":
		return "CAST(" + operand + " AS TEXT)", true
	case "bytea":
		return "CAST(" + operand + " AS BLOB)", true
	case "bool":
		// What boolin reads as true: any case, white space around, the
		// prefixes of true and yes.
		return "(lower(trim(" + operand + ")) IN ('t','tr','tru','true','y','ye','yes','on','1') OR (typeof(" + operand + ") IN ('integer','real') AND " + operand + " <> 0))", true
	case "date":
		return "date(" + operand + ")", true
	case "time":
		return "time(" + operand + ")", true
	case "timestamp", "timestamptz":
		return castPrecision(display, operand), true
	case "uuid", "json", "jsonb", "timetz":
		return operand, true
	}
	if userType(typ) {
		return operand, true
	}
	return "", p.unknownType(typ, display, tok)
}

func knownType(typ string) bool {
	switch typ {
	case "int2", "int4", "int8", "float4", "float8", "numeric", "text", "varchar", "bpchar", "name", "citext",
		"bytea", "bool", "date", "time", "timetz", "timestamp", "timestamptz", "uuid", "json", "jsonb":
		return true
	}
	return false
}

func (p *parser) unknownType(typ, display string, tok int) bool {
	if typ == "interval" {
		p.unsupported(tok, "interval values outside timestamp arithmetic")
		return false
	}
	p.fail("0A000", tok, "type "+display+" is not supported")
	return false
}

// castLiteral converts the literal v to typ as Postgres does, into SQLite
// text.
func (p *parser) castLiteral(typ, v string, tok int) (string, bool) {
	bad := func(code, what string) (string, bool) {
		p.fail(code, tok, "invalid input syntax for type "+what+": "+strconv.Quote(v))
		return "", false
	}
	s := strings.TrimSpace(v)
	switch typ {
	case "int2", "int4", "int8":
		n, err := strconv.ParseInt(s, 10, 64)
		name := map[string]string{"int2": "smallint", "int4": "integer", "int8": "bigint"}[typ]
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				p.fail("22003", tok, "value "+strconv.Quote(v)+" is out of range for type "+name)
				return "", false
			}
			return bad("22P02", name)
		}
		if typ == "int2" && (n < math.MinInt16 || n > math.MaxInt16) || typ == "int4" && (n < math.MinInt32 || n > math.MaxInt32) {
			p.fail("22003", tok, "value "+strconv.Quote(v)+" is out of range for type "+name)
			return "", false
		}
		return strconv.FormatInt(n, 10), true
	case "float4", "float8":
		f, err := strconv.ParseFloat(s, 64)
		switch {
		case err == nil:
		case strings.EqualFold(s, "infinity"), strings.EqualFold(s, "inf"):
			return "9e999", true
		case strings.EqualFold(s, "-infinity"), strings.EqualFold(s, "-inf"):
			return "-9e999", true
		default:
			return bad("22P02", "double precision")
		}
		if math.IsNaN(f) {
			p.unsupported(tok, "NaN")
			return "", false
		}
		out := strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(out, ".eEn") {
			out += ".0"
		}
		return out, true
	case "numeric":
		if _, err := strconv.ParseFloat(s, 64); err != nil || strings.ContainsAny(s, "xXpP_") || strings.EqualFold(s, "nan") || strings.Contains(strings.ToLower(s), "inf") {
			return bad("22P02", "numeric")
		}
		return s, true
	case "text", "varchar", "bpchar", "name", "citext", "unknown":
		return quoteString(v), true
	case "bool":
		switch strings.ToLower(s) {
		case "t", "tr", "tru", "true", "y", "ye", "yes", "on", "1":
			return "1", true
		case "f", "fa", "fal", "fals", "false", "n", "no", "of", "off", "0":
			return "0", true
		}
		return bad("22P02", "boolean")
	case "bytea":
		b, ok := byteaValue(v)
		if !ok {
			return bad("22P02", "type bytea")
		}
		return "X'" + hex.EncodeToString(b) + "'", true
	case "date":
		for _, layout := range []string{"2006-01-02", "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-1-2"} {
			if t, err := time.Parse(layout, s); err == nil {
				return "'" + t.Format("2006-01-02") + "'", true
			}
		}
		if t, ok := parseTimestamp(s); ok {
			return "'" + t.Format("2006-01-02") + "'", true
		}
		return bad("22007", "date")
	case "timestamp", "timestamptz":
		switch strings.ToLower(s) {
		case "now":
			return "CURRENT_TIMESTAMP", true
		}
		t, ok := parseTimestamp(s)
		if !ok {
			return bad("22007", map[string]string{"timestamp": "timestamp", "timestamptz": "timestamp with time zone"}[typ])
		}
		if typ == "timestamptz" {
			if !hasZone(s) {
				// Read in the session's TimeZone (zone.go).
				return p.holeText(hole{kind: holeLocalTS, lit: formatTimestamp(t)}), true
			}
			t = t.UTC()
		}
		return "'" + formatTimestamp(t) + "'", true
	case "time", "timetz":
		for _, layout := range []string{"15:04:05.999999999", "15:04", "15:04:05.999999999Z07:00", "15:04:05.999999999-07"} {
			if _, err := time.Parse(layout, s); err == nil {
				return quoteString(s), true
			}
		}
		return bad("22007", "time")
	case "uuid":
		u, ok := canonicalUUID(s)
		if !ok {
			return bad("22P02", "uuid")
		}
		return "'" + u + "'", true
	case "json", "jsonb":
		if !json.Valid([]byte(v)) {
			return bad("22P02", "json")
		}
		return quoteString(v), true
	case "regclass", "regtype", "regproc", "regprocedure", "regnamespace", "regrole", "regoper", "oid":
		if CatalogCast != nil {
			if out, ok := CatalogCast(typ, quoteString(v)); ok {
				return out, true
			}
		}
		if typ == "oid" {
			if n, err := strconv.ParseUint(s, 10, 32); err == nil {
				return strconv.FormatUint(n, 10), true
			}
			return bad("22P02", "oid")
		}
		return quoteString(v), true
	}
	if strings.HasSuffix(typ, "[]") {
		p.unsupported(tok, "arrays ("+typ+")")
		return "", false
	}
	return "", p.unknownType(typ, typ, tok)
}

var timestampLayouts = []string{
	"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999-07", "2006-01-02T15:04:05.999999999-07",
	"2006-01-02 15:04:05.999999999 -07:00", "2006-01-02 15:04:05.999999999Z",
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04Z07:00", "2006-01-02 15:04Z07", "2006-01-02T15:04Z07:00",
	"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02",
}

func parseTimestamp(s string) (time.Time, bool) {
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// formatTimestamp writes t as SQLite's date functions read it.
func formatTimestamp(t time.Time) string {
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return strings.TrimRight(t.Format("2006-01-02 15:04:05.000000"), "0")
}

func canonicalUUID(s string) (string, bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	h := strings.ReplaceAll(s, "-", "")
	if len(h) != 32 {
		return "", false
	}
	if _, err := hex.DecodeString(h); err != nil {
		return "", false
	}
	h = strings.ToLower(h)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}

// byteaValue decodes bytea input: hex (\x00ff) or escape format.
func byteaValue(v string) ([]byte, bool) {
	if strings.HasPrefix(v, `\x`) || strings.HasPrefix(v, `\X`) {
		h := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\n' || r == '\t' || r == '\r' {
				return -1
			}
			return r
		}, v[2:])
		b, err := hex.DecodeString(h)
		return b, err == nil
	}
	var out []byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		switch {
		case i+1 < len(v) && v[i+1] == '\\':
			out = append(out, '\\')
			i++
		case i+3 < len(v) && v[i+1] >= '0' && v[i+1] <= '3' && v[i+2] >= '0' && v[i+2] <= '7' && v[i+3] >= '0' && v[i+3] <= '7':
			out = append(out, (v[i+1]-'0')<<6|(v[i+2]-'0')<<3|(v[i+3]-'0'))
			i += 3
		default:
			return nil, false
		}
	}
	return out, true
}

// unescapeE decodes an E'…' string; msg says why it is invalid.
func unescapeE(s string) (string, string) {
	if len(s) < 3 || s[len(s)-1] != '\'' {
		return "", "unterminated quoted string"
	}
	body := s[2 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '\'' && i+1 < len(body) && body[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		if c != '\\' || i+1 >= len(body) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := body[i]; e {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v, n := 0, 0
			for n < 3 && i < len(body) && body[i] >= '0' && body[i] <= '7' {
				v = v*8 + int(body[i]-'0')
				i++
				n++
			}
			i--
			b.WriteByte(byte(v))
		case 'x':
			v, n := 0, 0
			for n < 2 && i+1 < len(body) && isHex(body[i+1]) {
				i++
				v = v*16 + hexVal(body[i])
				n++
			}
			if n == 0 {
				b.WriteByte('x')
				continue
			}
			b.WriteByte(byte(v))
		case 'u', 'U':
			n := 4
			if e == 'U' {
				n = 8
			}
			if i+1+n > len(body) {
				return "", "invalid Unicode escape"
			}
			r, err := strconv.ParseUint(body[i+1:i+1+n], 16, 32)
			if err != nil {
				return "", "invalid Unicode escape"
			}
			b.WriteRune(rune(r))
			i += n
		default:
			b.WriteByte(e)
		}
	}
	out := b.String()
	if !utf8.ValidString(out) || strings.IndexByte(out, 0) >= 0 {
		return "", "invalid byte sequence for encoding \"UTF8\""
	}
	return out, ""
}

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c >= 'a':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

// intervalModifiers turns an interval literal ('1 day', '2 hours 30
// minutes', '1 year -2 days') into SQLite date modifiers (", '+1 days'").
func intervalModifiers(v string, negate bool) (string, bool) {
	f := strings.Fields(strings.ToLower(v))
	if len(f) == 0 {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		n, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			// hh:mm:ss
			if t, err := time.Parse("15:04:05", f[i]); err == nil {
				secs := t.Hour()*3600 + t.Minute()*60 + t.Second()
				if negate {
					secs = -secs
				}
				b.WriteString(", '" + strconv.FormatInt(int64(secs), 10) + " seconds'")
				continue
			}
			return "", false
		}
		if i+1 >= len(f) {
			return "", false
		}
		i++
		unit := strings.TrimSuffix(f[i], "s")
		switch unit {
		case "year", "month", "day", "hour", "minute", "second":
		case "week":
			unit, n = "day", n*7
		case "min":
			unit = "minute"
		case "sec":
			unit = "second"
		case "mon":
			unit = "month"
		default:
			return "", false
		}
		if negate {
			n = -n
		}
		num := strconv.FormatFloat(n, 'f', -1, 64)
		if n >= 0 {
			num = "+" + num
		}
		b.WriteString(", '" + num + " " + unit + "s'")
	}
	return b.String(), true
}
