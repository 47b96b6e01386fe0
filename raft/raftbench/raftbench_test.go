package raftbench

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestRunCeiling(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := RunCeiling(ctx, CeilingOptions{
		Cluster: ClusterOptions{Dir: t.TempDir()},
		Load:    Load{Concurrency: 4, Ops: 200},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	if r.Ops != 200 || r.Errors != 0 || r.OpsPerSec <= 0 || r.P50 <= 0 || r.Max < r.P99 {
		t.Fatalf("unexpected result %+v", r)
	}
}

// BenchmarkApply measures the consensus ceiling of a 3-node loopback cluster
// with a no-op FSM: b.N commands per sub-benchmark, spread over the workers.
func BenchmarkApply(b *testing.B) {
	ctx := context.Background()
	c, err := StartCluster(ctx, ClusterOptions{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for _, size := range []int{64, 1024} {
		for _, conc := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("size=%d/c=%d", size, conc), func(b *testing.B) {
				op := c.ApplyOp(size)
				b.SetBytes(int64(size))
				b.ResetTimer()
				r := Run(ctx, Load{Concurrency: conc, Ops: b.N}, op)
				b.StopTimer()
				if r.Errors > 0 {
					b.Fatalf("%d errors, first: %v", r.Errors, r.FirstError)
				}
				b.ReportMetric(r.OpsPerSec, "ops/s")
				b.ReportMetric(float64(r.P50.Microseconds()), "p50-µs")
				b.ReportMetric(float64(r.P99.Microseconds()), "p99-µs")
			})
		}
	}
}
