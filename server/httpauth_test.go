package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// writeServingCert writes a self-signed certificate valid for 127.0.0.1
// (as an IP SAN, which clients verify) and its key, and returns a pool that
// trusts it.
func writeServingCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(2),
		Subject:               pkix.Name{CommonName: "raftsql admin"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "admin-cert.pem"), filepath.Join(dir, "admin-key.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return certFile, keyFile, pool
}

const adminToken = "0123456789abcdef-token-for-tests"

// With a password file, the admin endpoint speaks HTTPS and wants an
// admin: no credentials get 401 with a WWW-Authenticate challenge, an admin
// user's password or a token 200, a user without the admin right 403, a
// wrong password or token 401. The probes stay open, and so does nothing
// else (pprof included).
func TestAdminHTTPAuth(t *testing.T) {
	dir := t.TempDir()
	passwords := writeUsers(t, dir)
	certFile, keyFile, pool := writeServingCert(t, dir)
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("# admin tokens\n"+adminToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) {
		cfg.PGPasswordFile = passwords
		cfg.HTTPTLSCertFile, cfg.HTTPTLSKeyFile = certFile, keyFile
		cfg.HTTPTokenFile = tokens
		cfg.Profiling = true
	}})
	c.WaitMembers(3)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 20 * time.Second}
	base := "https://" + c.Node(c.Follower()).HTTPAddr()
	get := func(path string, auth func(*http.Request)) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), "GET", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != nil {
			auth(req)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(body)
	}
	basic := func(user, pw string) func(*http.Request) { return func(r *http.Request) { r.SetBasicAuth(user, pw) } }
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}

	for _, path := range []string{"/status", "/debug/pprof/", "/no-such-route"} {
		code, h, _ := get(path, nil)
		if code != http.StatusUnauthorized || !strings.Contains(strings.Join(h.Values("WWW-Authenticate"), ","), `Basic realm="raftsql"`) {
			t.Errorf("%s without credentials: %d %v, want 401 with a Basic challenge", path, code, h.Values("WWW-Authenticate"))
		}
	}
	for _, tc := range []struct {
		name string
		auth func(*http.Request)
		want int
	}{
		{"admin", basic("admin", "admin pw"), http.StatusOK},
		{"admin again (cached)", basic("admin", "admin pw"), http.StatusOK},
		{"token", bearer(adminToken), http.StatusOK},
		{"writer", basic("writer", "writer pw"), http.StatusForbidden},
		{"reader", basic("reader", "reader pw"), http.StatusForbidden},
		{"admin, wrong password", basic("admin", "wrong"), http.StatusUnauthorized},
		{"unknown user", basic("nobody", "admin pw"), http.StatusUnauthorized},
		{"wrong token", bearer(adminToken + "x"), http.StatusUnauthorized},
	} {
		code, _, body := get("/status", tc.auth)
		if code != tc.want {
			t.Errorf("/status as %s: %d %s, want %d", tc.name, code, body, tc.want)
		}
		if tc.want == http.StatusOK && !strings.Contains(body, `"members"`) {
			t.Errorf("/status as %s: %s", tc.name, body)
		}
	}
	if code, _, _ := get("/debug/pprof/", basic("admin", "admin pw")); code != http.StatusOK {
		t.Errorf("pprof as admin: %d", code)
	}
	if code, _, body := get("/livez", nil); code != http.StatusOK {
		t.Errorf("/livez: %d %s", code, body)
	}
	servertest.Eventually(t, 20*time.Second, "/readyz open", func() error {
		if code, _, body := get("/readyz", nil); code != http.StatusOK {
			return fmt.Errorf("/readyz: %d %s", code, body)
		}
		return nil
	})
	// Plain HTTP to the HTTPS port gets nothing of it.
	resp, err := http.Get("http://" + c.Node(0).HTTPAddr() + "/status")
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "members") {
			t.Errorf("plain HTTP got the status: %s", body)
		}
	}
}

// Without a password file or token file the admin endpoint stays open.
func TestAdminHTTPOpenWithoutAuth(t *testing.T) {
	c := servertest.NewCluster(t, 1, servertest.Options{})
	for _, path := range []string{"/status", "/livez", "/readyz"} {
		servertest.Eventually(t, 20*time.Second, path, func() error {
			resp, err := http.Get("http://" + c.Node(0).HTTPAddr() + path)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %d", path, resp.StatusCode)
			}
			return nil
		})
	}
}
