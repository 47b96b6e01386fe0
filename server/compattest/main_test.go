// Package compattest runs real tools — ORMs, migration tools, pg_dump —
// against a 3-node raftsql cluster, each doing what an application does on
// its first start and on its restart, with the tools' defaults. It holds
// tests only: one cluster is shared by every test of the binary, and each
// tool keeps to tables of its own.
//
// Every tool reaches the cluster through a recording proxy (proxy_test.go)
// that decodes the Postgres messages in both directions, so that a failing
// test names the first statement the server refused and the server's error,
// whatever the tool's own error says.
package compattest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// cluster is the cluster every test of the binary uses, started by TestMain.
var cluster *servertest.Cluster

func TestMain(m *testing.M) {
	tb := &mainTB{}
	if os.Getenv("NODE_PATH") == "" {
		// Where .ci/run installs the node packages.
		os.Setenv("NODE_PATH", filepath.Join(os.TempDir(), "raftsql-node", "node_modules"))
	}
	code := func() (code int) {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(mainFatal); !ok {
					panic(r)
				}
				fmt.Fprintln(os.Stderr, "compattest: starting the cluster:", r)
				code = 1
			}
		}()
		cluster = servertest.NewCluster(tb, 3, servertest.Options{Configure: steady})
		return m.Run()
	}()
	tb.cleanup()
	os.Exit(code)
}

// steady gives the cluster leases a starved test process keeps. The tests
// are about the tools' SQL, not failover: with servertest's 250ms lease the
// leader of a loaded 2-core machine steps down in the middle of a tool's
// run ("transaction aborted: this node lost leadership", "no leader
// reachable"), and tools do not retry. For the same reason a transaction
// block that a follower relays is not aborted when the starved process
// delays the follower's heartbeat past the 1s relay timeout.
func steady(_ int, cfg *server.Config) {
	cfg.HeartbeatTimeout = 3 * time.Second
	cfg.ElectionTimeout = 3 * time.Second
	cfg.LeaderLeaseTimeout = 2 * time.Second
	cfg.RelayTimeout = 30 * time.Second
}

// mainTB is the testing.TB of TestMain, which has none: servertest needs
// only a few of its methods, and a fatal error stops TestMain.
type mainTB struct {
	testing.TB // nil: a method not defined here is not used by servertest
	mu         sync.Mutex
	cleanups   []func()
	dirs       []string
}

type mainFatal string

func (t *mainTB) Helper()                   {}
func (t *mainTB) Logf(f string, a ...any)   { fmt.Fprintf(os.Stderr, f+"\n", a...) }
func (t *mainTB) Log(a ...any)              { fmt.Fprintln(os.Stderr, a...) }
func (t *mainTB) Fatal(a ...any)            { panic(mainFatal(fmt.Sprint(a...))) }
func (t *mainTB) Fatalf(f string, a ...any) { panic(mainFatal(fmt.Sprintf(f, a...))) }
func (t *mainTB) Errorf(f string, a ...any) { panic(mainFatal(fmt.Sprintf(f, a...))) }
func (t *mainTB) Name() string              { return "TestMain" }
func (t *mainTB) Failed() bool              { return false }
func (t *mainTB) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}
func (t *mainTB) TempDir() string {
	dir, err := os.MkdirTemp("", "compattest-")
	if err != nil {
		t.Fatal(err)
	}
	t.mu.Lock()
	t.dirs = append(t.dirs, dir)
	t.mu.Unlock()
	return dir
}

func (t *mainTB) cleanup() {
	t.mu.Lock()
	fs, dirs := t.cleanups, t.dirs
	t.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
	for _, d := range dirs {
		os.RemoveAll(d)
	}
}

// toolTimeout bounds one run of a tool: each does a few dozen statements,
// in seconds on an idle machine, but knex's took 40s on a loaded 2-core one
// without the race detector.
const toolTimeout = 3 * time.Minute

// dsnFor is a connection string for node i through a recording proxy that
// reports, when the test fails, the statements the server refused.
func dsnFor(t *testing.T, i int) string {
	t.Helper()
	p := startProxy(t, cluster.PGAddr(i))
	return "postgres://test@" + p.addr + "/raftsql?sslmode=disable"
}

// hostPort splits a proxy DSN for tools that take them apart.
func hostPort(dsn string) (host, port string) {
	rest := strings.TrimPrefix(dsn, "postgres://test@")
	rest = rest[:strings.IndexByte(rest, '/')]
	i := strings.LastIndexByte(rest, ':')
	return rest[:i], rest[i+1:]
}

// exec runs one statement on node 0 directly, for a test's setup.
func execSQL(t *testing.T, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, cluster.DSN(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// dropTables removes what an earlier run of a test left (go test -count=2
// reuses nothing, but the cluster is shared by every test of the binary).
func dropTables(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		execSQL(t, "DROP TABLE IF EXISTS "+n)
	}
}

// need skips the test when a tool is not installed; .ci/run installs them.
func need(t *testing.T, cmd string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cmd, args...).CombinedOutput(); err != nil {
		t.Skipf("%s %s: %v (.ci/run installs it): %s", cmd, strings.Join(args, " "), err, out)
	}
}

// script runs a script of testdata/ with an interpreter, bounded by
// toolTimeout, and fails the test with its output when it fails.
func script(t *testing.T, env []string, interp string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	path, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, interp, append([]string{path}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %v:\n%s", name, toolTimeout, out)
	}
	if err != nil {
		t.Fatalf("%s %s: %v:\n%s", name, strings.Join(args, " "), err, out)
	}
	t.Logf("%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out)
}

// python is the interpreter Debian's python3-* packages are installed for.
const python = "/usr/bin/python3"

// nodeEnv is what node needs to find the packages .ci/run installs.
func nodeEnv(t *testing.T) []string {
	t.Helper()
	return []string{"NODE_PATH=" + os.Getenv("NODE_PATH")}
}
