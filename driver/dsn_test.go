package driver

import (
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseDSN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dsn  string
		want Config
	}{
		{"raftsql://u:p@h1:5433,h2:5434,h3/db?read_consistency=linearizable&connect_timeout=5s&sslmode=disable",
			Config{Hosts: []string{"h1:5433", "h2:5434", "h3:5433"}, User: "u", Password: "p", Database: "db",
				ReadConsistency: Linearizable, ConnectTimeout: 5 * time.Second, SSLMode: SSLDisable}},
		{"postgres://test@127.0.0.1:6000/raftsql?sslmode=require",
			Config{Hosts: []string{"127.0.0.1:6000"}, User: "test", Database: "raftsql", SSLMode: SSLRequire}},
		{"postgresql://a%40b:p%3Aw%2F@[::1]:7000,[fe80::1]/d?connect_timeout=3",
			Config{Hosts: []string{"[::1]:7000", "[fe80::1]:5433"}, User: "a@b", Password: "p:w/", Database: "d", ConnectTimeout: 3 * time.Second}},
		{"raftsql://h?read_consistency=NONE&retry_timeout=250ms&cancel_timeout=1s&application_name=app&raftsql.foo=bar&max_staleness=2s",
			Config{Hosts: []string{"h:5433"}, ReadConsistency: None, RetryTimeout: 250 * time.Millisecond, CancelTimeout: time.Second,
				RuntimeParams: map[string]string{"application_name": "app", "raftsql.foo": "bar", "raftsql.max_staleness": "2s"}}},
		{"host=h1,h2 port=5433,6000 user=u password='a b\\'c' dbname=x sslmode=verify-full",
			Config{Hosts: []string{"h1:5433", "h2:6000"}, User: "u", Password: "a b'c", Database: "x", SSLMode: SSLVerifyFull}},
		{"host=h1,h2 port=7000 read_consistency=weak",
			Config{Hosts: []string{"h1:7000", "h2:7000"}, ReadConsistency: Weak}},
		{"host=::1", Config{Hosts: []string{"[::1]:5433"}}},
	}
	for _, tt := range tests {
		got, err := ParseDSN(tt.dsn)
		if err != nil {
			t.Errorf("ParseDSN(%q): %v", tt.dsn, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseDSN(%q)\n got %+v\nwant %+v", tt.dsn, got, tt.want)
		}
	}
}

func TestParseDSNErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ dsn, want string }{
		{"", "empty DSN"},
		{"mysql://h/db", "scheme"},
		{"raftsql:///db", "no hosts"},
		{"raftsql://h:99999/db", "port"},
		{"raftsql://h:x/db", "port"},
		{"raftsql://h1,,h2/db", "empty entry"},
		{"raftsql://::1/db", "brackets"},
		{"raftsql://h/db?read_consistency=sometimes", "read_consistency"},
		{"raftsql://h/db?sslmode=maybe", "sslmode"},
		{"raftsql://h/db?sslmode=allow", "not supported"},
		{"raftsql://h/db?connect_timeout=soon", "duration"},
		{"raftsql://h/db?connect_timeout=-1s", "negative"},
		{"raftsql://h/db?bogus=1", `unknown DSN parameter "bogus"`},
		{"raftsql://h/db?sslmode=disable&sslmode=require", "given 2 times"},
		{"raftsql://h/db/x", "contains '/'"},
		{"raftsql://h/db?user=x", "belongs in the URL"},
		{"host=h1,h2 port=1,2,3", "3 ports"},
		{"host=h password='unterminated", "unterminated"},
		{"just words", "key=value"},
		{"port=5433", "no host"},
	}
	for _, tt := range tests {
		_, err := ParseDSN(tt.dsn)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseDSN(%q) error = %v, want one containing %q", tt.dsn, err, tt.want)
		}
	}
}

func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{
		"raftsql://u:p@h1:5433,h2:5433,h3:5433/db?read_consistency=none&connect_timeout=5s&sslmode=disable",
		"postgres://test@127.0.0.1:6000/raftsql?sslmode=require",
		"host=h1,h2 port=5433,6000 user=u password='a b' dbname=x",
		"raftsql://[::1]:1/",
		"host='x' port=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		cfg, err := ParseDSN(dsn)
		if err != nil {
			return
		}
		if err := cfg.validate(); err != nil {
			t.Fatalf("ParseDSN(%q) returned a config that does not validate: %v", dsn, err)
		}
		if _, err := NewConnector(cfg); err != nil {
			t.Fatalf("NewConnector after ParseDSN(%q): %v", dsn, err)
		}
	})
}

// TestNoServerDeps checks that the driver links neither SQLite nor Raft
// nor any other raftsql package.
func TestNoServerDeps(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case strings.Contains(dep, "modernc.org/sqlite"), strings.Contains(dep, "hashicorp/raft"),
			strings.HasPrefix(dep, "github.com/raftsql/raftsql/") && dep != "github.com/raftsql/raftsql/driver":
			t.Errorf("driver depends on %s", dep)
		}
	}
}
