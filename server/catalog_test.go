package server_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// jdbcMetaProgram asks pgjdbc's DatabaseMetaData what every Java tool
// asks (DBeaver, Hibernate's schema validation, Flyway) and prints the
// rows.
const jdbcMetaProgram = `
import java.sql.*;

public class Main {
  static void print(String what, ResultSet rs, String... cols) throws SQLException {
    while (rs.next()) {
      StringBuilder b = new StringBuilder(what);
      for (String c : cols) b.append(" ").append(c).append("=").append(rs.getString(c));
      System.out.println(b);
    }
    rs.close();
  }
  public static void main(String[] args) throws Exception {
    String url = "jdbc:postgresql://" + System.getenv("PGHOST") + ":" + System.getenv("PGPORT") + "/raftsql?user=raftsql";
    try (Connection c = DriverManager.getConnection(url)) {
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TABLE author (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL UNIQUE)");
        s.execute("CREATE TABLE book (id INTEGER, isbn TEXT, author_id INTEGER REFERENCES author (id) ON DELETE CASCADE, price NUMERIC(8,2) DEFAULT 0, PRIMARY KEY (id, isbn))");
        s.execute("CREATE INDEX book_price ON book (price)");
      }
      DatabaseMetaData md = c.getMetaData();
      print("table", md.getTables(null, "public", "%", new String[]{"TABLE"}), "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE");
      print("nothing", md.getTables(null, null, "no_such_table", null), "TABLE_NAME");
      print("column", md.getColumns(null, "public", "book", "%"), "COLUMN_NAME", "TYPE_NAME", "DATA_TYPE", "COLUMN_SIZE", "DECIMAL_DIGITS", "IS_NULLABLE", "COLUMN_DEF", "ORDINAL_POSITION");
      print("pk", md.getPrimaryKeys(null, "public", "book"), "COLUMN_NAME", "KEY_SEQ", "PK_NAME");
      print("index", md.getIndexInfo(null, "public", "book", false, false), "INDEX_NAME", "NON_UNIQUE", "COLUMN_NAME", "ORDINAL_POSITION");
      print("fk", md.getImportedKeys(null, "public", "book"), "PKTABLE_NAME", "PKCOLUMN_NAME", "FKCOLUMN_NAME", "FK_NAME", "PK_NAME", "DELETE_RULE");
      print("exported", md.getExportedKeys(null, "public", "author"), "FKTABLE_NAME", "FKCOLUMN_NAME");
      int types = 0; boolean int4 = false, varchar = false;
      try (ResultSet rs = md.getTypeInfo()) {
        while (rs.next()) {
          types++;
          int4 |= rs.getString("TYPE_NAME").equals("int4") && rs.getInt("DATA_TYPE") == Types.INTEGER;
          varchar |= rs.getString("TYPE_NAME").equals("varchar") && rs.getInt("DATA_TYPE") == Types.VARCHAR;
        }
      }
      System.out.println("types " + (types > 20) + " int4 " + int4 + " varchar " + varchar);
      print("schema", md.getSchemas(), "TABLE_SCHEM");
      try (PreparedStatement p = c.prepareStatement("SELECT c.relname FROM pg_catalog.pg_class c WHERE c.relname = ? AND c.relkind = 'r'")) {
        p.setString(1, "author");
        print("param", p.executeQuery(), "relname");
      }
    }
  }
}
`

// TestJDBCDatabaseMetaData: pgjdbc's metadata calls return the right rows.
func TestJDBCDatabaseMetaData(t *testing.T) {
	const jar = "/usr/share/java/postgresql.jar"
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java is not installed")
	}
	if _, err := os.Stat(jar); err != nil {
		t.Skip("pgjdbc is not installed")
	}
	src := t.TempDir() + "/Main.java"
	if err := os.WriteFile(src, []byte(jdbcMetaProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	out := runClient(t, c, c.Follower(), java, "-cp", jar, src)
	for _, want := range []string{
		"table TABLE_SCHEM=public TABLE_NAME=author TABLE_TYPE=TABLE\ntable TABLE_SCHEM=public TABLE_NAME=book TABLE_TYPE=TABLE\n",
		"column COLUMN_NAME=id TYPE_NAME=int4 DATA_TYPE=4 COLUMN_SIZE=10 DECIMAL_DIGITS=0 IS_NULLABLE=NO COLUMN_DEF=null ORDINAL_POSITION=1\n",
		"column COLUMN_NAME=isbn TYPE_NAME=text DATA_TYPE=12",
		"column COLUMN_NAME=price TYPE_NAME=numeric DATA_TYPE=2 COLUMN_SIZE=8 DECIMAL_DIGITS=2 IS_NULLABLE=YES COLUMN_DEF=0 ORDINAL_POSITION=4\n",
		"pk COLUMN_NAME=id KEY_SEQ=1 PK_NAME=book_pkey\npk COLUMN_NAME=isbn KEY_SEQ=2 PK_NAME=book_pkey\n",
		"index INDEX_NAME=book_pkey NON_UNIQUE=f COLUMN_NAME=id ORDINAL_POSITION=1\n",
		"index INDEX_NAME=book_pkey NON_UNIQUE=f COLUMN_NAME=isbn ORDINAL_POSITION=2\n",
		"index INDEX_NAME=book_price NON_UNIQUE=t COLUMN_NAME=price ORDINAL_POSITION=1\n",
		"fk PKTABLE_NAME=author PKCOLUMN_NAME=id FKCOLUMN_NAME=author_id FK_NAME=book_author_id_fkey PK_NAME=author_pkey DELETE_RULE=0\n",
		"exported FKTABLE_NAME=book FKCOLUMN_NAME=author_id\n",
		"types true int4 true varchar true\n",
		"schema TABLE_SCHEM=information_schema\nschema TABLE_SCHEM=pg_catalog\nschema TABLE_SCHEM=public\n",
		"param relname=author\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("JDBC output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "nothing") {
		t.Errorf("getTables found a table that does not exist:\n%s", out)
	}
}

// TestCatalogQueries: catalog queries as ORMs and migration tools send
// them, in both protocols; a filter that matches nothing returns nothing;
// OIDs are the same on every node and after a restart.
func TestCatalogQueries(t *testing.T) {
	// About SQL, not failover: a loaded machine must not move the leader
	// in the middle of the DDL.
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(_ int, cfg *server.Config) { steady(cfg) }})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn := connect(t, c, c.Leader())
	for _, sql := range []string{
		"CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(80) NOT NULL UNIQUE, created TIMESTAMP)",
		"CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), body TEXT)",
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	queryRows := func(conn *pgx.Conn, mode pgx.QueryExecMode, sql string, args ...any) [][]any {
		t.Helper()
		rows, err := conn.Query(ctx, sql, append([]any{mode}, args...)...)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return out
	}
	// GORM's and golang-migrate's probes, in the extended and the simple
	// protocol.
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		const gorm = "SELECT count(*) FROM information_schema.tables WHERE table_schema = CURRENT_SCHEMA() AND table_name = $1 AND table_type = 'BASE TABLE'"
		for table, want := range map[string]int64{"users": 1, "nothing_here": 0} {
			rows := queryRows(conn, mode, gorm, table)
			if len(rows) != 1 || rows[0][0] != want {
				t.Errorf("mode %v: count for %s = %v, want %d", mode, table, rows, want)
			}
		}
		rows := queryRows(conn, mode, "SELECT column_name, data_type, is_nullable, character_maximum_length FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position", "users")
		if len(rows) != 3 || rows[1][0] != "email" || rows[1][1] != "character varying" || rows[1][2] != "NO" {
			t.Errorf("mode %v: columns of users = %v", mode, rows)
		}
		rows = queryRows(conn, mode, "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'no_such_table' AND n.nspname = 'public'")
		if len(rows) != 0 {
			t.Errorf("mode %v: pg_class for no_such_table = %v", mode, rows)
		}
		rows = queryRows(conn, mode, "SELECT CURRENT_SCHEMA(), current_database(), pg_catalog.version() LIKE 'PostgreSQL 15.%raftsql%'")
		if len(rows) != 1 || rows[0][0] != "public" || rows[0][1] != "raftsql" || fmt.Sprint(rows[0][2]) != "true" {
			t.Errorf("mode %v: session functions = %v", mode, rows)
		}
	}
	// SQLAlchemy's has_table, as 1.4 sends it.
	rows := queryRows(conn, pgx.QueryExecModeSimpleProtocol, "select relname from pg_class c join pg_namespace n on n.oid=c.relnamespace where pg_catalog.pg_table_is_visible(c.oid) and relname='posts'")
	if len(rows) != 1 {
		t.Errorf("has_table(posts) = %v", rows)
	}
	const oids = "SELECT c.relname, c.oid, 'users'::regclass::oid, a.attname, a.atttypid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid WHERE c.relname IN ('users', 'posts', 'users_pkey') ORDER BY 1, a.attnum"
	before := queryRows(conn, pgx.QueryExecModeCacheStatement, oids)
	if len(before) != 7 {
		t.Fatalf("pg_attribute rows = %v", before)
	}
	for _, r := range before {
		if r[0] == "users" && fmt.Sprint(r[1]) != fmt.Sprint(r[2]) {
			t.Errorf("users' oid %v differs from 'users'::regclass %v", r[1], r[2])
		}
	}
	c.WaitSynced()
	// Every node, and a node after a restart (which replays its log: poll
	// until it has), gives each relation the same OID.
	same := func(node int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			got := queryRows(connect(t, c, node), pgx.QueryExecModeCacheStatement, oids)
			if equalRows(got, before) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %d: %v, leader: %v", node, got, before)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for i := 0; i < c.Size(); i++ {
		same(i)
	}
	node := c.Follower()
	c.Stop(node)
	c.Restart(node)
	same(node)

	// Schema changes that SQLite checks every view for, the catalog views
	// of the write connection included.
	conn = connect(t, c, c.Leader())
	for _, sql := range []string{
		"ALTER TABLE posts RENAME TO articles",
		"ALTER TABLE articles RENAME COLUMN body TO text",
		"ALTER TABLE articles ADD COLUMN title TEXT",
		"ALTER TABLE articles DROP COLUMN text",
		"CREATE VIEW titles AS SELECT title FROM articles",
		"DROP VIEW titles",
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	rows = queryRows(conn, pgx.QueryExecModeCacheStatement, "SELECT column_name FROM information_schema.columns WHERE table_name = 'articles' ORDER BY ordinal_position")
	if fmt.Sprint(rows) != "[[id] [user_id] [title]]" {
		t.Errorf("columns of articles = %v", rows)
	}
	// A catalog query inside a transaction, after a write.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE drafts (id INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'drafts'").Scan(&n); err != nil || n != 1 {
		t.Errorf("drafts in information_schema.tables inside its transaction: %d, %v", n, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func equalRows(a, b [][]any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

// sqlalchemyScript does what an SQLAlchemy 1.4 application does on its
// first start and on every restart (create_all twice), then reflects the
// schema with the inspector.
const sqlalchemyScript = `
import os
import sqlalchemy as sa
e = sa.create_engine("postgresql+psycopg2://raftsql@%s:%s/raftsql" % (os.environ["PGHOST"], os.environ["PGPORT"]))
md = sa.MetaData()
sa.Table("sa_users", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(30), nullable=False, unique=True))
sa.Table("sa_addr", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("user_id", sa.ForeignKey("sa_users.id")),
    sa.Column("email", sa.String, index=True))
md.create_all(e)
md.create_all(e)
insp = sa.inspect(e)
print("tables", sorted(insp.get_table_names()))
print("has", insp.has_table("sa_users"), insp.has_table("nope"))
for c in insp.get_columns("sa_users"):
    print("col", c["name"], c["type"], c["nullable"])
print("pk", insp.get_pk_constraint("sa_users")["constrained_columns"])
fk = insp.get_foreign_keys("sa_addr")[0]
print("fk", fk["constrained_columns"], fk["referred_table"], fk["referred_columns"])
print("idx", [(i["name"], i["column_names"]) for i in insp.get_indexes("sa_addr")])
print("uq", [u["column_names"] for u in insp.get_unique_constraints("sa_users")])
`

// TestSQLAlchemyReflection: SQLAlchemy's has_table, create_all twice and
// the inspector's reflection, with its defaults.
func TestSQLAlchemyReflection(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import sqlalchemy, psycopg2").Run(); err != nil {
		t.Skip("SQLAlchemy is not installed (apt-get install python3-sqlalchemy python3-psycopg2)")
	}
	c := servertest.NewCluster(t, 3, servertest.Options{})
	out := runClient(t, c, c.Follower(), "/usr/bin/python3", "-c", sqlalchemyScript)
	for _, want := range []string{
		"tables ['sa_addr', 'sa_users']\n",
		"has True False\n",
		"col id INTEGER False\ncol name VARCHAR(30) False\n",
		"pk ['id']\n",
		"fk ['user_id'] sa_users ['id']\n",
		"idx [('ix_sa_addr_email', ['email'])]\n",
		"uq [['name']]\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("SQLAlchemy output lacks %q:\n%s", want, out)
		}
	}
}
