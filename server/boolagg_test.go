package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server/servertest"
)

// TestBooleanAggregates: bool_and, every and bool_or of a BOOLEAN column,
// NULLs left out, typed boolean.
func TestBooleanAggregates(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn := connect(t, c, c.Follower())
	mustExec(t, conn, "CREATE TABLE f (g INTEGER, ok BOOLEAN)")
	mustExec(t, conn, "INSERT INTO f VALUES (1, true), (1, true), (1, NULL), (2, true), (2, false), (3, NULL)")
	rows, err := conn.Query(ctx, "SELECT g, bool_and(ok), every(ok), bool_or(ok), bool_or(ok AND g > 1) FROM f GROUP BY g ORDER BY g")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type row struct {
		g                   int64
		and, every, or, or2 *bool
	}
	yes, no := true, false
	want := []row{{1, &yes, &yes, &yes, &no}, {2, &no, &no, &yes, &yes}, {3, nil, nil, nil, nil}}
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.g, &r.and, &r.every, &r.or, &r.or2); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	same := func(a, b *bool) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	if len(got) != len(want) {
		t.Fatalf("%d groups, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.g != w.g || !same(g.and, w.and) || !same(g.every, w.every) || !same(g.or, w.or) || !same(g.or2, w.or2) {
			t.Errorf("group %d: and %v every %v or %v or2 %v", g.g, g.and, g.every, g.or, g.or2)
		}
	}
}

// TestSumOverflowIsOutOfRange: a sum past 64 bits is 22003, as Postgres
// says of a bigint out of range (Postgres' sum of a bigint is a numeric and
// does not overflow; here it fails, but with the class clients expect).
func TestSumOverflowIsOutOfRange(t *testing.T) {
	c := servertest.NewCluster(t, 1, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn := connect(t, c, 0)
	mustExec(t, conn, "CREATE TABLE ov (big BIGINT)")
	mustExec(t, conn, "INSERT INTO ov VALUES (9223372036854775807), (9223372036854775807)")
	var n int64
	if err := conn.QueryRow(ctx, "SELECT sum(big) FROM ov").Scan(&n); sqlState(err) != "22003" {
		t.Errorf("sum past 64 bits: %v, want 22003", err)
	}
}
