package server

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"os"
	"strings"

	"github.com/raftsql/raftsql/pgwire"
)

// LoadPasswordFile reads the users who may connect and their passwords:
// one "user:secret" per line, where secret is a SCRAM-SHA-256 verifier as
// Postgres stores one (SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>,
// which `raftsql passwd` prints) or else the password itself. Blank lines
// and lines starting with # are skipped. Only verifiers are kept in memory.
func LoadPasswordFile(path string) (map[string]pgwire.SCRAMVerifier, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("password file: %w", err)
	}
	defer f.Close()
	users := map[string]pgwire.SCRAMVerifier{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, secret, ok := strings.Cut(line, ":")
		if !ok || user == "" || secret == "" {
			return nil, fmt.Errorf("password file %s, line %d: want user:password or user:SCRAM-SHA-256$…", path, n)
		}
		if _, dup := users[user]; dup {
			return nil, fmt.Errorf("password file %s, line %d: user %q is listed twice", path, n, user)
		}
		var v pgwire.SCRAMVerifier
		if strings.HasPrefix(secret, "SCRAM-SHA-256$") {
			v, err = pgwire.ParseSCRAMVerifier(secret)
		} else {
			v, err = pgwire.NewSCRAMVerifier(secret, pgwire.DefaultSCRAMIterations)
		}
		if err != nil {
			return nil, fmt.Errorf("password file %s, line %d: %w", path, n, err)
		}
		users[user] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("password file: %w", err)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("password file %s lists no user: nobody could connect", path)
	}
	return users, nil
}

// pgSecurity builds the Postgres listener's TLS and authentication from
// the configuration.
func (n *Node) pgSecurity() (*tls.Config, pgwire.Authenticator, error) {
	var tc *tls.Config
	if n.cfg.PGTLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(n.cfg.PGTLSCertFile, n.cfg.PGTLSKeyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("postgres TLS: %w", err)
		}
		tc = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if n.cfg.PGPasswordFile == "" {
		return tc, nil, nil
	}
	if st, err := os.Stat(n.cfg.PGPasswordFile); err == nil && st.Mode().Perm()&0o077 != 0 {
		n.log.Warn("the password file can be read by other users; chmod 600 it", "path", n.cfg.PGPasswordFile)
	}
	users, err := LoadPasswordFile(n.cfg.PGPasswordFile)
	if err != nil {
		return nil, nil, err
	}
	return tc, &pgwire.SCRAMAuth{Lookup: func(user string) (pgwire.SCRAMVerifier, bool) {
		v, ok := users[user]
		return v, ok
	}}, nil
}
