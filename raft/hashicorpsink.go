package raft

import (
	"sync"
	"sync/atomic"
	"time"

	metrics "github.com/armon/go-metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// hashicorpSink receives hashicorp/raft's and raft-boltdb's go-metrics and
// serves them as Prometheus gauges, counters and summaries, named as
// go-metrics' own Prometheus sink names them (the key's parts joined by
// "_", with " ", ".", "=", "-" and "/" made "_"), with the same quantiles.
//
// It replaces that sink because of what a sample costs there: it joins and
// rewrites the key into new strings, and copies and stores the series
// again, for every sample. hashicorp samples several timings for every RPC
// a follower handles, and a follower handles two heartbeats for every
// quorum check of the leader's linearizable reads; with three nodes on two
// cores that was a seventh of a follower's CPU under pgbench's select-only
// load. Here a sample looks its series up by a key built in a buffer on the
// stack and touches nothing else that is shared but the series itself.
type hashicorpSink struct {
	mu     sync.RWMutex
	series map[string]*hashicorpSeries
}

// hashicorpExpiry is how long a series that nothing updates stays on
// /metrics (a removed peer's, say).
const hashicorpExpiry = time.Minute

type seriesKind byte

const (
	gaugeSeries seriesKind = iota + 1
	counterSeries
	summarySeries
)

type hashicorpSeries struct {
	metric  prometheus.Metric
	gauge   prometheus.Gauge
	counter prometheus.Counter
	summary prometheus.Summary
	// touched is set by every update and cleared by a collection, which
	// then notes the time in seen (under the sink's lock).
	touched atomic.Bool
	seen    time.Time
}

var _ metrics.MetricSink = (*hashicorpSink)(nil)
var _ prometheus.Collector = (*hashicorpSink)(nil)

func newHashicorpSink() *hashicorpSink {
	return &hashicorpSink{series: map[string]*hashicorpSeries{}}
}

// find returns the series of key and labels, creating it.
func (s *hashicorpSink) find(kind seriesKind, key []string, labels []metrics.Label) *hashicorpSeries {
	var buf [192]byte
	b := append(buf[:0], byte(kind))
	for _, p := range key {
		b = append(b, p...)
		b = append(b, 0)
	}
	for _, l := range labels {
		b = append(b, 1)
		b = append(b, l.Name...)
		b = append(b, 0)
		b = append(b, l.Value...)
		b = append(b, 0)
	}
	s.mu.RLock()
	x := s.series[string(b)]
	s.mu.RUnlock()
	if x == nil {
		x = s.create(string(b), kind, key, labels)
	}
	x.touched.Store(true)
	return x
}

func (s *hashicorpSink) create(id string, kind seriesKind, key []string, labels []metrics.Label) *hashicorpSeries {
	s.mu.Lock()
	defer s.mu.Unlock()
	if x := s.series[id]; x != nil {
		return x
	}
	name := hashicorpName(key)
	var constLabels prometheus.Labels
	if len(labels) > 0 {
		constLabels = prometheus.Labels{}
		for _, l := range labels {
			constLabels[l.Name] = l.Value
		}
	}
	x := &hashicorpSeries{seen: time.Now()}
	switch kind {
	case gaugeSeries:
		x.gauge = prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: name, ConstLabels: constLabels})
		x.metric = x.gauge
	case counterSeries:
		x.counter = prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: name, ConstLabels: constLabels})
		x.metric = x.counter
	default:
		x.summary = prometheus.NewSummary(prometheus.SummaryOpts{
			Name: name, Help: name, ConstLabels: constLabels,
			MaxAge:     10 * time.Second,
			Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001},
		})
		x.metric = x.summary
	}
	s.series[id] = x
	return x
}

// hashicorpName is the Prometheus name of a go-metrics key.
func hashicorpName(key []string) string {
	var b []byte
	for i, p := range key {
		if i > 0 {
			b = append(b, '_')
		}
		for j := 0; j < len(p); j++ {
			switch c := p[j]; c {
			case ' ', '.', '=', '-', '/':
				b = append(b, '_')
			default:
				b = append(b, c)
			}
		}
	}
	return string(b)
}

func (s *hashicorpSink) SetGauge(key []string, val float32) { s.SetGaugeWithLabels(key, val, nil) }

func (s *hashicorpSink) SetGaugeWithLabels(key []string, val float32, labels []metrics.Label) {
	s.find(gaugeSeries, key, labels).gauge.Set(float64(val))
}

// EmitKey has no Prometheus form: a scrape sees values, not events.
func (s *hashicorpSink) EmitKey(key []string, val float32) {}

func (s *hashicorpSink) IncrCounter(key []string, val float32) {
	s.IncrCounterWithLabels(key, val, nil)
}

func (s *hashicorpSink) IncrCounterWithLabels(key []string, val float32, labels []metrics.Label) {
	if val < 0 {
		return // a Prometheus counter only grows
	}
	s.find(counterSeries, key, labels).counter.Add(float64(val))
}

func (s *hashicorpSink) AddSample(key []string, val float32) { s.AddSampleWithLabels(key, val, nil) }

func (s *hashicorpSink) AddSampleWithLabels(key []string, val float32, labels []metrics.Label) {
	s.find(summarySeries, key, labels).summary.Observe(float64(val))
}

// Describe describes nothing: the series come and go with what hashicorp
// reports, so the sink is an unchecked collector.
func (s *hashicorpSink) Describe(chan<- *prometheus.Desc) {}

// Collect sends every series updated within hashicorpExpiry, and forgets
// the others.
func (s *hashicorpSink) Collect(ch chan<- prometheus.Metric) { s.collectAt(ch, time.Now()) }

func (s *hashicorpSink) collectAt(ch chan<- prometheus.Metric, now time.Time) {
	s.mu.Lock()
	live := make([]prometheus.Metric, 0, len(s.series))
	for id, x := range s.series {
		switch {
		case x.touched.Swap(false):
			x.seen = now
		case now.Sub(x.seen) > hashicorpExpiry:
			delete(s.series, id)
			continue
		}
		live = append(live, x.metric)
	}
	s.mu.Unlock()
	for _, m := range live {
		ch <- m
	}
}
