package server

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/raftsql/raftsql/pgwire"
)

// Rights are what a user may do. Each includes the ones below it.
type Rights uint8

const (
	// RightsNone may do nothing; no user has it.
	RightsNone Rights = iota
	// RightsRead may read, at any consistency level (strong reads too).
	RightsRead
	// RightsWrite may read and write: the default of a password-file line.
	RightsWrite
	// RightsAdmin may also use the admin HTTP endpoint: status, metrics,
	// profiles, backup, restore and membership.
	RightsAdmin
)

// String names r as the password file does.
func (r Rights) String() string {
	switch r {
	case RightsRead:
		return "read"
	case RightsWrite:
		return "write"
	case RightsAdmin:
		return "admin"
	}
	return "none"
}

// ParseRights reads read, write or admin.
func ParseRights(s string) (Rights, error) {
	switch strings.ToLower(s) {
	case "read":
		return RightsRead, nil
	case "write":
		return RightsWrite, nil
	case "admin":
		return RightsAdmin, nil
	}
	return RightsNone, fmt.Errorf("unknown right %q: want read, write or admin", s)
}

// CanWrite reports whether r includes writing.
func (r Rights) CanWrite() bool { return r >= RightsWrite }

// CanAdmin reports whether r includes the admin endpoint.
func (r Rights) CanAdmin() bool { return r >= RightsAdmin }

// ErrPermissionDenied is matched (errors.Is) by the error a request gets
// when its user lacks the right for it; clients see SQLSTATE 42501.
var ErrPermissionDenied = errors.New("permission denied")

// deniedError is a refusal for lack of rights.
type deniedError struct{ msg string }

func (e *deniedError) Error() string        { return e.msg }
func (e *deniedError) Is(target error) bool { return target == ErrPermissionDenied }

func errCannotWrite(user string) error {
	return &deniedError{msg: fmt.Sprintf("permission denied: user %q may only read", user)}
}

// User is one line of the password file.
type User struct {
	Name     string
	Verifier pgwire.SCRAMVerifier
	Rights   Rights
}

// rightsAttr introduces the optional last field of a password-file line.
const rightsAttr = "rights="

// LoadPasswordFile reads the users who may connect, their passwords and
// their rights: one "user:secret" per line, where secret is a
// SCRAM-SHA-256 verifier as Postgres stores one
// (SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, which
// `raftsql passwd` prints) or else the password itself, optionally followed
// by white space and "rights=read", "rights=write" (the default) or
// "rights=admin". Blank lines and lines starting with # are skipped. Only
// verifiers are kept in memory; the salt of a password given in clear is
// derived from the file, so that every node that reads the same file gives
// the same salt.
func LoadPasswordFile(path string) (map[string]User, error) {
	users, _, err := loadPasswordFile(path)
	return users, err
}

// loadPasswordFile is LoadPasswordFile that also returns a secret derived
// from the file's contents.
func loadPasswordFile(path string) (map[string]User, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("password file: %w", err)
	}
	sum := sha256.Sum256(append([]byte("raftsql password file\x00"), data...))
	secret := sum[:]
	users := map[string]User{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rights := RightsWrite
		if i := strings.LastIndexAny(line, " \t"); i >= 0 && strings.HasPrefix(line[i+1:], rightsAttr) {
			if rights, err = ParseRights(line[i+1+len(rightsAttr):]); err != nil {
				return nil, nil, fmt.Errorf("password file %s, line %d: %w", path, n, err)
			}
			line = strings.TrimSpace(line[:i])
		}
		user, secretText, ok := strings.Cut(line, ":")
		if !ok || user == "" || secretText == "" {
			return nil, nil, fmt.Errorf("password file %s, line %d: want user:password or user:SCRAM-SHA-256$…, optionally followed by rights=read|write|admin", path, n)
		}
		if _, dup := users[user]; dup {
			return nil, nil, fmt.Errorf("password file %s, line %d: user %q is listed twice", path, n, user)
		}
		var v pgwire.SCRAMVerifier
		if strings.HasPrefix(secretText, "SCRAM-SHA-256$") {
			v, err = pgwire.ParseSCRAMVerifier(secretText)
		} else {
			salt := pgwire.DeriveSCRAMSalt(secret, "password salt", user, 16)
			v, err = pgwire.NewSCRAMVerifierWithSalt(secretText, salt, pgwire.DefaultSCRAMIterations)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("password file %s, line %d: %w", path, n, err)
		}
		users[user] = User{Name: user, Verifier: v, Rights: rights}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("password file: %w", err)
	}
	if len(users) == 0 {
		return nil, nil, fmt.Errorf("password file %s lists no user: nobody could connect", path)
	}
	return users, secret, nil
}

// mockShape returns the iteration count and salt length most of the real
// verifiers have (the larger on a tie), for the verifiers invented for
// unknown users.
func mockShape(users map[string]User) (iterations, saltLen int) {
	iters, lens := map[int]int{}, map[int]int{}
	for _, u := range users {
		iters[u.Verifier.Iterations]++
		lens[len(u.Verifier.Salt)]++
	}
	mode := func(m map[int]int) int {
		best, count := 0, 0
		for v, c := range m {
			if c > count || (c == count && v > best) {
				best, count = v, c
			}
		}
		return best
	}
	return mode(iters), mode(lens)
}

// loadAuthSecret reads the secret file that keys the verifiers invented
// for unknown users.
func loadAuthSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("SCRAM secret file: %w", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) < 16 {
		return nil, fmt.Errorf("SCRAM secret file %s holds %d bytes: want at least 16 random ones", path, len(b))
	}
	return b, nil
}

// pgSecurity builds the Postgres listener's TLS and authentication from
// the configuration, and loads the users.
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
	users, secret, err := loadPasswordFile(n.cfg.PGPasswordFile)
	if err != nil {
		return nil, nil, err
	}
	if n.cfg.PGSCRAMSecretFile != "" {
		if secret, err = loadAuthSecret(n.cfg.PGSCRAMSecretFile); err != nil {
			return nil, nil, err
		}
	}
	n.users = users
	iterations, saltLen := mockShape(users)
	return tc, &pgwire.SCRAMAuth{
		Lookup: func(user string) (pgwire.SCRAMVerifier, bool) {
			u, ok := users[user]
			return u.Verifier, ok
		},
		MockSecret:     secret,
		MockIterations: iterations,
		MockSaltLen:    saltLen,
	}, nil
}

// authOn reports whether clients must authenticate (a password file is
// configured).
func (n *Node) authOn() bool { return n.users != nil }
