package server

import "testing"

func TestParseAdvisory(t *testing.T) {
	for _, tc := range []struct {
		sql    string
		ok     bool
		fn     string
		op     byte
		shared bool
		wait   bool
		xact   bool
		args   int
	}{
		{sql: "SELECT pg_advisory_lock($1)", ok: true, fn: "pg_advisory_lock", op: advLock, wait: true, args: 1},
		{sql: "select pg_try_advisory_lock(12345);", ok: true, fn: "pg_try_advisory_lock", op: advLock, args: 1},
		{sql: "SELECT pg_catalog.pg_advisory_unlock($1::bigint) AS released", ok: true, fn: "released", op: advUnlock, args: 1},
		{sql: `SELECT pg_try_advisory_xact_lock_shared(-1, 2) "Got"`, ok: true, fn: "Got", op: advLock, shared: true, xact: true, args: 2},
		{sql: "SELECT pg_advisory_xact_lock(7)", ok: true, fn: "pg_advisory_xact_lock", op: advLock, wait: true, xact: true, args: 1},
		{sql: "SELECT pg_advisory_unlock_shared(1)", ok: true, fn: "pg_advisory_unlock_shared", op: advUnlock, shared: true, args: 1},
		{sql: "SELECT pg_advisory_unlock_all()", ok: true, fn: "pg_advisory_unlock_all", op: advUnlockAll},
		{sql: "SELECT pg_advisory_unlock_all(1)"},
		{sql: "SELECT pg_advisory_lock()"},
		{sql: "SELECT pg_advisory_lock(1, 2, 3)"},
		{sql: "SELECT pg_try_advisory_unlock(1)"},
		{sql: "SELECT pg_advisory_xact_unlock(1)"},
		{sql: "SELECT pg_advisory_lock(hashtext('x'))"},
		{sql: "SELECT pg_advisory_lock(1), 2"},
		{sql: "SELECT pg_advisory_lock(1) FROM t"},
		{sql: "SELECT pg_advisory_lock($1::text)"},
		{sql: "SELECT pg_try_advisory_lock(CAST($1 AS INTEGER))", ok: true, fn: "pg_try_advisory_lock", op: advLock, args: 1},
		{sql: "SELECT pg_try_advisory_lock(CAST($1 AS TEXT))"},
		{sql: "SELECT pg_advisory_locks(1)"},
		{sql: "SELECTpg_advisory_lock(1)"},
		{sql: "SELECT 1"},
	} {
		c, ok := parseAdvisory(tc.sql)
		if ok != tc.ok {
			t.Errorf("%s: recognised %v, want %v", tc.sql, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if c.fn != tc.fn || c.op != tc.op || c.shared != tc.shared || c.wait != tc.wait || c.xact != tc.xact || len(c.args) != tc.args {
			t.Errorf("%s: got %+v", tc.sql, c)
		}
	}
}

func TestAdvisoryKey(t *testing.T) {
	c, _ := parseAdvisory("SELECT pg_advisory_lock($1, $2)")
	k, e := c.key([]any{int64(1), "2"})
	if e != nil || !k.pair || k.key != 1<<32|2 {
		t.Fatalf("two-key form: %+v %v", k, e)
	}
	if _, e := c.key([]any{int64(1) << 40, int64(0)}); e == nil || e.Code != "22003" {
		t.Fatalf("an int4 key out of range: %v", e)
	}
	c, _ = parseAdvisory("SELECT pg_advisory_lock($1)")
	for _, p := range []any{int64(-5), "-5", []byte("-5"), float64(-5)} {
		if k, e := c.key([]any{p}); e != nil || k.pair || k.key != -5 {
			t.Errorf("key of %#v: %+v %v", p, k, e)
		}
	}
	if _, e := c.key([]any{"x"}); e == nil || e.Code != "22P02" {
		t.Errorf("a key that is no integer: %v", e)
	}
	if _, e := c.key(nil); e == nil {
		t.Errorf("a missing parameter gave a key")
	}
}

func FuzzDecodeAdvisoryRequest(f *testing.F) {
	f.Add(appendAdvisoryRequest(nil, advLock, advWait|advShared, advisoryKey{pair: true, key: -1}))
	f.Add(appendAdvisoryRequest(nil, advPing, 0, advisoryKey{}))
	f.Add([]byte{9, 0, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		op, flags, k, err := decodeAdvisoryRequest(p)
		if err != nil {
			return
		}
		if again := appendAdvisoryRequest(nil, op, flags, k); string(again) != string(p) {
			t.Fatalf("%x decoded to %d %d %+v, which encodes as %x", p, op, flags, k, again)
		}
	})
}

func FuzzParseAdvisory(f *testing.F) {
	for _, s := range []string{"SELECT pg_advisory_lock($1)", "select pg_catalog.pg_try_advisory_xact_lock_shared(-1, $2::int) as x;",
		"SELECT pg_advisory_unlock_all()", `SELECT pg_advisory_lock(1) "a"`, "SELECT pg_advisory_lock((1)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		c, ok := parseAdvisory(sql)
		if !ok {
			return
		}
		if c.fn == "" || (c.op == advUnlockAll) != (len(c.args) == 0) || len(c.args) > 2 {
			t.Fatalf("%q: %+v", sql, c)
		}
		params := make([]any, 8)
		for i := range params {
			params[i] = int64(i)
		}
		c.key(params)
	})
}

// BenchmarkParseAdvisoryMiss is what every statement that is no advisory
// lock call pays for being looked at.
func BenchmarkParseAdvisoryMiss(b *testing.B) {
	for _, sql := range []string{
		"UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
		"SELECT abalance FROM pgbench_accounts WHERE aid = $1",
	} {
		b.Run(sql[:6], func(b *testing.B) {
			for b.Loop() {
				if _, ok := parseAdvisory(sql); ok {
					b.Fatal("recognised")
				}
			}
		})
	}
}
