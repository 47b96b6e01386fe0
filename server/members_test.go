package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

func memberMap(t *testing.T, n *server.Node) map[string]server.Member {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ms, err := n.Members(ctx)
	if err != nil {
		t.Fatalf("members: %v", err)
	}
	out := map[string]server.Member{}
	for _, m := range ms {
		out[m.ID] = m
	}
	return out
}

func writeWithin(t *testing.T, c *servertest.Cluster, what string, sql string) {
	t.Helper()
	servertest.Eventually(t, 30*time.Second, what, func() error {
		l := c.WaitLeader()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, c.DSN(l))
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(ctx, sql)
		return err
	})
}

// A voter that is gone for good is removed; afterwards the cluster of the
// three that remain survives losing one more.
func TestRemovedVoterCostsNoQuorum(t *testing.T) {
	c := servertest.NewCluster(t, 4, servertest.Options{})
	conn := connect(t, c, c.Leader())
	mustExec(t, conn, "CREATE TABLE t (x INTEGER)")
	l := c.Leader()
	var gone, asker, next int = -1, -1, -1
	for i := 0; i < 4; i++ {
		switch {
		case i == l:
		case gone < 0:
			gone = i
		case asker < 0:
			asker = i
		case next < 0:
			next = i
		}
	}
	c.Stop(gone)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Asked of a follower: forwarded to the leader.
	mc, err := c.Node(asker).RemoveMember(ctx, servertest.NodeID(gone), "test")
	if err != nil {
		t.Fatalf("remove %s: %v", servertest.NodeID(gone), err)
	}
	if !strings.Contains(mc.Message, "3 voters") || !strings.Contains(mc.Message, "quorum is 2") {
		t.Fatalf("remove said %q, want the 3 voters and the quorum of 2 that remain", mc.Message)
	}
	ms := memberMap(t, c.Node(c.Leader()))
	if _, ok := ms[servertest.NodeID(gone)]; ok || len(ms) != 3 {
		t.Fatalf("members after remove: %v", ms)
	}
	c.Stop(next)
	writeWithin(t, c, "a write with 2 of 3 voters", "INSERT INTO t VALUES (1)")
	c.EnsureSame()
}

// A non-voter catches up, serves reads at none and linearizable, and
// neither it nor its loss counts for quorum.
func TestNonVoterIsAReadReplica(t *testing.T) {
	c := servertest.NewCluster(t, 4, servertest.Options{Configure: func(i int, cfg *server.Config) {
		cfg.NonVoter = i == 3
	}})
	ms := memberMap(t, c.Node(c.Leader()))
	if m := ms["n4"]; m.Voter || m.Role != "follower" {
		t.Fatalf("n4 = %+v, want a non-voting follower", m)
	}
	for _, id := range []string{"n1", "n2", "n3"} {
		if !ms[id].Voter {
			t.Fatalf("%s is not a voter: %+v", id, ms[id])
		}
	}
	w := connect(t, c, c.Leader())
	mustExec(t, w, "CREATE TABLE t (x INTEGER)")
	for i := 0; i < 10; i++ {
		mustExec(t, w, "INSERT INTO t VALUES ($1)", i)
	}
	r := connect(t, c, 3)
	if n := count(t, r, "SELECT count(*) FROM t"); n != 10 {
		t.Fatalf("linearizable read on the non-voter: %d rows, want 10", n)
	}
	mustExec(t, r, "SET raftsql.read_consistency = none")
	servertest.Eventually(t, 10*time.Second, "the non-voter caught up", func() error {
		if n := count(t, r, "SELECT count(*) FROM t"); n != 10 {
			return fmt.Errorf("%d rows", n)
		}
		return nil
	})
	c.EnsureSame()
	// Stop the non-voter and a voting follower: 2 of 3 voters remain.
	c.Stop(3)
	l := c.Leader()
	for i := 0; i < 3; i++ {
		if i != l {
			c.Stop(i)
			break
		}
	}
	writeWithin(t, c, "a write with 2 of 3 voters and no non-voter", "INSERT INTO t VALUES (100)")
	c.EnsureSame()
}

func TestTransferLeaderAndLastVoter(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	l := c.Leader()
	to := (l + 1) % 3
	asker := (l + 2) % 3
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Node(asker).TransferLeadership(ctx, servertest.NodeID(to), "test"); err != nil {
		t.Fatalf("transfer to %s: %v", servertest.NodeID(to), err)
	}
	servertest.Eventually(t, 10*time.Second, "the new leader", func() error {
		if got := c.WaitLeader(); got != to {
			return fmt.Errorf("node %d leads, want %d", got, to)
		}
		return nil
	})
	// Demote, remove both others: the last voter cannot go.
	if _, err := c.Node(asker).DemoteMember(ctx, servertest.NodeID(asker), "test"); err != nil {
		t.Fatalf("demote: %v", err)
	}
	if m := memberMap(t, c.Node(to))[servertest.NodeID(asker)]; m.Voter {
		t.Fatalf("demoted member is still a voter: %+v", m)
	}
	if _, err := c.Node(to).PromoteMember(ctx, servertest.NodeID(asker), "test"); err != nil {
		t.Fatalf("promote: %v", err)
	}
	if m := memberMap(t, c.Node(to))[servertest.NodeID(asker)]; !m.Voter {
		t.Fatalf("promoted member is not a voter: %+v", m)
	}
	for _, i := range []int{l, asker} {
		c.Stop(i)
		if _, err := c.Node(to).RemoveMember(ctx, servertest.NodeID(i), "test"); err != nil {
			t.Fatalf("remove %d: %v", i, err)
		}
	}
	_, err := c.Node(to).RemoveMember(ctx, servertest.NodeID(to), "test")
	if !errors.Is(err, server.ErrMembershipRefused) || !strings.Contains(err.Error(), "last voter") {
		t.Fatalf("removing the last voter: %v, want a refusal naming the last voter", err)
	}
	if _, err := c.Node(to).DemoteMember(ctx, servertest.NodeID(to), "test"); !errors.Is(err, server.ErrMembershipRefused) {
		t.Fatalf("demoting the last voter: %v, want a refusal", err)
	}
	if _, err := c.Node(to).TransferLeadership(ctx, "nobody", "test"); !errors.Is(err, server.ErrMembershipRefused) {
		t.Fatalf("transfer to a stranger: %v, want a refusal", err)
	}
}

func TestLeaveOnShutdown(t *testing.T) {
	c := servertest.NewCluster(t, 4, servertest.Options{Configure: func(i int, cfg *server.Config) {
		cfg.LeaveOnShutdown = true
	}})
	// The leader leaves too: it hands leadership over first.
	l := c.Leader()
	c.Stop(l)
	servertest.Eventually(t, 20*time.Second, "the leader left", func() error {
		if ms := memberMap(t, c.Node(c.Leader())); len(ms) != 3 {
			return fmt.Errorf("%d members", len(ms))
		}
		return nil
	})
	f := c.Follower()
	c.Stop(f)
	// 2 voters of 2 remain: a write still commits.
	writeWithin(t, c, "a write after two members left", "CREATE TABLE t (x INTEGER)")
	if ms := memberMap(t, c.Node(c.Leader())); len(ms) != 2 {
		t.Fatalf("members after two left: %v", ms)
	}
}

func httpGet(addr, path string) (int, string, error) {
	cl := &http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get("http://" + addr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestReadyzFollowsLeaderAndLag(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		cfg.ReadyMaxLag = 5
	}})
	f := c.Follower()
	addr := c.Config(f).HTTPAddr
	ready := func(want int, reason string) func() error {
		return func() error {
			code, body, err := httpGet(addr, "/readyz")
			if err != nil {
				return err
			}
			if code != want || !strings.Contains(body, reason) {
				return fmt.Errorf("/readyz: %d %q, want %d with %q", code, body, want, reason)
			}
			return nil
		}
	}
	servertest.Eventually(t, 10*time.Second, "ready", ready(200, "ok"))
	c.Partition(f)
	servertest.Eventually(t, 10*time.Second, "partitioned follower not ready", ready(503, "not ready"))
	// Far behind: writes the follower misses while cut off.
	w := connect(t, c, c.Leader())
	mustExec(t, w, "CREATE TABLE t (x INTEGER)")
	for i := 0; i < 20; i++ {
		mustExec(t, w, "INSERT INTO t VALUES ($1)", i)
	}
	c.Heal()
	servertest.Eventually(t, 20*time.Second, "ready once caught up", ready(200, "ok"))
	if got, want := c.Node(f).AppliedIndex()+5, c.Node(c.Leader()).LocalStatus().CommitIndex; got < want {
		t.Fatalf("ready while applied+5 = %d < commit %d", got, want)
	}
	// A closed node's probe listener is gone; a live one says ready.
	code, _, err := httpGet(addr, "/livez")
	if err != nil || code != 200 {
		t.Fatalf("/livez: %d %v", code, err)
	}
}

// TestReadyzSaysWhyBehind checks the lag rule: while a follower applies a
// long write that the leader has already committed, it is behind by that
// entry, and with ReadyMaxLag 0 /readyz says so; once applied it is ready.
func TestReadyzSaysWhyBehind(t *testing.T) {
	if raceEnabled {
		// Under the race detector the follower was not seen behind within
		// five minutes, with the write still running: not understood yet.
		t.Skip("the follower is not seen behind within the deadline under the race detector")
	}
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		cfg.ReadyMaxLag = 0
	}})
	f := c.Follower()
	n := c.Node(f)
	w := connect(t, c, c.Leader())
	mustExec(t, w, "CREATE TABLE t (x INTEGER, pad TEXT)")
	servertest.Eventually(t, 10*time.Second, "ready", func() error { return n.Ready(context.Background()) })
	// The follower is behind only while it applies the write, which a
	// starved process may do between two looks: a write that ended before
	// one saw it behind is followed by a larger one, a few times.
	var reason error
	seen := false
	for attempt := 1; attempt <= 4 && !seen; attempt++ {
		done := make(chan error, 1)
		rows := 600000 * attempt // a second or so of applying, then more
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			_, err := w.Exec(ctx, fmt.Sprintf("INSERT INTO t WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < %d) SELECT i, hex(randomblob(16)) FROM c", rows))
			done <- err
		}()
		for !seen {
			if reason = n.Ready(context.Background()); reason != nil && strings.Contains(reason.Error(), "entries behind the leader's commit index") {
				seen = true
				break
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("the write of %d rows failed: %v", rows, err)
				}
				t.Logf("the write of %d rows ended before the follower was seen behind (ready said %v)", rows, reason)
			case <-time.After(5 * time.Millisecond):
				continue
			}
			break
		}
		if seen {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
	if !seen {
		t.Fatal("the follower was never seen behind the leader while it applied a write")
	}
	t.Logf("while applying: %v", reason)
	servertest.Eventually(t, 5*time.Minute, "ready once applied", func() error {
		return n.Ready(context.Background())
	})
}

func TestJoinGivesUp(t *testing.T) {
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}()
	// An HTTP server is something that answers, but not as a raft port.
	notRaft, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler()}
	go srv.Serve(notRaft)
	defer srv.Close()
	for _, tc := range []struct {
		name, addr, want string
	}{
		{"closed port", closed, "did not answer"},
		{"not a raft port", notRaft.Addr().String(), "not as a raftsql raft port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := server.DefaultConfig()
			cfg.ID = "joiner"
			cfg.DataDir = t.TempDir()
			cfg.RaftAddr = "127.0.0.1:0"
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			cfg.RaftListener = ln
			cfg.RaftAddr = ln.Addr().String()
			cfg.PGAddr = "127.0.0.1:0"
			cfg.Join = []string{tc.addr}
			cfg.JoinTimeout = 2 * time.Second
			n, err := server.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := n.Open(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			select {
			case <-n.Done():
			case <-time.After(30 * time.Second):
				t.Fatal("the node still tries to join after 30s")
			}
			err = n.Err()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "within 2s") {
				t.Fatalf("join error %v, want one saying %q", err, tc.want)
			}
			if took := time.Since(start); took > 20*time.Second {
				t.Fatalf("gave up after %v", took)
			}
		})
	}
}

// With ReapAfter the leader removes a voter that stays unreachable, so a
// second loss later costs no quorum; it never reaps below two voters.
func TestReapAfterRemovesDeadVoters(t *testing.T) {
	c := servertest.NewCluster(t, 4, servertest.Options{Configure: func(i int, cfg *server.Config) {
		cfg.ReapAfter = time.Second
	}})
	l := c.Leader()
	dead := (l + 1) % 4
	c.Crash(dead)
	servertest.Eventually(t, 30*time.Second, "the dead voter reaped", func() error {
		ms := memberMap(t, c.Node(c.Leader()))
		if _, ok := ms[servertest.NodeID(dead)]; ok {
			return fmt.Errorf("still a member: %v", ms)
		}
		return nil
	})
	second := (l + 2) % 4
	c.Crash(second)
	writeWithin(t, c, "a write after two voters died", "CREATE TABLE t (x INTEGER)")
	servertest.Eventually(t, 30*time.Second, "the second dead voter reaped", func() error {
		if ms := memberMap(t, c.Node(c.Leader())); len(ms) != 2 {
			return fmt.Errorf("%d members", len(ms))
		}
		return nil
	})
	c.EnsureSame()
}

// The leader checks who asks for a membership change over the side
// channel: a client needs the admin right, and a node may remove only
// itself.
func TestMemberChangeRefusals(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	leader, follower := c.Leader(), c.Follower()
	other := 3 - leader - follower
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := c.Node(follower)
	leaderAddr := c.Node(leader).RaftAddr()
	victim := servertest.NodeID(other)
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"a writer's remove", server.SideChannelRequest(0, server.ReqMember, server.IdentClient, "writer", server.RightsWrite, server.MemberRemovePayload(victim))},
		{"a node removing another", server.SideChannelRequest(0, server.ReqMember, server.IdentNode, f.ID(), 0, server.MemberRemovePayload(victim))},
	} {
		ok, kind, msg, err := f.RawSideChannel(ctx, leaderAddr, tc.body)
		if err != nil || ok || kind != server.ErrKindDenied {
			t.Errorf("%s: ok=%v kind=%d %q %v, want a refusal", tc.name, ok, kind, msg, err)
		}
	}
	if ms := memberMap(t, c.Node(leader)); len(ms) != 3 {
		t.Fatalf("members after refused removals: %v", ms)
	}
	// An admin's request goes through.
	ok, _, msg, err := f.RawSideChannel(ctx, leaderAddr, server.SideChannelRequest(0, server.ReqMember, server.IdentClient, "root", server.RightsAdmin, server.MemberRemovePayload(victim)))
	if err != nil || !ok {
		t.Fatalf("an admin's remove: %v %q", err, msg)
	}
	if ms := memberMap(t, c.Node(leader)); len(ms) != 2 {
		t.Fatalf("members after an admin's removal: %v", ms)
	}
}

// A restarted member whose --join addresses are down is not stopped by the
// join timeout: only a node that never joined gives up.
func TestRestartedMemberOutlivesJoinTimeout(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		cfg.JoinTimeout = 500 * time.Millisecond
	}})
	c.Stop(2)
	c.Stop(0) // the only --join address of node 2
	c.Restart(2)
	n := c.Node(2)
	select {
	case <-n.Done():
		t.Fatalf("the restarted member stopped: %v", n.Err())
	case <-time.After(4 * 500 * time.Millisecond): // several join timeouts
	}
	c.Restart(0)
	c.WaitMembers(3)
}

// lockedBuffer collects a node's log lines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The membership routes want an admin's credentials when auth is on, and
// the leader logs each change with who asked.
func TestMemberRoutesNeedAdminAndLogWhoAsked(t *testing.T) {
	tokens := filepath.Join(t.TempDir(), "tokens")
	os.WriteFile(tokens, []byte("membership-token-0123456789\n"), 0o600)
	logs := make([]*lockedBuffer, 3)
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		cfg.HTTPTokenFile = tokens
		logs[i] = &lockedBuffer{}
		cfg.Logger = slog.New(slog.NewTextHandler(logs[i], nil))
	}})
	l, f := c.Leader(), c.Follower()
	other := 3 - l - f
	c.Stop(other)
	post := func(path, token string) (int, string) {
		req, _ := http.NewRequest("POST", "http://"+c.Config(f).HTTPAddr+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	path := "/members/" + servertest.NodeID(other) + "/remove"
	if code, body := post(path, ""); code != http.StatusUnauthorized {
		t.Fatalf("remove without credentials: %d %s", code, body)
	}
	if code, body := post(path, "membership-token-0123456789"); code != http.StatusOK || !strings.Contains(body, "quorum is 2") {
		t.Fatalf("remove with a token: %d %s", code, body)
	}
	got := logs[l].String()
	if !strings.Contains(got, "membership changed") || !strings.Contains(got, "a bearer token (http from 127.0.0.1:") || !strings.Contains(got, "via="+servertest.NodeID(f)) {
		t.Fatalf("the leader's log does not say who asked:\n%s", got)
	}
}

// The leader may demote or remove itself: it steps down once the change
// commits and the others elect a leader among themselves.
func TestLeaderDemotesAndRemovesItself(t *testing.T) {
	c := servertest.NewCluster(t, 4, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l := c.Leader()
	if _, err := c.Node(l).DemoteMember(ctx, servertest.NodeID(l), "test"); err != nil {
		t.Fatalf("the leader demoting itself: %v", err)
	}
	servertest.Eventually(t, 20*time.Second, "another leader", func() error {
		if got := c.WaitLeader(); got == l {
			return errors.New("the demoted node still leads")
		}
		return nil
	})
	if m := memberMap(t, c.Node(c.Leader()))[servertest.NodeID(l)]; m.Voter {
		t.Fatalf("demoted leader is still a voter: %+v", m)
	}
	l2 := c.Leader()
	if _, err := c.Node(l2).RemoveMember(ctx, servertest.NodeID(l2), "test"); err != nil {
		t.Fatalf("the leader removing itself: %v", err)
	}
	servertest.Eventually(t, 20*time.Second, "a leader among the rest", func() error {
		if got := c.WaitLeader(); got == l2 {
			return errors.New("the removed node still leads")
		}
		return nil
	})
	ms := memberMap(t, c.Node(c.Leader()))
	if _, ok := ms[servertest.NodeID(l2)]; ok || len(ms) != 3 {
		t.Fatalf("members after the leader left: %v", ms)
	}
	writeWithin(t, c, "a write after the leader left", "CREATE TABLE t (x INTEGER)")
}

// A node whose read connections are all taken by a runaway read is not
// ready: /readyz asks for a read within a deadline.
func TestReadyzWhenReadsAreWedged(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		cfg.ReadConns = 1
	}})
	f := c.Follower()
	n := c.Node(f)
	servertest.Eventually(t, 10*time.Second, "ready", func() error { return n.Ready(context.Background()) })
	conn := connect(t, c, f)
	mustExec(t, conn, "SET raftsql.read_consistency = none")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var x int64
		done <- conn.QueryRow(ctx, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 10000000000) SELECT count(*) FROM c").Scan(&x)
	}()
	var reason error
	servertest.Eventually(t, 30*time.Second, "not ready while the read runs", func() error {
		if reason = n.Ready(context.Background()); reason != nil && strings.Contains(reason.Error(), "read connection") {
			return nil
		}
		return fmt.Errorf("ready says %v", reason)
	})
	t.Logf("while wedged: %v", reason)
	cancel()
	<-done
	servertest.Eventually(t, 30*time.Second, "ready once the read ended", func() error { return n.Ready(context.Background()) })
}
