package server_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// BenchmarkTxVersionGate measures what a cluster not yet upgraded costs
// transactions: with a member that cannot read the result digest they
// commit one after the other instead of pipelined. 16 clients on the
// leader, each transaction an UPDATE and an INSERT.
//
//	go test ./server -run XXX -bench TxVersionGate -benchtime 400x -count 3
func BenchmarkTxVersionGate(b *testing.B) {
	for _, mode := range []string{"upgraded", "one-old"} {
		b.Run(mode, func(b *testing.B) {
			var c *servertest.Cluster
			if mode == "one-old" {
				c = halfUpgraded(b, 2)
			} else {
				c = servertest.NewCluster(b, 3, servertest.Options{})
			}
			entry := server.EntryVersion
			if mode == "one-old" {
				entry = 2
			}
			servertest.Eventually(b, 30*time.Second, "cluster versions", func() error {
				if e, _ := c.Node(c.Leader()).ClusterVersions(); e != entry {
					return fmt.Errorf("entry version %d", e)
				}
				return nil
			})
			leader := c.Leader()
			mustExec(b, connect(b, c, leader), "CREATE TABLE acct (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
			mustExec(b, connect(b, c, leader), "CREATE TABLE hist (id INTEGER, n INTEGER)")
			for i := range 16 {
				mustExec(b, connect(b, c, leader), "INSERT INTO acct VALUES ($1, 0)", i)
			}
			conns := make([]*pgx.Conn, 16)
			for i := range conns {
				conns[i] = connect(b, c, leader)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			var left atomic.Int64
			left.Store(int64(b.N))
			var failed atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for i, conn := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for left.Add(-1) >= 0 {
						err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
							if _, err := tx.Exec(ctx, "UPDATE acct SET n = n + 1 WHERE id = $1", i); err != nil {
								return err
							}
							_, err := tx.Exec(ctx, "INSERT INTO hist VALUES ($1, 1)", i)
							return err
						})
						if err != nil {
							failed.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tx/s")
			if f := failed.Load(); f > 0 {
				b.Logf("%d of %d transactions failed", f, b.N)
			}
		})
	}
}
