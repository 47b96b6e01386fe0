package server

import (
	"context"
	"testing"
	"time"
)

// TestWriteLockServesTransactionsInOrder queues transactions behind a shared
// holder: they get the lock in the order they asked, one that gives up is
// skipped, and ordinary writes wait until the queue is empty.
func TestWriteLockServesTransactionsInOrder(t *testing.T) {
	l := newWriteLock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := l.acquireShared(ctx); err != nil {
		t.Fatal(err)
	}
	order := make(chan int, 4)
	queued := func(n int) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			l.mu.Lock()
			got := len(l.waiters)
			l.mu.Unlock()
			if got == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d transactions queued, want %d", got, n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	giveUp, stop := context.WithCancel(ctx)
	defer stop()
	for i := range 3 {
		tctx := ctx
		if i == 1 {
			tctx = giveUp
		}
		go func() {
			if err := l.acquireExclusive(tctx); err != nil {
				order <- -i - 1
				return
			}
			order <- i
			l.releaseExclusive()
		}()
		queued(i + 1)
	}
	sharedDone := make(chan error, 1)
	go func() {
		err := l.acquireShared(ctx)
		if err == nil {
			l.releaseShared()
		}
		sharedDone <- err
	}()
	stop()
	if got := <-order; got != -2 {
		t.Fatalf("the transaction that gave up: got %d, want -2", got)
	}
	select {
	case <-sharedDone:
		t.Fatal("an ordinary write got the lock while transactions were queued")
	default:
	}
	l.releaseShared()
	for _, want := range []int{0, 2} {
		if got := <-order; got != want {
			t.Fatalf("transaction %d got the lock, want %d", got, want)
		}
	}
	if err := <-sharedDone; err != nil {
		t.Fatal(err)
	}
}

// A transaction that has to wait tells the shared holders at once, so that
// a gathering group entry goes out instead of holding it up.
func TestWriteLockTellsOfWaitingTransaction(t *testing.T) {
	l := newWriteLock()
	waits := make(chan struct{}, 4)
	l.onWait = func() { waits <- struct{}{} }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	if err := l.acquireExclusive(ctx); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 0 || !l.contended() {
		t.Fatalf("free lock: %d waits told, contended %v", len(waits), l.contended())
	}
	l.releaseExclusive()
	if l.contended() {
		t.Fatal("released lock reported contended")
	}

	if err := l.acquireShared(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() { got <- l.acquireExclusive(ctx) }()
	select {
	case <-waits:
	case <-ctx.Done():
		t.Fatal("a transaction waiting behind a shared holder was not told of")
	}
	if !l.contended() {
		t.Error("lock with a waiting transaction not reported contended")
	}
	l.releaseShared()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	l.releaseExclusive()
}

// A transaction that gives up waiting behind ordinary writes lets the
// writes that queued behind it in at once, while the first still holds the
// lock; and a lock handed over releases to whoever waits next.
func TestWriteLockWaiterGivingUpLetsWritesIn(t *testing.T) {
	l := newWriteLock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := l.acquireShared(ctx); err != nil {
		t.Fatal(err)
	}
	giveUp, stop := context.WithCancel(ctx)
	txDone := make(chan error, 1)
	go func() { txDone <- l.acquireExclusive(giveUp) }()
	deadline := time.Now().Add(10 * time.Second)
	for !l.contended() {
		if time.Now().After(deadline) {
			t.Fatal("the transaction did not queue")
		}
		time.Sleep(time.Millisecond)
	}
	sharedDone := make(chan error, 1)
	go func() { sharedDone <- l.acquireShared(ctx) }()
	stop()
	if err := <-txDone; err == nil {
		t.Fatal("the transaction that gave up got the lock")
	}
	if err := <-sharedDone; err != nil {
		t.Fatalf("an ordinary write stayed out after the transaction gave up: %v", err)
	}
	l.releaseShared()
	l.releaseShared()
	if l.contended() {
		t.Fatal("a free lock reported contended")
	}
	// Handed from one transaction to the next, and then to writes.
	if err := l.acquireExclusive(ctx); err != nil {
		t.Fatal(err)
	}
	next := make(chan error, 1)
	go func() { next <- l.acquireExclusive(ctx) }()
	for {
		l.mu.Lock()
		n := len(l.waiters)
		l.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second transaction did not queue")
		}
		time.Sleep(time.Millisecond)
	}
	l.releaseExclusive()
	if err := <-next; err != nil {
		t.Fatal(err)
	}
	l.releaseExclusive()
	if err := l.acquireShared(ctx); err != nil {
		t.Fatal(err)
	}
	l.releaseShared()
}
