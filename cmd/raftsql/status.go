package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/raftsql/raftsql/server"
)

// runStatus prints the status of a cluster, asked of the first node in
// --addr that answers.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("raftsql status", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	ac := bindAdminCall(fs)
	asJSON := fs.Bool("json", false, "print the raw JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	ctx, cancel := context.WithTimeout(ctx, *ac.timeout)
	defer cancel()
	body, err := ac.do(ctx, stderr, "GET", "/status", nil)
	if err != nil {
		return err
	}
	if *asJSON {
		_, err := stdout.Write(body)
		return err
	}
	var cs server.ClusterStatus
	if err := json.Unmarshal(body, &cs); err != nil {
		return fmt.Errorf("decoding status: %w", err)
	}
	return printStatus(stdout, cs)
}

// printStatus prints a cluster's status: "-" where a value is unknown,
// errors on lines of their own below the table, never in a column.
func printStatus(w io.Writer, cs server.ClusterStatus) error {
	if cs.Node.LeaderID == "" && cs.Node.LeaderAddr == "" {
		fmt.Fprintf(w, "no leader (as %s sees it), term %d, commit index %d\n\n", dash(cs.Node.ID), cs.Node.Term, cs.Node.CommitIndex)
	} else {
		fmt.Fprintf(w, "leader %s (%s), term %d, commit index %d\n", dash(cs.Node.LeaderID), dash(cs.Node.LeaderAddr), cs.Node.Term, cs.Node.CommitIndex)
	}
	if v := cs.Node.ClusterEntryVersion; v > 0 {
		fmt.Fprintf(w, "cluster versions (as %s sees them): entry %d, side channel %d", dash(cs.Node.ID), v, cs.Node.ClusterPeerVersion)
		if v < cs.Node.EntryVersion || cs.Node.ClusterPeerVersion < cs.Node.PeerVersion {
			fmt.Fprintf(w, "; not yet upgraded: %s reads entry %d, side channel %d", dash(cs.Node.ID), cs.Node.EntryVersion, cs.Node.PeerVersion)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tVOTER\tRAFT\tPOSTGRES\tAPPLIED\tLAG\tVERSION\tLAST CONTACT")
	var problems []string
	for _, m := range cs.Members {
		if m.Status == nil {
			fmt.Fprintf(tw, "%s\tunreachable\t%s\t%s\t-\t-\t-\t-\t-\n", m.ID, voterWord(m.Voter), dash(m.Addr))
			problems = append(problems, fmt.Sprintf("%s: %s", m.ID, cmp.Or(m.Error, "no answer")))
			continue
		}
		s := m.Status
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", m.ID, dash(s.State), voterWord(m.Voter), dash(m.Addr), dash(s.PGAddr), s.AppliedIndex, max(m.Lag, 0), versionCell(s), sinceContact(s.State, s.LastContact))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return printProblems(w, problems)
}

// versionCell is a member's entry and side-channel versions, "e4/p2", or
// "-" for a node of a release that advertises none.
func versionCell(s *server.NodeStatus) string {
	if s.EntryVersion == 0 {
		return "-"
	}
	return fmt.Sprintf("e%d/p%d", s.EntryVersion, s.PeerVersion)
}

// adminCredentials are how a command reaches an admin endpoint that wants
// credentials: an admin user's name and password (HTTP basic auth; the
// password only from the environment, so that it shows in no process
// list), or a bearer token, over HTTPS when a CA certificate is given.
type adminCredentials struct {
	user, token, cacert *string
}

func bindAdminFlags(fs *pflag.FlagSet) adminCredentials {
	return adminCredentials{
		user:   fs.String("user", os.Getenv("PGUSER"), "admin user for HTTP basic auth, its password from $PGPASSWORD (default $PGUSER)"),
		token:  fs.String("token", os.Getenv("RAFTSQL_TOKEN"), "bearer token of the node's --http-token-file (default $RAFTSQL_TOKEN)"),
		cacert: fs.String("cacert", os.Getenv("PGSSLROOTCERT"), "PEM CA certificate to verify the node's HTTPS certificate; implies https (default $PGSSLROOTCERT)"),
	}
}

// client returns the HTTP client and the base URL for addr.
func (a adminCredentials) client(addr string) (*http.Client, string, error) {
	base := strings.TrimSuffix(addr, "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		base = "http://" + base
		if *a.cacert != "" {
			base = "https://" + strings.TrimPrefix(base, "http://")
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if *a.cacert != "" {
		pem, err := os.ReadFile(*a.cacert)
		if err != nil {
			return nil, "", fmt.Errorf("--cacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, "", fmt.Errorf("--cacert %s holds no PEM certificate", *a.cacert)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, base, nil
}

// authorize adds the credentials to req: the token if one is given, else
// the user and $PGPASSWORD.
func (a adminCredentials) authorize(req *http.Request) {
	switch {
	case *a.token != "":
		req.Header.Set("Authorization", "Bearer "+*a.token)
	case *a.user != "" || os.Getenv("PGPASSWORD") != "":
		req.SetBasicAuth(cmp.Or(*a.user, "raftsql"), os.Getenv("PGPASSWORD"))
	}
}
