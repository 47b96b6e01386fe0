// Package raftbench measures the consensus ceiling: how many commands per
// second a local Raft cluster commits, and at what latency, with a state
// machine that does nothing. It is the baseline that the database's own
// throughput is compared with. It builds real nodes (bolt log with fsync,
// loopback TCP) through package raft, so the numbers include everything but
// the state machine.
package raftbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	hraft "github.com/hashicorp/raft"

	"github.com/raftsql/raftsql/raft"
)

// Cluster is a local cluster of nodes with no-op state machines.
type Cluster struct {
	Nodes  []*raft.Node
	dir    string
	ownDir bool
}

// ClusterOptions describes a local cluster.
type ClusterOptions struct {
	// Nodes is the number of voters (default 3).
	Nodes int
	// Dir is where the nodes keep their state. When empty a temporary
	// directory is used and removed by Close.
	Dir string
	// Tune, if set, adjusts each node's configuration (which starts from
	// raft.DefaultConfig).
	Tune func(*raft.Config)
	// Logger receives the nodes' logs; nil discards them.
	Logger *slog.Logger
}

// StartCluster starts a cluster on loopback: the first node bootstraps and
// the others join it as voters. It returns once all have joined.
func StartCluster(ctx context.Context, o ClusterOptions) (_ *Cluster, err error) {
	if o.Nodes <= 0 {
		o.Nodes = 3
	}
	c := &Cluster{dir: o.Dir}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "raftbench-"); err != nil {
			return nil, err
		}
		c.ownDir = true
	}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	for i := range o.Nodes {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		cfg := raft.DefaultConfig()
		cfg.ID = fmt.Sprintf("bench%d", i)
		cfg.Dir = filepath.Join(c.dir, cfg.ID)
		cfg.Listener = ln
		cfg.Bootstrap = i == 0
		cfg.Logger = o.Logger
		if o.Tune != nil {
			o.Tune(&cfg)
		}
		n, err := raft.New(cfg, noopFSM{})
		if err != nil {
			return nil, err
		}
		c.Nodes = append(c.Nodes, n)
		if i == 0 {
			if err := waitLeader(ctx, n); err != nil {
				return nil, err
			}
			continue
		}
		if err := c.Nodes[0].AddVoter(ctx, n.ID(), n.Addr()); err != nil {
			return nil, fmt.Errorf("raftbench: join %s: %w", n.ID(), err)
		}
	}
	return c, nil
}

func waitLeader(ctx context.Context, n *raft.Node) error {
	changes := n.LeaderChanges()
	for {
		select {
		case v, ok := <-changes:
			if !ok {
				return raft.ErrShutdown
			}
			if v {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("raftbench: waiting for a leader: %w", ctx.Err())
		}
	}
}

// Leader returns the node that currently leads, or nil.
func (c *Cluster) Leader() *raft.Node {
	for _, n := range c.Nodes {
		if n.IsLeader() {
			return n
		}
	}
	return nil
}

// Close stops every node and removes a temporary directory.
func (c *Cluster) Close() error {
	var errs []error
	for _, n := range c.Nodes {
		errs = append(errs, n.Close())
	}
	if c.ownDir {
		errs = append(errs, os.RemoveAll(c.dir))
	}
	return errors.Join(errs...)
}

// NoopFSM returns a state machine that accepts every command and keeps
// nothing: with it a cluster's throughput is that of consensus alone.
func NoopFSM() hraft.FSM { return noopFSM{} }

// noopFSM accepts every command and keeps nothing.
type noopFSM struct{}

func (noopFSM) Apply(*hraft.Log) any                 { return nil }
func (noopFSM) Snapshot() (hraft.FSMSnapshot, error) { return noopSnapshot{}, nil }
func (noopFSM) Restore(rc io.ReadCloser) error {
	_, err := io.Copy(io.Discard, rc)
	return errors.Join(err, rc.Close())
}

type noopSnapshot struct{}

func (noopSnapshot) Persist(sink hraft.SnapshotSink) error { return sink.Close() }
func (noopSnapshot) Release()                              {}

// Load describes a closed-loop load: Concurrency workers each issue one
// operation at a time until Ops operations have been issued in total or
// Duration has passed (whichever is set; Ops wins when both are).
type Load struct {
	Concurrency int           // default 1
	Ops         int           // total operations
	Duration    time.Duration // default 5s when Ops is 0
}

// Result summarises a run.
type Result struct {
	Concurrency int
	Ops         int // successful operations
	Errors      int
	FirstError  error
	Elapsed     time.Duration
	OpsPerSec   float64
	Mean        time.Duration
	P50         time.Duration
	P90         time.Duration
	P99         time.Duration
	P999        time.Duration
	Max         time.Duration
}

func (r Result) String() string {
	s := fmt.Sprintf("c=%d ops=%d errors=%d elapsed=%v ops/s=%.0f mean=%v p50=%v p90=%v p99=%v max=%v",
		r.Concurrency, r.Ops, r.Errors, r.Elapsed.Round(time.Millisecond), r.OpsPerSec,
		r.Mean, r.P50, r.P90, r.P99, r.Max)
	if r.FirstError != nil {
		s += " first_error=" + r.FirstError.Error()
	}
	return s
}

// Run drives op under load l and measures throughput and latency. It works
// for any operation, so a load tool can put the database's own path (a
// client INSERT, say) side by side with the consensus ceiling.
func Run(ctx context.Context, l Load, op func(ctx context.Context, worker int) error) Result {
	if l.Concurrency <= 0 {
		l.Concurrency = 1
	}
	if l.Ops <= 0 && l.Duration <= 0 {
		l.Duration = 5 * time.Second
	}
	runCtx := ctx
	var end time.Time // zero unless the load is timed
	if l.Ops <= 0 {
		end = time.Now().Add(l.Duration)
		var cancel context.CancelFunc
		runCtx, cancel = context.WithDeadline(ctx, end)
		defer cancel()
	}
	timeUp := func() bool { return !end.IsZero() && !time.Now().Before(end) }
	var (
		issued   atomic.Int64
		mu       sync.Mutex
		lats     []time.Duration
		errCount int
		firstErr error
		wg       sync.WaitGroup
	)
	start := time.Now()
	for w := range l.Concurrency {
		wg.Go(func() {
			local := make([]time.Duration, 0, 1024)
			var localErrs int
			var localFirst error
			for runCtx.Err() == nil && !timeUp() {
				if l.Ops > 0 && issued.Add(1) > int64(l.Ops) {
					break
				}
				t0 := time.Now()
				err := op(runCtx, w)
				if err != nil {
					if timeUp() || ctx.Err() != nil {
						break // the clock ran out mid-operation
					}
					localErrs++
					if localFirst == nil {
						localFirst = err
					}
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, local...)
			errCount += localErrs
			if firstErr == nil {
				firstErr = localFirst
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	r := Result{Concurrency: l.Concurrency, Ops: len(lats), Errors: errCount, FirstError: firstErr, Elapsed: time.Since(start)}
	if len(lats) == 0 {
		return r
	}
	slices.Sort(lats)
	var sum time.Duration
	for _, d := range lats {
		sum += d
	}
	pct := func(p float64) time.Duration { return lats[min(len(lats)-1, int(p*float64(len(lats))))] }
	r.OpsPerSec = float64(len(lats)) / r.Elapsed.Seconds()
	r.Mean = sum / time.Duration(len(lats))
	r.P50, r.P90, r.P99, r.P999, r.Max = pct(0.50), pct(0.90), pct(0.99), pct(0.999), lats[len(lats)-1]
	return r
}

// ApplyOp returns an operation that applies a command of size bytes on the
// cluster's current leader.
func (c *Cluster) ApplyOp(size int) func(ctx context.Context, worker int) error {
	cmd := make([]byte, size)
	for i := range cmd {
		cmd[i] = byte('a' + i%26)
	}
	return func(ctx context.Context, _ int) error {
		l := c.Leader()
		if l == nil {
			return raft.ErrNotLeader
		}
		_, _, err := l.Apply(ctx, cmd)
		return err
	}
}

// CeilingOptions describes a consensus-ceiling run.
type CeilingOptions struct {
	Cluster     ClusterOptions
	CommandSize int // bytes per command (default 64)
	Load        Load
}

// RunCeiling starts a cluster, applies commands of CommandSize bytes under
// the given load on the leader, stops the cluster and reports.
func RunCeiling(ctx context.Context, o CeilingOptions) (Result, error) {
	if o.CommandSize <= 0 {
		o.CommandSize = 64
	}
	c, err := StartCluster(ctx, o.Cluster)
	if err != nil {
		return Result{}, err
	}
	r := Run(ctx, o.Load, c.ApplyOp(o.CommandSize))
	return r, c.Close()
}
