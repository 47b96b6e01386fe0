package server

import (
	"bytes"
	"testing"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/pgwire"
)

// FuzzSideChannel feeds arbitrary bytes to the decoders of the node-to-node
// request protocol: they must return an error or a value, never panic, and
// never allocate more than the input describes.
func FuzzSideChannel(f *testing.F) {
	var frame bytes.Buffer
	writeFrame(&frame, reqExecute, command.Encode(&command.Command{Kind: command.KindExecute,
		Statements: []command.Statement{{SQL: "INSERT INTO t VALUES ($1)", Params: []command.Value{command.Int(1)}}}}))
	f.Add(frame.Bytes())
	f.Add(encodeError(errKindNotLeader, "not the leader", "127.0.0.1:7433"))
	f.Add(encodeSessionAnswer('T', &pgwire.Result{Tag: "SELECT 1", Columns: []pgwire.Column{{Name: "x"}}, Rows: [][]any{{int64(1)}}}, nil))
	f.Add(encodeSessionAnswer('E', nil, &pgwire.Error{Code: "23505", Message: "dup"}))
	f.Add(encodeIndexedResult(42, &command.Result{Statements: []command.StatementResult{{RowsAffected: 1}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if typ, payload, err := readFrame(bytes.NewReader(b)); err == nil {
			if len(payload)+1 > len(b) {
				t.Fatalf("frame type %d: payload of %d bytes from %d input bytes", typ, len(payload), len(b))
			}
		}
		decodeError(b)
		decodeSessionAnswer(b)
		decodeIndexedResult(b)
		if id, rest, ok := readString(b); ok && len(id)+len(rest) > len(b) {
			t.Fatalf("readString grew the input")
		}
	})
}
