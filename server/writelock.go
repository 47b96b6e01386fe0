package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// writeLock orders the leader's proposals against interactive transactions.
// Ordinary writes hold it shared while they are proposed and applied, so
// many proceed at once and Raft batches them; a transaction holds it
// exclusively from its first write until Raft has queued its commit, so
// that it runs alone on the state machine's write connection, on top of
// the transactions queued before it (tx.go). A waiting transaction
// keeps new shared holders out, so it is not starved, and transactions get
// the lock in the order they asked for it, so none waits behind an unbounded
// number of later ones. A release hands the lock to the first waiting
// transaction directly, waking it alone: the transactions behind it, and
// ordinary writes, sleep on.
type writeLock struct {
	mu        sync.Mutex
	shared    int
	exclusive bool
	waiters   []*lockWaiter // transactions waiting for the lock, oldest first
	// changed is closed and replaced when ordinary writes may go: no
	// transaction holds or waits for the lock any more.
	changed chan struct{}

	// onWait, if set, is called (without l.mu) when a transaction starts
	// waiting, so that whoever holds the lock shared can hurry.
	onWait func()
}

// lockWaiter is a place in the queue of transactions; granted is closed
// when the lock is handed to it.
type lockWaiter struct{ granted chan struct{} }

func newWriteLock() *writeLock { return &writeLock{changed: make(chan struct{})} }

func (l *writeLock) broadcast() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// handOff gives a free lock to the first waiting transaction, or tells
// ordinary writes when none waits. l.mu is held.
func (l *writeLock) handOff() {
	if l.exclusive {
		return
	}
	if len(l.waiters) == 0 {
		l.broadcast()
		return
	}
	if l.shared > 0 {
		return
	}
	w := l.waiters[0]
	l.waiters[0] = nil
	l.waiters = l.waiters[1:]
	l.exclusive = true
	close(w.granted)
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
		l.handOff()
	}
	l.mu.Unlock()
}

// acquireExclusive waits until the lock is free (no transaction holds it and
// every shared holder has finished) and every transaction that asked before
// has had its turn.
func (l *writeLock) acquireExclusive(ctx context.Context) error {
	l.mu.Lock()
	if !l.exclusive && l.shared == 0 && len(l.waiters) == 0 {
		l.exclusive = true
		l.mu.Unlock()
		return nil
	}
	me := &lockWaiter{granted: make(chan struct{})}
	l.waiters = append(l.waiters, me)
	l.mu.Unlock()
	if l.onWait != nil {
		l.onWait()
	}
	select {
	case <-me.granted:
		return nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	select {
	case <-me.granted:
		// Handed over as the wait ended: pass it on.
		l.exclusive = false
	default:
		l.waiters = slices.DeleteFunc(l.waiters, func(w *lockWaiter) bool { return w == me })
	}
	l.handOff()
	l.mu.Unlock()
	return ctx.Err()
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
	l.handOff()
	l.mu.Unlock()
}

// errLockWaitOver is the cause of a lock wait that reached its timeout.
var errLockWaitOver = errors.New("lock wait over")

// waitLock runs acquire, bounded by timeout. A wait that gives up for that
// reason returns an error matching ErrLockTimeout that names the lock and the
// timeout; nothing was done. Otherwise it returns acquire's error (ctx's,
// when the caller gave up).
func waitLock(ctx context.Context, timeout time.Duration, acquire func(context.Context) error) error {
	lctx, cancel := context.WithTimeoutCause(ctx, timeout, errLockWaitOver)
	defer cancel()
	err := acquire(lctx)
	if err != nil && ctx.Err() == nil && context.Cause(lctx) == errLockWaitOver {
		return fmt.Errorf("%w: waited %v for the cluster's write lock, which an open transaction holds", ErrLockTimeout, timeout)
	}
	return err
}
