// Package driver is the database/sql driver for raftsql, registered as
// "raftsql". It speaks the Postgres wire protocol (v3) to any node of a
// cluster and imports nothing else of raftsql: a program that uses only
// this package links neither SQLite nor Raft.
//
//	db, err := sql.Open("raftsql", "raftsql://app:secret@n1:5433,n2:5433,n3:5433/app?sslmode=disable")
//
// or, without the global registry,
//
//	cfg, err := driver.ParseDSN(dsn)
//	connector, err := driver.NewConnector(cfg)
//	db := sql.OpenDB(connector)
//
// # Cluster awareness
//
// A new connection tries the listed hosts in order from a random start.
// Nodes report the leader's Postgres address (ParameterStatus
// raftsql.leader_pg_addr); unless read_consistency=none, connections then
// go to the leader directly, and a pooled connection moves to a new leader
// before it is reused. At read_consistency=none connections spread over
// all nodes, and reads carry raftsql.min_read_index, the highest
// raftsql.write_index the Connector has seen, so that a client reads its
// own writes on any node.
//
// # Retries and the outcome of writes
//
// Each Connector has a random client id (startup parameter
// raftsql.client_id). Every write outside a transaction, and every COMMIT,
// is preceded in the same pipeline by SET raftsql.request_seq = N, with N
// increasing per Connector, and the cluster applies a (client id, N) pair
// at most once. Outside a transaction the driver therefore resends a
// statement, on another node if the connection was lost, when:
//
//   - the node has no leader (SQLSTATE 57P03: nothing was applied);
//   - the node cannot tell whether the write was applied (40003);
//   - the node is shutting down (57P01): the statement goes to another
//     node, and a write answered so counts as sent, its outcome unknown
//     until the resend learns it;
//   - the connection broke after the statement was sent.
//
// It stops at Config.RetryTimeout or the context's deadline. A write whose
// outcome is still unknown then, and a COMMIT or a statement in a
// transaction whose connection broke, return an error that matches
// ErrOutcomeUnknown (errors.Is). driver.ErrBadConn, which makes
// database/sql retry on another connection, is returned only when nothing
// reached the server.
//
// # Cancellation
//
// When a statement's context ends, the driver sends a CancelRequest on a
// separate connection to the same node and waits up to
// Config.CancelTimeout for the statement to stop; otherwise the connection
// is discarded.
//
// # Types
//
// Parameters: int64, float64 and bool are sent in binary as int8, float8
// and bool; []byte as binary bytea (a nil []byte is NULL); strings as
// untyped text; time.Time as text "2006-01-02 15:04:05.999999999Z07:00",
// which SQLite's date functions read. Other values go through
// driver.DefaultParameterConverter. Only positional parameters ($1, $2, …)
// are supported.
//
// Results are decoded by type OID: int2/int4/int8 to int64, float4/float8
// to float64, bool to bool, bytea to []byte, date and timestamps to
// time.Time (when they parse; otherwise string), numeric and everything
// else to string. A value that does not parse as its column's type (SQLite
// does not enforce declared types) is returned as a string.
package driver
