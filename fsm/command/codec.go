package command

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// Format versions. An entry's first byte names the format it was written in;
// decoders keep reading every version ever written.
//
// Version 2 of a command adds the step budget and the value size limit the
// leader stamps, and both version 2 formats end with a CRC-32C (Castagnoli)
// of every byte before it, little-endian, so that an entry damaged on one
// node's disk is recognised there instead of being applied.
const (
	commandV1 byte = 1
	groupV1   byte = 2
	commandV2 byte = 3
	groupV2   byte = 4
	commandV3 byte = 5
	resultV1  byte = 1
)

// Version 3 of a command is version 2 with the digest of the results its
// transaction showed its client (Command.Expect) before the statements. It
// is written only for commands that carry one, so entries that older nodes
// can read are still written in version 2.

// checksumSize is the size of the CRC-32C that ends a version 2 entry.
const checksumSize = 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MaxGroup is the most commands one group entry may hold.
const MaxGroup = 1024

// Decoding errors. Every one wraps ErrCorrupt, except ErrUnsupported.
var (
	// ErrCorrupt is wrapped by every error for bytes that are not an
	// encoding this package writes.
	ErrCorrupt = errors.New("command: corrupt encoding")
	// ErrChecksum is wrapped (with ErrCorrupt) when an entry's bytes do not
	// match its checksum: they changed after the leader wrote them.
	ErrChecksum = errors.New("command: checksum mismatch")
	// ErrUnsupported is wrapped when an entry is intact (its checksum, or
	// for format 1 its structure, holds) but asks for something this
	// version does not know, such as a command kind added later. Every node
	// that reads the same bytes reaches the same verdict.
	ErrUnsupported = errors.New("command: unsupported command")
)

const nameFlag = 0x80

// Encode returns the log entry bytes of c.
func Encode(c *Command) []byte {
	size := 32
	for _, s := range c.Statements {
		size += len(s.SQL) + 4
		for _, p := range s.Params {
			size += valueSize(p)
		}
	}
	b := make([]byte, 0, size)
	v := commandV2
	if c.Expect != 0 {
		v = commandV3
	}
	b = append(b, v, byte(c.Kind))
	b = binary.AppendUvarint(b, c.RequestID.Client)
	b = binary.AppendUvarint(b, c.RequestID.Seq)
	b = binary.AppendVarint(b, c.TimeUnixNano)
	b = binary.LittleEndian.AppendUint64(b, c.Seed)
	b = binary.AppendVarint(b, c.MaxSteps)
	b = binary.AppendVarint(b, c.MaxValueSize)
	if v == commandV3 {
		b = binary.LittleEndian.AppendUint64(b, c.Expect)
	}
	b = binary.AppendUvarint(b, uint64(len(c.Statements)))
	for _, s := range c.Statements {
		b = appendString(b, s.SQL)
		b = binary.AppendUvarint(b, uint64(len(s.Params)))
		for _, p := range s.Params {
			b = appendValue(b, p, true)
		}
	}
	return appendChecksum(b)
}

func appendChecksum(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// verify checks the checksum that ends a version 2 entry and returns the
// bytes it covers.
func verify(data []byte) ([]byte, error) {
	if len(data) < 1+checksumSize {
		return nil, fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	body := data[:len(data)-checksumSize]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(data[len(body):]) {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, ErrChecksum)
	}
	return body, nil
}

// Decode parses a command written by Encode, in any format version.
func Decode(data []byte) (*Command, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	switch data[0] {
	case commandV1:
	case commandV2, commandV3:
		var err error
		if data, err = verify(data); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: unknown command format version %d", ErrCorrupt, data[0])
	}
	d := decoder{b: data}
	v := d.byte()
	c := &Command{Kind: Kind(d.byte())}
	c.RequestID.Client = d.uvarint()
	c.RequestID.Seq = d.uvarint()
	c.TimeUnixNano = d.varint()
	c.Seed = d.uint64()
	if v != commandV1 {
		c.MaxSteps = d.varint()
		c.MaxValueSize = d.varint()
	}
	if v == commandV3 {
		c.Expect = d.uint64()
	}
	n := d.count(2)
	if n > 0 {
		c.Statements = make([]Statement, n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		s := &c.Statements[i]
		s.SQL = d.string()
		np := d.count(1)
		if np > 0 {
			s.Params = make([]Value, np)
		}
		for j := 0; j < np && d.err == nil; j++ {
			s.Params[j] = d.value(true)
		}
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	switch c.Kind {
	case KindExecute, KindQuery, KindNoop:
	default:
		return nil, fmt.Errorf("%w: unknown command kind %d", ErrUnsupported, c.Kind)
	}
	return c, nil
}

// EncodeGroup returns one log entry holding several commands, each already
// encoded by Encode. The state machine applies them in order, exactly as if
// each were its own entry, and answers with one Result per command; packing
// concurrent writes this way lets Raft store, send and acknowledge them once.
// It panics if encoded is empty or longer than MaxGroup.
func EncodeGroup(encoded [][]byte) []byte {
	if len(encoded) == 0 || len(encoded) > MaxGroup {
		panic(fmt.Sprintf("command: group of %d commands", len(encoded)))
	}
	size := 1 + binary.MaxVarintLen64
	for _, e := range encoded {
		size += binary.MaxVarintLen64 + len(e)
	}
	b := make([]byte, 0, size+checksumSize)
	b = append(b, groupV2)
	b = binary.AppendUvarint(b, uint64(len(encoded)))
	for _, e := range encoded {
		b = binary.AppendUvarint(b, uint64(len(e)))
		b = append(b, e...)
	}
	return appendChecksum(b)
}

// IsGroup reports whether entry was written by EncodeGroup.
func IsGroup(entry []byte) bool {
	return len(entry) > 0 && (entry[0] == groupV1 || entry[0] == groupV2)
}

// DecodeEntry parses a log entry written by Encode or EncodeGroup and
// returns its commands in order. An error wrapping ErrUnsupported is for an
// intact entry this version cannot apply; any other error means the bytes
// are damaged (ErrChecksum) or were never a valid entry.
func DecodeEntry(data []byte) ([]*Command, error) {
	if !IsGroup(data) {
		c, err := Decode(data)
		if err != nil {
			return nil, err
		}
		return []*Command{c}, nil
	}
	if data[0] == groupV2 {
		var err error
		if data, err = verify(data); err != nil {
			return nil, err
		}
	}
	d := decoder{b: data[1:]}
	n := d.count(2)
	if d.err == nil && (n == 0 || n > MaxGroup) {
		d.fail(fmt.Sprintf("group of %d commands", n))
	}
	var cmds []*Command
	if d.err == nil {
		cmds = make([]*Command, n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		e := d.bytes()
		if d.err != nil {
			break
		}
		if IsGroup(e) {
			return nil, fmt.Errorf("%w: group command %d is a group", ErrCorrupt, i)
		}
		c, err := Decode(e)
		if err != nil {
			return nil, fmt.Errorf("group command %d: %w", i, err)
		}
		cmds[i] = c
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return cmds, nil
}

// EncodeResult returns the bytes of r, for sending a result between nodes.
func EncodeResult(r *Result) []byte {
	b := make([]byte, 0, 64)
	b = append(b, resultV1)
	b = binary.AppendUvarint(b, uint64(len(r.Statements)))
	for _, s := range r.Statements {
		b = binary.AppendUvarint(b, uint64(len(s.Columns)))
		for _, c := range s.Columns {
			b = appendString(b, c.Name)
			b = appendString(b, c.DeclType)
		}
		b = binary.AppendUvarint(b, uint64(len(s.Rows)))
		for _, row := range s.Rows {
			b = binary.AppendUvarint(b, uint64(len(row)))
			for _, v := range row {
				b = appendValue(b, v, false)
			}
		}
		b = binary.AppendVarint(b, s.RowsAffected)
		b = binary.AppendVarint(b, s.LastInsertID)
		if s.Err == nil {
			b = append(b, 0)
		} else {
			b = append(b, 1)
			b = binary.AppendVarint(b, int64(s.Err.Code))
			b = appendString(b, s.Err.Message)
		}
	}
	return b
}

// DecodeResult parses bytes written by EncodeResult.
func DecodeResult(data []byte) (*Result, error) {
	d := decoder{b: data}
	v := d.byte()
	if d.err == nil && v != resultV1 {
		return nil, fmt.Errorf("%w: unknown result format version %d", ErrCorrupt, v)
	}
	r := &Result{}
	n := d.count(4)
	if n > 0 {
		r.Statements = make([]StatementResult, n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		s := &r.Statements[i]
		nc := d.count(2)
		if nc > 0 {
			s.Columns = make([]Column, nc)
		}
		for j := 0; j < nc && d.err == nil; j++ {
			s.Columns[j] = Column{Name: d.string(), DeclType: d.string()}
		}
		nr := d.count(1)
		if nr > 0 {
			s.Rows = make([][]Value, nr)
		}
		for j := 0; j < nr && d.err == nil; j++ {
			nv := d.count(1)
			row := make([]Value, nv)
			for k := 0; k < nv && d.err == nil; k++ {
				row[k] = d.value(false)
			}
			s.Rows[j] = row
		}
		s.RowsAffected = d.varint()
		s.LastInsertID = d.varint()
		switch d.byte() {
		case 0:
		case 1:
			code := d.varint()
			s.Err = &Error{Code: int(code), Message: d.string()}
		default:
			d.fail("bad error flag")
		}
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return r, nil
}

func valueSize(v Value) int {
	return 12 + len(v.Name) + len(v.Text) + len(v.Blob)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendValue(b []byte, v Value, named bool) []byte {
	t := byte(v.Type)
	if named && v.Name != "" {
		t |= nameFlag
	}
	b = append(b, t)
	if t&nameFlag != 0 {
		b = appendString(b, v.Name)
	}
	switch v.Type {
	case TypeInteger:
		b = binary.AppendVarint(b, v.Int)
	case TypeFloat:
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.Float))
	case TypeText:
		b = appendString(b, v.Text)
	case TypeBlob:
		b = binary.AppendUvarint(b, uint64(len(v.Blob)))
		b = append(b, v.Blob...)
	}
	return b
}

// decoder reads from b, remembering the first error so that callers can
// check once at the end; after an error every read returns a zero value.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, msg)
	}
	d.b = nil
}

func (d *decoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail(fmt.Sprintf("%d trailing bytes", len(d.b)))
	}
	return d.err
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("truncated")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uint64() uint64 {
	if len(d.b) < 8 {
		d.fail("truncated")
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads an element count and checks it against the bytes left, given
// that each element takes at least minSize bytes, so a corrupt count cannot
// make the decoder allocate more than the input could describe.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.b)/minSize) {
		d.fail("count exceeds input")
		return 0
	}
	return int(n)
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("length exceeds input")
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string { return string(d.bytes()) }

func (d *decoder) value(named bool) Value {
	t := d.byte()
	var v Value
	if t&nameFlag != 0 {
		if !named {
			d.fail("named result value")
			return v
		}
		v.Name = d.string()
		if d.err == nil && v.Name == "" {
			d.fail("empty parameter name")
		}
		t &^= nameFlag
	}
	v.Type = ValueType(t)
	switch v.Type {
	case TypeNull:
	case TypeInteger:
		v.Int = d.varint()
	case TypeFloat:
		v.Float = math.Float64frombits(d.uint64())
	case TypeText:
		v.Text = d.string()
	case TypeBlob:
		v.Blob = append([]byte{}, d.bytes()...)
	default:
		d.fail(fmt.Sprintf("unknown value type %d", t))
	}
	return v
}
