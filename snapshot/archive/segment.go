package archive

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

// Version is the format version of the segments and objects Write produces.
const Version = 1

// MaxRecord bounds the data of one record.
const MaxRecord = 1 << 30

var (
	segMagic   = [8]byte{'R', 'S', 'Q', 'L', 'S', 'E', 'G', 0}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

const (
	segHeaderLen   = 8 + 2 + 2 + 8 + 8 + 4
	recordFixedLen = 1 + 8 + 8 + 8 + 4
	tagRecord      = 'R'
	tagEnd         = 'E'
	segEndLen      = 1 + 4 + 4
)

var (
	// ErrCorrupt is wrapped by every error about bytes that are not a
	// valid object of this format: a bad checksum, a truncated segment,
	// fields that contradict each other.
	ErrCorrupt = errors.New("archive: corrupt")
)

// Record is one archived log entry.
type Record struct {
	Index, Term uint64
	// TimeUnixNano is the leader's clock when it proposed the entry.
	TimeUnixNano int64
	Data         []byte
}

// SegmentBuilder gathers the records of one segment in memory, up to the
// writer's bound, and encodes it.
type SegmentBuilder struct {
	first, last uint64
	buf         bytes.Buffer
	count       int
	lastTime    int64
	done        []byte // the encoded segment, once Bytes has been called
}

// NewSegmentBuilder starts a segment whose first index is first.
func NewSegmentBuilder(first uint64) *SegmentBuilder {
	b := &SegmentBuilder{first: first, last: first - 1}
	b.buf.Write(make([]byte, segHeaderLen))
	return b
}

// First and Last are the range of indexes the segment covers so far; Last
// is First-1 while it covers none.
func (b *SegmentBuilder) First() uint64 { return b.first }
func (b *SegmentBuilder) Last() uint64  { return b.last }

// Size is the length of the encoded segment so far.
func (b *SegmentBuilder) Size() int { return b.buf.Len() + segEndLen }

// Count is the number of records.
func (b *SegmentBuilder) Count() int { return b.count }

// LastTime is the time of the last record, 0 without one.
func (b *SegmentBuilder) LastTime() int64 { return b.lastTime }

// Add appends a record; its index must follow Last.
func (b *SegmentBuilder) Add(r Record) error {
	if b.done != nil {
		return errors.New("archive: record added to a finished segment")
	}
	if r.Index <= b.last {
		return fmt.Errorf("archive: record %d after %d", r.Index, b.last)
	}
	if len(r.Data) > MaxRecord {
		return fmt.Errorf("archive: record %d of %d bytes exceeds %d", r.Index, len(r.Data), MaxRecord)
	}
	start := b.buf.Len()
	var fixed [recordFixedLen]byte
	fixed[0] = tagRecord
	binary.BigEndian.PutUint64(fixed[1:], r.Index)
	binary.BigEndian.PutUint64(fixed[9:], r.Term)
	binary.BigEndian.PutUint64(fixed[17:], uint64(r.TimeUnixNano))
	binary.BigEndian.PutUint32(fixed[25:], uint32(len(r.Data)))
	b.buf.Write(fixed[:])
	b.buf.Write(r.Data)
	sum := crc32.Checksum(b.buf.Bytes()[start:], castagnoli)
	b.buf.Write(binary.BigEndian.AppendUint32(nil, sum))
	b.last = r.Index
	b.count++
	b.lastTime = r.TimeUnixNano
	return nil
}

// Skip extends the range to index without a record (an entry with nothing
// to replay).
func (b *SegmentBuilder) Skip(index uint64) {
	if index > b.last && b.done == nil {
		b.last = index
	}
}

// Bytes encodes the segment, in the builder's own buffer (an entry is not
// copied again), and finishes it: the builder takes no more records. The
// builder must cover at least one index.
func (b *SegmentBuilder) Bytes() []byte {
	if b.done == nil {
		hdr := b.buf.Bytes()[:0]
		hdr = append(hdr, segMagic[:]...)
		hdr = binary.BigEndian.AppendUint16(hdr, Version)
		hdr = binary.BigEndian.AppendUint16(hdr, 0)
		hdr = binary.BigEndian.AppendUint64(hdr, b.first)
		hdr = binary.BigEndian.AppendUint64(hdr, b.last)
		binary.BigEndian.AppendUint32(hdr, crc32.Checksum(hdr, castagnoli))
		b.buf.WriteByte(tagEnd)
		b.buf.Write(binary.BigEndian.AppendUint32(nil, uint32(b.count)))
		b.buf.Write(binary.BigEndian.AppendUint32(nil, crc32.Checksum(b.buf.Bytes(), castagnoli)))
		b.done = b.buf.Bytes()
	}
	return b.done
}

// SegmentReader reads a segment: NewSegmentReader checks the header, Next
// returns the records in order and io.EOF only once the end marker and the
// whole segment's checksum have been read and match.
type SegmentReader struct {
	First, Last uint64

	r     *bufio.Reader
	crc   hash.Hash32
	count int
	prev  uint64
	err   error
}

// NewSegmentReader reads the header of the segment in r.
func NewSegmentReader(r io.Reader) (*SegmentReader, error) {
	crc := crc32.New(castagnoli)
	br := bufio.NewReaderSize(r, 64<<10)
	var hdr [segHeaderLen]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, truncated(err, "segment header")
	}
	if [8]byte(hdr[:8]) != segMagic {
		return nil, fmt.Errorf("%w: not an archive segment (bad magic)", ErrCorrupt)
	}
	if sum := binary.BigEndian.Uint32(hdr[segHeaderLen-4:]); sum != crc32.Checksum(hdr[:segHeaderLen-4], castagnoli) {
		return nil, fmt.Errorf("%w: segment header checksum", ErrCorrupt)
	}
	if v := binary.BigEndian.Uint16(hdr[8:]); v != Version {
		return nil, fmt.Errorf("%w: unknown segment version %d", ErrCorrupt, v)
	}
	if f := binary.BigEndian.Uint16(hdr[10:]); f != 0 {
		return nil, fmt.Errorf("%w: unknown segment flags %#x", ErrCorrupt, f)
	}
	s := &SegmentReader{First: binary.BigEndian.Uint64(hdr[12:]), Last: binary.BigEndian.Uint64(hdr[20:]), r: br, crc: crc}
	if s.First == 0 || s.Last < s.First {
		return nil, fmt.Errorf("%w: segment range %d..%d", ErrCorrupt, s.First, s.Last)
	}
	s.prev = s.First - 1
	crc.Write(hdr[:])
	return s, nil
}

// Next returns the next record, or io.EOF after the last one of an intact
// segment. Its Data is the caller's.
func (s *SegmentReader) Next() (Record, error) {
	if s.err != nil {
		return Record{}, s.err
	}
	rec, err := s.next()
	if err != nil {
		s.err = err
	}
	return rec, err
}

func (s *SegmentReader) next() (Record, error) {
	tag, err := s.r.ReadByte()
	if err != nil {
		return Record{}, truncated(err, "segment")
	}
	switch tag {
	case tagEnd:
		return Record{}, s.end()
	case tagRecord:
	default:
		return Record{}, fmt.Errorf("%w: segment %d..%d: unknown tag %#x after index %d", ErrCorrupt, s.First, s.Last, tag, s.prev)
	}
	var fixed [recordFixedLen]byte
	fixed[0] = tag
	if _, err := io.ReadFull(s.r, fixed[1:]); err != nil {
		return Record{}, truncated(err, "record")
	}
	rec := Record{
		Index:        binary.BigEndian.Uint64(fixed[1:]),
		Term:         binary.BigEndian.Uint64(fixed[9:]),
		TimeUnixNano: int64(binary.BigEndian.Uint64(fixed[17:])),
	}
	n := binary.BigEndian.Uint32(fixed[25:])
	if n > MaxRecord {
		return Record{}, fmt.Errorf("%w: segment %d..%d: record after index %d claims %d bytes", ErrCorrupt, s.First, s.Last, s.prev, n)
	}
	// ReadAll over a limited reader allocates as the bytes arrive, not
	// what a corrupt length claims.
	data, err := io.ReadAll(io.LimitReader(s.r, int64(n)))
	if err != nil {
		return Record{}, fmt.Errorf("archive: reading a record: %w", err)
	}
	if len(data) != int(n) {
		return Record{}, fmt.Errorf("%w: segment %d..%d ends inside the record after index %d", ErrCorrupt, s.First, s.Last, s.prev)
	}
	var sum [4]byte
	if _, err := io.ReadFull(s.r, sum[:]); err != nil {
		return Record{}, truncated(err, "record checksum")
	}
	rc := crc32.Update(crc32.Checksum(fixed[:], castagnoli), castagnoli, data)
	if binary.BigEndian.Uint32(sum[:]) != rc {
		return Record{}, fmt.Errorf("%w: segment %d..%d: checksum of the record after index %d (claims index %d)", ErrCorrupt, s.First, s.Last, s.prev, rec.Index)
	}
	if rec.Index <= s.prev || rec.Index > s.Last {
		return Record{}, fmt.Errorf("%w: segment %d..%d: record index %d after %d", ErrCorrupt, s.First, s.Last, rec.Index, s.prev)
	}
	s.crc.Write(fixed[:])
	s.crc.Write(data)
	s.crc.Write(sum[:])
	s.prev = rec.Index
	s.count++
	rec.Data = data
	return rec, nil
}

func (s *SegmentReader) end() error {
	var b [segEndLen - 1]byte
	if _, err := io.ReadFull(s.r, b[:]); err != nil {
		return truncated(err, "segment end")
	}
	s.crc.Write([]byte{tagEnd})
	s.crc.Write(b[:4])
	if int(binary.BigEndian.Uint32(b[:4])) != s.count {
		return fmt.Errorf("%w: segment %d..%d: end says %d records, read %d", ErrCorrupt, s.First, s.Last, binary.BigEndian.Uint32(b[:4]), s.count)
	}
	if binary.BigEndian.Uint32(b[4:]) != s.crc.Sum32() {
		return fmt.Errorf("%w: segment %d..%d: checksum", ErrCorrupt, s.First, s.Last)
	}
	if _, err := s.r.ReadByte(); err != io.EOF {
		return fmt.Errorf("%w: segment %d..%d: bytes after its end", ErrCorrupt, s.First, s.Last)
	}
	return io.EOF
}

func truncated(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated %s", ErrCorrupt, what)
	}
	return fmt.Errorf("archive: reading %s: %w", what, err)
}
