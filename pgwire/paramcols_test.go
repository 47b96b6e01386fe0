package pgwire

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestBooleanColumnParams: a parameter sent untyped that a statement
// stores in or compares with a BOOLEAN column is a boolean, as Postgres
// infers it from the column: ParameterDescription says bool, the text
// binds as one, and text that is no boolean fails with 22P02. Parameters
// of other columns stay untyped.
func TestBooleanColumnParams(t *testing.T) {
	_, _, addr := startServer(t, Config{})
	ctx := context.Background()
	c := connect(t, addr, "")
	pc := c.PgConn()

	for _, tc := range []struct {
		sql  string
		want []uint32
	}{
		{"UPDATE t SET ok = $1, name = $2 WHERE id = $3", []uint32{oidBool, oidUnknown, oidUnknown}},
		{"INSERT INTO t (name, ok) VALUES ($1, $2), ($3, $4)", []uint32{oidUnknown, oidBool, oidUnknown, oidBool}},
		{"SELECT * FROM t WHERE $1 = t.ok AND name = $2", []uint32{oidBool, oidUnknown}},
		{"SELECT * FROM t WHERE ok = $1::text", []uint32{oidText}},
		{"SELECT * FROM t WHERE ok = $1 + 1", []uint32{oidUnknown}},
	} {
		sd, err := pc.Prepare(ctx, "", tc.sql, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if !slices.Equal(sd.ParamOIDs, tc.want) {
			t.Errorf("%s: parameter types %v, want %v", tc.sql, sd.ParamOIDs, tc.want)
		}
	}

	// The fake echoes its parameters: a boolean comes back as true or false (an untyped result column).
	for in, want := range map[string]string{"true": "true", "yes": "true", " on ": "true", "1": "true", "F": "false", "off": "false"} {
		res := pc.ExecParams(ctx, "SELECT echo FROM t WHERE ok = $1", [][]byte{[]byte(in)}, nil, nil, nil).Read()
		if res.Err != nil || len(res.Rows) != 1 || string(res.Rows[0][0]) != want {
			t.Errorf("untyped %q for a boolean column: %q, %v; want %q", in, res.Rows, res.Err, want)
		}
	}
	res := pc.ExecParams(ctx, "SELECT echo FROM t WHERE name = $1", [][]byte{[]byte("yes")}, nil, nil, nil).Read()
	if res.Err != nil || len(res.Rows) != 1 || string(res.Rows[0][0]) != "yes" {
		t.Errorf("untyped 'yes' for a text column: %q, %v; want yes", res.Rows, res.Err)
	}
	res = pc.ExecParams(ctx, "SELECT echo FROM t WHERE ok = $1", [][]byte{[]byte("maybe")}, nil, nil, nil).Read()
	var pe *pgconn.PgError
	if !errors.As(res.Err, &pe) || pe.Code != "22P02" {
		t.Errorf("untyped 'maybe' for a boolean column: %v, want 22P02", res.Err)
	}
}
