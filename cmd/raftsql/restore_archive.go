package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/raftsql/raftsql/server"
)

// archiveArgs reports whether a restore asks for a rebuild from an archive.
func archiveArgs(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--from-archive" || strings.HasPrefix(a, "--from-archive=") {
			return true
		}
	}
	return false
}

// runRestoreFromArchive rebuilds the database as of an index or a time from
// a continuous archive, into a file or into a cluster.
func runRestoreFromArchive(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("raftsql restore --from-archive", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: raftsql restore --from-archive DIR --to-index N | --to-time T [-o FILE | --addr HOST]\n\n"+
			"Rebuilds the database as it was at index N (inclusive), or at the last entry\n"+
			"the leader stamped at or before T, from the archive raftsqld --archive-dir keeps,\n"+
			"and writes it as a SQLite file (-o) or installs it into the cluster (--addr).")
		fs.PrintDefaults()
	}
	dir := fs.String("from-archive", "", "the archive directory (raftsqld --archive-dir)")
	toIndex := fs.Uint64("to-index", 0, "rebuild the state as of this log index")
	toTime := fs.String("to-time", "", "rebuild the state as of this time (RFC 3339, e.g. 2026-12-02T04:40:00Z, or Unix seconds)")
	out := fs.StringP("output", "o", "", "write the rebuilt SQLite file here")
	addr := fs.String("addr", "", "instead, install it into the cluster at these admin HTTP addresses (the ordinary restore)")
	cred := bindAdminFlags(fs)
	timeout := fs.Duration("timeout", 0, "give up after this long (0: no limit)")
	quiet := fs.Bool("quiet", false, "print no progress")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errors.New("restore --from-archive: takes no FILE; give -o or --addr")
	}
	if *dir == "" {
		return errors.New("restore --from-archive: the archive directory is required")
	}
	var target server.ArchiveTarget
	switch {
	case (*toIndex > 0) == (*toTime != ""):
		return errors.New("restore --from-archive: give exactly one of --to-index and --to-time")
	case *toIndex > 0:
		target.Index = *toIndex
	default:
		t, err := parseTargetTime(*toTime)
		if err != nil {
			return fmt.Errorf("restore --from-archive: --to-time %q: %w", *toTime, err)
		}
		target.Time = t
	}
	if (*out == "") == (*addr == "") {
		return errors.New("restore --from-archive: give exactly one of -o FILE and --addr HOST")
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}

	path := *out
	if *addr != "" {
		tmp, err := os.MkdirTemp("", "raftsql-rebuild-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		path = filepath.Join(tmp, "rebuilt.db")
	} else if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	start := time.Now()
	info, err := server.RebuildFromArchive(ctx, *dir, target, path, rebuildProgress(stderr, *quiet))
	if err != nil {
		return fmt.Errorf("restore --from-archive: %w", err)
	}
	fmt.Fprintf(stdout, "rebuilt %s as of index %d (%s), from the base of index %d and %d entries (%s)\n",
		bytesText(info.DBSize), info.Index, info.Time.UTC().Format(time.RFC3339Nano), info.BaseIndex, info.Entries, time.Since(start).Round(time.Millisecond))
	if *addr == "" {
		return nil
	}
	restore := []string{"--addr", *addr, "--user", *cred.user, "--token", *cred.token, "--cacert", *cred.cacert}
	if *quiet {
		restore = append(restore, "--quiet")
	}
	if dl, ok := ctx.Deadline(); ok {
		restore = append(restore, "--timeout", time.Until(dl).String())
	}
	return runRestore(ctx, append(restore, path), stdin, stdout, stderr)
}

// parseTargetTime reads RFC 3339 (with or without fractions) or Unix
// seconds.
func parseTargetTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && f < 1<<33 {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
	}
	return time.Time{}, errors.New("want RFC 3339 (2026-12-02T04:40:00Z) or Unix seconds")
}

// rebuildProgress shows the base being read as a progress bar, then the
// replay as a line every few seconds.
func rebuildProgress(stderr io.Writer, quiet bool) func(server.RebuildProgress) {
	if quiet {
		return nil
	}
	var base *progress
	var last time.Time
	var done int64
	return func(p server.RebuildProgress) {
		switch p.Stage {
		case "base":
			if base == nil {
				base = newProgress(stderr, "restore: base", p.Total)
			}
			base.add(int(p.Done - done))
			done = p.Done
		case "done":
			base.finish()
			base = nil
		case "replay":
			if base != nil {
				base.finish()
				base = nil
				fmt.Fprintln(stderr, "restore: base read; applying the archived entries")
			}
			if now := time.Now(); now.Sub(last) >= 2*time.Second {
				last = now
				if p.Total > 0 {
					fmt.Fprintf(stderr, "restore: applied to index %d of %d\n", p.Done, p.Total)
				} else {
					fmt.Fprintf(stderr, "restore: applied to index %d\n", p.Done)
				}
			}
		}
	}
}
