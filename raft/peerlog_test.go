package raft

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"
)

// TestPeerFailuresReportedOncePerInterval feeds the adapter what
// hashicorp/raft logs while a follower is down, on a clock the test moves.
func TestPeerFailuresReportedOncePerInterval(t *testing.T) {
	var buf bytes.Buffer
	h := newHclogAdapter(slog.New(slog.NewTextHandler(&buf, nil))) // info level
	now := time.Unix(1_000_000, 0)
	h.peers.now = func() time.Time { return now }
	h.peers.link("n2", "127.0.0.1:7002")
	fail := errors.New("dial tcp 127.0.0.1:7002: connect: connection refused")
	heartbeat := func() {
		h.Error("failed to heartbeat to", "peer", hraft.ServerAddress("127.0.0.1:7002"), "backoff time", 10*time.Millisecond, "error", fail)
		h.Error("failed to appendEntries to", "peer", hraft.Server{ID: "n2", Address: "127.0.0.1:7002"}, "error", fail)
		h.Warn("failed to contact", "server-id", hraft.ServerID("n2"), "time", time.Second)
	}
	lines := func() []string {
		s := strings.TrimSpace(buf.String())
		if s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}
	// Two and a half minutes of failures a second apart: one report, then
	// a reminder each minute.
	for i := 0; i < 150; i++ {
		heartbeat()
		now = now.Add(time.Second)
	}
	got := lines()
	if len(got) != 3 {
		t.Fatalf("got %d lines, want 3 (down, and a reminder each minute):\n%s", len(got), buf.String())
	}
	if !strings.Contains(got[0], `msg="peer unreachable" peer=127.0.0.1:7002 peer_id=n2`) || !strings.Contains(got[0], "connection refused") {
		t.Errorf("first line: %s", got[0])
	}
	for _, l := range got[1:] {
		if !strings.Contains(l, `msg="peer still unreachable"`) || !strings.Contains(l, "repeats=") {
			t.Errorf("reminder: %s", l)
		}
	}
	buf.Reset()
	h.peers.resumed("n2")
	if got := lines(); len(got) != 1 || !strings.Contains(got[0], `msg="peer reachable again" peer=127.0.0.1:7002 peer_id=n2 down_for=2m30s`) {
		t.Errorf("after the peer is back: %q", got)
	}
	// Down again: reported at once.
	buf.Reset()
	heartbeat()
	if got := lines(); len(got) != 1 || !strings.Contains(got[0], "peer unreachable") {
		t.Errorf("down again: %q", got)
	}
	// Other messages pass untouched, the same words about no peer too.
	for _, msg := range []string{"failed to commit logs", "failed to install snapshot"} {
		buf.Reset()
		h.Error(msg, "error", fail)
		if got := lines(); len(got) != 1 || !strings.Contains(got[0], "level=ERROR") {
			t.Errorf("%s: %q", msg, got)
		}
	}
}
