// Package nodecerttest makes node-to-node TLS material for tests: a cluster
// CA and node certificates in a test's temporary directory, plus the wrong
// kinds an attacker would bring (a self-signed certificate, one of another
// CA). It is imported only by tests.
package nodecerttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/raftsql/raftsql/raft"
	"github.com/raftsql/raftsql/raft/nodecert"
)

// Hosts are the hosts every test certificate is valid for.
var Hosts = []string{"127.0.0.1", "localhost", "::1"}

// Set is a cluster CA in a temporary directory and the node certificates it
// issued there.
type Set struct {
	t   testing.TB
	Dir string
	CA  *nodecert.CA
}

// New creates a CA in a temporary directory and issues a certificate for
// each of ids.
func New(t testing.TB, ids ...string) *Set {
	t.Helper()
	ca, err := nodecert.NewCA("raftsql test CA", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s := &Set{t: t, Dir: t.TempDir(), CA: ca}
	if err := ca.WriteCA(s.Dir, false); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		s.Issue(id)
	}
	return s
}

// Issue writes a certificate for id into the set's directory (replacing one
// there) and returns its files.
func (s *Set) Issue(id string) (certFile, keyFile string) {
	s.t.Helper()
	n, err := s.CA.Issue(id, Hosts, 24*time.Hour)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := n.WriteNode(s.Dir, id, true); err != nil {
		s.t.Fatal(err)
	}
	return s.Files(id)
}

// Files returns the certificate and key files of id.
func (s *Set) Files(id string) (certFile, keyFile string) {
	return filepath.Join(s.Dir, nodecert.NodeCertFile(id)), filepath.Join(s.Dir, nodecert.NodeKeyFile(id))
}

// CAFile is the CA certificate's file.
func (s *Set) CAFile() string { return filepath.Join(s.Dir, nodecert.CACertFile) }

// TLSConfig returns node id's raft.Config.TLS, issuing its certificate if
// the set has none yet.
func (s *Set) TLSConfig(id string) *tls.Config {
	s.t.Helper()
	certFile, keyFile := s.Files(id)
	c, err := raft.LoadTLSConfig(certFile, keyFile, s.CAFile())
	if err != nil {
		certFile, keyFile = s.Issue(id)
		if c, err = raft.LoadTLSConfig(certFile, keyFile, s.CAFile()); err != nil {
			s.t.Fatal(err)
		}
	}
	return c
}

// ClientConfig returns a TLS client configuration presenting id's
// certificate and trusting the set's CA, as a node would dial.
func (s *Set) ClientConfig(id string) *tls.Config {
	c := s.TLSConfig(id)
	return &tls.Config{Certificates: c.Certificates, RootCAs: c.RootCAs, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13}
}

// SelfSigned returns a certificate naming id that is its own issuer: a CA
// of one, that the cluster does not trust.
func SelfSigned(t testing.TB, id string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: id},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		URIs:                  []*url.URL{raft.NodeURI(id)},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// OtherCA returns a certificate naming id issued by a CA the cluster does
// not trust.
func OtherCA(t testing.TB, id string) tls.Certificate {
	t.Helper()
	s := New(t, id)
	return s.TLSConfig(id).Certificates[0]
}
