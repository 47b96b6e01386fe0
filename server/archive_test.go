package server_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
	"github.com/raftsql/raftsql/snapshot/archive"
)

// archivedCluster starts 3 nodes sharing one archive directory, with
// snapshots often enough that the archive takes several bases. Its tests
// compare the states the archive rebuilds with the writes acknowledged,
// which every write must be: the leases are those a starved test process
// keeps (steady), or on a loaded machine the leader steps down in the
// middle of the workload and a write's outcome is unknown (40003).
func archivedCluster(t *testing.T, dir string) *servertest.Cluster {
	return servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		steady(cfg)
		cfg.ArchiveDir = dir
		cfg.ArchiveRetain = 0
		cfg.SnapshotThreshold = 40
		cfg.SnapshotInterval = time.Second
		cfg.TrailingLogs = 20
	}})
}

// waitArchiving waits until the leader archives: the archive begins at
// the base it takes then, and holds nothing before.
func waitArchiving(t *testing.T, c *servertest.Cluster) {
	t.Helper()
	servertest.Eventually(t, 30*time.Second, "the leader to archive", func() error {
		if st := c.Node(c.Leader()).ArchiveStatus(); !st.Active || st.BaseIndex == 0 {
			return fmt.Errorf("archive status %+v", st)
		}
		return nil
	})
}

// waitBase waits until node i, the leader, has archived a base of index
// (or a later one).
func waitBase(t *testing.T, c *servertest.Cluster, i int, index uint64) {
	t.Helper()
	servertest.Eventually(t, 30*time.Second, fmt.Sprintf("a base of the snapshot of index %d", index), func() error {
		if st := c.Node(i).ArchiveStatus(); st.BaseIndex < index {
			return fmt.Errorf("node %d (leader: %v) archive status %+v", i, c.Node(i).IsLeader(), st)
		}
		return nil
	})
}

// ackedWrite is one acknowledged insert and the index it committed at.
type ackedWrite struct {
	id    int
	index uint64
}

// insert writes row id and returns the index the node says it committed at
// (raftsql.write_index, the read-your-writes token).
func insert(t *testing.T, conn *pgx.Conn, id int) ackedWrite {
	t.Helper()
	w, err := tryInsert(conn, id)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// tryInsert is insert for a writer goroutine, which must not end the test
// itself: it returns the failure.
func tryInsert(conn *pgx.Conn, id int) (ackedWrite, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, "INSERT INTO t (id, v) VALUES ($1, $2)", id, fmt.Sprintf("row %d", id)); err != nil {
		return ackedWrite{}, fmt.Errorf("insert %d: %w", id, err)
	}
	s := conn.PgConn().ParameterStatus("raftsql.write_index")
	idx, err := strconv.ParseUint(s, 10, 64)
	if err != nil || idx == 0 {
		return ackedWrite{}, fmt.Errorf("write_index after insert %d: %q %v", id, s, err)
	}
	return ackedWrite{id, idx}, nil
}

// snapshotNow takes a snapshot on node i. A node refuses one for a moment
// while a copy of its database file is being read (a base the archive
// takes, an automatic snapshot being persisted): it is asked again until
// it takes one.
func snapshotNow(t *testing.T, c *servertest.Cluster, i int) server.SnapshotInfo {
	t.Helper()
	var snap server.SnapshotInfo
	servertest.Eventually(t, 30*time.Second, fmt.Sprintf("a snapshot of node %d", i), func() error {
		var err error
		snap, err = c.Node(i).Snapshot()
		return err
	})
	return snap
}

// waitArchived waits until the archive holds index.
func waitArchived(t *testing.T, dir string, index uint64) {
	t.Helper()
	servertest.Eventually(t, 60*time.Second, fmt.Sprintf("the archive to reach index %d", index), func() error {
		cat, err := archive.Load(context.Background(), &archive.DirStore{Dir: dir})
		if err != nil {
			return err
		}
		if got := cat.LastIndex(); got < index {
			return fmt.Errorf("archived through %d", got)
		}
		return nil
	})
}

func rebuild(t *testing.T, dir string, target server.ArchiveTarget) (string, server.RebuildInfo) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "rebuilt.db")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	info, err := server.RebuildFromArchive(ctx, dir, target, out, nil)
	if err != nil {
		t.Fatalf("rebuild to %+v: %v", target, err)
	}
	sqlite3Check(t, out)
	return out, info
}

// idsIn lists the ids of table t in a SQLite file.
func idsIn(t *testing.T, path string) []int {
	t.Helper()
	out, err := exec.Command("sqlite3", path, "SELECT id FROM t ORDER BY id").CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %s: %v %s", path, err, out)
	}
	var ids []int
	for _, f := range strings.Fields(string(out)) {
		id, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("sqlite3 output %q", out)
		}
		ids = append(ids, id)
	}
	return ids
}

// ackedUpTo lists the ids of the writes acknowledged at or before index.
func ackedUpTo(writes []ackedWrite, index uint64) []int {
	var ids []int
	for _, w := range writes {
		if w.index <= index {
			ids = append(ids, w.id)
		}
	}
	sort.Ints(ids)
	return ids
}

func sameIDs(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A point-in-time rebuild to an index in the middle of a workload holds
// exactly the rows acknowledged up to that index, at every index tried,
// from concurrent writers packed into group entries and across the bases
// the archive takes at each snapshot; the rebuilt file installs into the
// cluster through the ordinary restore, after which the archive records
// the restore as a gap and goes on.
func TestArchivePointInTimeIndex(t *testing.T) {
	dir := t.TempDir()
	c := archivedCluster(t, dir)
	waitArchiving(t, c)
	leader := c.Leader()
	mustExec(t, connect(t, c, leader), "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")

	var mu sync.Mutex
	var writes []ackedWrite
	for phase := 0; phase < 2; phase++ {
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for w := range errs {
			conn := connect(t, c, (leader+w)%c.Size()) // followers forward
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 25; i++ {
					aw, err := tryInsert(conn, phase*100+w*1000+i)
					if err != nil {
						errs[w] = err
						return
					}
					mu.Lock()
					writes = append(writes, aw)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		// A write that failed may still have been applied (an unknown
		// outcome): the rows acknowledged would not say what each state
		// holds.
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("writers of phase %d: %v", phase, err)
		}
		// A snapshot between the phases: the archive takes a base of it.
		snap := snapshotNow(t, c, leader)
		waitBase(t, c, leader, snap.Index)
	}
	var last uint64
	for _, w := range writes {
		last = max(last, w.index)
	}
	waitArchived(t, dir, last)
	cat, err := archive.Load(context.Background(), &archive.DirStore{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Bases) < 3 || len(cat.Gaps) != 0 {
		t.Fatalf("archive of %d bases and gaps %+v; want a base at start and one per snapshot, and no gap", len(cat.Bases), cat.Gaps)
	}

	sort.Slice(writes, func(i, j int) bool { return writes[i].index < writes[j].index })
	for _, k := range []int{0, 17, len(writes) / 2, len(writes) - 5, len(writes) - 1} {
		target := writes[k].index
		out, info := rebuild(t, dir, server.ArchiveTarget{Index: target})
		if info.Index != target {
			t.Fatalf("rebuild to %d reached %d", target, info.Index)
		}
		if got, want := idsIn(t, out), ackedUpTo(writes, target); !sameIDs(got, want) {
			t.Fatalf("rebuild to index %d (base %d, %d entries): %d rows %v, want the %d acknowledged %v", target, info.BaseIndex, info.Entries, len(got), got, len(want), want)
		}
	}

	// Install the middle state into the cluster with the ordinary restore.
	mid := writes[len(writes)/2].index
	out, _ := rebuild(t, dir, server.ArchiveTarget{Index: mid})
	ri, err := restoreFile(t, c.Node(c.Leader()), out)
	if err != nil {
		t.Fatalf("restore of the rebuilt file: %v", err)
	}
	conn := connect(t, c, c.Leader())
	if n := count(t, conn, "SELECT count(*) FROM t"); n != int64(len(ackedUpTo(writes, mid))) {
		t.Fatalf("after the restore the cluster has %d rows, want %d", n, len(ackedUpTo(writes, mid)))
	}
	after := insert(t, conn, 99999)
	waitArchived(t, dir, after.index)
	// The gap object follows the base that ends it.
	servertest.Eventually(t, 30*time.Second, "the archive to record the restore's gap", func() error {
		var err error
		if cat, err = archive.Load(context.Background(), &archive.DirStore{Dir: dir}); err != nil {
			return err
		}
		if len(cat.Gaps) == 0 {
			return errors.New("no gap yet")
		}
		return nil
	})
	if len(cat.Gaps) != 1 || cat.Gaps[0].From > ri.Index || cat.Gaps[0].Base < ri.Index {
		t.Fatalf("after a restore at index %d the archive's gaps are %+v, want one ending at a base at or after it", ri.Index, cat.Gaps)
	}
	out, _ = rebuild(t, dir, server.ArchiveTarget{Index: after.index})
	if got, want := idsIn(t, out), append(ackedUpTo(writes, mid), 99999); !sameIDs(got, want) {
		t.Fatalf("rebuild after the restore: %v, want %v", got, want)
	}
	// The states inside the gap, if any, are refused, with the reason.
	if g := cat.Gaps[0]; g.Base > g.From {
		if _, err := server.RebuildFromArchive(context.Background(), dir, server.ArchiveTarget{Index: cat.Gaps[0].From}, filepath.Join(t.TempDir(), "x.db"), nil); !errors.Is(err, archive.ErrOutOfRange) || !strings.Contains(err.Error(), "gap") {
			t.Fatalf("rebuild inside the gap: %v", err)
		}
	}
}

// A rebuild to a time holds exactly the rows written before it; targets
// outside the archive are refused with a message that says what it holds;
// a corrupt segment fails the rebuild with an error that names it.
func TestArchivePointInTimeTimeAndErrors(t *testing.T) {
	dir := t.TempDir()
	c := archivedCluster(t, dir)
	waitArchiving(t, c)
	conn := connect(t, c, c.Leader())
	mustExec(t, conn, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
	var writes []ackedWrite
	for i := 0; i < 30; i++ {
		writes = append(writes, insert(t, conn, i))
	}
	// Every entry so far was stamped by the leader (this process's clock)
	// before this moment, every later one after it.
	cut := time.Now()
	for !time.Now().After(cut) {
	}
	for i := 30; i < 60; i++ {
		writes = append(writes, insert(t, conn, i))
	}
	waitArchived(t, dir, writes[len(writes)-1].index)
	out, info := rebuild(t, dir, server.ArchiveTarget{Time: cut})
	if got, want := idsIn(t, out), ackedUpTo(writes, writes[29].index); !sameIDs(got, want) {
		t.Fatalf("rebuild to %s reached index %d: rows %v, want %v", cut, info.Index, got, want)
	}
	if info.Index < writes[29].index || info.Index >= writes[30].index || info.Time.After(cut) {
		t.Fatalf("rebuild to %s reached index %d at %s; the last write before it is at %d", cut, info.Index, info.Time, writes[29].index)
	}

	ctx := context.Background()
	x := filepath.Join(t.TempDir(), "x.db")
	for _, target := range []server.ArchiveTarget{{Index: writes[len(writes)-1].index + 1000}, {Time: time.Unix(1, 0)}, {Time: time.Now().Add(time.Hour)}} {
		_, err := server.RebuildFromArchive(ctx, dir, target, x, nil)
		if !errors.Is(err, archive.ErrOutOfRange) {
			t.Fatalf("rebuild to %+v: %v, want ErrOutOfRange", target, err)
		}
		t.Logf("refused: %v", err)
	}
	if _, err := os.Stat(x); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused rebuild left %s: %v", x, err)
	}

	// Damage the segment holding a write after the newest base before it,
	// so that a rebuild to that write must read the segment.
	cat, err := archive.Load(ctx, &archive.DirStore{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var seg string
	var target uint64
	for _, w := range writes[30:] {
		p, err := cat.PlanIndex(w.index)
		if err != nil {
			t.Fatal(err)
		}
		if p.Base.Index < w.index && len(p.Segments) > 0 {
			seg, target = p.Segments[len(p.Segments)-1].Name, w.index
			break
		}
	}
	if seg == "" {
		t.Fatalf("no write after a base in %+v", cat)
	}
	path := filepath.Join(dir, filepath.FromSlash(seg))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-20] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = server.RebuildFromArchive(ctx, dir, server.ArchiveTarget{Index: target}, x, nil)
	if !errors.Is(err, archive.ErrCorrupt) || !strings.Contains(err.Error(), seg) {
		t.Fatalf("rebuild over a corrupt segment: %v, want ErrCorrupt naming %s", err, seg)
	}
	t.Logf("refused: %v", err)
}

// When the leader stops in the middle of a workload, the new leader
// continues the archive from the last index stored, reading its own log: no
// gap, and every acknowledged write is where it belongs.
func TestArchiveContinuesAcrossLeaderChange(t *testing.T) {
	dir := t.TempDir()
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		cfg.ArchiveDir = dir
	}})
	waitArchiving(t, c)
	old := c.Leader()
	conn := connect(t, c, old)
	mustExec(t, conn, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
	var writes []ackedWrite
	for i := 0; i < 40; i++ {
		writes = append(writes, insert(t, conn, i))
	}
	c.Crash(old)
	leader := c.WaitLeader()
	conn = connect(t, c, leader)
	for i := 40; i < 80; i++ {
		writes = append(writes, insert(t, conn, i))
	}
	waitArchived(t, dir, writes[len(writes)-1].index)
	cat, err := archive.Load(context.Background(), &archive.DirStore{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Gaps) != 0 {
		t.Fatalf("gaps after a leader change: %+v", cat.Gaps)
	}
	for _, b := range cat.Bases {
		t.Logf("base %d", b.Index)
	}
	for _, s := range cat.Segments {
		t.Logf("segment %s", s.Name)
	}
	for _, k := range []int{20, 39, 40, 41, 79} {
		out, _ := rebuild(t, dir, server.ArchiveTarget{Index: writes[k].index})
		if got, want := idsIn(t, out), ackedUpTo(writes, writes[k].index); !sameIDs(got, want) {
			t.Fatalf("rebuild to index %d (write %d): %v, want %v", writes[k].index, k, got, want)
		}
	}
}

// With --archive-retain 1 the archive keeps only the newest base and the
// entries after it: a rebuild from before it is refused, one after it
// holds the acknowledged rows.
func TestArchiveRetention(t *testing.T) {
	dir := t.TempDir()
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		steady(cfg)
		cfg.ArchiveDir = dir
		cfg.ArchiveRetain = 1
	}})
	waitArchiving(t, c)
	leader := c.Leader()
	conn := connect(t, c, leader)
	mustExec(t, conn, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
	var writes []ackedWrite
	for round := 0; round < 2; round++ {
		for i := 0; i < 10; i++ {
			writes = append(writes, insert(t, conn, round*10+i))
		}
		snap := snapshotNow(t, c, leader)
		waitBase(t, c, leader, snap.Index)
	}
	last := insert(t, conn, 100)
	writes = append(writes, last)
	waitArchived(t, dir, last.index)
	cat, err := archive.Load(context.Background(), &archive.DirStore{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Bases) != 1 {
		t.Fatalf("%d bases kept, want 1", len(cat.Bases))
	}
	for _, s := range cat.Segments {
		if s.Last <= cat.Bases[0].Index {
			t.Fatalf("segment %s kept before the base of index %d", s.Name, cat.Bases[0].Index)
		}
	}
	if _, err := server.RebuildFromArchive(context.Background(), dir, server.ArchiveTarget{Index: writes[0].index}, filepath.Join(t.TempDir(), "x.db"), nil); !errors.Is(err, archive.ErrOutOfRange) {
		t.Fatalf("rebuild from before the kept base: %v", err)
	}
	out, _ := rebuild(t, dir, server.ArchiveTarget{Index: last.index})
	if got, want := idsIn(t, out), ackedUpTo(writes, last.index); !sameIDs(got, want) {
		t.Fatalf("rebuild to the last write: %v, want %v", got, want)
	}
}

// transferTo makes node to the leader.
func transferTo(t *testing.T, c *servertest.Cluster, to int) {
	t.Helper()
	servertest.Eventually(t, 60*time.Second, fmt.Sprintf("node %d to lead", to), func() error {
		l := c.Leader()
		if l == to {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := c.Node(l).TransferLeadership(ctx, servertest.NodeID(to), "test")
		return fmt.Errorf("leader %d: %v", l, err)
	})
}

// A leader whose log no longer holds the entries after the archive's last
// index (they were written while a node without the archive led, and a
// snapshot compacted them) records the gap, with the reason, and goes on
// from a new base: the states before and after the gap rebuild exactly,
// those inside it are refused.
func TestArchiveRecordsGapAfterCompaction(t *testing.T) {
	dir := t.TempDir()
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		if i == 0 {
			cfg.ArchiveDir = dir
		}
		cfg.TrailingLogs = 2
		cfg.SnapshotThreshold = 1 << 20 // snapshots only on demand
	}})
	transferTo(t, c, 0)
	waitArchiving(t, c)
	conn := connect(t, c, 0)
	mustExec(t, conn, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
	var writes []ackedWrite
	for i := 0; i < 10; i++ {
		writes = append(writes, insert(t, conn, i))
	}
	before := writes[len(writes)-1]
	waitArchived(t, dir, before.index)

	transferTo(t, c, 1)
	conn = connect(t, c, 1)
	for i := 10; i < 40; i++ {
		writes = append(writes, insert(t, conn, i))
	}
	for i := 0; i < c.Size(); i++ {
		if err := c.Node(i).WaitApplied(context.Background(), writes[len(writes)-1].index); err != nil {
			t.Fatal(err)
		}
		snapshotNow(t, c, i)
	}
	transferTo(t, c, 0)
	conn = connect(t, c, 0)
	for i := 40; i < 45; i++ {
		writes = append(writes, insert(t, conn, i))
	}
	last := writes[len(writes)-1]
	waitArchived(t, dir, last.index)
	var cat *archive.Catalog
	servertest.Eventually(t, 30*time.Second, "the archive to record a gap", func() error {
		var err error
		if cat, err = archive.Load(context.Background(), &archive.DirStore{Dir: dir}); err != nil {
			return err
		}
		if len(cat.Gaps) == 0 {
			return errors.New("no gap yet")
		}
		return nil
	})
	if len(cat.Gaps) != 1 || cat.Gaps[0].From > before.index+2 || cat.Gaps[0].Base < writes[39].index || !strings.Contains(cat.Gaps[0].Reason, "no longer held") {
		t.Fatalf("gaps %+v; want one from after index %d to a base at or after %d, saying why", cat.Gaps, before.index, writes[39].index)
	}
	t.Logf("gap: %+v", cat.Gaps[0])
	for _, w := range []ackedWrite{before, writes[39], last} {
		target := max(w.index, cat.Gaps[0].Base)
		if w == before {
			target = w.index
		}
		out, _ := rebuild(t, dir, server.ArchiveTarget{Index: target})
		if got, want := idsIn(t, out), ackedUpTo(writes, target); !sameIDs(got, want) {
			t.Fatalf("rebuild to index %d: %v, want %v", target, got, want)
		}
	}
	if g := cat.Gaps[0]; g.Base > g.From {
		_, err := server.RebuildFromArchive(context.Background(), dir, server.ArchiveTarget{Index: g.Base - 1}, filepath.Join(t.TempDir(), "x.db"), nil)
		if !errors.Is(err, archive.ErrOutOfRange) || !strings.Contains(err.Error(), "gap") {
			t.Fatalf("rebuild inside the gap: %v", err)
		}
		t.Logf("refused: %v", err)
	}
}
