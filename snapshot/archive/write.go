package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
	"time"
)

// Init writes a manifest if the store holds none, and returns the archive's.
func Init(ctx context.Context, s Store, segmentBytes int64) (Manifest, error) {
	rc, err := s.Get(ctx, ManifestName)
	if err == nil {
		defer rc.Close()
		return ParseManifest(rc)
	}
	if !errors.Is(err, ErrNotFound) {
		return Manifest{}, err
	}
	now := time.Now().UTC()
	m := Manifest{Format: Version, Created: now, Updated: now, SegmentBytes: segmentBytes}
	return m, WriteManifest(ctx, s, m)
}

// WriteManifest replaces the manifest.
func WriteManifest(ctx context.Context, s Store, m Manifest) error {
	m.Format = Version
	return putJSON(ctx, s, ManifestName, m)
}

func putJSON(ctx context.Context, s Store, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return s.Put(ctx, name, bytes.NewReader(append(b, '\n')))
}

// WriteSegment stores the segment b has built.
func WriteSegment(ctx context.Context, s Store, b *SegmentBuilder) (SegmentRef, error) {
	if b.Last() < b.First() {
		return SegmentRef{}, errors.New("archive: empty segment")
	}
	ref := SegmentRef{Name: SegmentName(b.First(), b.Last()), First: b.First(), Last: b.Last()}
	return ref, s.Put(ctx, ref.Name, bytes.NewReader(b.Bytes()))
}

// WriteGap records a gap.
func WriteGap(ctx context.Context, s Store, g Gap) error {
	if g.From == 0 || g.Base < g.From {
		return fmt.Errorf("archive: gap %d..%d", g.From, g.Base)
	}
	return putJSON(ctx, s, GapName(g.From, g.Base), g)
}

// WriteBase stores a base: the database file read from body, exactly
// b.Size bytes, then its metadata (b with its checksum), which makes it
// count. writer, when not empty, names the writer (letters, digits, '-'
// and '_' are kept of it) and makes the file's name its own. It returns
// the metadata written.
func WriteBase(ctx context.Context, s Store, b Base, body io.Reader, writer string) (Base, error) {
	b.Format = Version
	b.File = ""
	if w := safeName(writer); w != "" {
		b.File = basePrefix + indexName(b.Index) + "." + w + ".db"
	}
	crc := crc32.New(castagnoli)
	lr := &io.LimitedReader{R: io.TeeReader(body, crc), N: b.Size}
	cr := &countReader{r: lr}
	if err := s.Put(ctx, b.FileName(), cr); err != nil {
		return Base{}, err
	}
	if cr.n != b.Size {
		s.Delete(ctx, b.FileName())
		return Base{}, fmt.Errorf("archive: base %d: file ended after %d of %d bytes", b.Index, cr.n, b.Size)
	}
	b.CRC32C = crc.Sum32()
	if b.Created.IsZero() {
		b.Created = time.Now().UTC()
	}
	return b, putJSON(ctx, s, BaseMetaName(b.Index), b)
}

func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// OpenBase opens the database file of b. Its reader fails with an error
// wrapping ErrCorrupt, instead of io.EOF, when the file is not the one the
// metadata describes.
func OpenBase(ctx context.Context, s Store, b Base) (io.ReadCloser, error) {
	rc, err := s.Get(ctx, b.FileName())
	if err != nil {
		return nil, err
	}
	return &checkedReader{rc: rc, crc: crc32.New(castagnoli), want: b}, nil
}

type checkedReader struct {
	rc   io.ReadCloser
	crc  hash.Hash32
	n    int64
	want Base
}

func (c *checkedReader) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	c.crc.Write(p[:n])
	c.n += int64(n)
	if c.n > c.want.Size {
		return n, fmt.Errorf("%w: base %d is longer than its %d bytes", ErrCorrupt, c.want.Index, c.want.Size)
	}
	if err == io.EOF {
		if c.n != c.want.Size {
			return n, fmt.Errorf("%w: base %d has %d of its %d bytes", ErrCorrupt, c.want.Index, c.n, c.want.Size)
		}
		if c.crc.Sum32() != c.want.CRC32C {
			return n, fmt.Errorf("%w: base %d: checksum of the database file", ErrCorrupt, c.want.Index)
		}
	}
	return n, err
}

func (c *checkedReader) Close() error { return c.rc.Close() }

// Retain deletes what the newest keep bases do not need: older bases, the
// segments and gaps entirely before the oldest kept base. keep < 1 keeps
// everything.
func Retain(ctx context.Context, s Store, c *Catalog, keep int) (deleted int, err error) {
	if keep < 1 || len(c.Bases) <= keep {
		return 0, nil
	}
	oldest := c.Bases[len(c.Bases)-keep].Index
	del := func(name string) {
		if e := s.Delete(ctx, name); e != nil && !errors.Is(e, ErrNotFound) && err == nil {
			err = e
		} else if e == nil {
			deleted++
		}
	}
	for _, b := range c.Bases[:len(c.Bases)-keep] {
		// The metadata first: without it the file is not a base.
		del(BaseMetaName(b.Index))
		del(b.FileName())
	}
	// Files of bases whose metadata another writer replaced.
	if names, lerr := s.List(ctx, basePrefix); lerr == nil {
		for _, n := range names {
			rest := strings.TrimPrefix(n, basePrefix)
			if len(rest) > 20 && strings.HasSuffix(n, ".db") {
				if i, perr := strconv.ParseUint(rest[:20], 10, 64); perr == nil && i < oldest {
					del(n)
				}
			}
		}
	}
	for _, seg := range c.Segments {
		if seg.Last <= oldest {
			del(seg.Name)
		}
	}
	for _, g := range c.Gaps {
		if g.Base <= oldest {
			del(GapName(g.From, g.Base))
		}
	}
	return deleted, err
}

// Replay reads the records of plan after its base, in index order, each
// once, and calls fn for each; fn returns false to stop. It returns the
// last index the segments it read cover (or the base's), so a caller that
// replays to the end knows the index whose state it holds. A segment that
// does not read (corrupt, missing) fails with an error naming it.
func Replay(ctx context.Context, s Store, plan Plan, fn func(Record) (bool, error)) (uint64, error) {
	cursor := plan.Base.Index
	for _, ref := range plan.Segments {
		if ref.Last <= cursor {
			continue
		}
		more, err := replaySegment(ctx, s, ref, &cursor, fn)
		if err != nil || !more {
			return cursor, err
		}
	}
	return cursor, nil
}

func replaySegment(ctx context.Context, s Store, ref SegmentRef, cursor *uint64, fn func(Record) (bool, error)) (bool, error) {
	rc, err := s.Get(ctx, ref.Name)
	if err != nil {
		return false, fmt.Errorf("archive: segment %s: %w", ref.Name, err)
	}
	defer rc.Close()
	sr, err := NewSegmentReader(ctxReader{ctx, rc})
	if err != nil {
		return false, fmt.Errorf("segment %s: %w", ref.Name, err)
	}
	if sr.First != ref.First || sr.Last != ref.Last {
		return false, fmt.Errorf("%w: segment %s holds indexes %d..%d", ErrCorrupt, ref.Name, sr.First, sr.Last)
	}
	// Records are only handed out once the whole segment checked out:
	// a damaged segment must fail before any of it is applied, so that
	// the caller never stops at a state the archive does not vouch for.
	var recs []Record
	for {
		r, err := sr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return false, fmt.Errorf("segment %s: %w", ref.Name, err)
		}
		if r.Index > *cursor {
			recs = append(recs, r)
		}
	}
	for _, r := range recs {
		more, err := fn(r)
		if err != nil || !more {
			return false, err
		}
		*cursor = r.Index
	}
	*cursor = ref.Last
	return true, nil
}
