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

// A divisor is a wrapper open in the output around an operand: a
// divisor's guard, or the call an operator became (^ is power(a, b), |/ is
// sqrt(a), #>> is _pg_json_path_text(a, b) …), which closes when its last
// operand ends.
type divisor struct {
	depth int // len(frames) where the operand is
	at    int // offset in out where the operand starts
	kind  wrapKind
	// For an operator's call: where it starts in out and its first token,
	// the primary it is once closed.
	start, startT int
}

type wrapKind uint8

const (
	wDivisor wrapKind = iota // the divisor of / or %: closes before ^, which binds tighter
	wPower                   // a ^ b: left-associative, so closes before the next ^
	wPrefix                  // |/ a, ||/ a, @ a: the operand takes in the arithmetic after it
	wOther                   // a #> b, a #>> b
)

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
		switch d.kind {
		case wDivisor:
			if p.isOp(next, "^") {
				return
			}
		case wPrefix, wOther:
			// Arithmetic binds tighter than the other operators: a #> b
			// - c is a #> (b - c), a || b - c is a || (b - c).
			switch p.text(next) {
			case "+", "-", "*", "/", "%", "^":
				if p.kindAt(next) == tOp {
					return
				}
			}
		}
		p.materialize()
		p.out = append(p.out, ')')
		p.divisors = p.divisors[:n-1]
		if d.kind != wDivisor {
			p.prim, p.primLo = d.start, d.startT
		}
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
