package server_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"time"

	"github.com/raftsql/raftsql/server"
)

// ExampleNode_DB embeds a one-node cluster in a program and uses it through
// database/sql without a network hop. More nodes join it with Config.Join;
// the program's connections stay on its own node, which forwards writes to
// the leader.
func ExampleNode_DB() {
	dir, err := os.MkdirTemp("", "raftsql-embed")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	raftLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	pgLn, err := net.Listen("tcp", "127.0.0.1:0") // for psql and other processes
	if err != nil {
		log.Fatal(err)
	}
	cfg := server.DefaultConfig()
	cfg.ID = "n1"
	cfg.DataDir = dir
	cfg.RaftListener = raftLn
	cfg.PGListener = pgLn
	cfg.Bootstrap = true
	node, err := server.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	if err := node.Open(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer node.Close()

	db := node.DB()
	defer db.Close() // the caller owns the DB; defers close it before the node

	// Until the node has elected itself it answers "no leader", which the
	// driver retries for up to 15s; a bounded context says how long to wait.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE TABLE fruit (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER)`); err != nil {
		log.Fatal(err)
	}
	for i, name := range []string{"apple", "banana", "cherry"} {
		if _, err := db.ExecContext(ctx, `INSERT INTO fruit (name, qty) VALUES ($1, $2)`, name, 10*(i+1)); err != nil {
			log.Fatal(err)
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT name, qty FROM fruit WHERE qty > $1 ORDER BY id`, 10)
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var qty int
		if err := rows.Scan(&name, &qty); err != nil {
			log.Fatal(err)
		}
		fmt.Println(name, qty)
	}
	if err := rows.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// banana 20
	// cherry 30
}
