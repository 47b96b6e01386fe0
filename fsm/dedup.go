package fsm

import "github.com/raftsql/raftsql/fsm/command"

// Bounds of the table of remembered results. Eviction is oldest first, in
// apply order, so every node evicts the same entries.
const (
	dedupMaxEntries     = 10000
	dedupMaxBytes       = 4 << 20
	dedupMaxResultBytes = 64 << 10
)

// dedup remembers the results of recently applied requests, so that a
// client's retry of a request that was applied returns its result instead
// of running again (Raft dissertation §6.3).
type dedup struct {
	m     map[command.RequestID]*command.Result
	q     []dedupEntry // oldest first, from head
	head  int
	bytes int
}

type dedupEntry struct {
	id   command.RequestID
	size int
}

func (d *dedup) init() {
	d.m = map[command.RequestID]*command.Result{}
	d.q, d.head, d.bytes = nil, 0, 0
}

func (d *dedup) len() int { return len(d.q) - d.head }

func (d *dedup) get(id command.RequestID) *command.Result { return d.m[id] }

// put remembers r as the result of id. A result too large to keep is
// remembered without its rows.
func (d *dedup) put(id command.RequestID, r *command.Result) {
	if _, ok := d.m[id]; ok {
		return
	}
	size := resultSize(r)
	if size > dedupMaxResultBytes {
		t := &command.Result{Statements: make([]command.StatementResult, len(r.Statements))}
		for i, s := range r.Statements {
			s.Rows = nil
			t.Statements[i] = s
		}
		r, size = t, resultSize(t)
	}
	d.m[id] = r
	d.q = append(d.q, dedupEntry{id: id, size: size})
	d.bytes += size
	for d.len() > dedupMaxEntries || d.bytes > dedupMaxBytes {
		e := d.q[d.head]
		d.q[d.head] = dedupEntry{}
		d.head++
		delete(d.m, e.id)
		d.bytes -= e.size
	}
	if d.head > 1024 && d.head > len(d.q)/2 {
		d.q = append(d.q[:0], d.q[d.head:]...)
		d.head = 0
	}
}

// each calls fn for every remembered result, oldest first.
func (d *dedup) each(fn func(command.RequestID, *command.Result)) {
	for _, e := range d.q[d.head:] {
		fn(e.id, d.m[e.id])
	}
}

// resultSize estimates the memory a result holds.
func resultSize(r *command.Result) int {
	n := 64
	for _, s := range r.Statements {
		n += 64
		for _, c := range s.Columns {
			n += 32 + len(c.Name) + len(c.DeclType)
		}
		for _, row := range s.Rows {
			n += 24
			for _, v := range row {
				n += 48 + len(v.Text) + len(v.Blob)
			}
		}
		if s.Err != nil {
			n += 32 + len(s.Err.Message)
		}
	}
	return n
}
