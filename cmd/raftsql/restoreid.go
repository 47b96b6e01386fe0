package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/raftsql/raftsql/server"
)

// exitOutcomeUnknown is the exit status of a restore whose outcome is
// unknown: it may or may not have been installed (raftsql restore
// --restore-id ID tells, later).
const exitOutcomeUnknown = 3

// exitError is an error with an exit status of its own.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// restoreSender sends a restore under its id and, when the answer is lost,
// asks the nodes what became of it (GET /restore/status): it reports the
// install, sends the file again when the restore was definitely not
// applied, or gives up with exitOutcomeUnknown.
type restoreSender struct {
	ctx    context.Context
	cred   adminCredentials
	addrs  []string
	quiet  bool
	stderr io.Writer
	settle time.Duration

	id server.RestoreID
	// resume is set for an id given with --restore-id.
	resume bool
	// after is the applied index a node reported before the upload: an
	// entry of this restore can only be past it.
	after uint64
	// legacy is set when the nodes know nothing of restore ids (an
	// older release).
	legacy bool
	// polled is set when the outcome was learned by asking.
	polled bool
}

func (rs *restoreSender) logf(format string, args ...any) {
	if !rs.quiet {
		fmt.Fprintf(rs.stderr, "restore: "+format+"\n", args...)
	}
}

// unknown is the error of a restore whose outcome is unknown.
func (rs *restoreSender) unknown(why error) error {
	return &exitError{code: exitOutcomeUnknown, err: fmt.Errorf("restore %s: %w; the outcome is unknown: the restore may or may not have been installed. Ask later with: raftsql restore --restore-id %s --addr ADDRS FILE (it reports the install, or sends the file again only if it was not applied)", rs.id, why, rs.id)}
}

// status asks addr what became of the restore.
func (rs *restoreSender) status(ctx context.Context, addr string, local bool) (server.RestoreStatus, error) {
	q := url.Values{"id": {rs.id.String()}, "after": {strconv.FormatUint(rs.after, 10)}}
	if local {
		q.Set("local", "1")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := adminDo(ctx, rs.cred, []string{addr}, "GET", "/restore/status?"+q.Encode(), nil)
	if err != nil {
		return server.RestoreStatus{}, err
	}
	defer resp.Body.Close()
	var st server.RestoreStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("%s: reading the answer: %w", addr, err)
	}
	return st, nil
}

// precheck asks the first node that answers about the restore id before
// anything is sent; it learns the applied index the restore's entries
// will follow, and whether the nodes know restore ids at all.
func (rs *restoreSender) precheck() (server.RestoreStatus, error) {
	var errs []error
	for _, addr := range rs.addrs {
		st, err := rs.status(rs.ctx, addr, !rs.resume)
		var ae *adminError
		if errors.As(err, &ae) && ae.code == http.StatusNotFound {
			rs.legacy = true
			return server.RestoreStatus{Outcome: server.RestoreUnknown}, nil
		}
		if errors.As(err, &ae) {
			return st, err // refused: credentials, say
		}
		if err == nil {
			rs.after = st.AppliedIndex
			return st, nil
		}
		errs = append(errs, err)
	}
	return server.RestoreStatus{}, errors.Join(errs...)
}

// waitOutcome asks the nodes, until one gives a definite outcome or
// rs.settle has passed, what became of the restore.
func (rs *restoreSender) waitOutcome() (server.RestoreStatus, error) {
	ctx, cancel := context.WithTimeout(rs.ctx, rs.settle)
	defer cancel()
	start := time.Now()
	var last string
	var lastShown time.Time
	for {
		var errs []error
		var said []string
		for _, addr := range rs.addrs {
			st, err := rs.status(ctx, addr, false)
			if err != nil {
				errs = append(errs, err)
				said = append(said, addr+" does not answer")
				continue
			}
			switch st.Outcome {
			case server.RestoreInstalled, server.RestoreAborted, server.RestoreNotApplied:
				return st, nil
			}
			said = append(said, st.Node+" says "+st.Outcome)
		}
		if s := strings.Join(said, ", "); s != last || time.Since(lastShown) >= 5*time.Second {
			last, lastShown = s, time.Now()
			rs.logf("waiting to learn what became of restore %s: %s (%s)", rs.id, s, time.Since(start).Round(time.Second))
		}
		t := time.NewTimer(250 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			why := fmt.Errorf("no node said within %s whether it was installed", rs.settle)
			if len(errs) > 0 {
				why = fmt.Errorf("%w (%w)", why, errors.Join(errs...))
			}
			return server.RestoreStatus{}, rs.unknown(why)
		}
	}
}

// post sends the restore to the first node that takes the connection. A
// node that fails in the middle of the request is not followed by the
// next: the restore may have reached it, and only asking tells.
func (rs *restoreSender) post(header http.Header, body func() (io.ReadCloser, int64, error)) (*http.Response, error) {
	var errs []error
	for _, addr := range rs.addrs {
		resp, err := adminDoHeader(rs.ctx, rs.cred, []string{addr}, "POST", "/restore", header, body)
		var oe *net.OpError
		if err == nil || !errors.As(err, &oe) || oe.Op != "dial" {
			return resp, err
		}
		errs = append(errs, err) // nothing sent: the next
	}
	return nil, &notSent{errors.Join(errs...)}
}

// notSent is the error of a request no node took.
type notSent struct{ err error }

func (e *notSent) Error() string { return e.err.Error() }
func (e *notSent) Unwrap() error { return e.err }

// run sends the restore (body opens the file anew each time; again, before
// each time after the first, says whether it can be) and returns its
// outcome.
func (rs *restoreSender) run(again func() error, body func() (io.ReadCloser, int64, error)) (server.RestoreInfo, error) {
	pre, err := rs.precheck()
	if err != nil {
		return server.RestoreInfo{}, fmt.Errorf("restore: nothing sent: %w", err)
	}
	if rs.legacy && rs.resume {
		return server.RestoreInfo{}, fmt.Errorf("restore: --restore-id: the nodes do not know restore ids (an older release)")
	}
	if !rs.legacy {
		rs.logf("restore id %s", rs.id)
	}
	if rs.resume {
		st := pre
		if st.Outcome == server.RestoreInProgress {
			if st, err = rs.waitOutcome(); err != nil {
				return server.RestoreInfo{}, err
			}
		}
		switch st.Outcome {
		case server.RestoreInstalled:
			rs.polled = true
			return server.RestoreInfo{Index: st.Index, ID: rs.id, AlreadyInstalled: true}, nil
		case server.RestoreAborted, server.RestoreNotApplied:
			rs.logf("restore %s was not applied (%s says %s); sending it", rs.id, st.Node, st.Outcome)
		default:
			return server.RestoreInfo{}, rs.unknown(fmt.Errorf("%s says %s", st.Node, st.Outcome))
		}
	}
	header := http.Header{server.HeaderRestoreID: {rs.id.String()}}
	for attempt := 1; ; attempt++ {
		resp, err := rs.post(header, body)
		if err == nil {
			defer resp.Body.Close()
			var info server.RestoreInfo
			if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
				if rs.legacy {
					return info, rs.unknown(fmt.Errorf("reading the node's answer: %w", err))
				}
				// Installed, most likely: ask.
				rs.logf("reading the node's answer: %v; asking the nodes what became of restore %s", err, rs.id)
				st, err := rs.waitOutcome()
				if err != nil {
					return info, err
				}
				if st.Outcome != server.RestoreInstalled {
					return info, rs.unknown(fmt.Errorf("the answer was lost, and %s says %s", st.Node, st.Outcome))
				}
				rs.polled = true
				return server.RestoreInfo{Index: st.Index, ID: rs.id}, nil
			}
			return info, nil
		}
		var ae *adminError
		isAdmin := errors.As(err, &ae)
		var ns *notSent
		switch {
		case errors.As(err, &ns) && attempt == 1:
			return server.RestoreInfo{}, fmt.Errorf("restore: nothing sent: %w", err)
		case isAdmin && ae.notApplied:
			// The leader changed before the restore was installed, and
			// nothing changed: send it again, to the new leader.
		case isAdmin && ae.code == http.StatusConflict && attempt > 1:
			// Sent again once the first attempt was definitely not
			// applied, to a leader still busy (aborting what the last
			// one left staged): this request changed nothing either.
		case isAdmin && ae.code < 500:
			return server.RestoreInfo{}, fmt.Errorf("restore: %w", err) // refused: nothing changed
		case rs.legacy:
			return server.RestoreInfo{}, &exitError{code: exitOutcomeUnknown, err: fmt.Errorf("restore: %w; the outcome is unknown (the nodes do not know restore ids: an older release): see the cluster's data before sending it again", err)}
		default:
			// The answer was lost (the leader went away, the connection
			// broke) or does not say: ask.
			rs.logf("%v; asking the nodes what became of restore %s", err, rs.id)
			st, werr := rs.waitOutcome()
			if werr != nil {
				return server.RestoreInfo{}, werr
			}
			if st.Outcome == server.RestoreInstalled {
				rs.polled = true
				return server.RestoreInfo{Index: st.Index, ID: rs.id}, nil
			}
			err = fmt.Errorf("%w; %s says restore %s is %s", err, st.Node, rs.id, st.Outcome)
		}
		if aerr := again(); aerr != nil {
			return server.RestoreInfo{}, fmt.Errorf("restore: %w (nothing changed); %w", err, aerr)
		}
		if attempt == restoreAttempts {
			return server.RestoreInfo{}, fmt.Errorf("restore: %w (nothing changed; tried %d times)", err, attempt)
		}
		rs.logf("%v\nrestore: nothing changed; sending the file again", err)
		select {
		case <-time.After(time.Duration(attempt) * time.Second):
		case <-rs.ctx.Done():
			return server.RestoreInfo{}, fmt.Errorf("restore: %w (nothing changed)", err)
		}
	}
}
