package server

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/pgwire"
)

// TestVersionsOf: a status without versions is a node of a release before
// the gate, which reads the base versions.
func TestVersionsOf(t *testing.T) {
	for _, c := range []struct {
		status      string
		entry, peer int
		bad         bool
	}{
		{`{"id":"n1"}`, command.BaseEntryVersion, basePeerVersion, false},
		{`{"id":"n1","entry_version":4,"peer_version":2}`, 4, 2, false},
		{`{"id":"n1","entry_version":9}`, 9, basePeerVersion, false},
		{`{"id":"n1","entry_version":-1}`, 0, 0, true},
	} {
		var st NodeStatus
		if err := json.Unmarshal([]byte(c.status), &st); err != nil {
			t.Fatal(err)
		}
		e, p, err := versionsOf(st)
		if (err != nil) != c.bad || e != c.entry || p != c.peer {
			t.Errorf("%s: got %d, %d, %v; want %d, %d, error %v", c.status, e, p, err, c.entry, c.peer, c.bad)
		}
	}
}

// TestRequestVersions: every request type this build sends has a version
// it serves, and the refusal of an unknown one says what is missing.
func TestRequestVersions(t *testing.T) {
	for typ := reqExecute; typ <= reqAdvisory; typ++ {
		if v := reqVersion(typ); v < basePeerVersion || v > peerVersion {
			t.Errorf("request %d has version %d, outside %d..%d", typ, v, basePeerVersion, peerVersion)
		}
	}
	if v := reqVersion(200); v <= peerVersion {
		t.Errorf("an unknown request has version %d, within %d", v, peerVersion)
	}
	err := error(&notUpgradedError{node: "n3", version: 1, need: 2, what: "side-channel", op: reqName(reqAdvisory)})
	if !errors.Is(err, ErrNotUpgraded) || !strings.Contains(err.Error(), "cluster not yet upgraded: node n3 speaks side-channel version 1, this needs side-channel version 2 (advisory locks)") {
		t.Errorf("message: %v", err)
	}
	var pe *pgwire.Error
	if !errors.As(pgError(err), &pe) || pe.Code != "0A000" {
		t.Errorf("pgError: %v, want SQLSTATE 0A000", pgError(err))
	}
}

// FuzzVersionsOf: whatever a peer answers to a status request, reading its
// versions neither panics nor yields a version below the base.
func FuzzVersionsOf(f *testing.F) {
	f.Add([]byte(`{"id":"n1","entry_version":4,"peer_version":2}`))
	f.Add([]byte(`{"id":"n1"}`))
	f.Add([]byte(`{"entry_version":-3,"peer_version":99999999999}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var st NodeStatus
		if json.Unmarshal(b, &st) != nil {
			return
		}
		e, p, err := versionsOf(st)
		if err == nil && (e < command.BaseEntryVersion || p < basePeerVersion) {
			t.Fatalf("versions %d, %d from %q", e, p, b)
		}
	})
}
