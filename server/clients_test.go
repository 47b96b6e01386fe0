package server_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server/servertest"
)

// runClient runs a script of another language's Postgres client against
// node i of c, with PGHOST and PGPORT set, and returns its output.
func runClient(t *testing.T, c *servertest.Cluster, i int, name string, args ...string) string {
	t.Helper()
	host, port, _ := strings.Cut(c.PGAddr(i), ":")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "PGHOST="+host, "PGPORT="+port, "PGUSER=raftsql", "PGDATABASE=raftsql")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return string(out)
}

// psycopgScript runs in psycopg2's default mode: every statement inside a
// transaction block the driver opened, DDL included, until commit().
const psycopgScript = `
import psycopg2
conn = psycopg2.connect("")
cur = conn.cursor()
cur.execute("CREATE TABLE py (id SERIAL PRIMARY KEY, r REAL, n INTEGER, v TEXT)")
cur.execute("INSERT INTO py (r, n, v) VALUES (%s, %s, %s) RETURNING id", (0.1, 7, "a"))
first = cur.fetchone()[0]
cur.execute("ALTER TABLE py ADD COLUMN w TEXT")
cur.execute("INSERT INTO py (r, n, v, w) VALUES (%s, %s, %s, %s) RETURNING id", (1e300, 8, "b", "w"))
second = cur.fetchone()[0]
conn.commit()
cur.execute("SELECT id, r, n, v, w FROM py ORDER BY id")
rows = cur.fetchall()
print("ids", first, second)
print("rows", repr(rows))
print("types", [d.type_code for d in cur.description])
conn.commit()
`

// TestPsycopg: psycopg2's default transaction mode runs DDL and the
// statements using it in one block; SERIAL numbers, REAL keeps its value.
func TestPsycopg(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import psycopg2").Run(); err != nil {
		t.Skip("psycopg2 is not installed (apt-get install python3-psycopg2)")
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	out := runClient(t, c, c.Follower(), "/usr/bin/python3", "-c", psycopgScript)
	for _, want := range []string{
		"ids 1 2",
		"rows [(1, 0.1, 7, 'a', None), (2, 1e+300, 8, 'b', 'w')]",
		"types [20, 701, 23, 25, 25]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("psycopg2 output lacks %q:\n%s", want, out)
		}
	}
	c.EnsureSame()
}

// nodeScript reads the same columns through node-postgres with the simple
// protocol (no parameters) and the extended one (parameters), which it
// turns into JavaScript values by type OID.
const nodeScript = `
const { Client } = require('pg');
(async () => {
  const c = new Client();
  await c.connect();
  await c.query("CREATE TABLE js (id SERIAL PRIMARY KEY, i INTEGER, b BIGINT, r REAL, e TEXT)");
  await c.query("INSERT INTO js (i, b, r) VALUES (5, 6, 0.1), (7, 8, 2.5)");
  const q = "SELECT id, i, b, r, CASE WHEN i = 5 THEN 5 ELSE 'five' END AS x FROM js WHERE id >= ";
  for (const [name, res] of [["simple", await c.query(q + "1 ORDER BY id")], ["extended", await c.query(q + "$1 ORDER BY id", [1])]]) {
    console.log(name, JSON.stringify(res.rows), res.fields.map(f => f.dataTypeID).join(","));
  }
  await c.end();
})().catch(e => { console.error(e); process.exit(1); });
`

// TestNodePostgres: node-postgres gets the same JavaScript types from both
// protocols: int4 as numbers, int8 as strings, REAL as the full double,
// the mixed CASE as text.
func TestNodePostgres(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	if err := exec.Command(node, "-e", "require('pg')").Run(); err != nil {
		t.Skip("node-postgres is not installed (npm install pg, and NODE_PATH naming its node_modules)")
	}
	c := servertest.NewCluster(t, 1, servertest.Options{})
	out := runClient(t, c, 0, node, "-e", nodeScript)
	rows := `[{"id":"1","i":5,"b":"6","r":0.1,"x":"5"},{"id":"2","i":7,"b":"8","r":2.5,"x":"five"}] 20,23,20,701,25`
	for _, want := range []string{"simple " + rows, "extended " + rows} {
		if !strings.Contains(out, want) {
			t.Errorf("node-postgres output lacks %q:\n%s", want, out)
		}
	}
}

// jdbcProgram is a migration as JDBC tools run one (autocommit off: the
// DDL and the statements using it in one block), then a read of every type.
const jdbcProgram = `
import java.sql.*;

public class Main {
  public static void main(String[] args) throws Exception {
    String url = "jdbc:postgresql://" + System.getenv("PGHOST") + ":" + System.getenv("PGPORT") + "/raftsql?user=raftsql&prepareThreshold=1";
    try (Connection c = DriverManager.getConnection(url)) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TABLE jd (id SERIAL PRIMARY KEY, i INTEGER, b BIGINT, r REAL, v TEXT)");
      }
      try (PreparedStatement p = c.prepareStatement("INSERT INTO jd (i, b, r, v) VALUES (?, ?, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
        p.setInt(1, 5); p.setLong(2, 6); p.setDouble(3, 0.1); p.setString(4, "a");
        p.executeUpdate();
        ResultSet k = p.getGeneratedKeys();
        k.next();
        System.out.println("key " + k.getObject(1) + ":" + k.getObject(1).getClass().getSimpleName());
      }
      c.commit();
      for (int n = 0; n < 2; n++) { // the second run uses the server-side prepared statement
        try (PreparedStatement p = c.prepareStatement("SELECT id, i, b, r, v FROM jd WHERE id = ?")) {
          p.setInt(1, 1);
          ResultSet rs = p.executeQuery();
          rs.next();
          StringBuilder sb = new StringBuilder("row");
          for (int j = 1; j <= 5; j++) sb.append(" ").append(rs.getObject(j)).append(":").append(rs.getObject(j).getClass().getSimpleName());
          System.out.println(sb);
        }
      }
      c.commit();
    }
  }
}
`

// TestJDBC: pgjdbc with autocommit off creates a table and uses it in the
// same block, gets the SERIAL key back, and reads Postgres' Java types.
func TestJDBC(t *testing.T) {
	const jar = "/usr/share/java/postgresql.jar"
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java is not installed")
	}
	if _, err := os.Stat(jar); err != nil {
		t.Skip("pgjdbc is not installed (apt-get install libpostgresql-jdbc-java)")
	}
	src := t.TempDir() + "/Main.java"
	if err := os.WriteFile(src, []byte(jdbcProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	out := runClient(t, c, c.Follower(), java, "-cp", jar, src)
	for _, want := range []string{
		"key 1:Long",
		"row 1:Long 5:Integer 6:Long 0.1:Double a:String\nrow 1:Long 5:Integer 6:Long 0.1:Double a:String",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("JDBC output lacks %q:\n%s", want, out)
		}
	}
	c.EnsureSame()
}
