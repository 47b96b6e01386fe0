package fsm

import (
	hraft "github.com/hashicorp/raft"
)

// ahead is an entry run before its turn by RunAhead, its transaction left
// open on the write connection.
type ahead struct {
	// key is the first byte of the entry's data: the leader's Raft hands
	// Apply the very slice the proposer handed to Raft, which is how Apply
	// knows the entry. Holding it keeps the slice's memory from being
	// reused by another entry.
	key    *byte
	plan   *batchPlan
	txOpen bool
}

// RunAhead runs the command entry data, which this node is proposing, on
// the current state inside a transaction that it leaves open, so that when
// Raft commits the entry, Apply only has to COMMIT it: the leader runs the
// SQL while the entry is being replicated instead of after. data must be
// the slice handed to Raft.
//
// It is only ever a shortcut. The work is kept only if the entry is the
// very next one applied; when another entry comes first, or a snapshot is
// taken or restored, or a WriteTx begins, it is rolled back and the entry
// is applied as usual when its turn comes. One entry is run ahead at a
// time; a second call drops the first. RunAhead reports whether it kept
// anything to commit (a duplicate request or a local failure keeps
// nothing; Apply meets the failure again in its turn).
func (f *FSM) RunAhead(data []byte) bool {
	if len(data) == 0 {
		return false
	}
	f.applyMu.Lock()
	defer f.applyMu.Unlock()
	if f.stopped() != nil || f.closed.Load() {
		return false
	}
	if err := f.dropAhead(); err != nil {
		return false
	}
	f.syncAutoCheckpoint()
	p := f.plan([]*hraft.Log{{Type: hraft.LogCommand, Data: data}})
	if p.nSQL == 0 {
		return false
	}
	txOpen, err := f.execute(p.items, p.nSQL > 1)
	if err != nil {
		f.noteSchema()
		return false
	}
	f.ahead = &ahead{key: &data[0], plan: p, txOpen: txOpen}
	return true
}

// Discard rolls back what RunAhead did for data, unless Apply has already
// committed it. The proposer calls it once the proposal has ended, so that
// a proposal that failed does not leave a transaction open.
func (f *FSM) Discard(data []byte) {
	if len(data) == 0 {
		return
	}
	f.applyMu.Lock()
	defer f.applyMu.Unlock()
	if f.ahead != nil && f.ahead.key == &data[0] {
		f.dropAhead()
	}
}

// dropAhead rolls back the entry run ahead, if any. f.applyMu is held. A
// failure to roll back stops the node: the write connection's state is no
// longer known.
func (f *FSM) dropAhead() error {
	a := f.ahead
	if a == nil {
		return nil
	}
	f.ahead = nil
	if w := f.w; w != nil && !w.autocommit() {
		if err := w.exec("ROLLBACK"); err != nil {
			return f.fail(err)
		}
	}
	f.noteSchema()
	return nil
}
