package pgwire

import "testing"

// TestFieldTypeModifier: a result column declared with a length or a
// precision carries Postgres' type modifier, unless its type is not the
// declared one.
func TestFieldTypeModifier(t *testing.T) {
	cols := []Column{{Name: "a", DeclType: "varchar(100)"}, {Name: "b", DeclType: "NUMERIC(8, 2)"},
		{Name: "c", DeclType: "text"}, {Name: "d", DeclType: "varchar(10)"}, {Name: "e"}, {Name: "f", DeclType: "character(3)"}}
	fs := fieldDescs(cols, []uint32{oidVarchar, oidNumeric, oidText, oidText, oidText, 1042}, nil)
	for i, want := range []int32{104, 8<<16 | 2 + 4, -1, -1, -1, 7} {
		if fs[i].TypeModifier != want {
			t.Errorf("%s %q: type modifier %d, want %d", cols[i].Name, cols[i].DeclType, fs[i].TypeModifier, want)
		}
	}
}
