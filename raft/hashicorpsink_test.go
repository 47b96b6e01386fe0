package raft

import (
	"testing"
	"time"

	metrics "github.com/armon/go-metrics"
	gmprom "github.com/armon/go-metrics/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gather returns what one collection of c holds, by name.
func gather(t *testing.T, collect func(chan<- prometheus.Metric)) map[string][]*dto.Metric {
	t.Helper()
	ch := make(chan prometheus.Metric, 100)
	collect(ch)
	close(ch)
	out := map[string][]*dto.Metric{}
	for m := range ch {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		name := m.Desc().String()
		// Desc's String has the form Desc{fqName: "name", ...}.
		const pre = `Desc{fqName: "`
		name = name[len(pre):]
		for i := 0; i < len(name); i++ {
			if name[i] == '"' {
				name = name[:i]
				break
			}
		}
		out[name] = append(out[name], &pb)
	}
	return out
}

func TestHashicorpSinkNamesAndKinds(t *testing.T) {
	s := newHashicorpSink()
	peer := []metrics.Label{{Name: "peer_id", Value: "n2"}}
	s.AddSampleWithLabels([]string{"raftsql_hashicorp", "raft", "replication", "appendEntries", "rpc"}, 1.5, peer)
	s.AddSampleWithLabels([]string{"raftsql_hashicorp", "raft", "replication", "appendEntries", "rpc"}, 2.5, peer)
	s.AddSample([]string{"raftsql_hashicorp", "raft", "replication", "appendEntries", "rpc"}, 9)
	s.IncrCounter([]string{"raftsql_hashicorp", "raft", "apply"}, 2)
	s.IncrCounter([]string{"raftsql_hashicorp", "raft", "apply"}, 3)
	s.IncrCounter([]string{"raftsql_hashicorp", "raft", "apply"}, -1)
	s.SetGauge([]string{"raftsql_hashicorp", "raft", "peers"}, 3)
	s.SetGauge([]string{"raftsql_hashicorp", "raft", "peers"}, 2)
	s.SetGauge([]string{"raftsql_hashicorp", "raft.leader-x/y z=1"}, 1)
	got := gather(t, s.Collect)

	rpc := got["raftsql_hashicorp_raft_replication_appendEntries_rpc"]
	if len(rpc) != 2 {
		t.Fatalf("appendEntries_rpc: %d series, want 2 (with and without the peer label): %v", len(rpc), got)
	}
	for _, m := range rpc {
		sum := m.GetSummary()
		if sum == nil {
			t.Fatalf("appendEntries_rpc is not a summary: %v", m)
		}
		switch {
		case len(m.GetLabel()) == 1 && m.GetLabel()[0].GetName() == "peer_id" && m.GetLabel()[0].GetValue() == "n2":
			if sum.GetSampleCount() != 2 || sum.GetSampleSum() != 4 {
				t.Errorf("labelled summary: count %d sum %v, want 2 and 4", sum.GetSampleCount(), sum.GetSampleSum())
			}
			if len(sum.GetQuantile()) != 3 {
				t.Errorf("labelled summary: %d quantiles, want 3", len(sum.GetQuantile()))
			}
		case len(m.GetLabel()) == 0:
			if sum.GetSampleCount() != 1 || sum.GetSampleSum() != 9 {
				t.Errorf("summary: count %d sum %v, want 1 and 9", sum.GetSampleCount(), sum.GetSampleSum())
			}
		default:
			t.Errorf("unexpected labels %v", m.GetLabel())
		}
	}
	if c := got["raftsql_hashicorp_raft_apply"]; len(c) != 1 || c[0].GetCounter().GetValue() != 5 {
		t.Errorf("apply counter: %v, want one counter at 5 (a negative increment ignored)", c)
	}
	if g := got["raftsql_hashicorp_raft_peers"]; len(g) != 1 || g[0].GetGauge().GetValue() != 2 {
		t.Errorf("peers gauge: %v, want one gauge at 2", g)
	}
	if _, ok := got["raftsql_hashicorp_raft_leader_x_y_z_1"]; !ok {
		t.Errorf("a key's dots, dashes, slashes, spaces and equals signs are not underscores: %v", got)
	}
}

// The names are those go-metrics' own Prometheus sink gives, which this one
// replaced: dashboards built on them keep working.
func TestHashicorpSinkNamesMatchGoMetrics(t *testing.T) {
	ours := newHashicorpSink()
	theirs, err := gmprom.NewPrometheusSinkFrom(gmprom.PrometheusOpts{Registerer: prometheus.NewRegistry(), Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	keys := [][]string{
		{"raftsql_hashicorp", "raft", "commitTime"},
		{"raftsql_hashicorp", "raft", "replication", "heartbeat", "n-2.x"},
		{"raftsql_hashicorp", "raft", "boltdb", "storeLogs"},
		{"raftsql_hashicorp", "raft", "net", "rpc Decode/=x"},
	}
	for _, k := range keys {
		ours.AddSample(k, 1)
		theirs.AddSample(k, 1)
	}
	a, b := gather(t, ours.Collect), gather(t, theirs.Collect)
	if len(a) != len(keys) {
		t.Fatalf("ours: %d names, want %d", len(a), len(keys))
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			t.Errorf("go-metrics names %q; ours are %v", name, a)
		}
	}
}

func TestHashicorpSinkForgetsSeriesNobodyUpdates(t *testing.T) {
	s := newHashicorpSink()
	old := []string{"raftsql_hashicorp", "raft", "replication", "heartbeat", "gone"}
	live := []string{"raftsql_hashicorp", "raft", "commitTime"}
	s.AddSample(old, 1)
	s.AddSample(live, 1)
	now := time.Now()
	count := func(at time.Time) map[string][]*dto.Metric {
		return gather(t, func(ch chan<- prometheus.Metric) { s.collectAt(ch, at) })
	}
	if got := count(now); len(got) != 2 {
		t.Fatalf("%d series, want 2", len(got))
	}
	// A series untouched for less than the expiry stays.
	if got := count(now.Add(hashicorpExpiry / 2)); len(got) != 2 {
		t.Fatalf("after half the expiry: %d series, want 2", len(got))
	}
	s.AddSample(live, 1)
	got := count(now.Add(hashicorpExpiry + time.Second))
	if _, ok := got["raftsql_hashicorp_raft_replication_heartbeat_gone"]; ok || len(got) != 1 {
		t.Fatalf("after the expiry: %v, want commitTime alone", got)
	}
	// A forgotten series comes back with its next sample.
	s.AddSample(old, 1)
	if got := count(now.Add(hashicorpExpiry + 2*time.Second)); len(got) != 2 {
		t.Fatalf("after a new sample: %d series, want 2", len(got))
	}
}

func TestHashicorpSinkSampleAllocatesNothing(t *testing.T) {
	s := newHashicorpSink()
	key := []string{"raftsql_hashicorp", "raft", "net", "rpcDecode"}
	labels := []metrics.Label{{Name: "rpcType", Value: "Heartbeat"}}
	s.AddSampleWithLabels(key, 1, labels)
	if n := testing.AllocsPerRun(100, func() { s.AddSampleWithLabels(key, 1, labels) }); n != 0 {
		t.Fatalf("a sample of an existing series allocates %v times", n)
	}
}

// BenchmarkHashicorpSample compares a sample of a labelled timing, as
// hashicorp's transport takes for every RPC, in this sink and in
// go-metrics' own Prometheus sink.
func BenchmarkHashicorpSample(b *testing.B) {
	key := []string{"raftsql_hashicorp", "raft", "net", "rpcDecode"}
	labels := []metrics.Label{{Name: "rpcType", Value: "Heartbeat"}}
	b.Run("ours", func(b *testing.B) {
		s := newHashicorpSink()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s.AddSampleWithLabels(key, 1, labels)
			}
		})
	})
	b.Run("go-metrics", func(b *testing.B) {
		s, err := gmprom.NewPrometheusSinkFrom(gmprom.PrometheusOpts{Registerer: prometheus.NewRegistry(), Name: "x"})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s.AddSampleWithLabels(key, 1, labels)
			}
		})
	})
}
