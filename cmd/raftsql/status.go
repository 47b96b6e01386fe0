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
	"time"

	"github.com/spf13/pflag"

	"github.com/raftsql/raftsql/server"
)

// runStatus prints the status of a cluster, asked of one node's admin
// endpoint.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("raftsql status", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8433", "admin HTTP address of any node (host:port, or an http:// or https:// URL)")
	asJSON := fs.Bool("json", false, "print the raw JSON")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	cred := bindAdminFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client, base, err := cred.client(*addr)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/status", nil)
	if err != nil {
		return err
	}
	cred.authorize(req)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode == http.StatusUnauthorized {
			return fmt.Errorf("%s: %s(give an admin's --user and $PGPASSWORD, or --token)", resp.Status, body)
		}
		return fmt.Errorf("%s: %s", resp.Status, body)
	}
	if *asJSON {
		_, err := stdout.Write(body)
		return err
	}
	var cs server.ClusterStatus
	if err := json.Unmarshal(body, &cs); err != nil {
		return fmt.Errorf("decoding status: %w", err)
	}
	fmt.Fprintf(stdout, "leader %s (%s), term %d, commit index %d\n\n", cs.Node.LeaderID, cs.Node.LeaderAddr, cs.Node.Term, cs.Node.CommitIndex)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tVOTER\tRAFT\tPOSTGRES\tAPPLIED\tLAG\tLAST CONTACT")
	for _, m := range cs.Members {
		if m.Status == nil {
			fmt.Fprintf(tw, "%s\tunreachable\t%v\t%s\t\t\t\t%s\n", m.ID, m.Voter, m.Addr, m.Error)
			continue
		}
		s := m.Status
		contact := "-"
		if s.State != "leader" && !s.LastContact.IsZero() {
			contact = time.Since(s.LastContact).Round(time.Millisecond).String() + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\t%d\t%d\t%s\n", m.ID, s.State, m.Voter, m.Addr, s.PGAddr, s.AppliedIndex, m.Lag, contact)
	}
	return tw.Flush()
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
