package pgsql

import (
	"strconv"
	"strings"
)

// Explain is a Postgres EXPLAIN: the statement explained runs as SQLite's
// EXPLAIN QUERY PLAN (Statement.SQL), a read whatever the statement, and
// the caller shows SQLite's plan rows as Postgres' one text column,
// "QUERY PLAN" (see PlanLines).
type Explain struct {
	// Analyze is EXPLAIN ANALYZE, accepted for reads only: SQLite reports
	// no timings, so the plan is the same as without it.
	Analyze bool
	// Root is the first plan line for a statement that writes ("Insert on
	// t"), as Postgres shows one above the plan of its rows; "" for reads.
	Root string
}

// PlanColumn is the result column of an EXPLAIN.
const PlanColumn = "QUERY PLAN"

// PlanRow is one row of SQLite's EXPLAIN QUERY PLAN: its id, its parent's
// id (0 for a top-level row) and its text.
type PlanRow struct {
	ID, Parent int64
	Detail     string
}

// PlanLines lays SQLite's plan rows out as Postgres' text format does: a
// top-level node at the margin, each child under its parent after "->  ",
// six columns further in for each level.
func (e *Explain) PlanLines(rows []PlanRow) []string {
	depth := make(map[int64]int, len(rows))
	lines := make([]string, 0, len(rows)+1)
	base := 0
	if e.Root != "" {
		lines = append(lines, e.Root)
		base = 1
	}
	for _, r := range rows {
		d := base
		if pd, ok := depth[r.Parent]; ok && r.Parent != 0 {
			d = pd + 1
		}
		depth[r.ID] = d
		if d == 0 {
			lines = append(lines, r.Detail)
			continue
		}
		lines = append(lines, strings.Repeat(" ", 6*(d-1)+2)+"->  "+r.Detail)
	}
	if len(lines) == 0 {
		// SQLite has no plan for a statement that reads no table
		// (SELECT 1); Postgres shows a Result node.
		lines = append(lines, "Result")
	}
	return lines
}

// parseExplain parses EXPLAIN [ANALYZE] [VERBOSE] stmt and EXPLAIN
// (option [value], …) stmt, translating stmt as a statement of its own. It
// reports false for SQLite's EXPLAIN QUERY PLAN, which stays SQLite's.
func (p *parser) parseExplain() bool {
	if p.word(1) == "query" && p.word(2) == "plan" {
		return false
	}
	st := p.st
	st.Kind = Read
	st.Columns = []Column{{Name: PlanColumn, Type: "text"}}
	ex := &Explain{}
	st.Explain = ex
	i := 1
	if p.isPunct(1, '(') {
		var ok bool
		if i, ok = p.explainOptions(ex); !ok {
			st.Err = p.err
			return true
		}
	} else {
		if w := p.word(i); w == "analyze" || w == "analyse" {
			ex.Analyze = true
			i++
		}
		if p.word(i) == "verbose" {
			i++
		}
	}
	if i >= len(p.toks) {
		p.syntaxError(i)
		st.Err = p.err
		return true
	}
	innerAt := p.toks[i].start
	inner := parse(p.src[innerAt:p.toks[len(p.toks)-1].end], true)
	shift := charPos(p.src, int(innerAt)) - 1
	switch {
	case inner.Err != nil:
		e := *inner.Err
		if e.Position > 0 {
			e.Position += shift
		}
		st.Err = &e
		return true
	case inner.Kind == CatalogRead:
		p.fail("0A000", i, "EXPLAIN of a query of the system catalogs is not supported")
	case inner.Session != nil || inner.Sequence != nil || len(inner.Advisory) > 0 || inner.Explain != nil:
		p.fail("0A000", i, "EXPLAIN of "+inner.Verb+" is not supported")
	case inner.Kind == Read:
	case inner.Kind == Write && explainable(inner.Verb):
		if ex.Analyze {
			p.fail("0A000", 0, "EXPLAIN ANALYZE of a statement that writes is not supported: it would run outside the replicated log")
			break
		}
		ex.Root = p.writeRoot(i, inner.Verb)
	default:
		p.fail("0A000", i, "EXPLAIN of "+inner.Verb+" is not supported")
	}
	if p.err != nil {
		st.Err = p.err
		return true
	}
	const prefix = "EXPLAIN QUERY PLAN "
	st.SQL = prefix + inner.SQL
	if len(inner.parts) > 0 {
		st.parts = append([]string{prefix + inner.parts[0]}, inner.parts[1:]...)
		st.holes = inner.holes
	}
	return true
}

// explainable reports the statements that write whose plan EXPLAIN shows,
// as in Postgres.
func explainable(verb string) bool {
	switch verb {
	case "INSERT", "UPDATE", "DELETE", "REPLACE":
		return true
	}
	return false
}

// explainOptions reads EXPLAIN's parenthesised options from token 1 and
// returns the token after them. FORMAT is TEXT only; the other options
// Postgres has change nothing SQLite's plan shows.
func (p *parser) explainOptions(ex *Explain) (int, bool) {
	i := 2
	for {
		name := p.word(i)
		if name == "" {
			p.syntaxError(i)
			return i, false
		}
		nameAt := i
		i++
		val := ""
		if !p.isPunct(i, ',') && !p.isPunct(i, ')') {
			switch p.kindAt(i) {
			case tWord, tNumber:
				val = strings.ToLower(p.text(i))
			case tString:
				val = strings.ToLower(unquoteString(p.text(i)))
			default:
				p.syntaxError(i)
				return i, false
			}
			i++
		}
		switch name {
		case "format":
			if val != "text" {
				p.fail("0A000", nameAt, "EXPLAIN (FORMAT "+strings.ToUpper(val)+") is not supported: the plan is shown in FORMAT TEXT only")
				return i, false
			}
		case "analyze", "analyse", "verbose", "costs", "settings", "buffers", "wal", "timing", "summary", "generic_plan", "memory":
			b, ok := explainBool(val)
			if !ok {
				p.fail("22023", nameAt, "EXPLAIN option "+strings.ToUpper(name)+" requires a Boolean value")
				return i, false
			}
			if name == "analyze" || name == "analyse" {
				ex.Analyze = b
			}
		case "serialize":
		default:
			p.fail("42601", nameAt, "unrecognized EXPLAIN option "+strconv.Quote(name))
			return i, false
		}
		switch {
		case p.isPunct(i, ','):
			i++
		case p.isPunct(i, ')'):
			return i + 1, true
		default:
			p.syntaxError(i)
			return i, false
		}
	}
}

func explainBool(v string) (bool, bool) {
	switch v {
	case "", "true", "on", "1", "yes":
		return true, true
	case "false", "off", "0", "no":
		return false, true
	}
	return false, false
}

// writeRoot is Postgres' top plan line for a statement that writes, the
// one whose verb is at or after token from: "Insert on t".
func (p *parser) writeRoot(from int, verb string) string {
	node := map[string]string{"INSERT": "Insert", "REPLACE": "Insert", "UPDATE": "Update", "DELETE": "Delete"}[verb]
	depth := 0
	for i := from; i < len(p.toks); i++ {
		switch {
		case p.isPunct(i, '('):
			depth++
			continue
		case p.isPunct(i, ')'):
			depth--
			continue
		}
		if depth != 0 || strings.ToUpper(p.word(i)) != verb {
			continue
		}
		j := i + 1
		for {
			switch p.word(j) {
			case "or":
				j += 2 // INSERT OR REPLACE, UPDATE OR IGNORE
				continue
			case "into", "from", "only":
				j++
				continue
			}
			break
		}
		name := ""
		for {
			switch p.kindAt(j) {
			case tWord:
				name = p.text(j)
			case tQIdent:
				name = unquoteIdent(p.text(j))
			default:
				return node
			}
			if !p.isPunct(j+1, '.') {
				break
			}
			j += 2
		}
		if name == "" {
			return node
		}
		return node + " on " + name
	}
	return node
}
