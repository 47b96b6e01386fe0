//go:build linux

package pgwire

import (
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// TestHangupCancelsStatement closes the socket of a client whose statement
// runs: the statement's context ends and the session closes. A statement
// with more messages pipelined behind it is watched too, and those messages
// are still read and answered: the watch reads nothing.
func TestHangupCancelsStatement(t *testing.T) {
	_, fb, addr := startServer(t, Config{})

	c := dialRaw(t, addr)
	c.send(&pgproto3.Query{String: "select sleep"})
	<-fb.sleeping
	c.nc.Close() // the client dies mid-statement
	waitFor(t, "the statement canceled and the session closed", func() bool { return fb.closed.Load() == 1 })

	// Pipelined: the sleep, then a query queued behind it. A cancel
	// request ends the sleep; the queued query must still be answered.
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	p := &rawClient{t: t, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
	p.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u"}})
	var key *pgproto3.BackendKeyData
	for {
		m, err := p.fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if k, ok := m.(*pgproto3.BackendKeyData); ok {
			key = &pgproto3.BackendKeyData{ProcessID: k.ProcessID, SecretKey: append([]byte(nil), k.SecretKey...)}
		}
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	p.send(&pgproto3.Query{String: "select sleep"}, &pgproto3.Query{String: "select 7"})
	<-fb.sleeping
	cc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	req := binary.BigEndian.AppendUint32(nil, uint32(12+len(key.SecretKey)))
	req = binary.BigEndian.AppendUint32(req, codeCancelRequest)
	req = binary.BigEndian.AppendUint32(req, key.ProcessID)
	req = append(req, key.SecretKey...)
	if _, err := cc.Write(req); err != nil {
		t.Fatal(err)
	}
	cc.Close()
	first := p.untilReady()
	if len(first) != 2 || first[0] != "E57014" {
		t.Fatalf("the canceled sleep: %v, want E57014 then ReadyForQuery", first)
	}
	if second := p.untilReady(); !strings.Contains(strings.Join(second, " "), `D "7"`) {
		t.Fatalf("the query pipelined behind it: %v, want its row", second)
	}
}
