package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// capturedLog collects JSON log lines of a node.
type capturedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *capturedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the records logged so far, decoded.
func (l *capturedLog) lines(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not one JSON object (%v): %s", err, line)
		}
		out = append(out, rec)
	}
	return out
}

func (l *capturedLog) count(t *testing.T, match func(map[string]any) bool) int {
	n := 0
	for _, r := range l.lines(t) {
		if match(r) {
			n++
		}
	}
	return n
}

// loggedCluster starts a 3-node cluster whose nodes log at debug level into
// captured logs.
func loggedCluster(t *testing.T) (*servertest.Cluster, []*capturedLog) {
	logs := make([]*capturedLog, 3)
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		logs[i] = &capturedLog{}
		cfg.Logger = slog.New(slog.NewJSONHandler(logs[i], &slog.HandlerOptions{Level: slog.LevelDebug}))
	}})
	return c, logs
}

func TestLogLinesCarryEachAttributeOnce(t *testing.T) {
	c, logs := loggedCluster(t)
	conn := connect(t, c, c.Follower())
	mustExec(t, conn, "CREATE TABLE l (v TEXT)")
	mustExec(t, conn, "INSERT INTO l VALUES ('x')")
	count(t, conn, "SELECT count(*) FROM l")
	for i, l := range logs {
		l.mu.Lock()
		raw := l.buf.String()
		l.mu.Unlock()
		for _, line := range strings.Split(strings.TrimSpace(raw), "\n") {
			// encoding/json keeps the last of duplicate keys: count them
			// in the text.
			for _, key := range []string{`"node":`, `"subsystem":`} {
				if n := strings.Count(line, key); n > 1 {
					t.Errorf("node %d: %s appears %d times: %s", i, key, n, line)
				}
			}
		}
	}
	// Debug level logs each statement with its session and duration.
	stmts := 0
	for _, l := range logs {
		stmts += l.count(t, func(r map[string]any) bool {
			return r["msg"] == "statement" && r["session"] != nil && r["duration"] != nil && r["sql"] == "INSERT INTO l VALUES ('x')"
		})
	}
	if stmts != 1 {
		t.Errorf("debug lines of the INSERT: %d, want 1", stmts)
	}
}

func TestDownPeerIsReportedOnceAndItsReturn(t *testing.T) {
	c, logs := loggedCluster(t)
	l := c.Leader()
	f := c.Follower()
	id := servertest.NodeID(f)
	lead := logs[l]
	addr := c.Config(f).RaftAddr
	isPeer := func(r map[string]any) bool { return r["peer_id"] == id }
	stopped := time.Now()
	c.Stop(f)
	// Wait until the leader failed to reach it many times: the repeats are
	// logged at debug level.
	servertest.Eventually(t, 30*time.Second, "repeated failures to reach the stopped peer", func() error {
		n := lead.count(t, func(r map[string]any) bool {
			return r["level"] == "DEBUG" && r["msg"] == "failed to heartbeat to"
		})
		if n < 8 {
			return fmt.Errorf("%d failed heartbeats so far", n)
		}
		return nil
	})
	if n := lead.count(t, func(r map[string]any) bool { return isPeer(r) && r["msg"] == "peer unreachable" }); n != 1 {
		t.Errorf("'peer unreachable' lines: %d, want 1", n)
	}
	for _, r := range lead.lines(t) {
		if at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(r["time"])); err != nil || at.Before(stopped) {
			continue
		}
		// Only what names the peer: a loaded machine may make the leader
		// warn of other things.
		line := fmt.Sprint(r)
		names := strings.Contains(line, addr) || isPeer(r)
		if names && (r["level"] == "ERROR" || r["level"] == "WARN") && r["msg"] != "peer unreachable" {
			t.Errorf("a warning or error about the down peer besides its report: %v", r)
		}
	}
	c.Restart(f)
	servertest.Eventually(t, 30*time.Second, "the peer reported back", func() error {
		if lead.count(t, func(r map[string]any) bool { return isPeer(r) && r["msg"] == "peer reachable again" }) != 1 {
			return fmt.Errorf("not yet")
		}
		return nil
	})
}

func TestCleanShutdownLogsNoError(t *testing.T) {
	c, logs := loggedCluster(t)
	conn := connect(t, c, c.Leader())
	mustExec(t, conn, "CREATE TABLE s (v TEXT)")
	mustExec(t, conn, "INSERT INTO s VALUES ('x')")
	conn.Close(t.Context())
	c.WaitSynced()
	c.Close()
	for i, l := range logs {
		for _, r := range l.lines(t) {
			if r["level"] == "ERROR" {
				t.Errorf("node %d logged an error on a clean shutdown: %v", i, r)
			}
		}
	}
}
