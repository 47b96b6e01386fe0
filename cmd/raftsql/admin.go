package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/raftsql/raftsql/server"
)

// maxRedirects bounds how many times an admin request follows a node's
// redirect to the leader (a leadership change in between adds one).
const maxRedirects = 5

// splitAddrs splits a comma-separated list of admin addresses.
func splitAddrs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// adminDo sends method path to the first of addrs that answers, following
// redirects to the leader. body, when not nil, opens the request body anew
// for each attempt and gives its length (-1 when unknown). The caller
// closes the response's body; a response other than 200 is an error
// carrying the node's message.
//
// The requests carry cred's credentials, over HTTPS when cred names a CA.
func adminDo(ctx context.Context, cred adminCredentials, addrs []string, method, path string, body func() (io.ReadCloser, int64, error)) (*http.Response, error) {
	return adminDoHeader(ctx, cred, addrs, method, path, nil, body)
}

// adminDoHeader is adminDo with header's fields set on each request.
func adminDoHeader(ctx context.Context, cred adminCredentials, addrs []string, method, path string, header http.Header, body func() (io.ReadCloser, int64, error)) (*http.Response, error) {
	if len(addrs) == 0 {
		return nil, errors.New("no --addr given")
	}
	var errs []error
	for _, addr := range addrs {
		client, base, err := cred.client(addr)
		if err != nil {
			return nil, err
		}
		// The client follows redirects itself: a follower sends a request
		// that needs the leader there, and a restore's body must be sent
		// again from the start.
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := adminDoOne(ctx, client, cred, base+path, method, header, body)
		if err == nil {
			return resp, nil
		}
		var ae *adminError
		if errors.As(err, &ae) {
			return nil, err // the node answered: its answer is final
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func adminDoOne(ctx context.Context, client *http.Client, cred adminCredentials, target, method string, header http.Header, body func() (io.ReadCloser, int64, error)) (*http.Response, error) {
	for hop := 0; ; hop++ {
		var rc io.ReadCloser
		length := int64(0)
		if body != nil {
			var err error
			if rc, length, err = body(); err != nil {
				return nil, err
			}
		}
		req, err := http.NewRequestWithContext(ctx, method, target, rc)
		if err != nil {
			if rc != nil {
				rc.Close()
			}
			return nil, err
		}
		if rc != nil {
			req.ContentLength = length
			req.Header.Set("Content-Type", "application/octet-stream")
		}
		for k, v := range header {
			req.Header[k] = v
		}
		cred.authorize(req)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		switch resp.StatusCode {
		case http.StatusOK:
			return resp, nil
		case http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			loc, err := resp.Location()
			resp.Body.Close()
			if err != nil {
				return nil, fmt.Errorf("redirect without a location: %w", err)
			}
			if hop >= maxRedirects {
				return nil, fmt.Errorf("more than %d redirects to the leader; the cluster may be electing one", maxRedirects)
			}
			target = loc.String()
			continue
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		u, _ := url.Parse(target)
		return nil, &adminError{node: u.Host, status: resp.Status, code: resp.StatusCode, msg: strings.TrimSpace(string(msg)),
			notApplied: resp.Header.Get(server.HeaderRestoreOutcome) == server.RestoreNotApplied}
	}
}

// adminError is a node's refusal of an admin request.
type adminError struct {
	node, status, msg string
	code              int
	// notApplied is set when the node said a restore changed nothing.
	notApplied bool
}

func (e *adminError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("%s answered %s", e.node, e.status)
	}
	return fmt.Sprintf("%s (%s): %s", e.msg, e.node, e.status)
}
