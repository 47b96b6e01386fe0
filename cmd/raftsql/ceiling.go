package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/raftsql/raftsql/raft"
	"github.com/raftsql/raftsql/raft/raftbench"
	"github.com/raftsql/raftsql/server"
)

// ceilingConfig is the Raft configuration of the ceiling's nodes: the same
// stores and settings raftsqld runs with.
func ceilingConfig(id, dir string, ln net.Listener) raft.Config {
	c := raft.DefaultConfig()
	c.ID, c.Dir, c.Listener = id, dir, ln
	c.Addr = ln.Addr().String()
	tuneCeiling(&c)
	return c
}

// tuneCeiling gives c the timing and snapshot settings of a raftsqld node.
func tuneCeiling(c *raft.Config) {
	d := server.DefaultConfig()
	c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = d.HeartbeatTimeout, d.ElectionTimeout, d.LeaderLeaseTimeout
	c.SnapshotThreshold, c.SnapshotInterval, c.TrailingLogs = d.SnapshotThreshold, d.SnapshotInterval, d.TrailingLogs
}

// runCeilingNode is the hidden subcommand that runs one follower of a
// multi-process ceiling: a Raft node with a no-op state machine. It prints
// its address on the first line of stdout and runs until stdin closes.
func runCeilingNode(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := pflag.NewFlagSet("raftsql ceiling-node", pflag.ContinueOnError)
	id := fs.String("id", "", "node id")
	dir := fs.String("dir", "", "data directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	node, err := raft.New(ceilingConfig(*id, *dir, ln), raftbench.NoopFSM())
	if err != nil {
		return err
	}
	defer node.Close()
	fmt.Fprintln(stdout, node.Addr())
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, stdin)
		close(done)
	}()
	select {
	case <-ctx.Done():
	case <-done:
	}
	return nil
}

// runCeilingProcesses measures the consensus ceiling on three processes, as
// the cluster it is compared with runs: this process leads and drives the
// load, two child processes follow.
func runCeilingProcesses(ctx context.Context, cfg benchConfig, dir string, size int) (raftbench.Result, error) {
	self, err := os.Executable()
	if err != nil {
		return raftbench.Result{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return raftbench.Result{}, err
	}
	lc := ceilingConfig("ceiling0", filepath.Join(dir, "ceiling0"), ln)
	lc.Bootstrap = true
	leader, err := raft.New(lc, raftbench.NoopFSM())
	if err != nil {
		return raftbench.Result{}, err
	}
	defer leader.Close()
	for i := 1; i <= 2; i++ {
		id := fmt.Sprintf("ceiling%d", i)
		cmd := exec.CommandContext(ctx, self, "ceiling-node", "--id", id, "--dir", filepath.Join(dir, id))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return raftbench.Result{}, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return raftbench.Result{}, err
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return raftbench.Result{}, err
		}
		defer func() {
			stdin.Close() // the child ends when its stdin closes
			cmd.Wait()
		}()
		addrCh := make(chan string, 1)
		go func() {
			line, _ := bufio.NewReader(out).ReadString('\n')
			addrCh <- strings.TrimSpace(line)
		}()
		var line string
		select {
		case line = <-addrCh:
		case <-time.After(30 * time.Second):
		}
		if line == "" {
			cmd.Process.Kill()
			return raftbench.Result{}, fmt.Errorf("ceiling node %s did not start", id)
		}
		addCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		for {
			if !leader.IsLeader() {
				select {
				case <-addCtx.Done():
					cancel()
					return raftbench.Result{}, errors.New("ceiling: no leader")
				case <-time.After(10 * time.Millisecond):
				}
				continue
			}
			err = leader.AddVoter(addCtx, id, line)
			break
		}
		cancel()
		if err != nil {
			return raftbench.Result{}, fmt.Errorf("ceiling: adding %s: %w", id, err)
		}
	}
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	r := raftbench.Run(ctx, raftbench.Load{Concurrency: cfg.clients, Ops: int(cfg.count), Duration: cfg.duration},
		func(ctx context.Context, _ int) error {
			_, _, err := leader.Apply(ctx, payload)
			return err
		})
	return r, nil
}
