package main

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// deadAddr is a loopback address where nothing listens.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestMembersAndStatusCommands(t *testing.T) {
	c := servertest.NewCluster(t, 4, servertest.Options{})
	ctx := context.Background()
	dead := deadAddr(t)
	cli := func(args ...string) (string, string, error) {
		var out, errOut syncBuffer
		err := run(ctx, args, &out, &errOut)
		return out.String(), errOut.String(), err
	}
	addrs := dead + "," + c.Config(1).HTTPAddr
	out, errOut, err := cli("status", "--addr", addrs)
	if err != nil {
		t.Fatalf("status: %v\n%s", err, errOut)
	}
	if !strings.HasPrefix(out, "leader n") || !strings.Contains(errOut, dead) || !strings.Contains(errOut, "trying the next address") {
		t.Fatalf("status with a dead address first:\n%s\nstderr:\n%s", out, errOut)
	}
	out, _, err = cli("members", "--addr", addrs)
	if err != nil {
		t.Fatalf("members: %v", err)
	}
	for _, want := range []string{"ID", "ROLE", "LAG", "n1", "n2", "n3", "n4", "leader", "follower", "voter"} {
		if !strings.Contains(out, want) {
			t.Fatalf("members lacks %q:\n%s", want, out)
		}
	}
	// Hand leadership to a named voter.
	l := c.Leader()
	to := (l + 1) % 4
	if out, errOut, err = cli("transfer-leader", "--addr", addrs, "--to", servertest.NodeID(to)); err != nil {
		t.Fatalf("transfer-leader: %v\n%s", err, errOut)
	}
	servertest.Eventually(t, 10*time.Second, "the new leader", func() error {
		if got := c.WaitLeader(); got != to {
			return errors.New("leadership not moved")
		}
		return nil
	})
	// A stopped member shows as unreachable, with its error on its own line.
	gone := (to + 1) % 4
	c.Stop(gone)
	live := c.Config(to).HTTPAddr
	out, _, err = cli("members", "--addr", dead+","+live)
	if err != nil {
		t.Fatalf("members: %v", err)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, servertest.NodeID(gone)+" ") && strings.Contains(line, "unreachable") {
			if strings.Contains(line, "dial") || strings.Contains(line, "error") {
				t.Fatalf("error text in the table row: %q", line)
			}
		}
	}
	if !strings.Contains(out, "\n"+servertest.NodeID(gone)+": ") {
		t.Fatalf("members gives no line for the unreachable %s:\n%s", servertest.NodeID(gone), out)
	}
	out, errOut, err = cli("members", "remove", servertest.NodeID(gone), "--addr", dead+","+live)
	if err != nil || !strings.Contains(out, "3 voters") || !strings.Contains(out, "quorum is 2") {
		t.Fatalf("members remove: %v\n%s%s", err, out, errOut)
	}
	if _, _, err := cli("members", "promote", "nobody", "--addr", live); err == nil || !strings.Contains(err.Error(), "not a member") || !strings.Contains(err.Error(), "409") {
		t.Fatalf("promote of a stranger: %v, want a 409 saying it is not a member", err)
	}
	if _, _, err := cli("members", "remove", "--addr", live); err == nil {
		t.Fatal("members remove without an id: no error")
	}
	// Every address dead: one error per address, no table.
	if out, _, err := cli("status", "--addr", dead+","+deadAddr(t), "--timeout", "5s"); err == nil || out != "" || !strings.Contains(err.Error(), "no node answered") {
		t.Fatalf("status with no live address: %v, printed %q", err, out)
	}
}

func TestHelpAndVersion(t *testing.T) {
	ctx := context.Background()
	for _, cmd := range [][]string{{"status"}, {"members"}, {"members", "add"}, {"transfer-leader"}, {"backup"}, {"restore"}, {"snapshot"}, {"bench"}, {"demo"}, {"cert"}, {"passwd"}} {
		var out, errOut syncBuffer
		err := run(ctx, append(cmd, "--help"), &out, &errOut)
		if !errors.Is(err, pflag.ErrHelp) {
			t.Errorf("%v --help: %v, want help", cmd, err)
		}
	}
	bin := filepath.Join(t.TempDir(), "raftsql")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"--help"}, {"help"}, {"members", "--help"}, {"status", "--help"}, {"transfer-leader", "--help"}} {
		if err := exec.Command(bin, args...).Run(); err != nil {
			t.Errorf("raftsql %v: %v, want exit 0", args, err)
		}
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "raftsql ") || !strings.Contains(string(out), "go1.") {
		t.Fatalf("raftsql version: %v %q", err, out)
	}
	t.Logf("raftsql version: %s", out)
}

// The status table never carries error text or empty cells: unknown
// values are "-", errors go below the table, and no leader says so.
func TestStatusFormatsUnknowns(t *testing.T) {
	var out strings.Builder
	cs := server.ClusterStatus{
		Node: server.NodeStatus{ID: "n1", State: "candidate", Term: 7, CommitIndex: 40},
		Members: []server.MemberStatus{
			{ID: "n1", Addr: "127.0.0.1:7433", Voter: true, Status: &server.NodeStatus{ID: "n1", State: "candidate", PGAddr: "127.0.0.1:5433", AppliedIndex: 40}},
			{ID: "n2", Addr: "127.0.0.1:7434", Voter: true, Error: "dial 127.0.0.1:7434: connection refused"},
		},
	}
	if err := printStatus(&out, cs); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	lines := strings.Split(got, "\n")
	if !strings.HasPrefix(lines[0], "no leader") {
		t.Fatalf("first line %q, want no leader", lines[0])
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "n2 ") && (strings.Contains(l, "refused") || !strings.Contains(l, "unreachable")) {
			t.Fatalf("row of the unreachable member: %q", l)
		}
		if strings.HasPrefix(l, "n1 ") && !strings.HasSuffix(strings.TrimSpace(l), "-") {
			t.Fatalf("a candidate's last contact is unknown, want -: %q", l)
		}
	}
	if !strings.Contains(got, "\nn2: dial 127.0.0.1:7434: connection refused\n") {
		t.Fatalf("the error is not on a line of its own:\n%s", got)
	}
}
