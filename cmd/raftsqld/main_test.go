package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/pflag"

	"github.com/raftsql/raftsql/raft/nodecert/nodecerttest"
	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// proc is one raftsqld process of a test cluster.
type proc struct {
	id, dir                  string
	raftAddr, pgAddr, httpAd string
	args                     []string
	cmd                      *exec.Cmd
	log                      *os.File
}

// freePort is a port of 127.0.0.1 that nothing listens on now, one not
// given before, and not an ephemeral one (servertest.FreeAddr): nodes that
// restart bind their ports again.
func freePort(t *testing.T) string { return servertest.FreeAddr(t) }

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "raftsqld")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func (p *proc) start(t *testing.T, bin string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(p.dir, "..", p.id+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p.log = f
	p.cmd = exec.Command(bin, p.args...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

func (p *proc) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
		p.cmd = nil
	}
	if p.log != nil {
		p.log.Close()
	}
}

func (p *proc) status(ctx context.Context) (server.ClusterStatus, error) {
	var cs server.ClusterStatus
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+p.httpAd+"/status", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return cs, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return cs, fmt.Errorf("status %s", resp.Status)
	}
	return cs, json.NewDecoder(resp.Body).Decode(&cs)
}

func TestKillDashNineKeepsCommittedData(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs processes")
	}
	bin := buildBinary(t)
	root := t.TempDir()
	procs := make([]*proc, 3)
	for i := range procs {
		p := &proc{id: fmt.Sprintf("n%d", i+1), raftAddr: freePort(t), pgAddr: freePort(t), httpAd: freePort(t)}
		p.dir = filepath.Join(root, p.id)
		p.args = []string{"--id", p.id, "--data-dir", p.dir, "--raft-addr", p.raftAddr, "--pg-addr", p.pgAddr,
			"--http-addr", p.httpAd, "--heartbeat-timeout", "500ms", "--election-timeout", "500ms",
			"--leader-lease-timeout", "250ms", "--log-level", "warn"}
		if i == 0 {
			p.args = append(p.args, "--bootstrap")
		} else {
			p.args = append(p.args, "--join", procs[0].raftAddr)
		}
		procs[i] = p
	}
	t.Cleanup(func() {
		for _, p := range procs {
			p.kill()
		}
		if t.Failed() {
			for _, p := range procs {
				b, _ := os.ReadFile(filepath.Join(root, p.id+".log"))
				t.Logf("log of %s:\n%s", p.id, b)
			}
		}
	})
	for _, p := range procs {
		p.start(t, bin)
	}
	// waitCluster waits until all three nodes are members and each has
	// applied at least index minApplied.
	waitCluster := func(minApplied uint64) {
		servertest.Eventually(t, 60*time.Second, "3 members in sync", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			for _, p := range procs {
				cs, err := p.status(ctx)
				if err != nil {
					return err
				}
				if len(cs.Members) != 3 {
					return fmt.Errorf("%s sees %d members", p.id, len(cs.Members))
				}
				for _, m := range cs.Members {
					if m.Status == nil || m.Lag != 0 || m.Status.AppliedIndex < minApplied {
						return fmt.Errorf("%s: member %s lags (%s)", p.id, m.ID, m.Error)
					}
				}
			}
			return nil
		})
	}
	waitCluster(0)

	connect := func(p *proc) *pgx.Conn {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, "postgres://u@"+p.pgAddr+"/db?sslmode=disable")
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}
	ctx := context.Background()
	c1 := connect(procs[1])
	if _, err := c1.Exec(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if _, err := c1.Exec(ctx, "INSERT INTO t (v) VALUES ($1)", strings.Repeat("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	c1.Close(ctx)
	committed := leaderCommit(t, procs)

	// Kill every node without warning, then bring all of them back: the
	// committed rows come back from the Raft log alone.
	for _, p := range procs {
		p.kill()
	}
	for _, p := range procs {
		p.start(t, bin)
	}
	waitCluster(committed)
	for _, p := range procs {
		c := connect(p)
		var n int64
		var sum int64
		if _, err := c.Exec(ctx, "SET raftsql.read_consistency = none"); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRow(ctx, "SELECT count(*), sum(length(v)) FROM t").Scan(&n, &sum); err != nil {
			t.Fatalf("%s: %v", p.id, err)
		}
		if n != 100 || sum != 4950 {
			t.Fatalf("%s after kill -9: %d rows (length sum %d), want 100 (4950)", p.id, n, sum)
		}
		c.Close(ctx)
	}

	// Kill one follower mid-stream; the rest go on and it catches up.
	victim := procs[2]
	victim.kill()
	c0 := connect(procs[0])
	for i := 0; i < 20; i++ {
		if _, err := c0.Exec(ctx, "INSERT INTO t (v) VALUES ('after')"); err != nil {
			t.Fatal(err)
		}
	}
	c0.Close(ctx)
	committed = leaderCommit(t, procs[:2])
	victim.start(t, bin)
	waitCluster(committed)
	c := connect(victim)
	defer c.Close(ctx)
	c.Exec(ctx, "SET raftsql.read_consistency = none")
	var n int64
	if err := c.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 120 {
		t.Fatalf("restarted follower has %d rows, want 120", n)
	}
}

// leaderCommit returns the commit index of the leader among procs.
func leaderCommit(t *testing.T, procs []*proc) uint64 {
	t.Helper()
	var idx uint64
	servertest.Eventually(t, 30*time.Second, "the leader's commit index", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, p := range procs {
			cs, err := p.status(ctx)
			if err == nil && cs.Node.State == "leader" {
				idx = cs.Node.CommitIndex
				return nil
			}
		}
		return fmt.Errorf("no leader among %d nodes", len(procs))
	})
	return idx
}

func TestRunRejectsBadFlags(t *testing.T) {
	var out, errOut strings.Builder
	err := run(context.Background(), []string{"--data-dir", t.TempDir()}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "node id is required") {
		t.Fatalf("run without --id: %v, want a clear error", err)
	}
	err = run(context.Background(), []string{"--id", "x", "--data-dir", t.TempDir(), "--read-consistency", "often"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "read consistency") {
		t.Fatalf("bad --read-consistency: %v", err)
	}
	err = run(context.Background(), []string{"--id", "x", "--data-dir", t.TempDir(), "--pg-tls-cert", "cert.pem"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "both a certificate and a key") {
		t.Fatalf("--pg-tls-cert without --pg-tls-key: %v", err)
	}
	err = run(context.Background(), []string{"--id", "x", "--data-dir", t.TempDir(), "--pg-addr", "127.0.0.1:0", "--raft-addr", "127.0.0.1:0", "--http-addr", "",
		"--pg-password-file", filepath.Join(t.TempDir(), "missing")}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "password file") {
		t.Fatalf("a missing --pg-password-file: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNonLoopbackRaftAddressNeedsTLS: a node whose raft address is not
// loopback refuses to start without node-to-node TLS; --raft-insecure
// starts it with a warning, and /status reports it.
func TestNonLoopbackRaftAddressNeedsTLS(t *testing.T) {
	listen, httpAddr := freePort(t), freePort(t)
	args := []string{"--id", "n1", "--data-dir", t.TempDir(), "--pg-addr", freePort(t), "--http-addr", httpAddr,
		"--bootstrap", "--log-level", "info",
		// 192.0.2.0/24 is reserved for documentation: nothing is sent there,
		// a lone bootstrapped node dials nobody.
		"--raft-addr", "192.0.2.1:7433", "--raft-listen", listen}
	var stdout, stderr syncBuffer
	err := run(context.Background(), args, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "not loopback") || !strings.Contains(err.Error(), "--raft-insecure") ||
		!strings.Contains(err.Error(), "--raft-tls-cert") {
		t.Fatalf("run without TLS on 192.0.2.1: %v; want a refusal naming --raft-tls-cert and --raft-insecure", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, append(args, "--raft-insecure"), &stdout, &stderr) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	p := &proc{httpAd: httpAddr}
	servertest.Eventually(t, 30*time.Second, "the insecure node serves /status", func() error {
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("run ended: %v\n%s", err, stderr.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		cs, err := p.status(ctx)
		if err != nil {
			return err
		}
		if cs.Node.RaftSecurity != "insecure" {
			return fmt.Errorf("raft_security = %q, want insecure", cs.Node.RaftSecurity)
		}
		return nil
	})
	if !strings.Contains(stderr.String(), "level=WARN msg=\"NODE-TO-NODE TLS IS OFF") {
		t.Errorf("no loud warning in the log:\n%s", stderr.String())
	}
}

// TestTLSClusterFromFlags runs three nodes with --raft-tls-* flags on files
// that raftsql cert's code made, and writes through a follower.
func TestTLSClusterFromFlags(t *testing.T) {
	certs := nodecerttest.New(t, "n1", "n2", "n3")
	type node struct{ raft, pg, http string }
	nodes := make([]node, 3)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	var logs syncBuffer
	for i := range nodes {
		id := fmt.Sprintf("n%d", i+1)
		nodes[i] = node{freePort(t), freePort(t), freePort(t)}
		cert, key := certs.Files(id)
		args := []string{"--id", id, "--data-dir", t.TempDir(), "--raft-addr", nodes[i].raft, "--pg-addr", nodes[i].pg,
			"--http-addr", nodes[i].http, "--heartbeat-timeout", "500ms", "--election-timeout", "500ms",
			"--leader-lease-timeout", "250ms", "--log-level", "warn",
			"--raft-tls-cert", cert, "--raft-tls-key", key, "--raft-tls-ca", certs.CAFile()}
		if i == 0 {
			args = append(args, "--bootstrap")
		} else {
			args = append(args, "--join", nodes[0].raft)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx, args, io.Discard, &logs); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}()
	}
	var follower node
	servertest.Eventually(t, 60*time.Second, "3 members over TLS", func() error {
		sctx, scancel := context.WithTimeout(ctx, 2*time.Second)
		defer scancel()
		cs, err := (&proc{httpAd: nodes[0].http}).status(sctx)
		if err != nil {
			return err
		}
		if len(cs.Members) != 3 {
			return fmt.Errorf("%d members", len(cs.Members))
		}
		for _, m := range cs.Members {
			if m.Status == nil || m.Status.RaftSecurity != "tls" {
				return fmt.Errorf("member %s: %+v %s", m.ID, m.Status, m.Error)
			}
			if m.Status.State == "follower" {
				for _, n := range nodes {
					if n.raft == m.Addr {
						follower = n
					}
				}
			}
		}
		if follower.pg == "" {
			return errors.New("no follower")
		}
		return nil
	})
	conn, err := pgx.Connect(ctx, "postgres://u@"+follower.pg+"/db?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE TABLE t (v TEXT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO t VALUES ('over tls')"); err != nil {
		t.Fatalf("write through a follower: %v\n%s", err, logs.String())
	}
}

func TestWriteLimitFlags(t *testing.T) {
	cfg := server.DefaultConfig()
	fs := pflag.NewFlagSet("raftsqld", pflag.ContinueOnError)
	BindFlags(fs, &cfg)
	if cfg.MaxWriteSteps != server.DefaultMaxWriteSteps || cfg.MaxValueSize != server.DefaultMaxValueSize {
		t.Fatalf("defaults: %d steps, %d bytes", cfg.MaxWriteSteps, cfg.MaxValueSize)
	}
	if err := fs.Parse([]string{"--max-write-steps", "1000", "--max-value-size", "4096"}); err != nil {
		t.Fatal(err)
	}
	if cfg.MaxWriteSteps != 1000 || cfg.MaxValueSize != 4096 {
		t.Errorf("parsed: %d steps, %d bytes", cfg.MaxWriteSteps, cfg.MaxValueSize)
	}
	var out, errOut strings.Builder
	err := run(context.Background(), []string{"--id", "x", "--data-dir", t.TempDir(), "--max-value-size", "2000000000"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "value size") {
		t.Fatalf("--max-value-size over SQLite's maximum: %v", err)
	}
}

// TestJSONLogsAndQuietShutdown runs a node with --log-format json: every
// line is one JSON object with each attribute once, and stopping the node
// logs no error.
func TestJSONLogsAndQuietShutdown(t *testing.T) {
	httpAddr := freePort(t)
	args := []string{"--id", "n1", "--data-dir", t.TempDir(), "--pg-addr", freePort(t), "--http-addr", httpAddr,
		"--raft-addr", freePort(t), "--bootstrap", "--log-level", "debug", "--log-format", "json"}
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, &stdout, &stderr) }()
	p := &proc{httpAd: httpAddr}
	servertest.Eventually(t, 30*time.Second, "the node leads", func() error {
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("run ended: %v\n%s", err, stderr.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		cs, err := p.status(ctx)
		if err != nil {
			return err
		}
		if cs.Node.State != "leader" {
			return fmt.Errorf("state %s", cs.Node.State)
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) < 3 {
		t.Fatalf("only %d log lines:\n%s", len(lines), stderr.String())
	}
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON line (%v): %s", err, line)
		}
		if rec["level"] == "ERROR" {
			t.Errorf("an error on a clean shutdown: %s", line)
		}
		for _, key := range []string{`"node":`, `"subsystem":`} {
			if strings.Count(line, key) > 1 {
				t.Errorf("%s twice: %s", key, line)
			}
		}
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"--id", "x", "--data-dir", t.TempDir(), "--log-format", "xml"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "--log-format") {
		t.Errorf("--log-format xml: %v, want an error naming the flag", err)
	}
}
