package pgwire

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestSerialRewrites compares the rewriting of every CREATE TABLE in
// testdata/serial.txt with the golden text that follows it. A case is the
// statement, a line "----", the statements it becomes (one a line, or
// "(unchanged)"), and a blank line. go test -run TestSerialRewrites -update
// rewrites the file.
func TestSerialRewrites(t *testing.T) {
	const path = "testdata/serial.txt"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, c := range strings.Split(strings.TrimSpace(string(data)), "\n\n") {
		sql, want, ok := strings.Cut(c, "\n----\n")
		if !ok {
			t.Fatalf("malformed case %q", c)
		}
		got := "(unchanged)"
		if tr, ok := translateDDL(sql); ok {
			got = tr.tag + "\n" + strings.Join(tr.stmts, "\n")
		}
		if got != want && !*update {
			t.Errorf("%s\n got:\n%s\nwant:\n%s", sql, got, want)
		}
		out.WriteString(sql + "\n----\n" + got + "\n\n")
	}
	if *update {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
