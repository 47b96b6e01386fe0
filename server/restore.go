package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"time"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/raft"
)

// A restore is copied to the members out of band and committed by one
// install entry (restorecopy.go, and "# Restores" in fsm/doc.go), once every
// member can; until then (a rolling upgrade) it goes through the Raft log:
// a begin entry, the file in chunks, a commit entry (fsm/restore.go applies
// them). Either way every node installs the file at the commit's index,
// or, when the commit never comes, none does.
//
// Through the log memory stays bounded: the file is read from disk one
// chunk at a time, at most restoreWindow chunks are proposed and not yet
// applied, and the log cache in front of the log store holds at most its
// 1024 most recent entries, restoreChunk bytes each. Chunks are small for
// that cache, and for the AppendEntries batches of up to 512 entries that a
// follower decodes and stores at once: with 64 KiB chunks a node's peak RSS
// rose by about 200 MiB during a restore, with 16 KiB by about 75 MiB.

const (
	// restoreChunk is the file's bytes in one chunk entry.
	restoreChunk = 16 << 10
	// restoreWindow is how many chunks are proposed before the first of
	// them must be applied (2 MiB).
	restoreWindow = 128
	// abandonedRestoreCheck is how often a leader looks for a restore
	// staged by a leader that is gone, to abort it.
	abandonedRestoreCheck = 2 * time.Second
	// restoreAbortTimeout bounds the proposal of an abort.
	restoreAbortTimeout = 10 * time.Second
)

// ErrRestoreNotApplied is wrapped by the error of a restore that this node
// abandoned before its install (or commit) entry could commit, for its
// leadership was lost: nothing changed on any node, and the same file may
// be sent again, to the new leader. The admin endpoint answers it with
// the header HeaderRestoreOutcome set to "not-applied".
var ErrRestoreNotApplied = errors.New("the restore was not applied and changed nothing")

// ErrRestoreBusy is wrapped when a restore is asked while another runs.
var ErrRestoreBusy = errors.New("another restore is in progress; try again once it is done")

// restoreFile makes the SQLite database file at path, which
// fsm.CheckRestore has accepted, the state of the whole cluster, out of
// band or through the log, and returns the index it became. It runs on the leader; the caller
// holds n.restoreMu. It is the one way a file becomes the cluster's state:
// an upload (Restore) and a restore from an archive both end here.
//
// Writes go on while the chunks go up (they apply to the state the restore
// replaces); transactions in progress are waited for, and writes held,
// only while the commit entry is proposed and applied. A restore that fails
// before its commit is aborted (by this node if it still leads, else by the
// next leader) and leaves nothing behind.
func (n *Node) restoreFile(ctx context.Context, path string, id uint64) (RestoreInfo, error) {
	file, err := os.Open(path)
	if err != nil {
		return RestoreInfo{}, err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return RestoreInfo{}, err
	}
	size := st.Size()
	if n.outOfBand() {
		file.Close()
		crc, err := fileCRC(path)
		if err != nil {
			return RestoreInfo{}, fmt.Errorf("reading the restore: %w", err)
		}
		return n.restoreOutOfBand(ctx, path, size, crc, id)
	}
	proposeOne := func(ctx context.Context, r *command.Restore) (uint64, error) {
		p, err := n.raft.Propose(ctx, command.EncodeRestore(r))
		if err != nil {
			return 0, err
		}
		resp, index, err := p.Wait(ctx)
		if err != nil {
			return 0, err
		}
		return index, restoreResponse(resp)
	}
	if _, err := proposeOne(ctx, &command.Restore{Op: command.RestoreBegin, ID: id, Size: size}); err != nil {
		if errors.Is(err, raft.ErrOutcomeUnknown) {
			n.abortRestore(id)
		}
		return RestoreInfo{}, n.restoreError(err)
	}
	committed := false
	defer func() {
		if !committed {
			n.abortRestore(id)
		}
	}()

	start := time.Now()
	var inflight []*raft.Proposal
	wait := func(p *raft.Proposal) error {
		resp, _, err := p.Wait(ctx)
		if err == nil {
			err = restoreResponse(resp)
		}
		return err
	}
	buf := make([]byte, restoreChunk)
	crc := uint32(0)
	for off := int64(0); off < size; {
		m, err := io.ReadFull(file, buf[:min(int64(len(buf)), size-off)])
		if err != nil {
			return RestoreInfo{}, fmt.Errorf("reading the restore: %w", err)
		}
		data := buf[:m]
		crc = crc32.Update(crc, castagnoli, data)
		p, err := n.raft.Propose(ctx, command.EncodeRestore(&command.Restore{Op: command.RestoreChunk, ID: id, Offset: off, Data: data}))
		if err != nil {
			return RestoreInfo{}, n.restoreError(err)
		}
		off += int64(m)
		inflight = append(inflight, p)
		if len(inflight) >= restoreWindow {
			if err := wait(inflight[0]); err != nil {
				return RestoreInfo{}, n.restoreError(err)
			}
			inflight = inflight[1:]
		}
	}
	for _, p := range inflight {
		if err := wait(p); err != nil {
			return RestoreInfo{}, n.restoreError(err)
		}
	}
	sent := time.Since(start)

	// Nothing may use the write connection while the state is replaced.
	if err := n.writes.acquireExclusive(ctx); err != nil {
		return RestoreInfo{}, err
	}
	defer n.writes.releaseExclusive()
	// The file is up: the commit is waited for even if the client goes.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.cfg.ApplyTimeout+time.Duration(size>>20)*time.Millisecond)
	defer cancel()
	index, err := proposeOne(cctx, &command.Restore{Op: command.RestoreCommit, ID: id, Size: size, Checksum: crc})
	if err != nil {
		return RestoreInfo{}, n.restoreError(err)
	}
	committed = true
	n.log.Info("restored the cluster's data from a file", "index", index, "size", size, "sent", sent, "took", time.Since(start))
	return RestoreInfo{Index: index, DBSize: size}, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func newRestoreID() uint64 {
	var b [8]byte
	for {
		rand.Read(b[:])
		if id := binary.LittleEndian.Uint64(b[:]); id != 0 {
			return id
		}
	}
}

// restoreResponse is the error the state machine answered a restore entry
// with, if any.
func restoreResponse(resp any) error {
	switch r := resp.(type) {
	case error:
		return r
	case *command.Result:
		if e := r.Err(); e != nil {
			return fmt.Errorf("restore: %s", e.Message)
		}
	}
	return nil
}

// restoreError is what a client is told of a restore that failed.
func (n *Node) restoreError(err error) error {
	var nl *raft.NotLeaderError
	switch {
	case errors.As(err, &nl), errors.Is(err, errRestoreLeaderLost):
		return fmt.Errorf("%w: %w; %w", ErrRestoreNotApplied, err, n.notLeaderForAdmin("a restore"))
	case errors.Is(err, raft.ErrOutcomeUnknown):
		return fmt.Errorf("%w: %v", ErrOutcomeUnknown, err)
	}
	return err
}

// abortRestore proposes the abort of restore id, if this node leads; an
// abort that does not reach the log is made by the next check of
// abortAbandonedRestores, here or on the next leader.
func (n *Node) abortRestore(id uint64) {
	if !n.raft.IsLeader() {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, restoreAbortTimeout)
	defer cancel()
	p, err := n.raft.Propose(ctx, command.EncodeRestore(&command.Restore{Op: command.RestoreAbort, ID: id}))
	if err == nil {
		_, _, err = p.Wait(ctx)
	}
	if err != nil {
		n.log.Warn("aborting an unfinished restore", "id", fmt.Sprintf("%x", id), "err", err)
		return
	}
	n.log.Info("aborted an unfinished restore", "id", fmt.Sprintf("%x", id))
}

// abortAbandonedRestores makes the leader abort a restore that is staged
// but that no upload of its own is sending (its leader was lost in the
// middle), so that its staging file goes from every node.
func (n *Node) abortAbandonedRestores() {
	tick := time.NewTicker(abandonedRestoreCheck)
	defer tick.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-tick.C:
		}
		if (n.fsm.StagedRestore() == 0 && n.fsm.StagedOutOfBand() == 0) || !n.raft.IsLeader() || !n.restoreMu.TryLock() {
			continue
		}
		id := n.fsm.StagedRestore()
		if id == 0 {
			// One copied out of band, whose leader was lost before it
			// committed it (an install committed since is applied first).
			id = n.fsm.StagedOutOfBand()
		}
		if id != 0 {
			n.abortRestore(id)
		}
		n.restoreMu.Unlock()
	}
}
