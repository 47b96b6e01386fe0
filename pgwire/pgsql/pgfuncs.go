package pgsql

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Postgres' string, math and JSON functions that SQLite lacks, or has with
// another meaning, written in Go (Functions). Each is deterministic and
// strict as Postgres' are (a NULL argument gives NULL), and none makes a
// result longer than SQLite takes (maxResult), so that no call allocates
// more than a value SQLite could hold.

// maxResult is the longest text or blob a function returns: SQLite's
// default SQLITE_MAX_LENGTH, which the state machine keeps.
const maxResult = 1_000_000_000

var errTooLong = errors.New("requested length too large")

// pgFunctions are the functions of this file.
func pgFunctions() []Function {
	return append([]Function{
		{Name: "repeat", NumArgs: 2, Fn: strict(repeatFunc)},
		{Name: "regexp_replace", NumArgs: -1, Fn: strict(regexpReplace)},
		{Name: "split_part", NumArgs: 3, Fn: strict(splitPart)},
		{Name: "left", NumArgs: 2, Fn: strict(leftFunc)},
		{Name: "right", NumArgs: 2, Fn: strict(rightFunc)},
		{Name: "reverse", NumArgs: 1, Fn: strict(reverseFunc)},
		{Name: "initcap", NumArgs: 1, Fn: strict(initcap)},
		{Name: "translate", NumArgs: 3, Fn: strict(translateFunc)},
		{Name: "starts_with", NumArgs: 2, Fn: strict(startsWith)},
		{Name: "to_hex", NumArgs: 1, Fn: strict(toHex)},
		{Name: "format", NumArgs: -1, Fn: formatFunc},
		{Name: "quote_nullable", NumArgs: 1, Fn: quoteNullable},
		{Name: "encode", NumArgs: 2, Fn: strict(encodeFunc)},
		{Name: "decode", NumArgs: 2, Fn: strict(decodeFunc)},
		{Name: "sha224", NumArgs: 1, Fn: strict(shaFunc(224))},
		{Name: "sha256", NumArgs: 1, Fn: strict(shaFunc(256))},
		{Name: "sha384", NumArgs: 1, Fn: strict(shaFunc(384))},
		{Name: "sha512", NumArgs: 1, Fn: strict(shaFunc(512))},
		{Name: "div", NumArgs: 2, Fn: strict(divFunc)},
		{Name: "mod", NumArgs: 2, Fn: strict(modFunc)},
		{Name: "gcd", NumArgs: 2, Fn: strict(gcdFunc(false))},
		{Name: "lcm", NumArgs: 2, Fn: strict(gcdFunc(true))},
		{Name: "cbrt", NumArgs: 1, Fn: strict(cbrtFunc)},
		{Name: "trunc", NumArgs: 2, Fn: strict(truncFunc)},
		{Name: "width_bucket", NumArgs: 4, Fn: strict(widthBucket)},
		{Name: "json_typeof", NumArgs: 1, Fn: strict(jsonTypeof)},
		{Name: "jsonb_typeof", NumArgs: 1, Fn: strict(jsonTypeof)},
		{Name: jsonPathFunc, NumArgs: 2, Fn: strict(jsonPath(false))},
		{Name: jsonPathTextFunc, NumArgs: 2, Fn: strict(jsonPath(true))},
	}, zoneFunctions()...)
}

// The functions behind the #> and #>> operators.
const (
	jsonPathFunc     = "_pg_json_path"
	jsonPathTextFunc = "_pg_json_path_text"
)

// errorStates are the SQLSTATEs of the errors the functions of this file
// fail with, by the start of their message, as Postgres reports them.
var errorStates = []struct{ prefix, code string }{
	{"requested length too large", "54000"},                           // program_limit_exceeded
	{"time zone ", "22023"},                                           // invalid_parameter_value
	{"unit ", "22023"},                                                // invalid_parameter_value
	{"invalid regular expression", "2201B"},                           // invalid_regular_expression
	{"invalid input syntax for type", "22P02"},                        // invalid_text_representation
	{"malformed array literal", "22P02"},                              // invalid_text_representation
	{"field position must not be zero", "22023"},                      // invalid_parameter_value
	{"too few arguments for format()", "22023"},                       // invalid_parameter_value
	{"unrecognized format() type specifier", "22023"},                 // invalid_parameter_value
	{"unterminated format() type specifier", "22023"},                 // invalid_parameter_value
	{"format specifies argument 0", "22023"},                          // invalid_parameter_value
	{"unrecognized encoding", "22023"},                                // invalid_parameter_value
	{"invalid hexadecimal data", "22023"},                             // invalid_parameter_value
	{"invalid base64 end sequence", "22023"},                          // invalid_parameter_value
	{"null values cannot be formatted as an SQL identifier", "22004"}, // null_value_not_allowed
	{"timestamp out of range", "22008"},                               // datetime_field_overflow
	{"cannot replace existing key", "22023"},                          // invalid_parameter_value
	{"cannot delete from ", "22023"},                                  // invalid_parameter_value
	{"cannot set path in scalar", "22023"},                            // invalid_parameter_value
	{"path element at position", "22P02"},                             // invalid_text_representation
	{"bigint out of range", "22003"},                                  // numeric_value_out_of_range
	{"integer out of range", "22003"},                                 // numeric_value_out_of_range
	{"count must be greater than zero", "2201G"},                      // invalid_argument_for_width_bucket_function
	{"lower bound cannot equal upper bound", "2201G"},                 // invalid_argument_for_width_bucket_function
	{"operand, lower bound, and upper bound cannot be NaN", "2201G"},  // invalid_argument_for_width_bucket_function
	{"regexp_replace takes 3 or 4 arguments", "42883"},                // undefined_function
	{"function format() requires at least one argument", "42883"},     // undefined_function
}

// ErrorState is the SQLSTATE of an error message one of the Go functions
// (Functions) fails with; ok is false for any other message.
func ErrorState(msg string) (code string, ok bool) {
	if code, ok := seqErrorState(msg); ok {
		return code, true
	}
	for _, e := range errorStates {
		if strings.HasPrefix(msg, e.prefix) {
			return e.code, true
		}
	}
	return "", false
}

// strict makes fn answer NULL when any argument is NULL.
func strict(fn func(args []any) (any, error)) func(args []any) (any, error) {
	return func(args []any) (any, error) {
		for _, a := range args {
			if a == nil {
				return nil, nil
			}
		}
		return fn(args)
	}
}

// intArg reads argument v as an integer, as Postgres takes it for an
// integer parameter (a float is rounded, a text read).
func intArg(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case float64:
		if math.IsNaN(x) || x >= math.MaxInt64 || x < math.MinInt64 {
			return 0, errors.New("integer out of range")
		}
		return int64(math.RoundToEven(x)), nil
	}
	s := strings.TrimSpace(textOf(v))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid input syntax for type integer: %q", s)
	}
	return n, nil
}

func bytesOf(v any) []byte {
	if b, ok := v.([]byte); ok {
		return b
	}
	return []byte(textOf(v))
}

func repeatFunc(args []any) (any, error) {
	s := textOf(args[0])
	n, err := intArg(args[1])
	if err != nil {
		return nil, err
	}
	if n <= 0 || s == "" {
		return "", nil
	}
	if n > maxResult/int64(len(s)) {
		return nil, errTooLong
	}
	return strings.Repeat(s, int(n)), nil
}

// regexpCompile compiles a Postgres pattern with its flags (i, g, and the
// ones that change nothing in RE2: c, n-less defaults).
func regexpCompile(pattern, flags string) (*regexp.Regexp, bool, error) {
	global := false
	prefix := ""
	for _, f := range flags {
		switch f {
		case 'g':
			global = true
		case 'i':
			prefix = "(?i)"
		case 'c':
			prefix = ""
		case 'n', 'm':
			prefix += "(?m)"
		case 's':
			prefix += "(?s)"
		default:
			return nil, false, fmt.Errorf("invalid regular expression option: %q", string(f))
		}
	}
	re, err := compileCached(prefix + pattern)
	return re, global, err
}

func compileCached(pattern string) (*regexp.Regexp, error) {
	regexpMu.Lock()
	re, ok := regexpCache[pattern]
	regexpMu.Unlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression: %v", err)
	}
	regexpMu.Lock()
	if len(regexpCache) >= maxCachedRegexps {
		clear(regexpCache)
	}
	regexpCache[pattern] = re
	regexpMu.Unlock()
	return re, nil
}

// replacementTemplate turns Postgres' replacement text (\1 … \9, \& the
// whole match, \\ a backslash) into Go's Expand template.
func replacementTemplate(r string) string {
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == '$':
			b.WriteString("$$")
		case c == '\\' && i+1 < len(r) && r[i+1] >= '1' && r[i+1] <= '9':
			b.WriteString("${" + string(r[i+1]) + "}")
			i++
		case c == '\\' && i+1 < len(r) && r[i+1] == '&':
			b.WriteString("${0}")
			i++
		case c == '\\' && i+1 < len(r) && r[i+1] == '\\':
			b.WriteByte('\\')
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func regexpReplace(args []any) (any, error) {
	if len(args) < 3 || len(args) > 4 {
		return nil, errors.New("regexp_replace takes 3 or 4 arguments")
	}
	s, pattern, repl := textOf(args[0]), textOf(args[1]), textOf(args[2])
	flags := ""
	if len(args) == 4 {
		flags = textOf(args[3])
	}
	re, global, err := regexpCompile(pattern, flags)
	if err != nil {
		return nil, err
	}
	tmpl := replacementTemplate(repl)
	var out []byte
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(s, limit(global)) {
		out = append(out, s[last:m[0]]...)
		out = re.ExpandString(out, tmpl, s, m)
		last = m[1]
		if len(out) > maxResult {
			return nil, errTooLong
		}
	}
	out = append(out, s[last:]...)
	if len(out) > maxResult {
		return nil, errTooLong
	}
	return string(out), nil
}

func limit(global bool) int {
	if global {
		return -1
	}
	return 1
}

// splitPart is split_part(s, delim, n): the nth field, counted from the
// end when n is negative (Postgres 14).
func splitPart(args []any) (any, error) {
	s, delim := textOf(args[0]), textOf(args[1])
	n, err := intArg(args[2])
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errors.New("field position must not be zero")
	}
	var fields []string
	if delim == "" {
		fields = []string{s}
		if s == "" {
			fields = nil
		}
	} else {
		fields = strings.Split(s, delim)
	}
	if n < 0 {
		n += int64(len(fields)) + 1
	}
	if n < 1 || n > int64(len(fields)) {
		return "", nil
	}
	return fields[n-1], nil
}

// leftFunc is left(s, n): the first n characters, or all but the last -n.
func leftFunc(args []any) (any, error) {
	r := []rune(textOf(args[0]))
	n, err := intArg(args[1])
	if err != nil {
		return nil, err
	}
	l := int64(len(r))
	if n < 0 {
		n += l
	}
	n = max(0, min(n, l))
	return string(r[:n]), nil
}

// rightFunc is right(s, n): the last n characters, or all but the first -n.
func rightFunc(args []any) (any, error) {
	r := []rune(textOf(args[0]))
	n, err := intArg(args[1])
	if err != nil {
		return nil, err
	}
	l := int64(len(r))
	if n < 0 {
		n += l
	}
	n = max(0, min(n, l))
	return string(r[l-n:]), nil
}

func reverseFunc(args []any) (any, error) {
	r := []rune(textOf(args[0]))
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r), nil
}

// initcap upper-cases the first letter of each word (a run of letters and
// digits) and lower-cases the rest.
func initcap(args []any) (any, error) {
	var b strings.Builder
	inWord := false
	for _, c := range textOf(args[0]) {
		alnum := unicode.IsLetter(c) || unicode.IsDigit(c)
		switch {
		case alnum && !inWord:
			b.WriteRune(unicode.ToUpper(c))
		case alnum:
			b.WriteRune(unicode.ToLower(c))
		default:
			b.WriteRune(c)
		}
		inWord = alnum
	}
	return b.String(), nil
}

// translateFunc replaces each character of from in s by the one at the
// same place in to, and drops it when to is shorter.
func translateFunc(args []any) (any, error) {
	s, from, to := textOf(args[0]), []rune(textOf(args[1])), []rune(textOf(args[2]))
	m := make(map[rune]int, len(from))
	for i, c := range from {
		if _, seen := m[c]; !seen {
			m[c] = i
		}
	}
	var b strings.Builder
	for _, c := range s {
		i, ok := m[c]
		switch {
		case !ok:
			b.WriteRune(c)
		case i < len(to):
			b.WriteRune(to[i])
		}
	}
	return b.String(), nil
}

func startsWith(args []any) (any, error) {
	return strings.HasPrefix(textOf(args[0]), textOf(args[1])), nil
}

// toHex is to_hex(n); a negative n is written in two's complement, as
// Postgres writes a bigint's.
func toHex(args []any) (any, error) {
	n, err := intArg(args[0])
	if err != nil {
		return nil, err
	}
	return strconv.FormatUint(uint64(n), 16), nil
}

// quoteLiteral quotes s as a Postgres string literal: E'…' when it holds
// a backslash.
func quoteLiteral(s string) string {
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		return "E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q
}

// quoteIdentifier quotes s as Postgres' quote_ident does: only when it is
// not a lower-case name.
func quoteIdentifier(s string) string {
	plain := s != "" && !(s[0] >= '0' && s[0] <= '9') && !reservedWords[s]
	for i := 0; plain && i < len(s); i++ {
		c := s[i]
		plain = c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 0x80
	}
	if plain {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// reservedWords are the reserved words quote_ident and format's %I quote.
var reservedWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`all analyse analyze and any array as asc asymmetric authorization binary both
		case cast check collate collation column concurrently constraint create cross current_catalog
		current_date current_role current_schema current_time current_timestamp current_user default
		deferrable desc distinct do else end except false fetch for foreign freeze from full grant group
		having ilike in initially inner intersect into is isnull join lateral leading left like limit
		localtime localtimestamp natural not notnull null offset on only or order outer overlaps placing
		primary references returning right select session_user similar some symmetric system_user table
		tablesample then to trailing true union unique user using variadic verbose when where window with`) {
		reservedWords[w] = true
	}
}

func quoteNullable(args []any) (any, error) {
	if args[0] == nil {
		return "NULL", nil
	}
	return quoteLiteral(valueText(args[0])), nil
}

// valueText is a value as Postgres writes it in text.
func valueText(v any) string {
	switch x := v.(type) {
	case []byte:
		return `\x` + hex.EncodeToString(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return textOf(v)
}

// formatFunc is Postgres' format(fmt, args…): %s, %I and %L, with an
// optional position (%2$s), flag - and width; %% is a percent sign.
func formatFunc(args []any) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("function format() requires at least one argument")
	}
	if args[0] == nil {
		return nil, nil
	}
	f := textOf(args[0])
	rest := args[1:]
	var b strings.Builder
	next := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		i++
		if i >= len(f) {
			return nil, errors.New("unterminated format() type specifier")
		}
		if f[i] == '%' {
			b.WriteByte('%')
			continue
		}
		// [position$][-][width]type
		j := i
		for j < len(f) && f[j] >= '0' && f[j] <= '9' {
			j++
		}
		if j < len(f) && f[j] == '$' && j > i {
			pos, err := strconv.Atoi(f[i:j])
			if err != nil || pos < 1 {
				return nil, errors.New("format specifies argument 0, but arguments are numbered from 1")
			}
			next = pos - 1
			i = j + 1
		}
		leftAlign := false
		if i < len(f) && f[i] == '-' {
			leftAlign = true
			i++
		}
		j = i
		for j < len(f) && f[j] >= '0' && f[j] <= '9' {
			j++
		}
		width := 0
		if j > i {
			w, err := strconv.Atoi(f[i:j])
			if err != nil || w > 10<<20 {
				return nil, errTooLong
			}
			width = w
		}
		i = j
		if i >= len(f) {
			return nil, errors.New("unterminated format() type specifier")
		}
		if next >= len(rest) {
			return nil, errors.New("too few arguments for format()")
		}
		arg := rest[next]
		next++
		var s string
		switch f[i] {
		case 's':
			if arg != nil {
				s = valueText(arg)
			}
		case 'I':
			if arg == nil {
				return nil, errors.New("null values cannot be formatted as an SQL identifier")
			}
			s = quoteIdentifier(valueText(arg))
		case 'L':
			if arg == nil {
				s = "NULL"
			} else {
				s = quoteLiteral(valueText(arg))
			}
		default:
			return nil, fmt.Errorf("unrecognized format() type specifier %q", string(f[i]))
		}
		if pad := width - utf8.RuneCountInString(s); pad > 0 {
			if leftAlign {
				s += strings.Repeat(" ", pad)
			} else {
				s = strings.Repeat(" ", pad) + s
			}
		}
		b.WriteString(s)
		if b.Len() > maxResult {
			return nil, errTooLong
		}
	}
	return b.String(), nil
}

// encodeFunc is encode(bytes, 'hex'|'base64'|'escape').
func encodeFunc(args []any) (any, error) {
	b := bytesOf(args[0])
	switch strings.ToLower(textOf(args[1])) {
	case "hex":
		return hex.EncodeToString(b), nil
	case "base64":
		// Postgres breaks base64 into lines of 76 characters.
		s := base64.StdEncoding.EncodeToString(b)
		var out strings.Builder
		for len(s) > 76 {
			out.WriteString(s[:76])
			out.WriteByte('\n')
			s = s[76:]
		}
		out.WriteString(s)
		return out.String(), nil
	case "escape":
		var out strings.Builder
		for _, c := range b {
			switch {
			case c == 0 || c >= 0x80:
				fmt.Fprintf(&out, `\%03o`, c)
			case c == '\\':
				out.WriteString(`\\`)
			default:
				out.WriteByte(c)
			}
		}
		return out.String(), nil
	}
	return nil, fmt.Errorf("unrecognized encoding: %q", textOf(args[1]))
}

// decodeFunc is decode(text, 'hex'|'base64'|'escape').
func decodeFunc(args []any) (any, error) {
	s := textOf(args[0])
	switch strings.ToLower(textOf(args[1])) {
	case "hex":
		b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			return nil, errors.New("invalid hexadecimal data")
		}
		return b, nil
	case "base64":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			return nil, errors.New("invalid base64 end sequence")
		}
		return b, nil
	case "escape":
		var out []byte
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c != '\\' {
				out = append(out, c)
				continue
			}
			switch {
			case i+1 < len(s) && s[i+1] == '\\':
				out = append(out, '\\')
				i++
			case i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]):
				v, _ := strconv.ParseUint(s[i+1:i+4], 8, 8)
				out = append(out, byte(v))
				i += 3
			default:
				return nil, errors.New("invalid input syntax for type bytea")
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unrecognized encoding: %q", textOf(args[1]))
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

func shaFunc(bits int) func(args []any) (any, error) {
	return func(args []any) (any, error) {
		b := bytesOf(args[0])
		switch bits {
		case 224:
			s := sha256.Sum224(b)
			return s[:], nil
		case 256:
			s := sha256.Sum256(b)
			return s[:], nil
		case 384:
			s := sha512.Sum384(b)
			return s[:], nil
		}
		s := sha512.Sum512(b)
		return s[:], nil
	}
}

var errDivZero = errors.New("division by zero")

// numArg reads a number argument: an int64, or else a float64.
func numArg(v any) (int64, float64, bool, error) {
	switch x := v.(type) {
	case int64:
		return x, 0, true, nil
	case float64:
		return 0, x, false, nil
	}
	s := strings.TrimSpace(textOf(v))
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, 0, true, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, 0, false, fmt.Errorf("invalid input syntax for type numeric: %q", s)
	}
	return 0, f, false, nil
}

// divFunc is div(a, b): the integer quotient, truncated toward zero.
func divFunc(args []any) (any, error) {
	ai, af, aInt, err := numArg(args[0])
	if err != nil {
		return nil, err
	}
	bi, bf, bInt, err := numArg(args[1])
	if err != nil {
		return nil, err
	}
	if aInt && bInt {
		if bi == 0 {
			return nil, errDivZero
		}
		if ai == math.MinInt64 && bi == -1 {
			return nil, errors.New("bigint out of range")
		}
		return ai / bi, nil
	}
	if !aInt {
		ai = 0
	} else {
		af = float64(ai)
	}
	if bInt {
		bf = float64(bi)
	}
	if bf == 0 {
		return nil, errDivZero
	}
	return math.Trunc(af / bf), nil
}

// modFunc is mod(a, b), the remainder with a's sign; unlike SQLite's, an
// integer for integers and an error for a zero divisor.
func modFunc(args []any) (any, error) {
	ai, af, aInt, err := numArg(args[0])
	if err != nil {
		return nil, err
	}
	bi, bf, bInt, err := numArg(args[1])
	if err != nil {
		return nil, err
	}
	if aInt && bInt {
		if bi == 0 {
			return nil, errDivZero
		}
		if bi == -1 {
			return int64(0), nil
		}
		return ai % bi, nil
	}
	if aInt {
		af = float64(ai)
	}
	if bInt {
		bf = float64(bi)
	}
	if bf == 0 {
		return nil, errDivZero
	}
	return math.Mod(af, bf), nil
}

// gcdFunc is gcd(a, b), or lcm(a, b) when lcm is set, of integers.
func gcdFunc(lcm bool) func(args []any) (any, error) {
	return func(args []any) (any, error) {
		a, err := exactInt(args[0])
		if err != nil {
			return nil, err
		}
		b, err := exactInt(args[1])
		if err != nil {
			return nil, err
		}
		x, y := big.NewInt(a), big.NewInt(b)
		g := new(big.Int).GCD(nil, nil, new(big.Int).Abs(x), new(big.Int).Abs(y))
		r := g
		if lcm {
			if a == 0 || b == 0 {
				return int64(0), nil
			}
			r = new(big.Int).Abs(new(big.Int).Mul(x, y))
			r.Quo(r, g)
		}
		if !r.IsInt64() {
			return nil, errors.New("bigint out of range")
		}
		return r.Int64(), nil
	}
}

// exactInt reads an integer argument that must have no fraction.
func exactInt(v any) (int64, error) {
	i, f, isInt, err := numArg(v)
	if err != nil || isInt {
		return i, err
	}
	if f != math.Trunc(f) || f >= math.MaxInt64 || f < math.MinInt64 {
		return 0, fmt.Errorf("invalid input syntax for type bigint: %q", strconv.FormatFloat(f, 'g', -1, 64))
	}
	return int64(f), nil
}

func floatArg(v any) (float64, error) {
	i, f, isInt, err := numArg(v)
	if isInt {
		return float64(i), err
	}
	return f, err
}

func cbrtFunc(args []any) (any, error) {
	f, err := floatArg(args[0])
	if err != nil {
		return nil, err
	}
	return math.Cbrt(f), nil
}

// truncFunc is trunc(x, n): x cut to n decimal places (n may be negative).
func truncFunc(args []any) (any, error) {
	f, err := floatArg(args[0])
	if err != nil {
		return nil, err
	}
	n, err := intArg(args[1])
	if err != nil {
		return nil, err
	}
	if n > 300 || n < -300 {
		return f, nil
	}
	if n <= 0 {
		p := math.Pow(10, float64(-n))
		return math.Trunc(f/p) * p, nil
	}
	// Through the decimal text, so that 1.15 cut to 2 places is 1.15.
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if dot := strings.IndexByte(s, '.'); dot >= 0 && len(s)-dot-1 > int(n) {
		s = s[:dot+1+int(n)]
	}
	return strconv.ParseFloat(s, 64)
}

// widthBucket is width_bucket(x, lo, hi, count).
func widthBucket(args []any) (any, error) {
	x, err := floatArg(args[0])
	if err != nil {
		return nil, err
	}
	lo, err := floatArg(args[1])
	if err != nil {
		return nil, err
	}
	hi, err := floatArg(args[2])
	if err != nil {
		return nil, err
	}
	n, err := intArg(args[3])
	if err != nil {
		return nil, err
	}
	if n <= 0 || n >= math.MaxInt32 {
		return nil, errors.New("count must be greater than zero")
	}
	if lo == hi || math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil, errors.New("lower bound cannot equal upper bound")
	}
	if math.IsNaN(x) {
		return nil, errors.New("operand, lower bound, and upper bound cannot be NaN")
	}
	var b int64
	if lo < hi {
		switch {
		case x < lo:
			b = 0
		case x >= hi:
			b = n + 1
		default:
			b = int64(float64(n)*(x-lo)/(hi-lo)) + 1
		}
	} else {
		switch {
		case x > lo:
			b = 0
		case x <= hi:
			b = n + 1
		default:
			b = int64(float64(n)*(lo-x)/(lo-hi)) + 1
		}
	}
	return min(b, n+1), nil
}

// jsonTypeof is json_typeof(j): object, array, string, number, boolean or
// null.
func jsonTypeof(args []any) (any, error) {
	s := strings.TrimLeft(textOf(args[0]), " \t\r\n")
	if s == "" {
		return nil, errors.New("invalid input syntax for type json")
	}
	switch s[0] {
	case '{':
		return "object", nil
	case '[':
		return "array", nil
	case '"':
		return "string", nil
	case 't', 'f':
		return "boolean", nil
	case 'n':
		return "null", nil
	}
	return "number", nil
}

// jsonPath is j #> path, or j #>> path when asText: the value at path, an
// array text '{a,1,b}' of object keys and array indexes (a negative one
// counts from the end); NULL when there is none.
func jsonPath(asText bool) func(args []any) (any, error) {
	return func(args []any) (any, error) {
		doc := json.RawMessage(bytesOf(args[0]))
		if !json.Valid(doc) {
			return nil, errors.New("invalid input syntax for type json")
		}
		path, err := pathElems(textOf(args[1]))
		if err != nil {
			return nil, err
		}
		for _, key := range path {
			d := strings.TrimLeft(string(doc), " \t\r\n")
			switch {
			case strings.HasPrefix(d, "{"):
				var obj map[string]json.RawMessage
				if err := json.Unmarshal(doc, &obj); err != nil {
					return nil, err
				}
				v, ok := obj[key]
				if !ok {
					return nil, nil
				}
				doc = v
			case strings.HasPrefix(d, "["):
				var arr []json.RawMessage
				if err := json.Unmarshal(doc, &arr); err != nil {
					return nil, err
				}
				k, err := strconv.Atoi(key)
				if err != nil {
					return nil, nil
				}
				if k < 0 {
					k += len(arr)
				}
				if k < 0 || k >= len(arr) {
					return nil, nil
				}
				doc = arr[k]
			default:
				return nil, nil
			}
		}
		d := strings.TrimSpace(string(doc))
		if !asText {
			return d, nil
		}
		switch {
		case d == "null":
			return nil, nil
		case strings.HasPrefix(d, `"`):
			var s string
			if err := json.Unmarshal([]byte(d), &s); err != nil {
				return nil, err
			}
			return s, nil
		}
		return d, nil
	}
}

// pathElems reads a text[] literal of a JSON path: {a,b} or {"a b",1}.
func pathElems(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, fmt.Errorf("malformed array literal: %q", s)
	}
	body := s[1 : len(s)-1]
	var out []string
	for i := 0; i < len(body); {
		for i < len(body) && body[i] == ' ' {
			i++
		}
		var e strings.Builder
		quoted := i < len(body) && body[i] == '"'
		if quoted {
			i++
			for i < len(body) && body[i] != '"' {
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				e.WriteByte(body[i])
				i++
			}
			if i >= len(body) {
				return nil, fmt.Errorf("malformed array literal: %q", s)
			}
			i++
		} else {
			for i < len(body) && body[i] != ',' {
				e.WriteByte(body[i])
				i++
			}
		}
		if quoted {
			out = append(out, e.String())
		} else {
			out = append(out, strings.TrimRight(e.String(), " "))
		}
		for i < len(body) && body[i] == ' ' {
			i++
		}
		if i < len(body) {
			if body[i] != ',' {
				return nil, fmt.Errorf("malformed array literal: %q", s)
			}
			i++
		}
	}
	return out, nil
}
