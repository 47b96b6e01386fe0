package server

import (
	"context"
	"database/sql"
	sqldriver "database/sql/driver"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/raftsql/raftsql/driver"
)

// ErrNodeNotOpen is returned when dialing a node's in-process connections
// before Open or after Close.
var ErrNodeNotOpen = errors.New("raftsql: node is not open")

// ConnectorConfig configures the connections of Node.Connector. The zero
// value uses the node's defaults.
type ConnectorConfig struct {
	// ReadConsistency is the read consistency of the connections'
	// sessions: linearizable, strong, weak or none. Empty means the node's
	// Config.ReadConsistency.
	ReadConsistency string

	// User is the user name the sessions report (current_user); default
	// "raftsql". The node does not authenticate in-process connections.
	User string

	// ApplicationName is reported as the sessions' application_name.
	ApplicationName string

	// RetryTimeout bounds how long a statement is retried while the
	// cluster has no leader or the outcome of a write is being learned, as
	// driver.Config.RetryTimeout does (default 15s).
	RetryTimeout time.Duration
}

// Connector returns a database/sql connector whose connections this node
// serves in the process, without a network hop: each connection is one end
// of a connected pair of sockets (socketpair(2) on Unix; a loopback TCP
// connection made for it elsewhere) whose other end the node's Postgres
// wire server serves. The connections behave exactly as those of a remote
// client of this node: statements take the same path, writes are forwarded
// to the leader by the node, reads are served at the session's read
// consistency, and the driver retries as it does over the network
// (see package driver). They do not move to the leader as remote
// connections do.
//
// The node must be open when a connection is made; dialing a node that is
// not open, or closed, fails with an error that matches ErrNodeNotOpen, and
// Close ends the connections already made.
func (n *Node) Connector(cfg ConnectorConfig) (sqldriver.Connector, error) {
	if cfg.ReadConsistency != "" && !validLevel(cfg.ReadConsistency) {
		return nil, fmt.Errorf("read consistency %q: want linearizable, strong, weak or none", cfg.ReadConsistency)
	}
	if cfg.RetryTimeout < 0 {
		return nil, errors.New("retry timeout must not be negative")
	}
	user := cfg.User
	if user == "" {
		user = "raftsql"
	}
	dc := driver.Config{
		// The address only names the node in errors; nothing dials it.
		Hosts:           []string{n.embedAddr()},
		User:            user,
		Database:        "raftsql",
		ReadConsistency: cfg.ReadConsistency,
		RetryTimeout:    cfg.RetryTimeout,
		SSLMode:         driver.SSLDisable,
		DialFunc:        n.dialEmbedded,
		PinHosts:        true,
	}
	if cfg.ApplicationName != "" {
		dc.RuntimeParams = map[string]string{"application_name": cfg.ApplicationName}
	}
	return driver.NewConnector(dc)
}

// DB returns a new *sql.DB over Connector(ConnectorConfig{}). The caller
// owns it and closes it; closing it leaves the node running, and closing
// the node first makes the DB's connections fail (ErrNodeNotOpen) until it
// is closed too.
func (n *Node) DB() *sql.DB {
	c, err := n.Connector(ConnectorConfig{})
	if err != nil {
		// The zero ConnectorConfig is always valid.
		panic(err)
	}
	return sql.OpenDB(c)
}

// embedAddr is the host:port under which the driver knows this node: its
// Postgres address when it has one that parses, else a placeholder.
func (n *Node) embedAddr() string {
	addr := n.PGAddr()
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "localhost:0"
	}
	return addr
}

// dialEmbedded connects to this node in process; it ignores network and
// address, since the driver only ever asks for this node.
func (n *Node) dialEmbedded(ctx context.Context, _, _ string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if n.pg == nil || n.ctx == nil || n.ctx.Err() != nil {
		return nil, fmt.Errorf("node %s: %w", n.cfg.ID, ErrNodeNotOpen)
	}
	client, srv, err := connPair()
	if err != nil {
		return nil, fmt.Errorf("node %s: connecting in process: %w", n.cfg.ID, err)
	}
	if err := n.pg.ServeTrustedConn(srv); err != nil {
		client.Close()
		return nil, fmt.Errorf("node %s: %w (%v)", n.cfg.ID, ErrNodeNotOpen, err)
	}
	return client, nil
}
