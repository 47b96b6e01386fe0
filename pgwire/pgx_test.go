package pgwire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

func connect(t *testing.T, addr, extra string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://alice@%s/db?connect_timeout=5%s", addr, extra))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

var execModes = []struct {
	name string
	mode pgx.QueryExecMode
}{
	{"cache_statement", pgx.QueryExecModeCacheStatement},
	{"cache_describe", pgx.QueryExecModeCacheDescribe},
	{"describe_exec", pgx.QueryExecModeDescribeExec},
	{"exec", pgx.QueryExecModeExec},
	{"simple_protocol", pgx.QueryExecModeSimpleProtocol},
}

func TestPgxParams(t *testing.T) {
	_, _, addr := startServer(t, Config{})
	ctx := context.Background()
	for _, m := range execModes {
		t.Run(m.name, func(t *testing.T) {
			c := connect(t, addr, "&default_query_exec_mode="+m.name)
			var (
				i  int64
				f  float64
				s  string
				b  bool
				bs []byte
			)
			err := c.QueryRow(ctx, "select echo $1::int8, $2::float8, $3::text, $4::bool, $5::bytea",
				int64(-42), 2.5, "it's", true, []byte{0, 1, 0xff}).Scan(&i, &f, &s, &b, &bs)
			if err != nil {
				t.Fatal(err)
			}
			if i != -42 || f != 2.5 || s != "it's" || !b || !bytes.Equal(bs, []byte{0, 1, 0xff}) {
				t.Fatalf("got %v %v %q %v %x", i, f, s, b, bs)
			}
			var n int
			if err := c.QueryRow(ctx, "select 7").Scan(&n); err != nil || n != 7 {
				t.Fatalf("select 7: %v %v", n, err)
			}
		})
	}
}

func TestPgxTypedTable(t *testing.T) {
	_, _, addr := startServer(t, Config{})
	ctx := context.Background()
	for _, m := range execModes {
		t.Run(m.name, func(t *testing.T) {
			c := connect(t, addr, "&default_query_exec_mode="+m.name)
			rows, err := c.Query(ctx, "select * from t")
			if err != nil {
				t.Fatal(err)
			}
			type row struct {
				id      int64
				name    string
				score   float64
				ok      bool
				data    []byte
				big     int64
				created time.Time
				price   float64
				uid     pgtype.UUID
				day     time.Time
				note    *string
			}
			var got []row
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.id, &r.name, &r.score, &r.ok, &r.data, &r.big, &r.created, &r.price, &r.uid, &r.day, &r.note); err != nil {
					t.Fatal(err)
				}
				got = append(got, r)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if tag := rows.CommandTag().String(); tag != "SELECT 2" {
				t.Errorf("tag %q, want SELECT 2", tag)
			}
			if len(got) != 2 {
				t.Fatalf("got %d rows", len(got))
			}
			r := got[0]
			wantCreated := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
			if r.id != 1 || r.name != "alice" || r.score != 1.5 || !r.ok || !bytes.Equal(r.data, []byte{0xde, 0xad}) ||
				r.big != 5_000_000_000 || !r.created.Equal(wantCreated) || r.price != 12.5 ||
				r.uid.String() != "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" || r.day.Format("2006-01-02") != "2024-02-29" ||
				r.note == nil || *r.note != "n1" {
				t.Errorf("row 0: %+v", r)
			}
			r = got[1]
			if r.ok || r.big != -7 || r.score != -0.25 || r.created.Nanosecond() != 123456000 || r.price != 3 || r.note != nil || len(r.data) != 0 {
				t.Errorf("row 1: %+v", r)
			}
			var cnt int64
			if err := c.QueryRow(ctx, "select count(*) from t").Scan(&cnt); err != nil || cnt != 2 {
				t.Errorf("count: %d %v", cnt, err)
			}
		})
	}
}

func TestPgxExecTagsAndErrors(t *testing.T) {
	_, fb, addr := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, addr, "")
	for sql, want := range map[string]string{
		"insert into t values (1)":      "INSERT 0 1",
		"update t set a = 1":            "UPDATE 3",
		"delete from t":                 "DELETE 2",
		"create table x (a int)":        "CREATE TABLE",
		"create unique index i on x(a)": "CREATE INDEX",
		"drop table x":                  "DROP TABLE",
		"set application_name = 'me'":   "SET",
		"":                              "",
	} {
		tag, err := c.Exec(ctx, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if tag.String() != want {
			t.Errorf("%q: tag %q, want %q", sql, tag, want)
		}
	}
	tag, err := c.Exec(ctx, "insert into t values ($1)", 5)
	if err != nil || !tag.Insert() || tag.RowsAffected() != 1 {
		t.Errorf("insert with param: %v %v", tag, err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	_, err = c.Exec(ctx, "select * from missing")
	if pgCode(err) != "42P01" {
		t.Fatalf("missing table: %v", err)
	}
	_, err = c.Exec(ctx, "bogus statement")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42601" || pe.Position != 1 || pe.Severity != "ERROR" {
		t.Fatalf("syntax error: %#v", err)
	}

	// A failed transaction: status E, 25P02 until ROLLBACK.
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "select * from missing"); pgCode(err) != "42P01" {
		t.Fatalf("in tx: %v", err)
	}
	if st := c.PgConn().TxStatus(); st != 'E' {
		t.Fatalf("TxStatus %c, want E", st)
	}
	if _, err := tx.Exec(ctx, "select 1"); pgCode(err) != "25P02" {
		t.Fatalf("after error in tx: %v", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.PgConn().TxStatus(); st != 'I' {
		t.Fatalf("TxStatus %c, want I", st)
	}
	// COMMIT of a failed transaction reports ROLLBACK.
	if _, err := c.Exec(ctx, "begin"); err != nil {
		t.Fatal(err)
	}
	c.Exec(ctx, "select * from missing")
	tag, err = c.Exec(ctx, "commit")
	if err != nil || tag.String() != "ROLLBACK" {
		t.Fatalf("commit after error: %q %v", tag, err)
	}
	c.Close(ctx)
	waitFor(t, "session close", func() bool { return fb.closed.Load() == fb.opened.Load() })
}

func TestPgxBatch(t *testing.T) {
	_, _, addr := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, addr, "")
	b := &pgx.Batch{}
	for i := 0; i < 50; i++ {
		b.Queue("insert into t values ($1)", i)
		b.Queue("select echo $1::int8", int64(i))
	}
	br := c.SendBatch(ctx, b)
	for i := 0; i < 50; i++ {
		tag, err := br.Exec()
		if err != nil || tag.String() != "INSERT 0 1" {
			t.Fatalf("batch insert %d: %v %v", i, tag, err)
		}
		var n int64
		if err := br.QueryRow().Scan(&n); err != nil || n != int64(i) {
			t.Fatalf("batch select %d: %v %v", i, n, err)
		}
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
	// An error in the middle of a batch fails the rest up to Sync.
	b = &pgx.Batch{}
	b.Queue("select 1")
	b.Queue("select fail")
	b.Queue("select 2")
	br = c.SendBatch(ctx, b)
	var n int
	if err := br.QueryRow().Scan(&n); err != nil || n != 1 {
		t.Fatalf("first: %v", err)
	}
	if err := br.QueryRow().Scan(&n); pgCode(err) != "22012" {
		t.Fatalf("second: %v", err)
	}
	if err := br.QueryRow().Scan(&n); err == nil {
		t.Fatal("third ran after the error")
	}
	br.Close()
	if err := c.QueryRow(ctx, "select 3").Scan(&n); err != nil || n != 3 {
		t.Fatalf("after failed batch: %v %v", n, err)
	}
}

func TestSetShow(t *testing.T) {
	_, fb, addr := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, addr, "&application_name=first")
	pc := c.PgConn()
	if got := pc.ParameterStatus("application_name"); got != "first" {
		t.Errorf("application_name %q", got)
	}
	for name, want := range map[string]string{
		"server_version":              DefaultServerVersion,
		"client_encoding":             "UTF8",
		"standard_conforming_strings": "on",
		"DateStyle":                   "ISO, MDY",
		"TimeZone":                    "UTC",
		"integer_datetimes":           "on",
		"session_authorization":       "alice",
	} {
		if got := pc.ParameterStatus(name); got != want {
			t.Errorf("ParameterStatus %s = %q, want %q", name, got, want)
		}
	}
	show := func(q string) string {
		t.Helper()
		var v string
		if err := c.QueryRow(ctx, q).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return v
	}
	if v := show("show transaction_isolation"); v != "serializable" {
		t.Errorf("transaction_isolation %q", v)
	}
	if v := show("SHOW server_version"); v != DefaultServerVersion {
		t.Errorf("server_version %q", v)
	}
	if v := show("show raftsql.node"); v != "n1" {
		t.Errorf("raftsql.node %q", v)
	}
	if _, err := c.Exec(ctx, "SET application_name TO 'second'"); err != nil {
		t.Fatal(err)
	}
	if got := pc.ParameterStatus("application_name"); got != "second" {
		t.Errorf("application_name after SET: %q", got)
	}
	if v := show("show application_name"); v != "second" {
		t.Errorf("show application_name %q", v)
	}
	if _, err := c.Exec(ctx, "set datestyle to 'ISO'"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "SET SESSION TIME ZONE 'Europe/Paris'"); err != nil {
		t.Fatal(err)
	}
	if got := pc.ParameterStatus("TimeZone"); got != "Europe/Paris" {
		t.Errorf("TimeZone %q", got)
	}
	if _, err := c.Exec(ctx, "set extra_float_digits = 3"); err != nil {
		t.Fatal(err)
	}
	if v := show("show extra_float_digits"); v != "3" {
		t.Errorf("extra_float_digits %q", v)
	}
	if _, err := c.Exec(ctx, "set client_encoding = 'LATIN1'"); pgCode(err) != "22023" {
		t.Errorf("client_encoding LATIN1: %v", err)
	}
	if _, err := c.Exec(ctx, "set server_version = '16'"); pgCode(err) != "55P02" {
		t.Errorf("server_version: %v", err)
	}
	if _, err := c.Exec(ctx, "set raftsql.read_consistency = 'bogus'"); pgCode(err) != "22023" {
		t.Errorf("refused by session: %v", err)
	}
	if _, err := c.Exec(ctx, "set raftsql.read_consistency = weak"); err != nil {
		t.Fatal(err)
	}
	fb.mu.Lock()
	got := fb.last.sets["raftsql.read_consistency"]
	fb.mu.Unlock()
	if got != "weak" {
		t.Errorf("session saw %q", got)
	}
	if _, err := c.Exec(ctx, "show nonexistent"); pgCode(err) != "42704" {
		t.Errorf("show nonexistent: %v", err)
	}
	if _, err := c.Exec(ctx, "RESET application_name"); err != nil {
		t.Fatal(err)
	}
	if got := pc.ParameterStatus("application_name"); got != "first" {
		t.Errorf("application_name after RESET: %q", got)
	}
	tag, err := c.Exec(ctx, "DISCARD ALL")
	if err != nil || tag.String() != "DISCARD ALL" {
		t.Fatalf("discard: %v %v", tag, err)
	}
	if got := pc.ParameterStatus("TimeZone"); got != "UTC" {
		t.Errorf("TimeZone after DISCARD ALL %q", got)
	}
	rows, err := c.Query(ctx, "show all")
	if err != nil {
		t.Fatal(err)
	}
	nrows := 0
	for rows.Next() {
		nrows++
	}
	if rows.Err() != nil || nrows < 10 {
		t.Errorf("show all: %d rows, %v", nrows, rows.Err())
	}
}

func TestCancelRequest(t *testing.T) {
	_, fb, addr := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, addr, "")
	errc := make(chan error, 1)
	go func() {
		_, err := c.PgConn().Exec(ctx, "select sleep").ReadAll()
		errc <- err
	}()
	select {
	case <-fb.sleeping:
	case <-time.After(10 * time.Second):
		t.Fatal("statement did not start")
	}
	if err := c.PgConn().CancelRequest(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if pgCode(err) != "57014" {
			t.Fatalf("got %v, want 57014", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("statement was not cancelled")
	}
	var n int
	if err := c.QueryRow(ctx, "select 4").Scan(&n); err != nil || n != 4 {
		t.Fatalf("after cancel: %v", err)
	}
}

func TestFloatText(t *testing.T) {
	_, _, addr := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, addr, "&default_query_exec_mode=simple_protocol")
	for _, f := range []float64{0, 1.5, -2, 1e300, 1e-10, 0.1, math.Inf(1), math.Inf(-1)} {
		var got float64
		if err := c.QueryRow(ctx, "select echo $1::float8", f).Scan(&got); err != nil || got != f {
			t.Errorf("%v: got %v, %v", f, got, err)
		}
	}
}

func TestServerCloseEndsConnections(t *testing.T) {
	srv, fb, addr := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, addr, "")
	errc := make(chan error, 1)
	go func() {
		_, err := c.PgConn().Exec(ctx, "select sleep").ReadAll()
		errc <- err
	}()
	<-fb.sleeping
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("statement succeeded after Close")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the statement")
	}
	if fb.closed.Load() != fb.opened.Load() {
		t.Errorf("sessions opened %d, closed %d", fb.opened.Load(), fb.closed.Load())
	}
	if _, err := pgx.Connect(ctx, "postgres://alice@"+addr+"/db?sslmode=disable&connect_timeout=2"); err == nil {
		t.Fatal("connected after Close")
	}
}

func TestMaxConnectionsAndRefusedSession(t *testing.T) {
	_, fb, addr := startServer(t, Config{MaxConnections: 1})
	ctx := context.Background()
	connect(t, addr, "")
	_, err := pgx.Connect(ctx, "postgres://alice@"+addr+"/db?sslmode=disable")
	if pgCode(err) != "53300" {
		t.Fatalf("second connection: %v", err)
	}
	_ = fb

	fb2 := newFakeBackend()
	fb2.refuse = &Error{Code: "3D000", Message: `database "nope" does not exist`}
	_, _, addr2 := startServer(t, Config{Backend: fb2})
	_, err = pgx.Connect(ctx, "postgres://alice@"+addr2+"/nope?sslmode=disable")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "3D000" || pe.Severity != "FATAL" {
		t.Fatalf("refused session: %v", err)
	}
}

func TestPanicInSessionEndsOnlyThatConnection(t *testing.T) {
	_, fb, addr := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, addr, "")
	if _, err := c.Exec(ctx, "select panic"); err == nil {
		t.Fatal("want an error")
	}
	c2 := connect(t, addr, "")
	if err := c2.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "panicked session closed", func() bool { return fb.closed.Load() >= 1 })
}

// SELECT set_config(name, value, is_local) alone, as pg_dump sends it, sets
// the parameter as SET does and returns the value, through the simple and
// the extended protocol.
func TestSetConfig(t *testing.T) {
	_, _, addr := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, addr, "")
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec, pgx.QueryExecModeCacheDescribe} {
		var v string
		if err := c.QueryRow(ctx, "SELECT pg_catalog.set_config('application_name', 'dumper', false);", mode).Scan(&v); err != nil {
			t.Fatalf("%v: %v", mode, err)
		}
		if v != "dumper" {
			t.Errorf("%v: set_config returned %q", mode, v)
		}
		if got := c.PgConn().ParameterStatus("application_name"); got != "dumper" {
			t.Errorf("%v: application_name after set_config: %q", mode, got)
		}
		if err := c.QueryRow(ctx, "select set_config('search_path', '', true)", mode).Scan(&v); err != nil || v != "" {
			t.Errorf("%v: set_config search_path: %q, %v", mode, v, err)
		}
		var sp string
		if err := c.QueryRow(ctx, "show search_path", mode).Scan(&sp); err != nil || sp != `""` && sp != "" {
			t.Errorf("%v: search_path after set_config: %q, %v", mode, sp, err)
		}
		if _, err := c.Exec(ctx, "SELECT set_config('application_name', 'x', false)", pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, "SELECT set_config('server_version', '16', false)", mode); pgCode(err) != "55P02" {
			t.Errorf("%v: set_config server_version: %v", mode, err)
		}
	}
}

// LOCK TABLE … IN ACCESS SHARE MODE, as pg_dump takes it, is accepted in a
// transaction block; outside one it is 25P01, in another mode 0A000.
func TestLockTable(t *testing.T) {
	_, _, addr := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, addr, "")
	if _, err := c.Exec(ctx, "LOCK TABLE public.t IN ACCESS SHARE MODE"); pgCode(err) != "25P01" {
		t.Errorf("outside a transaction: %v", err)
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, "LOCK TABLE public.t, u IN ACCESS SHARE MODE NOWAIT;")
	if err != nil || tag.String() != "LOCK TABLE" {
		t.Errorf("in a transaction: %q, %v", tag.String(), err)
	}
	for _, q := range []string{"LOCK t", "LOCK TABLE t IN EXCLUSIVE MODE"} {
		if _, err := c.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol); pgCode(err) != "0A000" {
			t.Errorf("%s: %v", q, err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		if tx, err = c.Begin(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Exec(ctx, "LOCK TABLE IN ACCESS SHARE MODE"); pgCode(err) != "42601" {
		t.Errorf("no table: %v", err)
	}
}
