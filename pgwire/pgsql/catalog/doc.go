// Package catalog owns the Postgres catalog relations raftsql serves —
// information_schema (schemata, tables, columns, views, table_constraints,
// key_column_usage, constraint_column_usage, referential_constraints,
// sequences) and pg_catalog (pg_namespace, pg_class, pg_attribute, pg_type,
// pg_index, pg_constraint, pg_attrdef, pg_sequence, pg_depend, pg_database,
// pg_roles, pg_settings, pg_tables, pg_indexes, pg_views and the relations
// raftsql has nothing in, such as pg_proc, pg_inherits or pg_policy) — and
// the functions tools call on them (format_type, pg_get_indexdef,
// pg_table_is_visible, pg_get_serial_sequence, …).
//
// A column that numbers its rows (SQLite's rowid alias, or one a trigger
// numbers) is shown as a serial: its default is nextval of the sequence
// TABLE_COLUMN_seq, which stands for the numbering and which pg_class,
// pg_sequence and pg_depend show as owned by the column. SQLite keeps no
// trace of whether the column was declared SERIAL or as an identity, so an
// identity column is shown as a serial too. A rowid alias declared
// BIGSERIAL or bigint (SMALLSERIAL, smallint) carries its type in a
// comment of the table's definition, which the catalogs read.
//
// The sequences made with CREATE SEQUENCE are rows of pgwire's table
// raftsql_sequences; the relations that list sequences (pg_class,
// pg_sequence, information_schema.sequences) read it where Env.Sequences
// says it is there. raftsql's own tables (raftsql_*) are no user's
// tables: no catalog lists them.
//
// The relations are SQLite SQL over sqlite_schema and the pragma
// table-valued functions (pragma_table_info, pragma_index_list,
// pragma_index_info, pragma_foreign_key_list): InitSQL gives the TEMP
// VIEWs that every connection serving reads creates when it opens, Funcs
// the Go functions they and rewritten statements call. A relation that
// reports the session's user or database is not a view but a query the
// rewrite inlines with the session's values.
//
// Rewrite translates the catalog queries clients send (psql's \d family,
// pgJDBC's DatabaseMetaData, ORMs' information_schema probes) into SQLite
// SQL over those views: catalog names resolved (Resolve), casts to
// regclass, regtype and oid (an OID where compared, a name in a select
// list: regcast.go), OPERATOR(pg_catalog.~), = ANY (array),
// subscripts, ARRAY(subquery), set-returning functions in FROM, and the
// catalog functions. Statements that name no catalog pass through
// untouched after one scan of their text (Mentions).
//
// The server names the constraint a statement violated with the queries of
// constraints.go over the same views (UniqueQuery, IndexQuery,
// ForeignKeysQuery), so that an error names a key as pg_constraint and
// pg_indexes do; CheckName gives an unnamed CHECK constraint the name
// Postgres would (TABLE_COLUMN_check, TABLE_check).
//
// OIDs of user objects are derived from their names (OID), so that they
// are the same on every node and across restarts; the built-in types and
// the catalog relations have Postgres' own OIDs.
//
// The sizes of the database and its relations (pg_database_size,
// pg_total_relation_size …) are this node's file's pages (sizes.go).
//
// It knows no wire protocol, Raft or SQLite internals beyond SQL text.
package catalog
