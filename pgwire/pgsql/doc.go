// Package pgsql is raftsql's statement front end: Postgres SQL as
// applications send it, parsed once into typed statements.
//
// # What it owns, and what it must not know
//
// pgsql owns the lexical structure of Postgres SQL (strings, E'…' and
// dollar quotes, quoted names, $n placeholders, comments, operators),
// splitting a query string into statements, and for each statement: its
// kind (read, write, transaction control with its parsed form, session
// command, COPY, catalog read, empty), the SQLite text that runs it, its
// parameters with the types written for them and, in the simple shapes,
// the table columns they are stored in or compared with (and so of its
// string literals, Statement.Literals, which a caller that knows the
// columns' types converts and replaces with WithLiterals), its result
// columns as Postgres names them and the types the text gives them (and,
// for an aggregate of a table column, the column that decides it), the
// command tag it completes with, and the SQLSTATE and character position
// of what it refuses; for the statements answered without SQLite, their
// parsed form: session commands (SET, SHOW, RESET, set_config, LOCK …),
// COPY with its options, calls of sequence functions and of advisory lock
// functions. Its lexer is
// the only one reading Postgres SQL: Tokens gives its tokens to a caller
// that must read a statement further than the Statement tells. It
// knows SQL dialects, Postgres' and SQLite's; it knows no wire protocol,
// Raft, or SQLite internals, and it executes nothing. pgwire calls Split
// and Parse (through a Cache) once per statement and hands the Statement to
// the server, which routes on its Kind.
//
// # Translation
//
// A statement is translated in one pass over its tokens; the text between
// the tokens it rewrites is copied unchanged, so SQLite's own syntax
// (INSERT OR REPLACE, datetime('now'), [bracketed] names) keeps working.
// Casts (x::type and CAST) keep Postgres' meaning: a literal is converted
// here, with Postgres' errors ('2020-01-01'::date stays the text
// '2020-01-01', '5'::int is 5, '\x00ff'::bytea two bytes, 'abc'::int fails
// with 22P02); a $n cast is left to the value the client sends in the type
// the cast gives it; other operands become SQLite casts or date functions.
// Casts to the catalog types (regclass, oid …) go through CatalogCast, a
// hook for the catalog package. What SQLite cannot do fails with 0A000
// naming the construct (arrays, SIMILAR TO, intervals outside timestamp
// arithmetic …). now() and its siblings become CURRENT_TIMESTAMP, which a
// write gets from the leader's stamped time; gen_random_uuid() is built
// from randomblob, seeded alike on every node in a write; current_user is
// the session's user, put in by Statement.SQLite. The divisor of / and %
// in DML is guarded so that a zero fails with "division by zero" (22012)
// instead of SQLite's NULL (divide.go). generate_series in FROM becomes
// a recursive common table expression (series.go), and a subquery in
// FROM with column aliases, (VALUES …) s(a, b), one that names the
// columns (derived.go). x = ANY(array) and
// x <> ALL(array), the array a parameter, a literal or ARRAY[…], become IN
// lists over json_each (anyarray.go); other uses of arrays are refused. Functions lists the Go functions
// the SQLite text calls (regexp behind ~, the divisor's guard), which the
// server adds to SQLite, on the state machine's connections too; among
// them Postgres' string, math and JSON functions SQLite lacks (repeat,
// split_part, format, regexp_replace, encode, sha256, gcd, json_typeof …,
// pgfuncs.go), each deterministic, strict and bounded in what it returns.
// Functions SQLite has under another name are renamed (json_build_object
// is json_object, json_agg json_group_array, strpos instr …); operators
// SQLite lacks become calls (a ^ b is power(a, b), |/ a sqrt(a), j #>> p
// a JSON path function); SELECT DISTINCT ON becomes a window function
// (distincton.go). In what a schema stores (CHECK, DEFAULT, generated
// columns, indexes, views, triggers), the functions with a SQLite
// equivalent are written as it (left and right as substr, x ->> 'k' a
// CASE over json_type …), so that a backup opens in stock sqlite3, and in
// CHECK, DEFAULT, generated columns and indexes a call of a function stock
// sqlite3 lacks is refused with 0A000 (schemafuncs.go). A column that is a call of a function Postgres types
// gets that type (round numeric, row_number bigint, power double
// precision), and pg_typeof of an expression the front end types answers
// that type, which SQLite's value would not tell; a column that is an
// aggregate or window function of a table column (max(ts), sum(t.n) OVER
// w, coalesce(max(n), 0)) is listed in Statement.Aggregates with the table
// column, from the FROM list's tables and aliases, whose declared type
// decides its type (Aggregate.Type), which only the schema can tell
// (aggcols.go). A
// decimal literal is a numeric, shown with the scale it was written with.
//
// # The session's TimeZone
//
// The translation of a statement does not depend on the session, so that it
// is cached by text. Where Postgres reads the session's TimeZone (a
// timestamptz literal without an offset; date_trunc, extract and
// date_part of a timestamptz, in Go functions of zone.go), the SQLite text
// has a hole, which Statement.InZone fills for the session: a literal is
// converted to the UTC text timestamptz values are stored as, once, on the
// node the client reached; a date function gets the zone's name as an
// argument, so that a write carries its zone into the log and every node
// computes the same value (from the zone's rules as Go's time package
// loads them: the host's zoneinfo, else the copy built in, so nodes whose
// zoneinfo differs could differ on a zone whose rules changed). A column,
// whose type the front end does not know, is taken for a timestamp by
// date_trunc and extract, and for a timestamptz by AT TIME ZONE. x AT TIME ZONE z and timezone(z, x) name their
// zone themselves; CURRENT_TIMESTAMP(n), LOCALTIMESTAMP(n) and casts to
// timestamp(n) keep n fractional digits of the millisecond clock.
//
// # Why a grammar of its own
//
// The full PostgreSQL grammar is available in pure Go as libpg_query
// compiled to WebAssembly (github.com/wasilibs/go-pgquery). Measured on
// this machine (docs/BENCHMARKS.md, "Statement front end"): its first Parse
// takes 1.7 s idle and 6.5 s under load (the module compiles), against a
// start-up budget of 100 ms, and each Parse of a pgbench statement about
// 100 µs, 15–20 times what SQLite takes to run the statement (5–6 µs of
// CPU). Simple-protocol clients (psql, lib/pq, psycopg2, node-postgres)
// inline their literals, so their text rarely repeats and a cache would not
// hide that cost. This package's lexer and reader parse the same
// statements in 1–2.5 µs of CPU uncached (ORM statements up to 3.5 µs),
// about 20 ns cached, and start in no time. What they read is what decides
// the translation: the statement's kind, casts and their operands, names,
// select-list items; the rest is SQLite's to parse, and SQLite reports its
// own syntax errors.
package pgsql
