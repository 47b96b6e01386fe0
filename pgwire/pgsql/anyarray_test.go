package pgsql

import (
	"encoding/binary"
	"encoding/json"
	"testing"
)

// TestAnyArray runs = ANY and <> ALL over arrays as parameters in their
// text and binary forms, and as literals.
func TestAnyArray(t *testing.T) {
	db := openSQLite(t)
	if _, err := db.Exec("INSERT INTO t (id, a, b) VALUES (1, 1, 'x'), (2, 2, 'y z'), (3, 3, 'w')"); err != nil {
		t.Fatal(err)
	}
	bin := binaryInt8Array(2, 3)
	for _, c := range []struct {
		pg   string
		arg  any
		want int
	}{
		{"SELECT count(*) FROM t WHERE a = ANY($1)", "{1,3,7}", 2},
		{"SELECT count(*) FROM t WHERE a = ANY($1)", bin, 2},
		{"SELECT count(*) FROM t WHERE a = ANY($1::int8[])", "{}", 0},
		{"SELECT count(*) FROM t WHERE b = ANY($1)", `{"y z",w,NULL}`, 2},
		{"SELECT count(*) FROM t WHERE a <> ALL($1)", "{1}", 2},
		{"SELECT count(*) FROM t WHERE a = ANY('{2}'::int[]) OR b = SOME(ARRAY['x'])", nil, 2},
		{"SELECT count(*) FROM t WHERE a = ANY(ARRAY[])", nil, 0},
	} {
		st := Parse(c.pg)
		if st.Err != nil {
			t.Errorf("%s: %v", c.pg, st.Err)
			continue
		}
		var args []any
		if c.arg != nil {
			args = append(args, c.arg)
		}
		var n int
		if err := db.QueryRow(st.SQL, args...).Scan(&n); err != nil || n != c.want {
			t.Errorf("%s (%s) with %v: %d, %v; want %d", c.pg, st.SQL, c.arg, n, err, c.want)
		}
	}
	var n int
	if err := db.QueryRow(Parse("SELECT count(*) FROM t WHERE a = ANY($1)").SQL, "{1,{2}}").Scan(&n); err == nil {
		t.Error("a two-dimensional array was taken")
	}
}

func binaryInt8Array(vals ...int64) []byte {
	b := binary.BigEndian.AppendUint32(nil, 1)
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, 20)
	b = binary.BigEndian.AppendUint32(b, uint32(len(vals)))
	b = binary.BigEndian.AppendUint32(b, 1)
	for _, v := range vals {
		b = binary.BigEndian.AppendUint32(b, 8)
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	return b
}

// FuzzArray: _pg_array reads any bytes a client binds without panicking,
// and what it accepts is a JSON array.
func FuzzArray(f *testing.F) {
	for _, s := range []string{"{1,2}", `{"a\"b",NULL, 3.5}`, "{}", "{{1}}", "{1,", string(binaryInt8Array(1, -2)), string(binaryInt8Array())} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, arg := range []any{b, string(b)} {
			out, err := arrayJSON([]any{arg})
			if err != nil {
				continue
			}
			var v []any
			if err := json.Unmarshal([]byte(out.(string)), &v); err != nil {
				t.Fatalf("%q gave %v, not a JSON array: %v", b, out, err)
			}
		}
	})
}
