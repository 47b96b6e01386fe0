package server_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/raftsql/raftsql/server"
	"github.com/raftsql/raftsql/server/servertest"
)

// restoreRetrying restores path through node n of c, again when an
// election on a loaded machine cut it short (it then changed nothing, or,
// with its outcome unknown, may have).
func restoreRetrying(t *testing.T, c *servertest.Cluster, path string) server.RestoreInfo {
	t.Helper()
	for attempt := 1; ; attempt++ {
		ri, err := restoreFile(t, c.Node(c.Leader()), path)
		if err == nil {
			return ri
		}
		if attempt == 5 || !(errors.Is(err, server.ErrNeedsLeader) || errors.Is(err, server.ErrOutcomeUnknown)) {
			t.Fatalf("Restore (attempt %d): %v", attempt, err)
		}
		t.Logf("Restore (attempt %d): %v; again", attempt, err)
	}
}

// restoreFixture makes a cluster's data, backs it up, and writes a row the
// restore must remove.
func restoreFixture(t *testing.T, c *servertest.Cluster) string {
	t.Helper()
	return restoreFixtureSized(t, c, 2000000)
}

// restoreFixtureSized is restoreFixture with a restored row of pad bytes.
func restoreFixtureSized(t *testing.T, c *servertest.Cluster, pad int) string {
	t.Helper()
	conn := connect(t, c, c.Leader())
	mustExec(t, conn, "CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT, pad BLOB)")
	mustExec(t, conn, "INSERT INTO t (who, pad) VALUES ('restored', randomblob($1))", pad)
	c.EnsureSame()
	path, _ := backupToFile(t, c.Node(c.Leader()), server.BackupOptions{})
	mustExec(t, conn, "INSERT INTO t (who) VALUES ('lost')")
	return path
}

// checkRestored checks node i's data after the restore and a row written
// after it.
func checkRestored(t *testing.T, c *servertest.Cluster, i int, ri server.RestoreInfo) {
	t.Helper()
	if a := c.Node(i).AppliedIndex(); a < ri.Index {
		t.Fatalf("node %d applied %d, below the restore's %d", i, a, ri.Index)
	}
	conn := connect(t, c, i)
	if n := count(t, conn, "SELECT count(*) FROM t WHERE who = 'lost'"); n != 0 {
		t.Fatalf("node %d: a row written after the backup survived its restore", i)
	}
	if n := count(t, conn, "SELECT count(*) FROM t WHERE who = 'restored' AND length(pad) = 2000000"); n != 1 {
		t.Fatalf("node %d: %d restored rows, want 1", i, n)
	}
	if n := count(t, conn, "SELECT count(*) FROM t WHERE who = 'after'"); n != 1 {
		t.Fatalf("node %d: %d rows written after the restore, want 1", i, n)
	}
}

// noStagingFiles waits until no node keeps a staging file.
func noStagingFiles(t *testing.T, c *servertest.Cluster) {
	t.Helper()
	servertest.Eventually(t, 30*time.Second, "no staging file left", func() error {
		if m := stagingFiles(t, c); len(m) > 0 {
			return fmt.Errorf("staging files: %v", m)
		}
		return nil
	})
}

// A follower that was down while the restore was copied and committed
// gets it when it comes back: it applies the install entry only once it
// has fetched what the entry needs from the others.
func TestRestoreReachesAFollowerThatWasDown(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	path := restoreFixture(t, c)
	down := c.Follower()
	c.Stop(down)
	ri := restoreRetrying(t, c, path)
	mustExec(t, connect(t, c, c.Leader()), "INSERT INTO t (who) VALUES ('after')")
	c.Restart(down)
	c.EnsureSame()
	files, states := server.FetchedRestores(c.Node(down))
	if files+states != 1 {
		t.Fatalf("the node that was down fetched %d files and %d states, want one of them", files, states)
	}
	for i := range c.Size() {
		checkRestored(t, c, i, ri)
		if i != down {
			if files, states := server.FetchedRestores(c.Node(i)); files+states != 0 {
				t.Errorf("node %d, up during the restore, fetched %d files and %d states", i, files, states)
			}
		}
	}
	noStagingFiles(t, c)
}

// A leader killed once the install entry is committed: the follower that
// copied the file installs it, and the follower that was down comes back,
// gets the restore from it (the old leader is still gone) and with it
// elects a leader; the old leader comes back with the same data.
func TestRestoreSurvivesItsLeaderKilledAfterTheCommit(t *testing.T) {
	c := servertest.NewCluster(t, 3, servertest.Options{})
	path := restoreFixture(t, c)
	down := c.Follower()
	c.Stop(down)
	ri := restoreRetrying(t, c, path)
	old := c.Leader()
	c.Crash(old)
	c.Restart(down)
	c.WaitLeader()
	mustExec(t, connect(t, c, c.Leader()), "INSERT INTO t (who) VALUES ('after')")
	c.EnsureSame()
	if files, states := server.FetchedRestores(c.Node(down)); files+states != 1 {
		t.Fatalf("the node that was down fetched %d files and %d states, want one of them", files, states)
	}
	c.Restart(old)
	c.EnsureSame()
	for i := range c.Size() {
		checkRestored(t, c, i, ri)
	}
	noStagingFiles(t, c)
}

// In a cluster one of whose members runs the release before restores out
// of band (entry version 4, side-channel version 3), a restore goes through
// the log as chunk entries, and reaches every node.
func TestRestoreInMixedClusterGoesThroughTheLog(t *testing.T) {
	// A node of an older release cannot join a cluster of this one: the
	// cluster starts as the older release, and all but one are upgraded.
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) {
		cfg.TestEntryVersion, cfg.TestPeerVersion = 4, 3
	}})
	waitClusterVersions(t, c, 4, 3)
	for i := range 2 {
		upgradeNode(c, i)
	}
	waitClusterVersions(t, c, 4, 3)
	path := restoreFixture(t, c)
	from := c.Node(c.Leader()).LastIndex() + 1
	ri := restoreRetrying(t, c, path)
	mustExec(t, connect(t, c, c.Leader()), "INSERT INTO t (who) VALUES ('after')")
	c.EnsureSame()
	if v := logVersionsAtMost(t, c, from, 4); v != 4 {
		t.Errorf("the restore's entries are of version %d, want 4 (chunks)", v)
	}
	for i := range c.Size() {
		checkRestored(t, c, i, ri)
	}
	noStagingFiles(t, c)
}

// A leader that hands its leadership over while the members copy its
// restore answers that the restore was not applied (definite: nothing
// changed on any node), every node keeps the old data, and the same file
// sent again to the new leader is installed everywhere.
func TestRestoreNotAppliedWhenLeadershipMovesMidCopy(t *testing.T) {
	// Slow copies, so that leadership moves while they run.
	c := servertest.NewCluster(t, 3, servertest.Options{Configure: func(i int, cfg *server.Config) { cfg.RestoreCopyRate = 4 }})
	conn := connect(t, c, c.Leader())
	mustExec(t, conn, "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
	for range 24 {
		mustExec(t, conn, "INSERT INTO t (v) VALUES (randomblob(1000000))")
	}
	c.EnsureSame()
	path, _ := backupToFile(t, c.Node(c.Leader()), server.BackupOptions{})
	mustExec(t, conn, "CREATE TABLE later (x)")
	mustExec(t, conn, "INSERT INTO later VALUES (1)")
	c.EnsureSame()
	before := dumpOf(t, c, c.Leader())

	l := c.Leader()
	done := make(chan error, 1)
	go func() {
		_, err := restoreFile(t, c.Node(l), path)
		done <- err
	}()
	servertest.Eventually(t, 60*time.Second, "a follower copying the restore", func() error {
		for i := range c.Size() {
			if i != l && len(stagingFilesOf(c, i)) > 0 {
				return nil
			}
		}
		select {
		case err := <-done:
			t.Fatalf("the restore ended (%v) before a follower was seen copying it; make the file larger", err)
		default:
		}
		return errors.New("no staging file yet")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Node(l).TransferLeadership(ctx, "", "test"); err != nil {
		t.Fatalf("TransferLeadership: %v", err)
	}
	err := <-done
	if !errors.Is(err, server.ErrRestoreNotApplied) {
		t.Fatalf("restore with leadership moved mid-copy: %v, want ErrRestoreNotApplied", err)
	}
	t.Logf("restore: %v", err)
	c.EnsureSame()
	for i := range c.Size() {
		if got := dumpOf(t, c, i); got != before {
			t.Fatalf("node %d changed although the restore was not applied", i)
		}
	}

	// Sent again, to the new leader, it is installed everywhere.
	ri := restoreRetrying(t, c, path)
	c.EnsureSame()
	for i := range c.Size() {
		if c.Node(i).AppliedIndex() < ri.Index {
			t.Fatalf("node %d below the restore's index %d", i, ri.Index)
		}
		if n := count(t, connect(t, c, i), "SELECT count(*) FROM sqlite_master WHERE name = 'later'"); n != 0 {
			t.Fatalf("node %d still holds a table the restore removes", i)
		}
		if n := count(t, connect(t, c, i), "SELECT count(*) FROM t"); n != 24 {
			t.Fatalf("node %d holds %d rows of t, want 24", i, n)
		}
	}
	noStagingFiles(t, c)
}
