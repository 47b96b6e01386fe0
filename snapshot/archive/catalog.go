package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Object names.
const (
	ManifestName = "manifest.json"
	basePrefix   = "base/"
	segPrefix    = "seg/"
	gapPrefix    = "gap/"
)

// maxMetaObject bounds the JSON objects a reader accepts (manifest, base
// metadata, gaps).
const maxMetaObject = 1 << 20

// Manifest describes an archive: its format version, and a summary that
// the writer updates after each segment (advisory: Load reads the objects).
type Manifest struct {
	Format  int       `json:"format"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// LastIndex and LastTimeUnixNano are those of the newest archived
	// entry when the manifest was written.
	LastIndex        uint64 `json:"last_index"`
	LastTimeUnixNano int64  `json:"last_time_unix_nano"`
	// SegmentBytes is the bound the writer keeps segments under.
	SegmentBytes int64 `json:"segment_bytes"`
}

// ParseManifest decodes and checks a manifest.
func ParseManifest(r io.Reader) (Manifest, error) {
	var m Manifest
	if err := decodeJSON(r, &m, "manifest"); err != nil {
		return Manifest{}, err
	}
	if m.Format != Version {
		return Manifest{}, fmt.Errorf("%w: manifest of format %d, this version reads %d", ErrCorrupt, m.Format, Version)
	}
	if m.SegmentBytes < 0 {
		return Manifest{}, fmt.Errorf("%w: manifest segment size %d", ErrCorrupt, m.SegmentBytes)
	}
	return m, nil
}

// Base is the metadata of a base snapshot: the database file as of Index.
type Base struct {
	Format int    `json:"format"`
	Index  uint64 `json:"index"`
	Term   uint64 `json:"term"`
	// TimeUnixNano is at least the time of every entry the base holds.
	TimeUnixNano int64 `json:"time_unix_nano"`
	Size         int64 `json:"size"`
	// CRC32C is the checksum of the database file (Castagnoli).
	CRC32C uint32 `json:"crc32c"`
	// Meta is the state machine's own state beside the file, opaque here.
	Meta []byte `json:"meta,omitempty"`
	// File names the database file's object; empty means BaseName(Index).
	// Each writer stores its own file, so that two writers taking a base
	// at the same index (an old leader that has not yet stepped down) do
	// not mix one's file with the other's checksum.
	File    string    `json:"file,omitempty"`
	Created time.Time `json:"created"`
}

// Gap records indexes that cannot be rebuilt: From up to Base-1, after
// which the base at index Base resumes the archive.
type Gap struct {
	From     uint64    `json:"from"`
	Base     uint64    `json:"base"`
	Reason   string    `json:"reason"`
	Recorded time.Time `json:"recorded"`
}

// SegmentRef names a segment and the range of indexes it covers.
type SegmentRef struct {
	Name        string
	First, Last uint64
}

// Catalog is what an archive holds, built from the store's listing.
type Catalog struct {
	Manifest Manifest
	Bases    []Base       // complete bases, by index
	Segments []SegmentRef // by first index, then last
	Gaps     []Gap        // by From
}

// LastIndex is the newest index the archive reaches.
func (c *Catalog) LastIndex() uint64 {
	var last uint64
	for _, b := range c.Bases {
		last = max(last, b.Index)
	}
	for _, s := range c.Segments {
		last = max(last, s.Last)
	}
	return last
}

// ResumeIndex is the index a writer continues after: the end of the
// segments, or the newest base that starts the archive or ends a gap. A base
// taken beside the segments, ahead of them, does not move it, so that the
// segments stay contiguous.
func (c *Catalog) ResumeIndex() uint64 {
	var last uint64
	if len(c.Bases) > 0 {
		last = c.Bases[0].Index
	}
	for _, s := range c.Segments {
		last = max(last, s.Last)
	}
	for _, g := range c.Gaps {
		last = max(last, g.Base)
	}
	return last
}

// Empty reports whether the archive holds no base yet.
func (c *Catalog) Empty() bool { return len(c.Bases) == 0 }

func indexName(i uint64) string { return fmt.Sprintf("%020d", i) }

// FileName is the name of the object holding the base's database file.
func (b Base) FileName() string {
	if b.File != "" {
		return b.File
	}
	return BaseName(b.Index)
}

// BaseName, BaseMetaName, SegmentName and GapName are the names of the
// objects of a base, a segment and a gap.
func BaseName(index uint64) string     { return basePrefix + indexName(index) + ".db" }
func BaseMetaName(index uint64) string { return basePrefix + indexName(index) + ".json" }
func SegmentName(first, last uint64) string {
	return segPrefix + indexName(first) + "-" + indexName(last) + ".seg"
}
func GapName(from, base uint64) string {
	return gapPrefix + indexName(from) + "-" + indexName(base) + ".json"
}

// parseRange reads "<first>-<last>" + suffix.
func parseRange(s, suffix string) (uint64, uint64, bool) {
	s, ok := strings.CutSuffix(s, suffix)
	if !ok {
		return 0, 0, false
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok || len(a) != 20 || len(b) != 20 {
		return 0, 0, false
	}
	first, err1 := strconv.ParseUint(a, 10, 64)
	last, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil || first == 0 || last < first {
		return 0, 0, false
	}
	return first, last, true
}

// ErrNoArchive is wrapped by Load when the store holds no manifest.
var ErrNoArchive = errors.New("archive: no archive here (no manifest.json)")

// Load reads the catalog of the archive in s.
func Load(ctx context.Context, s Store) (*Catalog, error) {
	c := &Catalog{}
	rc, err := s.Get(ctx, ManifestName)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNoArchive
	}
	if err != nil {
		return nil, err
	}
	c.Manifest, err = ParseManifest(rc)
	rc.Close()
	if err != nil {
		return nil, err
	}
	names, err := s.List(ctx, basePrefix)
	if err != nil {
		return nil, err
	}
	dbs := map[string]bool{}
	for _, n := range names {
		if strings.HasSuffix(n, ".db") {
			dbs[n] = true
		}
	}
	for _, n := range names {
		if !strings.HasSuffix(n, ".json") {
			continue
		}
		b, err := readBase(ctx, s, n)
		if err != nil {
			return nil, err
		}
		if BaseMetaName(b.Index) != n {
			return nil, fmt.Errorf("%w: %s describes the base of index %d", ErrCorrupt, n, b.Index)
		}
		if !dbs[b.FileName()] {
			return nil, fmt.Errorf("%w: %s has no database file %s", ErrCorrupt, n, b.FileName())
		}
		c.Bases = append(c.Bases, b)
	}
	sort.Slice(c.Bases, func(i, j int) bool { return c.Bases[i].Index < c.Bases[j].Index })

	if names, err = s.List(ctx, segPrefix); err != nil {
		return nil, err
	}
	for _, n := range names {
		first, last, ok := parseRange(strings.TrimPrefix(n, segPrefix), ".seg")
		if !ok {
			continue // not an object of this format
		}
		c.Segments = append(c.Segments, SegmentRef{Name: n, First: first, Last: last})
	}
	sort.Slice(c.Segments, func(i, j int) bool {
		a, b := c.Segments[i], c.Segments[j]
		return a.First < b.First || a.First == b.First && a.Last < b.Last
	})

	if names, err = s.List(ctx, gapPrefix); err != nil {
		return nil, err
	}
	for _, n := range names {
		rc, err := s.Get(ctx, n)
		if err != nil {
			return nil, err
		}
		var g Gap
		err = decodeJSON(rc, &g, n)
		rc.Close()
		if err != nil {
			return nil, err
		}
		c.Gaps = append(c.Gaps, g)
	}
	sort.Slice(c.Gaps, func(i, j int) bool { return c.Gaps[i].From < c.Gaps[j].From })
	return c, nil
}

func readBase(ctx context.Context, s Store, name string) (Base, error) {
	rc, err := s.Get(ctx, name)
	if err != nil {
		return Base{}, err
	}
	defer rc.Close()
	return ParseBase(rc)
}

// ParseBase decodes and checks a base's metadata.
func ParseBase(r io.Reader) (Base, error) {
	var b Base
	if err := decodeJSON(r, &b, "base metadata"); err != nil {
		return Base{}, err
	}
	if b.Format != Version {
		return Base{}, fmt.Errorf("%w: base of format %d, this version reads %d", ErrCorrupt, b.Format, Version)
	}
	if b.Index == 0 || b.Size < 0 {
		return Base{}, fmt.Errorf("%w: base of index %d, size %d", ErrCorrupt, b.Index, b.Size)
	}
	if b.File != "" && (!strings.HasPrefix(b.File, basePrefix+indexName(b.Index)) || !strings.HasSuffix(b.File, ".db") || checkName(b.File) != nil) {
		return Base{}, fmt.Errorf("%w: base of index %d names the file %q", ErrCorrupt, b.Index, b.File)
	}
	return b, nil
}

func decodeJSON(r io.Reader, v any, what string) error {
	b, err := io.ReadAll(io.LimitReader(r, maxMetaObject+1))
	if err != nil {
		return fmt.Errorf("archive: reading %s: %w", what, err)
	}
	if len(b) > maxMetaObject {
		return fmt.Errorf("%w: %s larger than %d bytes", ErrCorrupt, what, maxMetaObject)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, what, err)
	}
	return nil
}

// ---- Planning a rebuild ------------------------------------------------------

// ErrOutOfRange is wrapped when a target is outside what the archive can
// rebuild.
var ErrOutOfRange = errors.New("archive: target outside the archive")

// Plan is how to rebuild a state: the base to start from and the segments
// to read after it, in order (each covering the index after the previous).
type Plan struct {
	Base     Base
	Segments []SegmentRef
}

// PlanIndex plans the rebuild of the state as of index target.
func (c *Catalog) PlanIndex(target uint64) (Plan, error) {
	if len(c.Bases) == 0 {
		return Plan{}, fmt.Errorf("%w: it holds no base snapshot yet", ErrOutOfRange)
	}
	last := c.LastIndex()
	if target < c.Bases[0].Index || target > last {
		return Plan{}, fmt.Errorf("%w: index %d is outside the archive, which reaches indexes %d to %d", ErrOutOfRange, target, c.Bases[0].Index, last)
	}
	for _, g := range c.Gaps {
		if target >= g.From && target < g.Base {
			return Plan{}, fmt.Errorf("%w: index %d is in a gap of the archive, %d to %d (%s); the nearest states are %d and %d",
				ErrOutOfRange, target, g.From, g.Base-1, g.Reason, g.From-1, g.Base)
		}
	}
	var base Base
	for _, b := range c.Bases {
		if b.Index <= target {
			base = b
		}
	}
	segs, reached := c.cover(base.Index, target)
	if reached < target {
		return Plan{}, fmt.Errorf("%w: index %d: the archive holds no entries from index %d on after the base of index %d", ErrOutOfRange, target, reached+1, base.Index)
	}
	return Plan{Base: base, Segments: segs}, nil
}

// PlanTime plans the rebuild of the state as of time t: from the newest
// base not newer than t, through every segment that follows it without a
// hole. The caller replays records until the first one newer than t.
func (c *Catalog) PlanTime(t int64) (Plan, error) {
	if len(c.Bases) == 0 {
		return Plan{}, fmt.Errorf("%w: it holds no base snapshot yet", ErrOutOfRange)
	}
	var base *Base
	for i := range c.Bases {
		if c.Bases[i].TimeUnixNano <= t {
			base = &c.Bases[i]
		}
	}
	if base == nil {
		return Plan{}, fmt.Errorf("%w: %s is before the oldest base snapshot (index %d, %s)", ErrOutOfRange,
			formatTime(t), c.Bases[0].Index, formatTime(c.Bases[0].TimeUnixNano))
	}
	segs, _ := c.cover(base.Index, c.LastIndex())
	return Plan{Base: *base, Segments: segs}, nil
}

// cover returns the segments that cover from..to after from, in order, and
// the last index they reach without a hole.
func (c *Catalog) cover(from, to uint64) ([]SegmentRef, uint64) {
	var out []SegmentRef
	cursor := from
	for _, s := range c.Segments {
		if cursor >= to {
			break
		}
		if s.Last <= cursor {
			continue
		}
		if s.First > cursor+1 {
			break
		}
		out = append(out, s)
		cursor = s.Last
	}
	return out, min(cursor, max(to, from))
}

func formatTime(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }
