package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/raftsql/raftsql/server"
)

// runSnapshot makes a node take a snapshot now, compacting its log.
func runSnapshot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("raftsql snapshot", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8433", "admin HTTP address of the node to snapshot (with a comma-separated list, the first that answers)")
	cred := bindAdminFlags(fs)
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	resp, err := adminDo(ctx, cred, splitAddrs(*addr), "POST", "/snapshot", nil)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer resp.Body.Close()
	var info server.SnapshotInfo
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return fmt.Errorf("snapshot: reading the node's answer: %w", err)
	}
	fmt.Fprintf(stdout, "snapshot at index %d\n", info.Index)
	return nil
}
