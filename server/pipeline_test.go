package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// A relayed block whose follower stops talking (frozen: it neither sends
// nor reads) loses the write lock within the relay timeout, long before the
// idle-in-transaction timeout would end it.
func TestStalledRelayLosesTheWriteLock(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) {
		cfg.IdleInTransactionTimeout = 10 * time.Minute
		cfg.RelayTimeout = 500 * time.Millisecond
	}})
	leader := c.Leader()
	conn := connect(t, c, leader)
	mustExec(t, conn, "CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER)")
	mustExec(t, conn, "INSERT INTO acct VALUES (1, 100)")
	follower := c.Follower()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stalled, err := c.Node(follower).StallRelayedBlock(ctx, c.Node(leader).RaftAddr(),
		"BEGIN", "UPDATE acct SET balance = balance - 1 WHERE id = 1")
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	// The block holds the write lock; a transaction on the leader gets it
	// once the leader has given up on the silent follower.
	start := time.Now()
	tctx, tcancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer tcancel()
	tx, err := conn.Begin(tctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(tctx, "UPDATE acct SET balance = balance + 10 WHERE id = 1"); err != nil {
		t.Fatalf("the write lock was not released: %v", err)
	}
	if err := tx.Commit(tctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("the leader's transaction waited %v for the lock", time.Since(start))
	if n := count(t, conn, "SELECT balance FROM acct WHERE id = 1"); n != 110 {
		t.Fatalf("balance %d, want 110: the stalled block's update must not have committed", n)
	}
	c.EnsureSame()
}

// A relayed block whose client merely thinks for longer than the relay
// timeout keeps going: the follower's heartbeat keeps it alive.
func TestRelayedBlockOutlivesTheRelayTimeout(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) {
		cfg.RelayTimeout = 200 * time.Millisecond
	}})
	conn := connect(t, c, c.Follower())
	mustExec(t, conn, "CREATE TABLE t (id INTEGER PRIMARY KEY)")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	// Five relay timeouts without a statement: the heartbeat must keep
	// the block alive. (A pause on purpose, not a wait for a condition.)
	time.Sleep(time.Second)
	if _, err := tx.Exec(ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatalf("the block died while its client thought: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, connect(t, c, c.Leader()), "SELECT count(*) FROM t"); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
}

// Transaction blocks relayed by a follower, one after another, reuse the
// side-channel connection of the block before instead of dialing the
// leader for each BEGIN; a block that fails, or is rolled back, leaves the
// connection fit for the next one.
func TestRelayedBlocksReuseTheirConnection(t *testing.T) {
	// About reuse, not failure: on a loaded machine under the race
	// detector a missed heartbeat would close a block's connection (and
	// a new leader would need new ones), which the count below would
	// take for blocks that did not reuse theirs.
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) {
		steady(cfg)
		cfg.RelayTimeout = 30 * time.Second
	}})
	leader := c.Leader()
	mustExec(t, connect(t, c, leader), "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
	follower := c.Follower()
	conn := connect(t, c, follower)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	waitClusterVersions(t, c, server.EntryVersion, server.PeerVersionNow)
	before := c.Node(follower).SideChannelDials()
	const blocks = 30
	for i := range blocks {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO t VALUES ($1, $2)", i, i); err != nil {
			t.Fatal(err)
		}
		switch i % 3 {
		case 0, 1:
			err = tx.Commit(ctx)
		case 2:
			// A failed statement leaves the block failed; its ROLLBACK
			// ends it on the leader too.
			if _, e := tx.Exec(ctx, "INSERT INTO t VALUES ($1, $2)", i, i); e == nil {
				t.Fatal("a duplicate key was accepted")
			}
			err = tx.Rollback(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if d := c.Node(follower).SideChannelDials() - before; d > 3 {
		t.Errorf("%d blocks dialed the leader %d times", blocks, d)
	}
	if n := count(t, connect(t, c, leader), "SELECT count(*) FROM t"); n != 20 {
		t.Fatalf("%d rows, want 20", n)
	}
	c.EnsureSame()
}

// Eight clients run transfers through pipelined transactions while the
// leader is stopped, twice. Every transfer acknowledged is on every node;
// none that was refused with a definite error is; the nodes' dumps agree.
// Each transfer writes its own row to a journal, so that which ones
// committed can be told apart from the balances.
func TestPipelinedTransfersSurviveLeaderStops(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) { steady(cfg) }})
	const accounts, initial = 20, 1000
	setup := connect(t, c, c.Leader())
	mustExec(t, setup, "CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)")
	mustExec(t, setup, "CREATE TABLE journal (tid TEXT PRIMARY KEY, src INTEGER, dst INTEGER, amount INTEGER)")
	for i := 0; i < accounts; i++ {
		mustExec(t, setup, "INSERT INTO acct VALUES ($1, $2)", i, initial)
	}
	var mu sync.Mutex
	acked, aborted := map[string]bool{}, map[string]bool{}
	var committed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 11))
			var conn *pgx.Conn
			defer func() {
				if conn != nil {
					conn.Close(context.Background())
				}
			}()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				if conn == nil {
					node := c.WaitLeader()
					if c.Node(node) == nil {
						continue
					}
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					conn, _ = pgx.Connect(ctx, c.DSN(node))
					cancel()
					if conn == nil {
						continue
					}
				}
				tid := fmt.Sprintf("%d-%d", w, k)
				from, to := rng.IntN(accounts), rng.IntN(accounts)
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				err := journaledTransfer(ctx, conn, tid, from, to, rng.IntN(20)+1)
				cancel()
				mu.Lock()
				switch state := sqlState(err); {
				case err == nil:
					acked[tid] = true
					committed.Add(1)
				case state == "40001" || state == "55P03" || state == server.StateNoLeader || state == "25P02":
					aborted[tid] = true
				}
				mu.Unlock()
				if err != nil {
					conn.Close(context.Background())
					conn = nil
				}
			}
		}()
	}
	for round := 0; round < 2; round++ {
		before := committed.Load()
		servertest.Eventually(t, 90*time.Second, "transfers committing", func() error {
			if committed.Load() < before+30 {
				return fmt.Errorf("%d transfers", committed.Load()-before)
			}
			return nil
		})
		victim := c.Leader()
		c.Stop(victim)
		c.WaitLeader()
		c.Restart(victim)
	}
	before := committed.Load()
	servertest.Eventually(t, 90*time.Second, "transfers after the stops", func() error {
		if committed.Load() < before+30 {
			return fmt.Errorf("%d transfers", committed.Load()-before)
		}
		return nil
	})
	close(stop)
	wg.Wait()
	c.WaitSynced()
	c.EnsureSame()
	for i := 0; i < c.Size(); i++ {
		conn := connect(t, c, i)
		rows, err := conn.Query(context.Background(), "SELECT tid FROM journal")
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for rows.Next() {
			var tid string
			if err := rows.Scan(&tid); err != nil {
				t.Fatal(err)
			}
			have[tid] = true
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		for tid := range acked {
			if !have[tid] {
				t.Errorf("node %d: acknowledged transfer %s is missing", i, tid)
			}
		}
		for tid := range aborted {
			if have[tid] {
				t.Errorf("node %d: transfer %s was refused, yet it is there", i, tid)
			}
		}
		if total := count(t, conn, "SELECT sum(balance) FROM acct"); total != accounts*initial {
			t.Fatalf("node %d: total balance %d, want %d", i, total, accounts*initial)
		}
	}
	t.Logf("%d transfers acknowledged, %d refused", len(acked), len(aborted))
}

func journaledTransfer(ctx context.Context, conn *pgx.Conn, tid string, from, to, amount int) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	var balance int
	if err := tx.QueryRow(ctx, "SELECT balance FROM acct WHERE id = $1", from).Scan(&balance); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE acct SET balance = balance - $1 WHERE id = $2", amount, from); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE acct SET balance = balance + $1 WHERE id = $2", amount, to); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO journal VALUES ($1, $2, $3, $4)", tid, from, to, amount); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Read-modify-write transactions on tables of their own do not fail with
// 40001 because of writes elsewhere: a transaction conflicts only when a
// table it read was written meanwhile.
func TestReadModifyWriteOnSeparateTablesDoesNotConflict(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	const clients, rounds = 4, 15
	setup := connect(t, c, c.Leader())
	for i := 0; i < clients; i++ {
		mustExec(t, setup, fmt.Sprintf("CREATE TABLE bank%d (id INTEGER PRIMARY KEY, balance INTEGER)", i))
		mustExec(t, setup, fmt.Sprintf("INSERT INTO bank%d VALUES (1, 1000), (2, 1000)", i))
	}
	mustExec(t, setup, "CREATE TABLE noise (id INTEGER PRIMARY KEY, v INTEGER)")
	c.WaitSynced()
	var wg sync.WaitGroup
	errs := make(chan error, clients+1)
	stopNoise := make(chan struct{})
	go func() {
		// Writes to another table all the while, on the leader.
		conn := connect(t, c, c.Leader())
		for i := 0; ; i++ {
			select {
			case <-stopNoise:
				errs <- nil
				return
			default:
			}
			if _, err := conn.Exec(context.Background(), "INSERT INTO noise (v) VALUES ($1)", i); err != nil {
				errs <- err
				return
			}
		}
	}()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Half the clients on a follower: relayed blocks too.
			node := c.Leader()
			if i%2 == 1 {
				node = c.Follower()
			}
			conn, err := pgx.Connect(context.Background(), c.DSN(node))
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close(context.Background())
			table := fmt.Sprintf("bank%d", i)
			for r := 0; r < rounds; r++ {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				err := func() error {
					tx, err := conn.Begin(ctx)
					if err != nil {
						return err
					}
					defer tx.Rollback(context.Background())
					var b int
					if err := tx.QueryRow(ctx, "SELECT balance FROM "+table+" WHERE id = 1").Scan(&b); err != nil {
						return err
					}
					if _, err := tx.Exec(ctx, "UPDATE "+table+" SET balance = $1 WHERE id = 1", b-1); err != nil {
						return err
					}
					if _, err := tx.Exec(ctx, "UPDATE "+table+" SET balance = balance + 1 WHERE id = 2"); err != nil {
						return err
					}
					return tx.Commit(ctx)
				}()
				cancel()
				if err != nil {
					errs <- fmt.Errorf("%s round %d: %w", table, r, err)
					return
				}
			}
			errs <- nil
		}()
	}
	wg.Wait()
	close(stopNoise)
	for i := 0; i < clients+1; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < clients; i++ {
		if n := count(t, setup, fmt.Sprintf("SELECT balance FROM bank%d WHERE id = 1", i)); n != 1000-rounds {
			t.Fatalf("bank%d: balance %d, want %d", i, n, 1000-rounds)
		}
	}
	c.EnsureSame()
}

// A follower relays a block's BEGIN with its first statement: the block
// costs the leader one request less, a block that runs nothing costs none,
// and a block whose first statement fails stays failed until it ends.
// While a member serves an older side-channel version, the BEGIN goes
// alone, as before.
func TestRelayedBeginTravelsWithTheFirstStatement(t *testing.T) {
	for _, old := range []bool{false, true} {
		t.Run(fmt.Sprintf("old-member=%v", old), func(t *testing.T) {
			c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
				steady(cfg)
				cfg.RelayTimeout = 5 * time.Second
				if old && i == 2 {
					cfg.TestPeerVersion = 4
				}
			}})
			peer := server.PeerVersionNow
			if old {
				peer = 4
			}
			waitClusterVersions(t, c, server.EntryVersion, peer)
			leader := c.Leader()
			mustExec(t, connect(t, c, leader), "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
			follower := c.Follower()
			conn := connect(t, c, follower)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			n := c.Node(follower)
			requests := func(stmts ...string) uint64 {
				t.Helper()
				before := n.RelayedStatements()
				for _, s := range stmts {
					if _, err := conn.Exec(ctx, s); err != nil {
						t.Fatalf("%s: %v", s, err)
					}
				}
				return n.RelayedStatements() - before
			}
			want := uint64(2)
			if old {
				want = 3
			}
			if got := requests("BEGIN", "INSERT INTO t VALUES (1, 1)", "COMMIT"); got != want {
				t.Errorf("a block of one statement took %d requests, want %d", got, want)
			}
			if got := requests("BEGIN", "COMMIT"); !old && got != 0 {
				t.Errorf("an empty block took %d requests", got)
			}
			if got := requests("BEGIN", "ROLLBACK"); !old && got != 0 {
				t.Errorf("an empty block rolled back took %d requests", got)
			}
			// A failed first statement: the block is failed until its end.
			if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, "INSERT INTO t VALUES (1, 2)"); sqlState(err) != "23505" {
				t.Fatalf("a duplicate key gave %v", err)
			}
			if _, err := conn.Exec(ctx, "INSERT INTO t VALUES (2, 2)"); sqlState(err) != "25P02" {
				t.Fatalf("a statement after the failed one gave %v", err)
			}
			if tag, err := conn.Exec(ctx, "COMMIT"); err != nil || tag.String() != "ROLLBACK" {
				t.Fatalf("COMMIT of the failed block: %v %v", tag, err)
			}
			// Prepared statements, described within the block before
			// they run.
			for i := 3; i < 6; i++ {
				tx, err := conn.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var v int
				if err := tx.QueryRow(ctx, "SELECT count(*) FROM t WHERE id < $1", i).Scan(&v); err != nil {
					t.Fatal(err)
				}
				if _, err := tx.Exec(ctx, "INSERT INTO t VALUES ($1, $2)", i, v); err != nil {
					t.Fatal(err)
				}
				if err := tx.Commit(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if got := count(t, connect(t, c, leader), "SELECT sum(v) FROM t"); got != 1+1+2+3 {
				t.Fatalf("sum %d, want 7", got)
			}
			c.EnsureSame()
		})
	}
}
