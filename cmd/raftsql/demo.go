package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/raftsql/raftsql/raft/nodecert"
	"github.com/raftsql/raftsql/server"
)

// runDemo runs a local cluster in this process until ctx is done.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("raftsql demo", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.Int("nodes", 3, "number of nodes")
	host := fs.String("host", "127.0.0.1", "address the nodes listen on")
	pgPort := fs.Int("pg-port", 5433, "Postgres port of the first node; node i listens on pg-port+i")
	raftPort := fs.Int("raft-port", 7433, "Raft port of the first node; node i uses raft-port+i")
	httpPort := fs.Int("http-port", 8433, "admin HTTP port of the first node; node i uses http-port+i")
	dataDir := fs.String("data-dir", "", "keep the nodes' data here (default: a temporary directory removed at exit)")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn or error")
	noTLS := fs.Bool("no-tls", false, "run the nodes without node-to-node TLS (only on a loopback --host)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *nodes < 1 || *nodes > 9 {
		return errors.New("--nodes must be between 1 and 9")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "raftsql-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}

	// The nodes talk to each other over mutual TLS with certificates of a
	// CA made for the demo, as a real cluster should.
	var certs *demoCerts
	if !*noTLS {
		var err error
		if certs, err = makeDemoCerts(filepath.Join(dir, "tls"), *nodes, *host); err != nil {
			return fmt.Errorf("node certificates: %w", err)
		}
	}

	var running []*server.Node
	defer func() {
		for i := len(running) - 1; i >= 0; i-- {
			running[i].Close()
		}
	}()
	first := fmt.Sprintf("%s:%d", *host, *raftPort)
	for i := 0; i < *nodes; i++ {
		cfg := server.DefaultConfig()
		cfg.ID = fmt.Sprintf("n%d", i+1)
		cfg.DataDir = filepath.Join(dir, cfg.ID)
		cfg.RaftAddr = fmt.Sprintf("%s:%d", *host, *raftPort+i)
		cfg.PGAddr = fmt.Sprintf("%s:%d", *host, *pgPort+i)
		cfg.HTTPAddr = fmt.Sprintf("%s:%d", *host, *httpPort+i)
		cfg.Logger = logger
		if certs != nil {
			cfg.RaftTLSCertFile, cfg.RaftTLSKeyFile, cfg.RaftTLSCAFile = certs.files(cfg.ID)
		}
		if i == 0 {
			cfg.Bootstrap = true
		} else {
			cfg.Join = []string{first}
		}
		node, err := server.New(cfg)
		if err != nil {
			return err
		}
		if err := node.Open(ctx); err != nil {
			return fmt.Errorf("node %s: %w", cfg.ID, err)
		}
		running = append(running, node)
	}
	if err := waitReady(ctx, running); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "raftsql demo: %d nodes, data in %s\n", *nodes, dir)
	if certs != nil {
		fmt.Fprintf(stdout, "node-to-node TLS with certificates in %s\n", certs.dir)
	}
	for i, n := range running {
		fmt.Fprintf(stdout, "  %s  postgres %s  http %s\n", n.ID(), n.PGAddr(), n.HTTPAddr())
		if i == 0 {
			defer fmt.Fprintln(stdout, "raftsql demo: stopped")
		}
	}
	fmt.Fprintf(stdout, "connect with:  psql -h %s -p %d -U raftsql\n", *host, *pgPort)
	fmt.Fprintf(stdout, "status:        raftsql status --addr %s:%d\n", *host, *httpPort)
	fmt.Fprintln(stdout, "press Ctrl-C to stop")
	<-ctx.Done()
	return nil
}

// waitReady waits until every node knows the leader and has caught up.
func waitReady(ctx context.Context, nodes []*server.Node) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		ready := true
		for _, n := range nodes {
			st := n.LocalStatus()
			if st.LeaderAddr == "" || st.AppliedIndex < st.CommitIndex {
				ready = false
			}
		}
		if ready {
			for _, n := range nodes {
				if n.IsLeader() {
					if cs, err := n.Status(ctx); err == nil && len(cs.Members) == len(nodes) {
						return nil
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not ready: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// demoCerts is the CA and node certificates of a demo cluster.
type demoCerts struct{ dir string }

func (c *demoCerts) files(id string) (cert, key, ca string) {
	return filepath.Join(c.dir, nodecert.NodeCertFile(id)), filepath.Join(c.dir, nodecert.NodeKeyFile(id)), filepath.Join(c.dir, nodecert.CACertFile)
}

// makeDemoCerts makes a CA and nodes certificates n1…nN in dir, keeping
// those a previous run with the same --data-dir left there.
func makeDemoCerts(dir string, nodes int, host string) (*demoCerts, error) {
	c := &demoCerts{dir: dir}
	ca, err := nodecert.LoadCA(dir)
	if errors.Is(err, os.ErrNotExist) {
		if ca, err = nodecert.NewCA("raftsql demo CA", 365*24*time.Hour); err == nil {
			err = ca.WriteCA(dir, false)
		}
	}
	if err != nil {
		return nil, err
	}
	for i := 0; i < nodes; i++ {
		id := fmt.Sprintf("n%d", i+1)
		cert, _, _ := c.files(id)
		if _, err := os.Stat(cert); err == nil {
			continue
		}
		n, err := ca.Issue(id, []string{host}, 365*24*time.Hour)
		if err != nil {
			return nil, err
		}
		if err := n.WriteNode(dir, id, false); err != nil {
			return nil, err
		}
	}
	return c, nil
}
