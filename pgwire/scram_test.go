package pgwire

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The exchange of RFC 7677, section 3.
func TestSCRAMRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	v, err := scramVerifier("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	authMessage := "n=user,r=rOprNGfwEbeRWgbNEkqO," +
		"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," +
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	proof, _ := base64.StdEncoding.DecodeString("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
	clientKey := make([]byte, len(proof))
	subtle.XORBytes(clientKey, proof, hmacSHA256(v.StoredKey, authMessage))
	if stored := sha256.Sum256(clientKey); string(stored[:]) != string(v.StoredKey) {
		t.Fatal("the RFC's client proof does not verify")
	}
	if got := base64.StdEncoding.EncodeToString(hmacSHA256(v.ServerKey, authMessage)); got != "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" {
		t.Fatalf("server signature %s", got)
	}
	back, err := ParseSCRAMVerifier(v.String())
	if err != nil || back.String() != v.String() {
		t.Fatalf("round trip: %v %v", back, err)
	}
	for _, bad := range []string{"", "md5abc", "SCRAM-SHA-256$4096:c2FsdA==$AAAA:BBBB", strings.Replace(v.String(), "$4096:", "$0:", 1)} {
		if _, err := ParseSCRAMVerifier(bad); err == nil {
			t.Errorf("ParseSCRAMVerifier(%q) accepted it", bad)
		}
	}
}

func TestSCRAMAuth(t *testing.T) {
	v, err := NewSCRAMVerifier("s3cret", DefaultSCRAMIterations)
	if err != nil {
		t.Fatal(err)
	}
	auth := &SCRAMAuth{Lookup: func(user string) (SCRAMVerifier, bool) { return v, user == "alice" }}
	_, _, addr := startServer(t, Config{Auth: auth})
	ctx := context.Background()
	c, err := pgx.Connect(ctx, "postgres://alice:s3cret@"+addr+"/db?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatalf("the right password: %v", err)
	}
	c.Close(ctx)
	for _, dsn := range []string{"alice:wrong", "bob:s3cret", "alice"} {
		_, err := pgx.Connect(ctx, "postgres://"+dsn+"@"+addr+"/db?sslmode=disable&connect_timeout=5")
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "28P01" {
			t.Errorf("%s: got %v, want SQLSTATE 28P01", dsn, err)
		}
	}
}

func FuzzSCRAMMessages(f *testing.F) {
	f.Add("n,,n=,r=abc", "c=biws,r=abcdef,p=AAAA")
	f.Add("y,,n=u,r=x", "c=eSws,r=xy,p=")
	f.Add("p=tls-server-end-point,,n=,r=a", ",p=")
	f.Fuzz(func(t *testing.T, first, final string) {
		bare, nonce, gs2, err := parseClientFirst(first)
		if err != nil {
			return
		}
		if bare == "" || nonce == "" || gs2 == "" {
			t.Fatalf("accepted %q without its parts", first)
		}
		parseClientFinal(final, gs2, nonce+"server")
	})
}
