package pgsql

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"strings"
	"unicode/utf8"
)

// The SQL-standard call forms Postgres takes and SQLite does not —
// position(a IN b), substring(a FROM b [FOR c]), trim([LEADING|TRAILING|
// BOTH] [chars] FROM a) — become SQLite's instr, substr and trim; lpad,
// rpad and md5 are Go functions (Functions).

// keywordCall translates the call at token i whose arguments are
// separated by keywords; ok is false for the comma form, which SQLite
// takes as it is.
func (p *parser) keywordCall(i, start int) (int, bool) {
	end := p.matchParen(i + 1)
	if end < 0 {
		return i, false
	}
	// The depth-0 keywords inside the parentheses.
	at := map[string]int{}
	depth := 0
	for j := i + 2; j < end; j++ {
		switch {
		case p.isPunct(j, '(') || p.isPunct(j, '['):
			depth++
		case p.isPunct(j, ')') || p.isPunct(j, ']'):
			depth--
		case depth == 0 && p.kindAt(j) == tWord:
			switch w := p.word(j); w {
			case "in", "from", "for", "leading", "trailing", "both":
				if _, seen := at[w]; !seen {
					at[w] = j
				}
			}
		}
	}
	expr := func(a, b int) string { return p.subExpr(a, b) }
	var out string
	switch p.word(i) {
	case "position":
		in, ok := at["in"]
		if !ok {
			return i, false
		}
		out = "instr(" + expr(in+1, end) + ", " + expr(i+2, in) + ")"
	case "substring":
		from, hasFrom := at["from"]
		forAt, hasFor := at["for"]
		switch {
		case hasFrom && hasFor && forAt > from:
			out = "substr(" + expr(i+2, from) + ", " + expr(from+1, forAt) + ", " + expr(forAt+1, end) + ")"
		case hasFrom && !hasFor:
			out = "substr(" + expr(i+2, from) + ", " + expr(from+1, end) + ")"
		case hasFor && !hasFrom:
			out = "substr(" + expr(i+2, forAt) + ", 1, " + expr(forAt+1, end) + ")"
		default:
			return i, false
		}
	case "trim":
		from, hasFrom := at["from"]
		fn, lo := "trim", i+2
		switch p.word(i + 2) {
		case "leading":
			fn, lo = "ltrim", i+3
		case "trailing":
			fn, lo = "rtrim", i+3
		case "both":
			lo = i + 3
		default:
			if !hasFrom {
				return i, false
			}
		}
		switch {
		case hasFrom && from > lo:
			out = fn + "(" + expr(from+1, end) + ", " + expr(lo, from) + ")"
		case hasFrom:
			out = fn + "(" + expr(from+1, end) + ")"
		default:
			out = fn + "(" + expr(lo, end) + ")"
		}
	default:
		return i, false
	}
	if p.err != nil {
		return end + 1, true
	}
	p.replace(i, out)
	for k := i + 1; k <= end; k++ {
		p.drop(k)
	}
	p.prim, p.primLo = start, i
	return end + 1, true
}

var errPadArgs = errors.New("lpad and rpad take 2 or 3 arguments")

// pad is lpad (left) and rpad: s filled with fill (a space by default)
// or cut to n characters.
func pad(left bool) func(args []any) (any, error) {
	return func(args []any) (any, error) {
		if len(args) < 2 || len(args) > 3 {
			return nil, errPadArgs
		}
		for _, a := range args {
			if a == nil {
				return nil, nil
			}
		}
		s := textOf(args[0])
		n, ok := args[1].(int64)
		if !ok {
			if f, isF := args[1].(float64); isF {
				n = int64(f)
			} else {
				return nil, errors.New("invalid input syntax for type integer")
			}
		}
		if n > 10<<20 {
			return nil, errors.New("requested length too large")
		}
		fill := " "
		if len(args) == 3 {
			fill = textOf(args[2])
		}
		l := int64(utf8.RuneCountInString(s))
		if n <= l {
			r := []rune(s)
			if n < 0 {
				n = 0
			}
			return string(r[:n]), nil
		}
		if fill == "" {
			return s, nil
		}
		var b strings.Builder
		f := []rune(fill)
		for k := int64(0); k < n-l; k++ {
			b.WriteRune(f[k%int64(len(f))])
		}
		if left {
			return b.String() + s, nil
		}
		return s + b.String(), nil
	}
}

func md5Func(args []any) (any, error) {
	if args[0] == nil {
		return nil, nil
	}
	var b []byte
	if x, ok := args[0].([]byte); ok {
		b = x
	} else {
		b = []byte(textOf(args[0]))
	}
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:]), nil
}
