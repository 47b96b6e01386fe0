package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server/servertest"
)

// TestSequenceTableFromAnEarlierVersion: a database whose table of
// sequences was made by an earlier version, without the columns added
// since (start_value, owned_table, owned_column), takes new sequences,
// OWNED BY and RESTART, its old sequences going on where they were, and
// every node ends the same.
func TestSequenceTableFromAnEarlierVersion(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	leader := connect(t, c, c.Leader())
	// The table, and a sequence, as the first CREATE SEQUENCE of the
	// earlier version left them.
	mustExec(t, leader, "CREATE TABLE raftsql_sequences (name TEXT PRIMARY KEY, last_value INTEGER NOT NULL, "+
		"increment INTEGER NOT NULL, min_value INTEGER NOT NULL, max_value INTEGER NOT NULL, is_called INTEGER NOT NULL)")
	mustExec(t, leader, "INSERT INTO raftsql_sequences VALUES ('old_seq', 5, 1, 1, 100, 1)")
	mustExec(t, leader, "CREATE TABLE items (id integer, name text)")

	follower := connect(t, c, c.Follower())
	for _, sql := range []string{
		"CREATE SEQUENCE new_seq START 3",
		"ALTER SEQUENCE new_seq OWNED BY items.id",
		"ALTER SEQUENCE old_seq RESTART",
	} {
		if _, err := follower.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	for _, tc := range []struct {
		sql  string
		want int64
	}{
		{"SELECT nextval('new_seq')", 3},
		{"SELECT nextval('old_seq')", 1},
		{"SELECT nextval('old_seq')", 2},
	} {
		var got int64
		if err := follower.QueryRow(ctx, tc.sql).Scan(&got); err != nil || got != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.sql, got, err, tc.want)
		}
	}
	var owner string
	if err := leader.QueryRow(ctx, "SELECT pg_get_serial_sequence('items', 'id')").Scan(&owner); err != nil || owner != "public.new_seq" {
		t.Errorf("pg_get_serial_sequence: %q %v, want public.new_seq", owner, err)
	}
	c.EnsureSame()
}
