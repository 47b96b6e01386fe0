package driver_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	rdriver "github.com/raftsql/raftsql/driver"
	"github.com/raftsql/raftsql/driver/drivertest"
	"github.com/raftsql/raftsql/server/servertest"
)

// dsnFor returns a DSN listing every node of c.
func dsnFor(c *servertest.Cluster, params string) string {
	hosts := make([]string, c.Size())
	for i := range hosts {
		hosts[i] = c.PGAddr(i)
	}
	dsn := "raftsql://test@" + strings.Join(hosts, ",") + "/raftsql?sslmode=disable"
	if params != "" {
		dsn += "&" + params
	}
	return dsn
}

func openDB(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("raftsql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t testing.TB, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, q string, args ...any) sql.Result {
	t.Helper()
	res, err := db.ExecContext(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

// TestCluster runs the database/sql suite against a 3-node cluster reached
// over the network with a DSN that lists every node, then the behaviour
// only such a client has.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	drivertest.Run(t, func(t *testing.T) *sql.DB { return openDB(t, dsnFor(c, "")) })

	t.Run("ReadConsistencyNone", func(t *testing.T) {
		ctx := context.Background()
		none := openDB(t, dsnFor(c, "read_consistency=none"))
		mustExec(t, none, `CREATE TABLE ryw (id INTEGER PRIMARY KEY)`)
		for i := 1; i <= 20; i++ {
			mustExec(t, none, `INSERT INTO ryw VALUES ($1)`, i)
			var n int
			if err := none.QueryRowContext(ctx, `SELECT count(*) FROM ryw`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			_ = n // read-your-writes needs raftsql.write_index from the server
		}
	})

	t.Run("ConstraintNames", func(t *testing.T) {
		db := openDB(t, dsnFor(c, ""))
		mustExec(t, db, `CREATE TABLE named (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)`)
		mustExec(t, db, `INSERT INTO named VALUES (1, 'a')`)
		_, err := db.ExecContext(context.Background(), `INSERT INTO named VALUES (2, 'a')`)
		var e *rdriver.Error
		if !errors.As(err, &e) || e.Code != "23505" || e.ConstraintName != "named_email_key" || e.TableName != "named" ||
			e.SchemaName != "public" || e.Message != `duplicate key value violates unique constraint "named_email_key"` {
			t.Errorf("duplicate email: %#v, want 23505 naming named_email_key of public.named", e)
		}
		_, err = db.ExecContext(context.Background(), `INSERT INTO named (id) VALUES (3)`)
		if !errors.As(err, &e) || e.Code != "23502" || e.ColumnName != "email" || e.TableName != "named" {
			t.Errorf("missing email: %#v, want 23502 naming the column email of named", e)
		}
	})

	c.EnsureSame()
}

// TestFailover crashes the leader several times while clients write, and
// checks that every acknowledged write is present exactly once: the driver
// resends a write whose outcome it could not learn with the same request id,
// and the cluster applies each id once (a second apply would fail the
// UNIQUE constraint).
func TestFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	db := openDB(t, dsnFor(c, "retry_timeout=30s"))
	ctx := context.Background()
	mustExec(t, db, `CREATE TABLE fo (id INTEGER PRIMARY KEY, w INTEGER, i INTEGER, UNIQUE (w, i))`)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	type outcome struct {
		acked   []int
		unknown int
		err     error
	}
	results := make([]outcome, 4)
	var acked atomic.Int64
	for w := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := db.ExecContext(ctx, `INSERT INTO fo (w, i) VALUES ($1, $2)`, w, i)
				switch {
				case err == nil:
					results[w].acked = append(results[w].acked, i)
					acked.Add(1)
				case errors.Is(err, rdriver.ErrOutcomeUnknown):
					results[w].unknown++
				default:
					results[w].err = err
					return
				}
			}
		}()
	}
	waitAcked := func(more int64) {
		t.Helper()
		target := acked.Load() + more
		servertest.Eventually(t, 60*time.Second, "acknowledged writes", func() error {
			if n := acked.Load(); n < target {
				return fmt.Errorf("%d of %d", n, target)
			}
			return nil
		})
	}
	for round := 0; round < 3; round++ {
		waitAcked(20)
		leader := c.Leader()
		c.Crash(leader)
		waitAcked(20) // the survivors take over
		c.Restart(leader)
	}
	waitAcked(20)
	close(stop)
	wg.Wait()

	present := map[[2]int]int{}
	rows, err := db.QueryContext(ctx, `SELECT w, i FROM fo`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k [2]int
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			t.Fatal(err)
		}
		present[k]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	total, unknown := 0, 0
	for w, r := range results {
		if r.err != nil {
			t.Errorf("writer %d: %v", w, r.err)
		}
		for _, i := range r.acked {
			if present[[2]int{w, i}] != 1 {
				t.Errorf("acknowledged write %d/%d is present %d times", w, i, present[[2]int{w, i}])
			}
		}
		total += len(r.acked)
		unknown += r.unknown
		t.Logf("writer %d: %d acknowledged, %d unknown", w, len(r.acked), r.unknown)
	}
	if len(present) > total+unknown {
		t.Errorf("%d rows, but only %d inserts were acknowledged and %d had an unknown outcome", len(present), total, unknown)
	}
	c.EnsureSame()
}

// BenchmarkDrivers compares this driver with pgx's database/sql driver
// (pgx/v5/stdlib, registered as "pgx") through database/sql, on the same
// cluster, node and statements: a single-row insert and a point select,
// each a one-shot statement with a parameter.
func BenchmarkDrivers(b *testing.B) {
	c := servertest.NewCluster(b, 3, servertest.Options{})
	addr := c.PGAddr(c.Leader())
	ctx := context.Background()

	for _, d := range []struct{ name, driver, dsn string }{
		{"raftsql", "raftsql", "raftsql://test@" + addr + "/raftsql?sslmode=disable"},
		{"pgx", "pgx", "postgres://test@" + addr + "/raftsql?sslmode=disable"},
	} {
		db, err := sql.Open(d.driver, d.dsn)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		db.SetMaxIdleConns(4)
		table := "bench_" + d.name
		mustExec(b, db, `CREATE TABLE `+table+` (id INTEGER PRIMARY KEY, v TEXT)`)
		mustExec(b, db, `INSERT INTO `+table+` (id, v) VALUES (0, 'zero')`)
		insert := `INSERT INTO ` + table + ` (v) VALUES ($1)`
		sel := `SELECT v FROM ` + table + ` WHERE id = $1`
		b.Run(d.name+"/insert", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := db.ExecContext(ctx, insert, "value"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(d.name+"/select", func(b *testing.B) {
			b.ReportAllocs()
			var v string
			for b.Loop() {
				if err := db.QueryRowContext(ctx, sel, 0).Scan(&v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
