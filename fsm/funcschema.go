package fsm

import (
	"context"
	"strings"

	"github.com/raftsql/raftsql/fsm/command"
)

// MissingFuncFor reports whether the statements stmts, run in order, or
// what they store in the schema, fail on a node that has only the Go
// functions of Since at most upTo: it returns the name and Since of a
// function such a node lacks, or "" and 0. They are judged against a copy
// of the schema (no rows) on an in-memory database that registers only
// those functions: every statement is compiled there, and one that
// changes the schema is run; then the objects it creates or changes are
// put to use the way writes will: a view is read, a table gets a row of
// its DEFAULTs, and the table of a trigger gets a row inserted, updated
// and deleted, each only compiled. A CHECK constraint, a generated column
// or an index expression fails the statement itself.
//
// A statement that fails on the copy for another reason is not judged.
func (f *FSM) MissingFuncFor(ctx context.Context, stmts []string, upTo int) (string, int, error) {
	var missing []registeredFunc
	var have []registeredFunc
	for _, fn := range f.funcs {
		if fn.Since > upTo {
			missing = append(missing, fn)
		} else {
			have = append(have, fn)
		}
	}
	if len(missing) == 0 {
		return "", 0, nil
	}
	// A name some function lacks; found among what SQLite says.
	lacked := func(err error) (string, int) {
		if err == nil {
			return "", 0
		}
		// Resolving a call says the one, generating the code of a
		// DEFAULT the other.
		msg := errMessage(err)
		name, ok := strings.CutPrefix(msg, "no such function: ")
		if !ok {
			if name, ok = strings.CutPrefix(msg, "unknown function: "); !ok {
				return "", 0
			}
			name = strings.TrimSuffix(name, "()")
		}
		for _, fn := range missing {
			if strings.EqualFold(fn.Name, name) {
				return fn.Name, fn.Since
			}
		}
		return "", 0
	}

	type entry struct{ typ, name, tbl, sql string }
	var schema []entry
	c, err := f.acquireFrom(ctx, true)
	if err != nil {
		return "", 0, err
	}
	if _, err := f.syncSchema(c); err != nil {
		f.release(c)
		return "", 0, err
	}
	err = c.each(ctx, "SELECT type, name, tbl_name, sql FROM main.sqlite_schema ORDER BY rowid", func(row []command.Value) error {
		schema = append(schema, entry{row[0].Text, row[1].Text, row[2].Text, row[3].Text})
		return nil
	})
	f.release(c)
	if err != nil {
		return "", 0, err
	}

	scratch, err := openConn(":memory:", "", false)
	if err != nil {
		return "", 0, err
	}
	defer scratch.close()
	if err := scratch.setup(have, nil); err != nil {
		return "", 0, err
	}
	for _, e := range schema {
		if e.sql == "" || strings.HasPrefix(strings.ToLower(e.name), "sqlite_") {
			continue
		}
		// Shadow tables of a virtual table exist once it does; an entry
		// that does not load here changes nothing of the verdict.
		scratch.exec(e.sql)
	}
	list := func() []entry {
		var es []entry
		scratch.each(ctx, "SELECT type, name, tbl_name, sql FROM main.sqlite_schema ORDER BY rowid", func(row []command.Value) error {
			es = append(es, entry{row[0].Text, row[1].Text, row[2].Text, row[3].Text})
			return nil
		})
		return es
	}
	try := func(q string) (string, int) {
		s, err := scratch.prepare(q, nil)
		if err == nil && s != nil {
			scratch.finalize(s)
		}
		return lacked(err)
	}
	for _, sql := range stmts {
		if err := ctx.Err(); err != nil {
			return "", 0, err
		}
		s, err := scratch.prepare(sql, nil)
		if err != nil {
			if name, since := lacked(err); name != "" {
				return name, since, nil
			}
			continue // not judged
		}
		if s == nil {
			continue
		}
		if !s.ddl {
			// Compiled against the schema, with the triggers it fires and
			// the defaults it uses; the rows are not the copy's business.
			scratch.finalize(s)
			continue
		}
		before := map[string]string{}
		for _, e := range list() {
			before[e.typ+"\x00"+e.name] = e.sql
		}
		var sr command.StatementResult
		err = scratch.run(s, nil, &sr)
		scratch.finalize(s)
		if err != nil {
			if name, since := lacked(err); name != "" {
				return name, since, nil
			}
			continue
		}
		for _, e := range list() {
			if old, ok := before[e.typ+"\x00"+e.name]; ok && old == e.sql {
				continue
			}
			var qs []string
			switch t := quoteIdent(e.tbl); e.typ {
			case "view":
				qs = []string{"SELECT * FROM " + quoteIdent(e.name)}
			case "table":
				qs = []string{"INSERT INTO " + t + " DEFAULT VALUES"}
			case "trigger":
				qs = []string{"INSERT INTO " + t + " DEFAULT VALUES", "DELETE FROM " + t}
				var cols []string
				scratch.each(ctx, "SELECT name FROM pragma_table_xinfo("+quoteLiteral(e.tbl)+") WHERE hidden IN (0, 1)", func(row []command.Value) error {
					cols = append(cols, quoteIdent(row[0].Text)+" = "+quoteIdent(row[0].Text))
					return nil
				})
				if len(cols) > 0 {
					qs = append(qs, "UPDATE "+t+" SET "+strings.Join(cols, ", "))
				}
			}
			for _, q := range qs {
				if name, since := try(q); name != "" {
					return name, since, nil
				}
			}
		}
	}
	return "", 0, nil
}
