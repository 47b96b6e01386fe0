package snapshot

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

// Version is the format version Write produces.
const Version = 1

// MaxMeta bounds the size of Header.Meta.
const MaxMeta = 16 << 20

// magic opens every stream.
var magic = [8]byte{'R', 'A', 'F', 'T', 'S', 'Q', 'L', 0}

// fixedHeaderLen is the size of the header before the meta bytes.
const fixedHeaderLen = 8 + 2 + 2 + 8 + 8 + 8 + 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	// ErrFormat is wrapped by every error about a stream that is not a
	// snapshot of a known version.
	ErrFormat = errors.New("snapshot: not a raftsql snapshot")
	// ErrChecksum is wrapped when a checksum does not match.
	ErrChecksum = errors.New("snapshot: checksum mismatch")
	// ErrTruncated is wrapped when the stream ends early.
	ErrTruncated = errors.New("snapshot: truncated")
)

// Header describes a snapshot.
type Header struct {
	// Index and Term are those of the last log entry the snapshot includes.
	Index, Term uint64
	// Meta is opaque state of the snapshot's producer, at most MaxMeta bytes.
	Meta []byte
	// Size is the length of the body in bytes.
	Size int64
}

// Write writes a snapshot of h and body to w. body must yield exactly h.Size
// bytes; it is copied in chunks, never read whole into memory.
func Write(w io.Writer, h Header, body io.Reader) error {
	if len(h.Meta) > MaxMeta {
		return fmt.Errorf("snapshot: meta of %d bytes exceeds %d", len(h.Meta), MaxMeta)
	}
	if h.Size < 0 {
		return fmt.Errorf("snapshot: negative body size %d", h.Size)
	}
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 256<<10)

	hdr := make([]byte, 0, fixedHeaderLen+len(h.Meta)+4)
	hdr = append(hdr, magic[:]...)
	hdr = binary.BigEndian.AppendUint16(hdr, Version)
	hdr = binary.BigEndian.AppendUint16(hdr, 0) // flags
	hdr = binary.BigEndian.AppendUint64(hdr, h.Index)
	hdr = binary.BigEndian.AppendUint64(hdr, h.Term)
	hdr = binary.BigEndian.AppendUint64(hdr, uint64(h.Size))
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(len(h.Meta)))
	hdr = append(hdr, h.Meta...)
	hdr = binary.BigEndian.AppendUint32(hdr, crc32.Checksum(hdr, castagnoli))
	if _, err := bw.Write(hdr); err != nil {
		return err
	}

	n, err := io.CopyN(bw, body, h.Size)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("snapshot: body ended after %d of %d bytes", n, h.Size)
		}
		return err
	}
	var one [1]byte
	if m, _ := io.ReadFull(body, one[:]); m != 0 {
		return fmt.Errorf("snapshot: body longer than %d bytes", h.Size)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	var tr [4]byte
	binary.BigEndian.PutUint32(tr[:], crc.Sum32())
	_, err = w.Write(tr[:])
	return err
}

// Reader reads a snapshot: NewReader reads and checks the header, Read
// returns the body. Read returns io.EOF only once the whole body and the
// trailer have been read and the checksum matches; a corrupt or truncated
// stream ends with an error wrapping ErrChecksum or ErrTruncated instead.
type Reader struct {
	Header Header

	r      io.Reader
	crc    hash.Hash32
	remain int64
	err    error // sticky, returned once the body is done or on failure
}

// NewReader reads the header of the snapshot in r.
func NewReader(r io.Reader) (*Reader, error) {
	crc := crc32.New(castagnoli)
	tr := io.TeeReader(r, crc)
	var fixed [fixedHeaderLen]byte
	if _, err := io.ReadFull(tr, fixed[:]); err != nil {
		return nil, readErr(err, "header")
	}
	if [8]byte(fixed[:8]) != magic {
		return nil, fmt.Errorf("%w: bad magic", ErrFormat)
	}
	b := fixed[8:]
	version := binary.BigEndian.Uint16(b)
	flags := binary.BigEndian.Uint16(b[2:])
	if version != Version {
		return nil, fmt.Errorf("%w: unknown version %d", ErrFormat, version)
	}
	if flags != 0 {
		return nil, fmt.Errorf("%w: unknown flags %#x", ErrFormat, flags)
	}
	var h Header
	h.Index = binary.BigEndian.Uint64(b[4:])
	h.Term = binary.BigEndian.Uint64(b[12:])
	size := binary.BigEndian.Uint64(b[20:])
	metaLen := binary.BigEndian.Uint32(b[28:])
	if metaLen > MaxMeta {
		return nil, fmt.Errorf("%w: meta of %d bytes exceeds %d", ErrFormat, metaLen, MaxMeta)
	}
	if size > 1<<62 {
		return nil, fmt.Errorf("%w: body size %d", ErrFormat, size)
	}
	h.Size = int64(size)
	if metaLen > 0 {
		// ReadAll over a limited reader allocates in proportion to what
		// the stream really holds, not to what its header claims.
		meta, err := io.ReadAll(io.LimitReader(tr, int64(metaLen)))
		if err != nil {
			return nil, readErr(err, "meta")
		}
		if len(meta) != int(metaLen) {
			return nil, fmt.Errorf("%w: meta", ErrTruncated)
		}
		h.Meta = meta
	}
	want := crc.Sum32()
	var sum [4]byte
	if _, err := io.ReadFull(r, sum[:]); err != nil {
		return nil, readErr(err, "header checksum")
	}
	if binary.BigEndian.Uint32(sum[:]) != want {
		return nil, fmt.Errorf("%w: header", ErrChecksum)
	}
	crc.Write(sum[:])
	return &Reader{Header: h, r: r, crc: crc, remain: h.Size}, nil
}

// Read reads body bytes into p.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.remain == 0 {
		r.err = r.finish()
		return 0, r.err
	}
	if int64(len(p)) > r.remain {
		p = p[:r.remain]
	}
	n, err := r.r.Read(p)
	r.crc.Write(p[:n])
	r.remain -= int64(n)
	if err != nil {
		if errors.Is(err, io.EOF) {
			if r.remain == 0 {
				// The trailer is still to come; a stream without one
				// is caught by finish on the next call.
				return n, nil
			}
			err = fmt.Errorf("%w: body ended %d bytes early", ErrTruncated, r.remain)
		}
		r.err = err
		return n, err
	}
	return n, nil
}

func (r *Reader) finish() error {
	var sum [4]byte
	if _, err := io.ReadFull(r.r, sum[:]); err != nil {
		return readErr(err, "trailer")
	}
	if binary.BigEndian.Uint32(sum[:]) != r.crc.Sum32() {
		return fmt.Errorf("%w: body", ErrChecksum)
	}
	return io.EOF
}

// Verify reads the rest of the body, discarding it, and reports whether the
// stream is complete and its checksum matches.
func (r *Reader) Verify() error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// Extract copies the body of the snapshot in r to w, which then holds the
// plain file the snapshot was made of. It returns the header, and an error
// if the snapshot is corrupt or truncated; w may then hold a partial body.
func Extract(w io.Writer, r io.Reader) (Header, error) {
	sr, err := NewReader(r)
	if err != nil {
		return Header{}, err
	}
	if _, err := io.Copy(w, sr); err != nil {
		return sr.Header, err
	}
	return sr.Header, nil
}

func readErr(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s", ErrTruncated, what)
	}
	return fmt.Errorf("snapshot: reading %s: %w", what, err)
}

// EncodedSize is the length of the stream Write produces for h: the
// header, h.Size body bytes and the trailer. A caller that hands the stream
// to a store wanting its length up front (a Raft user restore) gets it
// without writing anything.
func EncodedSize(h Header) int64 {
	return fixedHeaderLen + int64(len(h.Meta)) + 4 + h.Size + 4
}
