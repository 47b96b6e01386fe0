package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/pflag"

	"github.com/raftsql/raftsql/server"
)

// runBackup writes a backup of a cluster, fetched from a node's admin
// endpoint, to a file or to stdout.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("raftsql backup", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8433", "admin HTTP addresses of nodes, comma separated (the first that answers is asked; a follower sends the request on to the leader)")
	cred := bindAdminFlags(fs)
	output := fs.StringP("output", "o", "", "file to write (required); - writes to stdout")
	format := fs.String("format", server.BackupSQLite, "sqlite (a database file sqlite3 opens), sql (SQL text that sqlite3 loads, and psql too unless there are triggers) or psql (SQL text for psql -f, triggers included)")
	compress := fs.String("compress", "none", "zstd or none")
	consistency := fs.String("consistency", server.ReadLinearizable, "linearizable: the leader's state once it applied everything committed; none: the state of the node asked, whatever its role")
	timeout := fs.Duration("timeout", 0, "give up after this long (0: no limit)")
	quiet := fs.Bool("quiet", false, "print no progress")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *output == "" {
		return errors.New("backup: -o FILE (or -o - for stdout) is required")
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	q := url.Values{}
	q.Set("format", *format)
	if *compress != "none" && *compress != "" {
		q.Set("compress", *compress)
	}
	q.Set("consistency", *consistency)

	start := time.Now()
	waiting := !*quiet && isTerminal(stderr)
	if waiting {
		fmt.Fprint(stderr, "backup: the node is copying the database…")
	}
	resp, err := adminDo(ctx, cred, splitAddrs(*addr), "GET", "/backup?"+q.Encode(), nil)
	if err != nil {
		if waiting {
			fmt.Fprintln(stderr)
		}
		return fmt.Errorf("backup: %w", err)
	}
	defer resp.Body.Close()

	var out io.Writer = stdout
	var tmp *os.File
	if *output != "-" {
		// Written beside the target and renamed at the end, so that a
		// failed backup never leaves a file that looks whole.
		tmp, err = os.CreateTemp(filepath.Dir(*output), filepath.Base(*output)+".partial-*")
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		defer func() {
			if tmp != nil {
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
		out = tmp
	}
	var prog *progress
	if !*quiet {
		total := resp.ContentLength
		if *format == server.BackupSQLite && (*compress == "none" || *compress == "") {
			total = atoi64(resp.Header.Get(server.HeaderDBSize))
		}
		prog = newProgress(stderr, "backup", total)
	}
	n, err := io.Copy(progressWriter{out, prog}, resp.Body)
	prog.finish()
	if err != nil {
		return fmt.Errorf("backup: interrupted after %s: %w", bytesText(n), err)
	}
	// The index comes again as a trailer once the node sent everything;
	// without it the stream was cut short.
	index := resp.Trailer.Get(server.HeaderIndex)
	if index == "" {
		return fmt.Errorf("backup: the node ended the stream after %s without finishing it", bytesText(n))
	}
	if tmp != nil {
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if err := tmp.Close(); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if err := os.Rename(tmp.Name(), *output); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		tmp = nil
	}
	report := stdout
	if *output == "-" {
		report = stderr
	}
	where := *output
	if where == "-" {
		where = "stdout"
	}
	fmt.Fprintf(report, "backup of index %s (term %s): %s written to %s in %s\n", index, resp.Header.Get(server.HeaderTerm),
		bytesText(n), where, time.Since(start).Round(time.Millisecond))
	return nil
}

// atoi64 parses a header's number, 0 when absent or bad.
func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
