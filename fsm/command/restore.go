package command

import (
	"encoding/binary"
	"fmt"
)

// restoreV1 is the format byte of a restore entry. Restore entries have
// their own format byte rather than a command kind: they carry a file, not
// statements, and every decoder of commands refuses them as an unknown
// format (which a node of a version before restore entries does too, and
// stops, rather than apply something else in their place).
const restoreV1 byte = 6

// RestoreOp is the step of a restore a restore entry carries.
type RestoreOp uint8

const (
	// RestoreBegin starts staging a file of Size bytes whose CRC-32C
	// (Castagnoli) is Checksum; it discards any other restore being staged.
	RestoreBegin RestoreOp = 1
	// RestoreChunk appends Data, which starts at byte Offset of the file.
	RestoreChunk RestoreOp = 2
	// RestoreCommit makes the staged file, once whole, the state.
	RestoreCommit RestoreOp = 3
	// RestoreAbort discards the staged file, whether staged from chunk
	// entries or out of band.
	RestoreAbort RestoreOp = 4
	// RestoreInstall makes the file of Size bytes whose CRC-32C is
	// Checksum, staged under ID out of band (copied from node to node,
	// not through the log), the state. A node that lacks the file fetches
	// it before it applies the entry.
	RestoreInstall RestoreOp = 5
)

func (o RestoreOp) String() string {
	switch o {
	case RestoreBegin:
		return "begin"
	case RestoreChunk:
		return "chunk"
	case RestoreCommit:
		return "commit"
	case RestoreAbort:
		return "abort"
	case RestoreInstall:
		return "install"
	}
	return fmt.Sprintf("restore-op(%d)", uint8(o))
}

// MaxRestoreChunk is the largest Data a restore chunk may carry.
const MaxRestoreChunk = 1 << 20

// Restore is one step of a restore. Through the log, the file goes up as a
// begin entry, chunks, and a commit entry, so that every node installs it
// at the same index, or, if the commit never comes, none does. Out of band,
// the file is copied to the nodes first and one install entry commits it.
type Restore struct {
	Op RestoreOp
	// ID names the restore; entries of another restore than the one
	// being staged are ignored.
	ID uint64
	// Size and Checksum (CRC-32C of the whole file) are set in begin,
	// commit and install entries.
	Size     int64
	Checksum uint32
	// Offset and Data are set in chunk entries.
	Offset int64
	Data   []byte
}

// IsRestore reports whether entry was written by EncodeRestore.
func IsRestore(entry []byte) bool { return len(entry) > 0 && entry[0] == restoreV1 }

// EncodeRestore returns the log entry bytes of r.
func EncodeRestore(r *Restore) []byte {
	b := make([]byte, 0, 32+len(r.Data)+checksumSize)
	b = append(b, restoreV1, byte(r.Op))
	b = binary.AppendUvarint(b, r.ID)
	switch r.Op {
	case RestoreBegin, RestoreCommit, RestoreInstall:
		b = binary.AppendUvarint(b, uint64(r.Size))
		b = binary.LittleEndian.AppendUint32(b, r.Checksum)
	case RestoreChunk:
		b = binary.AppendUvarint(b, uint64(r.Offset))
		b = binary.AppendUvarint(b, uint64(len(r.Data)))
		b = append(b, r.Data...)
	}
	return appendChecksum(b)
}

// DecodeRestore parses an entry written by EncodeRestore. A chunk's Data
// points into entry.
func DecodeRestore(entry []byte) (*Restore, error) {
	if !IsRestore(entry) {
		return nil, fmt.Errorf("%w: not a restore entry", ErrCorrupt)
	}
	body, err := verify(entry)
	if err != nil {
		return nil, err
	}
	d := decoder{b: body[1:]}
	r := &Restore{Op: RestoreOp(d.byte())}
	r.ID = d.uvarint()
	switch r.Op {
	case RestoreBegin, RestoreCommit, RestoreInstall:
		r.Size = d.size()
		if len(d.b) < 4 {
			d.fail("truncated")
		} else {
			r.Checksum = binary.LittleEndian.Uint32(d.b)
			d.b = d.b[4:]
		}
	case RestoreChunk:
		r.Offset = d.size()
		r.Data = d.bytes()
		if d.err == nil && len(r.Data) > MaxRestoreChunk {
			d.fail(fmt.Sprintf("restore chunk of %d bytes", len(r.Data)))
		}
	case RestoreAbort:
	default:
		if d.err == nil {
			return nil, fmt.Errorf("%w: unknown restore step %d", ErrUnsupported, r.Op)
		}
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return r, nil
}

// size reads a non-negative size or offset.
func (d *decoder) size() int64 {
	v := d.uvarint()
	if d.err == nil && v > 1<<62 {
		d.fail("size out of range")
		return 0
	}
	return int64(v)
}
