package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
)

// Restore ids chosen by the client, and the outcome of a restore asked of
// any node (GET /restore/status).
//
// A client names its restore with a random id (RestoreOptions.ID, the
// header HeaderRestoreID of POST /restore); the leader makes it the id of
// the restore's entries, so that it is in the install entry, and so in
// what every node that applies the entry remembers (fsm.RestoreOutcome). A
// client that sends none (an older release) gets one the leader picks, as
// before. The id travels in entries that every release with restores out
// of band reads (command.RestoreInstall always carried one): no entry or
// side-channel version is added.
//
// A restore sent again with the id of one already installed is not
// installed again: the leader, once it has applied every entry committed
// before it took office (ReadIndex), finds the id among the restores it
// applied and answers with the index of that install. Installing twice
// would wipe every write acknowledged between the two installs.
//
// # When "not applied" is definite
//
// A client that lost the answer to its upload (the leader was killed, the
// connection broke) asks for the outcome. A node answers:
//
//   - installed at index N, once it has applied the install entry;
//   - aborted, once it has applied an abort entry of the id (an install of
//     the same attempt never follows one: a leader installs only in the
//     term it began the restore in, and an abort from a later leader is
//     committed in a later term);
//   - in progress, on the leader that is receiving or copying it;
//   - not applied, only on a leader, and only when it can guarantee that
//     no install of the id is committed, nor ever will be unless the id
//     is sent again;
//   - unknown otherwise (a follower with nothing of it redirects to the
//     leader first).
//
// The leader's guarantee rests on Raft's: only a leader proposes a
// restore's entries, and only for an upload it received itself. A leader
// of term T commits an entry of its own term before anything else it
// answers (ReadIndex); once it has, every entry of an earlier term that
// will ever be committed is at or below its commit index (a later leader's
// log holds this committed entry, and, by the log matching property, the
// same entries before it; after it only entries of term T or later). So
// once this leader has applied up to that index, an install proposed by an
// earlier leader, dead or alive (a deposed leader's proposal carries its
// old term and cannot be committed after an entry of term T), is applied
// here or never committed. It then answers "not applied" when it applied
// no install or abort of the id, is not itself receiving it, and remembers
// every restore applied since the client began (the client sends the
// applied index it read before its upload as "after"; a node remembers the
// outcomes of the restores it applied since it started, the latest 256 of
// them, not those inside a snapshot it installed). The same file sent
// again with the same id is then installed at most once: the leader that
// receives it checks the id again, as above.

// HeaderRestoreID carries a restore's id, 16 hexadecimal digits, on POST
// /restore (the client's choice) and on its answer (the id used).
const HeaderRestoreID = "X-Raftsql-Restore-Id"

// A RestoreID names a restore; the client chooses it at random, so that
// it can ask what became of its restore when the answer was lost. Zero is
// no id. Its text form is 16 hexadecimal digits.
type RestoreID uint64

func (id RestoreID) String() string { return fmt.Sprintf("%016x", uint64(id)) }

// MarshalText writes the 16 hexadecimal digits.
func (id RestoreID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText reads ParseRestoreID's form.
func (id *RestoreID) UnmarshalText(b []byte) error {
	v, err := ParseRestoreID(string(b))
	*id = v
	return err
}

// ParseRestoreID reads a restore id: 1 to 16 hexadecimal digits, not all
// zero.
func ParseRestoreID(s string) (RestoreID, error) {
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil || len(s) > 16 || v == 0 {
		return 0, fmt.Errorf("restore id %q: want 1 to 16 hexadecimal digits, not all zero", s)
	}
	return RestoreID(v), nil
}

// NewRestoreID returns a random restore id.
func NewRestoreID() RestoreID { return RestoreID(newRestoreID()) }

// RestoreOptions are a restore's settings.
type RestoreOptions struct {
	// ID names the restore (NewRestoreID); 0 lets the leader pick one. A
	// restore whose id was installed already is not installed again:
	// RestoreWith answers with that install's index.
	ID RestoreID
}

// Outcomes of a restore, as RestoreStatus reports them.
const (
	RestoreInstalled  = "installed"
	RestoreAborted    = "aborted"
	RestoreInProgress = "in-progress"
	// RestoreNotApplied (also a value of HeaderRestoreOutcome): definite.
	RestoreUnknown = "unknown"
)

// RestoreStatus is what a node knows of a restore.
type RestoreStatus struct {
	ID RestoreID `json:"id"`
	// Outcome is RestoreInstalled (at Index), RestoreAborted,
	// RestoreInProgress, RestoreNotApplied or RestoreUnknown.
	Outcome string `json:"outcome"`
	Index   uint64 `json:"index,omitempty"`
	// Installs counts the install entries of the id this node applied
	// (remembered): 1 once installed.
	Installs int `json:"installs"`
	// Node answered; Leader says whether it leads, and AppliedIndex is
	// its applied index.
	Node         string `json:"node"`
	Leader       bool   `json:"leader"`
	AppliedIndex uint64 `json:"applied_index"`
}

// RestoreStatus reports what became of restore id (see "When not applied
// is definite" above). after is the applied index the client read before
// it sent the restore (0 when unknown: then a node that has applied
// everything since its log began can still answer definitely).
func (n *Node) RestoreStatus(ctx context.Context, id RestoreID, after uint64) (RestoreStatus, error) {
	st := n.localRestoreStatus(id)
	if st.Outcome != RestoreUnknown || !n.raft.IsLeader() {
		return st, nil
	}
	term := n.raft.Term()
	ri, err := n.raft.ReadIndex(ctx)
	if err != nil {
		return st, nil // not the leader after all: unknown
	}
	if err := n.raft.WaitApplied(ctx, ri); err != nil {
		return st, nil
	}
	if st = n.localRestoreStatus(id); st.Outcome != RestoreUnknown {
		return st, nil
	}
	if n.raft.Term() == term && n.raft.IsLeader() && n.fsm.OutcomesFrom() <= after {
		st.Outcome = RestoreNotApplied
	}
	return st, nil
}

// localRestoreStatus is what this node applied of restore id.
func (n *Node) localRestoreStatus(id RestoreID) RestoreStatus {
	st := RestoreStatus{ID: id, Outcome: RestoreUnknown, Node: n.cfg.ID, Leader: n.raft.IsLeader()}
	st.AppliedIndex, _ = n.fsm.AppliedIndex()
	index, installed, decided := n.fsm.RestoreOutcome(uint64(id))
	st.Installs = n.fsm.RestoreInstalls(uint64(id))
	switch {
	case installed:
		st.Outcome, st.Index = RestoreInstalled, index
	case n.restoreActive.Load() == uint64(id):
		st.Outcome = RestoreInProgress
	case decided:
		st.Outcome = RestoreAborted
	}
	return st
}

// alreadyInstalled reports the index at which restore id was installed, if
// it was; it runs on the leader once the upload is received, and first
// applies every entry committed before (see above).
func (n *Node) alreadyInstalled(ctx context.Context, id uint64) (uint64, bool, error) {
	ri, err := n.raft.ReadIndex(ctx)
	if err == nil {
		err = n.raft.WaitApplied(ctx, ri)
	}
	if err != nil {
		return 0, false, n.restoreError(err)
	}
	index, installed, _ := n.fsm.RestoreOutcome(id)
	return index, installed, nil
}

// serveRestoreStatus answers GET /restore/status?id=ID[&after=N][&local=1].
// A follower that knows nothing of the restore redirects to the leader,
// unless local is set.
func (n *Node) serveRestoreStatus(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id, err := ParseRestoreID(q.Get("id"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	after := uint64(0)
	if s := q.Get("after"); s != "" {
		if after, err = strconv.ParseUint(s, 10, 64); err != nil {
			http.Error(w, "after: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	st, err := n.RestoreStatus(r.Context(), id, after)
	if err != nil {
		http.Error(w, err.Error(), adminStatus(err))
		return
	}
	if st.Outcome == RestoreUnknown && !st.Leader && q.Get("local") == "" {
		if addr := n.leaderHTTPAddr(r.Context()); addr != "" {
			u := *r.URL
			u.Scheme, u.Host = "http", addr
			if r.TLS != nil {
				u.Scheme = "https"
			}
			http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)
			return
		}
	}
	writeJSON(w, st)
}
