package raft

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
)

// A node's certificate names its node id in a URI subject alternative name,
//
//	raftsql://node/<id>
//
// with the id path-escaped as URLs escape paths. Exactly one such name must
// be present; the common name and DNS names are not read for the id (they
// may hold anything, and DNS names and IP addresses are what the dialer
// checks against the address it dialed).
const (
	certURIScheme = "raftsql"
	certURIHost   = "node"
)

// NodeURI returns the URI that a node certificate carries to name id.
func NodeURI(id string) *url.URL {
	return &url.URL{Scheme: certURIScheme, Host: certURIHost, Path: "/" + id}
}

// CertID returns the node id that cert names (see NodeURI).
func CertID(cert *x509.Certificate) (string, error) {
	var ids []string
	for _, u := range cert.URIs {
		if u.Scheme != certURIScheme || u.Host != certURIHost {
			continue
		}
		ids = append(ids, strings.TrimPrefix(u.Path, "/"))
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("raft: certificate %q names no node id (a URI SAN %s://%s/<id>)", cert.Subject.CommonName, certURIScheme, certURIHost)
	case 1:
	default:
		return "", fmt.Errorf("raft: certificate %q names %d node ids, want one", cert.Subject.CommonName, len(ids))
	}
	if err := validateID(ids[0]); err != nil {
		return "", fmt.Errorf("raft: certificate %q: %w", cert.Subject.CommonName, err)
	}
	return ids[0], nil
}

// LoadTLSConfig reads a node's certificate and key and the cluster's CA
// certificates, all PEM files, into the form Config.TLS takes.
func LoadTLSConfig(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("raft: node certificate: %w", err)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("raft: cluster CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("raft: cluster CA: %s holds no PEM certificate", caFile)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool}, nil
}

// nodeTLS holds the two sides' TLS configurations of a node.
type nodeTLS struct {
	server *tls.Config
	client *tls.Config
}

// newNodeTLS checks c, the Config.TLS of node id, and derives the acceptor's
// and the dialer's configurations: TLS 1.3 only, a client certificate
// required, both sides verified against the cluster CA (c.RootCAs), and each
// side's certificate naming a node id.
func newNodeTLS(c *tls.Config, id string) (*nodeTLS, error) {
	if len(c.Certificates) != 1 {
		return nil, fmt.Errorf("raft: config: TLS needs exactly one node certificate, got %d", len(c.Certificates))
	}
	if c.RootCAs == nil {
		return nil, errors.New("raft: config: TLS needs the cluster CA in RootCAs")
	}
	leaf := c.Certificates[0].Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(c.Certificates[0].Certificate[0]); err != nil {
			return nil, fmt.Errorf("raft: config: node certificate: %w", err)
		}
	}
	certID, err := CertID(leaf)
	if err != nil {
		return nil, fmt.Errorf("raft: config: node certificate: %w", err)
	}
	if certID != id {
		return nil, fmt.Errorf("raft: config: the node certificate names node id %q, but this node's id is %q", certID, id)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: c.RootCAs, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}); err != nil {
		return nil, fmt.Errorf("raft: config: the node certificate does not verify against the cluster CA for both server and client use: %w", err)
	}

	server := c.Clone()
	server.MinVersion = tls.VersionTLS13
	// The connections are long-lived and carry batches of entries and
	// snapshots: full-size records from the start, not the small ones that
	// speed up the first bytes of a web page.
	server.DynamicRecordSizingDisabled = true
	server.ClientAuth = tls.RequireAndVerifyClientCert
	server.ClientCAs = c.RootCAs
	server.VerifyConnection = func(cs tls.ConnectionState) error {
		_, err := peerCertID(cs)
		return err
	}

	client := c.Clone()
	client.MinVersion = tls.VersionTLS13
	client.DynamicRecordSizingDisabled = true
	if client.ClientSessionCache == nil {
		// Reconnecting after a dropped connection resumes the session
		// instead of running a full handshake.
		client.ClientSessionCache = tls.NewLRUClientSessionCache(64)
	}
	client.VerifyConnection = server.VerifyConnection
	return &nodeTLS{server: server, client: client}, nil
}

// peerCertID is the node id of the verified certificate the peer presented.
func peerCertID(cs tls.ConnectionState) (string, error) {
	if len(cs.PeerCertificates) == 0 {
		return "", errors.New("raft: the peer presented no certificate")
	}
	return CertID(cs.PeerCertificates[0])
}

// clientFor returns the dialer's configuration for a peer at addr: the
// peer's certificate must hold addr's host (an IP address or a DNS name).
func (t *nodeTLS) clientFor(addr string) *tls.Config {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	c := t.client.Clone()
	c.ServerName = host
	return c
}
