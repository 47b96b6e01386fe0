package raft

import (
	"sync"

	hraft "github.com/hashicorp/raft"
)

// closingStable stands between Raft and the stable store (raft.db) so that
// the store can be closed while a heartbeat is still being handled.
// hashicorp/raft handles heartbeats on the transport's goroutines, not on
// its own: one that passed Raft's shutdown check just before Shutdown may
// still save the current term after Shutdown returned, and Raft panics when
// that save fails. close waits for the saves under way; a save after it is
// dropped. Dropping it is safe: only a heartbeat can save after Shutdown,
// and what a heartbeat saves is a newer term, never a vote, which a node may
// take again in that term after a restart.
type closingStable struct {
	hraft.StableStore
	mu     sync.RWMutex
	closed bool
}

func (s *closingStable) Set(key, val []byte) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil
	}
	return s.StableStore.Set(key, val)
}

func (s *closingStable) SetUint64(key []byte, val uint64) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil
	}
	return s.StableStore.SetUint64(key, val)
}

func (s *closingStable) Get(key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrShutdown
	}
	return s.StableStore.Get(key)
}

func (s *closingStable) GetUint64(key []byte) (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, ErrShutdown
	}
	return s.StableStore.GetUint64(key)
}

// close waits for the calls under way and makes later ones no-ops.
func (s *closingStable) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}
