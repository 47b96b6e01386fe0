package raft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's file layout, as far as checkBoltFile reads it (go.etcd.io/bbolt,
// internal/common: page.go and meta.go). The file starts with two meta
// pages, page 0 at offset 0 and page 1 at offset pageSize; each is a 16-byte
// page header followed by the meta:
//
//	magic u32 | version u32 | pageSize u32 | flags u32 | root bucket (pgid u64, sequence u64) |
//	freelist pgid u64 | pgid u64 (high-water mark: pages in use) | txid u64 | checksum u64
//
// in the machine's byte order (little endian on every platform bbolt builds
// for here), the checksum being FNV-1a 64 of the 56 bytes before it. The
// meta with the higher txid among the valid ones is the current one.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	boltPageHeader   = 16
	boltMetaSize     = 64
	boltMetaSumBytes = 56
	boltMinPageSize  = 1024
	boltMaxPageSize  = 1 << 24
)

// boltMeta is what checkBoltFile needs of a meta page.
type boltMeta struct {
	pageSize uint32
	pgid     uint64
	txid     uint64
}

// parseBoltMeta decodes the meta in page (which starts with the page
// header), or reports why it is not a valid one.
func parseBoltMeta(page []byte) (boltMeta, error) {
	if len(page) < boltPageHeader+boltMetaSize {
		return boltMeta{}, errors.New("short page")
	}
	m := page[boltPageHeader : boltPageHeader+boltMetaSize]
	le := binary.LittleEndian
	if le.Uint32(m[0:]) != boltMagic {
		return boltMeta{}, errors.New("no bolt magic")
	}
	if v := le.Uint32(m[4:]); v != boltVersion {
		return boltMeta{}, fmt.Errorf("bolt format version %d", v)
	}
	h := fnv.New64a()
	h.Write(m[:boltMetaSumBytes])
	if h.Sum64() != le.Uint64(m[boltMetaSumBytes:]) {
		return boltMeta{}, errors.New("checksum mismatch")
	}
	meta := boltMeta{pageSize: le.Uint32(m[8:]), pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}
	if meta.pageSize < boltMinPageSize || meta.pageSize > boltMaxPageSize || meta.pageSize&(meta.pageSize-1) != 0 {
		return boltMeta{}, fmt.Errorf("page size %d", meta.pageSize)
	}
	if meta.pgid < 2 {
		return boltMeta{}, fmt.Errorf("high-water page id %d", meta.pgid)
	}
	return meta, nil
}

// checkBoltFile refuses a raft.db that bbolt would crash on. bbolt maps the
// file into memory and trusts its meta page: when the file is shorter than
// the pages the meta says are in use (a copy cut short, a full disk, a
// filesystem that lost the tail), the first read past the end kills the
// process with SIGBUS instead of returning an error. A missing or empty
// file is fine: bbolt creates it.
func checkBoltFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("raft: log store %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("raft: log store %s: %w", path, err)
	}
	size := st.Size()
	if size == 0 {
		return nil
	}
	meta, err := readBoltMeta(f, size)
	if err != nil {
		return fmt.Errorf("raft: log store %s (%d bytes) is damaged: %w; restore the directory from a backup, or delete it and let the node rejoin and catch up from the others", path, size, err)
	}
	need := meta.pgid * uint64(meta.pageSize)
	if uint64(size) < need {
		return fmt.Errorf("raft: log store %s is truncated: it is %d bytes, but its meta page (txid %d) says %d pages of %d bytes are in use (%d bytes); "+
			"restore the directory from a backup, or delete it and let the node rejoin and catch up from the others",
			path, size, meta.txid, meta.pgid, meta.pageSize, need)
	}
	return nil
}

// readBoltMeta returns the current meta page of a bolt file of size bytes.
func readBoltMeta(r io.ReaderAt, size int64) (boltMeta, error) {
	page := make([]byte, boltPageHeader+boltMetaSize)
	readPage := func(off int64) (boltMeta, error) {
		if off+int64(len(page)) > size {
			return boltMeta{}, fmt.Errorf("file ends before the meta page at offset %d", off)
		}
		if _, err := r.ReadAt(page, off); err != nil {
			return boltMeta{}, err
		}
		return parseBoltMeta(page)
	}
	m0, err0 := readPage(0)
	// Page 1 lies one page size in: take it from page 0 when that is valid,
	// else try every size bbolt may have used.
	var m1 boltMeta
	err1 := errors.New("not found")
	if err0 == nil {
		m1, err1 = readPage(int64(m0.pageSize))
	} else {
		for ps := int64(boltMinPageSize); ps <= boltMaxPageSize && ps < size; ps *= 2 {
			if m, err := readPage(ps); err == nil && int64(m.pageSize) == ps {
				m1, err1 = m, nil
				break
			}
		}
	}
	switch {
	case err0 == nil && err1 == nil:
		if m1.txid > m0.txid && m1.pageSize == m0.pageSize {
			return m1, nil
		}
		return m0, nil
	case err0 == nil:
		return m0, nil
	case err1 == nil:
		return m1, nil
	}
	return boltMeta{}, fmt.Errorf("neither meta page is valid (page 0: %v; page 1: %v)", err0, err1)
}
