-- What pg_dump writes for a serial column, run in one transaction (psql -1).
CREATE TABLE sd_items (id integer NOT NULL, name text NOT NULL);
CREATE SEQUENCE public.sd_items_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER TABLE public.sd_items_id_seq OWNER TO test;
ALTER SEQUENCE public.sd_items_id_seq OWNED BY public.sd_items.id;
ALTER TABLE ONLY public.sd_items ALTER COLUMN id SET DEFAULT nextval('public.sd_items_id_seq'::regclass);
SELECT last_value, is_called FROM public.sd_items_id_seq;
COPY public.sd_items (id, name) FROM stdin;
1	a
2	b
\.
SELECT pg_catalog.setval('public.sd_items_id_seq', 7, true);
ALTER TABLE ONLY public.sd_items ADD CONSTRAINT sd_items_pkey PRIMARY KEY (id);
INSERT INTO sd_items (name) VALUES ('c') RETURNING id;
SELECT last_value, is_called FROM public.sd_items_id_seq;
SELECT nextval('public.sd_items_id_seq');
SELECT currval('sd_items_id_seq');
INSERT INTO sd_items (name) VALUES ('d') RETURNING id;
SELECT pg_get_serial_sequence('sd_items', 'id');
-- A serial that is not the key: numbered from the column's largest value.
CREATE TABLE sd_tags (code text PRIMARY KEY, n integer NOT NULL);
CREATE SEQUENCE sd_tags_n_seq;
ALTER TABLE sd_tags ALTER COLUMN n SET DEFAULT nextval('sd_tags_n_seq'::regclass);
INSERT INTO sd_tags (code) VALUES ('x'), ('y');
SELECT setval('sd_tags_n_seq', 2);
SELECT last_value, is_called FROM sd_tags_n_seq;
-- An identity column, as pg_dump writes Postgres' own.
CREATE TABLE public.sd_ident (id integer NOT NULL, v text);
ALTER TABLE public.sd_ident ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.sd_ident_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
INSERT INTO sd_ident (id, v) VALUES (1, 'a'), (2, 'b');
SELECT pg_catalog.setval('public.sd_ident_id_seq', 2, true);
INSERT INTO sd_ident (v) VALUES ('c') RETURNING id;
