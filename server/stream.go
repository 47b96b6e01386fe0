package server

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
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

// forwardedReadLimit bounds the encoded answer of a read another node
// forwards: the frame of the node-to-node channel, less its header. A
// variable so that tests can lower it.
var forwardedReadLimit atomic.Int64

func init() { forwardedReadLimit.Store(maxFrame - answerHeaderLen) }

// answerQuery runs a forwarded read and encodes its result, failing with
// a limitError (54000 for the client) as soon as the rows outgrow what
// the channel carries, rather than after holding all of them. A read of
// one statement is stepped a row at a time for that; one of several runs
// in one snapshot, whole, and is checked after.
func (n *Node) answerQuery(ctx context.Context, stmts []command.Statement) ([]byte, error) {
	limit := forwardedReadLimit.Load()
	tooBig := func(size int64) error {
		return &limitError{msg: fmt.Sprintf("the result of the read (%d bytes or more) exceeds the %d-byte limit of the node-to-node channel: "+
			"a follower's weak read comes whole from the leader; read on the leader, or at consistency linearizable or none, which stream the rows", size, limit)}
	}
	if len(stmts) != 1 {
		res, err := n.fsm.Query(ctx, stmts)
		if err != nil {
			return nil, err
		}
		b := command.EncodeResult(res)
		if int64(len(b)) > limit {
			return nil, tooBig(int64(len(b)))
		}
		return b, nil
	}
	res := &command.Result{Statements: make([]command.StatementResult, 1)}
	sr := &res.Statements[0]
	rows, err := n.fsm.QueryRows(ctx, stmts[0])
	if err != nil {
		var ce *command.Error
		if errors.As(err, &ce) {
			sr.Err = ce
			return command.EncodeResult(res), nil
		}
		return nil, err
	}
	defer rows.Close()
	sr.Columns = rows.Columns()
	var size int64
	for {
		row, err := rows.Next(ctx)
		if err != nil {
			var ce *command.Error
			if !errors.As(err, &ce) {
				return nil, err
			}
			sr.Rows, sr.Columns, sr.Err = nil, nil, ce
			break
		}
		if row == nil {
			break
		}
		for _, v := range row {
			size += int64(len(v.Text)+len(v.Blob)) + 10
		}
		if size > limit {
			return nil, tooBig(size)
		}
		sr.Rows = append(sr.Rows, row)
	}
	b := command.EncodeResult(res)
	if int64(len(b)) > limit {
		return nil, tooBig(int64(len(b)))
	}
	return b, nil
}
