package server

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/raftsql/raftsql/fsm/command"
)

// Side-channel constants and encoders for the external tests, which drive
// the protocol by hand to prove that the leader refuses what a follower
// should never send.
const (
	ProtocolVersion = protocolVersion
	ReqExecute      = reqExecute
	ReqQuery        = reqQuery
	ReqSession      = reqSession
	ReqReadIndex    = reqReadIndex
	ReqJoin         = reqJoin
	IdentNone       = identNone
	IdentNode       = identNode
	IdentClient     = identClient
	ErrKindDenied   = errKindDenied
	ErrKindVersion  = errKindVersion
)

// SideChannelRequest builds a request envelope; version replaces the
// protocol version byte when not zero.
func SideChannelRequest(version, typ, identKind byte, name string, rights Rights, payload []byte) []byte {
	b := appendRequest(nil, typ, 1, identity{kind: identKind, name: name, rights: rights}, payload)
	if version != 0 {
		b[1] = version
	}
	return b
}

// SessionPayload is the payload of a relayed statement.
func SessionPayload(level string, command []byte) []byte {
	return append(appendString(nil, level), command...)
}

// RawSideChannel opens a side-channel connection from n to addr, sends body
// as one frame and returns the answer: the error kind and message of an
// error answer, or ok with its payload.
func (n *Node) RawSideChannel(ctx context.Context, addr string, body []byte) (ok bool, kind byte, msg string, err error) {
	ok, kind, msg, _, err = n.RawSideChannelPayload(ctx, addr, body)
	return ok, kind, msg, err
}

// SessionAnswerState returns the SQLSTATE of a relayed statement's answer,
// "" when it succeeded.
func SessionAnswerState(payload []byte) (string, error) {
	_, _, pe, err := decodeSessionAnswer(payload)
	if err != nil || pe == nil {
		return "", err
	}
	return pe.Code, nil
}

// RawSideChannelPayload is RawSideChannel that also returns the payload of
// a successful answer.
func (n *Node) RawSideChannelPayload(ctx context.Context, addr string, body []byte) (ok bool, kind byte, msg string, payload []byte, err error) {
	c, err := n.fwd.dialConn(ctx, addr)
	if err != nil {
		return false, 0, "", nil, err
	}
	defer c.Close()
	if dl, has := ctx.Deadline(); has {
		c.SetDeadline(dl)
	}
	if err := writeFrame(c.w, body); err != nil {
		return false, 0, "", nil, err
	}
	if err := c.w.Flush(); err != nil {
		return false, 0, "", nil, err
	}
	answer, err := readFrame(c.r)
	if err != nil {
		return false, 0, "", nil, err
	}
	env, err := decodeAnswer(answer)
	if ve, is := err.(errVersion); is && ve.version == 0 && len(answer) > 0 && answer[0] == statusErr {
		// An answer in the format of the nodes before the envelope.
		re := decodeError(answer[1:])
		return false, re.kind, re.msg, nil, nil
	}
	if err != nil {
		return false, 0, "", nil, err
	}
	if env.typ == statusOK {
		return true, 0, "", env.payload, nil
	}
	re := decodeError(env.payload)
	if re.msg == "" {
		return false, 0, "", nil, errors.New("empty error answer")
	}
	return false, re.kind, re.msg, nil, nil
}

// StallRelayedBlock relays a transaction block from n to the node at addr
// (the leader) as a follower does, runs stmts in it, and then neither sends
// nor reads anything: a follower that froze. Close the returned connection
// when done.
func (n *Node) StallRelayedBlock(ctx context.Context, addr string, stmts ...string) (io.Closer, error) {
	c, err := n.fwd.dialConn(ctx, addr)
	if err != nil {
		return nil, err
	}
	who := identity{kind: identClient, name: "raftsql", rights: RightsAdmin}
	for _, sql := range stmts {
		payload := appendString(nil, ReadLinearizable)
		payload = append(payload, command.Encode(&command.Command{Kind: command.KindExecute,
			Statements: []command.Statement{{SQL: sql}}})...)
		answer, err := n.fwd.roundTrip(ctx, c, reqSession, who, payload)
		if err != nil {
			c.Close()
			return nil, err
		}
		if _, _, pe, err := decodeSessionAnswer(answer); err != nil || pe != nil {
			c.Close()
			return nil, fmt.Errorf("%s: %v %v", sql, err, pe)
		}
	}
	return c, nil
}

// SideChannelDials is how many side-channel connections n has dialed.
func (n *Node) SideChannelDials() uint64 { return n.fwd.dials.Load() }

// RelayedStatements is how many requests of relayed transaction blocks
// (statements, with or without their BEGIN) n has sent.
func (n *Node) RelayedStatements() uint64 { return n.fwd.sessionRequests.Load() }
