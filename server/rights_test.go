package server_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/pgwire"
	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// writeUsers writes a password file with an admin, a writer (no rights
// field: the default) and a reader, and returns its path.
func writeUsers(t *testing.T, dir string) string {
	t.Helper()
	reader, err := pgwire.NewSCRAMVerifier("reader pw", 4096)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "passwords")
	text := "admin:admin pw rights=admin\nwriter:writer pw\nreader:" + reader.String() + "\trights=read\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func connectAs(t *testing.T, c *servertest.Cluster, node int, user, password string, params ...string) *pgx.Conn {
	t.Helper()
	host, port, _ := strings.Cut(c.PGAddr(node), ":")
	dsn := fmt.Sprintf("postgres://%s:%s@%s:%s/raftsql?sslmode=disable&connect_timeout=10", user, strings.ReplaceAll(password, " ", "%20"), host, port)
	for _, p := range params {
		dsn += "&" + p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("%s on node %d: %v", user, node, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func wantState(t *testing.T, what string, err error, state string) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != state {
		t.Errorf("%s: got %v, want SQLSTATE %s", what, err, state)
	}
}

// A user with rights=read reads on every node and at every consistency
// level, strong reads through the log included, and every write it tries is
// refused with 42501: on the leader, through a follower, inside a
// transaction block on a follower, and by COPY (pgx's and psql's); nothing
// of it reaches any node.
func TestReadOnlyUser(t *testing.T) {
	passwords := writeUsers(t, t.TempDir())
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) {
		cfg.PGPasswordFile = passwords
	}})
	leader, follower := c.Leader(), c.Follower()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	w := connectAs(t, c, follower, "writer", "writer pw")
	if _, err := w.Exec(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(ctx, "INSERT INTO t VALUES (1, 'one')"); err != nil {
		t.Fatal(err)
	}

	for _, node := range []int{leader, follower} {
		r := connectAs(t, c, node, "reader", "reader pw")
		where := fmt.Sprintf("node %d (leader %d)", node, leader)
		for _, sql := range []string{"INSERT INTO t VALUES (2, 'two')", "UPDATE t SET v = 'x'", "DELETE FROM t", "DROP TABLE t", "CREATE TABLE u (x)"} {
			_, err := r.Exec(ctx, sql)
			wantState(t, where+": "+sql, err, "42501")
		}
		// Inside a transaction block: the block runs on the leader.
		tx, err := r.Begin(ctx)
		if err != nil {
			t.Fatalf("%s: BEGIN: %v", where, err)
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
			t.Fatalf("%s: read in a block: %d %v", where, n, err)
		}
		_, err = tx.Exec(ctx, "INSERT INTO t VALUES (3, 'three')")
		wantState(t, where+": INSERT in a block", err, "42501")
		if err := tx.Commit(ctx); !errors.Is(err, pgx.ErrTxCommitRollback) {
			t.Errorf("%s: COMMIT after the refused write: %v, want it rolled back", where, err)
		}
		// COPY FROM, pgx's binary COPY.
		_, err = r.CopyFrom(ctx, pgx.Identifier{"t"}, []string{"id", "v"}, pgx.CopyFromRows([][]any{{int64(4), "four"}}))
		wantState(t, where+": COPY FROM", err, "42501")
		// Reads work at every level; strong goes through the log.
		for _, level := range []string{"linearizable", "strong", "weak", "none"} {
			if _, err := r.Exec(ctx, "SET raftsql.read_consistency = "+level); err != nil {
				t.Fatal(err)
			}
			if err := r.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
				t.Errorf("%s: read at %s: %d %v", where, level, n, err)
			}
		}
	}

	if psql, err := exec.LookPath("psql"); err == nil {
		csv := filepath.Join(t.TempDir(), "rows.csv")
		os.WriteFile(csv, []byte("5,five\n"), 0o600)
		host, port, _ := strings.Cut(c.PGAddr(follower), ":")
		cmd := exec.CommandContext(ctx, psql, "-h", host, "-p", port, "-U", "reader", "-d", "raftsql", "-X", "-v", "ON_ERROR_STOP=1",
			"-c", `\copy t FROM '`+csv+`' WITH (FORMAT csv)`)
		cmd.Env = append(cmd.Environ(), "PGPASSWORD=reader pw", "PGCONNECT_TIMEOUT=10", "PGSSLMODE=disable")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "permission denied") {
			t.Errorf("psql \\copy as reader: %v\n%s", err, out)
		}
	}

	// The writer still writes; then every node holds exactly its rows.
	if _, err := w.Exec(ctx, "INSERT INTO t VALUES (6, 'six')"); err != nil {
		t.Fatal(err)
	}
	c.EnsureSame()
	for i := 0; i < c.Size(); i++ {
		res, err := c.Node(i).Query(ctx, []command.Statement{{SQL: "SELECT group_concat(id) FROM t"}}, server.ReadNone)
		if err != nil || res.Statements[0].Rows[0][0].Any() != "1,6" {
			t.Errorf("node %d holds %v %v, want ids 1,6", i, res, err)
		}
	}
}

// The leader checks the identity a follower sends, whatever the follower
// checked itself: a forwarded write or relayed block of a read-only user,
// a request without identity, of another protocol version (or of an
// unversioned node), or a node speaking for another are refused, and
// nothing is applied.
func TestSideChannelRefusals(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	leader, follower := c.Leader(), c.Follower()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := c.Node(follower)
	if _, err := f.Execute(ctx, []command.Statement{{SQL: "CREATE TABLE t (v)"}}, command.RequestID{}); err != nil {
		t.Fatal(err)
	}
	insert := command.Encode(&command.Command{Kind: command.KindExecute, Statements: []command.Statement{{SQL: "INSERT INTO t VALUES ('bad')"}}})
	leaderAddr := c.Node(leader).RaftAddr()
	for _, tc := range []struct {
		name string
		body []byte
		kind byte
	}{
		{"read-only user's write", server.SideChannelRequest(0, server.ReqExecute, server.IdentClient, "reader", server.RightsRead, insert), server.ErrKindDenied},
		{"read-only user's relayed block", server.SideChannelRequest(0, server.ReqSession, server.IdentClient, "reader", server.RightsRead, server.SessionPayload("linearizable", insert)), 0},
		{"no identity", server.SideChannelRequest(0, server.ReqExecute, server.IdentNone, "", server.RightsAdmin, insert), server.ErrKindDenied},
		{"a node's own identity running SQL", server.SideChannelRequest(0, server.ReqExecute, server.IdentNode, f.ID(), 0, insert), server.ErrKindDenied},
		{"a node speaking for another", server.SideChannelRequest(0, server.ReqReadIndex, server.IdentNode, "someone-else", 0, nil), server.ErrKindDenied},
		{"protocol version 2", server.SideChannelRequest(server.ProtocolVersion+1, server.ReqExecute, server.IdentClient, "writer", server.RightsWrite, insert), server.ErrKindVersion},
		// Answered in the unversioned format, so that such a node shows why.
		{"an unversioned node's request", append([]byte{server.ReqExecute}, insert...), 0},
	} {
		ok, kind, msg, payload, err := f.RawSideChannelPayload(ctx, leaderAddr, tc.body)
		switch {
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.name == "read-only user's relayed block":
			// The block's statement fails inside the relayed session, as
			// the client's would, with the client's SQLSTATE.
			state, err := server.SessionAnswerState(payload)
			if !ok || err != nil || state != "42501" {
				t.Errorf("%s: ok=%v kind=%d %q, state %q %v; want a session answer with 42501", tc.name, ok, kind, msg, state, err)
			}
		case ok || kind != tc.kind:
			t.Errorf("%s: ok=%v kind=%d %q, want kind %d", tc.name, ok, kind, msg, tc.kind)
		case (tc.kind == server.ErrKindVersion || tc.kind == 0) && !strings.Contains(msg, "version"):
			t.Errorf("%s: %q does not say which version", tc.name, msg)
		}
	}
	// A node that is not a member of this cluster gets nothing done, even
	// with a writer's identity: it is refused at the connection or at the
	// request.
	outsider := servertest.NewCluster(t, 1, servertest.Options{Configure: func(_ int, cfg *server.Config) { cfg.ID = "outsider" }})
	ok, kind, msg, err := outsider.Node(0).RawSideChannel(ctx, leaderAddr, server.SideChannelRequest(0, server.ReqExecute, server.IdentClient, "writer", server.RightsWrite, insert))
	if err == nil && (ok || kind != server.ErrKindDenied || !strings.Contains(msg, "not a member")) {
		t.Errorf("a non-member's write: ok=%v kind=%d %q, want it refused", ok, kind, msg)
	}
	// Nor may it join as another node.
	join := append(binaryString("n9"), binaryString("127.0.0.1:1")...)
	ok, kind, msg, err = outsider.Node(0).RawSideChannel(ctx, leaderAddr, server.SideChannelRequest(0, server.ReqJoin, server.IdentNode, "outsider", 0, join))
	if err == nil && (ok || kind != server.ErrKindDenied || !strings.Contains(msg, "only as itself")) {
		t.Errorf("a join as another node: ok=%v kind=%d %q, want it refused", ok, kind, msg)
	}
	// A write with a writer's identity goes through: the refusals above
	// were for their reasons, not for the connection.
	ok, kind, msg, err = f.RawSideChannel(ctx, leaderAddr, server.SideChannelRequest(0, server.ReqExecute, server.IdentClient, "writer", server.RightsWrite,
		command.Encode(&command.Command{Kind: command.KindExecute, Statements: []command.Statement{{SQL: "INSERT INTO t VALUES ('good')"}}})))
	if err != nil || !ok {
		t.Fatalf("writer's forwarded write: %v kind %d %s", err, kind, msg)
	}
	c.EnsureSame()
	for i := 0; i < c.Size(); i++ {
		res, err := c.Node(i).Query(ctx, []command.Statement{{SQL: "SELECT group_concat(v) FROM t"}}, server.ReadNone)
		if err != nil || res.Statements[0].Rows[0][0].Any() != "good" {
			t.Errorf("node %d holds %v %v, want only 'good'", i, res, err)
		}
	}
}

// binaryString is a string as the side channel encodes one.
func binaryString(s string) []byte {
	return append(binary.AppendUvarint(nil, uint64(len(s))), s...)
}
