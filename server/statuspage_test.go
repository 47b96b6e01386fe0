package server_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server/servertest"
)

// chromium finds Debian's headless browser; the test skips without it
// (.ci/run installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (apt-get install chromium): the status page is not checked in a browser")
	return ""
}

// browse loads url in headless Chromium, lets the page run for budget of
// virtual time, and returns what Chromium was asked for: the DOM
// (--dump-dom) or a screenshot written to a file (--screenshot=path).
func browse(t *testing.T, bin, url string, budget time.Duration, what ...string) string {
	t.Helper()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--window-size=1280,900",
		"--virtual-time-budget=" + strconv.Itoa(int(budget.Milliseconds()))}
	args = append(args, what...)
	args = append(args, url)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var out, errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errb.String())
	}
	return out.String()
}

type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

var memberRow = regexp.MustCompile(`<tr data-member="([^"]+)" data-health="([^"]+)" data-role="([^"]+)">`)

// pageMembers returns each member row's health and role as the page shows them.
func pageMembers(dom string) map[string][2]string {
	out := map[string][2]string{}
	for _, m := range memberRow.FindAllStringSubmatch(dom, -1) {
		out[m[1]] = [2]string{m[2], m[3]}
	}
	return out
}

func TestStatusPageInABrowser(t *testing.T) {
	bin := chromium(t)
	c := servertest.NewCluster(t, 3, servertest.Options{})
	l := c.Leader()
	leaderID := servertest.NodeID(l)
	conn := connect(t, c, l)
	mustExec(t, conn, "CREATE TABLE page (v INTEGER)")
	if _, err := c.Node(l).Snapshot(); err != nil {
		t.Fatal(err)
	}

	// Writes and reads go on while the page is open, so its chart has
	// something to draw.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			if _, err := conn.Exec(ctx, "INSERT INTO page VALUES ($1)", i); err != nil && ctx.Err() == nil {
				t.Errorf("insert: %v", err)
				return
			}
			var n int64
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM page").Scan(&n); err != nil && ctx.Err() == nil {
				t.Errorf("select: %v", err)
				return
			}
		}
	}()
	url := "http://" + c.Node(l).HTTPAddr() + "/"
	// Under a virtual time budget the page polls every virtual second,
	// which may be a few real milliseconds: on a loaded machine its last
	// interval may hold no write or read. The page is loaded again until
	// it shows both, within a deadline.
	shows := func(dom, id string) bool {
		m := regexp.MustCompile(`id="` + id + `">(\d+)<`).FindStringSubmatch(dom)
		return m != nil && m[1] != "0"
	}
	var dom string
	for deadline := time.Now().Add(60 * time.Second); ; {
		dom = browse(t, bin, url, 4*time.Second, "--dump-dom")
		if shows(dom, "wps") && shows(dom, "rps") || time.Now().After(deadline) {
			break
		}
	}
	if path := os.Getenv("RAFTSQL_SCREENSHOT"); path != "" {
		abs, _ := filepath.Abs(path)
		browse(t, bin, url, 4*time.Second, "--screenshot="+abs, "--hide-scrollbars")
		t.Logf("screenshot of the status page: %s", abs)
	}
	stop()
	wg.Wait()

	if !regexp.MustCompile(`data-rendered="[2-9]|data-rendered="\d\d`).MatchString(dom) {
		t.Fatalf("the page did not render twice:\n%s", dom)
	}
	got := pageMembers(dom)
	if len(got) != 3 {
		t.Fatalf("member rows: %v, want 3\n%s", got, dom)
	}
	for i := 0; i < 3; i++ {
		id := servertest.NodeID(i)
		want := [2]string{"up", "follower"}
		if i == l {
			want[1] = "leader"
		}
		if got[id] != want {
			t.Errorf("%s shows %v, want %v", id, got[id], want)
		}
	}
	if m := regexp.MustCompile(`id="wps">(\d+)<`).FindStringSubmatch(dom); m == nil || m[1] == "0" {
		t.Errorf("writes/s shown: %v, want more than 0 while a client writes", m)
	}
	if m := regexp.MustCompile(`id="rps">(\d+)<`).FindStringSubmatch(dom); m == nil || m[1] == "0" {
		t.Errorf("reads/s shown: %v, want more than 0 while a client reads", m)
	}
	if !regexp.MustCompile(`<svg id="rate"[^>]*>.*<polyline`).MatchString(dom) {
		t.Errorf("the throughput chart draws no line")
	}
	if !regexp.MustCompile(`<li data-leader="` + leaderID + `">`).MatchString(dom) {
		t.Errorf("leader changes do not show %s taking the lead", leaderID)
	}
	if !regexp.MustCompile(`id="snapshot"[^>]*data-index="[1-9]`).MatchString(dom) {
		t.Errorf("the last snapshot is not shown")
	}

	// A stopped follower shows as down.
	f := c.Follower()
	c.Stop(f)
	fid := servertest.NodeID(f)
	servertest.Eventually(t, 60*time.Second, fid+" shown down", func() error {
		got := pageMembers(browse(t, bin, url, 3*time.Second, "--dump-dom"))
		if got[fid][0] != "down" {
			return fmt.Errorf("%s shows %v", fid, got[fid])
		}
		if got[leaderID] != [2]string{"up", "leader"} {
			return fmt.Errorf("the leader %s shows %v", leaderID, got[leaderID])
		}
		return nil
	})
	if path := os.Getenv("RAFTSQL_SCREENSHOT"); path != "" {
		abs, _ := filepath.Abs(strings.TrimSuffix(path, ".png") + "-down.png")
		browse(t, bin, url, 3*time.Second, "--screenshot="+abs, "--hide-scrollbars")
		t.Logf("screenshot with %s down: %s", fid, abs)
	}
}
