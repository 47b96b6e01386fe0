// Package pgwire is raftsql's server side of the Postgres wire protocol,
// version 3, the protocol of psql, pgbench, pgx, JDBC, psycopg and
// node-postgres.
//
// # What it owns, and what it must not know
//
// pgwire owns the bytes on a client connection: startup, SSLRequest and TLS,
// authentication, the simple and extended query protocols, cancellation,
// type OIDs and the text and binary formats of values, command tags, and
// SQLSTATE errors. It knows nothing of Raft or SQLite. It executes
// statements through the Backend and Session interfaces (session.go), which
// the server package implements; the server maps its own errors to
// SQLSTATEs and returns them as *Error.
//
// # Layers
//
//   - Messages: github.com/jackc/pgx/v5/pgproto3 decodes frontend messages
//     and encodes backend messages. Startup packets are read by pgwire
//     itself, unbuffered, so that no byte sent before a TLS handshake can be
//     taken as sent over TLS.
//   - Connection (conn.go): one goroutine per connection runs the startup
//     sequence, then a loop that reads a message, acts on it and writes the
//     answer. Execution is synchronous: the goroutine that reads a statement
//     runs it. Output is buffered and written at ReadyForQuery, at Flush, and
//     whenever a result grows past a few tens of kilobytes.
//   - Statements (query.go, local.go, prepare.go): the query protocols,
//     the statements pgwire answers itself (SET, RESET, SHOW, DISCARD),
//     which never reach Session.Execute, and PREPARE and EXECUTE as SQL:
//     PREPARE keeps a statement with the Parse message's (one namespace,
//     as in Postgres), EXECUTE runs it with its arguments bound in, as the
//     statement it is. A SELECT of pg_sleep, pg_cancel_backend or
//     current_setting alone is answered here, and current_setting('name')
//     elsewhere in a read becomes the value (backendcall.go): they act on
//     or read the connection, which no SQLite function may see.
//   - Statements (the pgsql package, tag.go): each query string is split,
//     and each statement parsed once (through a cache shared by the
//     connections) into a pgsql.Statement: its kind, the SQLite text, its
//     $n placeholders and their written types, its result columns and
//     their types, its command tag. That value is what Session's Describe
//     and Execute receive. lexer.go is what is left of the older lexer,
//     for the SET, COPY and DDL statements pgwire still reads itself.
//   - Values (types.go): declared SQL types to OIDs, Go values to the text
//     and binary formats, and Bind parameters back to Go values.
//   - COPY (copy.go): COPY … FROM STDIN in the text, CSV and binary
//     formats (binary fields are decoded as the types Describe gives the
//     table's columns). The rows become multi-row INSERTs run through
//     Execute, inside the session's transaction block or else one of their
//     own, so a COPY is all or nothing; its data is bounded (copyMaxBytes)
//     because it becomes one log entry. COPY … TO STDOUT (text or CSV)
//     sends the rows of a query or a table.
//   - Postgres DDL habits (translate.go): DROP and TRUNCATE of a list,
//     CREATE TABLE … WITH (storage parameters), ALTER TABLE … ADD PRIMARY
//     KEY|UNIQUE, rewritten into one plain statement per object and run
//     together; VACUUM in its Postgres forms is refused with a hint.
//   - Catalog (catalog.go): statements that read pg_catalog or
//     information_schema, or call the functions tools call on them, are
//     rewritten by pgwire/pgsql/catalog into SQLite SQL over the catalog
//     views the server's connections hold, in both protocols, and run as
//     any other read.
//
// # Lifecycle of a connection
//
//  1. The first packet may be SSLRequest (answered 'S' and a TLS handshake
//     when Config.TLSConfig is set, else 'N') or GSSENCRequest (always 'N');
//     the StartupMessage then follows on the same socket. Clients such as pgx
//     close the socket right after 'N' and reconnect: that is not an error.
//     A CancelRequest on a fresh socket is acted on and the socket closed,
//     with no answer. Startup as a whole must finish within
//     Config.StartupTimeout.
//  2. The connection takes a slot (Config.MaxConnections, else FATAL 53300)
//     and a random process ID and secret key for cancel requests.
//  3. Config.RequireTLS refuses a client without TLS; Config.Auth
//     authenticates (nil: trust; SCRAMAuth: SCRAM-SHA-256 against stored
//     verifiers), then AuthenticationOk.
//  4. Backend.NewSession opens the session with the startup parameters;
//     each parameter other than user and database (and each -c name=value in
//     options) is then applied as a SET would be.
//  5. ParameterStatus for every reported parameter, BackendKeyData,
//     ReadyForQuery.
//
// # Simple query protocol
//
// A Query message may hold several statements. pgwire splits it, and for
// each statement sends RowDescription (for statements that return rows),
// DataRows and CommandComplete; the first error is sent as ErrorResponse
// and the remaining statements are skipped. One ReadyForQuery ends the
// message. A query string of only comments or semicolons gets
// EmptyQueryResponse (pgx's Ping sends "-- ping", lib/pq's sends ";").
//
// Atomicity: pgwire calls Session.Execute once per statement, so a
// multi-statement Query is only as atomic as the session makes it. Outside
// BEGIN, each statement that succeeded before the failing one stays
// applied, unlike Postgres, which runs the whole string in one implicit
// transaction. Inside BEGIN … COMMIT the session's transaction decides.
//
// Result types are chosen by one function (columnOIDs) in both protocols,
// at Describe and for COPY: from the declared type as Postgres types it
// (INTEGER is int4, REAL float8), else from a guess at the expression
// (count(*) is int8, 1 is int4, x::type), else text; a column that is an
// aggregate or window function of a table column (Statement.Aggregates:
// max(ts), sum(n), lag(v) OVER …) takes the type Postgres gives the call
// from the column's declared type, which a Session that implements
// TableTyper (or ParamTyper) tells from the committed schema, asked before
// the statement runs and never through its Describe or Execute, so that a
// transaction block sees nothing it did not do (aggtypes.go). The rows
// never take part; a value that does not read as its column's type is an
// error that names the column (appendText, appendBinary), not a type that
// changes.
//
// Values come in by one function too (inputText): a text parameter of a
// type, a string literal stored in or compared with a column of a
// declared type (withTypedLiterals, before the statement runs, with the
// column types a ParamTyper and TableLister give from the committed
// schema), and a text or CSV field of COPY FROM are read with the type's
// input rules and become the value the type is stored as (a boolean, an
// integer, a timestamptz in UTC …), or fail with Postgres' error. A
// converted literal is written into the statement, which is parsed again,
// so that what the server runs, and a write's log entry, holds the value
// as stored.
//
// # Extended query protocol
//
// Parse, Bind, Describe, Execute, Close, Sync and Flush, pipelined as
// clients like (pgx batches, JDBC executeBatch, psycopg executemany). Parse
// keeps the parameter OIDs the client sent and counts $n placeholders for
// the rest, which take the type written for them ($1::int), or bool when
// the column they are stored in or compared with is declared boolean (a
// Session that implements ParamTyper says), and are otherwise reported
// as 0 (unknown). A statement runs only at
// Execute; Describe asks Session.Describe, once per prepared statement.
// Execute sends values in the types that Describe reported.
// Execute with a row limit sends that many rows, then PortalSuspended
// (even when none is left, as Postgres does: the next Execute completes
// it); the limit is ignored for statements that return no rows. A result
// that comes as a RowSource stays open in its portal, the statement
// stepped as far as the rows sent, so the next Execute continues the
// cursor; a result in memory is kept and handed out in slices. After an
// error, every message up to Sync is skipped, then ReadyForQuery. Portals
// are closed (their RowSource with them) by Close, by Bind replacing the
// unnamed one, at a ReadyForQuery outside a transaction block, and when
// the connection ends.
//
// # Rows
//
// A Result's rows come in memory (Rows) or from a RowSource (Stream), which
// the session hands over for a read it steps as the client reads, the way
// pgconn's ResultReader and cockroach's AddRow pass rows. pgwire writes
// each row as a DataRow as it comes, through one reused buffer, and writes
// the output every few tens of kilobytes, so a connection's memory is
// bounded by its largest row, not by its result. Column types are chosen
// before the first row, from the declared types and the expressions; a
// value that does not fit its column ends the result with an ErrorResponse
// after the rows already sent, which Postgres clients accept. The context
// of the statement (cancelled by CancelRequest, a hangup, or the session's
// statement_timeout) is the RowSource's too: a cancelled stream ends with
// 57014 and its source is closed.
//
// SET LOCAL is treated as SET: parameters are per connection, not per
// transaction.
//
// # Cancel
//
// A CancelRequest (a new connection carrying a process ID and secret key)
// cancels the context of the statement running on that connection, if any;
// the statement then fails with 57014 "canceling statement due to user
// request". A wrong key is ignored without a word, as in Postgres.
//
// # How a connection ends
//
//   - The client sends Terminate: the session is closed (an open
//     transaction is rolled back).
//   - The client disconnects, cleanly or not: the same. A statement running
//     meanwhile is canceled: pgwire does not read while a statement runs,
//     but on Linux it watches the socket for the peer's close (POLLRDHUP,
//     through the runtime's poller, reading nothing, so pipelined messages
//     stay queued) and cancels the statement's context (hangup_linux.go).
//     The watch starts once a statement has run for 10 ms, so a statement
//     is not charged for it unless it runs long. Elsewhere the statement runs to its end and the disconnect is noticed
//     at the next read or write.
//   - pgwire ends it with a FATAL ErrorResponse: a protocol violation, a
//     message larger than Config.MaxMessageSize, Config.IdleTimeout expiring
//     (57P05), or a failed startup or authentication.
//   - Server.Close: listeners close, running statements are cancelled,
//     every connection gets FATAL 57P01 and is closed, and Close waits for
//     the connection goroutines to return.
//
// A panic while serving a connection is recovered and logged, and ends only
// that connection.
package pgwire
