package server

import "testing"

func TestStaggeredThreshold(t *testing.T) {
	const threshold = 8192
	for n := 1; n <= 7; n++ {
		seen := map[uint64]int{}
		for rank := 0; rank < n; rank++ {
			got := staggeredThreshold(threshold, rank, n)
			if got < threshold || got >= threshold+threshold/2 && n > 1 {
				t.Fatalf("rank %d of %d: threshold %d outside [%d, %d)", rank, n, got, threshold, threshold+threshold/2)
			}
			if other, dup := seen[got]; dup {
				t.Fatalf("ranks %d and %d of %d snapshot at the same threshold %d", rank, other, n, got)
			}
			seen[got] = rank
		}
	}
	if got := staggeredThreshold(threshold, 0, 3); got != threshold {
		t.Fatalf("rank 0 waits for %d, want the threshold itself", got)
	}
	for _, id := range []string{"n1", "n2", "node-a"} {
		if got := hashedThreshold(threshold, id); got < threshold || got >= threshold+threshold/2 || got != hashedThreshold(threshold, id) {
			t.Fatalf("%s: hashed threshold %d", id, got)
		}
	}
	if got := staggeredThreshold(1, 1, 3); got != 1 {
		t.Fatalf("threshold 1 became %d", got)
	}
}
