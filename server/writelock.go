package server

import (
	"context"
	"sync"
)

// writeLock orders the leader's proposals against interactive transactions.
// Ordinary writes hold it shared while they are proposed and applied, so
// many proceed at once and Raft batches them; a transaction holds it
// exclusively from its first write until its commit is applied, so that it
// runs alone on the state machine's write connection. A waiting transaction
// keeps new shared holders out, so it is not starved.
type writeLock struct {
	mu        sync.Mutex
	shared    int
	exclusive bool
	waiting   int
	changed   chan struct{} // closed and replaced whenever the lock is released
}

func newWriteLock() *writeLock { return &writeLock{changed: make(chan struct{})} }

func (l *writeLock) broadcast() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// acquireShared waits until no transaction holds or waits for the lock.
func (l *writeLock) acquireShared(ctx context.Context) error {
	l.mu.Lock()
	for l.exclusive || l.waiting > 0 {
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		l.mu.Lock()
	}
	l.shared++
	l.mu.Unlock()
	return nil
}

// joinShared adds a shared hold on behalf of someone who already has one,
// so it cannot block: a proposal keeps the lock shared while in Raft even if
// the writers it carries stop waiting for it.
func (l *writeLock) joinShared() {
	l.mu.Lock()
	l.shared++
	l.mu.Unlock()
}

func (l *writeLock) releaseShared() {
	l.mu.Lock()
	l.shared--
	if l.shared == 0 {
		l.broadcast()
	}
	l.mu.Unlock()
}

// acquireExclusive waits until the lock is free: no transaction holds it and
// every shared holder has finished.
func (l *writeLock) acquireExclusive(ctx context.Context) error {
	l.mu.Lock()
	l.waiting++
	for l.exclusive || l.shared > 0 {
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			l.mu.Lock()
			l.waiting--
			l.broadcast()
			l.mu.Unlock()
			return ctx.Err()
		}
		l.mu.Lock()
	}
	l.waiting--
	l.exclusive = true
	l.mu.Unlock()
	return nil
}

func (l *writeLock) releaseExclusive() {
	l.mu.Lock()
	l.exclusive = false
	l.broadcast()
	l.mu.Unlock()
}
