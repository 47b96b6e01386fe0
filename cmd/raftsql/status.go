package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
	addr := fs.String("addr", "127.0.0.1:8433", "admin HTTP address of any node")
	asJSON := fs.Bool("json", false, "print the raw JSON")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+*addr+"/status", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
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
