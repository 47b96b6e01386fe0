package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/raftsql/raftsql/server"
)

// runRestore replaces a cluster's data with a SQLite database file.
func runRestore(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if archiveArgs(args) {
		return runRestoreFromArchive(ctx, args, stdin, stdout, stderr)
	}
	fs := pflag.NewFlagSet("raftsql restore", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: raftsql restore --addr HOST[,HOST...] FILE\n       raftsql restore --from-archive DIR --to-index N | --to-time T [-o FILE | --addr HOST]\n\nReplaces the data of the whole cluster with FILE, a SQLite database\n(plain or zstd-compressed, as raftsql backup writes it); - reads stdin.\nWith --from-archive, rebuilds the database as of an index or a time\nfrom a continuous archive (raftsqld --archive-dir) and writes it to -o\nor installs it into the cluster at --addr.")
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:8433", "admin HTTP addresses of nodes, comma separated (a follower sends the restore on to the leader)")
	cred := bindAdminFlags(fs)
	timeout := fs.Duration("timeout", 0, "give up after this long (0: no limit)")
	quiet := fs.Bool("quiet", false, "print no progress")
	restoreID := fs.String("restore-id", "", "the restore's id (16 hex digits), to resume or check a restore whose outcome was unknown (default: a new random id, printed)")
	settle := fs.Duration("outcome-timeout", 2*time.Minute, "how long to ask the nodes what became of a restore whose answer was lost")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("restore: exactly one FILE is required")
	}
	path := fs.Arg(0)
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	var prog *progress
	// Once the file is sent, the leader checks it and installs it on every
	// node, which takes a while of its own.
	told := false
	sent := func() {
		prog.finish()
		if !*quiet && !told {
			told = true
			fmt.Fprintln(stderr, "restore: file sent; the leader is checking it and installing it on the cluster")
		}
	}
	opened := false
	body := func() (io.ReadCloser, int64, error) {
		if path == "-" {
			if opened {
				return nil, 0, errors.New("restore: the node redirected a restore read from stdin, which cannot be sent twice; give the leader's address")
			}
			opened = true
			if !*quiet {
				prog = newProgress(stderr, "restore", 0)
			}
			return io.NopCloser(&progressReader{stdin, prog, sent}), -1, nil
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, 0, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		if !*quiet {
			prog = newProgress(stderr, "restore", st.Size())
		}
		return readCloser{&progressReader{f, prog, sent}, f}, st.Size(), nil
	}
	start := time.Now()
	addrs := splitAddrs(*addr)
	rs := &restoreSender{ctx: ctx, cred: cred, addrs: addrs, quiet: *quiet, stderr: stderr, settle: *settle}
	if *restoreID != "" {
		id, err := server.ParseRestoreID(*restoreID)
		if err != nil {
			return fmt.Errorf("restore: --restore-id: %w", err)
		}
		rs.id, rs.resume = id, true
	} else {
		rs.id = server.NewRestoreID()
	}
	info, err := rs.run(func() error {
		if path == "-" {
			return errors.New("the file read from stdin cannot be sent again: run the restore again")
		}
		told = false
		return nil
	}, body)
	if err != nil {
		return err
	}
	if rs.polled && !info.AlreadyInstalled {
		fmt.Fprintf(stdout, "restore %s installed: the cluster's data is the file's as of index %d (the answer was lost; the nodes told)\n", rs.id, info.Index)
		return nil
	}
	if info.AlreadyInstalled {
		fmt.Fprintf(stdout, "restore %s was installed already, at index %d; not installed again\n", rs.id, info.Index)
		return nil
	}
	fmt.Fprintf(stdout, "restored %s: the cluster's data is the file's as of index %d (%s)\n", bytesText(info.DBSize), info.Index, time.Since(start).Round(time.Millisecond))
	return nil
}

// restoreAttempts is how many times a restore is sent while the nodes
// answer that it was not applied (its leader lost its leadership).
const restoreAttempts = 5

type readCloser struct {
	io.Reader
	io.Closer
}
