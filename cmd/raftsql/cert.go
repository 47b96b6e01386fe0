package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/raftsql/raftsql/raft/nodecert"
)

const certUsage = `usage:
  raftsql cert ca   --out DIR                                   create a cluster CA: DIR/ca.crt, DIR/ca.key
  raftsql cert node --ca DIR --id ID --host HOST[,HOST] --out DIR  issue node ID's certificate: DIR/ID.crt, DIR/ID.key

Every node gets its own certificate, naming its id and the hosts (IP
addresses or DNS names) peers dial it at; all trust the same ca.crt:
  raftsqld --id ID --raft-tls-cert DIR/ID.crt --raft-tls-key DIR/ID.key --raft-tls-ca DIR/ca.crt ...
Keep ca.key away from the nodes: it issues membership.
`

// runCert makes the certificates of node-to-node TLS.
func runCert(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "ca" && args[0] != "node") {
		fmt.Fprint(stderr, certUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return pflag.ErrHelp
		}
		return errors.New("cert: want 'ca' or 'node'")
	}
	fs := pflag.NewFlagSet("raftsql cert "+args[0], pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, certUsage)
		fs.PrintDefaults()
	}
	out := fs.String("out", ".", "directory to write the files to (created if missing)")
	force := fs.Bool("force", false, "overwrite existing files")
	switch args[0] {
	case "ca":
		name := fs.String("name", "raftsql cluster CA", "the CA's common name")
		days := fs.Int("days", 3650, "days the CA is valid")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 || *days < 1 {
			fs.Usage()
			return errors.New("cert ca: bad arguments")
		}
		ca, err := nodecert.NewCA(*name, time.Duration(*days)*24*time.Hour)
		if err != nil {
			return err
		}
		if err := ca.WriteCA(*out, *force); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s and %s\n", filepath.Join(*out, nodecert.CACertFile), filepath.Join(*out, nodecert.CAKeyFile))
		return nil
	default:
		caDir := fs.String("ca", ".", "directory holding ca.crt and ca.key")
		id := fs.String("id", "", "the node's id, as raftsqld --id (required)")
		hosts := fs.StringSlice("host", nil, "IP addresses and DNS names peers dial the node at (required; repeat or comma separate)")
		days := fs.Int("days", 825, "days the certificate is valid")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 || *id == "" || len(*hosts) == 0 || *days < 1 {
			fs.Usage()
			return errors.New("cert node: --id and --host are required")
		}
		ca, err := nodecert.LoadCA(*caDir)
		if err != nil {
			return fmt.Errorf("cert node: %w", err)
		}
		n, err := ca.Issue(*id, *hosts, time.Duration(*days)*24*time.Hour)
		if err != nil {
			return err
		}
		if err := n.WriteNode(*out, *id, *force); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s and %s\n", filepath.Join(*out, nodecert.NodeCertFile(*id)), filepath.Join(*out, nodecert.NodeKeyFile(*id)))
		return nil
	}
}
