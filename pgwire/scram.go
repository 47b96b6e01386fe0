package pgwire

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgproto3"
)

// SCRAM-SHA-256 (RFC 5802, RFC 7677) as Postgres speaks it: the password
// never crosses the wire, and the server keeps only a verifier from which
// the password cannot be recovered. Channel binding is not offered.

const scramMechanism = "SCRAM-SHA-256"

// DefaultSCRAMIterations is the PBKDF2 iteration count of new verifiers,
// Postgres' default.
const DefaultSCRAMIterations = 4096

// SCRAMVerifier is what the server keeps of a password, in Postgres'
// format: SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.
type SCRAMVerifier struct {
	Iterations int
	Salt       []byte
	StoredKey  []byte
	ServerKey  []byte
}

// NewSCRAMVerifier derives the verifier of password with a random salt.
func NewSCRAMVerifier(password string, iterations int) (SCRAMVerifier, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return SCRAMVerifier{}, err
	}
	return scramVerifier(password, salt, iterations)
}

// NewSCRAMVerifierWithSalt derives the verifier of password with the given
// salt, for a password that must give the same verifier on every node.
func NewSCRAMVerifierWithSalt(password string, salt []byte, iterations int) (SCRAMVerifier, error) {
	return scramVerifier(password, salt, iterations)
}

// pbkdf2Runs counts the PBKDF2 derivations of this process; tests read it
// to prove that authenticating a client never pays for one.
var pbkdf2Runs atomic.Int64

func scramVerifier(password string, salt []byte, iterations int) (SCRAMVerifier, error) {
	pbkdf2Runs.Add(1)
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return SCRAMVerifier{}, err
	}
	stored := sha256.Sum256(hmacSHA256(salted, "Client Key"))
	return SCRAMVerifier{Iterations: iterations, Salt: salt, StoredKey: stored[:], ServerKey: hmacSHA256(salted, "Server Key")}, nil
}

// ParseSCRAMVerifier reads a verifier in Postgres' format.
func ParseSCRAMVerifier(s string) (SCRAMVerifier, error) {
	bad := errors.New("not a SCRAM-SHA-256 verifier (want SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>)")
	rest, ok := strings.CutPrefix(s, scramMechanism+"$")
	if !ok {
		return SCRAMVerifier{}, bad
	}
	params, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return SCRAMVerifier{}, bad
	}
	iter, salt, ok1 := strings.Cut(params, ":")
	stored, server, ok2 := strings.Cut(keys, ":")
	if !ok1 || !ok2 {
		return SCRAMVerifier{}, bad
	}
	var v SCRAMVerifier
	var err error
	if v.Iterations, err = strconv.Atoi(iter); err != nil || v.Iterations < 1 {
		return SCRAMVerifier{}, bad
	}
	for _, f := range []struct {
		dst *[]byte
		src string
	}{{&v.Salt, salt}, {&v.StoredKey, stored}, {&v.ServerKey, server}} {
		if *f.dst, err = base64.StdEncoding.DecodeString(f.src); err != nil {
			return SCRAMVerifier{}, bad
		}
	}
	if len(v.StoredKey) != sha256.Size || len(v.ServerKey) != sha256.Size || len(v.Salt) == 0 {
		return SCRAMVerifier{}, bad
	}
	return v, nil
}

func (v SCRAMVerifier) String() string {
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("%s$%d:%s$%s:%s", scramMechanism, v.Iterations, b64(v.Salt), b64(v.StoredKey), b64(v.ServerKey))
}

// SCRAMAuth authenticates clients with SCRAM-SHA-256 against the verifier
// Lookup returns for the StartupMessage's user.
//
// A user Lookup does not know goes through the same exchange with an
// invented verifier and fails at its end, so that a client cannot tell
// which users exist: the invented salt is HMAC(MockSecret, user), as long
// and as encoded as a real one and the same at every attempt, its
// iteration count is the real users', and its keys are HMACs too, so that
// no PBKDF2 runs for an unknown user, as none runs for a known one (their
// verifiers are computed beforehand). The invented verifier is derived for
// every client, known or not, so both take the same steps.
type SCRAMAuth struct {
	Lookup func(user string) (SCRAMVerifier, bool)
	// MockSecret keys the invented verifiers. Nodes that share a password
	// file should share it too, or the salts they invent would differ where
	// real ones agree. Nil: a random secret of this process.
	MockSecret []byte
	// MockIterations and MockSaltLen shape the invented verifiers; give the
	// ones the real verifiers have (0: DefaultSCRAMIterations, and the
	// 16-byte salts NewSCRAMVerifier makes).
	MockIterations int
	MockSaltLen    int

	secretOnce sync.Once
	secret     []byte
}

// DeriveSCRAMSalt returns n bytes of HMAC-SHA-256(secret, label, user): a
// salt that looks random, is the same for the same secret and user, and
// tells nothing of either.
func DeriveSCRAMSalt(secret []byte, label, user string, n int) []byte {
	out := make([]byte, 0, n+sha256.Size)
	for block := byte(0); len(out) < n; block++ {
		h := hmac.New(sha256.New, secret)
		h.Write([]byte{block})
		h.Write([]byte(label))
		h.Write([]byte{0})
		h.Write([]byte(user))
		out = h.Sum(out)
	}
	return out[:n]
}

// MockVerifier is the verifier invented for user, who Lookup does not know.
func (a *SCRAMAuth) MockVerifier(user string) SCRAMVerifier {
	a.secretOnce.Do(func() {
		a.secret = a.MockSecret
		if len(a.secret) == 0 {
			a.secret = make([]byte, 32)
			rand.Read(a.secret)
		}
	})
	iterations := a.MockIterations
	if iterations <= 0 {
		iterations = DefaultSCRAMIterations
	}
	saltLen := a.MockSaltLen
	if saltLen <= 0 {
		saltLen = 16
	}
	return SCRAMVerifier{
		Iterations: iterations,
		Salt:       DeriveSCRAMSalt(a.secret, "mock salt", user, saltLen),
		StoredKey:  DeriveSCRAMSalt(a.secret, "mock stored key", user, sha256.Size),
		ServerKey:  DeriveSCRAMSalt(a.secret, "mock server key", user, sha256.Size),
	}
}

func (a *SCRAMAuth) Authenticate(ctx context.Context, ex *AuthExchange) error {
	mock := a.MockVerifier(ex.User)
	v, known := a.Lookup(ex.User)
	if !known {
		v = mock
	}
	failed := errors.New("wrong password or unknown user") // sent as 28P01, without saying which
	if err := ex.Send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{scramMechanism}}); err != nil {
		return err
	}
	msg, err := ex.Receive()
	if err != nil {
		return err
	}
	first, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok || first.AuthMechanism != scramMechanism {
		return &Error{Code: "28000", Message: "expected a SASL response for " + scramMechanism}
	}
	clientFirstBare, clientNonce, gs2, err := parseClientFirst(string(first.Data))
	if err != nil {
		return err
	}
	nonce := make([]byte, 18)
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	serverNonce := clientNonce + base64.RawStdEncoding.EncodeToString(nonce)
	serverFirst := fmt.Sprintf("r=%s,s=%s,i=%d", serverNonce, base64.StdEncoding.EncodeToString(v.Salt), v.Iterations)
	if err := ex.Send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)}); err != nil {
		return err
	}
	if msg, err = ex.Receive(); err != nil {
		return err
	}
	final, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		return &Error{Code: "28000", Message: "expected a SASL response"}
	}
	withoutProof, proof, err := parseClientFinal(string(final.Data), gs2, serverNonce)
	if err != nil {
		return err
	}
	authMessage := clientFirstBare + "," + serverFirst + "," + withoutProof
	signature := hmacSHA256(v.StoredKey, authMessage)
	if len(proof) != len(signature) {
		return failed
	}
	clientKey := make([]byte, len(proof))
	subtle.XORBytes(clientKey, proof, signature)
	stored := sha256.Sum256(clientKey)
	if subtle.ConstantTimeCompare(stored[:], v.StoredKey) != 1 || !known {
		return failed
	}
	serverFinal := "v=" + base64.StdEncoding.EncodeToString(hmacSHA256(v.ServerKey, authMessage))
	return ex.Send(&pgproto3.AuthenticationSASLFinal{Data: []byte(serverFinal)})
}

// parseClientFirst reads "n,,n=user,r=nonce" (or "y,,…": the client could
// bind the channel but thinks the server cannot). The user name in it is
// ignored: Postgres takes the StartupMessage's.
func parseClientFirst(s string) (bare, nonce, gs2 string, err error) {
	malformed := &Error{Code: "08P01", Message: "malformed SCRAM message"}
	var rest string
	switch {
	case strings.HasPrefix(s, "n,"), strings.HasPrefix(s, "y,"):
		i := strings.Index(s[2:], ",")
		if i < 0 {
			return "", "", "", malformed
		}
		gs2, rest = s[:2+i+1], s[2+i+1:]
	case strings.HasPrefix(s, "p="):
		return "", "", "", &Error{Code: "28000", Message: "channel binding is not supported"}
	default:
		return "", "", "", malformed
	}
	for _, attr := range strings.Split(rest, ",") {
		if v, ok := strings.CutPrefix(attr, "r="); ok {
			nonce = v
		}
	}
	if nonce == "" || !strings.HasPrefix(rest, "n=") {
		return "", "", "", malformed
	}
	return rest, nonce, gs2, nil
}

// parseClientFinal reads "c=<gs2 header>,r=<nonce>,p=<proof>" and returns
// the message without its proof, and the proof.
func parseClientFinal(s, gs2, nonce string) (withoutProof string, proof []byte, err error) {
	malformed := &Error{Code: "08P01", Message: "malformed SCRAM message"}
	i := strings.LastIndex(s, ",p=")
	if i < 0 {
		return "", nil, malformed
	}
	withoutProof = s[:i]
	if proof, err = base64.StdEncoding.DecodeString(s[i+3:]); err != nil {
		return "", nil, malformed
	}
	var binding, gotNonce string
	for _, attr := range strings.Split(withoutProof, ",") {
		if v, ok := strings.CutPrefix(attr, "c="); ok {
			binding = v
		} else if v, ok := strings.CutPrefix(attr, "r="); ok {
			gotNonce = v
		}
	}
	header, err := base64.StdEncoding.DecodeString(binding)
	if err != nil || !bytes.Equal(header, []byte(gs2)) || gotNonce != nonce {
		return "", nil, &Error{Code: "28000", Message: "SCRAM channel binding or nonce does not match"}
	}
	return withoutProof, proof, nil
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}
