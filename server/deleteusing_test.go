package server_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server/servertest"
)

// TestDeleteUsing: DELETE … USING deletes the rows a join chooses, with
// an alias, several tables, a parameter and RETURNING, the same rows on
// every node.
func TestDeleteUsing(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fc := connect(t, c, c.Follower())
	mustExec(t, fc, "CREATE TABLE regions (id int PRIMARY KEY, name text)")
	mustExec(t, fc, "CREATE TABLE customers (id int PRIMARY KEY, region int)")
	mustExec(t, fc, "CREATE TABLE orders (id int PRIMARY KEY, customer_id int, note text)")
	mustExec(t, fc, "INSERT INTO regions VALUES (1, 'north'), (2, 'south')")
	mustExec(t, fc, "INSERT INTO customers VALUES (10, 1), (11, 2), (12, 1)")
	mustExec(t, fc, "INSERT INTO orders VALUES (100, 10, 'a'), (101, 11, 'b'), (102, 12, 'c'), (103, 11, 'd'), (104, 99, 'e')")

	rows, err := fc.Query(ctx, "DELETE FROM ONLY public.orders o USING customers c, regions r "+
		"WHERE o.customer_id = c.id AND c.region = r.id AND r.name = $1 RETURNING o.id, note", "north")
	if err != nil {
		t.Fatal(err)
	}
	var deleted []int64
	for rows.Next() {
		var id int64
		var note string
		if err := rows.Scan(&id, &note); err != nil {
			t.Fatal(err)
		}
		deleted = append(deleted, id)
	}
	if rows.Close(); rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	slices.Sort(deleted)
	if want := []int64{100, 102}; !slices.Equal(deleted, want) {
		t.Errorf("RETURNING gave %v, want %v", deleted, want)
	}
	tag, err := fc.Exec(ctx, "DELETE FROM orders USING (VALUES (103), (104)) AS d(id) WHERE orders.id = d.id")
	if err != nil || tag.RowsAffected() != 2 {
		t.Fatalf("DELETE … USING (VALUES …): %v, %v", tag, err)
	}
	for i := range c.Size() {
		var left []int64
		rows, err := connect(t, c, i).Query(ctx, "SELECT id FROM orders ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			left = append(left, id)
		}
		rows.Close()
		if want := []int64{101}; !slices.Equal(left, want) {
			t.Errorf("node %d: orders %v, want %v", i, left, want)
		}
	}
}
