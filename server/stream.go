package server

import (
	"context"
	"fmt"
	"time"

	"github.com/raftsql/raftsql/fsm"
	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/pgwire"
)

// queryRows runs a read-only statement at level. A read this node serves
// from its own copy (none; linearizable after the barrier; weak on the
// leader) comes back as rows to be stepped, holding its read connection
// and snapshot until closed; the others (strong, through the log, and a
// follower's weak read, which the leader answers) come back whole.
func (n *Node) queryRows(ctx context.Context, who identity, st command.Statement, level string) (*fsm.Rows, *command.Result, error) {
	if who.rights < RightsRead {
		return nil, nil, &deniedError{msg: fmt.Sprintf("permission denied: user %q may not read", who.name)}
	}
	switch level {
	case ReadNone:
	case ReadLinearizable, "":
		if err := n.readBarrier(ctx); err != nil {
			return nil, nil, err
		}
	case ReadWeak:
		if !n.raft.IsLeader() {
			res, err := n.weakQuery(ctx, who, []command.Statement{st})
			return nil, res, err
		}
	default:
		res, err := n.query(ctx, who, []command.Statement{st}, level)
		return nil, res, err
	}
	rows, err := n.fsm.QueryRows(ctx, st)
	return rows, nil, err
}

// rowStream adapts the state machine's rows to pgwire.RowSource. It
// bounds every stretch of stepping by the session's statement_timeout,
// counted from the start of the Execute (Postgres times each Execute
// message of a portal on its own).
type rowStream struct {
	rows    *fsm.Rows
	timeout time.Duration // statement_timeout; 0: none
	// outer is the context pgwire passed for the current stretch, inner
	// the one derived from it with the timeout, ending at deadline.
	outer, inner context.Context
	cancel       context.CancelFunc
	deadline     time.Time
	row          []any
}

// newRowStream wraps rows. ctx is the context the statement was given
// (pgwire's), stmtCtx the one with the timeout, deadline its end, cancel
// its release; the first stretch, of the same Execute, goes on in it.
func newRowStream(rows *fsm.Rows, timeout time.Duration, ctx, stmtCtx context.Context, deadline time.Time, cancel context.CancelFunc) *rowStream {
	return &rowStream{rows: rows, timeout: timeout, outer: ctx, inner: stmtCtx, deadline: deadline, cancel: cancel}
}

func (r *rowStream) Next(ctx context.Context) ([]any, error) {
	if ctx != r.outer {
		if r.cancel != nil {
			r.cancel()
		}
		r.outer, r.inner, r.cancel = ctx, ctx, nil
		if r.timeout > 0 {
			r.deadline = time.Now().Add(r.timeout)
			r.inner, r.cancel = context.WithDeadlineCause(ctx, r.deadline, errStatementTimeout)
		}
	}
	vals, err := r.rows.Next(r.inner)
	if err != nil {
		if r.timeout > 0 && ctx.Err() == nil && (context.Cause(r.inner) == errStatementTimeout || !time.Now().Before(r.deadline)) {
			return nil, &pgwire.Error{Code: "57014", Message: "canceling statement due to statement timeout",
				Detail: fmt.Sprintf("statement_timeout is %v", r.timeout)}
		}
		return nil, pgError(err)
	}
	if vals == nil {
		return nil, nil
	}
	if r.row == nil {
		r.row = make([]any, len(vals))
	}
	for i, v := range vals {
		r.row[i] = v.Any()
	}
	return r.row, nil
}

func (r *rowStream) Close() {
	r.rows.Close()
	if r.cancel != nil {
		r.cancel()
		r.cancel = nil
	}
}
