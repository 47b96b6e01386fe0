package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/pflag"
)

// benchConfig is what one bench run does.
type benchConfig struct {
	addrs    []string
	clients  int
	duration time.Duration
	count    int64
	workload string // insert, select, mixed
	rows     int    // rows preloaded for select and mixed
	table    string
	setup    bool
	// prepared prepares each statement once per connection.
	prepared bool
	// consistency, when set, is the sessions' raftsql.read_consistency.
	consistency string
	// ceilingProcs runs the ceiling's nodes as three processes.
	ceilingProcs bool
}

// benchResult is what a run measured.
type benchResult struct {
	ops       int64
	errors    int64
	elapsed   time.Duration
	latencies []time.Duration
	fixed     map[float64]time.Duration // percentiles, when latencies are not kept
}

func (r benchResult) opsPerSec() float64 { return float64(r.ops) / r.elapsed.Seconds() }

func (r benchResult) percentile(p float64) time.Duration {
	if d, ok := r.fixed[p]; ok {
		return d
	}
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(p * float64(len(r.latencies)-1))
	return r.latencies[i]
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("raftsql bench", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg benchConfig
	fs.StringSliceVar(&cfg.addrs, "addr", []string{"127.0.0.1:5433"}, "Postgres addresses to spread clients over (comma separated)")
	fs.IntVarP(&cfg.clients, "clients", "c", 16, "concurrent clients, one connection each")
	fs.DurationVarP(&cfg.duration, "duration", "d", 10*time.Second, "how long to run (ignored when --count is set)")
	fs.Int64VarP(&cfg.count, "count", "n", 0, "total operations to run instead of a duration")
	fs.StringVarP(&cfg.workload, "workload", "w", "insert", "insert (single-row INSERT), select (point SELECT), mixed (90% select, 10% insert) tx (BEGIN, UPDATE, SELECT, UPDATE, INSERT, COMMIT: a 5-statement transaction) or rw (INSERT a row, then SELECT it on the same connection; a SELECT that misses the row is an error)")
	fs.IntVar(&cfg.rows, "rows", 10000, "rows preloaded for the select and mixed workloads")
	fs.StringVar(&cfg.table, "table", "bench", "table the bench creates and uses")
	fs.BoolVar(&cfg.setup, "setup", true, "drop and create the table first")
	fs.BoolVar(&cfg.ceilingProcs, "ceiling-processes", true, "run the ceiling's three nodes as three processes, as a raftsqld cluster runs (false: one process)")
	fs.BoolVar(&cfg.prepared, "prepared", true, "prepare each statement once per connection and then only bind and execute it, as pgx and JDBC do (false: parse it with every execution, as node-postgres and lib/pq do)")
	fs.StringVar(&cfg.consistency, "read-consistency", "", "read consistency of the bench's sessions (default: the nodes' default)")
	target := fs.String("target", "cluster", "cluster (the nodes at --addr), sqlite (the same statements on a bare SQLite file) or ceiling (a 3-node Raft cluster with a no-op state machine, same stores and settings, commands of the same size)")
	dataDir := fs.String("data-dir", "", "directory for the sqlite and ceiling targets' files (default: a temporary directory on the system's temp disk)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.clients < 1 || cfg.clients > 4096 {
		return errors.New("--clients must be between 1 and 4096")
	}
	switch cfg.workload {
	case "insert", "select", "mixed", "tx", "rw":
	default:
		return fmt.Errorf("unknown workload %q: want insert, select, mixed, tx or rw", cfg.workload)
	}
	if cfg.duration <= 0 && cfg.count <= 0 {
		return errors.New("give a positive --duration or --count")
	}
	var res benchResult
	var err error
	switch *target {
	case "cluster":
		if cfg.setup {
			if err := benchSetup(ctx, cfg, stderr); err != nil {
				return fmt.Errorf("setup: %w", err)
			}
		}
		res, err = benchRun(ctx, cfg, stderr)
	case "sqlite", "ceiling":
		dir := *dataDir
		if dir == "" {
			d, cleanup, err := tempDir("raftsql-bench-")
			if err != nil {
				return err
			}
			defer cleanup()
			dir = d
		}
		if *target == "sqlite" {
			res, err = runSQLite(ctx, cfg, dir, stderr)
		} else {
			if cfg.workload != "insert" {
				return errors.New("the ceiling target measures writes: use --workload insert")
			}
			res, err = runCeiling(ctx, cfg, dir)
		}
	default:
		return fmt.Errorf("unknown target %q: want cluster, sqlite or ceiling", *target)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "target=%s workload=%s clients=%d ops=%d errors=%d elapsed=%s ops/s=%.0f p50=%s p99=%s p999=%s\n",
		*target, cfg.workload, cfg.clients, res.ops, res.errors, res.elapsed.Round(time.Millisecond), res.opsPerSec(),
		res.percentile(0.50).Round(time.Microsecond), res.percentile(0.99).Round(time.Microsecond), res.percentile(0.999).Round(time.Microsecond))
	return nil
}

func benchConnect(ctx context.Context, addr, consistency string) (*pgconn.PgConn, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// Like psql: PGUSER, PGPASSWORD and PGSSLMODE reach clusters that
	// want passwords or TLS.
	user := cmp.Or(os.Getenv("PGUSER"), "bench")
	dsn := "postgres://" + url.User(user).String() + "@" + addr + "/bench?sslmode=" + url.QueryEscape(cmp.Or(os.Getenv("PGSSLMODE"), "disable"))
	if consistency != "" {
		dsn += "&raftsql.read_consistency=" + url.QueryEscape(consistency)
	}
	return pgconn.Connect(ctx, dsn)
}

func benchSetup(ctx context.Context, cfg benchConfig, progress io.Writer) error {
	conn, err := benchConnect(ctx, cfg.addrs[0], "")
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, sql := range setupSQL(cfg) {
		if _, err := conn.Exec(ctx, sql).ReadAll(); err != nil {
			return err
		}
	}
	if cfg.workload == "insert" || cfg.rows <= 0 {
		return nil
	}
	const batch = 500
	for done := 0; done < cfg.rows; done += batch {
		var b strings.Builder
		b.WriteString("INSERT INTO " + cfg.table + " (id, k, v) VALUES ")
		for i := done; i < min(done+batch, cfg.rows); i++ {
			if i > done {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "(%d, %d, 'value-%d')", i+1, i, i)
		}
		if _, err := conn.Exec(ctx, b.String()).ReadAll(); err != nil {
			return err
		}
		fmt.Fprintf(progress, "\rpreloading rows: %d/%d", min(done+batch, cfg.rows), cfg.rows)
	}
	fmt.Fprintln(progress)
	return nil
}

func benchRun(ctx context.Context, cfg benchConfig, progress io.Writer) (benchResult, error) {
	conns := make([]*pgconn.PgConn, cfg.clients)
	for i := range conns {
		c, err := benchConnect(ctx, cfg.addrs[i%len(cfg.addrs)], cfg.consistency)
		if err != nil {
			for _, c := range conns[:i] {
				c.Close(context.Background())
			}
			return benchResult{}, err
		}
		conns[i] = c
	}
	defer func() {
		for _, c := range conns {
			c.Close(context.Background())
		}
	}()
	insertSQL := "INSERT INTO " + cfg.table + " (k, v) VALUES ($1, $2)"
	selectSQL := "SELECT v FROM " + cfg.table + " WHERE id = $1"
	clients := make([]*benchClient, len(conns))
	for i, c := range conns {
		clients[i] = &benchClient{conn: c, prepared: cfg.prepared}
	}
	return closedLoop(ctx, cfg, progress, func(ctx context.Context, worker int, rng *rand.Rand, isInsert bool) error {
		c := clients[worker]
		var err error
		switch {
		case cfg.workload == "tx":
			err = benchTx(ctx, c, cfg, rng)
		case cfg.workload == "rw":
			err = benchReadWrite(ctx, c, cfg, rng)
		case isInsert:
			k := rng.Int64N(1 << 40)
			err = c.exec(ctx, insertSQL, []byte(fmt.Sprint(k)), []byte("value"))
		default:
			id := rng.IntN(max(cfg.rows, 1)) + 1
			err = c.exec(ctx, selectSQL, []byte(fmt.Sprint(id)))
		}
		if err != nil && c.conn.IsClosed() {
			return errConnLost
		}
		return err
	})
}

// benchClient is one connection of the load and the statements it has
// prepared.
type benchClient struct {
	conn     *pgconn.PgConn
	prepared bool
	names    map[string]string // SQL -> prepared statement name
}

// exec runs sql with text arguments and discards its rows.
func (c *benchClient) exec(ctx context.Context, sql string, args ...[]byte) error {
	if !c.prepared || len(args) == 0 {
		_, err := c.conn.ExecParams(ctx, sql, args, nil, nil, nil).Close()
		return err
	}
	name, ok := c.names[sql]
	if !ok {
		name = fmt.Sprintf("bench_%d", len(c.names))
		if _, err := c.conn.Prepare(ctx, name, sql, nil); err != nil {
			return err
		}
		if c.names == nil {
			c.names = map[string]string{}
		}
		c.names[sql] = name
	}
	_, err := c.conn.ExecPrepared(ctx, name, args, nil, nil).Close()
	return err
}

// errMissedWrite is a SELECT that did not see the row its connection had
// just inserted.
var errMissedWrite = errors.New("the SELECT after an INSERT on the same connection did not see the row")

// benchReadWrite runs one step of the rw workload: INSERT a row, then SELECT
// it on the same connection.
func benchReadWrite(ctx context.Context, c *benchClient, cfg benchConfig, rng *rand.Rand) error {
	id := []byte(fmt.Sprint(rng.Int64N(1<<50) + int64(cfg.rows) + 1))
	if err := c.exec(ctx, "INSERT INTO "+cfg.table+" (id, k, v) VALUES ($1, 0, 'rw')", id); err != nil {
		return err
	}
	r := c.conn.ExecParams(ctx, "SELECT v FROM "+cfg.table+" WHERE id = $1", [][]byte{id}, nil, nil, nil).Read()
	if r.Err != nil {
		return r.Err
	}
	if len(r.Rows) != 1 {
		return errMissedWrite
	}
	return nil
}

// setupSQL creates the tables of the workload.
func setupSQL(cfg benchConfig) []string {
	return []string{
		"DROP TABLE IF EXISTS " + cfg.table,
		"DROP TABLE IF EXISTS " + cfg.table + "_history",
		"CREATE TABLE " + cfg.table + " (id INTEGER PRIMARY KEY, k INTEGER NOT NULL, v TEXT NOT NULL)",
		"CREATE TABLE " + cfg.table + "_history (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, delta INTEGER, at TEXT)",
	}
}

// txStatements is the transaction of the tx workload: move an amount from
// one row to another, read one back, record the move.
func txStatements(table string) [5]string {
	return [5]string{
		"UPDATE " + table + " SET k = k - $1 WHERE id = $2",
		"SELECT k FROM " + table + " WHERE id = $1",
		"UPDATE " + table + " SET k = k + $1 WHERE id = $2",
		"INSERT INTO " + table + "_history (a, b, delta, at) VALUES ($1, $2, $3, CURRENT_TIMESTAMP)",
		"COMMIT",
	}
}

// benchTx runs one transaction of the tx workload, each statement its own
// round trip as an interactive client sends them.
func benchTx(ctx context.Context, c *benchClient, cfg benchConfig, rng *rand.Rand) error {
	st := txStatements(cfg.table)
	a := []byte(fmt.Sprint(rng.IntN(max(cfg.rows, 1)) + 1))
	b := []byte(fmt.Sprint(rng.IntN(max(cfg.rows, 1)) + 1))
	delta := []byte(fmt.Sprint(rng.IntN(100) + 1))
	steps := []struct {
		sql  string
		args [][]byte
	}{
		{"BEGIN", nil},
		{st[0], [][]byte{delta, a}},
		{st[1], [][]byte{a}},
		{st[2], [][]byte{delta, b}},
		{st[3], [][]byte{a, b, delta}},
		{st[4], nil},
	}
	for _, step := range steps {
		if err := c.exec(ctx, step.sql, step.args...); err != nil {
			c.conn.Exec(ctx, "ROLLBACK").ReadAll()
			return err
		}
	}
	return nil
}
