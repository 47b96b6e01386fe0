package pgsql

import (
	"errors"
	"strconv"
	"strings"
)

// Postgres fails a division by zero (22012); SQLite's / and % give NULL.
// The divisor of each / and % in a DML statement is passed through
// _pg_divisor, a Go function that fails on zero and returns any other
// value as it came, so that SQLite's arithmetic (integer division, type
// conversions) is unchanged. The right operand of / is a unary
// expression: a primary, its casts, and its signs, since / and % bind
// tighter than every binary operator but ::, so the wrapper closes when
// the next primary ends at the depth where it opened. A nonzero numeric
// literal divisor is left alone (pgbench's (aid - 1) / 100000 costs
// nothing). DDL is not translated: a view, default or CHECK that divides
// keeps SQLite's NULL, so that a backup opened by sqlite3 needs no
// function of raftsql's.

// divisorFunc is the SQL name of the function that guards a divisor.
const divisorFunc = "_pg_divisor"

// errDivisionByZero is Postgres' message; the server maps it to 22012.
var errDivisionByZero = errors.New("division by zero")

type divisor struct {
	depth int // len(frames) where the operand is
	at    int // offset in out where the operand starts
}

// divide keeps the operator at token i and opens the divisor's wrapper.
func (p *parser) divide(i int) int {
	p.keep(i)
	p.materialize()
	if i+1 < len(p.toks) {
		p.gap(i + 1)
	}
	p.out = append(p.out, divisorFunc+"("...)
	p.divisors = append(p.divisors, divisor{depth: len(p.frames), at: len(p.out)})
	p.prim = -1
	return i + 1
}

// closeDivisors closes the wrappers whose operand is complete before
// token next.
func (p *parser) closeDivisors(next int) {
	for n := len(p.divisors); n > 0; n = len(p.divisors) {
		d := p.divisors[n-1]
		if len(p.frames) < d.depth {
			// The operand's parenthesis closed without it: let SQLite say so.
			p.divisors = p.divisors[:n-1]
			continue
		}
		if len(p.frames) != d.depth || p.prim < d.at {
			return
		}
		if p.isOp(next, "::") || p.isPunct(next, '.') || p.isPunct(next, '(') || p.isPunct(next, '[') ||
			p.word(next) == "collate" {
			return
		}
		if p.isPunct(next-1, '.') {
			return // a qualified name goes on
		}
		p.materialize()
		p.out = append(p.out, ')')
		p.divisors = p.divisors[:n-1]
	}
}

// nonzeroLiteral reports whether token i is a numeric literal other than 0.
func (p *parser) nonzeroLiteral(i int) bool {
	if p.kindAt(i) != tNumber || p.isOp(i+1, "::") {
		return false
	}
	v, err := strconv.ParseFloat(p.text(i), 64)
	return err == nil && v != 0
}

// divisorGuard is _pg_divisor(x): x, or the division-by-zero error when x
// is zero (a text that reads as zero included, as Postgres takes '0').
func divisorGuard(args []any) (any, error) {
	switch x := args[0].(type) {
	case int64:
		if x == 0 {
			return nil, errDivisionByZero
		}
	case float64:
		if x == 0 {
			return nil, errDivisionByZero
		}
	case string:
		if v, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil && v == 0 {
			return nil, errDivisionByZero
		}
	}
	return args[0], nil
}
