package server

import (
	"bytes"
	"testing"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/pgwire"
)

// FuzzSideChannel feeds arbitrary bytes to the decoders of the node-to-node
// request protocol: they must return an error or a value, never panic, and
// never allocate more than the input describes. A request envelope that
// decodes encodes back to the same bytes, so no two encodings mean the same
// request; one of another version is refused before anything else of it is
// read.
func FuzzSideChannel(f *testing.F) {
	insert := command.Encode(&command.Command{Kind: command.KindExecute,
		Statements: []command.Statement{{SQL: "INSERT INTO t VALUES ($1)", Params: []command.Value{command.Int(1)}}}})
	var frame bytes.Buffer
	writeFrame(&frame, appendRequest(nil, reqExecute, 7, identity{kind: identClient, name: "alice", rights: RightsRead}, insert))
	f.Add(frame.Bytes())
	f.Add(appendRequest(nil, reqExecute, 1, identity{kind: identClient, name: "bob", rights: RightsWrite}, insert))
	f.Add(appendRequest(nil, reqReadIndex, 2, identity{kind: identNode, name: "n1"}, nil))
	f.Add(appendRequest(nil, reqSession, 3, identity{}, append(appendString(nil, "linearizable"), insert...)))
	f.Add(append([]byte{reqExecute}, insert...)) // an unversioned node's request
	f.Add([]byte{envelopeMagic, 2, reqExecute, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add(appendAnswer(nil, statusOK, 9, encodeIndexedResult(42, &command.Result{Statements: []command.StatementResult{{RowsAffected: 1}}})))
	f.Add(appendAnswer(nil, statusErr, 9, encodeError(errKindNotLeader, "not the leader", "127.0.0.1:7433")))
	f.Add(encodeError(errKindDenied, "permission denied", ""))
	f.Add(encodeSessionAnswer('T', &pgwire.Result{Tag: "SELECT 1", Columns: []pgwire.Column{{Name: "x"}}, Rows: [][]any{{int64(1)}}}, nil))
	f.Add(encodeSessionAnswer('E', nil, &pgwire.Error{Code: "23505", Message: "dup"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if body, err := readFrame(bytes.NewReader(b)); err == nil && len(body) > len(b) {
			t.Fatalf("frame body of %d bytes from %d input bytes", len(body), len(b))
		}
		if env, err := decodeRequest(b); err == nil {
			if env.version != protocolVersion {
				t.Fatalf("decoded a request of version %d", env.version)
			}
			if back := appendRequest(nil, env.typ, env.id, env.ident, env.payload); !bytes.Equal(back, b) {
				t.Fatalf("request %x encodes back as %x", b, back)
			}
		} else if v := envelopeVersion(b); v != protocolVersion {
			if _, ok := err.(errVersion); !ok {
				t.Fatalf("version %d refused with %v, want errVersion", v, err)
			}
		}
		if env, err := decodeAnswer(b); err == nil {
			decodeError(env.payload)
			decodeIndexedResult(env.payload)
		}
		decodeError(b)
		decodeSessionAnswer(b)
		decodeIndexedResult(b)
		if id, rest, ok := readString(b); ok && len(id)+len(rest) > len(b) {
			t.Fatalf("readString grew the input")
		}
	})
}
