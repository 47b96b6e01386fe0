-- ALTER TABLE as schema tools send it after CREATE TABLE: each rebuilds
-- the table, rows included.
CREATE TABLE alter_parents (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE alter_children (id INTEGER PRIMARY KEY, parent_id INTEGER, qty TEXT, label VARCHAR(10));
CREATE INDEX alter_children_label ON alter_children USING btree (label);
INSERT INTO alter_parents VALUES (1, 'p');
INSERT INTO alter_children VALUES (1, 1, '5', 'a'), (2, NULL, '7', 'b');
ALTER TABLE ONLY alter_children ADD CONSTRAINT alter_children_parent_fkey FOREIGN KEY (parent_id) REFERENCES alter_parents(id);
ALTER TABLE alter_children ADD CONSTRAINT qty_positive CHECK (qty > 0);
ALTER TABLE alter_children ALTER COLUMN qty TYPE integer USING qty * 10;
ALTER TABLE alter_children ALTER COLUMN label SET DEFAULT 'none', ALTER COLUMN label SET NOT NULL;
BEGIN;
ALTER TABLE alter_children ALTER COLUMN label DROP DEFAULT;
ALTER TABLE alter_children ALTER COLUMN label SET DEFAULT 'x';
COMMIT;
INSERT INTO alter_children (id, parent_id, qty) VALUES (3, 1, 1);
-- A serial key's numbers are not handed out again after a rebuild.
CREATE TABLE alter_serial (id SERIAL PRIMARY KEY, v TEXT);
INSERT INTO alter_serial (v) VALUES ('a'), ('b'), ('c');
DELETE FROM alter_serial WHERE id = 3;
ALTER TABLE alter_serial ALTER COLUMN v SET NOT NULL;
INSERT INTO alter_serial (v) VALUES ('d');
