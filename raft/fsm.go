package raft

import (
	"io"
	"sync"
	"sync/atomic"

	hraft "github.com/hashicorp/raft"
)

// trackingFSM wraps the caller's FSM to learn which log index the FSM has
// reached and to wake WaitApplied callers as soon as it moves. It always
// presents itself to hashicorp/raft as a BatchingFSM: a batching FSM receives
// the batch unchanged, any other FSM gets one Apply per command entry (and
// StoreConfiguration per configuration entry when it implements
// hraft.ConfigurationStore), exactly as hashicorp/raft would call it.
//
// No-op and barrier entries never reach an FSM, so the index tracked here can
// trail the commit index; Node.WaitApplied covers that gap by reading the log.
type trackingFSM struct {
	inner    hraft.FSM
	batching hraft.BatchingFSM        // inner, if it batches
	confs    hraft.ConfigurationStore // inner, if it wants configurations

	// snapshotIndex tells, after a Restore, which index (and term) the
	// restored snapshot holds (Restore is called at run time only: New
	// restores at start itself).
	snapshotIndex func() (index, term uint64, ok bool)
	indexer       RestoreIndexer // inner, if it wants to know

	// watched maps the first byte of a command this node proposed to the
	// function to call once it is committed. On the leader hashicorp/raft
	// hands the FSM the very log its Apply built, so the proposal's data is
	// how the FSM recognises it; watching counts the entries so that the
	// FSM looks only while someone watches.
	watchMu  sync.Mutex
	watched  map[*byte]func()
	watching atomic.Int32

	mu       sync.Mutex
	applied  uint64        // index of the last entry the FSM has seen
	restores uint64        // number of successful Restore calls
	wake     chan struct{} // closed and cleared when applied moves; nil if nobody waits
}

var _ hraft.BatchingFSM = (*trackingFSM)(nil)

func newTrackingFSM(inner hraft.FSM, snapshotIndex func() (uint64, uint64, bool)) *trackingFSM {
	t := &trackingFSM{inner: inner, snapshotIndex: snapshotIndex}
	t.indexer, _ = inner.(RestoreIndexer)
	t.batching, _ = inner.(hraft.BatchingFSM)
	t.confs, _ = inner.(hraft.ConfigurationStore)
	return t
}

// advance records that the FSM has reached index and wakes waiters.
func (t *trackingFSM) advance(index uint64, restored bool) {
	t.mu.Lock()
	if index > t.applied {
		t.applied = index
	}
	if restored {
		t.restores++
	}
	if t.wake != nil {
		close(t.wake)
		t.wake = nil
	}
	t.mu.Unlock()
}

// watch arranges for committed to be called when the entry carrying data
// reaches the FSM; the returned function cancels the watch.
func (t *trackingFSM) watch(data []byte, committed func()) (unwatch func()) {
	key := &data[0]
	t.watchMu.Lock()
	if t.watched == nil {
		t.watched = make(map[*byte]func())
	}
	t.watched[key] = committed
	t.watching.Add(1)
	t.watchMu.Unlock()
	return func() {
		t.watchMu.Lock()
		if _, ok := t.watched[key]; ok {
			delete(t.watched, key)
			t.watching.Add(-1)
		}
		t.watchMu.Unlock()
	}
}

// notifyCommitted calls the watch of each command entry in logs, which Raft
// has committed and the FSM is about to apply.
func (t *trackingFSM) notifyCommitted(logs []*hraft.Log) {
	if t.watching.Load() == 0 {
		return
	}
	var calls []func()
	t.watchMu.Lock()
	for _, l := range logs {
		if l.Type != hraft.LogCommand || len(l.Data) == 0 {
			continue
		}
		if f, ok := t.watched[&l.Data[0]]; ok {
			delete(t.watched, &l.Data[0])
			t.watching.Add(-1)
			calls = append(calls, f)
		}
	}
	t.watchMu.Unlock()
	for _, f := range calls {
		f()
	}
}

// appliedIndex returns the last index seen by the FSM.
func (t *trackingFSM) appliedIndex() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.applied
}

// waitChan returns the index the FSM has reached and a channel that is closed
// the next time it moves.
func (t *trackingFSM) waitChan() (uint64, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.wake == nil {
		t.wake = make(chan struct{})
	}
	return t.applied, t.wake
}

func (t *trackingFSM) Apply(l *hraft.Log) any {
	t.notifyCommitted([]*hraft.Log{l})
	resp := t.inner.Apply(l)
	t.advance(l.Index, false)
	return resp
}

func (t *trackingFSM) ApplyBatch(logs []*hraft.Log) []any {
	if len(logs) == 0 {
		return nil
	}
	t.notifyCommitted(logs)
	if t.batching != nil {
		resps := t.batching.ApplyBatch(logs)
		t.advance(logs[len(logs)-1].Index, false)
		return resps
	}
	resps := make([]any, len(logs))
	for i, l := range logs {
		switch l.Type {
		case hraft.LogCommand:
			resps[i] = t.inner.Apply(l)
		case hraft.LogConfiguration:
			if t.confs != nil {
				t.confs.StoreConfiguration(l.Index, hraft.DecodeConfiguration(l.Data))
			}
		}
		t.advance(l.Index, false)
	}
	return resps
}

func (t *trackingFSM) Snapshot() (hraft.FSMSnapshot, error) { return t.inner.Snapshot() }

func (t *trackingFSM) Restore(rc io.ReadCloser) error {
	if err := t.inner.Restore(rc); err != nil {
		return err
	}
	index, term, ok := t.snapshotIndex()
	if ok && t.indexer != nil {
		t.indexer.RestoredAt(index, term)
	}
	t.advance(index, true)
	return nil
}

// restoreCount returns how many times the FSM was restored from a snapshot.
func (t *trackingFSM) restoreCount() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.restores
}
