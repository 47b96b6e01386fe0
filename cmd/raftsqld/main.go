// Command raftsqld runs one raftsql node: a member of a Raft cluster that
// serves SQL over the Postgres wire protocol.
//
//	raftsqld --id n1 --data-dir /var/lib/raftsql --raft-addr 10.0.0.1:7433 \
//	         --pg-addr :5433 --http-addr :8433 --bootstrap
//	raftsqld --id n2 ... --join 10.0.0.1:7433
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/raftsql/raftsql/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			os.Exit(0) // asked for, and printed
		}
		fmt.Fprintln(os.Stderr, "raftsqld:", err)
		os.Exit(2)
	}
}

// run starts a node with the flags in args and serves until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := server.DefaultConfig()
	fs := pflag.NewFlagSet("raftsqld", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	BindFlags(fs, &cfg)
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error (debug logs each statement with its session and duration)")
	logFormat := fs.String("log-format", "text", "log format: text (key=value) or json (one object a line)")
	shutdownTimeout := fs.Duration("shutdown-timeout", 30*time.Second, "how long a graceful shutdown may take")
	showVersion := fs.Bool("version", false, "print the version and exit")
	contention := fs.Bool("pprof-contention", false, "sample where goroutines block and which mutexes they wait on, for /debug/pprof/block and /debug/pprof/mutex (with --pprof; costs a little on every wait)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: raftsqld --id ID --data-dir DIR [flags]\n\nRuns one raftsql node. Flags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *showVersion {
		fmt.Fprintln(stdout, "raftsqld", server.Version())
		return nil
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *contention {
		// One sample per 10 µs spent blocked, and one mutex wait in 20:
		// enough to see where a transaction waits, cheap enough to leave
		// on during a benchmark.
		runtime.SetBlockProfileRate(10_000)
		runtime.SetMutexProfileFraction(20)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch *logFormat {
	case "text":
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, opts))
	case "json":
		cfg.Logger = slog.New(slog.NewJSONHandler(stderr, opts))
	default:
		return fmt.Errorf("--log-format: %q is neither text nor json", *logFormat)
	}

	node, err := server.New(cfg)
	if err != nil {
		return err
	}
	if err := node.Open(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "raftsqld %s: postgres on %s, raft on %s, http on %s\n", cfg.ID, node.PGAddr(), node.RaftAddr(), node.HTTPAddr())
	select {
	case <-ctx.Done():
	case <-node.Done():
		// The node stopped itself (its state machine failed): exit with
		// an error, so that a supervisor restarts it; it rebuilds its
		// database from the Raft log.
		if err := node.Err(); err != nil {
			return err
		}
		return errors.New("the node stopped")
	}
	done := make(chan error, 1)
	go func() { done <- node.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(*shutdownTimeout):
		return errors.New("shutdown timed out")
	}
}
