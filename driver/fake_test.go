package driver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// fakeServer is a scripted Postgres-protocol server for tests of the
// driver's retry, routing and cancel behaviour, which a healthy cluster
// rarely shows.
type fakeServer struct {
	t        *testing.T
	ln       net.Listener
	password string            // "" for trust; else cleartext or md5
	md5      bool              // ask for MD5 instead of cleartext
	startup  map[string]string // ParameterStatus sent after authentication
	// handle answers one statement. ok is false to close the connection
	// without answering, as a crashing node would.
	handle func(sql string, args [][]byte) (res fakeResult, ok bool)

	mu       sync.Mutex
	log      []string            // statements received, in order
	params   []map[string]string // startup parameters of each connection
	cancels  int
	canceled chan struct{} // closed by a CancelRequest
	conns    atomic.Int32
}

type fakeResult struct {
	rows   []string // one text column "v"
	tag    string
	err    string // SQLSTATE of an ErrorResponse
	status map[string]string
	wait   bool // block until a CancelRequest, then answer 57014
}

func newFake(t *testing.T, handle func(sql string, args [][]byte) (fakeResult, bool)) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{t: t, ln: ln, handle: handle, canceled: make(chan struct{})}
	if f.handle == nil {
		f.handle = func(string, [][]byte) (fakeResult, bool) { return fakeResult{}, true }
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		socks []net.Conn
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			socks = append(socks, nc)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				f.serve(nc)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, nc := range socks {
			nc.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return f
}

func (f *fakeServer) addr() string { return f.ln.Addr().String() }

func (f *fakeServer) statements() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

func (f *fakeServer) record(s string) {
	f.mu.Lock()
	f.log = append(f.log, s)
	f.mu.Unlock()
}

func (f *fakeServer) serve(nc net.Conn) {
	be := pgproto3.NewBackend(nc, nc)
	var params map[string]string
	for params == nil {
		msg, err := be.ReceiveStartupMessage()
		if err != nil {
			return
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest:
			nc.Write([]byte{'N'})
		case *pgproto3.CancelRequest:
			f.mu.Lock()
			f.cancels++
			if f.cancels == 1 {
				close(f.canceled)
			}
			f.mu.Unlock()
			return
		case *pgproto3.StartupMessage:
			params = m.Parameters
		}
	}
	f.mu.Lock()
	f.params = append(f.params, params)
	f.mu.Unlock()
	if f.password != "" {
		salt := [4]byte{9, 8, 7, 6}
		want := f.password
		if f.md5 {
			be.Send(&pgproto3.AuthenticationMD5Password{Salt: salt})
			be.SetAuthType(pgproto3.AuthTypeMD5Password)
			want = md5Password(params["user"], f.password, salt)
		} else {
			be.Send(&pgproto3.AuthenticationCleartextPassword{})
			be.SetAuthType(pgproto3.AuthTypeCleartextPassword)
		}
		be.Flush()
		msg, err := be.Receive()
		if err != nil {
			return
		}
		if pm, ok := msg.(*pgproto3.PasswordMessage); !ok || pm.Password != want {
			be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: "28P01", Message: "password authentication failed"})
			be.Flush()
			return
		}
	}
	be.Send(&pgproto3.AuthenticationOk{})
	for k, v := range f.startup {
		be.Send(&pgproto3.ParameterStatus{Name: k, Value: v})
	}
	pid := uint32(f.conns.Add(1))
	be.Send(&pgproto3.BackendKeyData{ProcessID: pid, SecretKey: []byte{1, 2, 3, 4}})
	tx := byte('I')
	be.Send(&pgproto3.ReadyForQuery{TxStatus: tx})
	be.Flush()

	stmts := map[string]string{}
	var (
		portalSQL  string
		portalArgs [][]byte
		skipToSync bool
	)
	// run executes one statement and sends its answer; false means the
	// connection was dropped.
	run := func(sql string, args [][]byte, describe bool) bool {
		f.record(sql)
		res, ok := f.handle(sql, args)
		if !ok {
			return false
		}
		if res.wait {
			select {
			case <-f.canceled:
			case <-time.After(10 * time.Second):
			}
			res.err = "57014"
		}
		if res.err != "" {
			be.Send(&pgproto3.ErrorResponse{Severity: "ERROR", Code: res.err, Message: "fake " + res.err})
			skipToSync = true
			return true
		}
		up := strings.ToUpper(strings.TrimSpace(sql))
		switch {
		case strings.HasPrefix(up, "BEGIN"):
			tx = 'T'
		case up == "COMMIT", up == "ROLLBACK":
			tx = 'I'
		}
		if describe {
			if res.rows != nil || strings.HasPrefix(up, "SELECT") {
				be.Send(&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("v"), DataTypeOID: oidText, DataTypeSize: -1}}})
			} else {
				be.Send(&pgproto3.NoData{})
			}
		}
		for _, r := range res.rows {
			be.Send(&pgproto3.DataRow{Values: [][]byte{[]byte(r)}})
		}
		for k, v := range res.status {
			be.Send(&pgproto3.ParameterStatus{Name: k, Value: v})
		}
		tag := res.tag
		if tag == "" {
			tag = strings.Fields(up + " OK")[0]
		}
		be.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
		return true
	}
	for {
		msg, err := be.Receive()
		if err != nil {
			return
		}
		if skipToSync {
			if _, ok := msg.(*pgproto3.Sync); !ok {
				continue
			}
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			if strings.TrimSpace(m.String) == "-- ping" {
				be.Send(&pgproto3.EmptyQueryResponse{})
			} else if !run(m.String, nil, true) {
				return
			}
			skipToSync = false
			be.Send(&pgproto3.ReadyForQuery{TxStatus: tx})
		case *pgproto3.Parse:
			if _, ok := stmts[m.Name]; ok && m.Name != "" {
				// As Postgres: a named statement must be closed first.
				be.Send(&pgproto3.ErrorResponse{Severity: "ERROR", Code: "42P05", Message: fmt.Sprintf("prepared statement %q already exists", m.Name)})
				skipToSync = true
				break
			}
			stmts[m.Name] = m.Query
			be.Send(&pgproto3.ParseComplete{})
		case *pgproto3.Describe:
			if m.ObjectType == 'S' {
				n := strings.Count(stmts[m.Name], "$")
				be.Send(&pgproto3.ParameterDescription{ParameterOIDs: make([]uint32, n)})
				if strings.HasPrefix(strings.ToUpper(stmts[m.Name]), "SELECT") {
					be.Send(&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("v"), DataTypeOID: oidText, DataTypeSize: -1}}})
				} else {
					be.Send(&pgproto3.NoData{})
				}
			}
		case *pgproto3.Bind:
			portalSQL = stmts[m.PreparedStatement]
			portalArgs = nil
			for _, p := range m.Parameters {
				portalArgs = append(portalArgs, append([]byte(nil), p...))
			}
			be.Send(&pgproto3.BindComplete{})
		case *pgproto3.Execute:
			if !run(portalSQL, portalArgs, true) {
				return
			}
		case *pgproto3.Close:
			delete(stmts, m.Name)
			be.Send(&pgproto3.CloseComplete{})
		case *pgproto3.Sync:
			skipToSync = false
			be.Send(&pgproto3.ReadyForQuery{TxStatus: tx})
		case *pgproto3.Terminate:
			return
		}
		if err := be.Flush(); err != nil {
			return
		}
	}
}

func fakeDB(t *testing.T, dsn string, mod func(*Config)) *sql.DB {
	t.Helper()
	cfg, err := ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if mod != nil {
		mod(&cfg)
	}
	cn, err := NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(cn)
	t.Cleanup(func() { db.Close() })
	return db
}

func seqOf(stmts []string) []string {
	var out []string
	for _, s := range stmts {
		if strings.HasPrefix(s, "SET "+settingRequestSeq) {
			out = append(out, strings.TrimPrefix(s, "SET "+settingRequestSeq+" = "))
		}
	}
	return out
}

// TestRequestIDResentOnOutcomeUnknown checks that a write answered with
// 40003 is resent under the same request id, and that the id is pipelined
// before each write.
func TestRequestIDResentOnOutcomeUnknown(t *testing.T) {
	var inserts atomic.Int32
	f := newFake(t, func(sql string, _ [][]byte) (fakeResult, bool) {
		if strings.HasPrefix(sql, "INSERT") && inserts.Add(1) == 1 {
			return fakeResult{err: codeOutcomeUnknown}, true
		}
		return fakeResult{tag: "INSERT 0 1"}, true
	})
	db := fakeDB(t, "raftsql://u@"+f.addr()+"/db?sslmode=prefer", nil)
	res, err := db.Exec("INSERT INTO t VALUES ($1)", 1)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Errorf("RowsAffected = %d, want 1", n)
	}
	if _, err := db.Exec("INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(seqOf(f.statements()), ","), "1,1,2"; got != want {
		t.Errorf("request ids sent: %s, want %s (log %q)", got, want, f.statements())
	}
	rows, err := db.Query("SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if got := len(seqOf(f.statements())); got != 3 {
		t.Errorf("a read carried a request id")
	}
	f.mu.Lock()
	id := f.params[0][paramClientID]
	f.mu.Unlock()
	if n, err := strconv.ParseUint(id, 10, 64); err != nil || n == 0 {
		t.Errorf("startup %s = %q, want a non-zero decimal uint64", paramClientID, id)
	}
}

// TestResendOfParsedStatement checks that a write whose named statement
// the server parsed before answering 40003 is resent with Bind and Execute
// alone: the server keeps the statement, and Postgres refuses to parse a
// name that exists (42P05), which would end the write in an error that
// hides it may have been applied.
func TestResendOfParsedStatement(t *testing.T) {
	var inserts atomic.Int32
	f := newFake(t, func(sql string, _ [][]byte) (fakeResult, bool) {
		// The second run is the first as a named statement (stmtCache).
		if strings.HasPrefix(sql, "INSERT") && inserts.Add(1) == 2 {
			return fakeResult{err: codeOutcomeUnknown}, true
		}
		return fakeResult{tag: "INSERT 0 1"}, true
	})
	db := fakeDB(t, "raftsql://u@"+f.addr()+"/db?sslmode=disable&retry_timeout=2s", nil)
	db.SetMaxOpenConns(1)
	for i := 1; i <= 3; i++ {
		if _, err := db.Exec("INSERT INTO t VALUES ($1)", i); err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	if got, want := strings.Join(seqOf(f.statements()), ","), "1,2,2,3"; got != want {
		t.Errorf("request ids sent: %s, want %s (log %q)", got, want, f.statements())
	}
}

// TestResendAfterAdminShutdown checks that a write a node answers with
// 57P01 as it shuts down is resent, under the same request id, on another
// node.
func TestResendAfterAdminShutdown(t *testing.T) {
	closing := newFake(t, func(sql string, _ [][]byte) (fakeResult, bool) {
		if strings.HasPrefix(sql, "INSERT") {
			return fakeResult{err: codeAdminShutdown}, true
		}
		return fakeResult{}, true
	})
	alive := newFake(t, func(sql string, _ [][]byte) (fakeResult, bool) { return fakeResult{tag: "INSERT 0 1"}, true })
	var dials atomic.Int32
	db := fakeDB(t, "raftsql://u@a:1,b:2/db?sslmode=disable", func(c *Config) {
		c.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			target := alive.addr()
			if dials.Add(1) == 1 {
				target = closing.addr()
			}
			var d net.Dialer
			return d.DialContext(ctx, network, target)
		}
	})
	if _, err := db.Exec("INSERT INTO t VALUES ($1)", 1); err != nil {
		t.Fatalf("insert: %v", err)
	}
	c, a := seqOf(closing.statements()), seqOf(alive.statements())
	if len(c) != 1 || len(a) != 1 || c[0] != a[0] {
		t.Errorf("request ids: closing node %v, live node %v; want the same single id on both", c, a)
	}
}

// TestResendAfterConnectionLoss checks that a write whose connection dies
// after it was sent is resent, under the same request id, on another node.
func TestResendAfterConnectionLoss(t *testing.T) {
	dead := newFake(t, func(sql string, _ [][]byte) (fakeResult, bool) {
		return fakeResult{}, !strings.HasPrefix(sql, "INSERT")
	})
	alive := newFake(t, func(sql string, _ [][]byte) (fakeResult, bool) { return fakeResult{tag: "INSERT 0 1"}, true })
	var dials atomic.Int32
	db := fakeDB(t, "raftsql://u@a:1,b:2/db?sslmode=disable", func(c *Config) {
		c.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			target := alive.addr()
			if dials.Add(1) == 1 {
				target = dead.addr()
			}
			var d net.Dialer
			return d.DialContext(ctx, network, target)
		}
	})
	if _, err := db.Exec("INSERT INTO t VALUES ($1)", 1); err != nil {
		t.Fatalf("insert: %v", err)
	}
	d, a := seqOf(dead.statements()), seqOf(alive.statements())
	if len(d) != 1 || len(a) != 1 || d[0] != a[0] {
		t.Errorf("request ids: dead node %v, live node %v; want the same single id on both", d, a)
	}
	if got := len(alive.statements()); got != 2 {
		t.Errorf("live node ran %q, want the SET and the INSERT", alive.statements())
	}
}

// TestNoLeaderRetried checks that 57P03 is retried until it clears.
func TestNoLeaderRetried(t *testing.T) {
	var n atomic.Int32
	f := newFake(t, func(sql string, _ [][]byte) (fakeResult, bool) {
		if strings.HasPrefix(sql, "UPDATE") && n.Add(1) <= 3 {
			return fakeResult{err: codeNoLeader}, true
		}
		return fakeResult{tag: "UPDATE 4"}, true
	})
	db := fakeDB(t, "raftsql://u@"+f.addr()+"/db?sslmode=disable", nil)
	res, err := db.Exec("UPDATE t SET a = 1")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := res.RowsAffected(); got != 4 || n.Load() != 4 {
		t.Errorf("RowsAffected = %d after %d attempts; want 4 after 4", got, n.Load())
	}
	// With a short retry budget the error comes through.
	n.Store(-1000)
	db2 := fakeDB(t, "raftsql://u@"+f.addr()+"/db?sslmode=disable&retry_timeout=100ms", nil)
	_, err = db2.Exec("UPDATE t SET a = 1")
	var perr *Error
	if !errors.As(err, &perr) || perr.Code != codeNoLeader || !perr.Temporary() || errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("got %v, want a temporary 57P03 *Error (nothing was applied)", err)
	}
}

// TestOutcomeUnknownAfterDeadline checks that a write the cluster keeps
// answering 40003 for ends in ErrOutcomeUnknown, with the server's error.
func TestOutcomeUnknownAfterDeadline(t *testing.T) {
	f := newFake(t, func(sql string, _ [][]byte) (fakeResult, bool) {
		if strings.HasPrefix(sql, "DELETE") {
			return fakeResult{err: codeOutcomeUnknown}, true
		}
		return fakeResult{}, true
	})
	db := fakeDB(t, "raftsql://u@"+f.addr()+"/db?sslmode=disable&retry_timeout=200ms", nil)
	_, err := db.Exec("DELETE FROM t WHERE a = $1", 1)
	var perr *Error
	if !errors.Is(err, ErrOutcomeUnknown) || !errors.As(err, &perr) || perr.Code != codeOutcomeUnknown {
		t.Fatalf("got %v, want ErrOutcomeUnknown wrapping the 40003 *Error", err)
	}
	ids := seqOf(f.statements())
	if len(ids) < 2 {
		t.Fatalf("sent %d times, want resends", len(ids))
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("resends used request ids %v, want one id", ids)
		}
	}
}

// TestCommitOutcomeUnknown checks that a COMMIT whose connection breaks is
// reported as ErrOutcomeUnknown, never retried, and carries a request id.
func TestCommitOutcomeUnknown(t *testing.T) {
	f := newFake(t, func(sql string, _ [][]byte) (fakeResult, bool) {
		return fakeResult{}, sql != "COMMIT"
	})
	db := fakeDB(t, "raftsql://u@"+f.addr()+"/db?sslmode=disable", nil)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO t VALUES ($1)", 1); err != nil {
		t.Fatal(err)
	}
	err = tx.Commit()
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("commit: got %v, want ErrOutcomeUnknown", err)
	}
	want := []string{"BEGIN", "INSERT INTO t VALUES ($1)", "SET raftsql.request_seq = 1", "COMMIT"}
	if got := f.statements(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("server saw %q, want %q", got, want)
	}
	// The pool recovers with a new connection.
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
}

// brokenWrites is a net.Conn whose writes fail without sending anything
// once broken is set.
type brokenWrites struct {
	net.Conn
	broken *atomic.Bool
}

func (c brokenWrites) Write(b []byte) (int, error) {
	if c.broken.Load() {
		return 0, errors.New("simulated write failure")
	}
	return c.Conn.Write(b)
}

// TestBadConnWhenNothingSent checks that database/sql retries a statement
// on a new connection when the old one failed before sending anything.
func TestBadConnWhenNothingSent(t *testing.T) {
	f := newFake(t, nil)
	var first atomic.Bool
	var n atomic.Int32
	db := fakeDB(t, "raftsql://u@"+f.addr()+"/db?sslmode=disable", func(c *Config) {
		c.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			nc, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if n.Add(1) == 1 {
				return brokenWrites{nc, &first}, nil
			}
			return nc, nil
		}
	})
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	first.Store(true)
	if _, err := db.Exec("INSERT INTO t VALUES (1)"); err != nil {
		t.Fatalf("insert after the pooled connection broke: %v", err)
	}
	if got := seqOf(f.statements()); len(got) != 1 {
		t.Errorf("request ids sent: %v, want one", got)
	}
}

// TestFollowLeader checks that a connection moves to the leader the node
// names, and that reads at read_consistency=none carry the highest write
// index seen.
func TestFollowLeader(t *testing.T) {
	leader := newFake(t, func(sql string, _ [][]byte) (fakeResult, bool) {
		if strings.HasPrefix(sql, "INSERT") {
			return fakeResult{tag: "INSERT 0 1", status: map[string]string{paramWriteIndex: "42"}}, true
		}
		return fakeResult{rows: []string{"x"}, tag: "SELECT 1"}, true
	})
	_, port, _ := net.SplitHostPort(leader.addr())
	follower := newFake(t, nil)
	follower.startup = map[string]string{paramLeaderPGAddr: "0.0.0.0:" + port}
	leader.startup = map[string]string{paramLeaderPGAddr: leader.addr()}

	db := fakeDB(t, "raftsql://u@"+follower.addr()+"/db?sslmode=disable", nil)
	if _, err := db.Exec("INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if got := follower.statements(); len(got) != 0 {
		t.Errorf("follower ran %q; the connection should have moved to the leader", got)
	}
	if got := len(leader.statements()); got != 2 {
		t.Errorf("leader ran %q, want SET and INSERT", leader.statements())
	}

	none := fakeDB(t, "raftsql://u@"+leader.addr()+"/db?sslmode=disable&read_consistency=none", nil)
	if _, err := none.Exec("INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	var v string
	if err := none.QueryRow("SELECT v FROM t").Scan(&v); err != nil || v != "x" {
		t.Fatalf("select: %q, %v", v, err)
	}
	log := leader.statements()
	if got := log[len(log)-2]; got != "SET raftsql.min_read_index = 42" {
		t.Errorf("before the read the server saw %q, want SET raftsql.min_read_index = 42 (log %q)", got, log)
	}
	f := leader.params[len(leader.params)-1]
	if f[paramReadConsistency] != None {
		t.Errorf("startup %s = %q, want none", paramReadConsistency, f[paramReadConsistency])
	}
}

// TestCancel checks that an ended context sends a CancelRequest and that
// the connection stays usable.
func TestCancel(t *testing.T) {
	f := newFake(t, func(sql string, _ [][]byte) (fakeResult, bool) {
		return fakeResult{wait: strings.Contains(sql, "slow")}, true
	})
	db := fakeDB(t, "raftsql://u@"+f.addr()+"/db?sslmode=disable", nil)
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := db.QueryContext(ctx, "SELECT slow")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want DeadlineExceeded", err)
	}
	var perr *Error
	if !errors.As(err, &perr) || perr.Code != codeQueryCanceled {
		t.Errorf("got %v, want the server's 57014 wrapped", err)
	}
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	if n := f.conns.Load(); n != 1 {
		t.Errorf("%d connections; the cancelled one should have been reused", n)
	}
}

func TestPasswordAuth(t *testing.T) {
	for _, md5 := range []bool{false, true} {
		t.Run(fmt.Sprint("md5=", md5), func(t *testing.T) {
			f := newFake(t, nil)
			f.password, f.md5 = "s3cr et", md5
			good := fakeDB(t, "raftsql://alice:s3cr%20et@"+f.addr()+"/db?sslmode=disable", nil)
			if err := good.Ping(); err != nil {
				t.Fatalf("right password: %v", err)
			}
			bad := fakeDB(t, "raftsql://alice:nope@"+f.addr()+"/db?sslmode=disable", nil)
			var perr *Error
			if err := bad.Ping(); !errors.As(err, &perr) || perr.Code != "28P01" {
				t.Fatalf("wrong password: got %v, want 28P01", err)
			}
		})
	}
}

func TestRequireTLSRefused(t *testing.T) {
	f := newFake(t, nil)
	db := fakeDB(t, "raftsql://u@"+f.addr()+"/db?sslmode=require", nil)
	if err := db.Ping(); err == nil || !strings.Contains(err.Error(), "does not support TLS") {
		t.Fatalf("got %v, want a refusal to go on without TLS", err)
	}
}
