package pgwire

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

func encodeFrontend(msgs ...pgproto3.FrontendMessage) []byte {
	var b []byte
	for _, m := range msgs {
		b, _ = m.Encode(b)
	}
	return b
}

// FuzzSession feeds arbitrary bytes to a connection after a valid startup.
// The connection must end once the client stops sending, without a panic,
// and the server must stay usable.
func FuzzSession(f *testing.F) {
	seeds := [][]byte{
		encodeFrontend(&pgproto3.Query{String: "select 1; select * from t; set a = 1; show all"}),
		encodeFrontend(&pgproto3.Parse{Name: "s", Query: "select echo $1, $2::int8", ParameterOIDs: []uint32{23}},
			&pgproto3.Describe{ObjectType: 'S', Name: "s"},
			&pgproto3.Bind{PreparedStatement: "s", ParameterFormatCodes: []int16{1}, Parameters: [][]byte{{0, 0, 0, 1}, []byte("2")}, ResultFormatCodes: []int16{1}},
			&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{MaxRows: 1}, &pgproto3.Execute{}, &pgproto3.Sync{}),
		encodeFrontend(&pgproto3.Parse{Query: "select gen 10"}, &pgproto3.Bind{}, &pgproto3.Execute{MaxRows: 3},
			&pgproto3.Close{ObjectType: 'P'}, &pgproto3.Sync{}, &pgproto3.Terminate{}),
		encodeFrontend(&pgproto3.Query{String: "begin; select * from missing"}, &pgproto3.Query{String: "rollback"}),
		encodeFrontend(&pgproto3.Query{String: "discard all; reset all; set time zone local"}, &pgproto3.Flush{}),
		{'Q', 0, 0, 0, 4},
		{'B', 0xff, 0xff, 0xff, 0xff},
		{'P', 0, 0, 0, 10, 0, 0, 0xff, 0xff, 0xff},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	fb := newFakeBackend()
	fb.noSleep = true
	_, _, addr := startServer(f, Config{Backend: fb, MaxMessageSize: 1 << 20, StartupTimeout: 5 * time.Second})
	startup := encodeFrontend(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "fuzz"}})

	f.Fuzz(func(t *testing.T, data []byte) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := nc.Write(startup); err != nil {
			t.Fatal(err)
		}
		fe := pgproto3.NewFrontend(nc, nc)
		for {
			m, err := fe.Receive()
			if err != nil {
				t.Fatalf("startup: %v", err)
			}
			if _, ok := m.(*pgproto3.ReadyForQuery); ok {
				break
			}
		}
		// Write and read concurrently: a server answering while the
		// client still writes must not deadlock either side.
		werr := make(chan error, 1)
		go func() {
			_, err := nc.Write(data)
			nc.(*net.TCPConn).CloseWrite()
			werr <- err
		}()
		n, err := io.Copy(io.Discard, nc)
		if err != nil {
			t.Fatalf("after %d bytes: %v (the server did not end the connection)", n, err)
		}
		<-werr
	})
}
