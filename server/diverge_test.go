package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// TestNodeDependentSQLAgrees runs, on one cluster, the writes whose values
// could come from the node that applies them (its clock, its generators,
// its time zone, its connection's history, its file, its planner) through
// a follower and in transaction blocks on the leader, and checks that
// every node stores the same, hidden rowids included, also once a
// follower has applied the whole log again; and that what cannot be made
// the same is refused, the same on every node.
func TestNodeDependentSQLAgrees(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		// Snapshots only when asked, and a follower wiped then catches
		// up from one rather than from the log.
		cfg.SnapshotThreshold = 1 << 20
		cfg.TrailingLogs = 1
	}})
	ctx := context.Background()
	leader := c.Leader()
	f := c.Follower()
	fc := connect(t, c, f)
	lc := connect(t, c, leader)
	for _, sql := range []string{
		// f has no rowid column: the rowids are compared at the end.
		"CREATE TABLE f(k TEXT, v)",
		`CREATE TABLE d(id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT DEFAULT CURRENT_TIMESTAMP,
			r BIGINT DEFAULT (random()), b BLOB DEFAULT (randomblob(4)), j REAL DEFAULT (julianday('now')),
			l TEXT DEFAULT (datetime('now', 'localtime')))`,
		"CREATE TABLE audit(what, at, r)",
		`CREATE TRIGGER d_ai AFTER INSERT ON d BEGIN
			INSERT INTO audit VALUES (new.id, strftime('%Y-%m-%d %H:%M:%f', 'now'), random());
		END`,
		"CREATE TABLE rowids(t TEXT, id INTEGER, k)",
		// Rowids past the largest come from SQLite's generator, which also
		// names the columns of v the first time a connection uses it.
		"CREATE TABLE big(id INTEGER PRIMARY KEY, v)",
		"INSERT INTO big VALUES (9223372036854775807, 'max')",
		"CREATE VIEW v AS SELECT 1 a, 2 a, 3 a, 4 a, 5 a, 6 a",
		"INSERT INTO big(v) SELECT count(*) FROM v",
	} {
		mustExec(t, fc, sql)
	}

	// Functions that read the clock, a generator or the session; each
	// must store the same on every node.
	values := map[string]string{
		"random":            "random()",
		"randomblob":        "randomblob(16)",
		"gen_random_uuid":   "gen_random_uuid()",
		"now":               "now()",
		"current_timestamp": "CURRENT_TIMESTAMP",
		"current_date":      "CURRENT_DATE",
		"datetime_now":      "datetime('now')",
		"julianday_now":     "julianday('now')",
		"strftime_s":        "strftime('%s', 'now')",
		"unixepoch":         "unixepoch()",
		"unixepoch_subsec":  "unixepoch('now', 'subsec')",
		"date_localtime":    "date('now', 'localtime')",
		"datetime_utc":      "datetime('now', 'utc')",
		"to_char_now":       "to_char(now(), 'YYYY-MM-DD HH24:MI:SS.US')",
		"printf_f":          "printf('%.20f %e %g %!.30f', 0.1, 1e300, 1.0/3, 2.0/3)",
		"float_text":        "CAST(0.1 + 0.2 AS TEXT)",
		"lower":             "lower('ÄÖÜ ÀÉ ABC')",
		"upper":             "upper('straße äö abc')",
		"like_nonascii":     "'Ä' LIKE 'ä'",
		"zeroblob":          "zeroblob(3)",
		"json":              "json_object('a', 1.5, 'b', json_array(1, 2.25, 'x'))",
		"last_insert_rowid": "last_insert_rowid()",
		"current_user":      "current_user",
		"version":           "version()",
		"schema_version":    "(SELECT schema_version FROM pragma_schema_version)",
		"rootpage":          "(SELECT rootpage FROM sqlite_schema WHERE name = 'd')",
		"catalog_oid":       "(SELECT oid FROM pg_class WHERE relname = 'd')",
	}
	mustExec(t, fc, "SET TimeZone = 'Asia/Tokyo'")
	for k, expr := range values {
		if _, err := fc.Exec(ctx, "INSERT INTO f VALUES ('"+k+"', "+expr+")"); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	for range 3 {
		mustExec(t, fc, "INSERT INTO d DEFAULT VALUES")
	}
	mustExec(t, fc, "INSERT INTO d(id) VALUES (NULL), (NULL)")
	// Rowids after deletes: AUTOINCREMENT never reuses, the hidden rowid
	// takes the largest plus one.
	mustExec(t, fc, "DELETE FROM d WHERE id > 3")
	mustExec(t, fc, "DELETE FROM f WHERE k IN ('zeroblob', 'json')")
	mustExec(t, fc, "INSERT INTO d DEFAULT VALUES")
	mustExec(t, fc, "INSERT INTO f VALUES ('after delete', last_insert_rowid())")

	// A transaction block on the leader runs speculatively; what its
	// client saw is what every node stores.
	tx, err := lc.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var id, r int64
	if err := tx.QueryRow(ctx, "INSERT INTO d DEFAULT VALUES RETURNING id, r").Scan(&id, &r); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SAVEPOINT s"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO d DEFAULT VALUES"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT s"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SAVEPOINT s2"); err != nil {
		t.Fatal(err)
	}
	// It inserts a row, then fails: it is no part of the entry.
	if _, err := tx.Exec(ctx, "INSERT INTO d(id) VALUES (1000), ($1)", id); err == nil {
		t.Fatal("a duplicate id was inserted")
	}
	if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT s2"); err != nil {
		t.Fatal(err)
	}
	var lastID string
	if err := tx.QueryRow(ctx, "INSERT INTO f VALUES ('tx rowid', last_insert_rowid()) RETURNING v").Scan(&lastID); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO f VALUES ('tx', random())"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	var stored string
	if err := fc.QueryRow(ctx, "SELECT v FROM f WHERE k = 'tx rowid'").Scan(&stored); err != nil || stored != lastID {
		t.Errorf("the transaction saw last_insert_rowid() %s, the database holds %s (%v)", lastID, stored, err)
	}
	if got := count(t, fc, "SELECT r FROM d WHERE id = $1", id); got != r {
		t.Errorf("the transaction saw r = %d for row %d, the database holds %d", r, id, got)
	}
	// A transaction block its client rolls back leaves nothing behind.
	tx, err = lc.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO d DEFAULT VALUES"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	mustExec(t, fc, "INSERT INTO d DEFAULT VALUES")

	// Sequences: numbers given out by a rolled back block come again.
	mustExec(t, fc, "CREATE SEQUENCE seq START 10")
	tx, err = lc.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := tx.QueryRow(ctx, "SELECT nextval('seq')").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(t, fc, "SELECT nextval('seq')"); got != n {
		t.Errorf("nextval after a rolled back one: %d, want %d", got, n)
	}
	mustExec(t, fc, "SELECT setval('seq', 100)")
	mustExec(t, fc, "SELECT nextval('seq')")

	plannerStatistics(t, fc, lc)

	// What cannot be the same on every node is refused, before anything
	// is proposed, through a follower and on the leader.
	for _, sql := range []string{
		"INSERT INTO f VALUES ('changes', changes())",
		"INSERT INTO f VALUES ('total_changes', total_changes())",
		"INSERT INTO f VALUES ('sqlite_version', sqlite_version())",
		"INSERT INTO f VALUES ('sqlite_source_id', sqlite_source_id())",
		"INSERT INTO f SELECT 'offset', sqlite_offset(k) FROM f",
		"INSERT INTO f SELECT 'data_version', data_version FROM pragma_data_version",
		"INSERT INTO f SELECT 'page_count', page_count FROM pragma_page_count",
		"INSERT INTO f SELECT 'freelist_count', freelist_count FROM pragma_freelist_count",
		"INSERT INTO f SELECT 'database_list', file FROM pragma_database_list",
		"INSERT INTO f SELECT 'compile_options', compile_options FROM pragma_compile_options",
		"INSERT INTO f SELECT 'dbstat', pageno FROM dbstat",
		"INSERT INTO f SELECT 'dbpage', pgno FROM sqlite_dbpage",
		"PRAGMA optimize",
		"VACUUM INTO '/tmp/diverge-copy.db'",
	} {
		for _, conn := range []*pgx.Conn{fc, lc} {
			_, err := conn.Exec(ctx, sql)
			if err == nil || !strings.Contains(err.Error(), "not allowed") {
				t.Errorf("%s: %v, want it refused", sql, err)
			}
		}
	}

	// The hidden rowids of every node, as data every node compares.
	for _, sql := range []string{
		"INSERT INTO rowids SELECT 'f', rowid, k FROM f",
		"INSERT INTO rowids SELECT 'audit', rowid, what FROM audit",
		"INSERT INTO rowids SELECT 'sqlite_sequence', rowid, name FROM sqlite_sequence",
	} {
		mustExec(t, fc, sql)
	}
	c.EnsureSame()

	// A follower that applies the whole log again stores the same.
	other := 3 - leader - f
	c.Stop(other)
	c.Restart(other)
	c.WaitMembers(c.Size())
	c.EnsureSame()

	// So does one that installs a snapshot, whose connections load the
	// schema and the statistics afresh, and then applies what follows: the
	// others named v's columns here, since the last schema change.
	mustExec(t, fc, "INSERT INTO big(v) SELECT count(*) FROM v")
	if _, err := c.Node(leader).Snapshot(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	c.Wipe(other)
	c.WaitMembers(c.Size())
	c.EnsureSame()
	mustExec(t, fc, "INSERT INTO big(v) SELECT count(*) FROM v")
	mustExec(t, fc, "INSERT INTO picked SELECT 'after a snapshot', group_concat(id) FROM st WHERE a BETWEEN 8 AND 9 AND b = 4")
	c.EnsureSame()
}

// plannerStatistics checks that the rows an INSERT … SELECT picks by the
// plan agree after ANALYZE, after a transaction block that ran ANALYZE
// rolled back on the leader, and after statistics written by hand.
func plannerStatistics(t *testing.T, fc, lc *pgx.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, sql := range []string{
		"CREATE TABLE st(id INTEGER PRIMARY KEY, a INT, b INT)",
		"CREATE INDEX st_a ON st(a)", "CREATE INDEX st_b ON st(b)",
		"CREATE TABLE picked(why TEXT, ids TEXT)",
		// b is unique: st_b looks the better index.
		"INSERT INTO st(a, b) WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v+1 FROM s WHERE v < 1000) SELECT v % 100, v FROM s",
		"ANALYZE",
		// Now b has three values: statistics made from here prefer st_a,
		// whose order (a, then id) is not st_b's (id).
		"UPDATE st SET b = id % 3 + 4",
	} {
		mustExec(t, fc, sql)
	}
	const pick = "INSERT INTO picked SELECT $1, group_concat(id) FROM st WHERE a BETWEEN 8 AND 9 AND b = 4"
	tx, err := lc.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	mustExec(t, fc, pick, "after a rolled back ANALYZE")
	mustExec(t, fc, "UPDATE sqlite_stat1 SET stat = '10 10' WHERE idx = 'st_a'")
	mustExec(t, fc, "UPDATE sqlite_stat1 SET stat = '100000 1' WHERE idx = 'st_b'")
	mustExec(t, fc, pick, "after statistics written by hand")
	mustExec(t, fc, "ANALYZE")
	mustExec(t, fc, pick, "after ANALYZE")
}
