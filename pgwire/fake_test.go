package pgwire

import (
	"context"
	"errors"
	"fmt"
	"github.com/raftsql/raftsql/pgwire/pgsql"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeBackend opens fakeSessions: an in-memory stand-in for the server that
// answers a handful of statement shapes with canned results.
type fakeBackend struct {
	opened   atomic.Int32
	closed   atomic.Int32
	sleeping chan struct{} // receives when a "select sleep" starts
	mu       sync.Mutex
	last     *fakeSession
	refuse   error // NewSession fails with it when set
	noSleep  bool  // "select sleep" fails at once instead of blocking
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{sleeping: make(chan struct{}, 16)}
}

func (b *fakeBackend) NewSession(ctx context.Context, params map[string]string) (Session, error) {
	if b.refuse != nil {
		return nil, b.refuse
	}
	b.opened.Add(1)
	s := &fakeSession{b: b, tx: 'I', params: params, sets: make(map[string]string)}
	b.mu.Lock()
	b.last = s
	b.mu.Unlock()
	return s, nil
}

type fakeSession struct {
	b      *fakeBackend
	tx     byte
	params map[string]string
	mu     sync.Mutex
	sets   map[string]string // calls to Set, by name
	execs  []string
}

var fakeTableCols = []Column{
	{"id", "INTEGER"}, {"name", "TEXT"}, {"score", "DOUBLE PRECISION"}, {"ok", "BOOLEAN"},
	{"data", "BLOB"}, {"big", "BIGINT"}, {"created", "TIMESTAMP"}, {"price", "NUMERIC(10,2)"},
	{"uid", "UUID"}, {"day", "DATE"}, {"note", "VARCHAR(20)"},
}

var fakeTableRows = [][]any{
	{int64(1), "alice", 1.5, int64(1), []byte{0xde, 0xad}, int64(5_000_000_000), "2024-01-02 03:04:05", "12.50",
		"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "2024-02-29", "n1"},
	{int64(2), "bob", -0.25, int64(0), []byte{}, int64(-7), "2024-01-02 03:04:05.123456", int64(3),
		"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12", "1999-12-31", nil},
}

func (s *fakeSession) columns(sql string) ([]Column, error) {
	up := strings.ToUpper(strings.TrimSpace(sql))
	switch {
	case strings.HasPrefix(up, "SELECT ECHO"):
		n := countParams(sql)
		if n == 0 {
			n = len(literalValues(sql))
		}
		cols := make([]Column, n)
		for i := range cols {
			cols[i] = Column{Name: fmt.Sprintf("c%d", i+1)}
		}
		return cols, nil
	case strings.HasPrefix(up, "SELECT * FROM T"):
		return fakeTableCols, nil
	case strings.HasPrefix(up, "SELECT GEN"):
		return []Column{{"n", "INTEGER"}}, nil
	case strings.HasPrefix(up, "SELECT SLEEP"), strings.HasPrefix(up, "SELECT PANIC"), strings.HasPrefix(up, "SELECT FAIL"):
		return []Column{{"x", ""}}, nil
	case strings.HasPrefix(up, "SELECT * FROM MISSING"):
		return nil, &Error{Code: "42P01", Message: "no such table: missing"}
	case strings.HasPrefix(up, "SELECT "):
		if _, err := strconv.ParseInt(strings.TrimSpace(up[7:]), 10, 64); err == nil {
			return []Column{{"?column?", ""}}, nil
		}
		if up == "SELECT COUNT(*) FROM T" {
			return []Column{{"count(*)", ""}}, nil
		}
	case strings.HasPrefix(up, "INSERT"), strings.HasPrefix(up, "UPDATE"), strings.HasPrefix(up, "DELETE"),
		strings.HasPrefix(up, "CREATE"), strings.HasPrefix(up, "DROP"), strings.HasPrefix(up, "BEGIN"),
		strings.HasPrefix(up, "COMMIT"), strings.HasPrefix(up, "END"), strings.HasPrefix(up, "ROLLBACK"),
		strings.HasPrefix(up, "START"):
		return nil, nil
	}
	return nil, &Error{Code: "42601", Message: fmt.Sprintf("near %q: syntax error", strings.Fields(sql + " x")[0]), Position: 1}
}

func (s *fakeSession) Describe(ctx context.Context, st *pgsql.Statement) (Description, error) {
	cols, err := s.columns(st.Source)
	return Description{Columns: cols}, err
}

func (s *fakeSession) Execute(ctx context.Context, st *pgsql.Statement, params []any) (*Result, error) {
	sql := st.Source
	s.mu.Lock()
	s.execs = append(s.execs, sql)
	s.mu.Unlock()
	up := strings.ToUpper(strings.TrimSpace(sql))
	isEnd := strings.HasPrefix(up, "ROLLBACK") || strings.HasPrefix(up, "COMMIT") || strings.HasPrefix(up, "END")
	if s.tx == 'E' && !isEnd {
		return nil, &Error{Code: "25P02", Message: "current transaction is aborted, commands ignored until end of transaction block"}
	}
	cols, err := s.columns(sql)
	if err != nil {
		if s.tx == 'T' {
			s.tx = 'E'
		}
		return nil, err
	}
	res := &Result{Columns: cols}
	switch {
	case strings.HasPrefix(up, "BEGIN"), strings.HasPrefix(up, "START"):
		s.tx = 'T'
	case isEnd:
		s.tx = 'I'
	case strings.HasPrefix(up, "SELECT ECHO"):
		if len(params) == 0 {
			params = literalValues(sql)
		}
		res.Rows = [][]any{params}
	case strings.HasPrefix(up, "SELECT * FROM T"):
		res.Rows = fakeTableRows
	case up == "SELECT COUNT(*) FROM T":
		res.Rows = [][]any{{int64(len(fakeTableRows))}}
	case strings.HasPrefix(up, "SELECT GEN"):
		n, _ := strconv.Atoi(strings.TrimSpace(up[len("SELECT GEN"):]))
		if len(params) == 1 {
			switch v := params[0].(type) {
			case int64:
				n = int(v)
			case string:
				n, _ = strconv.Atoi(v)
			}
		}
		for i := 0; i < min(n, 1000); i++ {
			res.Rows = append(res.Rows, []any{int64(i)})
		}
	case strings.HasPrefix(up, "SELECT SLEEP"):
		if s.b.noSleep {
			return nil, &Error{Code: "57014", Message: "no sleeping here"}
		}
		s.b.sleeping <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	case strings.HasPrefix(up, "SELECT PANIC"):
		panic("boom")
	case strings.HasPrefix(up, "SELECT FAIL"):
		if s.tx == 'T' {
			s.tx = 'E'
		}
		return nil, &Error{Code: "22012", Message: "division by zero"}
	case strings.HasPrefix(up, "SELECT "):
		n, _ := strconv.ParseInt(strings.TrimSpace(up[7:]), 10, 64)
		res.Rows = [][]any{{n}}
	case strings.HasPrefix(up, "INSERT"):
		res.RowsAffected = 1
	case strings.HasPrefix(up, "UPDATE"):
		res.RowsAffected = 3
	case strings.HasPrefix(up, "DELETE"):
		res.RowsAffected = 2
	}
	return res, nil
}

func (s *fakeSession) Set(name, value string) error {
	if name == "raftsql.read_consistency" && value != "" && value != "strong" && value != "weak" {
		return errors.New("must be strong or weak")
	}
	s.mu.Lock()
	s.sets[name] = value
	s.mu.Unlock()
	return nil
}

func (s *fakeSession) Show(name string) (string, bool) {
	if name == "raftsql.node" {
		return "n1", true
	}
	return "", false
}

func (s *fakeSession) TxStatus() byte { return s.tx }

func (s *fakeSession) Close() { s.b.closed.Add(1) }

// startServer serves a fake backend on a loopback port.
func startServer(t testing.TB, cfg Config) (*Server, *fakeBackend, string) {
	t.Helper()
	fb, _ := cfg.Backend.(*fakeBackend)
	if fb == nil {
		fb = newFakeBackend()
		cfg.Backend = fb
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := New(cfg)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return srv, fb, ln.Addr().String()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// literalValues evaluates the select list of "select echo 'x'::type, …" the
// way a database would: literals, cast to the named type.
func literalValues(sql string) []any {
	tl := lexStatement(sql)
	var out []any
	var cur any
	cast := false
	for i, t := range tl.toks {
		if i < 2 {
			continue // select echo
		}
		s := sql[t.start:t.end]
		switch {
		case t.kind == tkPunct && s == ",":
			out = append(out, cur)
			cur = nil
		case t.kind == tkOp && s == "::":
			cast = true
		case t.kind == tkString:
			cur = strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(s, "'"), "'"), "''", "'")
		case t.kind == tkNumber:
			cur = s
		case t.kind == tkWord && cast:
			cast = false
			str, _ := cur.(string)
			switch strings.ToLower(s) {
			case "int8", "int", "int4":
				cur, _ = strconv.ParseInt(str, 10, 64)
			case "float8":
				cur, _ = parseFloat(str)
			case "bool":
				cur, _ = parseBool(str)
			case "bytea":
				cur, _ = decodeByteaText(str)
			}
		}
	}
	return append(out, cur)
}

// ColumnTypes declares table t's columns as fakeTableCols does.
func (s *fakeSession) ColumnTypes(ctx context.Context, cols []pgsql.ParamColumn) []string {
	types := make([]string, len(cols))
	for i, c := range cols {
		for _, tc := range fakeTableCols {
			if c.Table == "t" && c.Column == tc.Name {
				types[i] = tc.DeclType
			}
		}
	}
	return types
}
