package server_test

import (
	"context"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/raftsql/raftsql/server/servertest"
)

// TestLargeQueryTextCopies counts the bytes allocated (Go heap; SQLite's C
// memory is apart) to run a query holding a 32 MiB literal, client
// included, in units of the text's size. pgx makes one to three copies,
// pgproto3 on the node one to three (the message, and its decoded
// string); the node itself must make none more. It made 16 to 24: a
// tokenizer looking for BEGIN, the catalog matcher, and the column's
// name, which SQLite takes from the expression's text.
func TestLargeQueryTextCopies(t *testing.T) {
	c := servertest.NewCluster(t, 1, servertest.Options{})
	conn := connect(t, c, 0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const size = 32 << 20
	q := "SELECT length('" + strings.Repeat("x", size) + "')"
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	allocs := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec, pgx.QueryExecModeCacheDescribe} {
		runtime.GC()
		before := allocs()
		var n int
		if err := conn.QueryRow(ctx, q, mode).Scan(&n); err != nil || n != size {
			t.Fatalf("%v: %d, %v", mode, n, err)
		}
		copies := float64(allocs()-before) / size
		t.Logf("%v: %.1f copies", mode, copies)
		if copies > 9 {
			t.Errorf("%v: %.1f copies of the query text", mode, copies)
		}
	}
}
