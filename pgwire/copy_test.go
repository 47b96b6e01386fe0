package pgwire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/raftsql/raftsql/pgwire/pgsql"
)

func TestParseCopy(t *testing.T) {
	for _, tt := range []struct {
		sql  string
		want string // table|columns|csv|header|delim|null, or "error CODE"
	}{
		{"COPY t FROM STDIN", "t||false|false|\t|\\N"},
		{`copy public."T x" (a, "B") from stdin;`, `"T x"|a,"B"|false|false|` + "\t|\\N"},
		{"COPY public.dump_customers (id, name, note) FROM stdin;", "dump_customers|id,name,note|false|false|\t|\\N"},
		{`COPY "public".t FROM stdin`, "t||false|false|\t|\\N"},
		{"COPY other.t FROM stdin", "other.t||false|false|\t|\\N"},
		{"COPY t FROM STDIN WITH (FORMAT csv, HEADER)", "t||true|true|,|"},
		{"COPY t FROM STDIN (FORMAT csv, HEADER false, DELIMITER ';', NULL 'NA')", "t||true|false|;|NA"},
		{"copy pgbench_accounts from stdin with (freeze on)", "pgbench_accounts||false|false|\t|\\N"},
		{"COPY t (a) FROM STDIN WITH CSV HEADER DELIMITER AS '|' NULL AS ''", "t|a|true|true|||"},
		{"COPY t FROM STDIN DELIMITER ','", "t||false|false|,|\\N"},
		{"COPY t TO '/tmp/x'", "error 0A000"},
		{"COPY t TO STDOUT (FORMAT binary)", "error 0A000"},
		{"COPY (SELECT 1) FROM STDIN", "error 42601"},
		{"COPY t TO STDIN", "error 42601"},
		{"COPY t FROM '/etc/passwd'", "error 0A000"},
		{`copy "acc" ( "id", "name" ) from stdin binary;`, `"acc"|"id","name"|false|false|` + "\t|\\N"},
		{"COPY t FROM STDIN (FORMAT binary, HEADER)", "error 0A000"},
		{"COPY t FROM STDIN (FORMAT xml)", "error 22023"},
		{"COPY t FROM STDIN (DELIMITER ',,')", "error 0A000"},
		{"COPY t FROM STDIN (QUOTE '''')", "error 0A000"},
		{"COPY t FROM STDIN (FORCE_NOT_NULL (a))", "error 0A000"},
		{"COPY t FROM", "error 42601"},
		{"COPY FROM STDIN", "error 42601"},
		{"COPY t FROM STDIN extra", "error 42601"},
	} {
		cmd, ok, e := copyOf(pgsql.Parse(tt.sql))
		if !ok {
			t.Errorf("%q: not taken for COPY", tt.sql)
			continue
		}
		got := fmt.Sprintf("%s|%s|%v|%v|%c|%s", cmd.table, strings.Join(cmd.columns, ","), cmd.csv, cmd.header, cmd.delim, cmd.null)
		if e != nil {
			got = "error " + e.Code
		}
		if got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.sql, got, tt.want)
		}
	}
	for sql, want := range map[string]string{
		"COPY t TO STDOUT":                                    "SELECT * FROM t",
		"copy t (a, b) to stdout with csv header":             "SELECT a, b FROM t",
		"COPY (SELECT a, (b) FROM t WHERE c = ')') TO STDOUT": "SELECT a, (b) FROM t WHERE c = ')'",
	} {
		cmd, ok, e := copyOf(pgsql.Parse(sql))
		if !ok || e != nil || !cmd.to || cmd.query != want {
			t.Errorf("%q: got %+v %v, want COPY TO of %q", sql, cmd, e, want)
		}
	}
	for _, sql := range []string{"SELECT 1", "copyright", "INSERT INTO copy VALUES (1)", "-- copy\nSELECT 1"} {
		if _, ok, _ := copyOf(pgsql.Parse(sql)); ok {
			t.Errorf("%q taken for COPY", sql)
		}
	}
}

// rowsOf feeds data to a parser in chunks of size n and returns its rows.
func rowsOf(t *testing.T, cmd copyFrom, data string, n int) (string, error) {
	t.Helper()
	p := copyParser{cmd: cmd, skipHeader: cmd.header}
	var out []string
	take := func(final bool) error {
		for {
			row, ok, e := p.next(final)
			if e != nil {
				return e
			}
			if !ok {
				return nil
			}
			out = append(out, fmt.Sprintf("%q", row))
		}
	}
	for i := 0; i < len(data); i += n {
		p.buf = append(p.buf, data[i:min(i+n, len(data))]...)
		if err := take(false); err != nil {
			return "", err
		}
	}
	if err := take(true); err != nil {
		return "", err
	}
	return strings.Join(out, " "), nil
}

func TestCopyForceQuote(t *testing.T) {
	cmd, _, e := copyOf(pgsql.Parse(`COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE (name, "B"))`))
	if e != nil {
		t.Fatal(e)
	}
	cols := []Column{{Name: "id"}, {Name: "name"}, {Name: "B"}}
	forced, e := cmd.forcedColumns(cols)
	if e != nil || fmt.Sprint(forced) != "[false true true]" {
		t.Fatalf("forced %v, %v", forced, e)
	}
	var line []byte
	line = cmd.appendField(line, []byte("1"))
	line = cmd.appendQuoted(append(line, ','), []byte(`a"b`))
	line = cmd.appendQuoted(append(line, ','), []byte(""))
	if got := string(line); got != `1,"a""b",""` {
		t.Errorf("line %s", got)
	}
	cmd, _, _ = copyOf(pgsql.Parse("COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE (nope))"))
	if _, e := cmd.forcedColumns(cols); e == nil || e.Code != "42P10" {
		t.Errorf("a column the COPY does not send: %v", e)
	}
	cmd, _, _ = copyOf(pgsql.Parse("COPY t TO STDOUT CSV FORCE QUOTE *"))
	if forced, _ := cmd.forcedColumns(cols); fmt.Sprint(forced) != "[true true true]" {
		t.Errorf("FORCE QUOTE *: %v", forced)
	}
}

func TestCopyParser(t *testing.T) {
	text, _, _ := copyOf(pgsql.Parse("COPY t FROM STDIN"))
	csv, _, _ := copyOf(pgsql.Parse("COPY t FROM STDIN (FORMAT csv, HEADER)"))
	for _, tt := range []struct {
		name string
		cmd  copyFrom
		data string
		want string
	}{
		{"text", text, "1\tone\n2\t\\N\n", `["1" "one"] ["2" <nil>]`},
		{"text escapes", text, "a\\tb\\\\c\\nd\\x41\\101\t\\.x\n", `["a\tb\\c\ndAA" ".x"]`},
		{"text without a last newline", text, "1\tx", `["1" "x"]`},
		{"text CRLF", text, "1\tx\r\n2\ty\r\n", `["1" "x"] ["2" "y"]`},
		{"text end marker", text, "1\tx\n\\.\n2\ty\n", `["1" "x"]`},
		{"text empty field", text, "\t\n", `["" ""]`},
		{"csv", csv, "id,name\n1,\"a, b\"\n2,\n3,\"\"\n", `["1" "a, b"] ["2" <nil>] ["3" ""]`},
		{"csv quotes and newlines", csv, "h\n\"say \"\"hi\"\"\nthere\",x\n", `["say \"hi\"\nthere" "x"]`},
	} {
		for _, n := range []int{1, 2, 3, 1000} {
			got, err := rowsOf(t, tt.cmd, tt.data, n)
			if err != nil || got != tt.want {
				t.Errorf("%s in chunks of %d: got %s (%v), want %s", tt.name, n, got, err, tt.want)
			}
		}
	}
	if _, err := rowsOf(t, csv, "h\n\"open,1\n", 1000); err == nil {
		t.Error("an unterminated quoted CSV field was accepted")
	}
}

func FuzzCopyParser(f *testing.F) {
	f.Add("1\tone\n2\t\\N\n", false, 3)
	f.Add("id,name\n1,\"a, b\"\n\"x\ny\",2\n", true, 1)
	f.Add("\\x\\0\\", false, 2)
	f.Fuzz(func(t *testing.T, data string, csv bool, n int) {
		cmd, _, _ := copyOf(pgsql.Parse("COPY t FROM STDIN"))
		if csv {
			cmd, _, _ = copyOf(pgsql.Parse("COPY t FROM STDIN (FORMAT csv, HEADER)"))
		}
		n = 1 + (n&0xff)%64
		whole, err1 := rowsOf(t, cmd, data, len(data)+1)
		chunked, err2 := rowsOf(t, cmd, data, n)
		if (err1 == nil) != (err2 == nil) || whole != chunked {
			t.Fatalf("chunks of %d changed the rows: %s (%v) vs %s (%v)", n, chunked, err2, whole, err1)
		}
	})
}

func TestCopyInExtendedProtocol(t *testing.T) {
	_, _, addr := startServer(t, Config{})
	ctx := context.Background()
	c, err := pgx.Connect(ctx, "postgres://u@"+addr+"/db?sslmode=disable&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	err = c.PgConn().ExecParams(ctx, "COPY t FROM STDIN", nil, nil, nil, nil).Read().Err
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "0A000" {
		t.Fatalf("COPY through Parse/Bind/Execute: got %v, want 0A000", err)
	}
}

// binaryCopy builds binary COPY data: the header, tuples of int8 and text
// fields (nil for NULL), and the trailer when asked.
func binaryCopy(rows [][]any, trailer bool) string {
	b := append([]byte(nil), copyBinarySignature...)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	for _, row := range rows {
		b = binary.BigEndian.AppendUint16(b, uint16(len(row)))
		for _, v := range row {
			switch v := v.(type) {
			case nil:
				b = binary.BigEndian.AppendUint32(b, 0xffffffff)
			case int64:
				b = binary.BigEndian.AppendUint32(b, 8)
				b = binary.BigEndian.AppendUint64(b, uint64(v))
			case string:
				b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
				b = append(b, v...)
			}
		}
	}
	if trailer {
		b = append(b, 0xff, 0xff)
	}
	return string(b)
}

func TestCopyParserBinary(t *testing.T) {
	cmd, _, _ := copyOf(pgsql.Parse("COPY t FROM STDIN BINARY"))
	oids := []uint32{oidInt8, oidText}
	rows := [][]any{{int64(1), "one"}, {int64(-2), nil}, {nil, ""}}
	for _, trailer := range []bool{true, false} {
		for _, n := range []int{1, 5, 1000} {
			p := copyParser{cmd: cmd, oids: oids}
			data := binaryCopy(rows, trailer)
			var got [][]any
			for i := 0; i <= len(data); i += n {
				p.buf = append(p.buf, data[i:min(i+n, len(data))]...)
				final := i+n > len(data)
				for {
					row, ok, e := p.next(final)
					if e != nil {
						t.Fatalf("chunks of %d: %v", n, e)
					}
					if !ok {
						break
					}
					got = append(got, row)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(rows) {
				t.Fatalf("trailer %v, chunks of %d: got %v, want %v", trailer, n, got, rows)
			}
		}
	}
	for name, data := range map[string]string{
		"no signature":    "PGCOPX\n\xff\r\n\x00" + strings.Repeat("\x00", 8),
		"wrong width":     binaryCopy([][]any{{int64(1)}}, true),
		"truncated tuple": binaryCopy(rows, false)[:45],
		"bad int8":        binaryCopy([][]any{{"abc", "x"}}, true),
	} {
		p := copyParser{cmd: cmd, oids: oids, buf: []byte(data)}
		var err *Error
		for err == nil {
			var ok bool
			if _, ok, err = p.next(true); !ok && err == nil {
				break
			}
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzCopyParserBinary(f *testing.F) {
	f.Add(binaryCopy([][]any{{int64(1), "one"}, {nil, nil}}, true), 3)
	f.Add(binaryCopy(nil, false), 1)
	f.Fuzz(func(t *testing.T, data string, n int) {
		cmd, _, _ := copyOf(pgsql.Parse("COPY t FROM STDIN BINARY"))
		read := func(size int) string {
			p := copyParser{cmd: cmd, oids: []uint32{oidInt8, oidText}}
			var out []string
			for i := 0; i <= len(data); i += size {
				p.buf = append(p.buf, data[i:min(i+size, len(data))]...)
				for {
					row, ok, e := p.next(i+size > len(data))
					if e != nil {
						return fmt.Sprint(out, " error")
					}
					if !ok {
						break
					}
					out = append(out, fmt.Sprint(row))
				}
			}
			return fmt.Sprint(out)
		}
		if whole, chunked := read(len(data)+1), read(1+(n&0xff)%32); whole != chunked {
			t.Fatalf("chunks changed the rows: %s vs %s", chunked, whole)
		}
	})
}

// What COPY TO writes, COPY FROM reads back as the same values.
func FuzzCopyRoundTrip(f *testing.F) {
	f.Add("plain", "x", false)
	f.Add("tab\there\\back\nline\r", "", true)
	f.Add(`\N`, `"quoted", and`, true)
	f.Fuzz(func(t *testing.T, a, b string, csv bool) {
		sql := "COPY t FROM STDIN"
		if csv {
			sql += " (FORMAT csv)"
		}
		cmd, _, _ := copyOf(pgsql.Parse(sql))
		line := cmd.appendField(nil, []byte(a))
		line = append(line, cmd.delim)
		line = cmd.appendField(line, []byte(b))
		line = append(line, cmd.delim) // and a NULL, a third field
		line = append(line, cmd.null...)
		line = append(line, '\n')
		p := copyParser{cmd: cmd, buf: line}
		row, ok, e := p.next(true)
		if e != nil || !ok || len(row) != 3 || row[0] != a || row[1] != b || row[2] != nil {
			t.Fatalf("%q, %q (csv %v) came back as %q (%v)", a, b, csv, row, e)
		}
	})
}
