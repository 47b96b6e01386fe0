package raft

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMuxTellsOfRaftPeers: both sides of a Raft connection learn the peer's
// id once the handshake is done; side-channel connections are not told.
func TestMuxTellsOfRaftPeers(t *testing.T) {
	told := map[string]chan string{"a": make(chan string, 4), "b": make(chan string, 4)}
	mk := func(id string) *mux {
		ln := listen(t, "")
		m := newMux(ln, id, ln.Addr().String(), nil, nil, func(peer string) { told[id] <- peer }, discardLogger())
		t.Cleanup(func() { m.Close() })
		return m
	}
	a, b := mk("a"), mk("b")
	accepted := make(chan net.Conn, 2)
	for _, k := range []byte{kindRaft, kindForward} {
		go func() {
			if c, err := b.layers[k].Accept(); err == nil {
				accepted <- c
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fc, err := a.dial(ctx, b.addr.String(), kindForward)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	<-accepted
	rc, err := a.dial(ctx, b.addr.String(), kindRaft)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	<-accepted
	for id, want := range map[string]string{"a": "b", "b": "a"} {
		select {
		case got := <-told[id]:
			if got != want {
				t.Errorf("%s was told of %q, want %q", id, got, want)
			}
		case <-ctx.Done():
			t.Fatalf("%s was not told of its Raft peer", id)
		}
		if len(told[id]) != 0 {
			t.Errorf("%s was told of %d more connections (the side channel's?)", id, len(told[id]))
		}
	}
}

// TestCheckProposalRefuses: a command CheckProposal refuses is proposed by
// none of the ways to propose, and its error comes back as is.
func TestCheckProposalRefuses(t *testing.T) {
	refused := errors.New("refused by the check")
	c := newCluster(t, 1, func(cfg *Config) {
		cfg.CheckProposal = func(cmd []byte) error {
			if strings.HasPrefix(string(cmd), "new:") {
				return refused
			}
			return nil
		}
	})
	leader := c.waitLeader()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := leader.Apply(ctx, []byte("new:apply")); !errors.Is(err, refused) {
		t.Errorf("Apply: %v", err)
	}
	if _, err := leader.ApplyAsync(ctx, []byte("new:async"), nil); !errors.Is(err, refused) {
		t.Errorf("ApplyAsync: %v", err)
	}
	if _, err := leader.Propose(ctx, []byte("new:propose")); !errors.Is(err, refused) {
		t.Errorf("Propose: %v", err)
	}
	if _, _, err := leader.Apply(ctx, []byte("old")); err != nil {
		t.Fatal(err)
	}
	if got := c.fsms[0].list(); !slices.Equal(got, []string{"old"}) {
		t.Errorf("applied %q, want only the command the check let through", got)
	}
}
