package raft

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"

	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// TestClosingStableOutlivesTheStore: saves that race with closing the
// store, as a heartbeat's save of the term races with a node's Close,
// either land before the store closes or are dropped; none fails (Raft
// would panic on it).
func TestClosingStableOutlivesTheStore(t *testing.T) {
	bolt, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(t.TempDir(), "raft.db")})
	if err != nil {
		t.Fatal(err)
	}
	s := &closingStable{StableStore: bolt}
	if err := s.SetUint64([]byte("CurrentTerm"), 1); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	started := make(chan struct{}, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started <- struct{}{}
			for i := range 2000 {
				if err := s.SetUint64([]byte("CurrentTerm"), uint64(2+g*2000+i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range 4 {
		<-started
	}
	s.close()
	if err := bolt.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a save racing with close failed: %v", err)
	}
	if _, err := s.GetUint64([]byte("CurrentTerm")); !errors.Is(err, ErrShutdown) {
		t.Errorf("a read after close: %v, want ErrShutdown", err)
	}
}
