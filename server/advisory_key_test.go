package server

import (
	"testing"

	"github.com/raftsql/raftsql/pgwire/pgsql"
)

func TestAdvisoryKey(t *testing.T) {
	c := pgsql.Parse("SELECT pg_advisory_lock($1, $2)").Advisory[0]
	k, e := advisoryKeyOf(c, []any{int64(1), "2"})
	if e != nil || !k.pair || k.key != 1<<32|2 {
		t.Fatalf("two-key form: %+v %v", k, e)
	}
	if _, e := advisoryKeyOf(c, []any{int64(1) << 40, int64(0)}); e == nil || e.Code != "22003" {
		t.Fatalf("an int4 key out of range: %v", e)
	}
	c = pgsql.Parse("SELECT pg_advisory_lock($1)").Advisory[0]
	for _, p := range []any{int64(-5), "-5", []byte("-5"), float64(-5)} {
		if k, e := advisoryKeyOf(c, []any{p}); e != nil || k.pair || k.key != -5 {
			t.Errorf("key of %#v: %+v %v", p, k, e)
		}
	}
	if _, e := advisoryKeyOf(c, []any{"x"}); e == nil || e.Code != "22P02" {
		t.Errorf("a key that is no integer: %v", e)
	}
	if _, e := advisoryKeyOf(c, nil); e == nil {
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
