package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the bare SQLite baseline

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/raft/raftbench"
)

// runCeiling measures the consensus ceiling: a 3-node cluster with the same
// Raft stores and settings as raftsqld but a state machine that does
// nothing, applying commands of the size the insert workload proposes.
func runCeiling(ctx context.Context, cfg benchConfig, dir string) (benchResult, error) {
	sample := command.Encode(&command.Command{
		Kind:         command.KindExecute,
		RequestID:    command.RequestID{Client: rand.Uint64(), Seq: 1 << 20},
		TimeUnixNano: time.Now().UnixNano(),
		Seed:         rand.Uint64(),
		Statements: []command.Statement{{
			SQL:    "INSERT INTO " + cfg.table + " (k, v) VALUES ($1, $2)",
			Params: []command.Value{command.Text(fmt.Sprint(rand.Int64N(1 << 40))), command.Text("value")},
		}},
	})
	var res raftbench.Result
	var err error
	if cfg.ceilingProcs {
		res, err = runCeilingProcesses(ctx, cfg, dir, len(sample))
	} else {
		res, err = raftbench.RunCeiling(ctx, raftbench.CeilingOptions{
			Cluster: raftbench.ClusterOptions{
				Nodes: 3,
				Dir:   dir,
				Tune:  tuneCeiling,
			},
			CommandSize: len(sample),
			Load:        raftbench.Load{Concurrency: cfg.clients, Ops: int(cfg.count), Duration: cfg.duration},
		})
	}
	if err != nil {
		return benchResult{}, err
	}
	if res.Ops == 0 {
		return benchResult{}, fmt.Errorf("ceiling: no operation succeeded: %v", res.FirstError)
	}
	// raftbench reports percentiles, not the raw latencies; carry them over.
	out := benchResult{ops: int64(res.Ops), errors: int64(res.Errors), elapsed: res.Elapsed}
	out.fixed = map[float64]time.Duration{0.50: res.P50, 0.99: res.P99, 0.999: res.P999}
	return out, nil
}

// runSQLite runs the same statements on a bare SQLite file: one writer
// connection (SQLite admits one writer), a pool of readers, WAL with
// synchronous=FULL so each commit is durable like a Raft append.
func runSQLite(ctx context.Context, cfg benchConfig, dir string, progress io.Writer) (benchResult, error) {
	path := filepath.Join(dir, "bare.db")
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)"
	writer, err := sql.Open("sqlite", dsn)
	if err != nil {
		return benchResult{}, err
	}
	defer writer.Close()
	writer.SetMaxOpenConns(1)
	reader, err := sql.Open("sqlite", dsn)
	if err != nil {
		return benchResult{}, err
	}
	defer reader.Close()
	reader.SetMaxOpenConns(max(cfg.clients, 1))
	for _, sql := range setupSQL(cfg) {
		if _, err := writer.ExecContext(ctx, sql); err != nil {
			return benchResult{}, err
		}
	}
	if cfg.workload != "insert" {
		tx, err := writer.BeginTx(ctx, nil)
		if err != nil {
			return benchResult{}, err
		}
		for i := 0; i < cfg.rows; i++ {
			if _, err := tx.ExecContext(ctx, "INSERT INTO "+cfg.table+" (id, k, v) VALUES (?, ?, ?)", i+1, i, fmt.Sprintf("value-%d", i)); err != nil {
				tx.Rollback()
				return benchResult{}, err
			}
		}
		if err := tx.Commit(); err != nil {
			return benchResult{}, err
		}
	}
	insert := "INSERT INTO " + cfg.table + " (k, v) VALUES ($1, $2)"
	query := "SELECT v FROM " + cfg.table + " WHERE id = $1"
	st := txStatements(cfg.table)
	return closedLoop(ctx, cfg, progress, func(ctx context.Context, _ int, rng *rand.Rand, isInsert bool) error {
		if cfg.workload == "tx" {
			a, b, delta := rng.IntN(max(cfg.rows, 1))+1, rng.IntN(max(cfg.rows, 1))+1, rng.IntN(100)+1
			tx, err := writer.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			var k int64
			if _, err := tx.ExecContext(ctx, st[0], delta, a); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, st[1], a).Scan(&k); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, st[2], delta, b); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, st[3], a, b, delta); err != nil {
				return err
			}
			return tx.Commit()
		}
		if isInsert {
			_, err := writer.ExecContext(ctx, insert, rng.Int64N(1<<40), "value")
			return err
		}
		var v string
		err := reader.QueryRowContext(ctx, query, rng.IntN(max(cfg.rows, 1))+1).Scan(&v)
		if err == sql.ErrNoRows {
			err = nil
		}
		return err
	})
}

// errConnLost ends a worker whose connection closed.
var errConnLost = errors.New("connection lost")

// closedLoop runs cfg.clients workers, each doing one operation at a time,
// for cfg.duration or until cfg.count operations were issued.
func closedLoop(ctx context.Context, cfg benchConfig, progress io.Writer, op func(ctx context.Context, worker int, rng *rand.Rand, insert bool) error) (benchResult, error) {
	runCtx := ctx
	if cfg.count <= 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, cfg.duration)
		defer cancel()
	}
	var issued, ops, errs atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, cfg.clients)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < cfg.clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for runCtx.Err() == nil {
				if cfg.count > 0 && issued.Add(1) > cfg.count {
					return
				}
				isInsert := cfg.workload == "insert" || (cfg.workload == "mixed" && rng.IntN(10) == 0)
				t0 := time.Now()
				if err := op(runCtx, w, rng, isInsert); err != nil {
					if runCtx.Err() != nil {
						return
					}
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err)
					if errors.Is(err, errConnLost) {
						return // this worker's connection is gone
					}
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
				ops.Add(1)
			}
		}()
	}
	stop := reportProgress(progress, start, &ops, &errs)
	wg.Wait()
	stop()
	res := benchResult{ops: ops.Load(), errors: errs.Load(), elapsed: time.Since(start)}
	for _, l := range lat {
		res.latencies = append(res.latencies, l...)
	}
	slices.Sort(res.latencies)
	if e := firstErr.Load(); e != nil {
		fmt.Fprintf(progress, "first error: %v\n", e)
	}
	if res.ops == 0 {
		return res, fmt.Errorf("no operation succeeded")
	}
	return res, nil
}

// reportProgress prints a progress line every second until stopped.
func reportProgress(w io.Writer, start time.Time, ops, errs *atomic.Int64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprintln(w)
				return
			case <-tick.C:
				fmt.Fprintf(w, "\r%s: %d ops, %d errors", time.Since(start).Round(time.Second), ops.Load(), errs.Load())
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

func tempDir(prefix string) (string, func(), error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}
