-- Sequences as pg_dump writes them and scripts use them.
DROP SEQUENCE IF EXISTS seq_orders_id_seq, seq_down;
CREATE SEQUENCE public.seq_orders_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.seq_orders_id_seq OWNED BY public.seq_orders.id;
SELECT nextval('seq_orders_id_seq');
SELECT nextval('public.seq_orders_id_seq'::regclass) AS second;
SELECT currval('seq_orders_id_seq');
SELECT pg_catalog.setval('public.seq_orders_id_seq', 41, true);
SELECT nextval('seq_orders_id_seq');
CREATE SEQUENCE seq_down INCREMENT BY -5 MAXVALUE 10 MINVALUE 0 START 10;
SELECT nextval('seq_down');
SELECT nextval('seq_down');
SELECT nextval('seq_down');
