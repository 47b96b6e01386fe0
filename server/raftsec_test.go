package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/raft/nodecert/nodecerttest"
	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// The node-to-node handshake as raft/handshake.go defines it, written by
// hand here as an outsider would: kind, version, id length, id; the answer
// is version, id length, id.
const handshakeVersion = 2

// outsider dials a node's raft port. With cert set it speaks TLS first,
// presenting cert and trusting any server.
type outsider struct {
	cert *tls.Certificate
	id   string // the id it claims in the handshake
}

func (o outsider) String() string {
	if o.cert == nil {
		return "plain TCP as " + o.id
	}
	return "TLS as " + o.id
}

// dial opens a connection of kind to addr and runs the handshake; an error
// means the node refused it.
func (o outsider) dial(addr string, kind byte) (net.Conn, error) {
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	raw.SetDeadline(time.Now().Add(5 * time.Second))
	c := raw
	if o.cert != nil {
		tc := tls.Client(raw, &tls.Config{Certificates: []tls.Certificate{*o.cert}, InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
		if err := tc.Handshake(); err != nil {
			raw.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		c = tc
	}
	hello := append([]byte{kind, handshakeVersion}, binary.BigEndian.AppendUint16(nil, uint16(len(o.id)))...)
	hello = append(hello, o.id...)
	if _, err := c.Write(hello); err != nil {
		c.Close()
		return nil, err
	}
	var hdr [3]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		c.Close()
		return nil, fmt.Errorf("no answer to the handshake: %w", err)
	}
	peer := make([]byte, binary.BigEndian.Uint16(hdr[1:]))
	if _, err := io.ReadFull(c, peer); err != nil || len(peer) == 0 {
		c.Close()
		return nil, fmt.Errorf("handshake answer %q: %v", peer, err)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// outsiderStream lets hashicorp's own transport speak Raft RPCs over an
// outsider's connections, so that the AppendEntries below is encoded
// exactly as a leader's would be.
type outsiderStream struct {
	o      outsider
	closed chan struct{}
	once   sync.Once
}

func (s *outsiderStream) Accept() (net.Conn, error) { <-s.closed; return nil, net.ErrClosed }
func (s *outsiderStream) Close() error              { s.once.Do(func() { close(s.closed) }); return nil }
func (s *outsiderStream) Addr() net.Addr            { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (s *outsiderStream) Dial(addr hraft.ServerAddress, _ time.Duration) (net.Conn, error) {
	return s.o.dial(string(addr), 'R')
}

// appendEntry sends node i a hand-built AppendEntries, as if from its
// leader in its current term, carrying cmd right after its last entry and
// committing it.
func appendEntry(t *testing.T, c *servertest.Cluster, i int, o outsider, cmd []byte) (*hraft.AppendEntriesResponse, error) {
	t.Helper()
	st := c.Node(i).LocalStatus()
	stream := &outsiderStream{o: o, closed: make(chan struct{})}
	trans := hraft.NewNetworkTransportWithConfig(&hraft.NetworkTransportConfig{
		Stream: stream, MaxPool: 1, Timeout: 5 * time.Second, Logger: hclog.NewNullLogger(),
	})
	defer trans.Close()
	req := &hraft.AppendEntriesRequest{
		RPCHeader:         hraft.RPCHeader{ProtocolVersion: hraft.ProtocolVersionMax, ID: []byte(st.LeaderID), Addr: []byte(st.LeaderAddr)},
		Term:              st.Term,
		PrevLogEntry:      st.LastIndex,
		PrevLogTerm:       st.Term,
		Entries:           []*hraft.Log{{Index: st.LastIndex + 1, Term: st.Term, Type: hraft.LogCommand, Data: cmd}},
		LeaderCommitIndex: st.LastIndex + 1,
	}
	var resp hraft.AppendEntriesResponse
	err := trans.AppendEntries(hraft.ServerID(st.ID), hraft.ServerAddress(c.Config(i).RaftAddr), req, &resp)
	return &resp, err
}

func evilInsert() []byte {
	return command.Encode(&command.Command{Kind: command.KindExecute, Statements: []command.Statement{{SQL: "INSERT INTO t (v) VALUES ('evil')"}}})
}

// logBuffer collects a cluster's logs for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) waitFor(t *testing.T, what string) {
	t.Helper()
	servertest.Eventually(t, 20*time.Second, "log line "+what, func() error {
		if !strings.Contains(b.String(), what) {
			return errors.New("not logged")
		}
		return nil
	})
}

func logTo(b *logBuffer) func(int, *server.Config) {
	return func(_ int, cfg *server.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
}

// noEvil checks that no node holds the outsiders' row and that all agree.
func noEvil(t *testing.T, c *servertest.Cluster) {
	t.Helper()
	c.EnsureSame()
	for i := 0; i < c.Size(); i++ {
		d, err := c.Node(i).Dump(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(d, "evil") {
			t.Fatalf("node %d holds a row an outsider wrote:\n%s", i, d)
		}
	}
}

// TestRaftPortRefusesOutsiders attacks the raft port of a 3-node cluster
// with node TLS: plain TCP Raft and side-channel handshakes, a hand-built
// AppendEntries, a self-signed certificate, a certificate of another CA,
// and a member's valid certificate presenting another node's id. Every
// attempt is refused before it reaches Raft or the side channel, nothing is
// applied, and the nodes stay identical.
func TestRaftPortRefusesOutsiders(t *testing.T) {
	var logs logBuffer
	c := servertest.NewCluster(t, 3, servertest.Options{TLS: true, Configure: logTo(&logs)})
	leader := c.Leader()
	f := c.Follower()
	conn := connect(t, c, f)
	mustExec(t, conn, "CREATE TABLE t (v TEXT)")
	mustExec(t, conn, "INSERT INTO t VALUES ('good')")
	c.WaitSynced()

	member := c.Certs().TLSConfig(servertest.NodeID(2)).Certificates[0]
	selfSigned := nodecerttest.SelfSigned(t, servertest.NodeID(leader))
	otherCA := nodecerttest.OtherCA(t, servertest.NodeID(leader))
	outsiders := []outsider{
		{id: servertest.NodeID(leader)},                    // plain TCP claiming the leader's id
		{id: "evil1"},                                      // plain TCP, a stranger
		{cert: &selfSigned, id: servertest.NodeID(leader)}, // self-signed, naming the leader
		{cert: &otherCA, id: servertest.NodeID(leader)},    // another CA's certificate
		{cert: &member, id: servertest.NodeID(leader)},     // n3's valid certificate, claiming the leader's id
	}
	for _, o := range outsiders {
		for i := 0; i < c.Size(); i++ {
			addr := c.Config(i).RaftAddr
			for _, kind := range []byte{'R', 'F'} {
				if conn, err := o.dial(addr, kind); err == nil {
					conn.Close()
					t.Errorf("%s: %c connection to node %d accepted", o, kind, i)
				}
			}
		}
		if resp, err := appendEntry(t, c, f, o, evilInsert()); err == nil {
			t.Errorf("%s: AppendEntries to node %d answered: %+v", o, f, resp)
		}
	}
	logs.waitFor(t, "TLS handshake failed")
	logs.waitFor(t, "the peer claims another node's id")

	// The member's certificate gets in under its own id: it is a member.
	if conn, err := (outsider{cert: &member, id: servertest.NodeID(2)}).dial(c.Config(leader).RaftAddr, 'F'); err != nil {
		t.Errorf("a member's certificate under its own id was refused: %v", err)
	} else {
		conn.Close()
	}

	mustExec(t, conn, "INSERT INTO t VALUES ('after')")
	noEvil(t, c)
	if n := count(t, connect(t, c, leader), "SELECT count(*) FROM t"); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
}

// TestInsecureRaftPortLetsOutsidersIn is the control of the test above:
// without node TLS the same outsiders get in, and a hand-built
// AppendEntries is applied by the follower alone, so the nodes diverge.
// That is what a non-loopback node without TLS refuses to risk.
func TestInsecureRaftPortLetsOutsidersIn(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	leader := c.Leader()
	f := c.Follower()
	conn := connect(t, c, leader)
	mustExec(t, conn, "CREATE TABLE t (v TEXT)")
	mustExec(t, conn, "INSERT INTO t VALUES ('good')")
	c.WaitSynced()

	for _, o := range []outsider{{id: servertest.NodeID(leader)}, {id: "evil1"}} {
		for _, kind := range []byte{'R', 'F'} {
			conn, err := o.dial(c.Config(f).RaftAddr, kind)
			if err != nil {
				t.Fatalf("%s: %c connection refused without TLS: %v", o, kind, err)
			}
			conn.Close()
		}
	}
	resp, err := appendEntry(t, c, f, outsider{id: "evil1"}, evilInsert())
	if err != nil || !resp.Success {
		t.Fatalf("AppendEntries without TLS: %+v, %v; want it accepted", resp, err)
	}
	servertest.Eventually(t, 10*time.Second, "the follower applies the forged entry", func() error {
		d, err := c.Node(f).Dump(context.Background())
		if err != nil {
			return err
		}
		if !strings.Contains(d, "evil") {
			return errors.New("not applied")
		}
		return nil
	})
	d, err := c.Node(leader).Dump(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(d, "evil") {
		t.Fatalf("the leader holds the forged row too; expected the follower alone to diverge")
	}
}

// joinRequest sends a join request of the side-channel protocol (server/
// forward.go), written by hand as a certificate holder with its own client
// could: frame [u32 length][u8 type 4][id][addr], strings uvarint
// length-prefixed; the answer is [u32 length][u8 status][payload]. It is
// the one place these tests depend on that protocol's framing.
func joinRequest(conn net.Conn, id, addr string) (ok bool, msg string, err error) {
	// The side channel's envelope, version 1: magic, version, type (4,
	// join), request id, identity (a node, named as the certificate
	// holder), then the payload.
	p := []byte{0xA7, 1, 4}
	p = binary.BigEndian.AppendUint64(p, 1)
	p = append(p, 1)
	p = binary.AppendUvarint(p, uint64(len("n5")))
	p = append(p, "n5"...)
	p = append(p, 0)
	p = binary.AppendUvarint(p, uint64(len(id)))
	p = append(p, id...)
	p = binary.AppendUvarint(p, uint64(len(addr)))
	p = append(p, addr...)
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(p)))
	frame = append(frame, p...)
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := conn.Write(frame); err != nil {
		return false, "", err
	}
	var hdr [4]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return false, "", err
	}
	answer := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(conn, answer); err != nil {
		return false, "", err
	}
	if len(answer) < 11 {
		return false, "", fmt.Errorf("short answer %q", answer)
	}
	// magic, version, status, request id, then the payload.
	return answer[2] == 0, string(answer[11:]), nil
}

// newNode starts a node beside cluster c that joins through join.
func newNode(t *testing.T, id string, join string, configure func(*server.Config)) *server.Node {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.ID = id
	cfg.DataDir = t.TempDir()
	cfg.RaftAddr = freeAddr(t)
	cfg.PGAddr = freeAddr(t)
	cfg.HeartbeatTimeout = 500 * time.Millisecond
	cfg.ElectionTimeout = 500 * time.Millisecond
	cfg.LeaderLeaseTimeout = 250 * time.Millisecond
	cfg.ReadConns = 2
	cfg.Join = []string{join}
	if configure != nil {
		configure(&cfg)
	}
	n, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Open(context.Background()); err != nil {
		t.Fatalf("open %s: %v", id, err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func freeAddr(t *testing.T) string { return servertest.FreeAddr(t) }

// members returns the leader's view of the configuration as id -> address.
func members(t *testing.T, c *servertest.Cluster) map[string]string {
	t.Helper()
	st, err := c.Node(c.Leader()).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, ms := range st.Members {
		m[ms.ID] = ms.Addr
	}
	return m
}

func sameMembers(t *testing.T, c *servertest.Cluster, want map[string]string) {
	t.Helper()
	got := members(t, c)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("members %v, want %v", got, want)
	}
}

// TestJoinWithTLS: a node with a certificate of the cluster CA joins; one
// without a certificate, one with another CA's, and a certificate holder
// asking to join under another id or at a member's address are refused,
// and the membership stays as it was.
func TestJoinWithTLS(t *testing.T) {
	var logs logBuffer
	c := servertest.NewCluster(t, 3, servertest.Options{TLS: true, Configure: logTo(&logs)})
	before := members(t, c)
	f := c.Follower()
	via := c.Config(f).RaftAddr
	certs := c.Certs()

	// No certificate: its join never gets past the TLS handshake.
	newNode(t, "plain", via, nil)
	logs.waitFor(t, "TLS handshake failed")
	// Another CA's certificate, naming an id the CA never issued.
	other := nodecerttest.New(t, "stranger")
	newNode(t, "stranger", via, func(cfg *server.Config) {
		cfg.RaftTLSCertFile, cfg.RaftTLSKeyFile = other.Files("stranger")
		cfg.RaftTLSCAFile = other.CAFile()
	})
	servertest.Eventually(t, 20*time.Second, "the stranger's handshake refused", func() error {
		if strings.Count(logs.String(), "TLS handshake failed") < 2 {
			return errors.New("not yet")
		}
		return nil
	})
	sameMembers(t, c, before)

	// A certificate holder asking to join as someone else, or at a
	// member's address, over the side channel.
	n5 := certs.TLSConfig("n5").Certificates[0]
	conn, err := (outsider{cert: &n5, id: "n5"}).dial(via, 'F')
	if err != nil {
		t.Fatalf("the side channel refused a valid certificate: %v", err)
	}
	defer conn.Close()
	if ok, msg, err := joinRequest(conn, "evil1", freeAddr(t)); err != nil || ok {
		t.Errorf("join as evil1 with n5's certificate: ok=%v %q %v; want refused", ok, msg, err)
	} else if !strings.Contains(msg, "only as itself") {
		t.Errorf("refusal %q does not say why", msg)
	}
	logs.waitFor(t, "join refused: a node asked to join under another id")
	// A real node with a valid certificate that advertises a member's
	// address as its own: the leader finds the member there, not it.
	victim := c.Follower()
	newNode(t, "n5", via, func(cfg *server.Config) {
		cfg.RaftListener = listenLoopback(t)
		cfg.RaftAddr = c.Config(victim).RaftAddr
		cfg.RaftTLSCertFile, cfg.RaftTLSKeyFile = certs.Files("n5")
		cfg.RaftTLSCAFile = certs.CAFile()
	})
	logs.waitFor(t, fmt.Sprintf("the node at %s is %s, not n5", c.Config(victim).RaftAddr, servertest.NodeID(victim)))
	sameMembers(t, c, before)

	// A valid certificate joins, through a follower.
	certFile, keyFile := certs.Issue("n4")
	n4 := newNode(t, "n4", via, func(cfg *server.Config) {
		cfg.RaftTLSCertFile, cfg.RaftTLSKeyFile, cfg.RaftTLSCAFile = certFile, keyFile, certs.CAFile()
	})
	servertest.Eventually(t, 30*time.Second, "n4 joins", func() error {
		if members(t, c)["n4"] != n4.RaftAddr() {
			return errors.New("not a member")
		}
		return nil
	})
	logs.waitFor(t, "join accepted")
	if st := n4.LocalStatus(); st.RaftSecurity != "tls" {
		t.Errorf("raft_security = %q, want tls", st.RaftSecurity)
	}
	ln := connect(t, c, c.Leader())
	mustExec(t, ln, "CREATE TABLE t (v TEXT)")
	mustExec(t, ln, "INSERT INTO t VALUES ('x')")
	servertest.Eventually(t, 20*time.Second, "n4 replicates", func() error {
		d, err := n4.Dump(context.Background())
		if err != nil {
			return err
		}
		if !strings.Contains(d, `text "x"`) {
			return errors.New("not yet")
		}
		return nil
	})
	c.EnsureSame()
}

// TestJoinRefusesIDReuse: a node started with a live member's id at another
// address is refused (it used to move the member to its address), and a
// join naming a member's address under a new id does not remove that
// member.
func TestJoinRefusesIDReuse(t *testing.T) {
	var logs logBuffer
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: logTo(&logs)})
	before := members(t, c)
	f := c.Follower()
	dup := servertest.NodeID(f)
	newNode(t, dup, c.Config(c.Leader()).RaftAddr, nil)
	logs.waitFor(t, "node id "+dup+" is already a member at "+c.Config(f).RaftAddr)
	sameMembers(t, c, before)

	// A new node that advertises a member's address as its own: the
	// leader finds the member there and removes nobody.
	newNode(t, "n9", c.Config(c.Leader()).RaftAddr, func(cfg *server.Config) {
		cfg.RaftListener = listenLoopback(t)
		cfg.RaftAddr = c.Config(f).RaftAddr
	})
	logs.waitFor(t, fmt.Sprintf("the node at %s is %s, not n9", c.Config(f).RaftAddr, dup))
	sameMembers(t, c, before)

	conn2 := connect(t, c, f)
	mustExec(t, conn2, "CREATE TABLE t (v TEXT)")
	c.EnsureSame()
}

// TestTLSClusterWritesFailoverCatchUp runs a cluster with node TLS through
// writes on a follower, the loss of its leader, and a wiped node that
// catches up from a snapshot sent over TLS.
func TestTLSClusterWritesFailoverCatchUp(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{TLS: true, Configure: func(i int, cfg *server.Config) {
		cfg.SnapshotThreshold = 50
		cfg.SnapshotInterval = 100 * time.Millisecond
		cfg.TrailingLogs = 10
	}})
	f := c.Follower()
	conn := connect(t, c, f)
	mustExec(t, conn, "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
	for i := 0; i < 100; i++ {
		mustExec(t, conn, "INSERT INTO t (body) VALUES ($1)", strings.Repeat("x", i))
	}
	c.EnsureSame()

	old := c.Leader()
	c.Stop(old)
	next := c.WaitLeader()
	if next == old {
		t.Fatalf("node %d still leads after it stopped", old)
	}
	wc := connect(t, c, next)
	for i := 0; i < 100; i++ {
		mustExec(t, wc, "INSERT INTO t (body) VALUES ($1)", strings.Repeat("y", i))
	}
	if _, err := c.Node(next).Snapshot(); err != nil {
		t.Fatal(err)
	}
	c.Restart(old)
	c.EnsureSame()

	w := c.Follower()
	c.Wipe(w)
	c.EnsureSame()
	if st := c.Node(w).LocalStatus(); st.LastSnapshotIndex == 0 || st.RaftSecurity != "tls" {
		t.Errorf("wiped node: last snapshot %d, raft_security %q; want a snapshot installed over TLS", st.LastSnapshotIndex, st.RaftSecurity)
	}
	rc := connect(t, c, w)
	mustExec(t, rc, "SET raftsql.read_consistency = none")
	if n := count(t, rc, "SELECT count(*) FROM t"); n != 200 {
		t.Fatalf("wiped node has %d rows, want 200", n)
	}
}
