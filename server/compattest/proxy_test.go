package compattest

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// proxy relays Postgres connections to a node and remembers, for each error
// the node answered, the statement it answered it to. When the test fails,
// the first of them is logged: the statement the tool sent that raftsql
// refused, and why.
type proxy struct {
	addr   string
	target string
	ln     net.Listener

	mu       sync.Mutex
	failures []failure
	conns    map[net.Conn]bool
	wg       sync.WaitGroup
}

// failure is one statement the server refused.
type failure struct {
	sql  string
	code string
	msg  string
}

func (f failure) String() string {
	return fmt.Sprintf("ERROR %s %s\n    statement: %s", f.code, f.msg, f.sql)
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
		if t.Failed() {
			p.report(t)
		}
	})
	return p
}

// report logs the statements the server refused, the first one first.
func (p *proxy) report(t *testing.T) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.failures) == 0 {
		t.Logf("the server refused no statement")
		return
	}
	t.Logf("FIRST STATEMENT THE SERVER REFUSED:\n  %s", p.failures[0])
	for _, f := range p.failures[1:min(len(p.failures), 8)] {
		t.Logf("then:\n  %s", f)
	}
}

// firstFailure is the first statement refused, "" if none was.
func (p *proxy) firstFailure() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.failures) == 0 {
		return ""
	}
	return p.failures[0].String()
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(c)
		}()
	}
}

func (p *proxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

func (p *proxy) serve(client net.Conn) {
	defer client.Close()
	p.track(client, true)
	defer p.track(client, false)
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	p.track(server, true)
	defer p.track(server, false)

	be := pgproto3.NewBackend(client, client)
	var startup pgproto3.FrontendMessage
	for {
		m, err := be.ReceiveStartupMessage()
		if err != nil {
			return
		}
		if _, ok := m.(*pgproto3.SSLRequest); ok {
			if _, err := client.Write([]byte{'N'}); err != nil {
				return
			}
			continue
		}
		if _, ok := m.(*pgproto3.GSSEncRequest); ok {
			if _, err := client.Write([]byte{'N'}); err != nil {
				return
			}
			continue
		}
		startup = m
		break
	}
	fe := pgproto3.NewFrontend(server, server)
	fe.Send(startup)
	if err := fe.Flush(); err != nil {
		return
	}
	if _, ok := startup.(*pgproto3.CancelRequest); ok {
		io.Copy(io.Discard, server)
		return
	}

	// last is the statement the server is answering: the last Query, or
	// the statement of the last Parse or Bind. Both directions touch it.
	var mu sync.Mutex
	last := ""
	stmts := map[string]string{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer server.Close()
		for {
			m, err := be.Receive()
			if err != nil {
				return
			}
			mu.Lock()
			switch m := m.(type) {
			case *pgproto3.Query:
				last = m.String
			case *pgproto3.Parse:
				stmts[m.Name] = m.Query
				last = m.Query
			case *pgproto3.Bind:
				last = stmts[m.PreparedStatement]
			}
			mu.Unlock()
			fe.Send(m)
			if err := fe.Flush(); err != nil {
				return
			}
		}
	}()
	for {
		m, err := fe.Receive()
		if err != nil {
			break
		}
		if e, ok := m.(*pgproto3.ErrorResponse); ok {
			mu.Lock()
			f := failure{sql: strings.TrimSpace(last), code: e.Code, msg: e.Message}
			mu.Unlock()
			p.mu.Lock()
			p.failures = append(p.failures, f)
			p.mu.Unlock()
		}
		be.Send(m)
		if err := be.Flush(); err != nil {
			break
		}
	}
	client.Close()
	<-done
}
