-- A PostgreSQL dump (pg_dump's own text): a sequence two tables share as
-- their DEFAULT, a serial's sequence, the rows, setval, the keys.
SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET default_tablespace = '';
DROP TABLE IF EXISTS public.ss_a, public.ss_b, public.ss_c;
DROP SEQUENCE IF EXISTS public.ss_shared, public.ss_c_id_seq;
CREATE SEQUENCE public.ss_shared
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.ss_shared OWNER TO postgres;
CREATE TABLE public.ss_a (
    id bigint DEFAULT nextval('public.ss_shared'::regclass) NOT NULL,
    name text
);
ALTER TABLE public.ss_a OWNER TO postgres;
CREATE TABLE public.ss_b (
    id integer DEFAULT nextval('public.ss_shared'::regclass) NOT NULL,
    note text
);
CREATE TABLE public.ss_c (
    id integer NOT NULL,
    v text
);
CREATE SEQUENCE public.ss_c_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE public.ss_c_id_seq OWNED BY public.ss_c.id;
ALTER TABLE ONLY public.ss_c ALTER COLUMN id SET DEFAULT nextval('public.ss_c_id_seq'::regclass);
COPY public.ss_a (id, name) FROM stdin;
1	ann
3	bob
\.
COPY public.ss_b (id, note) FROM stdin;
2	first
\.
COPY public.ss_c (id, v) FROM stdin;
1	q
2	r
\.
SELECT pg_catalog.setval('public.ss_shared', 3, true);
SELECT pg_catalog.setval('public.ss_c_id_seq', 2, true);
ALTER TABLE ONLY public.ss_a
    ADD CONSTRAINT ss_a_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.ss_b
    ADD CONSTRAINT ss_b_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.ss_c
    ADD CONSTRAINT ss_c_pkey PRIMARY KEY (id);
