package fsm

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"
	"github.com/raftsql/raftsql/fsm/command"
)

// BenchmarkReadDuringLargeApply applies entries of 2 MiB each (one
// INSERT of 512 rows of 4 KiB) while a reader runs a small, compiled
// query every 200µs; it reports the reader's latencies.
func BenchmarkReadDuringLargeApply(b *testing.B) {
	f := openTest(b)
	a := &applier{f: f}
	a.mustExec(b, "CREATE TABLE t(v BLOB)", "CREATE TABLE r(x)", "INSERT INTO r VALUES (1)")
	ctx := context.Background()
	read := stmts("SELECT x FROM r")
	for range 4 * f.nRead {
		if _, err := f.Query(ctx, read); err != nil {
			b.Fatal(err)
		}
	}
	logs := make([]*hraft.Log, b.N)
	for i := range logs {
		logs[i] = a.log(a.cmd(command.KindExecute, stmts(
			"INSERT INTO t WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < 512) SELECT randomblob(4096) FROM s")...))
	}
	var done atomic.Bool
	lat := make(chan []time.Duration)
	go func() {
		var ds []time.Duration
		for !done.Load() {
			start := time.Now()
			if _, err := f.Query(ctx, read); err != nil {
				b.Error(err)
				break
			}
			ds = append(ds, time.Since(start))
			time.Sleep(200 * time.Microsecond)
		}
		lat <- ds
	}()
	b.ResetTimer()
	for i := range b.N {
		if r, ok := f.Apply(logs[i]).(*command.Result); !ok || r.Err() != nil {
			b.Fatal(r)
		}
	}
	b.StopTimer()
	done.Store(true)
	ds := <-lat
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	b.ReportMetric(ms(ds[len(ds)*99/100]), "p99-read-ms")
	b.ReportMetric(ms(ds[len(ds)-1]), "max-read-ms")
	b.ReportMetric(float64(len(ds))/float64(b.N), "reads/apply")
}
