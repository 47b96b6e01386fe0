package fsm

import "testing"

// TestRowidsPastTheLargestFollowTheCommandOnly checks that the rowids a
// statement picks past the largest do not depend on whether compiling it
// drew from SQLite's generator: it does for a view with many columns of one
// name, the first time the connection uses it since the schema was loaded,
// which a node restored from a snapshot (or restarted) does again and the
// others do not.
func TestRowidsPastTheLargestFollowTheCommandOnly(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE big(id INTEGER PRIMARY KEY, v)", "INSERT INTO big VALUES (9223372036854775807, 'max')",
		"CREATE VIEW v AS SELECT 1 a, 2 a, 3 a, 4 a, 5 a, 6 a")
	a.mustExec(t, "INSERT INTO big(v) SELECT count(*) FROM v")
	g := restoreInto(t, f)
	b := &applier{f: g, index: a.index, seq: a.seq}
	for _, sql := range []string{"INSERT INTO big(v) SELECT count(*) FROM v", "INSERT INTO big(v) SELECT a FROM v"} {
		a.mustExec(t, sql)
		b.mustExec(t, sql)
	}
	if d1, d2 := dump(t, f), dump(t, g); d1 != d2 {
		t.Fatalf("the node that applied and the node restored from its snapshot differ:\n%s\n---\n%s", d1, d2)
	}
}
