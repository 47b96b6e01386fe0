package raft_test

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"

	"github.com/raftsql/raftsql/raft"
	"github.com/raftsql/raftsql/raft/nodecert/nodecerttest"
)

// nopFSM is a state machine that keeps nothing.
type nopFSM struct{}

func (nopFSM) Apply(*hraft.Log) any                    { return nil }
func (nopFSM) Snapshot() (hraft.FSMSnapshot, error)    { return nopSnapshot{}, nil }
func (nopFSM) Restore(rc io.ReadCloser) error          { return rc.Close() }
func (nopSnapshot) Persist(s hraft.SnapshotSink) error { return s.Close() }
func (nopSnapshot) Release()                           {}

type nopSnapshot struct{}

func tlsNode(t *testing.T, id string, tc *tls.Config) (*raft.Node, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := raft.DefaultConfig()
	cfg.ID, cfg.Dir, cfg.Listener, cfg.TLS, cfg.Bootstrap = id, t.TempDir(), ln, tc, true
	n, err := raft.New(cfg, nopFSM{})
	if err == nil {
		t.Cleanup(func() { n.Close() })
	}
	return n, err
}

// TestTLSNeedsOwnCertificate: a node starts only with a certificate of the
// cluster CA that names its own id.
func TestTLSNeedsOwnCertificate(t *testing.T) {
	certs := nodecerttest.New(t, "n1", "n2")
	if _, err := tlsNode(t, "n1", certs.TLSConfig("n2")); err == nil || !strings.Contains(err.Error(), `names node id "n2"`) {
		t.Errorf("n1 with n2's certificate: %v", err)
	}
	other := certs.TLSConfig("n1")
	other.RootCAs = nodecerttest.New(t).TLSConfig("x").RootCAs
	if _, err := tlsNode(t, "n1", other); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("n1 with a CA that did not issue its certificate: %v", err)
	}
	if _, err := tlsNode(t, "n1", certs.TLSConfig("n1")); err != nil {
		t.Errorf("n1 with its own certificate: %v", err)
	}
}

// TestTLSDialerRefusesImpersonation: a peer with a valid certificate of
// the cluster that answers the handshake under another node's id is
// refused by the dialer, as the acceptor refuses such a dialer.
func TestTLSDialerRefusesImpersonation(t *testing.T) {
	certs := nodecerttest.New(t, "n1", "n3")
	n1, err := tlsNode(t, "n1", certs.TLSConfig("n1"))
	if err != nil {
		t.Fatal(err)
	}
	// n3's certificate, answering as n2.
	n3 := certs.TLSConfig("n3")
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: n3.Certificates, ClientCAs: n3.RootCAs, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		hello := make([]byte, 4+len("n1"))
		if _, err := io.ReadFull(c, hello); err != nil {
			return
		}
		reply := append([]byte{hello[1]}, binary.BigEndian.AppendUint16(nil, 2)...)
		c.Write(append(reply, "n2"...))
		io.Copy(io.Discard, c)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := n1.DialForward(ctx, ln.Addr().String())
	if err == nil {
		conn.Close()
		t.Fatal("the dialer accepted a peer answering as n2 with n3's certificate")
	}
	if !strings.Contains(err.Error(), `certificate names "n3"`) {
		t.Errorf("error %q does not say the certificate names n3", err)
	}
	if errors.Is(err, raft.ErrShutdown) {
		t.Error(err)
	}
}
