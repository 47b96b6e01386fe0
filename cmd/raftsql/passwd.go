package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/raftsql/raftsql/pgwire"
	"github.com/raftsql/raftsql/server"
)

// runPasswd prints the password-file line of a user: the SCRAM-SHA-256
// verifier of the password read from stdin, so the file need not hold the
// password itself.
func runPasswd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("raftsql passwd", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: raftsql passwd [--rights read|write|admin] USER < password\n\nPrints USER's line for raftsqld --pg-password-file; the password is read from the first line of stdin.")
		fs.PrintDefaults()
	}
	iterations := fs.Int("iterations", pgwire.DefaultSCRAMIterations, "PBKDF2 iterations of the verifier")
	rights := fs.String("rights", "", "what the user may do: read (read-only), write (read-write, the default) or admin (also the admin endpoint: status, backup, restore, membership)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	suffix := ""
	if *rights != "" {
		r, err := server.ParseRights(*rights)
		if err != nil {
			return fmt.Errorf("--rights: %w", err)
		}
		suffix = " rights=" + r.String()
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" || strings.ContainsAny(fs.Arg(0), ":\n") {
		fs.Usage()
		return errors.New("give one user name, without ':'")
	}
	if *iterations < 1 {
		return errors.New("--iterations must be at least 1")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return err
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return errors.New("no password on stdin")
	}
	v, err := pgwire.NewSCRAMVerifier(password, *iterations)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s:%s%s\n", fs.Arg(0), v, suffix)
	return nil
}
