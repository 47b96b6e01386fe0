package pgwire

import (
	"context"
	"encoding/base64"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
)

// serverFirst runs a SCRAM exchange as user up to the server's first
// message and returns its salt (as sent, base64) and iteration count; it
// then sends a wrong proof and checks that the server refuses it.
func serverFirst(t *testing.T, addr, user string) (salt, iterations string) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": user, "database": "db"}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	msg, err := fe.Receive()
	if _, ok := msg.(*pgproto3.AuthenticationSASL); err != nil || !ok {
		t.Fatalf("%s: want AuthenticationSASL, got %T %v", user, msg, err)
	}
	fe.Send(&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte("n,,n=,r=clientnonce")})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	msg, err = fe.Receive()
	cont, ok := msg.(*pgproto3.AuthenticationSASLContinue)
	if err != nil || !ok {
		t.Fatalf("%s: want AuthenticationSASLContinue, got %T %v", user, msg, err)
	}
	var nonce string
	for _, attr := range strings.Split(string(cont.Data), ",") {
		k, v, _ := strings.Cut(attr, "=")
		switch k {
		case "r":
			nonce = v
		case "s":
			salt = v
		case "i":
			iterations = v
		}
	}
	proof := base64.StdEncoding.EncodeToString(make([]byte, 32))
	fe.Send(&pgproto3.SASLResponse{Data: []byte("c=biws,r=" + nonce + ",p=" + proof)})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	msg, err = fe.Receive()
	if e, ok := msg.(*pgproto3.ErrorResponse); err != nil || !ok || e.Code != "28P01" {
		t.Fatalf("%s with a wrong proof: got %T %+v %v, want 28P01", user, msg, msg, err)
	}
	return salt, iterations
}

// SCRAM offers no oracle of which users exist: the salt invented for an
// unknown user is stable (the same at every attempt, and for a server with
// the same secret), differs between users and between secrets, and has the
// length, encoding and iteration count of the real ones; and neither a
// known nor an unknown user makes the server run PBKDF2.
func TestSCRAMUnknownUsers(t *testing.T) {
	real, err := NewSCRAMVerifier("s3cret", 10000)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("a secret of thirty-two bytes....")
	newAuth := func(secret []byte) *SCRAMAuth {
		return &SCRAMAuth{
			Lookup:         func(user string) (SCRAMVerifier, bool) { return real, user == "alice" },
			MockSecret:     secret,
			MockIterations: real.Iterations,
			MockSaltLen:    len(real.Salt),
		}
	}
	_, _, addr := startServer(t, Config{Auth: newAuth(secret)})
	_, _, sameSecret := startServer(t, Config{Auth: newAuth(secret)})
	_, _, otherSecret := startServer(t, Config{Auth: newAuth([]byte("another secret, also 32 bytes..."))})

	before := pbkdf2Runs.Load()
	realSalt, realIter := serverFirst(t, addr, "alice")
	if realSalt != base64.StdEncoding.EncodeToString(real.Salt) || realIter != "10000" {
		t.Fatalf("alice: salt %s, %s iterations; want her verifier's", realSalt, realIter)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, "postgres://alice:s3cret@"+addr+"/db?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatalf("alice with her password: %v", err)
	}
	conn.Close(ctx)

	bob1, bobIter := serverFirst(t, addr, "bob")
	bob2, _ := serverFirst(t, addr, "bob")
	carol, _ := serverFirst(t, addr, "carol")
	bobSame, _ := serverFirst(t, sameSecret, "bob")
	bobOther, _ := serverFirst(t, otherSecret, "bob")
	if runs := pbkdf2Runs.Load() - before; runs != 0 {
		t.Errorf("the server ran PBKDF2 %d times to authenticate", runs)
	}
	if bob1 != bob2 || bob1 != bobSame {
		t.Errorf("bob's salt is not stable: %s, %s, %s (same secret)", bob1, bob2, bobSame)
	}
	if bob1 == carol || bob1 == bobOther {
		t.Errorf("invented salts repeat: bob %s, carol %s, bob under another secret %s", bob1, carol, bobOther)
	}
	for _, s := range []string{bob1, carol, bobOther} {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(s) != len(realSalt) || len(raw) != len(real.Salt) {
			t.Errorf("invented salt %q (%d bytes, %v) does not look like the real %q", s, len(raw), err, realSalt)
		}
		if strings.Contains(string(raw), "bob") || strings.Contains(string(raw), "carol") || strings.Contains(string(raw), "raftsql") {
			t.Errorf("invented salt %q reveals its user", raw)
		}
	}
	if bobIter != realIter {
		t.Errorf("unknown users get %s iterations, real ones %s", bobIter, realIter)
	}
}
