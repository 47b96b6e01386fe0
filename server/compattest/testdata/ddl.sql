-- DDL as pg_dump and migration tools write it, beyond the table itself.
CREATE EXTENSION IF NOT EXISTS plpgsql;
CREATE TABLE ddl_things (id INTEGER PRIMARY KEY, name TEXT NOT NULL, kind TEXT);
ALTER TABLE ddl_things OWNER TO postgres;
COMMENT ON TABLE ddl_things IS 'things, with a ''quote''';
COMMENT ON COLUMN ddl_things.name IS 'what it is called';
CREATE INDEX ddl_things_name_idx ON ddl_things USING btree (name);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ddl_things_kind_name ON ONLY ddl_things USING btree (kind, name);
ALTER INDEX ddl_things_name_idx OWNER TO postgres;
INSERT INTO ddl_things VALUES (1, 'a', 'x'), (2, 'b', 'x');
