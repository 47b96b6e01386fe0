package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// writeServingCert writes a self-signed certificate for 127.0.0.1 and its
// key; the certificate is its own CA.
func writeServingCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "raftsql admin"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:        true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

// raftsql passwd --rights prints a line that gives the right; raftsql
// status reaches an admin endpoint that wants HTTPS and an admin, with
// --cacert (or PGSSLROOTCERT), --user (or PGUSER) and PGPASSWORD, or a
// token, and says why it is refused without them.
func TestStatusWithCredentials(t *testing.T) {
	dir := t.TempDir()
	var lines strings.Builder
	for _, u := range []struct{ name, rights string }{{"root", "admin"}, {"app", ""}} {
		args := []string{u.name}
		if u.rights != "" {
			args = []string{"--rights", u.rights, u.name}
		}
		var errOut strings.Builder
		if err := runPasswd(args, strings.NewReader(u.name+" pw\n"), &lines, &errOut); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(lines.String(), " rights=admin\n") || strings.Count(lines.String(), "rights=") != 1 {
		t.Fatalf("raftsql passwd printed %q", lines.String())
	}
	passwords := filepath.Join(dir, "passwords")
	os.WriteFile(passwords, []byte(lines.String()), 0o600)
	users, err := server.LoadPasswordFile(passwords)
	if err != nil || users["root"].Rights != server.RightsAdmin || users["app"].Rights != server.RightsWrite {
		t.Fatalf("password file from raftsql passwd: %v %v", users, err)
	}
	if err := runPasswd([]string{"--rights", "root", "x"}, strings.NewReader("pw\n"), &lines, &lines); err == nil {
		t.Error("raftsql passwd --rights root: no error")
	}
	certFile, keyFile := writeServingCert(t, dir)
	tokens := filepath.Join(dir, "tokens")
	os.WriteFile(tokens, []byte("status-token-0123456789\n"), 0o600)
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) {
		cfg.PGPasswordFile = passwords
		cfg.HTTPTLSCertFile, cfg.HTTPTLSKeyFile = certFile, keyFile
		cfg.HTTPTokenFile = tokens
	}})
	c.WaitMembers(3)
	addr := c.Config(0).HTTPAddr
	ctx := context.Background()
	status := func(env map[string]string, args ...string) (string, error) {
		for _, k := range []string{"PGUSER", "PGPASSWORD", "PGSSLROOTCERT", "RAFTSQL_TOKEN"} {
			t.Setenv(k, env[k])
		}
		var out, errOut syncBuffer
		err := run(ctx, append([]string{"status", "--addr", addr}, args...), &out, &errOut)
		return out.String(), err
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"flags", map[string]string{"PGPASSWORD": "root pw"}, []string{"--cacert", certFile, "--user", "root"}},
		{"environment", map[string]string{"PGUSER": "root", "PGPASSWORD": "root pw", "PGSSLROOTCERT": certFile}, nil},
		{"token", map[string]string{"PGSSLROOTCERT": certFile}, []string{"--token", "status-token-0123456789"}},
		{"https URL", map[string]string{"RAFTSQL_TOKEN": "status-token-0123456789"}, []string{"--addr", "https://" + addr, "--cacert", certFile}},
	} {
		out, err := status(tc.env, tc.args...)
		if err != nil || !strings.Contains(out, "leader") || !strings.Contains(out, servertest.NodeID(2)) {
			t.Errorf("status with %s: %v\n%s", tc.name, err, out)
		}
	}
	if _, err := status(map[string]string{"PGSSLROOTCERT": certFile}); err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "--user") {
		t.Errorf("status without credentials: %v, want a 401 that says what to give", err)
	}
	if _, err := status(map[string]string{"PGUSER": "app", "PGPASSWORD": "app pw", "PGSSLROOTCERT": certFile}); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("status as a user without the admin right: %v, want 403", err)
	}
	// backup and snapshot reach the same endpoint with the same
	// credentials, and are refused without them.
	for _, k := range []string{"PGUSER", "PGPASSWORD", "RAFTSQL_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("PGSSLROOTCERT", certFile)
	backup := filepath.Join(dir, "backup.db")
	var bout, berr syncBuffer
	if err := run(ctx, []string{"backup", "--addr", addr, "-o", backup, "--quiet"}, &bout, &berr); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("backup without credentials: %v, want a 401", err)
	}
	if _, err := os.Stat(backup); err == nil {
		t.Error("a refused backup left a file behind")
	}
	if err := run(ctx, []string{"backup", "--addr", addr, "-o", backup, "--quiet", "--token", "status-token-0123456789"}, &bout, &berr); err != nil {
		t.Errorf("backup with a token: %v\n%s", err, berr.String())
	}
	if st, err := os.Stat(backup); err != nil || st.Size() == 0 {
		t.Errorf("backup with a token wrote %v, %v", st, err)
	}
	t.Setenv("PGPASSWORD", "root pw")
	if err := run(ctx, []string{"snapshot", "--addr", addr, "--user", "root"}, &bout, &berr); err != nil {
		t.Errorf("snapshot as an admin: %v\n%s", err, berr.String())
	}
	// raftsql bench connects as psql does, with PGUSER and PGPASSWORD.
	t.Setenv("PGUSER", "app")
	t.Setenv("PGPASSWORD", "app pw")
	t.Setenv("PGSSLROOTCERT", "")
	var out, errOut syncBuffer
	if err := run(ctx, []string{"bench", "--addr", c.PGAddr(0) + "," + c.PGAddr(1), "-w", "insert", "-c", "2", "-n", "20", "--rows", "10"}, &out, &errOut); err != nil || !strings.Contains(out.String(), "ops=20 errors=0") {
		t.Errorf("bench with a password: %v\n%s%s", err, out.String(), errOut.String())
	}
	t.Setenv("PGPASSWORD", "wrong")
	if err := run(ctx, []string{"bench", "--addr", c.PGAddr(0), "-w", "insert", "-c", "1", "-n", "5"}, &out, &errOut); err == nil {
		t.Error("bench with a wrong password: no error")
	}
}
