package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// killAt makes a cluster whose leader, the first time a restore reaches
// point, hands the restore's id to the test and waits until the test lets
// it go on (once it has killed that leader).
type killAt struct {
	point string
	// staged, when set, is called as the restore reaches RestoreHookStaged.
	staged  func()
	fired   atomic.Bool
	reached chan server.RestoreID
	release chan struct{}
}

func newKillAt(t *testing.T, point string) *killAt {
	k := &killAt{point: point, reached: make(chan server.RestoreID, 1), release: make(chan struct{})}
	t.Cleanup(func() {
		if k.fired.Load() {
			select {
			case <-k.release:
			default:
				close(k.release)
			}
		}
	})
	return k
}

func (k *killAt) hook(point string, id server.RestoreID) {
	if point == server.RestoreHookStaged && k.staged != nil && !k.fired.Load() {
		k.staged()
	}
	if point != k.point || !k.fired.CompareAndSwap(false, true) {
		return
	}
	k.reached <- id
	<-k.release
}

// restoreIDFixture writes rows, backs them up to a file, and writes a row
// the restore must remove; it returns the file's path.
func restoreIDFixture(t *testing.T, c *servertest.Cluster) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN(c.Leader()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range []string{
		"CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT, pad BLOB)",
		"INSERT INTO t (who, pad) VALUES ('restored', randomblob(1000000))",
	} {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	c.EnsureSame()
	path := filepath.Join(t.TempDir(), "backup.db")
	mustRun(t, "backup", "--addr", c.Config(c.Leader()).HTTPAddr, "-o", path)
	execSQL(t, c, "INSERT INTO t (who) VALUES ('lost')")
	return path
}

// execSQL runs sql on the leader, again if it fails (leadership moved; a
// write whose outcome was unknown may then be applied twice).
func execSQL(t *testing.T, c *servertest.Cluster, sql string) {
	t.Helper()
	servertest.Eventually(t, 30*time.Second, sql, func() error {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, c.DSN(c.Leader()))
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		if _, err = conn.Exec(ctx, sql); err != nil {
			t.Logf("%s: %v; again", sql, err)
		}
		return err
	})
}

// countRows reads a count on node i, again while the cluster elects a
// leader.
func countRows(t *testing.T, c *servertest.Cluster, i int, sql string) int {
	t.Helper()
	var n int
	servertest.Eventually(t, 30*time.Second, fmt.Sprintf("%s on node %d", sql, i), func() error {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, c.DSN(i))
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		return conn.QueryRow(ctx, sql).Scan(&n)
	})
	return n
}

// installedOnce checks that every running node installed restore id once,
// at index, and holds the restored rows.
func installedOnce(t *testing.T, c *servertest.Cluster, id server.RestoreID, index uint64, skip int) {
	t.Helper()
	c.EnsureSame()
	for i := range c.Size() {
		if i == skip || c.Node(i) == nil {
			continue
		}
		st, err := c.Node(i).RestoreStatus(context.Background(), id, 0)
		if err != nil {
			t.Fatal(err)
		}
		if st.Outcome != server.RestoreInstalled || st.Installs != 1 || st.Index != index {
			t.Fatalf("node %d: restore %s is %s at index %d, installed %d times; want installed once at %d", i, id, st.Outcome, st.Index, st.Installs, index)
		}
		if n := countRows(t, c, i, "SELECT count(*) FROM t WHERE who = 'lost'"); n != 0 {
			t.Fatalf("node %d: a row written after the backup survived the restore", i)
		}
	}
}

var (
	installedLine = regexp.MustCompile(`restore ([0-9a-f]{16}) installed: .* as of index (\d+)`)
	restoredLine  = regexp.MustCompile(`as of index (\d+)`)
)

// The leader is killed right after it proposed the install entry, the
// connection of the upload breaking with it: raftsql restore asks the
// other nodes what became of its restore and reports the install, which
// the next leader committed, and which every node applied once.
func TestRestoreLearnsItsOutcomeWhenTheLeaderDiesAfterProposing(t *testing.T) {
	k := newKillAt(t, server.RestoreHookProposed)
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) { cfg.TestRestoreHook = k.hook }})
	path := restoreIDFixture(t, c)
	l := c.Leader()
	// The last index before the install entry is proposed: no write
	// runs while a restore is installed.
	var before atomic.Uint64
	k.staged = func() { before.Store(c.Node(l).LocalStatus().LastIndex) }
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"restore", "--addr", httpAddrs(c, l, (l+1)%3, (l+2)%3), path}, &out, &errOut)
	}()
	var id server.RestoreID
	select {
	case id = <-k.reached:
	case err := <-done:
		t.Fatalf("the restore ended before its install entry was proposed: %v\n%s", err, errOut.String())
	case <-time.After(2 * time.Minute):
		t.Fatal("the install entry was not proposed")
	}
	// Once a follower holds the entry, the next leader is one that does
	// (the other follower cannot win its vote), and commits it.
	servertest.Eventually(t, 30*time.Second, "a follower holding the install entry", func() error {
		for i := range c.Size() {
			if i != l && c.Node(i).LocalStatus().LastIndex > before.Load() {
				return nil
			}
		}
		return errors.New("not yet")
	})
	c.Crash(l)
	close(k.release)
	if err := <-done; err != nil {
		t.Fatalf("restore: %v\n%s", err, errOut.String())
	}
	t.Logf("stderr:\n%s", errOut.String())
	m := installedLine.FindStringSubmatch(out.String())
	if m == nil || m[1] != id.String() {
		t.Fatalf("restore printed %q; want restore %s installed, as the nodes told", out.String(), id)
	}
	if !strings.Contains(errOut.String(), "asking the nodes what became of restore "+id.String()) {
		t.Errorf("stderr does not say the nodes were asked:\n%s", errOut.String())
	}
	var index uint64
	fmt.Sscan(m[2], &index)
	installedOnce(t, c, id, index, l)
	execSQL(t, c, "INSERT INTO t (who) VALUES ('after')")
	c.Restart(l)
	c.EnsureSame()
}

// The leader is killed once the file is copied and before it proposes the
// install entry: nothing was applied, the nodes say so (the next leader
// aborts the staged restore, or answers that it was not applied), and
// raftsql restore sends the file again under the same id; it is installed
// exactly once.
func TestRestoreSentAgainWhenTheLeaderDiesBeforeProposing(t *testing.T) {
	k := newKillAt(t, server.RestoreHookStaged)
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) { cfg.TestRestoreHook = k.hook }})
	path := restoreIDFixture(t, c)
	l := c.Leader()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"restore", "--addr", httpAddrs(c, l, (l+1)%3, (l+2)%3), path}, &out, &errOut)
	}()
	var id server.RestoreID
	select {
	case id = <-k.reached:
	case err := <-done:
		t.Fatalf("the restore ended before it was staged: %v\n%s", err, errOut.String())
	case <-time.After(2 * time.Minute):
		t.Fatal("the restore was not staged")
	}
	c.Crash(l)
	close(k.release)
	// The killed process is started again (a node that stays down holds
	// a restore back: its entry version is not known to the next leader).
	c.Restart(l)
	if err := <-done; err != nil {
		t.Fatalf("restore: %v\n%s", err, errOut.String())
	}
	t.Logf("stderr:\n%s", errOut.String())
	if !strings.Contains(errOut.String(), "sending the file again") || !strings.Contains(errOut.String(), "restore "+id.String()+" is ") {
		t.Fatalf("restore did not send the file again on a definite answer:\n%s", errOut.String())
	}
	m := restoredLine.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("restore printed %q", out.String())
	}
	var index uint64
	fmt.Sscan(m[1], &index)
	installedOnce(t, c, id, index, l)
}

// A restore sent again under the id of one installed is not installed
// again, by raftsql restore --restore-id nor by a node asked directly: a
// row written since stays.
func TestRestoreIdempotentByID(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	path := restoreIDFixture(t, c)
	addrs := httpAddrs(c, 0, 1, 2)
	out, errOut := mustRun(t, "restore", "--addr", addrs, path)
	m := regexp.MustCompile(`restore id ([0-9a-f]{16})`).FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("restore printed no id:\n%s", errOut)
	}
	id, err := server.ParseRestoreID(m[1])
	if err != nil {
		t.Fatal(err)
	}
	r := restoredLine.FindStringSubmatch(out)
	if r == nil {
		t.Fatalf("restore printed %q", out)
	}
	var index uint64
	fmt.Sscan(r[1], &index)
	execSQL(t, c, "INSERT INTO t (who) VALUES ('after')")

	out, _ = mustRun(t, "restore", "--addr", httpAddrs(c, c.Follower()), "--restore-id", id.String(), path)
	if want := fmt.Sprintf("restore %s was installed already, at index %d", id, index); !strings.Contains(out, want) {
		t.Fatalf("restore --restore-id printed %q, want %q", out, want)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := c.Node(c.Leader()).RestoreWith(context.Background(), f, server.RestoreOptions{ID: id})
	if err != nil || !info.AlreadyInstalled || info.Index != index {
		t.Fatalf("RestoreWith the same id: %+v, %v; want already installed at %d", info, err, index)
	}
	installedOnce(t, c, id, index, -1)
	for i := range c.Size() {
		// At least one: a write retried after an unknown outcome may
		// have committed twice.
		if n := countRows(t, c, i, "SELECT count(*) FROM t WHERE who = 'after'"); n < 1 {
			t.Fatalf("node %d: %d rows written after the restore: it was installed again", i, n)
		}
	}
}

// A node that drops the upload's connection and then never learns the
// outcome: raftsql restore gives up after --outcome-timeout with exit
// status 3 and names the id to check later; it does not send the file
// again. Once a node says installed, --restore-id reports it.
func TestRestoreOutcomeUnknownExitsThree(t *testing.T) {
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, []byte("not looked at by this server"), 0o644); err != nil {
		t.Fatal(err)
	}
	var posts atomic.Int32
	var installed atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "POST" && r.URL.Path == "/restore":
			posts.Add(1)
			io.Copy(io.Discard, r.Body)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close() // the leader killed before it answered
			}
		case r.URL.Path == "/restore/status":
			id, _ := server.ParseRestoreID(r.URL.Query().Get("id"))
			st := server.RestoreStatus{ID: id, Outcome: server.RestoreUnknown, Node: "n1", AppliedIndex: 5}
			if installed.Load() {
				st.Outcome, st.Index, st.Installs = server.RestoreInstalled, 6, 1
			}
			json.NewEncoder(w).Encode(st)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	var out, errOut syncBuffer
	err := run(context.Background(), []string{"restore", "--addr", addr, "--outcome-timeout", "1s", path}, &out, &errOut)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitOutcomeUnknown {
		t.Fatalf("restore with its outcome never known: %v, want exit status %d\n%s", err, exitOutcomeUnknown, errOut.String())
	}
	m := regexp.MustCompile(`--restore-id ([0-9a-f]{16})`).FindStringSubmatch(err.Error())
	if m == nil || !strings.Contains(errOut.String(), "restore id "+m[1]) || !strings.Contains(errOut.String(), "waiting to learn what became of restore "+m[1]) {
		t.Fatalf("the error %q or the progress\n%s\ndoes not name the id", err, errOut.String())
	}
	if n := posts.Load(); n != 1 {
		t.Fatalf("the file was sent %d times, want once: its outcome was unknown", n)
	}

	installed.Store(true)
	got, _ := mustRun(t, "restore", "--addr", addr, "--restore-id", m[1], path)
	if !strings.Contains(got, "restore "+m[1]+" was installed already, at index 6") || posts.Load() != 1 {
		t.Fatalf("restore --restore-id printed %q after %d uploads; want the install reported, nothing sent", got, posts.Load())
	}
}
