package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/raftsql/raftsql/driver"
	"github.com/raftsql/raftsql/pgwire"
	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key as
// PEM files in dir.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// A cluster that requires TLS and passwords: psql and the Go driver get in
// with the right password over TLS, on the leader and on a follower, and
// are refused with a wrong password or without TLS.
func TestTLSAndPasswords(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (apt-get install postgresql-client)")
	}
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir)
	bob, err := pgwire.NewSCRAMVerifier("bobs secret", 4096)
	if err != nil {
		t.Fatal(err)
	}
	passwords := filepath.Join(dir, "passwords")
	if err := os.WriteFile(passwords, []byte("# users\nalice:alices secret\n\nbob:"+bob.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) {
		cfg.PGTLSCertFile, cfg.PGTLSKeyFile, cfg.PGRequireTLS = certFile, keyFile, true
		cfg.PGPasswordFile = passwords
	}})
	run := func(node int, env []string, args ...string) (string, error) {
		host, port, _ := strings.Cut(c.PGAddr(node), ":")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, psql, append([]string{"-h", host, "-p", port, "-d", "raftsql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1"}, args...)...)
		cmd.Env = append(cmd.Environ(), append(env, "PGCONNECT_TIMEOUT=10")...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	leader, follower := c.Leader(), c.Follower()
	alice := []string{"PGUSER=alice", "PGPASSWORD=alices secret", "PGSSLMODE=require"}
	if out, err := run(follower, alice, "-c", "CREATE TABLE t (v TEXT)", "-c", "INSERT INTO t VALUES ('from alice')", "-c", `\conninfo`); err != nil || !strings.Contains(out, "SSL connection") {
		t.Fatalf("alice through a follower: %v\n%s", err, out)
	}
	out, err := run(leader, []string{"PGUSER=bob", "PGPASSWORD=bobs secret", "PGSSLMODE=require"}, "-c", "SELECT v FROM t")
	if err != nil || strings.TrimSpace(out) != "from alice" {
		t.Fatalf("bob on the leader: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{[]string{"PGUSER=alice", "PGPASSWORD=wrong", "PGSSLMODE=require"}, `password authentication failed for user "alice"`},
		{[]string{"PGUSER=carol", "PGPASSWORD=alices secret", "PGSSLMODE=require"}, `password authentication failed for user "carol"`},
		{[]string{"PGUSER=alice", "PGPASSWORD=alices secret", "PGSSLMODE=disable"}, "accepts only connections over TLS"},
	} {
		out, err := run(follower, tc.env, "-c", "SELECT 1")
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("%v: %v\n%s\nwant it refused with %q", tc.env, err, out, tc.want)
		}
	}

	host, port, _ := strings.Cut(c.PGAddr(follower), ":")
	db, err := sql.Open("raftsql", "raftsql://bob:bobs%20secret@"+host+":"+port+"/raftsql?sslmode=require")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES ('from go')"); err != nil {
		t.Fatalf("driver over TLS with a password: %v", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count: %d %v", n, err)
	}
	// The program that embeds a node is its own client: Node.DB needs
	// neither TLS nor a password.
	if err := c.Node(follower).DB().QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Fatalf("Node.DB on a node that requires TLS and passwords: %d %v", n, err)
	}
}

func TestLoadPasswordFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ text, err string }{
		{"alice:pw\nbob:pw2\n", ""},
		{"", "lists no user"},
		{"# only a comment\n", "lists no user"},
		{"alice\n", "line 1"},
		{"alice:\n", "line 1"},
		{"alice:a\nalice:b\n", "listed twice"},
		{"alice:SCRAM-SHA-256$4096:bad$x:y\n", "not a SCRAM-SHA-256 verifier"},
		{"alice:pw rights=read\nbob:pass word\trights=admin\n", ""},
		{"alice:pw rights=root\nbob:x\n", "unknown right"},
		{"alice: rights=read\nbob:x\n", "line 1"},
	} {
		path := filepath.Join(dir, "p")
		if err := os.WriteFile(path, []byte(tc.text), 0o600); err != nil {
			t.Fatal(err)
		}
		users, err := server.LoadPasswordFile(path)
		switch {
		case tc.err == "" && (err != nil || len(users) != 2):
			t.Errorf("%q: %v, %d users", tc.text, err, len(users))
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: got %v, want an error with %q", tc.text, err, tc.err)
		}
	}
}

// The rights field is optional and last; a line without one may write, as
// every line could before rights existed. A password given in clear gets a
// salt derived from the file, the same at every load (and so on every node).
func TestPasswordFileRights(t *testing.T) {
	v, err := pgwire.NewSCRAMVerifier("pw", 4096)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "p")
	text := "old:secret with spaces\nreader:" + v.String() + " rights=read\nwriter:pw rights=write\nboss:pw\t rights=ADMIN\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	users, err := server.LoadPasswordFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]server.Rights{"old": server.RightsWrite, "reader": server.RightsRead, "writer": server.RightsWrite, "boss": server.RightsAdmin}
	for name, r := range want {
		if users[name].Rights != r {
			t.Errorf("%s: rights %v, want %v", name, users[name].Rights, r)
		}
	}
	if users["reader"].Verifier.String() != v.String() {
		t.Errorf("reader's verifier changed: %v", users["reader"].Verifier)
	}
	again, _ := server.LoadPasswordFile(path)
	if a, b := users["old"].Verifier.String(), again["old"].Verifier.String(); a != b || len(users["old"].Verifier.Salt) != 16 {
		t.Errorf("the salt of a password in clear differs between loads:\n%s\n%s", a, b)
	}
	if want, err := pgwire.NewSCRAMVerifierWithSalt("secret with spaces", users["old"].Verifier.Salt, 4096); err != nil || want.String() != users["old"].Verifier.String() {
		t.Errorf("old's password is not the whole text before the rights: %v", err)
	}
}
