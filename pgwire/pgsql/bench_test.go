package pgsql

import (
	"strconv"
	"testing"
	"time"
)

// The statements applications send most: pgbench's tpcb-like script, and
// an ORM's parameterised INSERT, SELECT and UPDATE.
var benchStatements = []struct{ name, sql string }{
	{"pgbench_update", "UPDATE pgbench_accounts SET abalance = abalance + -213 WHERE aid = 89445"},
	{"pgbench_select", "SELECT abalance FROM pgbench_accounts WHERE aid = 89445"},
	{"pgbench_insert", "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (9, 1, 89445, -213, CURRENT_TIMESTAMP)"},
	{"orm_insert", `INSERT INTO "users" ("name","email","created_at","updated_at") VALUES ($1,$2,$3,$4) RETURNING "id"`},
	{"orm_select", `SELECT "users"."id", "users"."name", "users"."email" FROM "users" WHERE "users"."id" = $1 AND "users"."deleted_at" IS NULL ORDER BY "users"."id" LIMIT 1`},
	{"orm_update", `UPDATE "users" SET "name"=$1,"updated_at"=$2 WHERE "id" = $3`},
	{"casts", "SELECT '2020-01-01'::date, $1::int, now(), b ILIKE 'x%' FROM t WHERE a = $2::bigint FOR UPDATE"},
	{"aggregates", "SELECT b, max(ts), sum(a), date_trunc('day', now()), 1.5 FROM t WHERE a > $1 GROUP BY b"},
	// String literals stored in and compared with columns.
	{"literal_insert", "INSERT INTO t (id, b, ts, note) VALUES (7, 'yes', '2024-01-05 10:00:00', 'a note')"},
	{"literal_select", "SELECT id, note FROM t WHERE b = 'yes' AND d IN ('2024-01-01', '2024-01-02')"},
}

// BenchmarkParse is a statement the front end has not seen (simple-protocol
// clients inline their literals, so their text rarely repeats).
func BenchmarkParse(b *testing.B) {
	for _, s := range benchStatements {
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			start := processCPU()
			for b.Loop() {
				Parse(s.sql)
			}
			reportCPU(b, start)
		})
	}
}

// BenchmarkCached is a statement found in the cache (prepared
// statements, and any text sent again).
func BenchmarkCached(b *testing.B) {
	c := NewCache(4096, 64<<10)
	for _, s := range benchStatements {
		b.Run(s.name, func(b *testing.B) {
			c.Parse(s.sql)
			b.ReportAllocs()
			start := processCPU()
			for b.Loop() {
				c.Parse(s.sql)
			}
			reportCPU(b, start)
		})
	}
}

// BenchmarkCacheMiss is a full cache that every statement misses: parsing
// plus eviction.
func BenchmarkCacheMiss(b *testing.B) {
	c := NewCache(1024, 64<<10)
	i := 0
	for b.Loop() {
		i++
		c.Parse("UPDATE pgbench_accounts SET abalance = abalance + -213 WHERE aid = " + strconv.Itoa(i))
	}
}

// BenchmarkSQLite is SQLite running the same statements in memory (the
// baseline the front end's cost is compared with).
func BenchmarkSQLite(b *testing.B) {
	db := openSQLite(b)
	if _, err := db.Exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, created_at TEXT, updated_at TEXT, deleted_at TEXT)`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 100000)
		INSERT INTO pgbench_accounts (aid, bid, abalance, filler) SELECT i, 1, 0, '' FROM n`); err != nil {
		b.Fatal(err)
	}
	for _, s := range benchStatements[:3] {
		b.Run(s.name, func(b *testing.B) {
			sql := Parse(s.sql).SQL
			start := processCPU()
			for b.Loop() {
				rows, err := db.Query(sql)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
				}
				rows.Close()
			}
			reportCPU(b, start)
		})
	}
}

// reportCPU reports the process's CPU time per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	if used := processCPU() - start; used > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkDivision is the cost of the guard on divisors: a query that
// divides once per row of 100000, as SQLite runs it (raw) and as the front
// end translates it (guarded).
func BenchmarkDivision(b *testing.B) {
	db := openSQLite(b)
	if _, err := db.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 100000)
		INSERT INTO pgbench_accounts (aid, bid, abalance, filler) SELECT i, i % 7 + 1, i, '' FROM n`); err != nil {
		b.Fatal(err)
	}
	const q = "SELECT sum(abalance / bid) FROM pgbench_accounts"
	for _, c := range []struct{ name, sql string }{{"raw", q}, {"guarded", Parse(q).SQL}} {
		b.Run(c.name, func(b *testing.B) {
			var sum int64
			start := processCPU()
			for b.Loop() {
				if err := db.QueryRow(c.sql).Scan(&sum); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
		})
	}
}

// BenchmarkSeries is pgbench -i's load of 100000 accounts from
// generate_series (a recursive CTE), against the same INSERT … SELECT
// from a table that holds the numbers already (the baseline: SQLite
// inserting the rows).
func BenchmarkSeries(b *testing.B) {
	db := openSQLite(b)
	if _, err := db.Exec(`CREATE TABLE nums (aid INTEGER PRIMARY KEY);
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 100000) INSERT INTO nums SELECT i FROM n`); err != nil {
		b.Fatal(err)
	}
	series := Parse("insert into pgbench_accounts(aid,bid,abalance,filler) select aid, (aid - 1) / 100000 + 1, 0, '' from generate_series(1, 100000) as aid")
	if series.Err != nil {
		b.Fatal(series.Err)
	}
	for _, c := range []struct{ name, sql string }{
		{"table", "insert into pgbench_accounts(aid,bid,abalance,filler) select aid, (aid - 1) / 100000 + 1, 0, '' from nums"},
		{"generate_series", series.SQL},
		{"select_only", Parse("select count(*) from generate_series(1, 100000)").SQL},
	} {
		b.Run(c.name, func(b *testing.B) {
			start := processCPU()
			for b.Loop() {
				if _, err := db.Exec("DELETE FROM pgbench_accounts"); err != nil {
					b.Fatal(err)
				}
				if _, err := db.Exec(c.sql); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
		})
	}
}
