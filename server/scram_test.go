package server_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// offeredSalt starts a SCRAM exchange as user and returns the salt and
// iteration count of the server's first message, as "salt iterations".
func offeredSalt(t *testing.T, addr, user string) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": user, "database": "raftsql"}})
	fe.Send(&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte("n,,n=,r=clientnonce")})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		if c, ok := msg.(*pgproto3.AuthenticationSASLContinue); ok {
			for _, attr := range strings.Split(string(c.Data), ",") {
				if salt, ok := strings.CutPrefix(attr, "s="); ok {
					return salt + " " + iterationsOf(string(c.Data))
				}
			}
			t.Fatalf("%s: no salt in %q", user, c.Data)
		}
	}
}

func iterationsOf(s string) string {
	for _, attr := range strings.Split(s, ",") {
		if v, ok := strings.CutPrefix(attr, "i="); ok {
			return v
		}
	}
	return ""
}

// Every node that reads the same password file offers the same salt for a
// user, known or not: a password given in clear and an unknown user alike,
// so that asking several nodes tells nothing either.
func TestSCRAMSaltsAgreeAcrossNodes(t *testing.T) {
	passwords := writeUsers(t, t.TempDir())
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) {
		cfg.PGPasswordFile = passwords
	}})
	for _, user := range []string{"admin", "reader", "nobody", "somebody"} {
		first := offeredSalt(t, c.PGAddr(0), user)
		for i := 1; i < c.Size(); i++ {
			if got := offeredSalt(t, c.PGAddr(i), user); got != first {
				t.Errorf("%s: node %d offers %s, node 0 %s", user, i, got, first)
			}
		}
	}
	if a, b := offeredSalt(t, c.PGAddr(0), "nobody"), offeredSalt(t, c.PGAddr(0), "somebody"); a == b {
		t.Errorf("two unknown users get the same salt %s", a)
	}
}
