package server

import (
	"context"
	"slices"
	"sync"
)

// writeLock orders the leader's proposals against interactive transactions.
// Ordinary writes hold it shared while they are proposed and applied, so
// many proceed at once and Raft batches them; a transaction holds it
// exclusively from its first write until its commit is applied, so that it
// runs alone on the state machine's write connection. A waiting transaction
// keeps new shared holders out, so it is not starved, and transactions get
// the lock in the order they asked for it, so none waits behind an unbounded
// number of later ones.
type writeLock struct {
	mu        sync.Mutex
	shared    int
	exclusive bool
	waiters   []*lockWaiter // transactions waiting for the lock, oldest first
	changed   chan struct{} // closed and replaced whenever the lock is released

	// onWait, if set, is called (without l.mu) when a transaction starts
	// waiting, so that whoever holds the lock shared can hurry.
	onWait func()
}

// lockWaiter is a place in the queue of transactions. It is not empty:
// pointers to distinct zero-size values may compare equal.
type lockWaiter struct{ _ byte }

func newWriteLock() *writeLock { return &writeLock{changed: make(chan struct{})} }

func (l *writeLock) broadcast() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// acquireShared waits until no transaction holds or waits for the lock.
func (l *writeLock) acquireShared(ctx context.Context) error {
	l.mu.Lock()
	for l.exclusive || len(l.waiters) > 0 {
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

// acquireExclusive waits until the lock is free (no transaction holds it and
// every shared holder has finished) and every transaction that asked before
// has had its turn.
func (l *writeLock) acquireExclusive(ctx context.Context) error {
	me := new(lockWaiter)
	l.mu.Lock()
	l.waiters = append(l.waiters, me)
	if l.onWait != nil && (l.exclusive || l.shared > 0 || l.waiters[0] != me) {
		l.mu.Unlock()
		l.onWait()
		l.mu.Lock()
	}
	for l.exclusive || l.shared > 0 || l.waiters[0] != me {
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			l.mu.Lock()
			l.waiters = slices.DeleteFunc(l.waiters, func(w *lockWaiter) bool { return w == me })
			l.broadcast()
			l.mu.Unlock()
			return ctx.Err()
		}
		l.mu.Lock()
	}
	l.waiters = l.waiters[1:]
	l.exclusive = true
	l.mu.Unlock()
	return nil
}

// contended reports whether a transaction holds or waits for the lock.
func (l *writeLock) contended() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.exclusive || len(l.waiters) > 0
}

func (l *writeLock) releaseExclusive() {
	l.mu.Lock()
	l.exclusive = false
	l.broadcast()
	l.mu.Unlock()
}
