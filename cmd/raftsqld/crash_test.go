package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/raftsql/raftsql/server/servertest"
)

// The tests in this file kill -9 a raftsqld process at a step of a
// snapshot, a backup or a restore, start it again, and check that it comes
// back, that the cluster answers, and that every node holds the same data.

// crashCluster is three raftsqld processes on 127.0.0.1.
type crashCluster struct {
	t     *testing.T
	bin   string
	root  string
	procs []*proc
	mu    sync.Mutex // guards proc.cmd against the load's readers
}

func newCrashCluster(t *testing.T, extra ...string) *crashCluster {
	t.Helper()
	c := &crashCluster{t: t, bin: buildBinary(t), root: t.TempDir(), procs: make([]*proc, 3)}
	for i := range c.procs {
		p := &proc{id: fmt.Sprintf("n%d", i+1), raftAddr: freePort(t), pgAddr: freePort(t), httpAd: freePort(t)}
		p.dir = filepath.Join(c.root, p.id)
		p.args = []string{"--id", p.id, "--data-dir", p.dir, "--raft-addr", p.raftAddr, "--pg-addr", p.pgAddr,
			"--http-addr", p.httpAd, "--heartbeat-timeout", "500ms", "--election-timeout", "500ms",
			"--leader-lease-timeout", "250ms", "--log-level", "warn"}
		p.args = append(p.args, extra...)
		if i == 0 {
			p.args = append(p.args, "--bootstrap")
		} else {
			p.args = append(p.args, "--join", c.procs[0].raftAddr)
		}
		c.procs[i] = p
	}
	t.Cleanup(func() {
		for _, p := range c.procs {
			p.kill()
		}
		if t.Failed() {
			for _, p := range c.procs {
				b, _ := os.ReadFile(filepath.Join(c.root, p.id+".log"))
				t.Logf("log of %s:\n%s", p.id, tail(b, 8000))
			}
		}
	})
	for _, p := range c.procs {
		p.start(t, c.bin)
	}
	c.waitSynced()
	return c
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// crash kills p with SIGKILL and starts it again at once.
func (c *crashCluster) crash(p *proc) {
	c.t.Helper()
	c.t.Logf("kill -9 %s", p.id)
	c.mu.Lock()
	p.kill()
	p.start(c.t, c.bin)
	c.mu.Unlock()
}

// waitSynced waits until every node answers /status, sees three members,
// and every member has applied the leader's commit index.
func (c *crashCluster) waitSynced() {
	c.t.Helper()
	servertest.Eventually(c.t, 45*time.Second, "3 members in sync", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, p := range c.procs {
			cs, err := p.status(ctx)
			if err != nil {
				return fmt.Errorf("%s: %w", p.id, err)
			}
			if len(cs.Members) != 3 {
				return fmt.Errorf("%s sees %d members", p.id, len(cs.Members))
			}
			if cs.Node.LeaderID == "" {
				return fmt.Errorf("%s knows no leader", p.id)
			}
			for _, m := range cs.Members {
				if m.Status == nil || m.Lag != 0 {
					return fmt.Errorf("%s: member %s lags by %d (%s)", p.id, m.ID, m.Lag, m.Error)
				}
			}
		}
		return nil
	})
}

// waitCaughtUp waits until every node answers and has applied the commit
// index the leader had when it was called: under a write load the lag of
// some member is rarely 0 at the instant /status is asked.
func (c *crashCluster) waitCaughtUp() {
	c.t.Helper()
	target := leaderCommit(c.t, c.procs)
	servertest.Eventually(c.t, 45*time.Second, fmt.Sprintf("every node applied index %d", target), func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, p := range c.procs {
			cs, err := p.status(ctx)
			if err != nil {
				return fmt.Errorf("%s: %w", p.id, err)
			}
			if len(cs.Members) != 3 {
				return fmt.Errorf("%s sees %d members", p.id, len(cs.Members))
			}
			if cs.Node.AppliedIndex < target {
				return fmt.Errorf("%s applied %d (%s, leader %q)", p.id, cs.Node.AppliedIndex, cs.Node.State, cs.Node.LeaderID)
			}
		}
		return nil
	})
}

// leader returns the process that is the leader, waiting for one.
func (c *crashCluster) leader() *proc {
	c.t.Helper()
	var l *proc
	servertest.Eventually(c.t, 30*time.Second, "a leader", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, p := range c.procs {
			if cs, err := p.status(ctx); err == nil && cs.Node.State == "leader" {
				l = p
				return nil
			}
		}
		return fmt.Errorf("no leader")
	})
	return l
}

func (c *crashCluster) followers(l *proc) []*proc {
	var fs []*proc
	for _, p := range c.procs {
		if p != l {
			fs = append(fs, p)
		}
	}
	return fs
}

func pgConnect(ctx context.Context, p *proc) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return pgx.Connect(ctx, "postgres://u@"+p.pgAddr+"/db?sslmode=disable")
}

// exec runs statements on a connection to any node that takes them,
// retrying while a leader is elected.
func (c *crashCluster) exec(stmts ...string) {
	c.t.Helper()
	for _, s := range stmts {
		servertest.Eventually(c.t, 30*time.Second, s, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			conn, err := pgConnect(ctx, c.leader())
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			_, err = conn.Exec(ctx, s)
			return err
		})
	}
}

// dump is a canonical text of p's data, schema and rows in rowid order,
// read at read_consistency none: the node's own state. Rows are hashed so
// that the dump stays short with blobs.
func dump(ctx context.Context, p *proc) (string, error) {
	conn, err := pgConnect(ctx, p)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SET raftsql.read_consistency = none"); err != nil {
		return "", err
	}
	rows, err := conn.Query(ctx, "SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name")
	if err != nil {
		return "", err
	}
	var out strings.Builder
	var tables []string
	for rows.Next() {
		var typ, name, sql string
		if err := rows.Scan(&typ, &name, &sql); err != nil {
			return "", err
		}
		fmt.Fprintf(&out, "%s %s %s\n", typ, name, sql)
		if typ == "table" && !strings.HasPrefix(name, "sqlite_") {
			tables = append(tables, name)
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	for _, tb := range tables {
		h := sha256.New()
		n := 0
		rows, err := conn.Query(ctx, `SELECT * FROM "`+tb+`" ORDER BY rowid`)
		if err != nil {
			return "", err
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "%v\n", vals)
			n++
		}
		if err := rows.Err(); err != nil {
			return "", err
		}
		fmt.Fprintf(&out, "%s: %d rows %s\n", tb, n, hex.EncodeToString(h.Sum(nil))[:16])
	}
	return out.String(), nil
}

// sameData waits until the cluster is in sync and every node's dump is the
// same, and returns that dump.
func (c *crashCluster) sameData() string {
	c.t.Helper()
	c.waitSynced()
	var d string
	servertest.Eventually(c.t, 30*time.Second, "the same data on every node", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var first string
		for i, p := range c.procs {
			di, err := dump(ctx, p)
			if err != nil {
				return fmt.Errorf("%s: %w", p.id, err)
			}
			if i == 0 {
				first = di
			} else if di != first {
				return fmt.Errorf("%s holds\n%s\n%s holds\n%s", c.procs[0].id, first, p.id, di)
			}
		}
		d = first
		return nil
	})
	return d
}

// answers checks that the cluster takes a write and every node reads it.
func (c *crashCluster) answers(tag string) {
	c.t.Helper()
	c.exec("CREATE TABLE IF NOT EXISTS probe (tag TEXT)", "INSERT INTO probe VALUES ('"+tag+"')")
	servertest.Eventually(c.t, 30*time.Second, "the probe row on every node", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, p := range c.procs {
			conn, err := pgConnect(ctx, p)
			if err != nil {
				return err
			}
			var n int
			conn.Exec(ctx, "SET raftsql.read_consistency = none")
			err = conn.QueryRow(ctx, "SELECT count(*) FROM probe WHERE tag = $1", tag).Scan(&n)
			conn.Close(ctx)
			if err != nil {
				return fmt.Errorf("%s: %w", p.id, err)
			}
			if n != 1 {
				return fmt.Errorf("%s has %d probe rows %q", p.id, n, tag)
			}
		}
		return nil
	})
}

// fillBlobs writes mib MiB of blobs of at most 1 MiB each into table name.
func (c *crashCluster) fillBlobs(name string, mib int) {
	c.t.Helper()
	c.exec("CREATE TABLE " + name + " (id INTEGER PRIMARY KEY, b BLOB)")
	for i := 0; i < mib; i++ {
		c.exec("INSERT INTO " + name + " (b) VALUES (randomblob(1048576))")
	}
}

func crashSeed(t *testing.T) *rand.Rand {
	seed := time.Now().UnixNano()
	if s := os.Getenv("RAFTSQL_CRASH_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	t.Logf("seed %d (RAFTSQL_CRASH_SEED=%d repeats it)", seed, seed)
	return rand.New(rand.NewSource(seed))
}

// writeLoad inserts rows until stop is closed, through whichever node
// takes them; it returns how many writes succeeded.
func (c *crashCluster) writeLoad(stop <-chan struct{}) *atomic.Int64 {
	var ok atomic.Int64
	go func() {
		var conn *pgx.Conn
		i := 0
		for {
			select {
			case <-stop:
				if conn != nil {
					conn.Close(context.Background())
				}
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			if conn == nil {
				p := c.procs[i%len(c.procs)]
				i++
				var err error
				if conn, err = pgConnect(ctx, p); err != nil {
					conn = nil
					cancel()
					continue
				}
			}
			if _, err := conn.Exec(ctx, "INSERT INTO load (v) VALUES (randomblob(2000))"); err != nil {
				conn.Close(context.Background())
				conn = nil
			} else {
				ok.Add(1)
			}
			cancel()
		}
	}()
	return &ok
}

func TestCrashDuringSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs processes")
	}
	rng := crashSeed(t)
	c := newCrashCluster(t, "--snapshot-threshold", "40", "--snapshot-interval", "50ms", "--trailing-logs", "20")
	// A few MiB make each snapshot take long enough to be caught in it.
	start := time.Now()
	c.fillBlobs("blobs", 6)
	c.exec("CREATE TABLE load (id INTEGER PRIMARY KEY, v BLOB)")
	t.Logf("6 MiB written in %v", time.Since(start).Round(time.Millisecond))
	stop := make(chan struct{})
	ok := c.writeLoad(stop)
	deadline := time.Now().Add(15 * time.Second)
	for it := 0; it < 8 && time.Now().Before(deadline); it++ {
		l := c.leader()
		victim := l
		if rng.Intn(2) == 1 {
			victim = c.followers(l)[rng.Intn(2)]
		}
		// Ask the victim for a snapshot too, so that most kills land in
		// one, then kill it at a random moment while it writes it.
		go http.Post("http://"+victim.httpAd+"/snapshot", "", nil)
		delay := time.Duration(rng.Intn(300)) * time.Millisecond
		time.Sleep(delay)
		t.Logf("iteration %d: %s (leader %s) after %v, %d writes so far", it, victim.id, l.id, delay, ok.Load())
		c.crash(victim)
		start := time.Now()
		c.waitCaughtUp()
		t.Logf("iteration %d: back in sync after %v", it, time.Since(start).Round(time.Millisecond))
	}
	close(stop)
	if ok.Load() == 0 {
		t.Fatal("the write load never succeeded")
	}
	c.sameData()
	c.answers("after-snapshot-crashes")
	c.sameData()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, p := range c.procs {
		cs, err := p.status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cs.Node.LastSnapshotIndex == 0 {
			t.Errorf("%s never took a snapshot", p.id)
		}
	}
}

// killProxy forwards TCP connections to target; once watched bytes went
// through in the chosen direction (up: client to server), it calls hook
// (once, in the forwarding goroutine, so the rest waits for it).
type killProxy struct {
	ln    net.Listener
	fired atomic.Bool
}

func newKillProxy(t *testing.T, target string, up bool, after int64, hook func()) *killProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	kp := &killProxy{ln: ln}
	var once sync.Once
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			cc, err := ln.Accept()
			if err != nil {
				return
			}
			sc, err := net.Dial("tcp", target)
			if err != nil {
				cc.Close()
				continue
			}
			closeBoth := func() { cc.Close(); sc.Close() }
			watched := func(dst, src net.Conn) {
				defer closeBoth()
				buf := make([]byte, 32<<10)
				var n int64
				for {
					m, err := src.Read(buf)
					if m > 0 {
						if _, werr := dst.Write(buf[:m]); werr != nil {
							return
						}
						n += int64(m)
						if n >= after {
							once.Do(func() { kp.fired.Store(true); hook() })
						}
					}
					if err != nil {
						return
					}
				}
			}
			plain := func(dst, src net.Conn) {
				defer closeBoth()
				io.Copy(dst, src)
			}
			if up {
				go watched(sc, cc)
				go plain(cc, sc)
			} else {
				go plain(sc, cc)
				go watched(cc, sc)
			}
		}
	}()
	return kp
}

func (kp *killProxy) addr() string { return kp.ln.Addr().String() }

func buildClient(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "raftsql")
	out, err := exec.Command("go", "build", "-o", bin, "../raftsql").CombinedOutput()
	if err != nil {
		t.Fatalf("go build raftsql: %v\n%s", err, out)
	}
	return bin
}

func TestCrashDuringBackup(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs processes")
	}
	c := newCrashCluster(t)
	client := buildClient(t)
	c.fillBlobs("blobs", 8)
	for _, mode := range []string{"leader", "follower"} {
		victim := c.leader()
		args := []string{"backup", "--quiet", "--timeout", "40s"}
		if mode == "follower" {
			victim = c.followers(victim)[0]
			args = append(args, "--consistency", "none")
		}
		// The node is killed once 1 MiB of the backup reached the client.
		kp := newKillProxy(t, victim.httpAd, false, 1<<20, func() {
			t.Logf("kill -9 %s (%s) in the middle of GET /backup", victim.id, mode)
			c.mu.Lock()
			victim.kill()
			c.mu.Unlock()
		})
		outDir := t.TempDir()
		out := filepath.Join(outDir, "backup.db")
		ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
		cmd := exec.CommandContext(ctx, client, append(args, "--addr", kp.addr(), "-o", out)...)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stderr, &stderr
		err := cmd.Run()
		hung := ctx.Err() != nil
		cancel()
		if !kp.fired.Load() {
			t.Fatalf("%s: the backup ended before the node was killed: %v\n%s", mode, err, stderr.String())
		}
		if err == nil {
			t.Fatalf("%s: raftsql backup succeeded though the node died mid-stream:\n%s", mode, stderr.String())
		}
		if hung {
			t.Fatalf("%s: raftsql backup hung after the node died", mode)
		}
		msg := stderr.String()
		if !strings.Contains(msg, "backup:") || strings.Contains(msg, "panic") {
			t.Fatalf("%s: unclear failure: %s", mode, msg)
		}
		t.Logf("%s: raftsql backup failed with: %s", mode, strings.TrimSpace(msg))
		left, _ := os.ReadDir(outDir)
		for _, e := range left {
			t.Errorf("%s: the failed backup left %s behind", mode, e.Name())
		}
		c.mu.Lock()
		victim.start(t, c.bin)
		c.mu.Unlock()
		c.sameData()
		c.answers("after-backup-crash-" + mode)

		// The node that was killed serves a whole backup again.
		cmd = exec.Command(client, "backup", "--quiet", "--consistency", "none", "--addr", victim.httpAd, "-o", out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: backup after the restart: %v\n%s", mode, err, b)
		}
	}
	c.sameData()
}

// getBackup fetches a whole SQLite backup from p into a file.
func getBackup(t *testing.T, p *proc, path string) {
	t.Helper()
	resp, err := http.Get("http://" + p.httpAd + "/backup")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /backup: %s: %s", resp.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.Trailer.Get("X-Raftsql-Index") == "" {
		t.Fatal("GET /backup ended without its trailer")
	}
}

// TestCrashDuringRestore kills the leader at random points of the upload of
// POST /restore: the cluster keeps its state.
func TestCrashDuringRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs processes")
	}
	crashRestore(t, false)
}

// TestCrashDuringRestoreInstall kills the leader once the whole file went
// up, while it checks it and sends it through the log, and lets the other
// two elect a leader and commit a write before it comes back: the restore
// is then either committed on every node or on none, and the old leader
// takes the new leader's log. (When hashicorp/raft's user restore installed
// the file on the leader alone, at an index past its log, the old leader
// came back with a state the others never got and refused every
// AppendEntries for ever.)
func TestCrashDuringRestoreInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs processes")
	}
	crashRestore(t, true)
}

func crashRestore(t *testing.T, installs bool) {
	rng := crashSeed(t)
	c := newCrashCluster(t)
	c.fillBlobs("blobs", 8)
	c.exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)", "INSERT INTO kv VALUES ('state', 'backup')")
	backupState := c.sameData()
	file := filepath.Join(t.TempDir(), "a.db")
	getBackup(t, c.leader(), file)
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	size := st.Size()

	for it := 0; it < 2; it++ {
		// The cluster moves away from the backup, then is restored to it
		// while its leader is killed.
		c.exec(fmt.Sprintf("UPDATE kv SET v = 'later %d'", it), fmt.Sprintf("CREATE TABLE later%d (x)", it))
		before := c.sameData()
		if before == backupState {
			t.Fatal("the state before the restore is the backup's")
		}
		l := c.leader()
		// In the middle of the upload, or once the whole file went up,
		// while the leader checks and installs it.
		after := size/8 + rng.Int63n(size*3/4)
		var delay time.Duration
		if installs {
			after = size
			delay = time.Duration(rng.Intn(150)) * time.Millisecond
		}
		kp := newKillProxy(t, l.httpAd, true, after, func() {
			time.Sleep(delay)
			t.Logf("iteration %d: kill -9 leader %s %v after %d bytes of POST /restore went up", it, l.id, delay, after)
			c.mu.Lock()
			l.kill()
			c.mu.Unlock()
		})
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", "http://"+kp.addr()+"/restore", f)
		req.ContentLength = size
		ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			t.Logf("iteration %d: POST /restore answered %s: %s", it, resp.Status, bytes.TrimSpace(b))
		} else {
			t.Logf("iteration %d: POST /restore failed: %v", it, err)
		}
		if ctx.Err() != nil {
			t.Fatalf("iteration %d: POST /restore hung after the leader died", it)
		}
		cancel()
		f.Close()
		if !kp.fired.Load() {
			t.Fatalf("iteration %d: the restore ended before the leader was killed", it)
		}
		// The other two elect a leader and commit a write before the old
		// leader comes back: it must not keep a restore that they never
		// received, nor they one it never finished.
		servertest.Eventually(t, 30*time.Second, "a new leader among the other two", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			for _, p := range c.followers(l) {
				if cs, err := p.status(ctx); err == nil && cs.Node.State == "leader" {
					return nil
				}
			}
			return fmt.Errorf("no leader yet")
		})
		c.exec("CREATE TABLE IF NOT EXISTS meanwhile (it INTEGER)", fmt.Sprintf("INSERT INTO meanwhile VALUES (%d)", it))
		c.mu.Lock()
		l.start(t, c.bin)
		c.mu.Unlock()
		c.sameData()
		ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		conn, err := pgConnect(ctx, c.leader())
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM meanwhile WHERE it = $1", it).Scan(&n); err != nil || n != 1 {
			t.Fatalf("iteration %d: the write committed while the old leader was down: %d rows (%v)", it, n, err)
		}
		conn.Close(ctx)
		cancel()
		c.exec("DROP TABLE meanwhile")
		got := c.sameData()
		switch got {
		case before:
			t.Logf("iteration %d: the cluster kept its state", it)
		case backupState:
			t.Logf("iteration %d: the cluster holds the restored state", it)
			if !installs {
				t.Fatal("a restore whose upload was cut in the middle took effect")
			}
		default:
			t.Fatalf("iteration %d: the cluster holds neither the old state nor the restored one:\n%s\nold:\n%s\nrestored:\n%s", it, got, before, backupState)
		}
		c.answers(fmt.Sprintf("after-restore-crash-%d", it))
		c.sameData()
		// A restore cut short leaves no staging file on any node.
		servertest.Eventually(t, 30*time.Second, "no staging file", func() error {
			for _, p := range c.procs {
				if m, _ := filepath.Glob(filepath.Join(p.dir, "db", "*.restore-staging")); len(m) > 0 {
					return fmt.Errorf("%s keeps %v", p.id, m)
				}
			}
			return nil
		})
	}

	// The cluster still takes a whole restore. On a loaded machine a
	// leadership change may cut one short (503, or 504 when its commit's
	// outcome is unknown); either way it can be sent again.
	for attempt := 1; ; attempt++ {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post("http://"+c.leader().httpAd+"/restore", "application/octet-stream", f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			break
		}
		if attempt == 5 || (resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusGatewayTimeout) {
			t.Fatalf("POST /restore after the crashes (attempt %d): %s: %s", attempt, resp.Status, b)
		}
		t.Logf("POST /restore after the crashes (attempt %d): %s: %s; again", attempt, resp.Status, bytes.TrimSpace(b))
	}
	if got := c.sameData(); got != backupState {
		t.Fatalf("after a whole restore the cluster holds\n%s\nwant\n%s", got, backupState)
	}
}

// TestRestartKeepsTheDatabaseFile stops a node with SIGTERM after a
// snapshot and more writes: it starts again on the same database file
// (same inode, not rewritten) rather than restoring the snapshot into a
// new one, and holds exactly the cluster's data. Then it is killed with
// SIGKILL in the middle of a write load: it starts again from its snapshot
// and log, with exactly the committed data.
func TestRestartKeepsTheDatabaseFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs processes")
	}
	c := newCrashCluster(t)
	c.fillBlobs("blobs", 8)
	c.exec("CREATE TABLE load (id INTEGER PRIMARY KEY, v BLOB)")
	l := c.leader()
	f := c.followers(l)[0]
	resp, err := http.Post("http://"+f.httpAd+"/snapshot", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /snapshot: %s: %s", resp.Status, b)
	}
	c.exec("INSERT INTO load (v) VALUES (randomblob(1000))", "UPDATE blobs SET b = x'00' WHERE id = 1")
	c.waitCaughtUp()

	dbFile := filepath.Join(f.dir, "db", "raftsql.db")
	c.mu.Lock()
	f.cmd.Process.Signal(syscall.SIGTERM)
	if err := f.cmd.Wait(); err != nil {
		c.mu.Unlock()
		t.Fatalf("%s after SIGTERM: %v", f.id, err)
	}
	f.cmd = nil
	f.log.Close()
	c.mu.Unlock()
	before, err := os.Stat(dbFile)
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	f.start(t, c.bin)
	c.mu.Unlock()
	c.waitCaughtUp()
	after, err := os.Stat(dbFile)
	if err != nil {
		t.Fatal(err)
	}
	if ino := func(fi os.FileInfo) uint64 { return fi.Sys().(*syscall.Stat_t).Ino }; ino(before) != ino(after) || !before.ModTime().Equal(after.ModTime()) {
		t.Fatalf("the restart replaced or rewrote the database file (inode %d → %d, mtime %v → %v)",
			ino(before), ino(after), before.ModTime(), after.ModTime())
	}
	c.sameData()

	// kill -9 under a write load.
	stop := make(chan struct{})
	ok := c.writeLoad(stop)
	servertest.Eventually(t, 20*time.Second, "writes flowing", func() error {
		if ok.Load() < 20 {
			return fmt.Errorf("%d writes", ok.Load())
		}
		return nil
	})
	c.crash(f)
	servertest.Eventually(t, 20*time.Second, "writes after the kill", func() error {
		if ok.Load() < 60 {
			return fmt.Errorf("%d writes", ok.Load())
		}
		return nil
	})
	close(stop)
	c.waitCaughtUp()
	c.sameData()
	c.answers("after-kill")
}
