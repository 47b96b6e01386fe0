package driver_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"net"
	"os"

	_ "github.com/raftsql/raftsql/driver"
	"github.com/raftsql/raftsql/server"
)

// Example starts a one-node cluster in the process and uses it through
// database/sql. A real deployment lists every node in the DSN:
// raftsql://app:secret@n1:5433,n2:5433,n3:5433/app.
func Example() {
	dir, err := os.MkdirTemp("", "raftsql-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	raftLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	pgLn, err := net.Listen("tcp", "127.0.0.1:0")
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

	db, err := sql.Open("raftsql", "raftsql://app@"+node.PGAddr()+"/app?sslmode=disable")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	// Until the node has elected itself it answers "no leader" (57P03),
	// which the driver retries.
	if _, err := db.Exec(`CREATE TABLE greetings (id INTEGER PRIMARY KEY, text TEXT)`); err != nil {
		log.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO greetings (text) VALUES ($1)`, "hello, raft"); err != nil {
		log.Fatal(err)
	}
	var text string
	if err := db.QueryRow(`SELECT text FROM greetings WHERE id = $1`, 1).Scan(&text); err != nil {
		log.Fatal(err)
	}
	fmt.Println(text)
	// Output: hello, raft
}
