package fsm

import (
	"bytes"
	"testing"
	"time"
)

// A snapshot's copy keeps to Config.SnapshotRate, and sends the same bytes
// as an unpaced one.
func TestSnapshotRateBoundsTheCopy(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE b(id INTEGER PRIMARY KEY, v BLOB)")
	for range 4 {
		a.mustExec(t, "INSERT INTO b(v) VALUES (randomblob(262144))")
	}
	unpaced := takeSnapshot(t, f)

	const rate = 4 << 20
	f.snapRate = rate
	s, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var sink memSink
	if err := s.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	s.Release()
	if !bytes.Equal(sink.Bytes(), unpaced) {
		t.Fatalf("the paced snapshot (%d bytes) differs from the unpaced one (%d bytes)", sink.Len(), len(unpaced))
	}
	if least := time.Duration(float64(len(unpaced)) / rate * float64(time.Second) * 0.9); took < least {
		t.Fatalf("%d bytes at %d B/s took %v, want at least %v", len(unpaced), rate, took, least)
	}
	t.Logf("%d bytes at %d MiB/s in %v", len(unpaced), rate>>20, took)
}
