package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress reports how far a transfer has gone: on a terminal a bar redrawn
// in place (bytes, rate, time left), elsewhere a plain line every few
// seconds, so that logs stay readable.
type progress struct {
	w     io.Writer
	label string
	total int64 // 0 when unknown
	tty   bool
	every time.Duration

	mu    sync.Mutex
	done  int64
	start time.Time
	last  time.Time
	shown bool
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newProgress reports to w; a nil w reports nothing.
func newProgress(w io.Writer, label string, total int64) *progress {
	p := &progress{w: w, label: label, total: total, start: time.Now(), every: 2 * time.Second}
	p.tty = isTerminal(w)
	if p.tty {
		p.every = 200 * time.Millisecond
	}
	p.last = p.start
	return p
}

// add records n more bytes.
func (p *progress) add(n int) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += int64(n)
	if now := time.Now(); now.Sub(p.last) >= p.every {
		p.last = now
		p.show(now, false)
	}
}

// finish prints the final state.
func (p *progress) finish() {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.tty && !p.shown {
		return // quick enough that no progress line was due
	}
	p.show(time.Now(), true)
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

func (p *progress) show(now time.Time, final bool) {
	p.shown = true
	elapsed := now.Sub(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.done) / elapsed
	}
	var b strings.Builder
	if p.tty {
		b.WriteString("\r")
	}
	b.WriteString(p.label)
	b.WriteString(": ")
	if p.total > 0 {
		frac := min(float64(p.done)/float64(p.total), 1)
		if p.tty {
			const width = 30
			fill := int(frac * width)
			b.WriteString("[" + strings.Repeat("=", fill) + strings.Repeat(" ", width-fill) + "] ")
		}
		fmt.Fprintf(&b, "%3.0f%% %s of %s", 100*frac, bytesText(p.done), bytesText(p.total))
	} else {
		b.WriteString(bytesText(p.done))
	}
	fmt.Fprintf(&b, ", %s/s", bytesText(int64(rate)))
	if p.total > 0 && !final && rate > 0 && p.done < p.total {
		eta := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
		fmt.Fprintf(&b, ", ETA %s", eta.Round(time.Second))
	}
	if final {
		fmt.Fprintf(&b, ", %s", now.Sub(p.start).Round(time.Millisecond))
	}
	if p.tty {
		b.WriteString("\x1b[K") // clear what a longer line left
	} else {
		b.WriteString("\n")
	}
	io.WriteString(p.w, b.String())
}

// bytesText formats a byte count for people.
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// progressReader counts what is read through it, and calls eof, if set,
// once the reader is drained.
type progressReader struct {
	r   io.Reader
	p   *progress
	eof func()
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.p.add(n)
	if err == io.EOF && r.eof != nil {
		r.eof()
		r.eof = nil
	}
	return n, err
}

// progressWriter counts what is written through it.
type progressWriter struct {
	w io.Writer
	p *progress
}

func (w progressWriter) Write(b []byte) (int, error) {
	n, err := w.w.Write(b)
	w.p.add(n)
	return n, err
}
