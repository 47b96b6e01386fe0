// Package drivertest is a suite of database/sql behaviour tests for the
// raftsql driver: parameter and result round trips of every type, NULLs,
// large values, prepared statements, transactions, cancellation, Ping,
// concurrency and errors with SQLSTATE. The same suite runs against a
// cluster reached over the network and against a node embedded in the
// process, so both give the same behaviour. It is imported only by tests.
package drivertest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rdriver "github.com/raftsql/raftsql/driver"
)

// runs numbers the calls of Run in a process so that several runs can
// share one cluster without their tables colliding.
var runs atomic.Int64

// Run runs the suite as subtests of t on the DB that open returns. open is
// called once; the caller closes the DB (with t.Cleanup, say). The suite
// creates tables whose names start with "dt<n>_", n distinct per call.
func Run(t *testing.T, open func(t *testing.T) *sql.DB) {
	s := &suite{db: open(t), prefix: fmt.Sprintf("dt%d_", runs.Add(1))}
	tests := []struct {
		name string
		f    func(*suite, *testing.T)
	}{
		{"Ping", (*suite).ping},
		{"RoundTrip", (*suite).roundTrip},
		{"Nulls", (*suite).nulls},
		{"LargeValues", (*suite).largeValues},
		{"Prepared", (*suite).prepared},
		{"RepeatedStatements", (*suite).repeated},
		{"SchemaChange", (*suite).schemaChange},
		{"Transactions", (*suite).transactions},
		{"ReadOnlyTransaction", (*suite).readOnlyTx},
		{"Cancel", (*suite).cancel},
		{"Concurrent", (*suite).concurrent},
		{"Errors", (*suite).errors},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.f(s, t) })
	}
}

type suite struct {
	db     *sql.DB
	prefix string
}

// table returns the name of this run's table base.
func (s *suite) table(base string) string { return s.prefix + base }

type execer interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}

func mustExec(t *testing.T, db execer, q string, args ...any) sql.Result {
	t.Helper()
	res, err := db.ExecContext(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

// sqlState returns the SQLSTATE of err, "" when it carries none.
func sqlState(err error) string {
	var perr *rdriver.Error
	if errors.As(err, &perr) {
		return perr.Code
	}
	return ""
}

func (s *suite) ping(t *testing.T) {
	if err := s.db.PingContext(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (s *suite) roundTrip(t *testing.T) {
	ctx := context.Background()
	typed := s.table("typed")
	mustExec(t, s.db, `CREATE TABLE `+typed+` (id INTEGER PRIMARY KEY, i BIGINT, f DOUBLE PRECISION, b BOOLEAN, s TEXT, y BYTEA, ts TIMESTAMP)`)
	ts := time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.FixedZone("", -7*3600))
	values := []struct {
		col string
		v   any
	}{
		{"i", int64(math.MaxInt64)}, {"i", int64(math.MinInt64)}, {"i", int64(0)}, {"i", int64(-1)},
		{"f", 3.141592653589793}, {"f", -1e-300}, {"f", math.MaxFloat64}, {"f", math.SmallestNonzeroFloat64},
		{"b", true}, {"b", false},
		{"s", "héllo, 世界 🚀 'quoted' \\ back"}, {"s", ""}, {"s", "a\x01b\tc\nd"},
		{"y", []byte{}}, {"y", []byte{0, 'a', 0xFF}},
		{"ts", ts}, {"ts", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for n, tt := range values {
		id := n + 1
		mustExec(t, s.db, fmt.Sprintf(`INSERT INTO %s (id, %s) VALUES ($1, $2)`, typed, tt.col), id, tt.v)
		var got any
		if err := s.db.QueryRowContext(ctx, fmt.Sprintf(`SELECT %s FROM %s WHERE id = $1`, tt.col, typed), id).Scan(&got); err != nil {
			t.Fatalf("select %s (%T): %v", tt.col, tt.v, err)
		}
		if !sameValue(got, tt.v) {
			t.Errorf("%s: sent %T %.40v, got back %T %.40v", tt.col, tt.v, tt.v, got, got)
		}
	}
	// Go types database/sql converts (int, int32, float32, uint8) arrive
	// as the wider ones.
	var (
		i int
		f float32
		u uint8
	)
	if err := s.db.QueryRowContext(ctx, `SELECT $1 + 0, $2 + 0.0, $3 + 0`, 42, float32(1.5), uint8(7)).Scan(&i, &f, &u); err != nil {
		t.Fatal(err)
	}
	if i != 42 || f != 1.5 || u != 7 {
		t.Errorf("converted parameters came back as %d, %v, %d; want 42, 1.5, 7", i, f, u)
	}
}

func (s *suite) nulls(t *testing.T) {
	ctx := context.Background()
	tbl := s.table("nulls")
	mustExec(t, s.db, `CREATE TABLE `+tbl+` (id INTEGER PRIMARY KEY, i INTEGER, f DOUBLE PRECISION, b BOOLEAN, s TEXT, y BYTEA, ts TIMESTAMP, v ANY)`)
	// Omitted columns are NULL; read them through the Null* scanners.
	mustExec(t, s.db, `INSERT INTO `+tbl+` (id) VALUES (1)`)
	var (
		i  sql.NullInt64
		f  sql.NullFloat64
		b  sql.NullBool
		st sql.NullString
		y  []byte
		tm sql.NullTime
	)
	if err := s.db.QueryRowContext(ctx, `SELECT i, f, b, s, y, ts FROM `+tbl+` WHERE id = $1`, 1).Scan(&i, &f, &b, &st, &y, &tm); err != nil {
		t.Fatal(err)
	}
	if i.Valid || f.Valid || b.Valid || st.Valid || y != nil || tm.Valid {
		t.Errorf("NULLs came back as %v %v %v %v %v %v", i, f, b, st, y, tm)
	}
	// nil, a nil []byte and invalid Null* values are sent as NULL.
	params := []any{nil, []byte(nil), sql.NullString{}, sql.NullInt64{}, sql.NullTime{}}
	for n, p := range params {
		id := 10 + n
		mustExec(t, s.db, `INSERT INTO `+tbl+` (id, v) VALUES ($1, $2)`, id, p)
		var isNull bool
		if err := s.db.QueryRowContext(ctx, `SELECT v IS NULL FROM `+tbl+` WHERE id = $1`, id).Scan(&isNull); err != nil || !isNull {
			t.Errorf("parameter %#v: IS NULL = %v, %v; want true", p, isNull, err)
		}
	}
	// A NULL scanned into a plain type is an error, not a zero value.
	var plain int64
	if err := s.db.QueryRowContext(ctx, `SELECT i FROM `+tbl+` WHERE id = 1`).Scan(&plain); err == nil {
		t.Errorf("NULL scanned into int64 without error (got %d)", plain)
	}
	// Valid Null* values go through as values.
	mustExec(t, s.db, `UPDATE `+tbl+` SET i = $1, s = $2 WHERE id = 1`, sql.NullInt64{Int64: 5, Valid: true}, sql.NullString{String: "x", Valid: true})
	if err := s.db.QueryRowContext(ctx, `SELECT i, s FROM `+tbl+` WHERE id = 1`).Scan(&i, &st); err != nil {
		t.Fatal(err)
	}
	if i != (sql.NullInt64{Int64: 5, Valid: true}) || st != (sql.NullString{String: "x", Valid: true}) {
		t.Errorf("got %v, %v; want 5, x", i, st)
	}
}

func (s *suite) largeValues(t *testing.T) {
	ctx := context.Background()
	tbl := s.table("large")
	mustExec(t, s.db, `CREATE TABLE `+tbl+` (id INTEGER PRIMARY KEY, y BYTEA, s TEXT)`)
	blob := bytes.Repeat([]byte{0, 1, 2, 0xFE, 0xFF}, (4<<20)/5+1)[:4<<20]
	text := string(bytes.Repeat([]byte("raftsql "), (1<<20)/8))
	mustExec(t, s.db, `INSERT INTO `+tbl+` (id, y, s) VALUES (1, $1, $2)`, blob, text)
	var (
		y  []byte
		st string
	)
	if err := s.db.QueryRowContext(ctx, `SELECT y, s FROM `+tbl+` WHERE id = 1`).Scan(&y, &st); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(y, blob) {
		t.Errorf("blob of %d bytes came back as %d bytes (equal: false)", len(blob), len(y))
	}
	if st != text {
		t.Errorf("text of %d bytes came back as %d bytes", len(text), len(st))
	}
	// Many rows stream through one result.
	mustExec(t, s.db, `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5000) INSERT INTO `+tbl+` (id, s) SELECT x + 100, 'row ' || x FROM n`)
	rows, err := s.db.QueryContext(ctx, `SELECT id, s FROM `+tbl+` WHERE id > 100 ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id, &st); err != nil {
			t.Fatal(err)
		}
		n++
		if id != int64(100+n) || st != fmt.Sprint("row ", n) {
			t.Fatalf("row %d: got %d %q", n, id, st)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 5000 {
		t.Errorf("%d rows, want 5000", n)
	}
}

func (s *suite) prepared(t *testing.T) {
	ctx := context.Background()
	tbl := s.table("prep")
	mustExec(t, s.db, `CREATE TABLE `+tbl+` (id INTEGER PRIMARY KEY, name TEXT)`)
	ins, err := s.db.PrepareContext(ctx, `INSERT INTO `+tbl+` (id, name) VALUES ($1, $2)`)
	if err != nil {
		t.Fatal(err)
	}
	defer ins.Close()
	for i := 1; i <= 20; i++ {
		if _, err := ins.ExecContext(ctx, i, fmt.Sprint("n", i)); err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
	}
	sel, err := s.db.PrepareContext(ctx, `SELECT name FROM `+tbl+` WHERE id = $1`)
	if err != nil {
		t.Fatal(err)
	}
	defer sel.Close()
	for i := 1; i <= 20; i++ {
		var name string
		if err := sel.QueryRowContext(ctx, i).Scan(&name); err != nil || name != fmt.Sprint("n", i) {
			t.Fatalf("select %d: got %q, %v", i, name, err)
		}
	}
	// A parameter of another type than the last time is re-described.
	var name string
	if err := sel.QueryRowContext(ctx, "3").Scan(&name); err != nil || name != "n3" {
		t.Fatalf("select with a text id: got %q, %v", name, err)
	}
	// A prepared statement used inside a transaction.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.StmtContext(ctx, ins).ExecContext(ctx, 21, "n21"); err != nil {
		t.Fatal(err)
	}
	if err := tx.StmtContext(ctx, sel).QueryRowContext(ctx, 21).Scan(&name); err != nil || name != "n21" {
		t.Fatalf("select in tx: got %q, %v", name, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	res := mustExec(t, s.db, `UPDATE `+tbl+` SET name = name || '!' WHERE id > $1`, 10)
	if n, err := res.RowsAffected(); err != nil || n != 11 {
		t.Errorf("RowsAffected = %d, %v; want 11", n, err)
	}
	res = mustExec(t, s.db, `INSERT INTO `+tbl+` (name) VALUES ('auto')`)
	if id, err := res.LastInsertId(); err != nil || id != 22 {
		t.Logf("LastInsertId = %d, %v", id, err)
	}
	// The statement survives a failure.
	if _, err := ins.ExecContext(ctx, 1, "dup"); sqlState(err) != "23505" {
		t.Errorf("duplicate key: got %v (SQLSTATE %q), want SQLSTATE 23505", err, sqlState(err))
	}
	if err := sel.QueryRowContext(ctx, 2).Scan(&name); err != nil || name != "n2" {
		t.Fatalf("select after a failed insert: got %q, %v", name, err)
	}
}

// repeated runs statements given as SQL text many times on one
// connection, more distinct ones than a connection keeps parsed.
func (s *suite) repeated(t *testing.T) {
	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for round := 0; round < 3; round++ {
		for i := 0; i < 300; i++ {
			var got int64
			q := fmt.Sprintf(`SELECT $1 + %d`, i)
			if err := conn.QueryRowContext(ctx, q, int64(round)).Scan(&got); err != nil {
				t.Fatalf("round %d, %s: %v", round, q, err)
			}
			if got != int64(round+i) {
				t.Fatalf("round %d, %s: got %d, want %d", round, q, got, round+i)
			}
		}
	}
}

// schemaChange changes a table under a statement the connection ran
// before: the statement must see the new columns.
func (s *suite) schemaChange(t *testing.T) {
	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tbl := s.table("schema")
	if _, err := conn.ExecContext(ctx, `CREATE TABLE `+tbl+` (id INTEGER PRIMARY KEY, a TEXT)`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO `+tbl+` VALUES ($1, $2)`, 1, "x"); err != nil {
		t.Fatal(err)
	}
	columns := func() []string {
		t.Helper()
		rows, err := conn.QueryContext(ctx, `SELECT * FROM `+tbl+` WHERE id = $1`, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return cols
	}
	for i := 0; i < 3; i++ {
		if got := columns(); len(got) != 2 {
			t.Fatalf("columns %v, want id and a", got)
		}
	}
	if _, err := conn.ExecContext(ctx, `ALTER TABLE `+tbl+` ADD COLUMN b INTEGER DEFAULT 7`); err != nil {
		t.Fatal(err)
	}
	if got := columns(); len(got) != 3 || got[2] != "b" {
		t.Fatalf("after ALTER TABLE: columns %v, want id, a and b", got)
	}
}

func (s *suite) transactions(t *testing.T) {
	ctx := context.Background()
	acct := s.table("acct")
	mustExec(t, s.db, `CREATE TABLE `+acct+` (id INTEGER PRIMARY KEY, bal INTEGER)`)
	mustExec(t, s.db, `INSERT INTO `+acct+` VALUES (1, 100), (2, 0)`)
	balances := func() (a, b int64) {
		t.Helper()
		err := s.db.QueryRowContext(ctx, `SELECT (SELECT bal FROM `+acct+` WHERE id = 1), (SELECT bal FROM `+acct+` WHERE id = 2)`).Scan(&a, &b)
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, `UPDATE `+acct+` SET bal = bal - 30 WHERE id = 1`)
	res := mustExec(t, tx, `UPDATE `+acct+` SET bal = bal + 30 WHERE id = 2`)
	if n, _ := res.RowsAffected(); n != 1 {
		t.Errorf("RowsAffected in a transaction = %d, want 1", n)
	}
	var inside int64
	if err := tx.QueryRowContext(ctx, `SELECT bal FROM `+acct+` WHERE id = 2`).Scan(&inside); err != nil || inside != 30 {
		t.Fatalf("read own write in tx: %d, %v", inside, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if a, b := balances(); a != 70 || b != 30 {
		t.Errorf("after commit: balances = %d, %d; want 70, 30", a, b)
	}

	tx, err = s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, `UPDATE `+acct+` SET bal = 0`)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if a, b := balances(); a != 70 || b != 30 {
		t.Errorf("after rollback: balances = %d, %d; want 70, 30", a, b)
	}

	// A failed statement aborts the transaction; COMMIT then rolls back.
	tx, err = s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, `UPDATE `+acct+` SET bal = 1000 WHERE id = 1`)
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+acct+` VALUES (2, 0)`); sqlState(err) != "23505" {
		t.Errorf("duplicate key in tx: got %v, want SQLSTATE 23505", err)
	}
	if err := tx.Commit(); err == nil {
		t.Errorf("COMMIT of a failed transaction succeeded")
	}
	if a, b := balances(); a != 70 || b != 30 {
		t.Errorf("after a failed transaction: balances = %d, %d; want 70, 30", a, b)
	}

	// The connection is usable after a transaction ends.
	if err := s.db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
}

func (s *suite) readOnlyTx(t *testing.T) {
	ctx := context.Background()
	tbl := s.table("ro")
	mustExec(t, s.db, `CREATE TABLE `+tbl+` (id INTEGER PRIMARY KEY, v INTEGER)`)
	mustExec(t, s.db, `INSERT INTO `+tbl+` VALUES (1, 7)`)
	ro, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only transaction: %v", err)
	}
	var v int64
	if err := ro.QueryRowContext(ctx, `SELECT v FROM `+tbl+` WHERE id = 1`).Scan(&v); err != nil || v != 7 {
		t.Fatalf("read in a read-only transaction: %d, %v", v, err)
	}
	if _, err := ro.ExecContext(ctx, `UPDATE `+tbl+` SET v = 8`); sqlState(err) != "25006" {
		t.Errorf("write in a read-only transaction: got %v, want SQLSTATE 25006", err)
	}
	ro.Rollback()
	if err := s.db.QueryRowContext(ctx, `SELECT v FROM `+tbl+` WHERE id = 1`).Scan(&v); err != nil || v != 7 {
		t.Fatalf("after the read-only transaction: %d, %v; want 7", v, err)
	}
}

func (s *suite) cancel(t *testing.T) {
	ctx := context.Background()
	endless := `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c`
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	var n int64
	err := s.db.QueryRowContext(cctx, endless).Scan(&n)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("endless query: got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancellation took %v", d)
	}
	// Cancelling by hand, from another goroutine, works the same.
	cctx, cancel = context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.db.QueryRowContext(cctx, endless).Scan(&n) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled query: got %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled query still running after 10s")
	}
	// A context that has ended before the call fails it without a trip.
	if _, err := s.db.ExecContext(cctx, `SELECT 1`); !errors.Is(err, context.Canceled) {
		t.Errorf("call with a cancelled context: got %v, want context.Canceled", err)
	}
	if err := s.db.PingContext(ctx); err != nil {
		t.Fatalf("ping after cancel: %v", err)
	}
}

func (s *suite) concurrent(t *testing.T) {
	ctx := context.Background()
	tbl := s.table("conc")
	mustExec(t, s.db, `CREATE TABLE `+tbl+` (id INTEGER PRIMARY KEY, w INTEGER)`)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if _, err := s.db.ExecContext(ctx, `INSERT INTO `+tbl+` (w) VALUES ($1)`, w); err != nil {
					errs <- err
					return
				}
				var n int
				if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM `+tbl+` WHERE w = $1`, w).Scan(&n); err != nil || n != i+1 {
					errs <- fmt.Errorf("writer %d sees %d of its rows, %v; want %d", w, n, err, i+1)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM `+tbl).Scan(&n); err != nil || n != 200 {
		t.Fatalf("count = %d, %v; want 200", n, err)
	}
}

func (s *suite) errors(t *testing.T) {
	ctx := context.Background()
	tbl := s.table("errs")
	mustExec(t, s.db, `CREATE TABLE `+tbl+` (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`)
	mustExec(t, s.db, `INSERT INTO `+tbl+` VALUES (1, 'one')`)
	cases := []struct {
		sql  string
		args []any
		want string
	}{
		{`INSERT INTO ` + s.table("no_such_table") + ` VALUES (1)`, nil, "42P01"},
		{`SELECT no_such_column FROM ` + tbl, nil, "42703"},
		{`SELEKT 1`, nil, "42601"},
		{`INSERT INTO ` + tbl + ` VALUES ($1, $2)`, []any{1, "again"}, "23505"},
		{`INSERT INTO ` + tbl + ` (id) VALUES ($1)`, []any{2}, "23502"},
		{`CREATE TABLE ` + tbl + ` (x)`, nil, "42P07"},
		{`ATTACH DATABASE 'other.db' AS other`, nil, "42501"},
	}
	for _, c := range cases {
		_, err := s.db.ExecContext(ctx, c.sql, c.args...)
		var perr *rdriver.Error
		if !errors.As(err, &perr) {
			t.Errorf("%s: got %v, want an *Error", c.sql, err)
			continue
		}
		if perr.Code != c.want || perr.Message == "" {
			t.Errorf("%s: got SQLSTATE %s (%q), want %s", c.sql, perr.Code, perr.Message, c.want)
		}
		if errors.Is(err, rdriver.ErrOutcomeUnknown) {
			t.Errorf("%s: a refused statement reports an unknown outcome: %v", c.sql, err)
		}
	}
	// Errors leave the connections usable and change nothing.
	if err := s.db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM `+tbl).Scan(&n); err != nil || n != 1 {
		t.Fatalf("count = %d, %v; want 1", n, err)
	}
	// Scanning into a Go type the value does not fit is a client error.
	var b bool
	if err := s.db.QueryRowContext(ctx, `SELECT 'not a bool'`).Scan(&b); err == nil {
		t.Errorf("scanning text into bool succeeded (%v)", b)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT v FROM `+tbl+` WHERE id = 99`).Scan(&b); !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("no rows: got %v, want sql.ErrNoRows", err)
	}
}

func sameValue(got, want any) bool {
	switch w := want.(type) {
	case []byte:
		g, ok := got.([]byte)
		return ok && bytes.Equal(g, w)
	case time.Time:
		// Timestamps keep microseconds, as in Postgres.
		g, ok := got.(time.Time)
		return ok && g.Equal(w.Truncate(time.Microsecond))
	}
	return got == want
}
