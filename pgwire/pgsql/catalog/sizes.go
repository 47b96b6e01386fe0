package catalog

import (
	"fmt"
	"strconv"
)

// The sizes of the database and its relations, as psql's \l+ and \dt+
// and GUIs show them. They are this node's file as it is: the database's
// pages (page_count × page_size), and a relation's the pages of its
// B-trees as SQLite's dbstat table counts them (a table's own for
// pg_relation_size and pg_table_size, its indexes' for pg_indexes_size,
// both for pg_total_relation_size). dbstat reads every page of the trees
// it measures, so a size costs a read of the relation; the state machine
// lets reads use it and refuses it in a write, since the pages differ
// from node to node.

// databaseSize is pg_database_size's SQLite text, whatever database it
// is asked for: there is one.
const databaseSize = "(SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size())"

// relationSize is the SQLite text of fn (pg_relation_size and its
// siblings) of the relation arg, an OID or a name: NULL when no relation
// has it, as Postgres answers for an OID.
func (r *rewriter) relationSize(fn, arg string) string {
	// An index's tree is under SQLite's name for it (sqlite_autoindex_t_1
	// for the users_email_key of a UNIQUE column).
	own := "d.name IN (n._rn_name, (SELECT x.sqlite_name FROM _pg_idx x WHERE x.oid = n.oid))"
	indexes := "d.name IN (SELECT s.name FROM main.sqlite_schema s WHERE s.type = 'index' AND s.tbl_name = n._rn_name)"
	var which string
	switch fn {
	case "pg_indexes_size":
		which = indexes
	case "pg_total_relation_size":
		which = "(" + own + " OR " + indexes + ")"
	default:
		which = own
	}
	return fmt.Sprintf("(SELECT CASE WHEN n._rn_name IS NULL THEN NULL ELSE "+
		"(SELECT coalesce(sum(d.pgsize), 0) FROM dbstat('main', 1) d WHERE %s) END "+
		"FROM (SELECT o.oid, (SELECT _rn_name FROM %s WHERE _rn_oid = o.oid) AS _rn_name FROM (SELECT _pg_regclass(%s) AS oid) o) n)",
		which, r.helper("_pg_relnames"), arg)
}

// sizePretty is pg_size_pretty of n bytes, as Postgres 15 words it:
// bytes below 10 kB, then kB, MB, GB, TB and PB, each up to 20 × 1024 − 1
// of it, rounded half away from zero.
func sizePretty(n int64) string {
	units := []struct {
		name  string
		limit int64
		round bool
		bits  uint
	}{{"bytes", 10 * 1024, false, 0}, {"kB", 20*1024 - 1, true, 10}, {"MB", 20*1024 - 1, true, 20},
		{"GB", 20*1024 - 1, true, 30}, {"TB", 20*1024 - 1, true, 40}, {"PB", 20*1024 - 1, true, 50}}
	abs := func(x int64) int64 {
		if x < 0 {
			return -x
		}
		return x
	}
	for i, u := range units {
		if i == len(units)-1 || abs(n) < u.limit {
			if u.round {
				if n < 0 {
					n = (n - 1) / 2
				} else {
					n = (n + 1) / 2
				}
			}
			return strconv.FormatInt(n, 10) + " " + u.name
		}
		next := units[i+1]
		bits := next.bits - u.bits
		if next.round {
			bits--
		}
		if u.round {
			bits++
		}
		n /= int64(1) << bits
	}
	return ""
}
