package pgwire

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// This file answers the calls of server functions that act on the
// connection rather than on the data, when a SELECT calls one alone, as
// tools do: pg_sleep(seconds), pg_cancel_backend(pid) (a connection of the
// same user on this node), and current_setting(name [, missing_ok]),
// which in a read with more in it becomes its value (withSettings).
// They cannot be SQLite functions: the state machine's connections would
// have them too, and a write must not sleep or depend on a session.

// backendCall is a SELECT of one of these functions.
type backendCall struct {
	fn        string
	arg       string // the first argument: a number, or a string's value
	missingOK bool
	name      string // the result column's name
}

var backendCallRE = regexp.MustCompile(`(?is)^\s*select\s+(?:pg_catalog\s*\.\s*)?(pg_sleep|pg_cancel_backend|current_setting)\s*\(\s*` +
	`([0-9.]+|'(?:[^']|'')*')\s*(?:,\s*(true|false)\s*)?\)\s*(?:(?:as\s+)?("[^"]+"|[a-z_][a-z0-9_]*)\s*)?;?\s*$`)

// parseBackendCall recognises such a SELECT; st is its parsed form.
func parseBackendCall(st *pgsql.Statement) (backendCall, bool) {
	if st.Verb != "SELECT" || len(st.Columns) != 1 || len(st.Source) > 256 {
		return backendCall{}, false
	}
	m := backendCallRE.FindStringSubmatch(st.Source)
	if m == nil {
		return backendCall{}, false
	}
	c := backendCall{fn: strings.ToLower(m[1]), arg: m[2], name: st.Columns[0].Name}
	if strings.HasPrefix(c.arg, "'") {
		c.arg = strings.ReplaceAll(c.arg[1:len(c.arg)-1], "''", "'")
	}
	switch c.fn {
	case "current_setting":
		c.missingOK = strings.EqualFold(m[3], "true")
	default:
		if m[3] != "" {
			return backendCall{}, false
		}
	}
	return c, true
}

func (b backendCall) columns() []Column {
	switch b.fn {
	case "pg_cancel_backend":
		return []Column{{Name: b.name, DeclType: "BOOLEAN"}}
	}
	return []Column{{Name: b.name, DeclType: "TEXT"}}
}

// runBackendCall runs it in ctx, the statement's.
func (c *conn) runBackendCall(ctx context.Context, b backendCall) (*Result, *Error) {
	res := &Result{Columns: b.columns()}
	switch b.fn {
	case "pg_sleep":
		secs, err := strconv.ParseFloat(b.arg, 64)
		if err != nil {
			return nil, newError("22P02", fmt.Sprintf("invalid input syntax for type double precision: %q", b.arg))
		}
		if secs > 0 {
			t := time.NewTimer(time.Duration(secs * float64(time.Second)))
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return nil, c.stmtError(ctx.Err())
			}
		}
		res.Rows = [][]any{{""}}
	case "pg_cancel_backend":
		pid, err := strconv.ParseUint(b.arg, 10, 32)
		if err != nil {
			return nil, newError("22P02", fmt.Sprintf("invalid input syntax for type integer: %q", b.arg))
		}
		c.srv.mu.Lock()
		other := c.srv.byPID[uint32(pid)]
		c.srv.mu.Unlock()
		switch {
		case other == nil:
			res.Rows = [][]any{{false}} // Postgres warns that it is no backend
		case other.user != c.user:
			return nil, newError("42501", "permission denied to cancel query")
		default:
			other.cancelRunning()
			res.Rows = [][]any{{true}}
		}
	case "current_setting":
		v, e := c.showParam(strings.ToLower(b.arg))
		if e != nil {
			if b.missingOK {
				res.Rows = [][]any{{nil}}
				return res, nil
			}
			return nil, e
		}
		res.Rows = [][]any{{v}}
	}
	return res, nil
}

// withSettings is st with each current_setting('name' [, missing_ok]) in
// it replaced by the session's value, as a literal (the value when the
// statement runs, as in Postgres); st itself when it has none.
func (c *conn) withSettings(st *pgsql.Statement) (*pgsql.Statement, *Error) {
	if st.Kind != pgsql.Read && st.Kind != pgsql.CatalogRead || !containsFold(st.Source, "current_setting") {
		return st, nil
	}
	var failed *Error
	src, ok, err := pgsql.ReplaceCalls(st.Source, "current_setting", func(args []string) (string, error) {
		if len(args) > 2 {
			failed = newError("42883", "function current_setting with more than two arguments does not exist")
			return "", failed
		}
		v, e := c.showParam(strings.ToLower(args[0]))
		if e != nil {
			if len(args) == 2 && args[1] == "true" {
				return "NULL", nil
			}
			failed = e
			return "", e
		}
		return "'" + strings.ReplaceAll(v, "'", "''") + "'", nil
	})
	if err != nil {
		return nil, failed
	}
	if !ok {
		return st, nil
	}
	return c.srv.stmts.Parse(src), nil
}

// containsFold is strings.Contains, ASCII case-insensitively; sub is in
// lower case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for ; j < len(sub); j++ {
			ch := s[i+j]
			if 'A' <= ch && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			if ch != sub[j] {
				break
			}
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}
