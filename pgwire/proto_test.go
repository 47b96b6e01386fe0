package pgwire

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// rawClient speaks the protocol message by message.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	fe *pgproto3.Frontend
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	c := &rawClient{t: t, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u"}})
	c.untilReady()
	return c
}

func (c *rawClient) send(msgs ...pgproto3.FrontendMessage) {
	c.t.Helper()
	for _, m := range msgs {
		c.fe.Send(m)
	}
	if err := c.fe.Flush(); err != nil {
		c.t.Fatal(err)
	}
}

// untilReady returns a compact trace of the messages up to ReadyForQuery.
func (c *rawClient) untilReady() []string {
	c.t.Helper()
	var out []string
	for {
		m, err := c.fe.Receive()
		if err != nil {
			c.t.Fatalf("receive after %v: %v", out, err)
		}
		out = append(out, describeMsg(m))
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			return out
		}
	}
}

func describeMsg(m pgproto3.BackendMessage) string {
	switch m := m.(type) {
	case *pgproto3.ReadyForQuery:
		return "Z" + string(m.TxStatus)
	case *pgproto3.ErrorResponse:
		return "E" + m.Code
	case *pgproto3.CommandComplete:
		return "C " + string(m.CommandTag)
	case *pgproto3.DataRow:
		var parts []string
		for _, v := range m.Values {
			if v == nil {
				parts = append(parts, "NULL")
			} else {
				parts = append(parts, fmt.Sprintf("%q", v))
			}
		}
		return "D " + strings.Join(parts, ",")
	case *pgproto3.RowDescription:
		var parts []string
		for _, f := range m.Fields {
			parts = append(parts, fmt.Sprintf("%s:%d/%d", f.Name, f.DataTypeOID, f.Format))
		}
		return "T " + strings.Join(parts, ",")
	case *pgproto3.ParameterDescription:
		return fmt.Sprintf("t %v", m.ParameterOIDs)
	case *pgproto3.ParameterStatus:
		return "S " + m.Name + "=" + m.Value
	case *pgproto3.ParseComplete:
		return "1"
	case *pgproto3.BindComplete:
		return "2"
	case *pgproto3.CloseComplete:
		return "3"
	case *pgproto3.NoData:
		return "n"
	case *pgproto3.PortalSuspended:
		return "s"
	case *pgproto3.EmptyQueryResponse:
		return "I"
	case *pgproto3.BackendKeyData:
		return "K"
	case *pgproto3.AuthenticationOk:
		return "R"
	}
	return fmt.Sprintf("%T", m)
}

func expectTrace(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " | "), strings.Join(want, " | "))
	}
}

func TestSimpleQueryProtocol(t *testing.T) {
	_, _, addr := startServer(t, Config{})
	c := dialRaw(t, addr)
	c.send(&pgproto3.Query{String: "select 1; select 2"})
	expectTrace(t, c.untilReady(), `T ?column?:23/0`, `D "1"`, "C SELECT 1", `T ?column?:23/0`, `D "2"`, "C SELECT 1", "ZI")
	c.send(&pgproto3.Query{String: "-- ping"})
	expectTrace(t, c.untilReady(), "I", "ZI")
	c.send(&pgproto3.Query{String: ";"})
	expectTrace(t, c.untilReady(), "I", "ZI")
	// An error stops the remaining statements.
	c.send(&pgproto3.Query{String: "select 1; select * from missing; select 2"})
	expectTrace(t, c.untilReady(), `T ?column?:23/0`, `D "1"`, "C SELECT 1", "E42P01", "ZI")
	// Error positions count from the start of the query string.
	c.send(&pgproto3.Query{String: "select 1; bogus"})
	var pos int32
	for {
		m, err := c.fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := m.(*pgproto3.ErrorResponse); ok {
			pos = e.Position
		}
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	if pos != 11 {
		t.Errorf("position %d, want 11", pos)
	}
	c.send(&pgproto3.Query{String: "begin; select * from missing"})
	expectTrace(t, c.untilReady(), "C BEGIN", "E42P01", "ZE")
	c.send(&pgproto3.Query{String: "set a.b = 1"})
	expectTrace(t, c.untilReady(), "E25P02", "ZE")
	c.send(&pgproto3.Query{String: "rollback"})
	expectTrace(t, c.untilReady(), "C ROLLBACK", "ZI")
	c.send(&pgproto3.Query{String: "set application_name = x; show application_name"})
	expectTrace(t, c.untilReady(), "C SET", "T application_name:25/0", `D "x"`, "C SHOW", "S application_name=x", "ZI")
	c.send(&pgproto3.Query{String: "select * from t"})
	got := c.untilReady()
	expectTrace(t, got[:1], "T id:23/0,name:25/0,score:701/0,ok:16/0,data:17/0,big:20/0,created:1114/0,price:1700/0,uid:2950/0,day:1082/0,note:1043/0")
	expectTrace(t, got[1:2], `D "1","alice","1.5","t","\\xdead","5000000000","2024-01-02 03:04:05","12.50","a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","2024-02-29","n1"`)
}

func TestExtendedProtocol(t *testing.T) {
	_, _, addr := startServer(t, Config{})
	c := dialRaw(t, addr)

	// Describe S echoes the client's OIDs, infers casts, reports 0 otherwise.
	c.send(&pgproto3.Parse{Name: "s1", Query: "select echo $1, $2::int8, $3", ParameterOIDs: []uint32{23}},
		&pgproto3.Describe{ObjectType: 'S', Name: "s1"}, &pgproto3.Sync{})
	expectTrace(t, c.untilReady(), "1", "t [23 20 0]", "T c1:25/0,c2:20/0,c3:25/0", "ZI")

	// Binary parameters and results.
	i4 := binary.BigEndian.AppendUint32(nil, 7)
	i8 := binary.BigEndian.AppendUint64(nil, 1<<40)
	c.send(&pgproto3.Bind{PreparedStatement: "s1", ParameterFormatCodes: []int16{1, 1, 0}, Parameters: [][]byte{i4, i8, []byte("x")},
		ResultFormatCodes: []int16{0, 1, 0}},
		&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{})
	expectTrace(t, c.untilReady(), "2", "T c1:25/0,c2:20/1,c3:25/0", fmt.Sprintf(`D "7",%q,"x"`, i8), "C SELECT 1", "ZI")

	// Parameter count mismatch: 08P01, then everything up to Sync is skipped.
	c.send(&pgproto3.Bind{PreparedStatement: "s1", Parameters: [][]byte{[]byte("1")}},
		&pgproto3.Execute{}, &pgproto3.Query{String: "select 1"}, &pgproto3.Sync{})
	expectTrace(t, c.untilReady(), "E08P01", "ZI")

	// Row limits: PortalSuspended, then the rest.
	c.send(&pgproto3.Parse{Query: "select gen 5"}, &pgproto3.Bind{}, &pgproto3.Execute{MaxRows: 2},
		&pgproto3.Execute{MaxRows: 2}, &pgproto3.Execute{MaxRows: 2}, &pgproto3.Sync{})
	expectTrace(t, c.untilReady(), "1", "2", `D "0"`, `D "1"`, "s", `D "2"`, `D "3"`, "s", `D "4"`, "C SELECT 1", "ZI")
	// maxRows is ignored for statements without rows.
	c.send(&pgproto3.Parse{Query: "insert into t values (1)"}, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'},
		&pgproto3.Execute{MaxRows: 1}, &pgproto3.Sync{})
	expectTrace(t, c.untilReady(), "1", "2", "n", "C INSERT 0 1", "ZI")

	// Pipelined statements before one Sync; named statements survive Sync,
	// Close removes them.
	c.send(&pgproto3.Parse{Name: "a", Query: "select 1"}, &pgproto3.Parse{Name: "b", Query: "select $1::int8"},
		&pgproto3.Bind{PreparedStatement: "a"}, &pgproto3.Execute{},
		&pgproto3.Bind{PreparedStatement: "b", Parameters: [][]byte{[]byte("9")}}, &pgproto3.Execute{},
		&pgproto3.Sync{})
	expectTrace(t, c.untilReady(), "1", "1", "2", `D "1"`, "C SELECT 1", "2", "E42601", "ZI")
	c.send(&pgproto3.Bind{PreparedStatement: "a"}, &pgproto3.Execute{}, &pgproto3.Close{ObjectType: 'S', Name: "a"},
		&pgproto3.Sync{}, &pgproto3.Bind{PreparedStatement: "a"}, &pgproto3.Sync{})
	expectTrace(t, c.untilReady(), "2", `D "1"`, "C SELECT 1", "3", "ZI")
	expectTrace(t, c.untilReady(), "E26000", "ZI")

	// Duplicate names, several statements, empty statements.
	c.send(&pgproto3.Parse{Name: "b", Query: "select 1"}, &pgproto3.Sync{})
	expectTrace(t, c.untilReady(), "E42P05", "ZI")
	c.send(&pgproto3.Parse{Query: "select 1; select 2"}, &pgproto3.Sync{})
	expectTrace(t, c.untilReady(), "E42601", "ZI")
	c.send(&pgproto3.Parse{Query: " -- nothing"}, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{})
	expectTrace(t, c.untilReady(), "1", "2", "n", "I", "ZI")

	// SET and SHOW through the extended protocol (JDBC does this).
	c.send(&pgproto3.Parse{Query: "SET extra_float_digits = 3"}, &pgproto3.Bind{}, &pgproto3.Execute{MaxRows: 1},
		&pgproto3.Parse{Query: "show extra_float_digits"}, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{},
		&pgproto3.Sync{})
	expectTrace(t, c.untilReady(), "1", "2", "C SET", "1", "2", "T extra_float_digits:25/0", `D "3"`, "C SHOW", "ZI")

	// An int4 parameter out of int4's range: 22003 at Bind, as in
	// Postgres (int4in), before any result.
	c.send(&pgproto3.Parse{Query: "select echo $1::int4"}, &pgproto3.Bind{Parameters: [][]byte{[]byte("5000000000")}, ResultFormatCodes: []int16{1}},
		&pgproto3.Execute{}, &pgproto3.Sync{})
	expectTrace(t, c.untilReady(), "1", "E22003", "ZI")

	// Result format count mismatch.
	c.send(&pgproto3.Parse{Query: "select 1"}, &pgproto3.Bind{ResultFormatCodes: []int16{0, 0}}, &pgproto3.Execute{}, &pgproto3.Sync{})
	expectTrace(t, c.untilReady(), "1", "2", "E08P01", "ZI")

	c.send(&pgproto3.Terminate{})
	if _, err := c.fe.Receive(); err == nil {
		t.Error("connection still open after Terminate")
	}
}

func TestPgconnBinaryParams(t *testing.T) {
	_, _, addr := startServer(t, Config{})
	ctx := context.Background()
	pc, err := pgconn.Connect(ctx, "postgres://u@"+addr+"/db?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close(ctx)
	oids := []uint32{oidInt2, oidInt4, oidInt8, oidFloat4, oidFloat8, oidBool, oidBytea, oidText, oidVarchar}
	sd, err := pc.Prepare(ctx, "p", "select echo $1, $2, $3, $4, $5, $6, $7, $8, $9", oids)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sd.ParamOIDs) != fmt.Sprint(oids) {
		t.Fatalf("ParamOIDs %v, want %v", sd.ParamOIDs, oids)
	}
	params := [][]byte{
		binary.BigEndian.AppendUint16(nil, 0xfffe), binary.BigEndian.AppendUint32(nil, 5), binary.BigEndian.AppendUint64(nil, 1<<50),
		binary.BigEndian.AppendUint32(nil, 0x3fc00000), binary.BigEndian.AppendUint64(nil, 0x4004000000000000),
		{1}, {0, 0xff}, []byte("t"), nil,
	}
	fmts := []int16{1, 1, 1, 1, 1, 1, 1, 1, 1}
	res := pc.ExecPrepared(ctx, "p", params, fmts, nil).Read()
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	want := []string{"-2", "5", "1125899906842624", "1.5", "2.5", "true", `\x00ff`, "t", ""}
	for i, v := range res.Rows[0] {
		if string(v) != want[i] {
			t.Errorf("param %d: got %q, want %q", i+1, v, want[i])
		}
	}
	if res.Rows[0][8] != nil {
		t.Error("NULL parameter came back non-NULL")
	}
	// Bad binary data: 22P03.
	params[1] = []byte{1, 2}
	res = pc.ExecPrepared(ctx, "p", params, fmts, nil).Read()
	if pgCode(res.Err) != "22P03" {
		t.Errorf("short int4: %v", res.Err)
	}
}

func TestStartupEdgeCases(t *testing.T) {
	_, _, addr := startServer(t, Config{StartupTimeout: 2 * time.Second, MaxMessageSize: 1 << 10})

	// SSLRequest answered N, then a client that goes away (pgx with prefer).
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	nc.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f})
	b := make([]byte, 1)
	if _, err := nc.Read(b); err != nil || b[0] != 'N' {
		t.Fatalf("SSLRequest answer %q, %v", b, err)
	}
	nc.Close()

	// GSSENCRequest, then SSLRequest is refused as a second negotiation.
	nc, _ = net.Dial("tcp", addr)
	nc.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30})
	if _, err := nc.Read(b); err != nil || b[0] != 'N' {
		t.Fatalf("GSSENCRequest answer %q, %v", b, err)
	}
	nc.Close()

	// A message over MaxMessageSize ends the connection with 54000.
	c := dialRaw(t, addr)
	c.send(&pgproto3.Query{String: strings.Repeat("x", 2<<10)})
	m, err := c.fe.Receive()
	if e, ok := m.(*pgproto3.ErrorResponse); !ok || e.Code != "54000" || e.Severity != "FATAL" {
		t.Fatalf("got %#v, %v", m, err)
	}

	// Protocol 3.2 is negotiated down to 3.0.
	nc, _ = net.Dial("tcp", addr)
	defer nc.Close()
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion32, Parameters: map[string]string{"user": "u", "_pq_.x": "1"}})
	fe.Flush()
	m, err = fe.Receive()
	if npv, ok := m.(*pgproto3.NegotiateProtocolVersion); !ok || npv.NewestMinorProtocol != 0 || len(npv.UnrecognizedOptions) != 1 {
		t.Fatalf("got %#v, %v", m, err)
	}

	// No user: FATAL 28000.
	nc2, _ := net.Dial("tcp", addr)
	defer nc2.Close()
	fe = pgproto3.NewFrontend(nc2, nc2)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"database": "d"}})
	fe.Flush()
	m, _ = fe.Receive()
	if e, ok := m.(*pgproto3.ErrorResponse); !ok || e.Code != "28000" {
		t.Fatalf("no user: %#v", m)
	}

	// A silent client is dropped after StartupTimeout.
	nc3, _ := net.Dial("tcp", addr)
	defer nc3.Close()
	_ = nc3.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc3.Read(b); err == nil {
		t.Fatal("silent client got data")
	}
}

func TestIdleTimeout(t *testing.T) {
	_, fb, addr := startServer(t, Config{IdleTimeout: 200 * time.Millisecond})
	c := dialRaw(t, addr)
	m, err := c.fe.Receive()
	if e, ok := m.(*pgproto3.ErrorResponse); !ok || e.Code != "57P05" {
		t.Fatalf("got %#v, %v", m, err)
	}
	waitFor(t, "session close", func() bool { return fb.closed.Load() == 1 })
}

func TestPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not installed")
	}
	_, _, addr := startServer(t, Config{})
	host, port, _ := net.SplitHostPort(addr)
	run := func(args ...string) (string, string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, psql, append([]string{"-X", "-h", host, "-p", port, "-U", "x", "-d", "db"}, args...)...)
		cmd.Env = append(cmd.Environ(), "PGCONNECT_TIMEOUT=5", "PGPASSWORD=")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	out, errOut, err := run("-At", "-c", "select 1; select 2")
	if err != nil || out != "1\n2\n" {
		t.Fatalf("psql -c: %q %q %v", out, errOut, err)
	}
	out, errOut, err = run("-At", "-c", "show server_version")
	if err != nil || out != DefaultServerVersion+"\n" {
		t.Fatalf("show: %q %q %v", out, errOut, err)
	}
	_, errOut, err = run("-v", "VERBOSITY=verbose", "-c", "select * from missing")
	if err == nil || !strings.Contains(errOut, "ERROR:  42P01: no such table: missing") {
		t.Fatalf("error: %q %v", errOut, err)
	}
	_, errOut, _ = run("-c", "select 1; bogus")
	if !strings.Contains(errOut, "LINE 1: select 1; bogus") {
		t.Errorf("no error position in %q", errOut)
	}
}
