package pgsql

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
)

// x = ANY(array) and x <> ALL(array), with the array a parameter (pgx
// sends a Go slice so), a string in an array's text form, or ARRAY[…]:
// SQLite has no arrays, so the first two become x IN (SELECT value FROM
// json_each(_pg_array(a))), _pg_array reading the array's text or binary
// form into JSON, and ARRAY[…] becomes the list x IN (…).

// arrayFunc is the SQL name of the function that reads an array value.
const arrayFunc = "_pg_array"

// anyArray translates = ANY (…), = SOME (…) and <> ALL (…) at token i,
// the operator before it already written; ok is false for the forms it
// does not know.
func (p *parser) anyArray(i int) (int, bool) {
	op, w := p.text(i-1), p.word(i)
	in := ""
	switch {
	case op == "=" && (w == "any" || w == "some"):
		in = "IN"
	case (op == "<>" || op == "!=") && w == "all":
		in = "NOT IN"
	default:
		return i, false
	}
	end := p.matchParen(i + 1)
	if end < 0 {
		return i, false
	}
	var list string
	a := i + 2
	switch k := p.kindAt(a); {
	case p.word(a) == "array" && p.isPunct(a+1, '[') && p.isPunct(end-1, ']'):
		if end-1 == a+2 {
			list = "(SELECT 1 WHERE 0)" // ARRAY[]: no element
			break
		}
		inner := p.subExpr(a+2, end-1)
		if p.err != nil {
			return end + 1, true
		}
		list = "(" + inner + ")"
	case k == tParam || k == tString || k == tEString || k == tDollar:
		next := a + 1
		if p.isOp(next, "::") {
			typ, _, j := p.readType(next + 1)
			if !strings.HasSuffix(typ, "[]") {
				return i, false
			}
			next = j
		}
		if next != end {
			return i, false
		}
		v := p.text(a)
		if k == tEString || k == tDollar {
			s, ok := p.literal(a)
			if !ok {
				return end + 1, true
			}
			v = quoteString(s)
		}
		list = "(SELECT value FROM json_each(" + arrayFunc + "(" + v + ")))"
	default:
		return i, false
	}
	p.materialize()
	p.out = p.out[:len(p.out)-len(op)]
	p.replace(i, in+" "+list)
	for k := i + 1; k <= end; k++ {
		p.drop(k)
	}
	p.prim = -1
	return end + 1, true
}

var errArray = errors.New("malformed array literal")

// arrayArg is the text of an array function's argument; ok is false for
// NULL and for what is no text.
func arrayArg(v any) (s string, ok bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	}
	return "", false
}

// arrayTextFunc is the SQL name of the function that writes the JSON
// array json_group_array gives in an array's text form: array_agg(x
// [ORDER BY …]) is _pg_array_text(json_group_array(x [ORDER BY …])).
const arrayTextFunc = "_pg_array_text"

// arrayFromJSON is _pg_array_text(j): the JSON array j in Postgres' text
// form ({1,2,"x y",NULL}); NULL for an empty one, as array_agg over no
// rows is NULL.
func arrayFromJSON(args []any) (any, error) {
	s, ok := arrayArg(args[0])
	if !ok {
		if args[0] == nil {
			return nil, nil
		}
		return nil, errArray
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var elems []json.RawMessage
	if err := d.Decode(&elems); err != nil {
		return nil, errArray
	}
	if len(elems) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		var v any
		dv := json.NewDecoder(strings.NewReader(string(e)))
		dv.UseNumber()
		if err := dv.Decode(&v); err != nil {
			return nil, errArray
		}
		switch v := v.(type) {
		case nil:
			b.WriteString("NULL")
		case json.Number:
			b.WriteString(v.String())
		case bool:
			b.WriteString(strconv.FormatBool(v))
		case string:
			writeArrayElem(&b, v)
		default:
			writeArrayElem(&b, string(e)) // a JSON value of its own
		}
	}
	b.WriteByte('}')
	return b.String(), nil
}

// writeArrayElem writes a text element of an array, quoted where Postgres
// quotes it.
func writeArrayElem(b *strings.Builder, s string) {
	quote := s == "" || strings.EqualFold(s, "null") || strings.ContainsAny(s, "{},\"\\ \t\n\r\v\f")
	if !quote {
		b.WriteString(s)
		return
	}
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

// arrayJSON is _pg_array(a): the elements of a one-dimensional array, in
// Postgres' text form ({1,2,"x y",NULL}) or binary form, as a JSON array.
func arrayJSON(args []any) (any, error) {
	s, ok := arrayArg(args[0])
	if !ok {
		if args[0] == nil {
			return nil, nil
		}
		return nil, errArray
	}
	var elems []any
	var err error
	if strings.HasPrefix(strings.TrimSpace(s), "{") {
		elems, err = arrayText(strings.TrimSpace(s))
	} else {
		elems, err = arrayBinary([]byte(s))
	}
	if err != nil {
		return nil, err
	}
	if elems == nil {
		elems = []any{}
	}
	b, err := json.Marshal(elems)
	if err != nil {
		return nil, errArray
	}
	return string(b), nil
}

// arrayText reads {a,b,…}: a quoted element is text, an unquoted one a
// number when it reads as one, NULL is null.
func arrayText(s string) ([]any, error) {
	if len(s) < 2 || s[len(s)-1] != '}' {
		return nil, errArray
	}
	body := s[1 : len(s)-1]
	if strings.TrimSpace(body) == "" {
		return nil, nil
	}
	var out []any
	for i := 0; ; {
		for i < len(body) && body[i] == ' ' {
			i++
		}
		if i < len(body) && (body[i] == '{') {
			return nil, errors.New("multidimensional arrays are not supported")
		}
		var elem any
		if i < len(body) && body[i] == '"' {
			var b strings.Builder
			i++
			for ; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				b.WriteByte(body[i])
			}
			if i >= len(body) {
				return nil, errArray
			}
			i++
			elem = b.String()
		} else {
			j := i
			for j < len(body) && body[j] != ',' {
				j++
			}
			w := strings.TrimSpace(body[i:j])
			i = j
			switch {
			case w == "":
				return nil, errArray
			case strings.EqualFold(w, "null"):
				elem = nil
			default:
				if n, err := strconv.ParseInt(w, 10, 64); err == nil {
					elem = n
				} else if f, err := strconv.ParseFloat(w, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
					elem = f
				} else {
					elem = w
				}
			}
		}
		out = append(out, elem)
		for i < len(body) && body[i] == ' ' {
			i++
		}
		if i >= len(body) {
			return out, nil
		}
		if body[i] != ',' {
			return nil, errArray
		}
		i++
	}
}

// arrayBinary reads the binary form of a one-dimensional array of
// integers, floats, booleans or text.
func arrayBinary(b []byte) ([]any, error) {
	if len(b) < 12 {
		return nil, errArray
	}
	ndim := int32(binary.BigEndian.Uint32(b))
	elemOID := binary.BigEndian.Uint32(b[8:])
	if ndim == 0 {
		return nil, nil
	}
	if ndim != 1 {
		return nil, errors.New("multidimensional arrays are not supported")
	}
	if len(b) < 20 {
		return nil, errArray
	}
	n := int32(binary.BigEndian.Uint32(b[12:]))
	b = b[20:]
	if n < 0 || int(n) > len(b)/4 {
		return nil, errArray
	}
	out := make([]any, 0, n)
	for k := int32(0); k < n; k++ {
		if len(b) < 4 {
			return nil, errArray
		}
		l := int32(binary.BigEndian.Uint32(b))
		b = b[4:]
		if l == -1 {
			out = append(out, nil)
			continue
		}
		if l < 0 || int(l) > len(b) {
			return nil, errArray
		}
		v := b[:l]
		b = b[l:]
		switch elemOID {
		case 20:
			if l != 8 {
				return nil, errArray
			}
			out = append(out, int64(binary.BigEndian.Uint64(v)))
		case 23:
			if l != 4 {
				return nil, errArray
			}
			out = append(out, int64(int32(binary.BigEndian.Uint32(v))))
		case 21:
			if l != 2 {
				return nil, errArray
			}
			out = append(out, int64(int16(binary.BigEndian.Uint16(v))))
		case 700:
			if l != 4 {
				return nil, errArray
			}
			out = append(out, float64(math.Float32frombits(binary.BigEndian.Uint32(v))))
		case 701:
			if l != 8 {
				return nil, errArray
			}
			out = append(out, math.Float64frombits(binary.BigEndian.Uint64(v)))
		case 16:
			if l != 1 {
				return nil, errArray
			}
			out = append(out, v[0] != 0)
		case 25, 1043, 1042, 19:
			out = append(out, string(v))
		default:
			return nil, errors.New("arrays of type oid " + strconv.FormatUint(uint64(elemOID), 10) + " are not supported")
		}
	}
	if len(b) != 0 {
		return nil, errArray
	}
	return out, nil
}
