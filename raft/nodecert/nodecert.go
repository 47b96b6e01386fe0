// Package nodecert makes the certificates of raftsql's node-to-node TLS: a
// cluster CA, and node certificates issued by it that name a node id the way
// the raft package reads it (a URI SAN raftsql://node/<id>, raft.NodeURI)
// and the hosts peers dial the node at (IP addresses and DNS names). Keys
// are ECDSA P-256; node certificates serve both as TLS server and client
// certificates, since every node is both.
//
// It is what `raftsql cert` runs, so that a user needs no openssl; anything
// else that issues such certificates works as well.
package nodecert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/raftsql/raftsql/raft"
)

// File names in a directory written by WriteCA and WriteNode.
const (
	CACertFile = "ca.crt"
	CAKeyFile  = "ca.key"
)

// NodeCertFile and NodeKeyFile are the names WriteNode gives node id's files.
func NodeCertFile(id string) string { return id + ".crt" }
func NodeKeyFile(id string) string  { return id + ".key" }

// CA is a certificate authority that issues node certificates.
type CA struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
}

// NewCA creates a self-signed CA named name, valid for validFor.
func NewCA(name string, validFor time.Duration) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"raftsql"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(validFor),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, CertPEM: pemBlock("CERTIFICATE", der)}, nil
}

// Node is an issued node certificate and its key, PEM encoded.
type Node struct {
	CertPEM []byte
	KeyPEM  []byte
}

// Issue makes a certificate for node id, reachable at hosts (IP addresses or
// DNS names; the dialer checks the one it dialed), valid for validFor.
func (ca *CA) Issue(id string, hosts []string, validFor time.Duration) (*Node, error) {
	u := raft.NodeURI(id)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: id, Organization: []string{"raftsql"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(validFor),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{u},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	// Refuse an id the raft package would not read back (a space, say).
	if got, err := raft.CertID(cert); err != nil || got != id {
		return nil, fmt.Errorf("nodecert: node id %q: %v", id, err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &Node{CertPEM: pemBlock("CERTIFICATE", der), KeyPEM: pemBlock("PRIVATE KEY", kb)}, nil
}

// WriteCA writes ca.crt and ca.key into dir, which it creates; it refuses
// to overwrite existing files unless force is set.
func (ca *CA) WriteCA(dir string, force bool) error {
	kb, err := x509.MarshalPKCS8PrivateKey(ca.Key)
	if err != nil {
		return err
	}
	return writeFiles(dir, force, map[string][]byte{CACertFile: ca.CertPEM, CAKeyFile: pemBlock("PRIVATE KEY", kb)})
}

// WriteNode writes <id>.crt and <id>.key into dir, which it creates; it
// refuses to overwrite existing files unless force is set.
func (n *Node) WriteNode(dir, id string, force bool) error {
	return writeFiles(dir, force, map[string][]byte{NodeCertFile(id): n.CertPEM, NodeKeyFile(id): n.KeyPEM})
}

// LoadCA reads ca.crt and ca.key from dir.
func LoadCA(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, err
	}
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("nodecert: %s holds no PEM certificate", filepath.Join(dir, CACertFile))
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("nodecert: %s: %w", filepath.Join(dir, CACertFile), err)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("nodecert: %s is not a CA certificate", filepath.Join(dir, CACertFile))
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, fmt.Errorf("nodecert: %s holds no PEM key", filepath.Join(dir, CAKeyFile))
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("nodecert: %s: %w", filepath.Join(dir, CAKeyFile), err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("nodecert: %s is not the key of %s", filepath.Join(dir, CAKeyFile), filepath.Join(dir, CACertFile))
	}
	return &CA{Cert: cert, Key: key, CertPEM: certPEM}, nil
}

func writeFiles(dir string, force bool, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if !force {
		for name := range files {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				return fmt.Errorf("nodecert: %s exists; not overwriting it", filepath.Join(dir, name))
			} else if !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	for name, data := range files {
		// Keys are secrets; certificates are public but need no more.
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n
}
