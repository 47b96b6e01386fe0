package raft

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

func TestConfigValidate(t *testing.T) {
	base := func() Config {
		c := DefaultConfig()
		c.ID, c.Dir, c.Addr = "n1", "/tmp/x", "127.0.0.1:7000"
		return c
	}
	tests := []struct {
		name   string
		modify func(*Config)
		ok     bool
	}{
		{"default", func(*Config) {}, true},
		{"zero tuning takes defaults", func(c *Config) { *c = Config{ID: c.ID, Dir: c.Dir, Addr: c.Addr} }, true},
		{"no id", func(c *Config) { c.ID = "" }, false},
		{"id with space", func(c *Config) { c.ID = "a b" }, false},
		{"long id", func(c *Config) { c.ID = strings.Repeat("a", maxIDLen+1) }, false},
		{"no dir", func(c *Config) { c.Dir = "" }, false},
		{"no addr", func(c *Config) { c.Addr = "" }, false},
		{"unspecified addr", func(c *Config) { c.Addr = "0.0.0.0:7000" }, false},
		{"no port", func(c *Config) { c.Addr = "127.0.0.1" }, false},
		{"port zero", func(c *Config) { c.Addr = "127.0.0.1:0" }, false},
		{"hostname without TLS", func(c *Config) { c.Addr = "node1.internal:7000" }, false},
		{"hostname, insecure", func(c *Config) { c.Addr = "node1.internal:7000"; c.Insecure = true }, true},
		{"private IP without TLS", func(c *Config) { c.Addr = "10.1.2.3:7000" }, false},
		{"private IP, insecure", func(c *Config) { c.Addr = "10.1.2.3:7000"; c.Insecure = true }, true},
		{"localhost", func(c *Config) { c.Addr = "localhost:7000" }, true},
		{"IPv6 loopback", func(c *Config) { c.Addr = "[::1]:7000" }, true},
		{"other loopback", func(c *Config) { c.Addr = "127.0.0.2:7000" }, true},
		{"listener on every interface", func(c *Config) { c.Listener = addrListener{"0.0.0.0:7000"} }, false},
		{"listener on every interface, insecure", func(c *Config) { c.Listener = addrListener{"0.0.0.0:7000"}; c.Insecure = true }, true},
		{"loopback listener", func(c *Config) { c.Listener = addrListener{"127.0.0.1:7000"} }, true},
		{"lease above heartbeat", func(c *Config) { c.LeaderLeaseTimeout = 2 * c.HeartbeatTimeout }, false},
		{"too many entries", func(c *Config) { c.MaxAppendEntries = 5000 }, false},
		{"negative retain", func(c *Config) { c.SnapshotRetain = -1 }, false},
		{"short timeouts", func(c *Config) {
			c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 20*time.Millisecond
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.modify(&c)
			err := c.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// addrListener is a listener that only has an address.
type addrListener struct{ addr string }

func (l addrListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (l addrListener) Close() error              { return nil }
func (l addrListener) Addr() net.Addr            { a, _ := net.ResolveTCPAddr("tcp", l.addr); return a }

func TestHclogAdapter(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := newHclogAdapter(l).Named("raft").With("peer", "n2").Named("net")

	h.Debug("hidden")
	h.Info("hello", "count", 3, "fmt", hclog.Fmt("%d/%d", 1, 2))
	h.Error("bad")
	h.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}).Print("[WARN] from stdlib")

	out := buf.String()
	for _, want := range []string{
		`level=INFO msg=hello peer=n2 logger=raft.net count=3 fmt=1/2`,
		`level=ERROR msg=bad`,
		`level=WARN msg="from stdlib"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hidden") {
		t.Errorf("debug line logged at info level:\n%s", out)
	}
	if h.IsDebug() || !h.IsInfo() || h.GetLevel() != hclog.Info || h.Name() != "raft.net" {
		t.Errorf("level or name wrong: debug=%v info=%v level=%v name=%q", h.IsDebug(), h.IsInfo(), h.GetLevel(), h.Name())
	}
}
