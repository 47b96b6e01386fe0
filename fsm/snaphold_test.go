package fsm

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestSnapshotHoldsApplyBriefly measures how long taking a snapshot holds
// the apply path (Snapshot, under the apply lock: the WAL checkpoint) next
// to the copy (Persist, which applies run alongside), on a database of
// RAFTSQL_SNAPHOLD_MIB MiB. It is a measurement, run by hand with -v:
// timings on a shared machine make a poor pass/fail; it checks only that
// the hold is shorter than the copy.
func TestSnapshotHoldsApplyBriefly(t *testing.T) {
	mib, _ := strconv.Atoi(os.Getenv("RAFTSQL_SNAPHOLD_MIB"))
	if mib <= 0 {
		t.Skip("a measurement: set RAFTSQL_SNAPHOLD_MIB=256 to run it")
	}
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE b(id INTEGER PRIMARY KEY, v BLOB)")
	for range mib / 4 {
		a.mustExec(t, "INSERT INTO b(v) VALUES (randomblob(4194304))")
	}
	// Some writes since the last checkpoint, as between two snapshots.
	for range 200 {
		a.mustExec(t, "INSERT INTO b(v) VALUES (randomblob(1000))")
	}
	start := time.Now()
	s, err := f.Snapshot()
	hold := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	var sink countSink
	if err := s.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	copyTime := time.Since(start)
	s.Release()
	t.Logf("%d MiB: Snapshot held the apply path %v; Persist copied %d bytes in %v", mib, hold, sink.n, copyTime)

	// Writes while a snapshot is persisted only append to the WAL; the
	// first commit after Release checkpoints what piled up.
	s, err = f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	for range mib / 16 {
		a.mustExec(t, "INSERT INTO b(v) VALUES (randomblob(4194304))")
	}
	if err := s.Persist(&countSink{}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	s.Release()
	t.Logf("Release, checkpointing the backlog beside the apply path, took %v", time.Since(start))
	start = time.Now()
	a.mustExec(t, "INSERT INTO b(v) VALUES (1)")
	t.Logf("the first apply after a snapshot during which %d MiB were written took %v", mib/16*4, time.Since(start))
	start = time.Now()
	b, err := f.BackupFile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("BackupFile copied %d bytes in %v", b.Header.Size, time.Since(start))
	b.Close()
	if hold > copyTime {
		t.Errorf("the snapshot held applies (%v) longer than the copy took (%v)", hold, copyTime)
	}
}

// countSink is a snapshot sink that counts and drops what it is sent.
type countSink struct{ n int64 }

func (s *countSink) Write(p []byte) (int, error) { s.n += int64(len(p)); return len(p), nil }
func (s *countSink) ID() string                  { return "count" }
func (s *countSink) Cancel() error               { return nil }
func (s *countSink) Close() error                { return nil }
