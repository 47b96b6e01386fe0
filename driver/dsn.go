package driver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// DefaultPort is the port used for a host given without one.
const DefaultPort = "5433"

// Read consistency levels, as accepted by the read_consistency DSN parameter
// and the raftsql.read_consistency setting.
const (
	Linearizable = "linearizable"
	Strong       = "strong"
	Weak         = "weak"
	None         = "none"
)

// SSL modes, with libpq's meaning.
const (
	SSLDisable    = "disable"     // never use TLS
	SSLPrefer     = "prefer"      // use TLS if the server offers it, without verifying it
	SSLRequire    = "require"     // TLS without verification (unless sslrootcert is set)
	SSLVerifyCA   = "verify-ca"   // TLS, verify the chain but not the host name
	SSLVerifyFull = "verify-full" // TLS, verify the chain and the host name
)

// Config describes how a Connector reaches a cluster. Build it with
// ParseDSN, or fill the fields directly; the zero value of every optional
// field means the default documented on it.
type Config struct {
	// Hosts are the Postgres addresses (host:port) of the cluster's nodes.
	// Connections try them in order from a random start until one accepts.
	Hosts []string

	User     string
	Password string
	Database string

	// ReadConsistency is sent as the raftsql.read_consistency startup
	// parameter: linearizable, strong, weak or none. Empty means the
	// server's default (linearizable). At none, connections spread over all
	// nodes and reads wait for the node to apply the caller's own writes.
	ReadConsistency string

	// ConnectTimeout bounds dialing and the startup of one connection
	// attempt (default 10s).
	ConnectTimeout time.Duration

	// RetryTimeout bounds how long a statement is retried after "no leader"
	// (SQLSTATE 57P03), an ambiguous write outcome that can be resent under
	// its request id (40003), or a lost connection (default 15s). The
	// context's deadline, when earlier, wins.
	RetryTimeout time.Duration

	// CancelTimeout is how long a statement whose context ended may take to
	// stop after the driver sent a CancelRequest before the connection is
	// given up (default 2s).
	CancelTimeout time.Duration

	// SSLMode is one of the SSL* constants (default prefer).
	SSLMode string

	// TLSConfig, when set, is used for TLS instead of the configuration
	// derived from SSLMode and SSLRootCert (it still needs SSLMode other
	// than disable). ServerName is filled in per host when empty.
	TLSConfig *tls.Config

	// SSLRootCert is a PEM file of CA certificates to verify the server
	// with.
	SSLRootCert string

	// RuntimeParams are extra StartupMessage parameters, such as
	// application_name.
	RuntimeParams map[string]string

	// DialFunc, when set, replaces net.Dialer.DialContext.
	DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

	// StatementCacheSize is how many statements given as SQL text (Exec
	// and Query without Prepare) each connection remembers; one run a
	// second time is kept parsed on the server as a named statement, so
	// that later runs skip parsing and describing it. 0 means 128; a
	// negative size turns the cache off. A connection empties its cache
	// after a statement that may change the schema (CREATE, DROP, ALTER,
	// …); a schema change made on another connection is seen by a cached
	// statement only once the connection is replaced.
	StatementCacheSize int

	// PinHosts keeps connections on the nodes listed in Hosts: they do not
	// move to the leader that the nodes report, and rely on the nodes to
	// forward writes to it. A program that embeds a node sets it so that
	// its connections never leave the process.
	PinHosts bool
}

const (
	defaultConnectTimeout = 10 * time.Second
	defaultRetryTimeout   = 15 * time.Second
	defaultCancelTimeout  = 2 * time.Second
)

// runtime parameters a DSN may pass through to the server, besides any
// name containing a dot.
var passThroughParams = map[string]bool{
	"application_name": true, "client_encoding": true, "datestyle": true,
	"timezone": true, "search_path": true, "options": true,
	"extra_float_digits": true,
}

// ParseDSN parses a data source name, either a URL
//
//	raftsql://user:pass@host1:5433,host2:5433/dbname?read_consistency=none&sslmode=disable
//
// (the schemes postgres:// and postgresql:// are accepted too) or libpq's
// key=value form
//
//	host=host1,host2 port=5433 user=u password=p dbname=db sslmode=disable
//
// Parameters: read_consistency, connect_timeout (a Go duration, or whole
// seconds as in libpq), retry_timeout, cancel_timeout,
// statement_cache_size, sslmode,
// sslrootcert, max_staleness (sent as raftsql.max_staleness), the common
// Postgres runtime parameters (application_name, search_path, …) and any
// name containing a dot, which are sent as startup parameters. Any other
// name is an error.
func ParseDSN(dsn string) (Config, error) {
	dsn = strings.TrimSpace(dsn)
	if dsn == "" {
		return Config{}, errors.New("raftsql: empty DSN")
	}
	var (
		cfg Config
		err error
	)
	if i := strings.Index(dsn, "://"); i >= 0 && !strings.Contains(dsn[:i], "=") {
		cfg, err = parseURL(dsn)
	} else {
		cfg, err = parseKeyValue(dsn)
	}
	if err != nil {
		return Config{}, err
	}
	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func parseURL(dsn string) (Config, error) {
	var cfg Config
	scheme, rest, _ := strings.Cut(dsn, "://")
	switch strings.ToLower(scheme) {
	case "raftsql", "postgres", "postgresql":
	default:
		return cfg, fmt.Errorf("raftsql: DSN scheme %q: want raftsql://, postgres:// or postgresql://", scheme)
	}
	// The host list may contain commas, which url.Parse rejects in a
	// port, so split the authority off by hand.
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	hostPart := authority
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo := authority[:i]
		hostPart = authority[i+1:]
		u, p, hasPass := strings.Cut(userinfo, ":")
		var err error
		if cfg.User, err = url.PathUnescape(u); err != nil {
			return cfg, fmt.Errorf("raftsql: DSN user: %v", err)
		}
		if hasPass {
			if cfg.Password, err = url.PathUnescape(p); err != nil {
				return cfg, fmt.Errorf("raftsql: DSN password: %v", err)
			}
		}
	}
	hosts, err := splitHosts(hostPart, "")
	if err != nil {
		return cfg, err
	}
	cfg.Hosts = hosts
	u, err := url.Parse("x://h" + tail)
	if err != nil {
		return cfg, fmt.Errorf("raftsql: DSN: %v", err)
	}
	if u.Fragment != "" {
		return cfg, errors.New("raftsql: DSN must not have a #fragment")
	}
	cfg.Database = strings.TrimPrefix(u.Path, "/")
	if strings.Contains(cfg.Database, "/") {
		return cfg, fmt.Errorf("raftsql: DSN database name %q contains '/'", cfg.Database)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return cfg, fmt.Errorf("raftsql: DSN query: %v", err)
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return cfg, fmt.Errorf("raftsql: DSN parameter %q given %d times", k, len(vs))
		}
		if err := cfg.setParam(k, vs[0]); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// splitHosts splits "h1:p1,h2,[::1]:p3" into host:port pairs, giving hosts
// without a port defPort (or DefaultPort).
func splitHosts(s, defPort string) ([]string, error) {
	if defPort == "" {
		defPort = DefaultPort
	}
	if s == "" {
		return nil, nil
	}
	var hosts []string
	for _, h := range strings.Split(s, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, fmt.Errorf("raftsql: DSN host list %q has an empty entry", s)
		}
		host, port := h, defPort
		if strings.HasPrefix(h, "[") {
			end := strings.IndexByte(h, ']')
			if end < 0 {
				return nil, fmt.Errorf("raftsql: DSN host %q: missing ']'", h)
			}
			host = h[1:end]
			switch rest := h[end+1:]; {
			case rest == "":
			case strings.HasPrefix(rest, ":"):
				port = rest[1:]
			default:
				return nil, fmt.Errorf("raftsql: DSN host %q: unexpected %q after ']'", h, rest)
			}
		} else if i := strings.LastIndexByte(h, ':'); i >= 0 {
			if strings.Count(h, ":") > 1 {
				return nil, fmt.Errorf("raftsql: DSN host %q: write IPv6 addresses in brackets", h)
			}
			host, port = h[:i], h[i+1:]
		}
		if host == "" {
			return nil, fmt.Errorf("raftsql: DSN host %q has no host name", h)
		}
		if strings.ContainsFunc(host, func(r rune) bool { return unicode.IsSpace(r) || r == '/' || r == '@' }) {
			return nil, fmt.Errorf("raftsql: DSN host name %q is not valid", host)
		}
		n, err := strconv.Atoi(port)
		if err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("raftsql: DSN host %q: port %q is not a number from 1 to 65535", h, port)
		}
		hosts = append(hosts, net.JoinHostPort(host, strconv.Itoa(n)))
	}
	return hosts, nil
}

func parseKeyValue(dsn string) (Config, error) {
	var cfg Config
	var hostList, portList string
	s := dsn
	for {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		if s == "" {
			break
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return cfg, fmt.Errorf("raftsql: DSN %q: want key=value pairs or a raftsql:// URL", dsn)
		}
		key := strings.TrimSpace(s[:eq])
		if strings.ContainsFunc(key, unicode.IsSpace) {
			return cfg, fmt.Errorf("raftsql: DSN key %q contains a space", key)
		}
		s = strings.TrimLeftFunc(s[eq+1:], unicode.IsSpace)
		var val strings.Builder
		if strings.HasPrefix(s, "'") {
			s = s[1:]
			closed := false
			for len(s) > 0 {
				c := s[0]
				s = s[1:]
				if c == '\\' && len(s) > 0 {
					val.WriteByte(s[0])
					s = s[1:]
					continue
				}
				if c == '\'' {
					closed = true
					break
				}
				val.WriteByte(c)
			}
			if !closed {
				return cfg, fmt.Errorf("raftsql: DSN value of %q: unterminated quote", key)
			}
		} else {
			for len(s) > 0 && !unicode.IsSpace(rune(s[0])) {
				c := s[0]
				s = s[1:]
				if c == '\\' && len(s) > 0 {
					c = s[0]
					s = s[1:]
				}
				val.WriteByte(c)
			}
		}
		v := val.String()
		switch key {
		case "host", "hostaddr":
			hostList = v
		case "port":
			portList = v
		case "user":
			cfg.User = v
		case "password":
			cfg.Password = v
		case "dbname":
			cfg.Database = v
		default:
			if err := cfg.setParam(key, v); err != nil {
				return cfg, err
			}
		}
	}
	if hostList != "" {
		hs := strings.Split(hostList, ",")
		var ports []string
		if portList != "" {
			ports = strings.Split(portList, ",")
			if len(ports) != 1 && len(ports) != len(hs) {
				return cfg, fmt.Errorf("raftsql: DSN has %d hosts but %d ports", len(hs), len(ports))
			}
		}
		for i, h := range hs {
			p := ""
			switch len(ports) {
			case 0:
			case 1:
				p = ports[0]
			default:
				p = ports[i]
			}
			if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
				h = "[" + h + "]"
			}
			one, err := splitHosts(h, strings.TrimSpace(p))
			if err != nil {
				return cfg, err
			}
			cfg.Hosts = append(cfg.Hosts, one...)
		}
	} else if portList != "" {
		return cfg, errors.New("raftsql: DSN has a port but no host")
	}
	return cfg, nil
}

// setParam applies one DSN parameter.
func (c *Config) setParam(k, v string) error {
	switch k {
	case "read_consistency", "raftsql.read_consistency":
		c.ReadConsistency = strings.ToLower(strings.TrimSpace(v))
	case "connect_timeout":
		d, err := parseDuration(k, v)
		if err != nil {
			return err
		}
		c.ConnectTimeout = d
	case "retry_timeout":
		d, err := parseDuration(k, v)
		if err != nil {
			return err
		}
		c.RetryTimeout = d
	case "cancel_timeout":
		d, err := parseDuration(k, v)
		if err != nil {
			return err
		}
		c.CancelTimeout = d
	case "statement_cache_size":
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("raftsql: DSN parameter %s=%q: want a whole number (-1 turns the cache off)", k, v)
		}
		c.StatementCacheSize = n
	case "sslmode":
		c.SSLMode = v
	case "sslrootcert":
		c.SSLRootCert = v
	case "max_staleness":
		if _, err := parseDuration(k, v); err != nil {
			return err
		}
		c.setRuntime("raftsql.max_staleness", v)
	case "user", "password", "dbname", "host", "port":
		return fmt.Errorf("raftsql: DSN parameter %q belongs in the URL itself", k)
	default:
		if passThroughParams[strings.ToLower(k)] || (strings.Contains(k, ".") && !strings.HasPrefix(k, ".") && !strings.HasSuffix(k, ".")) {
			c.setRuntime(k, v)
			return nil
		}
		return fmt.Errorf("raftsql: unknown DSN parameter %q", k)
	}
	return nil
}

func (c *Config) setRuntime(k, v string) {
	if c.RuntimeParams == nil {
		c.RuntimeParams = map[string]string{}
	}
	c.RuntimeParams[k] = v
}

// parseDuration reads a Go duration ("5s", "250ms") or, as libpq does,
// whole seconds ("5").
func parseDuration(k, v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > int64(24*time.Hour/time.Second) {
			return 0, fmt.Errorf("raftsql: DSN parameter %s=%q: seconds out of range", k, v)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("raftsql: DSN parameter %s=%q: want a duration such as 5s or 500ms", k, v)
	}
	if d < 0 {
		return 0, fmt.Errorf("raftsql: DSN parameter %s=%q: must not be negative", k, v)
	}
	return d, nil
}

// validate checks a Config, whether ParseDSN or a caller built it.
func (c *Config) validate() error {
	if len(c.Hosts) == 0 {
		return errors.New("raftsql: no hosts: give at least one host:port")
	}
	for _, h := range c.Hosts {
		if _, _, err := net.SplitHostPort(h); err != nil {
			return fmt.Errorf("raftsql: host %q: %v", h, err)
		}
	}
	switch c.ReadConsistency {
	case "", Linearizable, Strong, Weak, None:
	default:
		return fmt.Errorf("raftsql: read_consistency %q: want linearizable, strong, weak or none", c.ReadConsistency)
	}
	switch c.SSLMode {
	case "", SSLDisable, SSLPrefer, SSLRequire, SSLVerifyCA, SSLVerifyFull:
	case "allow":
		return errors.New(`raftsql: sslmode "allow" is not supported: use disable, prefer, require, verify-ca or verify-full`)
	default:
		return fmt.Errorf("raftsql: sslmode %q: want disable, prefer, require, verify-ca or verify-full", c.SSLMode)
	}
	if c.ConnectTimeout < 0 || c.RetryTimeout < 0 || c.CancelTimeout < 0 {
		return errors.New("raftsql: timeouts must not be negative")
	}
	for k, v := range c.RuntimeParams {
		if k == "" || strings.IndexByte(k, 0) >= 0 || strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("raftsql: runtime parameter %q: names must be non-empty and neither may contain NUL", k)
		}
	}
	if strings.IndexByte(c.User, 0) >= 0 || strings.IndexByte(c.Database, 0) >= 0 || strings.IndexByte(c.Password, 0) >= 0 {
		return errors.New("raftsql: user, password and database must not contain NUL")
	}
	return nil
}

// tlsConfig returns the TLS configuration for host, or nil when TLS is off.
func (c *Config) tlsConfig(host string) (*tls.Config, error) {
	mode := c.sslMode()
	if mode == SSLDisable {
		return nil, nil
	}
	var tc *tls.Config
	if c.TLSConfig != nil {
		tc = c.TLSConfig.Clone()
	} else {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
		var pool *x509.CertPool
		if c.SSLRootCert != "" {
			pem, err := os.ReadFile(c.SSLRootCert)
			if err != nil {
				return nil, fmt.Errorf("raftsql: sslrootcert: %w", err)
			}
			pool = x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("raftsql: sslrootcert %s: no PEM certificates", c.SSLRootCert)
			}
			tc.RootCAs = pool
		}
		switch {
		case mode == SSLVerifyFull:
		case mode == SSLVerifyCA || (mode == SSLRequire && pool != nil):
			// Verify the chain but not the name, as libpq does.
			tc.InsecureSkipVerify = true
			tc.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
				return verifyChain(raw, pool)
			}
		default:
			tc.InsecureSkipVerify = true
		}
	}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	return tc, nil
}

func verifyChain(raw [][]byte, roots *x509.CertPool) error {
	if len(raw) == 0 {
		return errors.New("raftsql: server sent no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return err
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
	return err
}

func (c *Config) sslMode() string {
	if c.SSLMode == "" {
		return SSLPrefer
	}
	return c.SSLMode
}

func (c *Config) connectTimeout() time.Duration {
	if c.ConnectTimeout > 0 {
		return c.ConnectTimeout
	}
	return defaultConnectTimeout
}

func (c *Config) retryTimeout() time.Duration {
	if c.RetryTimeout > 0 {
		return c.RetryTimeout
	}
	return defaultRetryTimeout
}

func (c *Config) cancelTimeout() time.Duration {
	if c.CancelTimeout > 0 {
		return c.CancelTimeout
	}
	return defaultCancelTimeout
}
