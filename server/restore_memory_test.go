package server_test

import (
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// TestRestoreMemoryMeasure measures the memory a restore of 64 MiB into a
// 5-node cluster allocates, and the peak heap of the process (all five
// nodes) while it runs; see docs/BENCHMARKS.md, "Restores: the file
// ranges a leader sends". It runs only when RAFTSQL_MEASURE_RESTORE_MEM is
// set.
func TestRestoreMemoryMeasure(t *testing.T) {
	if os.Getenv("RAFTSQL_MEASURE_RESTORE_MEM") == "" {
		t.Skip("a measurement: set RAFTSQL_MEASURE_RESTORE_MEM=1")
	}
	c := servertest.NewCluster(t, 5, servertest.Options{})
	conn := connect(t, c, c.Leader())
	mustExec(t, conn, "CREATE TABLE t (id INTEGER PRIMARY KEY, pad BLOB)")
	for range 16 {
		mustExec(t, conn, "INSERT INTO t (pad) VALUES (randomblob(4000000))")
	}
	c.EnsureSame()
	path, _ := backupToFile(t, c.Node(c.Leader()), server.BackupOptions{})
	for rep := range 3 {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		var peak atomic.Uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			var m runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
			}
		}()
		start := time.Now()
		restoreRetrying(t, c, path)
		c.WaitSynced()
		close(stop)
		<-done
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		t.Logf("rep %d: took %s; allocated %d MiB; peak heap %d MiB (before %d MiB)", rep, time.Since(start).Round(time.Millisecond),
			(after.TotalAlloc-before.TotalAlloc)>>20, peak.Load()>>20, before.HeapAlloc>>20)
	}
}
