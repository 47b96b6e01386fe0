package server_test

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	_ "github.com/raftsql/raftsql/driver"
	"github.com/raftsql/raftsql/server/servertest"
)

// psqlRunner runs psql against a node of c with extra environment, or
// skips the test when psql is not installed.
func psqlRunner(t *testing.T, c *servertest.Cluster) func(node int, env []string, args ...string) string {
	t.Helper()
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (apt-get install postgresql-client)")
	}
	return func(node int, env []string, args ...string) string {
		t.Helper()
		host, port, _ := strings.Cut(c.PGAddr(node), ":")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, psql, append([]string{"-h", host, "-p", port, "-U", "raftsql", "-d", "raftsql", "-X", "-v", "ON_ERROR_STOP=1"}, args...)...)
		cmd.Env = append(append(cmd.Environ(), "PGCONNECT_TIMEOUT=10"), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("psql %q: %v\n%s", args, err, out)
		}
		return string(out)
	}
}

// TestTimeZoneOutput: a timestamptz is stored as UTC and shown, in text,
// in the session's TimeZone as Postgres shows it (SET TIME ZONE, SET
// timezone, the startup parameter), with ParameterStatus on a change; in
// binary it is the instant. psql, pgx in both formats, psycopg2 and
// psycopg 3 read it, on the leader and on a follower.
func TestTimeZoneOutput(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	psql := psqlRunner(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	leader, follower := c.Leader(), c.Follower()
	psql(leader, nil, "-c", "CREATE TABLE ev (id INTEGER PRIMARY KEY, at TIMESTAMPTZ, ts TIMESTAMP, d DATE, tm TIME)",
		"-c", "INSERT INTO ev VALUES (1, '2026-12-03 14:05:06.123456+00', '2026-12-03T14:05:06', '2026-12-03', '14:05:06')",
		"-c", "INSERT INTO ev (id, at) VALUES (2, '2020-01-01 10:00+02'::timestamptz)",
		"-c", "SET TIME ZONE 'Europe/Paris'",
		// A literal with an offset is the instant, whatever the zone.
		"-c", "INSERT INTO ev (id, at) VALUES (3, '2026-07-01 12:00:00-04')")
	paris := time.FixedZone("", 3600)
	want := map[int]time.Time{
		1: time.Date(2026, 12, 3, 14, 5, 6, 123456000, time.UTC),
		2: time.Date(2020, 1, 1, 8, 0, 0, 0, time.UTC),
		3: time.Date(2026, 7, 1, 16, 0, 0, 0, time.UTC),
	}
	// pgx, binary parameters: stored as UTC text.
	conn := connect(t, c, leader)
	mustExec(t, conn, "INSERT INTO ev (id, at) VALUES ($1, $2)", 4, time.Date(2026, 12, 3, 15, 5, 6, 0, paris))
	want[4] = time.Date(2026, 12, 3, 14, 5, 6, 0, time.UTC)
	var stored string
	// pgx sends an untyped parameter as UTC text with a Z.
	if err := conn.QueryRow(ctx, "SELECT at::text FROM ev WHERE id = 4").Scan(&stored); err != nil || strings.TrimSuffix(stored, "Z") != "2026-12-03 14:05:06" {
		t.Fatalf("a time.Time parameter is stored as %q, %v; want UTC text", stored, err)
	}
	c.WaitSynced()

	for _, node := range []int{leader, follower} {
		out := psql(node, nil, "-A", "-t", "-c", "SELECT at, ts, d, tm FROM ev WHERE id = 1",
			"-c", "SET TIME ZONE 'Europe/Paris'", "-c", "SHOW TimeZone", "-c", "SELECT at FROM ev ORDER BY id",
			"-c", "SELECT '2026-12-03 14:05:06+00'::timestamptz + interval '1 hour'",
			"-c", "SET timezone = 'America/Los_Angeles'", "-c", "SELECT at FROM ev WHERE id = 1",
			"-c", "SET TIME ZONE 5.5", "-c", "SHOW timezone", "-c", "SELECT at FROM ev WHERE id = 1",
			"-c", "RESET TIME ZONE", "-c", "SELECT at FROM ev WHERE id = 2")
		wantOut := strings.Join([]string{
			"2026-12-03 14:05:06.123456+00|2026-12-03 14:05:06|2026-12-03|14:05:06",
			"Europe/Paris",
			"2026-12-03 15:05:06.123456+01", "2020-01-01 09:00:00+01", "2026-07-01 18:00:00+02", "2026-12-03 15:05:06+01",
			"2026-12-03 16:05:06+01",
			"2026-12-03 06:05:06.123456-08",
			"<+05:30>-05:30", "2026-12-03 19:35:06.123456+05:30",
			"2020-01-01 08:00:00+00",
		}, "\n")
		if got := strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(out, "RESET\n", ""), "SET\n", "")); got != wantOut {
			t.Errorf("node %d: psql printed\n%s\nwant\n%s", node, got, wantOut)
		}
		// The startup parameter, as libpq's PGOPTIONS sends it.
		out = psql(node, []string{"PGOPTIONS=-c TimeZone=Asia/Kolkata"}, "-A", "-t", "-c", "SELECT at FROM ev WHERE id = 2")
		if got := strings.TrimSpace(out); got != "2020-01-01 13:30:00+05:30" {
			t.Errorf("node %d: with TimeZone=Asia/Kolkata at startup: %q", node, got)
		}
	}
	// An unknown zone is refused, and the session keeps its zone.
	if _, err := conn.Exec(ctx, "SET TIME ZONE 'Mars/Olympus'"); sqlState(err) != "22023" {
		t.Errorf("SET TIME ZONE 'Mars/Olympus': %v, want 22023", err)
	}

	// pgx: text (simple protocol) and binary (extended) results scan into
	// the same instants, in every zone; ParameterStatus follows SET.
	for _, mode := range []string{"simple_protocol", "cache_statement"} {
		for _, node := range []int{leader, follower} {
			conn := connectMode(t, c, node, mode+"&timezone=America/New_York")
			if tz := conn.PgConn().ParameterStatus("TimeZone"); tz != "America/New_York" {
				t.Errorf("%s node %d: TimeZone %q at startup", mode, node, tz)
			}
			check := func(zone string) {
				t.Helper()
				rows, err := conn.Query(ctx, "SELECT id, at FROM ev ORDER BY id")
				if err != nil {
					t.Fatal(err)
				}
				got := map[int]time.Time{}
				for rows.Next() {
					var id int
					var at time.Time
					if err := rows.Scan(&id, &at); err != nil {
						t.Fatalf("%s node %d %s: scan: %v", mode, node, zone, err)
					}
					got[id] = at
				}
				if err := rows.Err(); err != nil {
					t.Fatalf("%s node %d %s: %v", mode, node, zone, err)
				}
				for id, w := range want {
					if !got[id].Equal(w) {
						t.Errorf("%s node %d %s: row %d at %v, want %v", mode, node, zone, id, got[id], w)
					}
				}
			}
			check("America/New_York")
			mustExec(t, conn, "SET TIME ZONE 'Asia/Tokyo'")
			if tz := conn.PgConn().ParameterStatus("TimeZone"); tz != "Asia/Tokyo" {
				t.Errorf("%s node %d: TimeZone %q after SET", mode, node, tz)
			}
			check("Asia/Tokyo")
			var text string
			if err := conn.QueryRow(ctx, "SELECT at::text FROM ev WHERE id = 4").Scan(&text); err != nil {
				t.Fatal(err)
			}
			// at::text is the stored text: UTC, as SQLite keeps it.
			if strings.TrimSuffix(text, "Z") != "2026-12-03 14:05:06" {
				t.Errorf("%s node %d: at::text %q", mode, node, text)
			}
		}
	}

	// The raftsql driver reads the text form, in any zone.
	db, err := sql.Open("raftsql", c.DSN(follower))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dc, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	for _, zone := range []string{"UTC", "Asia/Kolkata", "America/St_Johns"} {
		if _, err := dc.ExecContext(ctx, "SET TIME ZONE '"+zone+"'"); err != nil {
			t.Fatal(err)
		}
		for id, w := range want {
			var at time.Time
			if err := dc.QueryRowContext(ctx, "SELECT at FROM ev WHERE id = $1", id).Scan(&at); err != nil || !at.Equal(w) {
				t.Errorf("raftsql driver in %s: row %d at %v, %v; want %v", zone, id, at, err, w)
			}
		}
	}

	// psycopg2 and psycopg 3 parse the text form strictly.
	host, port, _ := strings.Cut(c.PGAddr(follower), ":")
	script := `
import datetime, sys
dsn = "host=%s port=%s user=raftsql dbname=raftsql options='-c TimeZone=Europe/Paris'"
want = datetime.datetime(2026, 12, 3, 14, 5, 6, 123456, tzinfo=datetime.timezone.utc)
mod = __import__(sys.argv[1])
conn = mod.connect(dsn)
cur = conn.cursor()
cur.execute("SELECT at, ts, d, tm FROM ev WHERE id = 1")
at, ts, d, tm = cur.fetchone()
assert at == want and at.utcoffset() == datetime.timedelta(hours=1), repr(at)
assert ts == datetime.datetime(2026, 12, 3, 14, 5, 6), repr(ts)
assert d == datetime.date(2026, 12, 3), repr(d)
assert tm == datetime.time(14, 5, 6), repr(tm)
print("ok")
`
	script = strings.Replace(strings.Replace(script, "%s", host, 1), "%s", port, 1)
	for _, mod := range []string{"psycopg2", "psycopg"} {
		py := ""
		for _, cand := range []string{"python3", "/usr/bin/python3"} {
			if exec.Command(cand, "-c", "import "+mod).Run() == nil {
				py = cand
				break
			}
		}
		if py == "" {
			t.Logf("%s is not installed: not tried", mod)
			continue
		}
		pctx, pcancel := context.WithTimeout(ctx, 30*time.Second)
		out, err := exec.CommandContext(pctx, py, "-c", script, mod).CombinedOutput()
		pcancel()
		if err != nil || strings.TrimSpace(string(out)) != "ok" {
			t.Errorf("%s: %v\n%s", mod, err, out)
		}
	}
	c.EnsureSame()
}

// TestExplain: EXPLAIN answers one text column, "QUERY PLAN", laid out
// as Postgres lays out a plan, from SQLite's query plan; it is a read on
// any node, never runs what it explains, and refuses ANALYZE of a write.
func TestExplain(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	psql := psqlRunner(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	leader, follower := c.Leader(), c.Follower()
	psql(leader, nil, "-c", "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER)",
		"-c", "CREATE INDEX items_name ON items (name)",
		"-c", "CREATE TABLE orders (id INTEGER PRIMARY KEY, item INTEGER REFERENCES items, n INTEGER)",
		"-c", "INSERT INTO items (name, qty) VALUES ('apple', 3), ('pear', 5)")
	c.WaitSynced()
	for _, node := range []int{leader, follower} {
		out := psql(node, nil, "-c", "EXPLAIN SELECT * FROM items WHERE name = 'apple'")
		for _, want := range []string{"QUERY PLAN", "SEARCH items USING INDEX items_name (name=?)", "(1 row)"} {
			if !strings.Contains(out, want) {
				t.Errorf("node %d: psql's EXPLAIN lacks %q:\n%s", node, want, out)
			}
		}
		out = psql(node, nil, "-A", "-t",
			"-c", "EXPLAIN SELECT i.name, (SELECT sum(n) FROM orders o WHERE o.item = i.id) FROM items i ORDER BY i.qty",
			"-c", "EXPLAIN (ANALYZE, COSTS OFF, FORMAT TEXT) SELECT 1",
			"-c", "EXPLAIN UPDATE items SET qty = qty + 1 WHERE id = 1",
			"-c", "EXPLAIN INSERT INTO items (name, qty) VALUES ('plum', 1)",
			"-c", "EXPLAIN DELETE FROM items WHERE qty > 100")
		want := strings.Join([]string{
			"SCAN i",
			"CORRELATED SCALAR SUBQUERY 1",
			"  ->  SCAN o",
			"USE TEMP B-TREE FOR ORDER BY",
			"SCAN CONSTANT ROW",
			"Update on items",
			"  ->  SEARCH items USING INTEGER PRIMARY KEY (rowid=?)",
			"Insert on items",
			"Delete on items",
			"  ->  SCAN items",
			"  ->  SCAN orders", // the foreign key's check
		}, "\n")
		if got := strings.TrimSpace(out); got != want {
			t.Errorf("node %d: plans\n%s\nwant\n%s", node, got, want)
		}
	}
	// Nothing explained ran, on any node.
	for i := 0; i < c.Size(); i++ {
		conn := connectMode(t, c, i, "simple_protocol&raftsql.read_consistency=none")
		if n := count(t, conn, "SELECT count(*) FROM items WHERE qty = 3 AND name = 'apple'"); n != 1 {
			t.Fatalf("node %d: EXPLAIN UPDATE changed the row", i)
		}
		if n := count(t, conn, "SELECT count(*) FROM items"); n != 2 {
			t.Fatalf("node %d: %d items after EXPLAIN INSERT/DELETE, want 2", i, n)
		}
	}

	for _, mode := range []string{"cache_statement", "simple_protocol"} {
		conn := connectMode(t, c, follower, mode)
		rows, err := conn.Query(ctx, "EXPLAIN SELECT name FROM items WHERE id = $1", 1)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, l)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		fds := rows.FieldDescriptions()
		if len(fds) != 1 || fds[0].Name != "QUERY PLAN" || fds[0].DataTypeOID != 25 {
			t.Errorf("%s: columns %+v, want one text column QUERY PLAN", mode, fds)
		}
		if tag := rows.CommandTag().String(); tag != "EXPLAIN" {
			t.Errorf("%s: tag %q, want EXPLAIN", mode, tag)
		}
		if strings.Join(lines, "\n") != "SEARCH items USING INTEGER PRIMARY KEY (rowid=?)" {
			t.Errorf("%s: plan %q", mode, lines)
		}
		// ANALYZE of a write is refused before anything runs.
		if _, err := conn.Exec(ctx, "EXPLAIN ANALYZE DELETE FROM items"); sqlState(err) != "0A000" {
			t.Errorf("%s: EXPLAIN ANALYZE DELETE: %v, want 0A000", mode, err)
		}
		if _, err := conn.Exec(ctx, "EXPLAIN (FORMAT JSON) SELECT 1"); sqlState(err) != "0A000" {
			t.Errorf("%s: EXPLAIN (FORMAT JSON): %v, want 0A000", mode, err)
		}
		// Inside a transaction block, after a write of its own.
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO orders (item, n) VALUES (1, 2)"); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		var l string
		if err := tx.QueryRow(ctx, "EXPLAIN DELETE FROM orders WHERE id = 1").Scan(&l); err != nil || l != "Delete on orders" {
			t.Errorf("%s: EXPLAIN in a transaction block: %q, %v", mode, l, err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
	}
	c.EnsureSame()
}

// jdbcTimeZoneProgram reads and writes timestamptz with pgjdbc in a JVM
// whose zone is not UTC: pgjdbc sends that zone as the startup parameter
// TimeZone and an OffsetDateTime parameter as text with its offset.
const jdbcTimeZoneProgram = `
import java.sql.*;
import java.time.*;

public class Main {
  public static void main(String[] args) throws Exception {
    String url = "jdbc:postgresql://" + System.getenv("PGHOST") + ":" + System.getenv("PGPORT") + "/raftsql?user=raftsql&prepareThreshold=1";
    try (Connection c = DriverManager.getConnection(url)) {
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TABLE jt (id INTEGER PRIMARY KEY, at TIMESTAMPTZ)");
        s.execute("INSERT INTO jt VALUES (1, '2026-12-03 14:05:06.5+00'::timestamptz)");
        ResultSet rs = s.executeQuery("SHOW TimeZone");
        rs.next();
        System.out.println("tz " + rs.getString(1));
      }
      try (PreparedStatement p = c.prepareStatement("INSERT INTO jt VALUES (?, ?)")) {
        p.setInt(1, 2);
        p.setObject(2, OffsetDateTime.of(2026, 12, 3, 15, 5, 6, 0, ZoneOffset.ofHours(1)));
        p.executeUpdate();
      }
      for (int n = 0; n < 2; n++) {
        try (PreparedStatement p = c.prepareStatement("SELECT id, at, at::text FROM jt ORDER BY id")) {
          ResultSet rs = p.executeQuery();
          while (rs.next()) {
            System.out.println("row " + rs.getInt(1) + " " + rs.getObject(2, OffsetDateTime.class).toInstant() + " " + rs.getString(2) + " " + rs.getTimestamp(2).toInstant() + " " + rs.getString(3));
          }
        }
      }
    }
  }
}
`

// TestJDBCTimeZone: pgjdbc in a JVM in Asia/Kolkata connects (its zone is
// the startup TimeZone), stores an OffsetDateTime as UTC, and reads the
// instants back from text in its zone.
func TestJDBCTimeZone(t *testing.T) {
	const jar = "/usr/share/java/postgresql.jar"
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java is not installed")
	}
	if _, err := os.Stat(jar); err != nil {
		t.Skip("pgjdbc is not installed (apt-get install libpostgresql-jdbc-java)")
	}
	src := t.TempDir() + "/Main.java"
	if err := os.WriteFile(src, []byte(jdbcTimeZoneProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	out := runClient(t, c, c.Follower(), java, "-Duser.timezone=Asia/Kolkata", "-cp", jar, src)
	rows := "row 1 2026-12-03T14:05:06.500Z 2026-12-03 19:35:06.5+05:30 2026-12-03T14:05:06.500Z 2026-12-03 14:05:06.5\n" +
		"row 2 2026-12-03T14:05:06Z 2026-12-03 19:35:06+05:30 2026-12-03T14:05:06Z 2026-12-03 14:05:06\n"
	if want := "tz Asia/Kolkata\n" + rows + rows; out != want {
		t.Errorf("JDBC printed\n%s\nwant\n%s", out, want)
	}
	c.EnsureSame()
}
