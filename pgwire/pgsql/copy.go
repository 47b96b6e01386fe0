package pgsql

import (
	"fmt"
	"strings"
)

// CopyCmd is a parsed COPY … FROM STDIN, or COPY … TO STDOUT when To is
// set, in the text, CSV or binary format.
type CopyCmd struct {
	To bool
	// Query is COPY TO's query whose rows are sent: the one written in
	// parentheses, or SELECT columns FROM table.
	Query   string
	Table   string   // as written, quoted or qualified; public. dropped
	Columns []string // as written; nil for all of the table's columns
	CSV     bool
	Binary  bool
	Header  bool
	Freeze  bool // accepted: it is about Postgres' storage
	Delim   byte
	Null    string
	Quote   byte
	Escape  byte
	// ForceQuote are the columns (names folded as Postgres folds them)
	// whose values a CSV COPY TO quotes even when nothing needs it;
	// ForceQuoteAll is FORCE_QUOTE *.
	ForceQuote    []string
	ForceQuoteAll bool

	// TableName and ColumnNames are Table and Columns as Postgres folds
	// them (ParamColumn's names); TableName is "" for a table of a schema
	// other than public.
	TableName   string
	ColumnNames []string
}

const copySyntax = "syntax error in COPY: want COPY table [(columns)] FROM STDIN [WITH (FORMAT text|csv, HEADER, DELIMITER 'c', NULL 's')]"

// parseCopy parses COPY: Copy is set, or Err for a COPY that cannot run
// (to or from a file on the server, an option not supported).
func (p *parser) parseCopy() {
	cmd, err := p.copyCmd()
	if err != nil {
		p.err = err
		return
	}
	p.st.Copy = cmd
}

func (p *parser) copyCmd() (*CopyCmd, *Error) {
	toks, word, text := p.toks, p.word, p.text
	cmd := &CopyCmd{}
	unsupported := func(msg string) (*CopyCmd, *Error) {
		return nil, &Error{Code: "0A000", Message: msg}
	}
	syntax := func() (*CopyCmd, *Error) {
		return nil, &Error{Code: "42601", Message: copySyntax}
	}
	i := 1
	if p.isPunct(i, '(') {
		// COPY (query) TO STDOUT
		depth := 0
		for j := i; j < len(toks); j++ {
			switch {
			case p.isPunct(j, '('):
				depth++
			case p.isPunct(j, ')'):
				depth--
			}
			if depth == 0 {
				cmd.Query = strings.TrimSpace(p.src[toks[i].end:toks[j].start])
				i = j + 1
				break
			}
		}
		if cmd.Query == "" {
			return syntax()
		}
	}
	// The table: name or "name", maybe schema-qualified.
	start := i
	for cmd.Query == "" && (p.kindAt(i) == tWord || p.kindAt(i) == tQIdent) {
		i++
		if p.isPunct(i, '.') {
			i++
			continue
		}
		break
	}
	if i == start && cmd.Query == "" {
		return syntax()
	}
	if cmd.Query == "" {
		from := start
		// public is SQLite's main database, which names its tables
		// unqualified (pg_dump qualifies every one).
		if i-start == 3 && (word(start) == "public" || text(start) == `"public"`) {
			from = start + 2
		}
		cmd.Table = p.span(from, i)
		if i-from == 1 {
			cmd.TableName = identName(text(from))
		}
	}
	if cmd.Query == "" && p.isPunct(i, '(') {
		i++
		for {
			if p.kindAt(i) != tWord && p.kindAt(i) != tQIdent {
				return syntax()
			}
			cmd.Columns = append(cmd.Columns, text(i))
			cmd.ColumnNames = append(cmd.ColumnNames, identName(text(i)))
			i++
			if p.isPunct(i, ',') {
				i++
				continue
			}
			if p.isPunct(i, ')') {
				i++
				break
			}
			return syntax()
		}
	}
	switch word(i) {
	case "from":
		if cmd.Query != "" {
			return syntax()
		}
	case "to":
		cmd.To = true
	default:
		return syntax()
	}
	i++
	if w := word(i); (w != "stdin" || cmd.To) && (w != "stdout" || !cmd.To) {
		if k := p.kindAt(i); k == tString || k == tEString {
			return unsupported("COPY to or from a file on the server is not supported; use STDIN or STDOUT (psql: \\copy)")
		}
		return syntax()
	}
	i++
	cmd.Delim, cmd.Null = '\t', `\N`
	format := "text"
	var delim, null, quote, escape *string
	// str is a plain string literal's value (an E'' one is not taken).
	str := func(j int) (string, bool) {
		if p.kindAt(j) == tString {
			s := text(j)
			return strings.ReplaceAll(s[1:max(len(s)-1, 1)], "''", "'"), true
		}
		return "", false
	}
	forceQuote := false
	// quotedColumns reads FORCE_QUOTE's columns at token j, * or names
	// (in parentheses when paren), and returns the token after them.
	quotedColumns := func(j int, paren bool) (int, bool) {
		forceQuote = true
		if p.isOp(j, "*") {
			cmd.ForceQuoteAll = true
			return j + 1, true
		}
		if paren {
			if !p.isPunct(j, '(') {
				return j, false
			}
			j++
		}
		for {
			switch p.kindAt(j) {
			case tWord:
				cmd.ForceQuote = append(cmd.ForceQuote, word(j))
			case tQIdent:
				cmd.ForceQuote = append(cmd.ForceQuote, unquoteIdent(text(j)))
			default:
				return j, false
			}
			j++
			if !p.isPunct(j, ',') {
				break
			}
			j++
		}
		if paren {
			if !p.isPunct(j, ')') {
				return j, false
			}
			j++
		}
		return j, true
	}
	if word(i) == "with" {
		i++
	}
	if p.isPunct(i, '(') {
		// COPY … WITH (option [value], …)
		i++
		for i < len(toks) && !p.isPunct(i, ')') {
			opt := word(i)
			i++
			if opt == "force_quote" {
				var ok bool
				if i, ok = quotedColumns(i, true); !ok {
					return syntax()
				}
				if p.isPunct(i, ',') {
					i++
				}
				continue
			}
			var val string
			if i < len(toks) && !p.isPunct(i, ',') && !p.isPunct(i, ')') {
				if s, ok := str(i); ok {
					val = s
				} else {
					val = strings.ToLower(text(i))
				}
				i++
			}
			switch opt {
			case "format":
				format = val
			case "header":
				cmd.Header = val == "" || val == "true" || val == "on" || val == "1"
			case "delimiter":
				delim = &val
			case "null":
				null = &val
			case "quote":
				quote = &val
			case "escape":
				escape = &val
			case "freeze":
				cmd.Freeze = val == "" || val == "true" || val == "on" || val == "1"
			case "encoding":
				// The encoding is UTF-8.
			default:
				return unsupported(fmt.Sprintf("COPY option %q is not supported", opt))
			}
			if p.isPunct(i, ',') {
				i++
			}
		}
		if i >= len(toks) {
			return syntax()
		}
		i++
	} else {
		// The older form: COPY … [WITH] [BINARY] [DELIMITER [AS] 'c'] [NULL [AS] 's'] [CSV [HEADER] [QUOTE [AS] 'q'] [ESCAPE [AS] 'e']]
		for i < len(toks) {
			opt := word(i)
			i++
			if word(i) == "as" {
				i++
			}
			takeStr := func(dst **string) bool {
				s, ok := str(i)
				if !ok {
					return false
				}
				*dst = &s
				i++
				return true
			}
			switch opt {
			case "binary":
				format = "binary"
			case "csv":
				format = "csv"
			case "header":
				cmd.Header = true
			case "delimiter":
				if !takeStr(&delim) {
					return syntax()
				}
			case "null":
				if !takeStr(&null) {
					return syntax()
				}
			case "quote":
				if !takeStr(&quote) {
					return syntax()
				}
			case "escape":
				if !takeStr(&escape) {
					return syntax()
				}
			case "freeze":
				cmd.Freeze = true
			case "force":
				// FORCE QUOTE * | FORCE QUOTE col [, …]
				var ok bool
				if word(i) != "quote" {
					return syntax()
				}
				if i, ok = quotedColumns(i+1, false); !ok {
					return syntax()
				}
			default:
				return syntax()
			}
		}
	}
	if i < len(toks) {
		return syntax()
	}
	switch format {
	case "text":
	case "csv":
		cmd.CSV, cmd.Delim, cmd.Null, cmd.Quote, cmd.Escape = true, ',', "", '"', '"'
	case "binary":
		if cmd.To {
			return unsupported("binary COPY TO is not supported; use FORMAT text or csv")
		}
		cmd.Binary = true
	default:
		return nil, &Error{Code: "22023", Message: fmt.Sprintf("COPY format %q not recognized", format)}
	}
	oneByte := func(v *string, dst *byte, what string) *Error {
		if v == nil {
			return nil
		}
		if len(*v) != 1 {
			return &Error{Code: "0A000", Message: fmt.Sprintf("COPY %s must be a single one-byte character", what)}
		}
		*dst = (*v)[0]
		return nil
	}
	if e := oneByte(delim, &cmd.Delim, "delimiter"); e != nil {
		return nil, e
	}
	if e := oneByte(quote, &cmd.Quote, "quote"); e != nil {
		return nil, e
	}
	if e := oneByte(escape, &cmd.Escape, "escape"); e != nil {
		return nil, e
	}
	if cmd.Binary && (delim != nil || null != nil || cmd.Header) {
		return unsupported("COPY delimiter, null and header are not available in binary mode")
	}
	if (quote != nil || escape != nil) && !cmd.CSV {
		return unsupported("COPY quote and escape are available only in CSV mode")
	}
	if forceQuote && !cmd.CSV {
		return unsupported("COPY force quote available only in CSV mode")
	}
	if forceQuote && !cmd.To {
		return nil, &Error{Code: "0A000", Message: "COPY force quote only available using COPY TO"}
	}
	if null != nil {
		cmd.Null = *null
	}
	if cmd.Delim == '\n' || cmd.Delim == '\r' || (!cmd.CSV && cmd.Delim == '\\') {
		return nil, &Error{Code: "22023", Message: "COPY delimiter cannot be newline, carriage return or backslash"}
	}
	if cmd.To && cmd.Query == "" {
		cols := "*"
		if len(cmd.Columns) > 0 {
			cols = strings.Join(cmd.Columns, ", ")
		}
		cmd.Query = "SELECT " + cols + " FROM " + cmd.Table
	}
	return cmd, nil
}
