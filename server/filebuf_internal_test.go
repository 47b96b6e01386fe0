package server

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

// The buffers of the file ranges a node sends are bounded: once fileBufs
// are taken the next request waits until one is given back, and the ones
// given back are reused, whatever the number of requests.
func TestFileBufPoolIsBounded(t *testing.T) {
	p := newFileBufPool()
	ctx := context.Background()
	var held [][]byte
	for range fileBufs {
		b, err := p.get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != fileBufSize {
			t.Fatalf("buffer of %d bytes, want %d", len(b), fileBufSize)
		}
		held = append(held, b)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := p.get(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("get with every buffer taken: %v, want it to wait", err)
	}
	// A slice of a buffer, as answerFile returns it, goes back whole.
	p.put(held[0][:17])
	b, err := p.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if &b[0] != &held[0][0] {
		t.Fatal("the buffer given back was not reused")
	}
	p.put(make([]byte, 10)) // not one of the pool's: dropped
	for i := 1; i < fileBufs; i++ {
		p.put(held[i])
	}
	p.put(b)
	if len(p.bufs) != fileBufs {
		t.Fatalf("%d buffers in the pool, want %d", len(p.bufs), fileBufs)
	}
}

// An answer is written as one frame, header and payload, as appendAnswer
// builds it.
func TestWriteAnswerFrame(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 1000)
	var got, want bytes.Buffer
	if err := writeAnswer(&got, statusOK, 7, payload); err != nil {
		t.Fatal(err)
	}
	if err := writeFrame(&want, appendAnswer(nil, statusOK, 7, payload)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatal("writeAnswer's frame differs from writeFrame(appendAnswer)")
	}
}
