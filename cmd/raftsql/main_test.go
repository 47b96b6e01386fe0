package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/raftsql/raftsql/raft"
	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// syncBuffer is a strings.Builder safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestBenchAndStatusAgainstACluster(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx := context.Background()
	addrs := c.PGAddr(0) + "," + c.PGAddr(1) + "," + c.PGAddr(2)
	for _, w := range []string{"insert", "select", "mixed", "tx"} {
		var out, errOut syncBuffer
		err := run(ctx, []string{"bench", "--addr", addrs, "-w", w, "-c", "3", "-n", "60", "--rows", "100"}, &out, &errOut)
		if err != nil {
			t.Fatalf("bench -w %s: %v\n%s", w, err, errOut.String())
		}
		if !strings.Contains(out.String(), "ops=60 errors=0") {
			t.Fatalf("bench -w %s printed %q, want 60 operations without errors", w, out.String())
		}
	}
	var out, errOut syncBuffer
	if err := run(ctx, []string{"status", "--addr", c.Config(0).HTTPAddr}, &out, &errOut); err != nil {
		t.Fatalf("status: %v", err)
	}
	for i := 0; i < 3; i++ {
		if !strings.Contains(out.String(), servertest.NodeID(i)) {
			t.Fatalf("status lacks node %s:\n%s", servertest.NodeID(i), out.String())
		}
	}
	if !strings.Contains(out.String(), "leader") {
		t.Fatalf("status names no leader:\n%s", out.String())
	}
}

func TestBenchBaselines(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{
		{"bench", "--target", "sqlite", "-w", "tx", "-c", "2", "-n", "40", "--rows", "50", "--data-dir", t.TempDir()},
		{"bench", "--target", "ceiling", "--ceiling-processes=false", "-w", "insert", "-c", "4", "-n", "40", "--data-dir", t.TempDir()},
	} {
		var out, errOut syncBuffer
		if err := run(ctx, args, &out, &errOut); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errOut.String())
		}
		if !strings.Contains(out.String(), "ops=40 errors=0") {
			t.Fatalf("%v printed %q", args, out.String())
		}
	}
}

func TestDemoServesPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster on fixed ports")
	}
	// Three consecutive ports of each kind; another process may hold one,
	// so a few bases are tried.
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		base := 20000 + rand.IntN(20000)
		ctx, cancel := context.WithCancel(context.Background())
		var out, errOut syncBuffer
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"demo", "--pg-port", fmt.Sprint(base), "--raft-port", fmt.Sprint(base + 10),
				"--http-port", fmt.Sprint(base + 20), "--log-level", "error"}, &out, &errOut)
		}()
		var conn *pgx.Conn
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) && conn == nil {
			select {
			case lastErr = <-done:
				cancel()
				conn = nil
				deadline = time.Time{}
				continue
			default:
			}
			if strings.Contains(out.String(), "connect with") {
				cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
				conn, lastErr = pgx.Connect(cctx, fmt.Sprintf("postgres://raftsql@127.0.0.1:%d/raftsql?sslmode=disable", base+1))
				ccancel()
			} else {
				time.Sleep(20 * time.Millisecond)
			}
		}
		if conn == nil {
			cancel()
			continue
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE demo (x INTEGER)"); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM demo").Scan(&n); err != nil || n != 0 {
			t.Fatalf("select on the demo: %d %v", n, err)
		}
		conn.Close(ctx)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("demo ended with %v", err)
		}
		if !strings.Contains(out.String(), "psql -h 127.0.0.1") {
			t.Fatalf("demo did not say how to connect:\n%s", out.String())
		}
		if !strings.Contains(out.String(), "node-to-node TLS with certificates in") {
			t.Fatalf("demo runs without node-to-node TLS:\n%s", out.String())
		}
		return
	}
	t.Fatalf("demo did not start: %v", lastErr)
}

func TestPasswd(t *testing.T) {
	var out, errOut strings.Builder
	if err := runPasswd([]string{"alice"}, strings.NewReader("s3cret\n"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "passwords")
	if err := os.WriteFile(path, []byte(out.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	users, err := server.LoadPasswordFile(path)
	if err != nil || len(users) != 1 || !strings.HasPrefix(out.String(), "alice:SCRAM-SHA-256$4096:") {
		t.Fatalf("raftsql passwd printed %q: %v", out.String(), err)
	}
	for _, args := range [][]string{{}, {"a:b"}, {"alice", "bob"}} {
		if err := runPasswd(args, strings.NewReader("pw\n"), &out, &errOut); err == nil {
			t.Errorf("raftsql passwd %v: no error", args)
		}
	}
	if err := runPasswd([]string{"alice"}, strings.NewReader(""), &out, &errOut); err == nil {
		t.Error("raftsql passwd with no password: no error")
	}
}

// TestCertMakesNodeCertificates: raftsql cert makes a CA and node
// certificates that a node loads, naming the node's id; it does not
// overwrite a CA.
func TestCertMakesNodeCertificates(t *testing.T) {
	dir := t.TempDir()
	var out, errOut syncBuffer
	if err := run(context.Background(), []string{"cert", "ca", "--out", dir}, &out, &errOut); err != nil {
		t.Fatalf("cert ca: %v\n%s", err, errOut.String())
	}
	if err := run(context.Background(), []string{"cert", "ca", "--out", dir}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "not overwriting") {
		t.Errorf("second cert ca: %v, want a refusal to overwrite", err)
	}
	nodes := filepath.Join(dir, "nodes")
	for _, id := range []string{"n1", "db-2"} {
		if err := run(context.Background(), []string{"cert", "node", "--ca", dir, "--id", id, "--host", "127.0.0.1,db.example", "--out", nodes}, &out, &errOut); err != nil {
			t.Fatalf("cert node %s: %v\n%s", id, err, errOut.String())
		}
		c, err := raft.LoadTLSConfig(filepath.Join(nodes, id+".crt"), filepath.Join(nodes, id+".key"), filepath.Join(dir, "ca.crt"))
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(c.Certificates[0].Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		if got, err := raft.CertID(leaf); err != nil || got != id {
			t.Errorf("certificate of %s names %q, %v", id, got, err)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: c.RootCAs, DNSName: "db.example", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("certificate of %s does not verify for db.example as a client: %v", id, err)
		}
		if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
			t.Errorf("certificate of %s: %v", id, err)
		}
	}
	if err := run(context.Background(), []string{"cert", "node", "--ca", dir, "--id", "a b", "--host", "127.0.0.1", "--out", nodes}, &out, &errOut); err == nil {
		t.Errorf("cert node accepted the id %q", "a b")
	}
}
