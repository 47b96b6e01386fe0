package pgsql

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// to_char(timestamp, format) and to_char(number, format), for the
// formats applications use most: the date and time patterns (YYYY, MM,
// DD, HH24, MI, SS, MS, US, Mon, Month, Dy, Day, AM …, with FM and "quoted
// text") and the numeric ones (9, 0, ., D, ,, G, FM, S). Names are
// English, as in the C locale; the timestamp is the text the front end's
// timestamps are (UTC), so the result is the same on every node.

func toCharFunc(args []any) (any, error) {
	if args[0] == nil || args[1] == nil {
		return nil, nil
	}
	format := textOf(args[1])
	switch v := args[0].(type) {
	case int64:
		return formatNumber(float64(v), format, true), nil
	case float64:
		return formatNumber(v, format, false), nil
	}
	s := strings.TrimSpace(textOf(args[0]))
	if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.Contains(s, "-") {
		return formatNumber(f, format, !strings.ContainsAny(s, ".eE")), nil
	}
	t, ok := toCharTime(s)
	if !ok {
		return nil, errors.New("invalid input syntax for type timestamp: " + strconv.Quote(s))
	}
	return formatTime(t, format), nil
}

// toCharTime reads the timestamp to_char formats: the front end's forms,
// or a time of day alone.
func toCharTime(s string) (time.Time, bool) {
	if t, ok := parseTimestamp(s); ok {
		return t.UTC(), true
	}
	for _, l := range []string{"15:04:05.999999999", "15:04"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// timePatterns are the template patterns, longest first where one is the
// prefix of another.
var timePatterns = []string{
	"HH24", "HH12", "HH", "MI", "SS", "MS", "US", "A.M.", "a.m.", "P.M.", "p.m.", "AM", "am", "PM", "pm",
	"YYYY", "YYY", "YY", "Y", "IYYY", "MONTH", "Month", "month", "MON", "Mon", "mon", "MM",
	"DAY", "Day", "day", "DY", "Dy", "dy", "DDD", "DD", "D", "ID", "IW", "WW", "W", "Q", "TZ", "tz", "J",
}

func formatTime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); {
		fm := false
		if strings.HasPrefix(format[i:], "FM") {
			fm, i = true, i+2
		}
		if format[i:] == "" {
			break
		}
		switch format[i] {
		case '"':
			j := i + 1
			for j < len(format) && format[j] != '"' {
				if format[j] == '\\' && j+1 < len(format) {
					j++
				}
				b.WriteByte(format[j])
				j++
			}
			i = j + 1
			continue
		case '\\':
			if i+1 < len(format) {
				b.WriteByte(format[i+1])
				i += 2
				continue
			}
		}
		pat := ""
		for _, p := range timePatterns {
			if strings.HasPrefix(format[i:], p) {
				pat = p
				break
			}
		}
		if pat == "" {
			b.WriteByte(format[i])
			i++
			continue
		}
		i += len(pat)
		num := func(v, width int) {
			s := strconv.Itoa(v)
			if !fm {
				for len(s) < width {
					s = "0" + s
				}
			}
			b.WriteString(s)
		}
		word := func(s string, width int) {
			if !fm {
				s += strings.Repeat(" ", max(0, width-len(s)))
			}
			b.WriteString(s)
		}
		h12 := t.Hour() % 12
		if h12 == 0 {
			h12 = 12
		}
		switch pat {
		case "HH24":
			num(t.Hour(), 2)
		case "HH12", "HH":
			num(h12, 2)
		case "MI":
			num(t.Minute(), 2)
		case "SS":
			num(t.Second(), 2)
		case "MS":
			num(t.Nanosecond()/1e6, 3)
		case "US":
			num(t.Nanosecond()/1e3, 6)
		case "AM", "PM", "am", "pm", "A.M.", "P.M.", "a.m.", "p.m.":
			s := "AM"
			if t.Hour() >= 12 {
				s = "PM"
			}
			if strings.Contains(pat, ".") {
				s = s[:1] + "." + s[1:] + "."
			}
			if pat[0] >= 'a' {
				s = strings.ToLower(s)
			}
			b.WriteString(s)
		case "YYYY":
			num(t.Year(), 4)
		case "IYYY":
			y, _ := t.ISOWeek()
			num(y, 4)
		case "YYY":
			num(t.Year()%1000, 3)
		case "YY":
			num(t.Year()%100, 2)
		case "Y":
			num(t.Year()%10, 1)
		case "MONTH":
			word(strings.ToUpper(t.Month().String()), 9)
		case "Month":
			word(t.Month().String(), 9)
		case "month":
			word(strings.ToLower(t.Month().String()), 9)
		case "MON":
			b.WriteString(strings.ToUpper(t.Month().String()[:3]))
		case "Mon":
			b.WriteString(t.Month().String()[:3])
		case "mon":
			b.WriteString(strings.ToLower(t.Month().String()[:3]))
		case "MM":
			num(int(t.Month()), 2)
		case "DAY":
			word(strings.ToUpper(t.Weekday().String()), 9)
		case "Day":
			word(t.Weekday().String(), 9)
		case "day":
			word(strings.ToLower(t.Weekday().String()), 9)
		case "DY":
			b.WriteString(strings.ToUpper(t.Weekday().String()[:3]))
		case "Dy":
			b.WriteString(t.Weekday().String()[:3])
		case "dy":
			b.WriteString(strings.ToLower(t.Weekday().String()[:3]))
		case "DDD":
			num(t.YearDay(), 3)
		case "DD":
			num(t.Day(), 2)
		case "D":
			num(int(t.Weekday())+1, 1)
		case "ID":
			d := int(t.Weekday())
			if d == 0 {
				d = 7
			}
			num(d, 1)
		case "IW":
			_, w := t.ISOWeek()
			num(w, 2)
		case "WW":
			num((t.YearDay()-1)/7+1, 2)
		case "W":
			num((t.Day()-1)/7+1, 1)
		case "Q":
			num((int(t.Month())+2)/3, 1)
		case "TZ":
			b.WriteString("UTC")
		case "tz":
			b.WriteString("utc")
		case "J":
			num(int(t.Sub(time.Date(-4713, 11, 24, 12, 0, 0, 0, time.UTC)).Hours()/24+0.5), 1)
		}
	}
	return b.String()
}

// formatNumber is to_char of a number: digits for 9 (a space where there
// is none) and 0 (a zero), the decimal point . or D, the group separator
// , or G, S for the sign, FM to trim. Too many digits give #s, as in
// Postgres.
func formatNumber(v float64, format string, integer bool) string {
	fm := strings.Contains(format, "FM")
	f := strings.ReplaceAll(format, "FM", "")
	signAt := strings.IndexByte(f, 'S')
	f = strings.ReplaceAll(f, "S", "")
	f = strings.NewReplacer("D", ".", "G", ",").Replace(f)
	intPart, frac := f, ""
	if i := strings.IndexByte(f, '.'); i >= 0 {
		intPart, frac = f[:i], f[i+1:]
	}
	fracDigits := strings.Count(frac, "9") + strings.Count(frac, "0")
	neg := v < 0
	v = math.Abs(v)
	s := strconv.FormatFloat(v, 'f', fracDigits, 64)
	whole, fpart := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		whole, fpart = s[:i], s[i+1:]
	}
	slots := strings.Count(intPart, "9") + strings.Count(intPart, "0")
	if len(whole) > slots && !(whole == "0" && slots == 0) {
		// Overflow: every digit a #.
		out := strings.Map(func(r rune) rune {
			if r == '9' || r == '0' {
				return '#'
			}
			return r
		}, f)
		return " " + out
	}
	// Fill the integer part from the right.
	var out []byte
	d := len(whole) - 1
	firstZero := strings.IndexByte(intPart, '0')
	for i := len(intPart) - 1; i >= 0; i-- {
		c := intPart[i]
		switch c {
		case '9', '0':
			switch {
			case d >= 0:
				out = append(out, whole[d])
				d--
			case c == '0' || (firstZero >= 0 && i >= firstZero):
				out = append(out, '0')
			case i == len(intPart)-1 && (frac == "" || fm):
				out = append(out, '0')
			default:
				out = append(out, ' ')
			}
		case ',':
			if d >= 0 || (firstZero >= 0 && i > firstZero) {
				out = append(out, ',')
			} else {
				out = append(out, ' ')
			}
		default:
			out = append(out, c)
		}
	}
	for l, r := 0, len(out)-1; l < r; l, r = l+1, r-1 {
		out[l], out[r] = out[r], out[l]
	}
	res := string(out)
	if strings.Contains(f, ".") {
		res += "." + fpart
	}
	_ = integer
	sign := " "
	if neg {
		sign = "-"
	}
	if fm {
		res = strings.TrimLeft(res, " ")
		if strings.Contains(res, ".") && !strings.Contains(frac, "0") {
			res = strings.TrimRight(strings.TrimRight(res, "0"), ".")
			if res == "" {
				res = "0"
			}
		}
		if neg {
			return "-" + res
		}
		return res
	}
	if signAt == 0 {
		return sign + strings.TrimLeft(res, " ")
	}
	// The sign goes just before the first digit.
	lead := len(res) - len(strings.TrimLeft(res, " "))
	return strings.Repeat(" ", lead) + sign + res[lead:]
}
