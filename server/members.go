package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/raftsql/raftsql/raft"
)

// Membership: listing the members of the cluster, adding, removing,
// promoting and demoting them, and handing leadership over. A change is
// made on the leader; on another node it is forwarded there over the side
// channel (reqMember), carrying the identity of the client who asked, which
// must have the admin right. The leader logs every change with who asked.

// ErrMembershipRefused is matched by a membership change the cluster
// refused: removing or demoting the last voter, promoting an id that is not
// a member, adding a node that does not answer at its address as itself.
var ErrMembershipRefused = errors.New("membership change refused")

// Member is one member of the cluster as GET /members lists it.
type Member struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	Voter    bool   `json:"voter"`
	// Role is what the member says it is: leader, follower or candidate;
	// "" when it could not be asked (Error says why).
	Role   string `json:"role,omitempty"`
	PGAddr string `json:"pg_addr,omitempty"`
	// LastContact is when the member last heard from the leader (the
	// leader: now); zero when unknown.
	LastContact  time.Time `json:"last_contact"`
	AppliedIndex uint64    `json:"applied_index"`
	// Lag is how many entries the member's applied index is behind the
	// commit index of the node that answered the listing; -1 when unknown.
	Lag   int64  `json:"lag"`
	Error string `json:"error,omitempty"`
}

// MemberChange is the answer to a membership change.
type MemberChange struct {
	// Message says what was done and what quorum the cluster now has.
	Message string   `json:"message"`
	Members []Member `json:"members,omitempty"`
}

// Membership operations carried by reqMember.
const (
	memberAdd         byte = 1
	memberAddNonvoter byte = 2
	memberRemove      byte = 3
	memberPromote     byte = 4
	memberDemote      byte = 5
	memberTransfer    byte = 6 // id: the voter to hand leadership to, "" any
)

// memberTimeout bounds one membership change, leader search included.
const memberTimeout = 30 * time.Second

// Members lists the cluster's members, each as it reports itself.
func (n *Node) Members(ctx context.Context) ([]Member, error) {
	cs, err := n.Status(ctx)
	if err != nil {
		return nil, n.translate(err)
	}
	out := make([]Member, 0, len(cs.Members))
	for _, m := range cs.Members {
		mm := Member{ID: m.ID, RaftAddr: m.Addr, Voter: m.Voter, Lag: -1, Error: m.Error}
		if s := m.Status; s != nil {
			mm.Role, mm.PGAddr, mm.LastContact, mm.AppliedIndex, mm.Lag = s.State, s.PGAddr, s.LastContact, s.AppliedIndex, max(m.Lag, 0)
		}
		out = append(out, mm)
	}
	return out, nil
}

// AddMember adds the node id, which must answer at its raft address addr,
// as a voter, or as a non-voter (a read replica that never counts for
// quorum). by names who asked, for the log.
func (n *Node) AddMember(ctx context.Context, id, addr string, nonVoter bool, by string) (MemberChange, error) {
	op := memberAdd
	if nonVoter {
		op = memberAddNonvoter
	}
	return n.changeMember(ctx, embedderAs(by), op, id, addr)
}

// RemoveMember removes the node id from the cluster. Removing the last
// voter is refused (ErrMembershipRefused).
func (n *Node) RemoveMember(ctx context.Context, id, by string) (MemberChange, error) {
	return n.changeMember(ctx, embedderAs(by), memberRemove, id, "")
}

// PromoteMember makes the non-voter id a voter.
func (n *Node) PromoteMember(ctx context.Context, id, by string) (MemberChange, error) {
	return n.changeMember(ctx, embedderAs(by), memberPromote, id, "")
}

// DemoteMember makes the voter id a non-voter. Demoting the last voter is
// refused.
func (n *Node) DemoteMember(ctx context.Context, id, by string) (MemberChange, error) {
	return n.changeMember(ctx, embedderAs(by), memberDemote, id, "")
}

// TransferLeadership hands leadership to the voter to, or to the most
// up-to-date other voter when to is "".
func (n *Node) TransferLeadership(ctx context.Context, to, by string) (MemberChange, error) {
	return n.changeMember(ctx, embedderAs(by), memberTransfer, to, "")
}

// embedderAs is the embedding program's identity, named for the log.
func embedderAs(by string) identity {
	who := embedder
	who.name = by
	return who
}

// changeMember makes one membership change on the leader for who.
func (n *Node) changeMember(ctx context.Context, who identity, op byte, id, addr string) (MemberChange, error) {
	if !who.rights.CanAdmin() {
		return MemberChange{}, &deniedError{msg: fmt.Sprintf("permission denied: user %q is not an admin", who.name)}
	}
	if id == "" && op != memberTransfer {
		return MemberChange{}, fmt.Errorf("%w: a member id is required", ErrMembershipRefused)
	}
	ctx, cancel := context.WithTimeout(ctx, memberTimeout)
	defer cancel()
	var msg string
	payload := appendMemberRequest(op, id, addr, who.name, n.cfg.ID)
	// A change repeated after a lost answer finds it made and does
	// nothing, except a transfer, which would move leadership again.
	_, err := n.onLeader(ctx, op != memberTransfer,
		func(ctx context.Context) (err error) {
			msg, err = n.applyMember(ctx, op, id, addr, who.name, n.cfg.ID)
			return err
		},
		func(ctx context.Context, leader string) error {
			answer, err := n.fwd.call(ctx, leader, reqMember, who, payload)
			msg = string(answer)
			return err
		})
	if err != nil {
		return MemberChange{}, n.memberErr(err)
	}
	return MemberChange{Message: msg}, nil
}

func (n *Node) memberErr(err error) error {
	if errors.Is(err, raft.ErrMembership) {
		return fmt.Errorf("%w: %s", ErrMembershipRefused, strings.TrimPrefix(err.Error(), raft.ErrMembership.Error()+": "))
	}
	return n.translate(err)
}

func appendMemberRequest(op byte, id, addr, by, via string) []byte {
	b := []byte{op}
	b = appendString(b, id)
	b = appendString(b, addr)
	b = appendString(b, by)
	return appendString(b, via)
}

func decodeMemberRequest(p []byte) (op byte, id, addr, by, via string, err error) {
	if len(p) < 1 {
		return 0, "", "", "", "", errors.New("malformed membership request")
	}
	op = p[0]
	rest := p[1:]
	var ok [4]bool
	id, rest, ok[0] = readString(rest)
	addr, rest, ok[1] = readString(rest)
	by, rest, ok[2] = readString(rest)
	via, rest, ok[3] = readString(rest)
	if !ok[0] || !ok[1] || !ok[2] || !ok[3] || len(rest) != 0 || op < memberAdd || op > memberTransfer {
		return 0, "", "", "", "", errors.New("malformed membership request")
	}
	return op, id, addr, by, via, nil
}

// handleMember answers a forwarded membership change (authorize checked
// the identity: an admin client, or a node removing itself).
func (n *Node) handleMember(ctx context.Context, env envelope) ([]byte, error) {
	op, id, addr, by, via, err := decodeMemberRequest(env.payload)
	if err != nil {
		return nil, err
	}
	if env.ident.kind == identNode {
		if op != memberRemove || id != env.ident.name {
			return nil, &deniedError{msg: fmt.Sprintf("permission denied: node %q may only remove itself", env.ident.name)}
		}
	} else if !env.ident.rights.CanAdmin() {
		return nil, &deniedError{msg: fmt.Sprintf("permission denied: user %q is not an admin", env.ident.name)}
	}
	if !n.raft.IsLeader() {
		return nil, n.notLeader()
	}
	if by == "" {
		by = env.ident.name
	}
	msg, err := n.applyMember(ctx, op, id, addr, by, via)
	if err != nil {
		return nil, err
	}
	return []byte(msg), nil
}

// applyMember makes a change on this node, the leader, and logs it with
// who asked (by, through node via). It returns what was done and the
// quorum that remains.
func (n *Node) applyMember(ctx context.Context, op byte, id, addr, by, via string) (string, error) {
	by = cmpOr(by, "(embedding program)")
	var err error
	var what string
	if op == memberAdd || op == memberAddNonvoter {
		// A node that cannot read what the cluster writes is refused
		// before it is in the configuration.
		if err := n.checkJoiner(ctx, id, addr); err != nil {
			n.log.Warn("membership change refused", "op", "add "+id, "by", by, "via", via, "err", err)
			return "", err
		}
	}
	defer n.versions.refreshSoon()
	switch op {
	case memberAdd:
		err, what = n.raft.AddVoter(ctx, id, addr), fmt.Sprintf("added %s at %s as a voter", id, addr)
	case memberAddNonvoter:
		err, what = n.raft.AddNonvoter(ctx, id, addr), fmt.Sprintf("added %s at %s as a non-voter", id, addr)
	case memberRemove:
		err, what = n.raft.Remove(ctx, id), fmt.Sprintf("removed %s", id)
	case memberPromote:
		err, what = n.raft.Promote(ctx, id), fmt.Sprintf("promoted %s to voter", id)
	case memberDemote:
		err, what = n.raft.Demote(ctx, id), fmt.Sprintf("demoted %s to non-voter", id)
	case memberTransfer:
		err = n.raft.TransferLeadershipTo(ctx, id)
		what = "handed leadership over"
		if id != "" {
			what = "handed leadership to " + id
		}
	default:
		return "", fmt.Errorf("unknown membership operation %d", op)
	}
	if err != nil {
		n.log.Warn("membership change failed", "op", what, "by", by, "via", via, "err", err)
		return "", err
	}
	n.log.Info("membership changed", "op", what, "by", by, "via", via)
	if op == memberTransfer {
		return what, nil
	}
	return what + "; " + n.quorumNote(), nil
}

// quorumNote says how many voters the configuration has and how many of
// them may fail.
func (n *Node) quorumNote() string {
	members, err := n.raft.Members()
	if err != nil {
		return "the configuration could not be read back"
	}
	voters, others := 0, 0
	for _, m := range members {
		if m.Voter {
			voters++
		} else {
			others++
		}
	}
	q := voters/2 + 1
	return fmt.Sprintf("%d voters and %d non-voters remain; quorum is %d, so %d voter(s) may fail", voters, others, q, voters-q)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// leave removes this node from the cluster, handing leadership over first
// when it leads. It runs on Close with LeaveOnShutdown.
func (n *Node) leave() {
	ctx, cancel := context.WithTimeout(n.ctx, memberTimeout)
	defer cancel()
	if n.raft.IsLeader() {
		if err := n.raft.TransferLeadership(ctx); err != nil {
			n.log.Warn("leave: leadership transfer failed", "err", err)
		}
	}
	payload := appendMemberRequest(memberRemove, n.cfg.ID, "", n.cfg.ID, n.cfg.ID)
	var msg string
	_, err := n.onLeader(ctx, true,
		func(ctx context.Context) (err error) {
			msg, err = n.applyMember(ctx, memberRemove, n.cfg.ID, "", "leave-on-shutdown", n.cfg.ID)
			return err
		},
		func(ctx context.Context, leader string) error {
			answer, err := n.fwd.call(ctx, leader, reqMember, n.self(), payload)
			msg = string(answer)
			return err
		})
	if err != nil {
		n.log.Warn("leave: could not remove this node from the cluster", "err", n.memberErr(err))
		return
	}
	n.log.Info("left the cluster", "result", msg)
}

// memberRoutes registers the admin routes of membership.
func (n *Node) memberRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /members", func(w http.ResponseWriter, r *http.Request) {
		ms, err := n.Members(r.Context())
		if err != nil {
			http.Error(w, err.Error(), memberStatus(err))
			return
		}
		writeJSON(w, ms)
	})
	mux.HandleFunc("POST /members", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID       string `json:"id"`
			RaftAddr string `json:"raft_addr"`
			NonVoter bool   `json:"non_voter"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
			http.Error(w, "want a JSON body {\"id\": ..., \"raft_addr\": ..., \"non_voter\": false}: "+err.Error(), http.StatusBadRequest)
			return
		}
		n.answerChange(w, r, func(ctx context.Context, by string) (MemberChange, error) {
			return n.AddMember(ctx, req.ID, req.RaftAddr, req.NonVoter, by)
		})
	})
	for action, f := range map[string]func(context.Context, string, string) (MemberChange, error){
		"remove": n.RemoveMember, "promote": n.PromoteMember, "demote": n.DemoteMember,
	} {
		mux.HandleFunc("POST /members/{id}/"+action, func(w http.ResponseWriter, r *http.Request) {
			id := r.PathValue("id")
			n.answerChange(w, r, func(ctx context.Context, by string) (MemberChange, error) { return f(ctx, id, by) })
		})
	}
	mux.HandleFunc("POST /transfer-leader", func(w http.ResponseWriter, r *http.Request) {
		to := r.URL.Query().Get("to")
		n.answerChange(w, r, func(ctx context.Context, by string) (MemberChange, error) {
			return n.TransferLeadership(ctx, to, by)
		})
	})
}

// answerChange runs a change for the HTTP client and answers with what was
// done, and the members as they are then.
func (n *Node) answerChange(w http.ResponseWriter, r *http.Request, change func(ctx context.Context, by string) (MemberChange, error)) {
	mc, err := change(r.Context(), httpRequester(r))
	if err != nil {
		http.Error(w, err.Error(), memberStatus(err))
		return
	}
	writeJSON(w, mc)
}

// httpRequester names who made an admin request, for the log: the basic
// auth user (the endpoint's authentication has checked it), a bearer token,
// or nobody, with the remote address.
func httpRequester(r *http.Request) string {
	who := "anonymous"
	if u, _, ok := r.BasicAuth(); ok {
		who = "user " + u
	} else if strings.HasPrefix(strings.ToLower(r.Header.Get("Authorization")), "bearer ") {
		who = "a bearer token"
	}
	return who + " (http from " + r.RemoteAddr + ")"
}

func memberStatus(err error) int {
	switch {
	case errors.Is(err, ErrMembershipRefused):
		return http.StatusConflict
	case errors.Is(err, ErrPermissionDenied):
		return http.StatusForbidden
	}
	return adminStatus(err)
}

// reapLoop removes, while this node leads, voters that did not answer for
// longer than ReapAfter, as long as the voters left are at least a quorum
// of the configuration before the removal (so it never takes the cluster
// below two voters). Only voters are reaped: a non-voter costs no quorum.
func (n *Node) reapLoop() {
	every := max(n.cfg.ReapAfter/4, 500*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	answered := map[string]time.Time{} // member id -> last answer (or first look)
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		if !n.raft.IsLeader() {
			clear(answered)
			continue
		}
		n.reapOnce(answered, min(every, 2*time.Second))
	}
}

func (n *Node) reapOnce(answered map[string]time.Time, probe time.Duration) {
	members, err := n.raft.Members()
	if err != nil {
		return
	}
	now := time.Now()
	present := map[string]bool{}
	voters := 0
	for _, m := range members {
		present[m.ID] = true
		if m.Voter {
			voters++
		}
		if m.ID == n.cfg.ID {
			continue
		}
		ctx, cancel := context.WithTimeout(n.ctx, probe)
		_, err := n.fwd.call(ctx, m.Addr, reqStatus, n.self(), nil)
		cancel()
		if _, ok := answered[m.ID]; err == nil || !ok {
			answered[m.ID] = now
		}
	}
	for id := range answered {
		if !present[id] {
			delete(answered, id)
		}
	}
	for _, m := range members {
		if !m.Voter || m.ID == n.cfg.ID || now.Sub(answered[m.ID]) <= n.cfg.ReapAfter {
			continue
		}
		if voters-1 < voters/2+1 {
			n.log.Warn("a voter is unreachable, but removing it would leave fewer voters than a quorum; keeping it",
				"member", m.ID, "unreachable_for", now.Sub(answered[m.ID]).Round(time.Second), "voters", voters)
			continue
		}
		ctx, cancel := context.WithTimeout(n.ctx, memberTimeout)
		msg, err := n.applyMember(ctx, memberRemove, m.ID, "", fmt.Sprintf("reap-after %v (unreachable for %v)", n.cfg.ReapAfter, now.Sub(answered[m.ID]).Round(time.Second)), n.cfg.ID)
		cancel()
		if err != nil {
			return
		}
		n.log.Warn("removed a voter that stayed unreachable", "member", m.ID, "result", msg)
		delete(answered, m.ID)
		voters--
	}
}
