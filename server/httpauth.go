package server

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/raftsql/raftsql/pgwire"
)

// The admin endpoint's authentication. When a password file or a token
// file is configured, every route but the probes (/livez, /readyz) wants
// credentials: HTTP basic auth of a password-file user who has the admin
// right, or a bearer token of the token file. The router is wrapped as a
// whole, so a route is covered whatever file registers it.

// httpAuthCacheTTL is how long a verified user and password pair is taken
// without deriving its key again: PBKDF2 is slow on purpose, and a client
// such as a metrics scraper sends the same credentials every few seconds.
const httpAuthCacheTTL = time.Minute

// maxHTTPAuthCache bounds the cache of verified credentials.
const maxHTTPAuthCache = 1024

// httpAuth checks the admin endpoint's credentials.
type httpAuth struct {
	users  map[string]User
	tokens [][sha256.Size]byte // SHA-256 of each token
	mock   *pgwire.SCRAMAuth   // invents verifiers for unknown users

	key   []byte // random: keys the cache, so that it holds no password
	mu    sync.Mutex
	cache map[[sha256.Size]byte]time.Time // HMAC(key, user, password) -> expiry
}

// loadTokens reads a token file: one token a line; blank lines and lines
// starting with # are skipped.
func loadTokens(path string) ([][sha256.Size]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	var out [][sha256.Size]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if len(t) < 16 {
			return nil, fmt.Errorf("token file %s, line %d: a token needs at least 16 characters", path, n)
		}
		out = append(out, sha256.Sum256([]byte(t)))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("token file %s lists no token", path)
	}
	return out, nil
}

// newHTTPAuth builds the admin endpoint's authentication; nil when neither
// a password file nor a token file is configured (every client is trusted).
func (n *Node) newHTTPAuth(mock *pgwire.SCRAMAuth) (*httpAuth, error) {
	var tokens [][sha256.Size]byte
	if n.cfg.HTTPTokenFile != "" {
		var err error
		if tokens, err = loadTokens(n.cfg.HTTPTokenFile); err != nil {
			return nil, err
		}
	}
	if n.users == nil && tokens == nil {
		return nil, nil
	}
	if mock == nil {
		mock = &pgwire.SCRAMAuth{}
	}
	key := make([]byte, 32)
	rand.Read(key)
	return &httpAuth{users: n.users, tokens: tokens, mock: mock, key: key, cache: map[[sha256.Size]byte]time.Time{}}, nil
}

// Outcomes of a credentials check.
const (
	authMissing   = iota // none, or wrong: 401
	authForbidden        // a real user without the admin right: 403
	authOK
)

// isProbe reports whether path is open to everyone: the probes an
// orchestrator sends carry no credentials.
func isProbe(path string) bool { return path == "/livez" || path == "/readyz" }

// wrap guards next.
func (a *httpAuth) wrap(next http.Handler) http.Handler {
	if a == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isProbe(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		switch a.check(r) {
		case authOK:
			next.ServeHTTP(w, r)
		case authForbidden:
			http.Error(w, "forbidden: this user does not have the admin right", http.StatusForbidden)
		default:
			if a.users != nil {
				w.Header().Add("WWW-Authenticate", `Basic realm="raftsql", charset="UTF-8"`)
			}
			if a.tokens != nil {
				w.Header().Add("WWW-Authenticate", `Bearer realm="raftsql"`)
			}
			http.Error(w, "unauthorized: credentials of an admin are required", http.StatusUnauthorized)
		}
	})
}

func (a *httpAuth) check(r *http.Request) int {
	h := r.Header.Get("Authorization")
	if scheme, token, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return a.checkToken(strings.TrimSpace(token))
	}
	user, password, ok := r.BasicAuth()
	if !ok || a.users == nil {
		return authMissing
	}
	return a.checkPassword(user, password)
}

func (a *httpAuth) checkToken(token string) int {
	sum := sha256.Sum256([]byte(token))
	found := 0
	for _, t := range a.tokens {
		found |= subtle.ConstantTimeCompare(sum[:], t[:])
	}
	if found == 1 {
		return authOK
	}
	return authMissing
}

// checkPassword verifies a password against the user's SCRAM verifier: it
// derives StoredKey from the password, the salt and the iteration count,
// as a SCRAM client would, and compares. An unknown user costs the same,
// against an invented verifier.
func (a *httpAuth) checkPassword(user, password string) int {
	u, known := a.users[user]
	mac := hmac.New(sha256.New, a.key)
	mac.Write([]byte(user))
	mac.Write([]byte{0})
	mac.Write([]byte(password))
	var ck [sha256.Size]byte
	mac.Sum(ck[:0])
	now := time.Now()
	a.mu.Lock()
	exp, cached := a.cache[ck]
	a.mu.Unlock()
	if !cached || now.After(exp) {
		v := u.Verifier
		if !known {
			v = a.mock.MockVerifier(user)
		}
		got, err := pgwire.NewSCRAMVerifierWithSalt(password, v.Salt, v.Iterations)
		if err != nil || subtle.ConstantTimeCompare(got.StoredKey, v.StoredKey) != 1 || !known {
			return authMissing
		}
		a.mu.Lock()
		if len(a.cache) >= maxHTTPAuthCache {
			clear(a.cache)
		}
		a.cache[ck] = now.Add(httpAuthCacheTTL)
		a.mu.Unlock()
	}
	if !u.Rights.CanAdmin() {
		return authForbidden
	}
	return authOK
}

// httpTLS loads the admin endpoint's certificate, nil without one.
func (n *Node) httpTLS() (*tls.Config, error) {
	if n.cfg.HTTPTLSCertFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(n.cfg.HTTPTLSCertFile, n.cfg.HTTPTLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("admin HTTPS: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
