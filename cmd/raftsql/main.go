// Command raftsql is the operator's tool for raftsql clusters:
//
//	raftsql demo     run a local 3-node cluster on 127.0.0.1 until interrupted
//	raftsql status   show a cluster's members, leader, indexes and lag
//	raftsql bench    drive a cluster over Postgres wire and report ops/s and latency
//	raftsql passwd   print a user's line for raftsqld --pg-password-file
//	raftsql cert     create a cluster CA and node certificates for node-to-node TLS
//	raftsql backup   write a consistent backup (SQLite file or SQL dump)
//	raftsql restore  replace the whole cluster's data with a SQLite file
//	raftsql snapshot make a node take a snapshot now, compacting its log
//	raftsql members  list, add, remove, promote and demote members
//	raftsql transfer-leader  hand leadership to another voter
//	raftsql version  print the version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/raftsql/raftsql/server"
)

const usage = `usage: raftsql <command> [flags]

commands:
  demo     run a local 3-node cluster on 127.0.0.1 until interrupted
  status   show a cluster's members, leader, indexes and lag
  bench    drive a cluster over Postgres wire and report ops/s and latency
  passwd   print a user's line for raftsqld --pg-password-file
  cert     create a cluster CA and node certificates for node-to-node TLS
  backup   write a consistent backup (SQLite file or SQL dump) to a file or stdout
  restore  replace the whole cluster's data with a SQLite file
  snapshot make a node take a snapshot now, compacting its log
  members  list the members; add, remove, promote or demote one
  transfer-leader  hand leadership to another voter (--to ID)
  version  print the version and VCS revision

Run 'raftsql <command> --help' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			os.Exit(0) // asked for, and printed
		}
		fmt.Fprintln(os.Stderr, "raftsql:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "demo":
		return runDemo(ctx, args[1:], stdout, stderr)
	case "status":
		return runStatus(ctx, args[1:], stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "passwd":
		return runPasswd(args[1:], os.Stdin, stdout, stderr)
	case "cert":
		return runCert(args[1:], stdout, stderr)
	case "backup":
		return runBackup(ctx, args[1:], stdout, stderr)
	case "restore":
		return runRestore(ctx, args[1:], os.Stdin, stdout, stderr)
	case "snapshot":
		return runSnapshot(ctx, args[1:], stdout, stderr)
	case "members":
		return runMembers(ctx, args[1:], stdout, stderr)
	case "transfer-leader":
		return runTransferLeader(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "raftsql", server.Version())
		return nil
	case "ceiling-node": // started by bench --target ceiling
		return runCeilingNode(ctx, args[1:], os.Stdin, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
