package server_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/raftsql/raftsql/server/servertest"
)

// scrape fetches node i's /metrics and parses it with Prometheus' own
// text parser.
func scrape(t *testing.T, c *servertest.Cluster, i int) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + c.Node(i).HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// value returns the value of the sample of family name whose labels
// include want (a counter's, a gauge's, or a histogram's count).
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
	total := 0.0
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if labels[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			total += m.Untyped.GetValue()
		}
	}
	return total
}

func TestMetricsCountAWorkload(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	l := c.Leader()
	f := c.Follower()
	before := scrape(t, c, l)

	conn := connect(t, c, l)
	mustExec(t, conn, "CREATE TABLE m (id INTEGER PRIMARY KEY, v TEXT)")
	const writes = 20
	for i := 0; i < writes; i++ {
		mustExec(t, conn, "INSERT INTO m (v) VALUES ($1)", fmt.Sprint(i))
	}
	for i := 0; i < 5; i++ {
		count(t, conn, "SELECT count(*) FROM m")
	}
	mustExec(t, conn, "BEGIN")
	mustExec(t, conn, "INSERT INTO m (v) VALUES ('tx')")
	mustExec(t, conn, "COMMIT")
	mustExec(t, conn, "BEGIN")
	mustExec(t, conn, "INSERT INTO m (v) VALUES ('undone')")
	mustExec(t, conn, "ROLLBACK")
	if _, err := conn.Exec(context.Background(), "INSERT INTO m (id, v) VALUES (1, 'dup')"); sqlState(err) != "23505" {
		t.Fatalf("duplicate key: got %v, want 23505", err)
	}
	fconn := connect(t, c, f)
	count(t, fconn, "SELECT count(*) FROM m")

	after := scrape(t, c, l)
	moved := func(name string, labels map[string]string, atLeast float64) {
		t.Helper()
		b, a := max(value(before, name, labels), 0), value(after, name, labels)
		if a < 0 {
			t.Errorf("%s%v: missing from /metrics", name, labels)
			return
		}
		if a-b < atLeast {
			t.Errorf("%s%v: moved by %v, want at least %v", name, labels, a-b, atLeast)
		}
	}
	moved("raftsql_statements_total", map[string]string{"kind": "write", "outcome": "ok"}, writes+3)
	moved("raftsql_statements_total", map[string]string{"kind": "read", "outcome": "ok"}, 5)
	moved("raftsql_statements_total", map[string]string{"kind": "tx_control", "outcome": "ok"}, 4)
	moved("raftsql_statements_total", map[string]string{"kind": "write", "outcome": "23"}, 1)
	moved("raftsql_write_seconds", nil, writes)
	moved("raftsql_read_seconds", map[string]string{"consistency": "linearizable"}, 5)
	moved("raftsql_transaction_seconds", map[string]string{"outcome": "commit"}, 1)
	moved("raftsql_transaction_seconds", map[string]string{"outcome": "rollback"}, 1)
	moved("raftsql_group_entry_bytes", nil, writes)
	moved("raftsql_raft_log_append_seconds", nil, writes)
	moved("raftsql_client_connections_total", nil, 1)
	moved("raftsql_raft_commit_index", nil, writes)
	moved("raftsql_raft_applied_index", nil, writes)
	if v := value(after, "raftsql_raft_is_leader", nil); v != 1 {
		t.Errorf("raftsql_raft_is_leader on the leader = %v, want 1", v)
	}
	if v := value(after, "raftsql_client_connections", nil); v < 1 {
		t.Errorf("raftsql_client_connections = %v with a connection open, want at least 1", v)
	}
	if v := value(after, "raftsql_sqlite_file_bytes", nil); v <= 0 {
		t.Errorf("raftsql_sqlite_file_bytes = %v, want > 0", v)
	}
	if v := value(after, "raftsql_sqlite_pages", nil); v < 1 {
		t.Errorf("raftsql_sqlite_pages = %v, want at least 1", v)
	}
	if _, ok := after["raftsql_hashicorp_raft_commitTime"]; !ok {
		t.Errorf("hashicorp's raft.commitTime is missing from /metrics")
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "raftsql_raft_term", "raftsql_raft_restores_total", "raftsql_raft_leadership_changes_total"} {
		if _, ok := after[name]; !ok {
			t.Errorf("%s missing from /metrics", name)
		}
	}

	// The follower counts its own client's read, and is not the leader.
	fm := scrape(t, c, f)
	if v := value(fm, "raftsql_statements_total", map[string]string{"kind": "read", "outcome": "ok"}); v < 1 {
		t.Errorf("follower's read statements = %v, want at least 1", v)
	}
	if v := value(fm, "raftsql_raft_is_leader", nil); v != 0 {
		t.Errorf("raftsql_raft_is_leader on a follower = %v, want 0", v)
	}

	// A snapshot is measured.
	if _, err := c.Node(l).Snapshot(); err != nil {
		t.Fatal(err)
	}
	servertest.Eventually(t, 10*time.Second, "a measured snapshot", func() error {
		if v := value(scrape(t, c, l), "raftsql_raft_snapshot_size_bytes", nil); v < 1 {
			return fmt.Errorf("raftsql_raft_snapshot_size_bytes count %v", v)
		}
		return nil
	})
	conn.Close(context.Background())
	servertest.Eventually(t, 10*time.Second, "the closed connection uncounted", func() error {
		if v := value(scrape(t, c, l), "raftsql_client_connections", nil); v != 0 {
			return fmt.Errorf("raftsql_client_connections = %v", v)
		}
		return nil
	})
}
