package driver

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

func init() {
	sql.Register("raftsql", &Driver{})
}

// Driver is the database/sql driver registered as "raftsql".
type Driver struct{}

// Open opens a connection with a fresh Connector; database/sql uses
// OpenConnector instead, which shares one Connector (and so one client id)
// among the connections of a DB.
func (d *Driver) Open(dsn string) (driver.Conn, error) {
	c, err := d.OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	return c.Connect(context.Background())
}

// OpenConnector parses dsn (see ParseDSN) and returns a Connector.
func (d *Driver) OpenConnector(dsn string) (driver.Connector, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	return NewConnector(cfg)
}

// connector holds what the connections of one DB share: the
// configuration, the client id and request sequence that make writes
// idempotent, the last known leader and the highest write index seen.
type connector struct {
	cfg      Config
	drv      *Driver
	clientID uint64
	seq      atomic.Uint64

	writeIndex atomic.Uint64

	mu            sync.Mutex
	leader        string    // Postgres address of the leader, "" if unknown
	leaderFailed  string    // the leader address that last failed to dial
	leaderRetryAt time.Time // when to try leaderFailed again
}

// NewConnector returns a Connector for sql.OpenDB. Each Connector picks a
// random client id that the cluster uses, with a per-Connector sequence
// number, to apply each write at most once however often it is resent.
func NewConnector(cfg Config) (driver.Connector, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.Hosts = append([]string(nil), cfg.Hosts...)
	c := &connector{cfg: cfg, drv: &Driver{}}
	for c.clientID == 0 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		c.clientID = binary.BigEndian.Uint64(b[:])
	}
	return c, nil
}

// Driver returns the Driver.
func (c *connector) Driver() driver.Driver { return c.drv }

// Connect opens a connection: to the leader when it is known and the
// read consistency needs it, otherwise to the listed hosts in order from a
// random start. ctx bounds only the dialing and startup.
func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	w, err := c.open(ctx, c.cfg.ReadConsistency != None, "")
	if err != nil {
		return nil, err
	}
	cn := &conn{cl: c, w: w, consistency: c.cfg.ReadConsistency}
	switch size := c.cfg.StatementCacheSize; {
	case size == 0:
		cn.cache = newStmtCache(defaultStatementCacheSize)
	case size > 0:
		cn.cache = newStmtCache(size)
	}
	return cn, nil
}

func (c *connector) dial(ctx context.Context, addr string) (net.Conn, error) {
	if c.cfg.DialFunc != nil {
		return c.cfg.DialFunc(ctx, "tcp", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// candidates lists the addresses to try, best first: the leader when
// wanted, then the hosts from a random start; avoid goes last.
func (c *connector) candidates(wantLeader bool, avoid string) []string {
	n := len(c.cfg.Hosts)
	start := mrand.IntN(n)
	out := make([]string, 0, n+1)
	if leader := c.knownLeader(); wantLeader && leader != "" {
		out = append(out, leader)
	}
	for i := 0; i < n; i++ {
		h := c.cfg.Hosts[(start+i)%n]
		if len(out) > 0 && out[0] == h {
			continue
		}
		out = append(out, h)
	}
	if avoid != "" {
		for i, h := range out {
			if h == avoid {
				out = append(append(out[:i:i], out[i+1:]...), h)
				break
			}
		}
	}
	return out
}

// open dials the candidates until one completes startup. With wantLeader,
// a connection to a node that names another leader is replaced by one to
// that leader when it can be reached.
func (c *connector) open(ctx context.Context, wantLeader bool, avoid string) (*wireConn, error) {
	var errs []error
	for _, addr := range c.candidates(wantLeader, avoid) {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		w, err := dialWire(ctx, c, addr)
		if err != nil {
			if addr == c.knownLeader() {
				c.leaderUnreachable(addr)
			}
			var perr *Error
			if errors.As(err, &perr) && (perr.Code == "28P01" || perr.Code == "28000" || perr.Code == "3D000") {
				// Wrong password or database: every node will say so.
				return nil, err
			}
			errs = append(errs, fmt.Errorf("%s: %w", addr, err))
			continue
		}
		if wantLeader && w.leader != "" && w.leader != addr && c.knownLeader() == w.leader {
			if lw, err := dialWire(ctx, c, w.leader); err == nil {
				w.close()
				return lw, nil
			}
			c.leaderUnreachable(w.leader)
		}
		return w, nil
	}
	return nil, fmt.Errorf("raftsql: no node accepted the connection: %w", errors.Join(errs...))
}

// knownLeader is the leader's address unless dialing it failed recently,
// or "" when connections stay on the listed hosts (Config.PinHosts).
func (c *connector) knownLeader() string {
	if c.cfg.PinHosts {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leader == c.leaderFailed && time.Now().Before(c.leaderRetryAt) {
		return ""
	}
	return c.leader
}

func (c *connector) setLeader(addr string) {
	c.mu.Lock()
	c.leader = addr
	c.mu.Unlock()
}

func (c *connector) leaderUnreachable(addr string) {
	c.mu.Lock()
	c.leaderFailed = addr
	c.leaderRetryAt = time.Now().Add(5 * time.Second)
	c.mu.Unlock()
}

func (c *connector) sawWriteIndex(n uint64) {
	for {
		cur := c.writeIndex.Load()
		if n <= cur || c.writeIndex.CompareAndSwap(cur, n) {
			return
		}
	}
}

func (c *connector) nextSeq() uint64 { return c.seq.Add(1) }
