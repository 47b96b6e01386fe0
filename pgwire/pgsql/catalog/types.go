package catalog

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// builtinType is a row of pg_type: one of Postgres' built-in types, with
// its real OID, which clients (pgjdbc, pgx) know by heart.
type builtinType struct {
	oid      int64
	name     string
	len      int64
	category string // typcategory
	array    int64  // the OID of its array type
	sqlName  string // as format_type and information_schema name it
}

var builtinTypes = []builtinType{
	{16, "bool", 1, "B", 1000, "boolean"},
	{17, "bytea", -1, "U", 1001, "bytea"},
	{18, "char", 1, "Z", 1002, `"char"`},
	{19, "name", 64, "S", 1003, "name"},
	{20, "int8", 8, "N", 1016, "bigint"},
	{21, "int2", 2, "N", 1005, "smallint"},
	{22, "int2vector", -1, "A", 1006, "int2vector"},
	{23, "int4", 4, "N", 1007, "integer"},
	{24, "regproc", 4, "N", 1008, "regproc"},
	{25, "text", -1, "S", 1009, "text"},
	{26, "oid", 4, "N", 1028, "oid"},
	{27, "tid", 6, "U", 1010, "tid"},
	{28, "xid", 4, "U", 1011, "xid"},
	{29, "cid", 4, "U", 1012, "cid"},
	{30, "oidvector", -1, "A", 1013, "oidvector"},
	{114, "json", -1, "U", 199, "json"},
	{142, "xml", -1, "U", 143, "xml"},
	{650, "cidr", -1, "I", 651, "cidr"},
	{700, "float4", 4, "N", 1021, "real"},
	{701, "float8", 8, "N", 1022, "double precision"},
	{705, "unknown", -2, "X", 0, "unknown"},
	{790, "money", 8, "N", 791, "money"},
	{829, "macaddr", 6, "U", 1040, "macaddr"},
	{869, "inet", -1, "I", 1041, "inet"},
	{1033, "aclitem", 12, "U", 1034, "aclitem"},
	{1042, "bpchar", -1, "S", 1014, "character"},
	{1043, "varchar", -1, "S", 1015, "character varying"},
	{1082, "date", 4, "D", 1182, "date"},
	{1083, "time", 8, "D", 1183, "time without time zone"},
	{1114, "timestamp", 8, "D", 1115, "timestamp without time zone"},
	{1184, "timestamptz", 8, "D", 1185, "timestamp with time zone"},
	{1186, "interval", 16, "T", 1187, "interval"},
	{1266, "timetz", 12, "D", 1270, "time with time zone"},
	{1560, "bit", -1, "V", 1561, "bit"},
	{1562, "varbit", -1, "V", 1563, "bit varying"},
	{1700, "numeric", -1, "N", 1231, "numeric"},
	{2205, "regclass", 4, "N", 2210, "regclass"},
	{2206, "regtype", 4, "N", 2211, "regtype"},
	{2249, "record", -1, "P", 2287, "record"},
	{2278, "void", 4, "P", 0, "void"},
	{2950, "uuid", 16, "U", 2951, "uuid"},
	{3802, "jsonb", -1, "U", 3807, "jsonb"},
	{4089, "regnamespace", 4, "N", 4090, "regnamespace"},
}

var (
	typeByOID  = map[int64]*builtinType{}
	typeByName = map[string]int64{}
	// arrayElem maps an array type's OID to its element's.
	arrayElem = map[int64]int64{}
)

func init() {
	for i := range builtinTypes {
		t := &builtinTypes[i]
		typeByOID[t.oid] = t
		typeByName[t.name] = t.oid
		typeByName[t.sqlName] = t.oid
		if t.array != 0 {
			arrayElem[t.array] = t.oid
		}
	}
	for alias, name := range map[string]string{"int": "int4", "integer": "int4", "bigint": "int8", "smallint": "int2",
		"boolean": "bool", "real": "float4", "double precision": "float8", "float": "float8",
		"character varying": "varchar", "character": "bpchar", "decimal": "numeric", `"char"`: "char",
		"timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz",
		"time without time zone": "time", "time with time zone": "timetz", "serial": "int4", "bigserial": "int8",
		"smallserial": "int2", "serial4": "int4", "serial8": "int8", "serial2": "int2"} {
		typeByName[alias] = typeByName[name]
	}
}

// declType maps a column's declared SQLite type to the Postgres type a
// client sees, as pgwire's RowDescription gives it, and its typmod.
func declType(decl string) (oid, typmod int64) {
	d := strings.ToUpper(strings.Join(strings.Fields(decl), " "))
	args := ""
	if i := strings.IndexByte(d, '('); i >= 0 {
		args = strings.Trim(d[i:], "() ")
		d = strings.TrimSpace(d[:i])
	}
	d = strings.TrimPrefix(d, "PG_CATALOG.")
	typmod = -1
	switch d {
	case "INT", "INTEGER", "INT4", "MEDIUMINT", "SERIAL", "SERIAL4":
		return 23, -1
	case "BIGINT", "INT8", "UNSIGNED BIG INT", "BIGSERIAL", "SERIAL8":
		return 20, -1
	case "SMALLINT", "INT2", "TINYINT", "SMALLSERIAL", "SERIAL2":
		return 21, -1
	case "REAL", "FLOAT4", "FLOAT", "DOUBLE", "DOUBLE PRECISION", "FLOAT8":
		return 701, -1
	case "BOOL", "BOOLEAN":
		return 16, -1
	case "VARCHAR", "CHARACTER VARYING", "NVARCHAR", "VARYING CHARACTER", "NATIVE CHARACTER":
		oid = 1043
	case "CHAR", "CHARACTER", "BPCHAR", "NCHAR":
		oid = 1042
	case "BLOB", "BYTEA":
		return 17, -1
	case "NUMERIC", "DECIMAL":
		oid = 1700
	case "DATE":
		return 1082, -1
	case "TIMESTAMP", "DATETIME", "TIMESTAMP WITHOUT TIME ZONE":
		oid = 1114
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
		oid = 1184
	case "TIME", "TIME WITHOUT TIME ZONE":
		oid = 1083
	case "UUID":
		return 2950, -1
	case "JSON":
		return 114, -1
	case "JSONB":
		return 3802, -1
	case "NAME":
		return 19, -1
	case "OID":
		return 26, -1
	default:
		return 25, -1
	}
	if args == "" {
		return oid, -1
	}
	p, s, _ := strings.Cut(args, ",")
	pn, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
	if err != nil || pn < 0 {
		return oid, -1
	}
	switch oid {
	case 1700:
		sn, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
		return oid, (pn<<16 | sn&0xffff) + 4
	case 1114, 1184, 1083:
		// A time's modifier is its precision, 0 to 6, as is.
		if pn > 6 {
			pn = 6
		}
		return oid, pn
	}
	return oid, pn + 4
}

// formatType is format_type(oid, typmod).
func formatType(oid int64, typmod int64, hasMod bool) string {
	if elem, ok := arrayElem[oid]; ok {
		return formatType(elem, typmod, hasMod) + "[]"
	}
	t, ok := typeByOID[oid]
	if !ok {
		return "???"
	}
	if hasMod && typmod >= 0 {
		switch oid {
		case 1114:
			return fmt.Sprintf("timestamp(%d) without time zone", typmod)
		case 1184:
			return fmt.Sprintf("timestamp(%d) with time zone", typmod)
		case 1083:
			return fmt.Sprintf("time(%d) without time zone", typmod)
		}
	}
	if !hasMod || typmod < 4 {
		if oid == 1042 && hasMod {
			return "character(1)"
		}
		return t.sqlName
	}
	switch oid {
	case 1043, 1042:
		return fmt.Sprintf("%s(%d)", t.sqlName, typmod-4)
	case 1700:
		m := typmod - 4
		return fmt.Sprintf("numeric(%d,%d)", m>>16, m&0xffff)
	}
	return t.sqlName
}

// catalogOIDs are the real OIDs of the catalog relations that tools
// compare with ('pg_class'::regclass).
var catalogOIDs = map[string]int64{
	"pg_type": 1247, "pg_attribute": 1249, "pg_proc": 1255, "pg_class": 1259, "pg_database": 1262,
	"pg_authid": 1260, "pg_am": 2601, "pg_attrdef": 2604, "pg_constraint": 2606, "pg_inherits": 2611,
	"pg_index": 2610, "pg_description": 2609, "pg_namespace": 2615, "pg_depend": 2608, "pg_rewrite": 2618,
	"pg_trigger": 2620, "pg_collation": 3456, "pg_extension": 3079, "pg_enum": 3501, "pg_range": 3541,
	"pg_sequence": 2224, "pg_policy": 3256, "pg_statistic_ext": 3381, "pg_publication": 6104,
	"pg_publication_rel": 6106, "pg_publication_namespace": 6237, "pg_roles": 12001, "pg_user": 12002,
	"pg_settings": 12003, "pg_tables": 12004, "pg_indexes": 12005, "pg_views": 12006,
	"pg_stat_activity": 12007, "pg_partitioned_table": 3350,
	"pg_opclass": 2616, "pg_opfamily": 2753, "pg_amop": 2602, "pg_amproc": 2603, "pg_operator": 2617,
	"pg_cast": 2605, "pg_language": 2612, "pg_aggregate": 2600, "pg_conversion": 2607, "pg_transform": 3576,
	"pg_ts_parser": 3601, "pg_ts_dict": 3600, "pg_ts_template": 3764, "pg_ts_config": 3602, "pg_ts_config_map": 3603,
	"pg_foreign_data_wrapper": 2328, "pg_foreign_server": 1417, "pg_foreign_table": 3118, "pg_default_acl": 826,
	"pg_event_trigger": 3466, "pg_init_privs": 3394, "pg_seclabel": 3596, "pg_shseclabel": 3592,
	"pg_subscription": 6100, "pg_largeobject_metadata": 2995, "pg_shdescription": 2396, "pg_auth_members": 1261,
	"pg_tablespace": 1213,
}

// The namespaces there are, with Postgres' OIDs for the first two.
const (
	nsPgCatalog   = 11
	nsPublic      = 2200
	nsInfoSchema  = 13000
	roleOID       = 10
	databaseOID   = 5
	firstUserOID  = 16384
	heapAM, btree = 2, 403
)

// OID is the object identifier of a user object: a hash of its kind and
// its name, so that every node, and every restart, gives the same one
// (rootpages and rowids change with VACUUM and restore). Names are
// compared as SQLite compares them, ASCII case-insensitively. Kinds: "r"
// relation (table, view, index), "c" constraint (name TABLE.CONSTRAINT).
func OID(kind, name string) int64 {
	h := fnv.New32a()
	h.Write([]byte(kind))
	h.Write([]byte{':'})
	h.Write([]byte(asciiLower(name)))
	return firstUserOID + int64(h.Sum32())%(1<<31-firstUserOID)
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// relationOID is the OID a relation name denotes ('t'::regclass): a
// catalog relation's own, else a user relation's.
func relationOID(name string) int64 {
	name = strings.TrimSpace(name)
	if isDigits(name) {
		n, _ := strconv.ParseInt(name, 10, 64)
		return n
	}
	// schema.name, either part quoted.
	toks := lex(name)
	var parts []string
	for _, t := range toks {
		if t.kind == tIdent || t.kind == tQIdent {
			parts = append(parts, unquote(t))
		}
	}
	if len(parts) == 0 {
		return 0
	}
	rel := parts[len(parts)-1]
	if oid, ok := catalogOIDs[rel]; ok && (len(parts) == 1 || parts[0] == "pg_catalog") {
		return oid
	}
	if len(parts) == 2 && parts[0] == "information_schema" {
		return OID("r", "information_schema."+rel)
	}
	return OID("r", rel)
}

// typeOID is the OID a type name denotes ('int4'::regtype).
func typeOID(name string) int64 {
	n := strings.ToLower(strings.Join(strings.Fields(name), " "))
	n = strings.ReplaceAll(n, `"`, "") // "pg_catalog"."int4", as TypeORM quotes it
	n = strings.TrimPrefix(n, "pg_catalog.")
	if strings.HasSuffix(n, "[]") {
		if t, ok := typeByOID[typeByName[strings.TrimSuffix(n, "[]")]]; ok {
			return t.array
		}
		return 0
	}
	if i := strings.IndexByte(n, '('); i >= 0 {
		n = strings.TrimSpace(n[:i])
	}
	if oid, ok := typeByName[n]; ok {
		return oid
	}
	if elem, ok := strings.CutPrefix(n, "_"); ok {
		// An array type by its pg_type name (_int4).
		if t, ok := typeByOID[typeByName[elem]]; ok {
			return t.array
		}
	}
	return 0
}

// boolColumns are the catalog columns of type boolean.
var boolColumns = map[string]bool{}

func init() {
	for _, n := range strings.Fields(`relhasindex relisshared relhasrules relhastriggers relhassubclass
		relrowsecurity relforcerowsecurity relispopulated relispartition attnotnull atthasdef atthasmissing
		attisdropped attislocal attbyval indisunique indnullsnotdistinct indisprimary indisexclusion indimmediate
		indisclustered indisvalid indcheckxmin indisready indislive indisreplident condeferrable condeferred
		convalidated conislocal connoinherit typbyval typispreferred typisdefined typnotnull rolsuper rolinherit
		rolcreaterole rolcreatedb rolcanlogin rolreplication rolbypassrls usecreatedb usesuper userepl
		usebypassrls datistemplate datallowconn hasindexes hasrules hastriggers rowsecurity
		collisdeterministic seqcycle inhdetachpending polpermissive puballtables pending_restart relhasoids
		non_unique is_not_null`) {
		boolColumns[n] = true
	}
}

// typedColumns are the catalog columns of the integer types.
var typedColumns = map[string]string{}

func init() {
	for typ, names := range map[string]string{
		"OID": `oid relnamespace reltype reloftype relowner relam relfilenode reltablespace reltoastrelid attrelid
			atttypid attcollation typnamespace typowner typrelid typelem typarray typbasetype typcollation
			indexrelid indrelid conrelid contypid conindid conparentid confrelid connamespace adrelid nspowner
			datdba dattablespace objoid classoid inhrelid inhparent collnamespace collowner spcowner usesysid
			pronamespace proowner prorettype enumtypid rngtypid rngsubtype seqrelid seqtypid stxrelid polrelid
			tgrelid datid extnamespace extowner partrelid prrelid prpubid tableoid
			setdatabase setrole`,
		"SMALLINT": `attnum adnum attlen typlen indnatts indnkeyatts relnatts relchecks attinhcount coninhcount
			attndims`,
		"INTEGER": `atttypmod attstattarget typtypmod relpages encoding datconnlimit rolconnlimit attcacheoff
			inhseqno typndims objsubid relallvisible ordinal_position character_maximum_length
			character_octet_length numeric_precision numeric_precision_radix numeric_scale datetime_precision
			position_in_unique_constraint`,
		"BIGINT": `seqstart seqincrement seqmax seqmin seqcache`,
		"REAL":   `reltuples enumsortorder`,
	} {
		for _, n := range strings.Fields(names) {
			typedColumns[n] = typ
		}
	}
}

// ColumnType is the declared type of a result column named name (lower
// case) when it is a catalog column of a type SQLite does not keep
// (booleans, integers, the arrays of keys), else "".
func ColumnType(name string) string {
	switch {
	case boolColumns[name]:
		return "BOOLEAN"
	case name == "conkey" || name == "confkey":
		return "_INT2"
	case name == "indkey" || name == "indoption":
		return "INT2VECTOR"
	case name == "polroles":
		return "_OID"
	}
	return typedColumns[name]
}
