package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/raftsql/raftsql/pgwire"
)

// A side-channel connection that does not come from the raft package's
// handshake names no member: it is closed without an answer, and its
// request is never read.
func TestSideChannelNeedsMemberID(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := &Node{log: slog.New(slog.DiscardHandler), ctx: ctx}
	server, client := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.serveForwardConn(server)
	}()
	client.SetDeadline(time.Now().Add(10 * time.Second))
	writeFrame(client, appendRequest(nil, reqStatus, 1, identity{kind: identNode, name: "n1"}, nil))
	if body, err := readFrame(client); err != io.EOF {
		t.Fatalf("got answer %x, err %v; want the connection closed", body, err)
	}
	<-done
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err               error
		plain, idempotent bool
	}{
		{nil, false, false},
		{context.DeadlineExceeded, false, false},
		{errSendFailed, true, true},
		{&remoteError{kind: errKindNotLeader}, true, true},
		{&remoteError{kind: errKindUnavailable}, true, true},
		{&remoteError{kind: errKindOutcomeUnknown}, false, true},
		{&remoteError{kind: errKindDenied}, false, false},
		{&remoteError{kind: errKindVersion}, false, false},
		{&remoteError{kind: errKindOther}, false, false},
		{io.ErrUnexpectedEOF, false, true}, // sent, no answer
	} {
		if got := retryable(tc.err, false); got != tc.plain {
			t.Errorf("retryable(%v, false) = %v", tc.err, got)
		}
		if got := retryable(tc.err, true); got != tc.idempotent {
			t.Errorf("retryable(%v, true) = %v", tc.err, got)
		}
	}
}

func TestMockShape(t *testing.T) {
	users := map[string]User{}
	for i, it := range []int{4096, 10000, 10000, 4096, 10000} {
		users[string(rune('a'+i))] = User{Verifier: scramOf(it, 16)}
	}
	users["z"] = User{Verifier: scramOf(4096, 24)}
	if it, n := mockShape(users); it != 10000 || n != 16 {
		t.Errorf("mockShape = %d iterations, %d-byte salts; want 10000, 16", it, n)
	}
}

func scramOf(iterations, saltLen int) (v pgwire.SCRAMVerifier) {
	v.Iterations, v.Salt = iterations, make([]byte, saltLen)
	return v
}
