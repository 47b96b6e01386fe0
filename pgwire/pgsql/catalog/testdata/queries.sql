SELECT c.oid > 16384, n.nspname, c.relname FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname OPERATOR(pg_catalog.~) '^(fruit)$' COLLATE pg_catalog.default AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 2, 3;
----
SELECT c.relname FROM pg_catalog.pg_class c WHERE c.relname = 'no_such_table'
----
SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','v','m','S','f','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;
----
SELECT a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)
   FROM pg_catalog.pg_attrdef d
   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
  a.attnotnull,
  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
  a.attidentity,
  a.attgenerated
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = 'fruit'::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;
----
SELECT c2.relname, i.indisprimary, i.indisunique, i.indisclustered, i.indisvalid, pg_catalog.pg_get_indexdef(i.indexrelid, 0, true),
  pg_catalog.pg_get_constraintdef(con.oid, true), contype, condeferrable, condeferred, i.indisreplident, c2.reltablespace
FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i
  LEFT JOIN pg_catalog.pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))
WHERE c.oid = 'fruit'::regclass AND c.oid = i.indrelid AND i.indexrelid = c2.oid
ORDER BY i.indisprimary DESC, c2.relname;
----
SELECT conname, pg_catalog.pg_get_constraintdef(r.oid, true) as condef, conrelid::pg_catalog.regclass AS ontable
FROM pg_catalog.pg_constraint r
WHERE r.confrelid = 'fruit'::regclass AND r.contype = 'f' ORDER BY 1;
----
SELECT pol.polname, pol.polpermissive,
  CASE WHEN pol.polroles = '{0}' THEN NULL ELSE pg_catalog.array_to_string(array(select rolname from pg_catalog.pg_roles where oid = any (pol.polroles) order by 1),',') END,
  pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
  pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid),
  CASE pol.polcmd
    WHEN 'r' THEN 'SELECT'
    WHEN 'a' THEN 'INSERT'
    WHEN 'w' THEN 'UPDATE'
    WHEN 'd' THEN 'DELETE'
    END AS cmd
FROM pg_catalog.pg_policy pol
WHERE pol.polrelid = '16385' ORDER BY 1;
----
SELECT oid, stxrelid::pg_catalog.regclass, stxnamespace::pg_catalog.regnamespace::pg_catalog.text AS nsp, stxname,
pg_catalog.pg_get_statisticsobjdef_columns(oid) AS columns,
  'd' = any(stxkind) AS ndist_enabled,
  'f' = any(stxkind) AS deps_enabled,
  'm' = any(stxkind) AS mcv_enabled,
stxstattarget
FROM pg_catalog.pg_statistic_ext
WHERE stxrelid = '16385'
ORDER BY nsp, stxname;
----
SELECT pubname
     , NULL
     , NULL
FROM pg_catalog.pg_publication p
     JOIN pg_catalog.pg_publication_namespace pn ON p.oid = pn.pnpubid
     JOIN pg_catalog.pg_class pc ON pc.relnamespace = pn.pnnspid
WHERE pc.oid ='16385' and pg_catalog.pg_relation_is_publishable('16385')
UNION
SELECT pubname
     , pg_get_expr(pr.prqual, c.oid)
     , (CASE WHEN pr.prattrs IS NOT NULL THEN
         (SELECT string_agg(attname, ', ')
           FROM pg_catalog.generate_series(0, pg_catalog.array_upper(pr.prattrs::pg_catalog.int2[], 1)) s,
                pg_catalog.pg_attribute
          WHERE attrelid = pr.prrelid AND attnum = prattrs[s])
        ELSE NULL END) FROM pg_catalog.pg_publication p
     JOIN pg_catalog.pg_publication_rel pr ON p.oid = pr.prpubid
     JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
WHERE pr.prrelid = '16385'
UNION
SELECT pubname
     , NULL
     , NULL
FROM pg_catalog.pg_publication p
WHERE p.puballtables AND pg_catalog.pg_relation_is_publishable('16385')
ORDER BY 1;
----
SELECT c.oid::pg_catalog.regclass, c.relkind, inhdetachpending, pg_catalog.pg_get_expr(c.relpartbound, c.oid)
FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
WHERE c.oid = i.inhrelid AND i.inhparent = '16385'
ORDER BY pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', c.oid::pg_catalog.regclass::pg_catalog.text;
----
SELECT d.datname as "Name",
       pg_catalog.pg_get_userbyid(d.datdba) as "Owner",
       pg_catalog.pg_encoding_to_char(d.encoding) as "Encoding",
       d.datcollate as "Collate",
       CASE d.datlocprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END AS "Locale Provider",
       pg_catalog.array_to_string(d.datacl, E'\n') AS "Access privileges"
FROM pg_catalog.pg_database d
ORDER BY 1;
----
SELECT n.nspname AS "Name", pg_catalog.pg_get_userbyid(n.nspowner) AS "Owner"
FROM pg_catalog.pg_namespace n
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
ORDER BY 1;
----
SELECT count(*) FROM information_schema.tables WHERE table_schema = CURRENT_SCHEMA() AND table_name = 'fruit' AND table_type = 'BASE TABLE'
----
SELECT column_name, data_type, is_nullable, column_default, character_maximum_length, numeric_precision, numeric_scale, udt_name, is_identity FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'fruit' ORDER BY ordinal_position
----
SELECT tc.constraint_name, tc.constraint_type, kcu.column_name, kcu.ordinal_position FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_name = tc.table_name ORDER BY 1, 4
----
SELECT constraint_name, unique_constraint_name, update_rule, delete_rule FROM information_schema.referential_constraints
----
SELECT table_name, column_name, constraint_name FROM information_schema.constraint_column_usage ORDER BY 3, 2
----
SELECT table_name, view_definition FROM information_schema.views
----
SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes ORDER BY 3
----
SELECT viewname, definition FROM pg_catalog.pg_views
----
SELECT 'pg_class'::regclass, 'int4'::regtype, 'fruit'::regclass = (SELECT oid FROM pg_class WHERE relname = 'fruit'), 'fruit'::regclass::oid::regclass
----
SELECT current_schema(), current_schemas(true), current_database(), current_user, version() LIKE 'PostgreSQL 15%'
----
SELECT pg_catalog.format_type(23, NULL), format_type(1043, 36), format_type(1700, 655366), format_type(1007, -1), pg_typeof(1), pg_typeof('x')
----
SELECT n.nspname = ANY(current_schemas(true)), n.nspname, t.typname FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid WHERE t.oid = 1043
----
SELECT setting FROM pg_catalog.pg_settings WHERE name='max_index_keys'
----
SELECT nspname FROM pg_namespace WHERE nspname = (pg_catalog.current_schemas(true))[1]
----
SELECT s FROM unnest(current_schemas(true)) AS s ORDER BY 1
----
SELECT rolname, rolsuper FROM pg_roles WHERE rolname !~ '^pg_'
----
SELECT        result.TABLE_CAT,        result.TABLE_SCHEM,        result.TABLE_NAME,        result.COLUMN_NAME,        result.KEY_SEQ,        result.PK_NAME FROM      (SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM,   ct.relname AS TABLE_NAME, a.attname AS COLUMN_NAME,   (information_schema._pg_expandarray(i.indkey)).n AS KEY_SEQ, ci.relname AS PK_NAME,   information_schema._pg_expandarray(i.indkey) AS KEYS, a.attnum AS A_ATTNUM FROM pg_catalog.pg_class ct   JOIN pg_catalog.pg_attribute a ON (ct.oid = a.attrelid)   JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)   JOIN pg_catalog.pg_index i ON ( a.attrelid = i.indrelid)   JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid) WHERE true  AND ct.relname = E'pair' AND i.indisprimary  ) result where  result.A_ATTNUM = (result.KEYS).x  ORDER BY result.table_name, result.pk_name, result.key_seq
----
SELECT NULL::text AS PKTABLE_CAT, pkn.nspname AS PKTABLE_SCHEM, pkc.relname AS PKTABLE_NAME, pka.attname AS PKCOLUMN_NAME, NULL::text AS FKTABLE_CAT, fkn.nspname AS FKTABLE_SCHEM, fkc.relname AS FKTABLE_NAME, fka.attname AS FKCOLUMN_NAME, pos.n AS KEY_SEQ, CASE con.confupdtype  WHEN 'c' THEN 0 WHEN 'n' THEN 2 WHEN 'd' THEN 4 WHEN 'r' THEN 1 WHEN 'p' THEN 1 WHEN 'a' THEN 3 ELSE NULL END AS UPDATE_RULE, CASE con.confdeltype  WHEN 'c' THEN 0 WHEN 'n' THEN 2 WHEN 'd' THEN 4 WHEN 'r' THEN 1 WHEN 'p' THEN 1 WHEN 'a' THEN 3 ELSE NULL END AS DELETE_RULE, con.conname AS FK_NAME, pkic.relname AS PK_NAME, CASE  WHEN con.condeferrable AND con.condeferred THEN 5 WHEN con.condeferrable THEN 6 ELSE 7 END AS DEFERRABILITY  FROM  pg_catalog.pg_namespace pkn, pg_catalog.pg_class pkc, pg_catalog.pg_attribute pka,  pg_catalog.pg_namespace fkn, pg_catalog.pg_class fkc, pg_catalog.pg_attribute fka,  pg_catalog.pg_constraint con,  pg_catalog.generate_series(1, 32) pos(n),  pg_catalog.pg_class pkic WHERE pkn.oid = pkc.relnamespace AND pkc.oid = pka.attrelid AND pka.attnum = con.confkey[pos.n] AND con.confrelid = pkc.oid  AND fkn.oid = fkc.relnamespace AND fkc.oid = fka.attrelid AND fka.attnum = con.conkey[pos.n] AND con.conrelid = fkc.oid  AND con.contype = 'f' AND (pkic.relkind = 'i' OR pkic.relkind = 'I') AND pkic.oid = con.conindid  AND fkn.nspname = E'public' AND fkc.relname = E'basket' ORDER BY pkn.nspname,pkc.relname, con.conname,pos.n
----
SELECT     tmp.TABLE_CAT,     tmp.TABLE_SCHEM,     tmp.TABLE_NAME,     tmp.NON_UNIQUE,     tmp.INDEX_QUALIFIER,     tmp.INDEX_NAME,     tmp.TYPE,     tmp.ORDINAL_POSITION,     trim(both '"' from pg_catalog.pg_get_indexdef(tmp.CI_OID, tmp.ORDINAL_POSITION, false)) AS COLUMN_NAME,   CASE tmp.AM_NAME     WHEN 'btree' THEN CASE tmp.I_INDOPTION[tmp.ORDINAL_POSITION - 1] & 1::smallint       WHEN 1 THEN 'D'       ELSE 'A'     END     ELSE NULL   END AS ASC_OR_DESC,     tmp.CARDINALITY,     tmp.PAGES,     tmp.FILTER_CONDITION FROM (SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM,   ct.relname AS TABLE_NAME, NOT i.indisunique AS NON_UNIQUE,   NULL AS INDEX_QUALIFIER, ci.relname AS INDEX_NAME,   CASE i.indisclustered     WHEN true THEN 1    ELSE CASE am.amname       WHEN 'hash' THEN 2      ELSE 3    END   END AS TYPE,   (information_schema._pg_expandarray(i.indkey)).n AS ORDINAL_POSITION,   ci.reltuples AS CARDINALITY,   ci.relpages AS PAGES,   pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS FILTER_CONDITION,   ci.oid AS CI_OID,   i.indoption AS I_INDOPTION,   am.amname AS AM_NAME FROM pg_catalog.pg_class ct   JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)   JOIN pg_catalog.pg_index i ON (ct.oid = i.indrelid)   JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid)   JOIN pg_catalog.pg_am am ON (ci.relam = am.oid) WHERE true  AND n.nspname = E'public' AND ct.relname = E'fruit') AS tmp ORDER BY NON_UNIQUE, TYPE, INDEX_NAME, ORDINAL_POSITION
----
SELECT i.relname AS name, ix.indisprimary AS primary, ix.indisunique AS unique, ix.indkey AS indkey, array_agg(a.attnum) as column_indexes, array_agg(a.attname) AS column_names, pg_get_indexdef(ix.indexrelid) AS definition FROM pg_class t, pg_class i, pg_index ix, pg_attribute a WHERE t.oid = ix.indrelid AND i.oid = ix.indexrelid AND a.attrelid = t.oid AND t.relkind = 'r' and t.relname = 'fruit' GROUP BY i.relname, ix.indexrelid, ix.indisprimary, ix.indisunique, ix.indkey ORDER BY i.relname;
----
SELECT array_agg(c.relname ORDER BY c.relname DESC), array_agg(DISTINCT c.relkind), array_agg(CASE WHEN c.relname = 'pair' THEN 'a "b", c' ELSE NULL END ORDER BY c.relname) FROM pg_catalog.pg_class c WHERE c.relname IN ('fruit', 'pair', 'basket');
----
SELECT array_agg(c.relname) FROM pg_catalog.pg_class c WHERE c.relname = 'no_such_table';
----
SELECT set_config(name, 'view, foreign-table', false) FROM pg_settings WHERE name = 'restrict_nonsystem_relation_kind'
----
SELECT set_config(name, 'x', false) FROM pg_settings WHERE name = 'DateStyle'
----
SELECT c.relname FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace WHERE c.relkind OPERATOR(pg_catalog.=) ANY (array['r', 'S', 'v', 'm', 'f', 'p']) AND c.relname OPERATOR(pg_catalog.~) '^(fruit)$' COLLATE pg_catalog.default AND pg_catalog.pg_table_is_visible(c.oid)
----
SELECT ARRAY[1, 2], ARRAY['a b', NULL], ARRAY[]::text[], 'r' = ANY (ARRAY['r', 'v']), 'x' = ANY (ARRAY['r', 'v']), 'r' <> ALL (ARRAY['r']) FROM pg_catalog.pg_namespace WHERE nspname = 'public'
----
SELECT c.tableoid = 'pg_class'::regclass, c.tableoid, n.tableoid, x.tableoid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_extension x ON x.extnamespace = n.oid WHERE c.relname = 'fruit'
----
SELECT n.tableoid, n.nspname, n.nspacl, acldefault('n', n.nspowner) AS acldefault FROM pg_namespace n WHERE n.nspname = 'public'
----
SELECT array_remove(array_remove(c.reloptions,'check_option=local'),'check_option=cascaded') AS reloptions, array_remove(ARRAY['a', 'b', 'a'], 'a'), array_remove(ARRAY[1, 2], 3) FROM pg_class c WHERE c.relname = 'fruit'
----
SELECT tableoid, oid, fdwname, fdwowner, fdwhandler::pg_catalog.regproc, fdwvalidator::pg_catalog.regproc, fdwacl, acldefault('F', fdwowner) AS acldefault, array_to_string(ARRAY(SELECT quote_ident(option_name) || ' ' || quote_literal(option_value) FROM pg_options_to_table(fdwoptions) ORDER BY option_name), E',
    ') AS fdwoptions FROM pg_foreign_data_wrapper
----
SELECT (SELECT count(*) FROM pg_opfamily) + (SELECT count(*) FROM pg_transform) + (SELECT count(*) FROM pg_ts_parser) + (SELECT count(*) FROM pg_ts_dict) + (SELECT count(*) FROM pg_ts_template) + (SELECT count(*) FROM pg_ts_config_map) + (SELECT count(*) FROM pg_shseclabel), quote_literal('it''s'), quote_literal(E'a\\b')
----
SELECT classid, objid, refclassid, refobjid, deptype FROM pg_depend WHERE deptype != 'p' AND deptype != 'e' UNION ALL SELECT 'pg_opfamily'::regclass AS classid, amopfamily AS objid, refclassid, refobjid, deptype FROM pg_depend d, pg_amop o WHERE deptype NOT IN ('p', 'e', 'i') AND classid = 'pg_amop'::regclass AND objid = o.oid AND NOT (refclassid = 'pg_opfamily'::regclass AND amopfamily = refobjid) UNION ALL SELECT 'pg_opfamily'::regclass AS classid, amprocfamily AS objid, refclassid, refobjid, deptype FROM pg_depend d, pg_amproc p WHERE deptype NOT IN ('p', 'e', 'i') AND classid = 'pg_amproc'::regclass AND objid = p.oid AND NOT (refclassid = 'pg_opfamily'::regclass AND amprocfamily = refobjid) ORDER BY 1,2
----
SELECT 'pg_amproc'::regclass::oid, 'pg_opfamily'::regclass::oid, 'pg_ts_config'::regclass::oid
----
SELECT label, provider, classoid, objoid, objsubid FROM pg_catalog.pg_seclabels ORDER BY classoid, objoid, objsubid
----
SELECT a.attname, a.attstorage, t.typstorage FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = 'fruit'::regclass AND a.attnum > 0 AND a.attstorage <> t.typstorage
----
SELECT c.relname, c.relkind, d.refobjid = 'fruit'::regclass, d.refobjsubid, d.deptype FROM pg_class c LEFT JOIN pg_depend d ON (c.relkind = 'S' AND d.classid = c.tableoid AND d.objid = c.oid AND d.objsubid = 0 AND d.refclassid = c.tableoid AND d.deptype IN ('a', 'i')) WHERE c.relkind = 'S'
----
SELECT format_type(seqtypid, NULL), seqstart, seqincrement, seqmax, seqmin, seqcache, seqcycle FROM pg_catalog.pg_sequence WHERE seqrelid = 'fruit_id_seq'::regclass
----
SELECT pg_get_serial_sequence('fruit', 'id'), pg_get_serial_sequence('public.fruit', 'name'), pg_get_serial_sequence('basket', 'fruit')
----
SELECT a.tableoid, a.oid, adnum, pg_catalog.pg_get_expr(adbin, adrelid) AS adsrc FROM pg_catalog.pg_attrdef a WHERE a.adrelid = 'fruit'::regclass
----
SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'loaded' UNION ALL SELECT conname, contype FROM pg_constraint WHERE conrelid = 'loaded'::regclass
----
SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'added'::regclass UNION ALL SELECT c.relname, i.indisprimary, '' FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'added'::regclass
----
SELECT sequence_catalog, sequence_schema, sequence_name, data_type, numeric_precision, start_value, minimum_value, maximum_value, increment, cycle_option FROM information_schema.sequences ORDER BY sequence_name
----
SELECT 'int4'::regtype::text, 'integer'::regtype, 'varchar'::regtype, 'int4'::regtype::oid, 0::regtype, 'fruit'::regclass::oid = oid, oid::regclass AS rel, 'pg_type'::regclass FROM pg_class WHERE relname = 'fruit'
----
SELECT attname, atttypid::regtype, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'fruit'::regclass AND attnum > 0 ORDER BY attnum
----
SELECT typname::regtype, t.oid::regtype AS shown FROM pg_type t WHERE typname IN ('int4', 'text', 'bool') ORDER BY t.oid
----
SELECT conname, conrelid::regclass, confrelid::regclass, indrelid::regclass, indexrelid::regclass::text FROM pg_constraint JOIN pg_index ON indexrelid = conindid WHERE conrelid = 'basket'::regclass ORDER BY 1
----
SELECT relname FROM pg_class WHERE oid::regclass = 'fruit' OR oid::regclass::text = 'pair' ORDER BY oid::regclass::text
----
SELECT pg_size_pretty(10239), pg_size_pretty(10240), pg_size_pretty(1000000), pg_size_pretty(10485760), pg_size_pretty(-10240), pg_size_pretty(1099511627776 * 1024 * 20), pg_size_pretty(NULL)
----
SELECT c.relname, pg_relation_size(c.oid) = 4096, pg_table_size(c.relname), pg_indexes_size(c.oid), pg_total_relation_size('fruit'::regclass) = pg_table_size(c.oid) + pg_indexes_size(c.oid), pg_relation_size(1) FROM pg_class c WHERE c.relname IN ('fruit', 'fruit_name', 'pair') ORDER BY 1
----
SELECT pg_database_size(current_database()) > 4096, pg_database_size(current_database()) % 4096 = 0
----
SELECT pg_relation_size('fruit_code_key'), pg_relation_size('fruit_pkey'), pg_indexes_size('fruit'), pg_relation_size('no_such')
----
SELECT t.typname, t.oid::regtype, format_type(t.oid, NULL), t.typname::regtype FROM pg_type t WHERE t.oid::regtype::text <> format_type(t.oid, NULL) OR t.typname::regtype::oid <> t.oid OR t.oid::regtype::text IS NULL
----
SELECT count(*) > 50 FROM pg_type t WHERE t.oid::regtype::text = format_type(t.oid, NULL) AND t.typname::regtype = t.oid
----
select indrelid::regclass as table_name, relname as constraint_name, idx.indisunique as unique, idx.indisprimary as primary,
  array(select pg_get_indexdef(idx.indexrelid, k + 1, true) from generate_subscripts(idx.indkey, 1) as k order by k) as index_def,
  c.condeferrable as deferrable, c.condeferred as initially_deferred
from pg_index idx join pg_class as i on i.oid = idx.indexrelid join pg_namespace as ns on i.relnamespace = ns.oid
left join pg_constraint as c on c.conname = i.relname
where indrelid in ('"public"."fruit"'::regclass, '"public"."basket"'::regclass) order by relname
----
select cls1.relname table_name, a.attname column_name, af.attname referenced_column_name, conname constraint_name,
  confupdtype update_rule, confdeltype delete_rule, array_position(con.conkey, a.attnum) as ord, condeferrable
from pg_attribute a
join pg_constraint con on con.conrelid = a.attrelid AND a.attnum = ANY (con.conkey)
join pg_attribute af on af.attnum = con.confkey[array_position(con.conkey, a.attnum)] AND af.attrelid = con.confrelid
join pg_class cls1 on cls1.oid = con.conrelid
where cls1.relname in ('basket') and confrelid > 0
order by cls1.relname, constraint_name, ord
