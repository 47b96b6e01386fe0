package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server/servertest"
)

func TestHelpAndVersionExitZero(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := buildBinary(t)
	out, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--non-voter") || !strings.Contains(string(out), "usage: raftsqld") {
		t.Fatalf("raftsqld --help: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "raftsqld ") || !strings.Contains(string(out), "go1.") {
		t.Fatalf("raftsqld --version: %v %q", err, out)
	}
}

// A join to an address where no member answers gives up after
// --join-timeout and says why: nothing answered, or something that is not
// a raft port did.
func TestJoinTimeoutFromFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs processes")
	}
	bin := buildBinary(t)
	notRaft, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler()}
	go srv.Serve(notRaft)
	defer srv.Close()
	for _, tc := range []struct{ name, addr, want string }{
		{"closed port", freePort(t), "did not answer"},
		{"not a raft port", notRaft.Addr().String(), "not as a raftsql raft port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, "--id", "j", "--data-dir", t.TempDir(), "--raft-addr", freePort(t), "--pg-addr", freePort(t),
				"--http-addr", "", "--join", tc.addr, "--join-timeout", "2s", "--log-level", "error")
			start := time.Now()
			done := make(chan struct{})
			var out []byte
			go func() {
				out, err = cmd.CombinedOutput()
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("raftsqld still joining after 30s:\n%s", out)
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("raftsqld exited with %v, want a failure", err)
			}
			if !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "within 2s") {
				t.Fatalf("raftsqld output lacks %q:\n%s", tc.want, out)
			}
			if took := time.Since(start); took > 20*time.Second {
				t.Fatalf("gave up after %v", took)
			}
		})
	}
}

// --non-voter joins a read replica; --leave-on-shutdown makes SIGTERM
// take a node out of the configuration.
func TestNonVoterAndLeaveOnShutdownFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs processes")
	}
	bin := buildBinary(t)
	root := t.TempDir()
	procs := make([]*proc, 4)
	for i := range procs {
		p := &proc{id: fmt.Sprintf("n%d", i+1), raftAddr: freePort(t), pgAddr: freePort(t), httpAd: freePort(t)}
		p.dir = filepath.Join(root, p.id)
		p.args = []string{"--id", p.id, "--data-dir", p.dir, "--raft-addr", p.raftAddr, "--pg-addr", p.pgAddr,
			"--http-addr", p.httpAd, "--heartbeat-timeout", "500ms", "--election-timeout", "500ms",
			"--leader-lease-timeout", "250ms", "--log-level", "info"}
		switch i {
		case 0:
			p.args = append(p.args, "--bootstrap")
		case 3:
			p.args = append(p.args, "--join", procs[0].raftAddr, "--non-voter", "--leave-on-shutdown")
		default:
			p.args = append(p.args, "--join", procs[0].raftAddr, "--leave-on-shutdown")
		}
		procs[i] = p
	}
	t.Cleanup(func() {
		for _, p := range procs {
			p.kill()
		}
		if t.Failed() {
			for _, p := range procs {
				b, _ := os.ReadFile(filepath.Join(root, p.id+".log"))
				t.Logf("log of %s:\n%s", p.id, b)
			}
		}
	})
	for _, p := range procs {
		p.start(t, bin)
	}
	voters := func(p *proc, want map[string]bool) func() error {
		return func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			cs, err := p.status(ctx)
			if err != nil {
				return err
			}
			got := map[string]bool{}
			for _, m := range cs.Members {
				got[m.ID] = m.Voter
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("members %v, want %v", got, want)
			}
			return nil
		}
	}
	servertest.Eventually(t, 60*time.Second, "3 voters and a non-voter", voters(procs[0], map[string]bool{"n1": true, "n2": true, "n3": true, "n4": false}))
	term := func(p *proc) {
		t.Helper()
		p.cmd.Process.Signal(syscall.SIGTERM)
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("%s after SIGTERM: %v", p.id, err)
		}
		p.cmd = nil
	}
	term(procs[3])
	servertest.Eventually(t, 30*time.Second, "the non-voter left", voters(procs[0], map[string]bool{"n1": true, "n2": true, "n3": true}))
	term(procs[2])
	servertest.Eventually(t, 30*time.Second, "n3 left", voters(procs[0], map[string]bool{"n1": true, "n2": true}))
}
