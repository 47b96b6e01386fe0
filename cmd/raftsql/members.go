package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/raftsql/raftsql/server"
)

const membersUsage = `usage: raftsql members [list] [flags]
       raftsql members add ID RAFT-ADDR [--non-voter] [flags]
       raftsql members remove ID [flags]
       raftsql members promote ID [flags]
       raftsql members demote ID [flags]

list     every member: id, role, voter or non-voter, raft address, last
         contact with the leader, applied index and lag
add      add the node ID, which must answer at RAFT-ADDR, as a voter (or a
         non-voter, a read replica that never counts for quorum)
remove   remove a member for good (the last voter cannot be removed)
promote  make a non-voter a voter
demote   make a voter a non-voter

Any node takes the request; a change is made by the leader.

flags:
`

// runMembers lists and changes the cluster's membership.
func runMembers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("raftsql members", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), membersUsage)
		fs.PrintDefaults()
	}
	ac := bindAdminCall(fs)
	nonVoter := fs.Bool("non-voter", false, "add: add the node as a non-voter (read replica)")
	asJSON := fs.Bool("json", false, "print the node's JSON answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest := fs.Args()
	op := "list"
	if len(rest) > 0 {
		op, rest = rest[0], rest[1:]
	}
	want := map[string]int{"list": 0, "add": 2, "remove": 1, "promote": 1, "demote": 1}
	n, ok := want[op]
	if !ok {
		fs.Usage()
		return fmt.Errorf("unknown members command %q", op)
	}
	if len(rest) != n {
		fs.Usage()
		return fmt.Errorf("members %s takes %d argument(s), got %d", op, n, len(rest))
	}
	if *nonVoter && op != "add" {
		return errors.New("--non-voter goes with members add")
	}
	ctx, cancel := context.WithTimeout(ctx, *ac.timeout)
	defer cancel()
	var body []byte
	var err error
	switch op {
	case "list":
		body, err = ac.do(ctx, stderr, "GET", "/members", nil)
		if err != nil {
			return err
		}
		if *asJSON {
			_, err := stdout.Write(body)
			return err
		}
		var ms []server.Member
		if err := json.Unmarshal(body, &ms); err != nil {
			return fmt.Errorf("decoding the members: %w", err)
		}
		return printMembers(stdout, ms)
	case "add":
		req, _ := json.Marshal(map[string]any{"id": rest[0], "raft_addr": rest[1], "non_voter": *nonVoter})
		body, err = ac.do(ctx, stderr, "POST", "/members", req)
	default:
		body, err = ac.do(ctx, stderr, "POST", "/members/"+url.PathEscape(rest[0])+"/"+op, nil)
	}
	if err != nil {
		return err
	}
	return printChange(stdout, body, *asJSON)
}

// runTransferLeader hands leadership to another voter.
func runTransferLeader(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("raftsql transfer-leader", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: raftsql transfer-leader [--to ID] [flags]\n\nHands leadership to the voter ID, or to the most up-to-date other voter.\n\nflags:\n")
		fs.PrintDefaults()
	}
	ac := bindAdminCall(fs)
	to := fs.String("to", "", "id of the voter to hand leadership to (default: the most up-to-date one)")
	asJSON := fs.Bool("json", false, "print the node's JSON answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	ctx, cancel := context.WithTimeout(ctx, *ac.timeout)
	defer cancel()
	path := "/transfer-leader"
	if *to != "" {
		path += "?to=" + url.QueryEscape(*to)
	}
	body, err := ac.do(ctx, stderr, "POST", path, nil)
	if err != nil {
		return err
	}
	return printChange(stdout, body, *asJSON)
}

func printChange(stdout io.Writer, body []byte, asJSON bool) error {
	if asJSON {
		_, err := stdout.Write(body)
		return err
	}
	var mc server.MemberChange
	if err := json.Unmarshal(body, &mc); err != nil {
		return fmt.Errorf("decoding the answer: %w", err)
	}
	_, err := fmt.Fprintln(stdout, mc.Message)
	return err
}

// printMembers prints the member table: "-" where a value is unknown, and
// why a member could not be asked on a line of its own below.
func printMembers(w io.Writer, ms []server.Member) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tVOTER\tRAFT\tLAST CONTACT\tAPPLIED\tLAG")
	var problems []string
	for _, m := range ms {
		role, contact, applied, lag := dash(m.Role), "-", "-", "-"
		if m.Error == "" {
			contact = sinceContact(m.Role, m.LastContact)
			applied = fmt.Sprint(m.AppliedIndex)
			if m.Lag >= 0 {
				lag = fmt.Sprint(m.Lag)
			}
		} else {
			role = "unreachable"
			problems = append(problems, fmt.Sprintf("%s: %s", m.ID, m.Error))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.ID, role, voterWord(m.Voter), dash(m.RaftAddr), contact, applied, lag)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return printProblems(w, problems)
}

func printProblems(w io.Writer, problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	for _, p := range problems {
		if _, err := fmt.Fprintln(w, p); err != nil {
			return err
		}
	}
	return nil
}

func voterWord(v bool) string {
	if v {
		return "voter"
	}
	return "non-voter"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// sinceContact says how long ago a member heard from the leader: "-" for
// the leader itself and when unknown.
func sinceContact(role string, at time.Time) string {
	if role == "leader" || at.IsZero() {
		return "-"
	}
	return time.Since(at).Round(time.Millisecond).String() + " ago"
}

// dialTimeout bounds connecting to one admin address.
const dialTimeout = 3 * time.Second

// adminCall is how a command asks a cluster's admin endpoints: a list of
// addresses tried in order until one answers, with credentials.
type adminCall struct {
	addr    *string
	timeout *time.Duration
	cred    adminCredentials
}

func bindAdminCall(fs *pflag.FlagSet) adminCall {
	return adminCall{
		addr:    fs.String("addr", "127.0.0.1:8433", "admin HTTP address of a node, or a comma-separated list tried in order until one answers (host:port, or http:// or https:// URLs)"),
		timeout: fs.Duration("timeout", 30*time.Second, "give up after this long"),
		cred:    bindAdminFlags(fs),
	}
}

// do sends method path (with body, JSON, when not nil) to the first address
// that answers, and returns the answer's body. An address that cannot be
// reached, or that answers 502, 503 or 504 (it knows no leader, or cannot
// reach it), is reported on stderr and the next one is tried; any other
// answer is final.
func (a adminCall) do(ctx context.Context, stderr io.Writer, method, path string, body []byte) ([]byte, error) {
	addrs := splitAddrs(*a.addr)
	if len(addrs) == 0 {
		return nil, errors.New("no --addr given")
	}
	var errs []error
	for i, addr := range addrs {
		b, final, err := a.doOne(ctx, addr, method, path, body)
		if err == nil {
			return b, nil
		}
		if final {
			return nil, err
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
		if i < len(addrs)-1 {
			fmt.Fprintf(stderr, "raftsql: %v; trying the next address\n", err)
		}
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, fmt.Errorf("no node answered: %w", errors.Join(errs...))
}

func (a adminCall) doOne(ctx context.Context, addr, method, path string, body []byte) (_ []byte, final bool, _ error) {
	client, base, err := a.cred.client(addr)
	if err != nil {
		return nil, true, err
	}
	// A dead address first in the list must not use up the whole timeout.
	client.Transport.(*http.Transport).DialContext = (&net.Dialer{Timeout: dialTimeout}).DialContext
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, true, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	a.cred.authorize(req)
	resp, err := client.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %v", addr, unwrapURLError(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, false, fmt.Errorf("%s: reading the answer: %w", addr, err)
	}
	if resp.StatusCode == http.StatusOK {
		return b, true, nil
	}
	msg := strings.TrimSpace(string(b))
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return nil, true, fmt.Errorf("%s: %s: %s (give an admin's --user and $PGPASSWORD, or --token)", addr, resp.Status, msg)
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return nil, false, fmt.Errorf("%s: %s: %s", addr, resp.Status, msg)
	}
	return nil, true, fmt.Errorf("%s: %s", msg, resp.Status)
}

// unwrapURLError drops net/http's repetition of the method and URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
