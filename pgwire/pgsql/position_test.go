package pgsql

import (
	"strings"
	"testing"
)

func TestLocate(t *testing.T) {
	st := Parse(`SELECT "Ab", é, x FROM t WHERE x = 'x' -- x`)
	for _, c := range []struct {
		text string
		want int
	}{{"Ab", 8}, {"X", 17}, {"FROM", 19}, {"=", 34}, {"zz", 0}} {
		if got := st.Locate(c.text); got != c.want {
			t.Errorf("Locate(%q) = %d, want %d", c.text, got, c.want)
		}
	}
}

func TestReplaceCalls(t *testing.T) {
	repl := func(args []string) (string, error) { return "'" + strings.Join(args, "|") + "'", nil }
	for _, c := range []struct{ in, want string }{
		{"SELECT current_setting('a'), 1", "SELECT 'a', 1"},
		{"SELECT pg_catalog.CURRENT_SETTING('a', true) || 'current_setting(''b'')'", "SELECT 'a|true' || 'current_setting(''b'')'"},
		{"SELECT current_setting(x), s.current_setting('a')", "SELECT current_setting(x), s.current_setting('a')"},
	} {
		got, _, err := ReplaceCalls(c.in, "current_setting", repl)
		if err != nil || got != c.want {
			t.Errorf("%s: %q %v, want %q", c.in, got, err, c.want)
		}
	}
}
