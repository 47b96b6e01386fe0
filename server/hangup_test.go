package server_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/raftsql/raftsql/server/servertest"
)

// endless is a read that runs until it is canceled.
const endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"

// TestClosedConnectionCancelsItsStatement starts, on a follower, as many
// endless reads as the node has read connections, checks that they wedge
// every other read there, and closes their clients' sockets: the reads must
// stop, and the node serve reads again.
func TestClosedConnectionCancelsItsStatement(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	f := c.Follower()
	readConns := c.Config(f).ReadConns
	var runaway []*pgx.Conn
	for range readConns {
		conn := connect(t, c, f)
		mustExec(t, conn, "SET raftsql.read_consistency = none")
		// Send the query and do not wait for its answer.
		conn.PgConn().Frontend().Send(&pgproto3.Query{String: endless})
		if err := conn.PgConn().Frontend().Flush(); err != nil {
			t.Fatal(err)
		}
		runaway = append(runaway, conn)
	}
	probe := func(timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, c.DSN(f)+"&options=-c%20raftsql.read_consistency%3Dnone")
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		var one int
		return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
	}
	servertest.Eventually(t, 30*time.Second, "every read connection taken by the endless reads", func() error {
		if err := probe(300 * time.Millisecond); err == nil {
			return errors.New("a read still gets through")
		}
		return nil
	})
	for _, conn := range runaway {
		conn.PgConn().Conn().Close() // the clients die
	}
	servertest.Eventually(t, 20*time.Second, "reads served again", func() error { return probe(2 * time.Second) })
}
