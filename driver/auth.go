package driver

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// md5Password is the answer to AuthenticationMD5Password:
// "md5" + hex(md5(hex(md5(password + user)) + salt)).
func md5Password(user, password string, salt [4]byte) string {
	h := md5.Sum([]byte(password + user))
	inner := hex.EncodeToString(h[:])
	h = md5.Sum(append([]byte(inner), salt[:]...))
	return "md5" + hex.EncodeToString(h[:])
}

// pbkdf2SHA256 is PBKDF2 (RFC 8018) with HMAC-SHA-256, for keyLen bytes.
func pbkdf2SHA256(password, salt []byte, iter, keyLen int) []byte {
	prf := hmac.New(sha256.New, password)
	hLen := prf.Size()
	blocks := (keyLen + hLen - 1) / hLen
	out := make([]byte, 0, blocks*hLen)
	u := make([]byte, hLen)
	t := make([]byte, hLen)
	var idx [4]byte
	for block := 1; block <= blocks; block++ {
		binary.BigEndian.PutUint32(idx[:], uint32(block))
		prf.Reset()
		prf.Write(salt)
		prf.Write(idx[:])
		u = prf.Sum(u[:0])
		copy(t, u)
		for i := 1; i < iter; i++ {
			prf.Reset()
			prf.Write(u)
			u = prf.Sum(u[:0])
			for j := range t {
				t[j] ^= u[j]
			}
		}
		out = append(out, t...)
	}
	return out[:keyLen]
}

// scramClient is the client side of SCRAM-SHA-256 (RFC 5802, RFC 7677)
// without channel binding, as Postgres uses it.
type scramClient struct {
	user, password string
	nonce          string // client nonce
	firstBare      string
	serverSig      []byte
}

const scramMechanism = "SCRAM-SHA-256"

func newSCRAMClient(user, password string) (*scramClient, error) {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	return &scramClient{user: user, password: password, nonce: base64.RawStdEncoding.EncodeToString(b[:])}, nil
}

// saslName escapes a SCRAM user name.
func saslName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

// first returns the client-first-message.
func (c *scramClient) first() []byte {
	c.firstBare = "n=" + saslName(c.user) + ",r=" + c.nonce
	return []byte("n,," + c.firstBare)
}

// final reads the server-first-message and returns the client-final-message.
func (c *scramClient) final(serverFirst []byte) ([]byte, error) {
	var nonce, salt64, iters string
	for _, attr := range strings.Split(string(serverFirst), ",") {
		k, v, ok := strings.Cut(attr, "=")
		if !ok {
			continue
		}
		switch k {
		case "r":
			nonce = v
		case "s":
			salt64 = v
		case "i":
			iters = v
		case "m":
			return nil, errors.New("raftsql: SCRAM: server requires an unsupported extension")
		}
	}
	if !strings.HasPrefix(nonce, c.nonce) || len(nonce) == len(c.nonce) {
		return nil, errors.New("raftsql: SCRAM: server nonce does not extend the client nonce")
	}
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil || len(salt) == 0 {
		return nil, errors.New("raftsql: SCRAM: bad salt from server")
	}
	iter, err := strconv.Atoi(iters)
	if err != nil || iter < 1 || iter > 10_000_000 {
		return nil, fmt.Errorf("raftsql: SCRAM: bad iteration count %q", iters)
	}
	salted := pbkdf2SHA256([]byte(c.password), salt, iter, sha256.Size)
	clientKey := hmacSHA256(salted, []byte("Client Key"))
	storedKey := sha256.Sum256(clientKey)
	serverKey := hmacSHA256(salted, []byte("Server Key"))
	withoutProof := "c=biws,r=" + nonce
	authMessage := []byte(c.firstBare + "," + string(serverFirst) + "," + withoutProof)
	clientSig := hmacSHA256(storedKey[:], authMessage)
	proof := make([]byte, len(clientKey))
	for i := range clientKey {
		proof[i] = clientKey[i] ^ clientSig[i]
	}
	c.serverSig = hmacSHA256(serverKey, authMessage)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// verify checks the server-final-message.
func (c *scramClient) verify(serverFinal []byte) error {
	if e, ok := bytes.CutPrefix(serverFinal, []byte("e=")); ok {
		return fmt.Errorf("raftsql: SCRAM: server error %q", e)
	}
	v, ok := bytes.CutPrefix(serverFinal, []byte("v="))
	if !ok {
		return errors.New("raftsql: SCRAM: malformed server-final-message")
	}
	if i := bytes.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	sig, err := base64.StdEncoding.DecodeString(string(v))
	if err != nil || subtle.ConstantTimeCompare(sig, c.serverSig) != 1 {
		return errors.New("raftsql: SCRAM: server signature does not match; the server does not know the password")
	}
	return nil
}

func hmacSHA256(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}
