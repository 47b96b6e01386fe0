package server

import "testing"

func TestStaggeredThreshold(t *testing.T) {
	const threshold = 8192
	seen := map[uint64]string{}
	for _, id := range []string{"n1", "n2", "n3", "node-a", "node-b", "db1.example"} {
		got := staggeredThreshold(threshold, id)
		if got < threshold || got > threshold+threshold/2 {
			t.Fatalf("%s: threshold %d outside [%d, %d]", id, got, threshold, threshold+threshold/2)
		}
		if got != staggeredThreshold(threshold, id) {
			t.Fatalf("%s: not the same twice", id)
		}
		if other, dup := seen[got]; dup {
			t.Fatalf("%s and %s snapshot at the same threshold %d", id, other, got)
		}
		seen[got] = id
	}
	if got := staggeredThreshold(1, "n1"); got != 1 {
		t.Fatalf("threshold 1 became %d", got)
	}
}
