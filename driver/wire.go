package driver

import (
	"context"
	"crypto/tls"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// wireConn is one network connection to one node, speaking the Postgres
// protocol v3. It is used by one goroutine at a time; only the cancel
// watcher touches it concurrently, through the net.Conn's deadline.
type wireConn struct {
	netConn net.Conn
	fe      *pgproto3.Frontend
	addr    string // host:port dialed
	cl      *connector
	tls     bool

	pid      uint32
	secret   []byte
	txStatus byte   // from the last ReadyForQuery: 'I', 'T' or 'E'
	leader   string // last raftsql.leader_pg_addr, normalised
	params   map[string]string

	// prepared maps statement names to the parameter OIDs they were parsed
	// with on this connection.
	prepared map[string][]uint32
	// closeLater lists statements to close in front of the next request.
	closeLater []string
	// parseCompletes counts the ParseComplete messages received: a call
	// that fails tells by it whether its Parse took effect.
	parseCompletes int

	broken bool // the connection is unusable
}

// Names of the ParameterStatus messages and settings of the server
// contract.
const (
	paramClientID        = "raftsql.client_id"
	paramReadConsistency = "raftsql.read_consistency"
	paramLeaderPGAddr    = "raftsql.leader_pg_addr"
	paramWriteIndex      = "raftsql.write_index"
	settingRequestSeq    = "raftsql.request_seq"
	settingMinReadIndex  = "raftsql.min_read_index"
)

const sslRequestCode = 80877103

// dialWire opens a connection to addr and completes startup and
// authentication.
func dialWire(ctx context.Context, cl *connector, addr string) (_ *wireConn, err error) {
	cfg := &cl.cfg
	ctx, cancel := context.WithTimeout(ctx, cfg.connectTimeout())
	defer cancel()
	nc, err := cl.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			nc.Close()
		}
	}()
	stopDeadline := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stopDeadline()
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	w := &wireConn{addr: addr, cl: cl, params: map[string]string{}, prepared: map[string][]uint32{}, txStatus: 'I'}
	sc, err := w.negotiateTLS(ctx, nc)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	nc = sc
	w.netConn = nc
	w.fe = pgproto3.NewFrontend(nc, nc)
	if err := w.startup(); err != nil {
		return nil, ctxErr(ctx, err)
	}
	if !stopDeadline() {
		return nil, ctx.Err()
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	return w, nil
}

// ctxErr prefers the context's error over the I/O error it caused.
func ctxErr(ctx context.Context, err error) error {
	if ce := ctx.Err(); ce != nil {
		return fmt.Errorf("raftsql: %w (%v)", ce, err)
	}
	return err
}

func (w *wireConn) negotiateTLS(ctx context.Context, nc net.Conn) (net.Conn, error) {
	cfg := &w.cl.cfg
	mode := cfg.sslMode()
	if mode == SSLDisable {
		return nc, nil
	}
	host, _, _ := net.SplitHostPort(w.addr)
	tc, err := cfg.tlsConfig(host)
	if err != nil {
		return nil, err
	}
	var req [8]byte
	binary.BigEndian.PutUint32(req[0:], 8)
	binary.BigEndian.PutUint32(req[4:], sslRequestCode)
	if _, err := nc.Write(req[:]); err != nil {
		return nil, err
	}
	var resp [1]byte
	if _, err := io.ReadFull(nc, resp[:]); err != nil {
		return nil, err
	}
	switch resp[0] {
	case 'S':
		tlsConn := tls.Client(nc, tc)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("raftsql: TLS handshake with %s: %w", w.addr, err)
		}
		w.tls = true
		return tlsConn, nil
	case 'N':
		if mode == SSLPrefer {
			return nc, nil
		}
		return nil, fmt.Errorf("raftsql: server %s does not support TLS (sslmode=%s)", w.addr, mode)
	}
	return nil, fmt.Errorf("raftsql: unexpected answer %q to SSLRequest from %s", resp[0], w.addr)
}

func (w *wireConn) startup() error {
	cfg := &w.cl.cfg
	params := map[string]string{}
	for k, v := range cfg.RuntimeParams {
		params[k] = v
	}
	user := cfg.User
	if user == "" {
		if user = os.Getenv("USER"); user == "" {
			user = "postgres"
		}
	}
	params["user"] = user
	if cfg.Database != "" {
		params["database"] = cfg.Database
	}
	if _, ok := params["client_encoding"]; !ok {
		params["client_encoding"] = "UTF8"
	}
	params[paramClientID] = strconv.FormatUint(w.cl.clientID, 10)
	if cfg.ReadConsistency != "" {
		params[paramReadConsistency] = cfg.ReadConsistency
	}
	w.fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: params})
	if err := w.fe.Flush(); err != nil {
		return err
	}
	var scram *scramClient
	for {
		msg, err := w.recv()
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.AuthenticationOk:
		case *pgproto3.AuthenticationCleartextPassword:
			w.fe.Send(&pgproto3.PasswordMessage{Password: cfg.Password})
			err = w.fe.Flush()
		case *pgproto3.AuthenticationMD5Password:
			w.fe.Send(&pgproto3.PasswordMessage{Password: md5Password(user, cfg.Password, m.Salt)})
			err = w.fe.Flush()
		case *pgproto3.AuthenticationSASL:
			if !slices.Contains(m.AuthMechanisms, scramMechanism) {
				return fmt.Errorf("raftsql: server offers SASL mechanisms %v; only %s is supported", m.AuthMechanisms, scramMechanism)
			}
			if scram, err = newSCRAMClient("", cfg.Password); err != nil {
				return err
			}
			w.fe.Send(&pgproto3.SASLInitialResponse{AuthMechanism: scramMechanism, Data: scram.first()})
			err = w.fe.Flush()
		case *pgproto3.AuthenticationSASLContinue:
			if scram == nil {
				return errors.New("raftsql: unexpected SASL continue from server")
			}
			var final []byte
			if final, err = scram.final(m.Data); err != nil {
				return err
			}
			w.fe.Send(&pgproto3.SASLResponse{Data: final})
			err = w.fe.Flush()
		case *pgproto3.AuthenticationSASLFinal:
			if scram == nil {
				return errors.New("raftsql: unexpected SASL final from server")
			}
			err = scram.verify(m.Data)
		case *pgproto3.AuthenticationGSS:
			return errors.New("raftsql: GSSAPI authentication is not supported")
		case *pgproto3.BackendKeyData:
			w.pid = m.ProcessID
			w.secret = append([]byte(nil), m.SecretKey...)
		case *pgproto3.NegotiateProtocolVersion:
		case *pgproto3.ErrorResponse:
			return serverError(m)
		case *pgproto3.ReadyForQuery:
			return nil
		default:
			return fmt.Errorf("raftsql: unexpected %T during startup", msg)
		}
		if err != nil {
			return err
		}
	}
}

// recv returns the next message that answers a request, handling
// ParameterStatus, notices and notifications on the way. An I/O error or a
// FATAL error marks the connection broken.
func (w *wireConn) recv() (pgproto3.BackendMessage, error) {
	for {
		msg, err := w.fe.Receive()
		if err != nil {
			w.broken = true
			return nil, err
		}
		switch m := msg.(type) {
		case *pgproto3.ParameterStatus:
			w.parameterStatus(m.Name, m.Value)
			continue
		case *pgproto3.NoticeResponse, *pgproto3.NotificationResponse:
			continue
		case *pgproto3.ReadyForQuery:
			w.txStatus = m.TxStatus
		case *pgproto3.ParseComplete:
			w.parseCompletes++
		case *pgproto3.ErrorResponse:
			if m.Severity == "FATAL" || m.Severity == "PANIC" {
				w.broken = true
				return nil, &fatalError{serverError(m)}
			}
		}
		return msg, nil
	}
}

// fatalError is a FATAL ErrorResponse: the server closes the connection
// after it, so it counts as losing the connection.
type fatalError struct{ err *Error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

func (w *wireConn) parameterStatus(name, value string) {
	w.params[name] = value
	switch name {
	case paramLeaderPGAddr:
		w.leader = normaliseAddr(value, w.addr)
		w.cl.setLeader(w.leader)
	case paramWriteIndex:
		if n, err := strconv.ParseUint(value, 10, 64); err == nil {
			w.cl.sawWriteIndex(n)
		}
	}
}

// normaliseAddr fills in the host of an address the server reported when
// it is empty or unspecified (a listener on ":5433" or "0.0.0.0:5433"),
// using the host the client dialed.
func normaliseAddr(reported, dialed string) string {
	if reported == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(reported)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		dh, _, err := net.SplitHostPort(dialed)
		if err != nil {
			return ""
		}
		host = dh
	}
	return net.JoinHostPort(host, port)
}

func serverError(m *pgproto3.ErrorResponse) *Error {
	return &Error{Severity: m.Severity, Code: m.Code, Message: m.Message, Detail: m.Detail, Hint: m.Hint, Position: m.Position,
		SchemaName: m.SchemaName, TableName: m.TableName, ColumnName: m.ColumnName, ConstraintName: m.ConstraintName}
}

// flush writes the buffered messages. sent reports whether any byte may
// have reached the server.
func (w *wireConn) flush() (sent bool, err error) {
	if err := w.fe.Flush(); err != nil {
		w.broken = true
		var safe interface{ SafeToRetry() bool }
		if errors.As(err, &safe) && safe.SafeToRetry() {
			return false, err
		}
		return true, err
	}
	return true, nil
}

// close sends Terminate and closes the socket.
func (w *wireConn) close() {
	if !w.broken {
		w.netConn.SetWriteDeadline(time.Now().Add(time.Second))
		w.fe.Send(&pgproto3.Terminate{})
		w.fe.Flush()
	}
	w.broken = true
	w.netConn.Close()
}

// watch arranges for a CancelRequest when ctx ends before the returned stop
// function is called, followed by a deadline of CancelTimeout on the
// socket so a server that ignores the cancel cannot hang the caller. stop
// reports whether the context ended.
func (w *wireConn) watch(ctx context.Context) (stop func() bool) {
	if ctx.Done() == nil {
		return func() bool { return false }
	}
	var fired atomic.Bool
	done := make(chan struct{})
	stopFn := context.AfterFunc(ctx, func() {
		defer close(done)
		fired.Store(true)
		w.netConn.SetDeadline(time.Now().Add(w.cl.cfg.cancelTimeout()))
		w.sendCancel()
	})
	return func() bool {
		if stopFn() {
			return false
		}
		if fired.Load() {
			<-done
			if !w.broken {
				w.netConn.SetDeadline(time.Time{})
			}
			return true
		}
		return false
	}
}

// sendCancel sends a CancelRequest for this connection on a new connection
// to the same node.
func (w *wireConn) sendCancel() {
	if w.pid == 0 && len(w.secret) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.cl.cfg.cancelTimeout())
	defer cancel()
	nc, err := w.cl.dial(ctx, w.addr)
	if err != nil {
		return
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(w.cl.cfg.cancelTimeout()))
	buf, err := (&pgproto3.CancelRequest{ProcessID: w.pid, SecretKey: w.secret}).Encode(nil)
	if err != nil {
		return
	}
	if _, err := nc.Write(buf); err != nil {
		return
	}
	// The server closes the connection when it has handled the request.
	io.Copy(io.Discard, nc)
}

// field is one result column.
type field struct {
	name   string
	oid    uint32
	format int16
}

func fieldsOf(rd *pgproto3.RowDescription) []field {
	fs := make([]field, len(rd.Fields))
	for i, f := range rd.Fields {
		fs[i] = field{name: string(f.Name), oid: f.DataTypeOID, format: f.Format}
	}
	return fs
}

// call is one request: optional settings pipelined first, then one
// statement, ending in one Sync (extended) or as Query messages (simple).
type call struct {
	prefix []string // SET statements sent before the statement
	sql    string
	simple bool // send sql as a simple Query (no parameters)

	name          string   // prepared statement name, "" for unnamed
	parse         bool     // send Parse
	closeFirst    bool     // send Close for name before Parse
	oids          []uint32 // parameter OIDs for Parse
	params        [][]byte
	paramFormats  []int16
	resultFormats []int16
}

// send writes c and returns the number of ReadyForQuery messages that will
// answer it.
func (w *wireConn) send(c *call) (rfqs int, sent bool, err error) {
	fe := w.fe
	if c.simple {
		for _, p := range c.prefix {
			fe.Send(&pgproto3.Query{String: p})
		}
		fe.Send(&pgproto3.Query{String: c.sql})
		rfqs = len(c.prefix) + 1
	} else {
		for _, name := range w.closeLater {
			fe.SendClose(&pgproto3.Close{ObjectType: 'S', Name: name})
		}
		w.closeLater = w.closeLater[:0]
		for _, p := range c.prefix {
			fe.SendParse(&pgproto3.Parse{Query: p})
			fe.SendBind(&pgproto3.Bind{})
			fe.SendExecute(&pgproto3.Execute{})
		}
		if c.closeFirst {
			fe.SendClose(&pgproto3.Close{ObjectType: 'S', Name: c.name})
		}
		if c.parse {
			fe.SendParse(&pgproto3.Parse{Name: c.name, Query: c.sql, ParameterOIDs: c.oids})
		}
		fe.SendBind(&pgproto3.Bind{PreparedStatement: c.name, ParameterFormatCodes: c.paramFormats, Parameters: c.params, ResultFormatCodes: c.resultFormats})
		fe.SendDescribe(&pgproto3.Describe{ObjectType: 'P'})
		fe.SendExecute(&pgproto3.Execute{})
		fe.SendSync(&pgproto3.Sync{})
		rfqs = 1
	}
	sent, err = w.flush()
	return rfqs, sent, err
}

// result is a statement's complete outcome.
type result struct {
	fields []field
	rows   [][]driver.Value // only when collected
	tag    string           // the statement's CommandComplete tag
}

// readAll reads the answers to a sent call up to its last ReadyForQuery.
// It collects rows when collect is set. The returned *Error is the first
// ErrorResponse; err is an I/O or protocol failure (the connection is then
// broken).
func (w *wireConn) readAll(rfqs int, collect bool) (res result, perr *Error, err error) {
	var fields []field
	for rfqs > 0 {
		msg, err := w.recv()
		if err != nil {
			return res, perr, err
		}
		switch m := msg.(type) {
		case *pgproto3.RowDescription:
			fields = fieldsOf(m)
			res.fields = fields
			res.rows = nil
		case *pgproto3.NoData:
			fields = nil
		case *pgproto3.DataRow:
			if collect {
				row, derr := decodeRow(fields, m.Values)
				if derr != nil {
					if perr == nil {
						perr = &Error{Severity: "ERROR", Code: codeProtocolViolation, Message: derr.Error()}
					}
					continue
				}
				res.rows = append(res.rows, row)
			}
		case *pgproto3.CommandComplete:
			res.tag = string(m.CommandTag)
		case *pgproto3.EmptyQueryResponse:
			res.tag = ""
		case *pgproto3.ErrorResponse:
			if perr == nil {
				perr = serverError(m)
			}
		case *pgproto3.ReadyForQuery:
			if rfqs--; rfqs > 0 {
				// A setting sent as its own simple Query ahead of the
				// statement: the statement ran regardless, and its
				// outcome is what counts.
				perr = nil
			}
		case *pgproto3.ParseComplete, *pgproto3.BindComplete, *pgproto3.CloseComplete,
			*pgproto3.ParameterDescription, *pgproto3.PortalSuspended:
		case *pgproto3.CopyInResponse:
			// COPY FROM STDIN is not supported through database/sql.
			w.fe.Send(&pgproto3.CopyFail{Message: "COPY FROM STDIN is not supported by the raftsql driver"})
			if _, err := w.flush(); err != nil {
				return res, perr, err
			}
		case *pgproto3.CopyOutResponse, *pgproto3.CopyData, *pgproto3.CopyDone:
		default:
			w.broken = true
			return res, perr, fmt.Errorf("raftsql: unexpected %T from server", msg)
		}
	}
	return res, perr, nil
}

func decodeRow(fields []field, values [][]byte) ([]driver.Value, error) {
	if len(values) != len(fields) {
		return nil, fmt.Errorf("raftsql: server sent %d values for %d columns", len(values), len(fields))
	}
	row := make([]driver.Value, len(values))
	for i, v := range values {
		dv, err := decodeValue(fields[i].oid, fields[i].format, v)
		if err != nil {
			return nil, fmt.Errorf("raftsql: column %q: %w", fields[i].name, err)
		}
		row[i] = dv
	}
	return row, nil
}

// rowsAffected reads the count from a command tag ("INSERT 0 3",
// "UPDATE 2", "SELECT 5").
func rowsAffected(tag string) int64 {
	i := len(tag)
	for i > 0 && tag[i-1] >= '0' && tag[i-1] <= '9' {
		i--
	}
	if i == len(tag) || i == 0 || tag[i-1] != ' ' {
		return 0
	}
	n, _ := strconv.ParseInt(tag[i:], 10, 64)
	return n
}
