package server_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/raftsql/raftsql/server/servertest"
)

// jdbcFetchProgram reads with a fetch size inside a transaction, which
// makes pgjdbc execute its portal a few rows at a time, and runs another
// query while the first one's portal is suspended.
const jdbcFetchProgram = `
import java.sql.*;

public class Main {
  public static void main(String[] args) throws Exception {
    String url = "jdbc:postgresql://" + System.getenv("PGHOST") + ":" + System.getenv("PGPORT") + "/raftsql?user=raftsql";
    try (Connection c = DriverManager.getConnection(url)) {
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TABLE fetched (x INTEGER)");
        s.execute("INSERT INTO fetched SELECT x FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 25) SELECT x FROM c)");
      }
      c.setAutoCommit(false);
      try (PreparedStatement p = c.prepareStatement("SELECT x FROM fetched ORDER BY x")) {
        p.setFetchSize(4);
        ResultSet rs = p.executeQuery();
        long sum = 0; int n = 0;
        while (rs.next()) {
          sum += rs.getLong(1); n++;
          if (n == 5) {
            try (Statement s = c.createStatement(); ResultSet other = s.executeQuery("SELECT count(*) FROM fetched")) {
              other.next();
              System.out.println("meanwhile " + other.getLong(1));
            }
          }
        }
        System.out.println("fetched " + n + " sum " + sum);
      }
      c.commit();
    }
  }
}
`

// TestJDBCFetchSize: pgjdbc's setFetchSize in a transaction reads every
// row, through portals suspended and resumed, with another query between.
func TestJDBCFetchSize(t *testing.T) {
	const jar = "/usr/share/java/postgresql.jar"
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java is not installed")
	}
	if _, err := os.Stat(jar); err != nil {
		t.Skip("pgjdbc is not installed")
	}
	src := t.TempDir() + "/Main.java"
	if err := os.WriteFile(src, []byte(jdbcFetchProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	out := runClient(t, c, c.Leader(), java, "-cp", jar, src)
	for _, want := range []string{"meanwhile 25", "fetched 25 sum 325"} {
		if !strings.Contains(out, want) {
			t.Errorf("JDBC output lacks %q:\n%s", want, out)
		}
	}
}
