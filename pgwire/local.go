package pgwire

import (
	"fmt"
	"time"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// This file answers SET, RESET, SHOW and DISCARD, which never reach the
// Session's Execute. The session still hears of every change through Set
// and is asked first by SHOW.

var textColumn = "TEXT"

// localColumns are the result columns of a local statement.
func localColumns(cmd pgsql.SessionCmd) []Column {
	if cmd.Op == pgsql.SessionSetConfig {
		return []Column{{Name: "set_config", DeclType: textColumn}}
	}
	if cmd.Op != pgsql.SessionShow {
		return nil
	}
	if cmd.Name == "all" {
		return []Column{{Name: "name", DeclType: textColumn}, {Name: "setting", DeclType: textColumn}, {Name: "description", DeclType: textColumn}}
	}
	return []Column{{Name: canonicalName(cmd.Name), DeclType: textColumn}}
}

func (c *conn) runLocal(cmd pgsql.SessionCmd) (*Result, *Error) {
	if c.sess.TxStatus() == 'E' {
		return nil, newError(codeInFailedTransaction, "current transaction is aborted, commands ignored until end of transaction block")
	}
	switch cmd.Op {
	case pgsql.SessionSet:
		res := &Result{Tag: "SET"}
		switch {
		case cmd.NoOp:
		case cmd.Default:
			if e := c.resetParam(cmd.Name); e != nil {
				return nil, e
			}
		default:
			if e := c.setParam(cmd.Name, cmd.Value, true); e != nil {
				return nil, e
			}
		}
		return res, nil
	case pgsql.SessionLock:
		if c.sess.TxStatus() == 'I' {
			return nil, newError(codeNoActiveTransaction, "LOCK TABLE can only be used in transaction blocks")
		}
		return &Result{Tag: cmd.Tag}, nil
	case pgsql.SessionSetConfig:
		if e := c.setParam(cmd.Name, cmd.Value, true); e != nil {
			return nil, e
		}
		v, e := c.showParam(cmd.Name)
		if e != nil {
			v = cmd.Value
		}
		return &Result{Tag: "SELECT 1", Columns: localColumns(cmd), Rows: [][]any{{v}}}, nil
	case pgsql.SessionReset:
		res := &Result{Tag: "RESET"}
		switch {
		case cmd.NoOp:
		case cmd.Name == "all":
			if e := c.resetAll(); e != nil {
				return nil, e
			}
		default:
			if e := c.resetParam(cmd.Name); e != nil {
				return nil, e
			}
		}
		return res, nil
	case pgsql.SessionShow:
		res := &Result{Tag: "SHOW", Columns: localColumns(cmd)}
		if cmd.Name == "all" {
			res.Rows = c.set.showAll(c.sess.Show)
			return res, nil
		}
		v, e := c.showParam(cmd.Name)
		if e != nil {
			return nil, e
		}
		res.Rows = [][]any{{v}}
		return res, nil
	case pgsql.SessionDiscard:
		if cmd.Name == "all" {
			if c.sess.TxStatus() != 'I' {
				return nil, newError(codeActiveTransaction, "DISCARD ALL cannot run inside a transaction block")
			}
			if e := c.resetAll(); e != nil {
				return nil, e
			}
			clear(c.stmts)
			clear(c.portals)
		}
		return &Result{Tag: cmd.Tag}, nil
	case pgsql.SessionDeallocate:
		if cmd.Name == "all" && cmd.Value == "" {
			for name := range c.stmts {
				if name != "" {
					delete(c.stmts, name)
				}
			}
			return &Result{Tag: cmd.Tag}, nil
		}
		if _, ok := c.stmts[cmd.Name]; !ok || cmd.Name == "" {
			return nil, newError(codeInvalidSQLStatement, fmt.Sprintf("prepared statement %q does not exist", cmd.Name))
		}
		delete(c.stmts, cmd.Name)
		return &Result{Tag: cmd.Tag}, nil
	case pgsql.SessionListen:
		return &Result{Tag: cmd.Tag}, nil
	}
	return nil, newError(codeInternalError, "unknown local statement")
}

func (c *conn) showParam(key string) (string, *Error) {
	if v, ok := c.sess.Show(key); ok {
		return v, nil
	}
	if v, ok := c.set.vals[key]; ok {
		return v, nil
	}
	return "", newError(codeUndefinedObject, fmt.Sprintf("unrecognized configuration parameter %q", key))
}

// setParam sets a parameter: pgwire's own checks, then the session's.
func (c *conn) setParam(key, value string, report bool) *Error {
	v, e := normalizeSetting(key, value)
	if e != nil {
		return e
	}
	if err := c.sess.Set(key, v); err != nil {
		return settingError(key, err)
	}
	c.store(key, v, true, report)
	return nil
}

func settingError(key string, err error) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	e := toError(err)
	if e.Code == codeInternalError {
		e = newError(codeInvalidParameterValue, fmt.Sprintf("invalid value for parameter %q: %s", canonicalName(key), err.Error()))
	}
	return e
}

// store records a parameter's value and notes a reported one that changed.
func (c *conn) store(key, v string, present, report bool) {
	d, known := gucByKey[key]
	if known && d.fixed {
		return
	}
	old, had := c.set.vals[key]
	if key == "timezone" {
		c.loc = nil
		if loc, _, ok := loadZone(v); ok && present && loc != time.UTC {
			c.loc = loc
		}
	}
	if present {
		c.set.vals[key] = v
	} else {
		delete(c.set.vals, key)
	}
	if report && known && d.report && (old != v || had != present) {
		c.changed[key] = true
	}
}

// resetParam returns a parameter to its value after startup.
func (c *conn) resetParam(key string) *Error {
	if d, ok := gucByKey[key]; ok && d.readOnly {
		return newError(codeCantChangeRuntimeParam, fmt.Sprintf("parameter %q cannot be changed", d.name))
	}
	v, present := c.set.reset[key]
	if err := c.sess.Set(key, v); err != nil {
		return settingError(key, err)
	}
	c.store(key, v, present, true)
	return nil
}

// resetAll is RESET ALL: every changed parameter back to its value after
// startup.
func (c *conn) resetAll() *Error {
	keys := make(map[string]bool)
	for k, v := range c.set.vals {
		if r, ok := c.set.reset[k]; !ok || r != v {
			keys[k] = true
		}
	}
	for k := range c.set.reset {
		if _, ok := c.set.vals[k]; !ok {
			keys[k] = true
		}
	}
	for k := range keys {
		if d, ok := gucByKey[k]; ok && d.readOnly {
			continue
		}
		if e := c.resetParam(k); e != nil {
			return e
		}
	}
	return nil
}
