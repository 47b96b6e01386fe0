package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
	"time"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/raft"
)

// A restore out of band (fsm/doc.go, "# Restores"): the leader stages the
// uploaded file under a new restore id, asks every other member to copy it
// into its own staging file (reqStage: the member pulls it from the leader
// with reqFile, range by range, checks its CRC-32C and fsyncs it), and
// proposes one install entry once a quorum of voters, itself counted, holds
// a verified copy. A member that applies the install entry without the
// file fetches it through restoreSource: from a member that holds it
// staged, else the state of one that installed it (a snapshot at or past
// the entry's index, also read with reqFile).
//
// This needs entry version 5 (command.RestoreInstall) and side-channel
// version 4 of every member; in a cluster not yet upgraded the restore goes
// through the log as chunk entries (restore.go), as before.

const (
	// copyVersion is the side-channel version of reqStage and reqFile,
	// and installVersion the entry version of an install entry.
	copyVersion    = 4
	installVersion = 5

	// copyChunk is the most reqFile answers at once.
	copyChunk = 4 << 20

	// fileRestore and fileSnapshot are what a reqFile reads.
	fileRestore  byte = 1
	fileSnapshot byte = 2
)

// outOfBand reports whether every member can take a restore out of band.
func (n *Node) outOfBand() bool {
	st := n.versions.state.Load()
	return st.entry >= installVersion && st.peer >= copyVersion
}

// restoreOutOfBand is restoreFile (which see) when every member can take
// the file out of band. The file at path, size bytes of CRC-32C crc,
// synced and checked, is moved into the staging file.
//
// Its outcome is definite: it returns the index the file became, or an
// error that wraps ErrRestoreNotApplied (nothing changed, and the same
// file may be sent again), or one that wraps ErrOutcomeUnknown only when
// this node lost its leadership after proposing the install entry and did
// not learn within restoreSettle whether the entry committed. A restore
// is watched for leadership lost while the members copy it, and is
// installed only in the term it started in: an abort of it proposed by
// another leader (abortAbandonedRestores) is then never followed by its
// install.
func (n *Node) restoreOutOfBand(ctx context.Context, path string, size int64, crc uint32, id uint64) (RestoreInfo, error) {
	start := time.Now()
	term := n.raft.Term()
	if !n.raft.IsLeader() {
		return RestoreInfo{}, n.restoreError(errRestoreLeaderLost)
	}
	if err := n.fsm.AdoptRestore(ctx, id, path); err != nil {
		return RestoreInfo{}, err
	}
	stopCopies, err := n.stageEverywhere(ctx, id, size, crc, term)
	// settled is set once the restore is committed, or when its install
	// entry may be: its staging file is then kept, a source for the
	// members without it.
	settled := false
	defer func() {
		if !settled {
			if stopCopies != nil {
				stopCopies()
			}
			n.abortRestore(id)
			n.fsm.DropRestore(id)
		}
	}()
	if err != nil {
		return RestoreInfo{}, n.restoreError(err)
	}
	staged := time.Since(start)
	n.restoreHook(RestoreHookStaged, id)

	// Nothing may use the write connection while the state is replaced.
	if err := n.writes.acquireExclusive(ctx); err != nil {
		return RestoreInfo{}, err
	}
	exclusive := true
	defer func() {
		if exclusive {
			n.writes.releaseExclusive()
		}
	}()
	if err := n.stillLeading(term); err != nil {
		return RestoreInfo{}, n.restoreError(err)
	}
	if index, installed, _ := n.fsm.RestoreOutcome(id); installed {
		// Installed meanwhile by this id: never twice.
		return RestoreInfo{Index: index, DBSize: size, AlreadyInstalled: true}, nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.cfg.ApplyTimeout+time.Duration(size>>20)*time.Millisecond)
	defer cancel()
	p, err := n.raft.Propose(cctx, command.EncodeRestore(&command.Restore{Op: command.RestoreInstall, ID: id, Size: size, Checksum: crc}))
	if err != nil {
		return RestoreInfo{}, n.restoreError(err)
	}
	n.restoreHook(RestoreHookProposed, id)
	resp, index, err := p.Wait(cctx)
	if errors.Is(err, raft.ErrOutcomeUnknown) {
		// The install entry may commit under the next leader: learn
		// whether it did from what this node applies.
		settled = true
		exclusive = false
		n.writes.releaseExclusive()
		index, err = n.settleRestore(id, term)
		if errors.Is(err, ErrRestoreNotApplied) {
			n.fsm.DropRestore(id)
		}
		if err != nil {
			return RestoreInfo{}, err
		}
		n.log.Info("restored the cluster's data from a file; the install entry committed after this node's leadership", "index", index, "size", size, "took", time.Since(start))
		return RestoreInfo{Index: index, DBSize: size}, nil
	}
	if err == nil {
		err = restoreResponse(resp)
	}
	if err != nil {
		return RestoreInfo{}, n.restoreError(err)
	}
	settled = true
	n.log.Info("restored the cluster's data from a file", "index", index, "size", size, "staged", staged, "took", time.Since(start))
	return RestoreInfo{Index: index, DBSize: size}, nil
}

// restoreHook calls Config.TestRestoreHook, if set.
func (n *Node) restoreHook(point string, id uint64) {
	if h := n.cfg.TestRestoreHook; h != nil {
		h(point, RestoreID(id))
	}
}

// restoreSettle bounds how long a leader that lost its leadership after
// proposing an install entry waits to learn whether the entry committed.
const restoreSettle = time.Minute

// errRestoreLeaderLost is why a restore stops when its leader is no longer
// the leader of the term it started in.
var errRestoreLeaderLost = errors.New("this node lost its leadership while the restore was copied")

// stillLeading returns nil if this node leads, in term.
func (n *Node) stillLeading(term uint64) error {
	if !n.raft.IsLeader() || n.raft.Term() != term {
		return errRestoreLeaderLost
	}
	return nil
}

// settleRestore waits until this node has applied the install entry of
// restore id (its index is returned), or learned that it never will: it
// applied the restore's abort, or an entry of a term after term, the one
// the install entry was proposed in (a later leader holds every committed
// entry of earlier terms before its own, so an install applied at all is
// applied before that entry).
func (n *Node) settleRestore(id, term uint64) (uint64, error) {
	deadline := time.Now().Add(restoreSettle)
	for {
		if index, installed, decided := n.fsm.RestoreOutcome(id); installed {
			return index, nil
		} else if decided {
			return 0, fmt.Errorf("%w: leadership was lost before the install entry committed, and the restore was aborted", ErrRestoreNotApplied)
		}
		if _, t := n.fsm.AppliedIndex(); t > term {
			return 0, fmt.Errorf("%w: leadership was lost before the install entry committed", ErrRestoreNotApplied)
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%w: leadership was lost after the install entry was proposed, and in %s no entry of a later leader was applied here; see the cluster's status (index and data) before sending it again", ErrOutcomeUnknown, restoreSettle)
		}
		select {
		case <-n.ctx.Done():
			return 0, fmt.Errorf("%w: the node stopped before it learned whether the restore committed", ErrOutcomeUnknown)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stageEverywhere asks every other member to stage restore id from this
// node and returns once a quorum of voters holds it (this node counts) and
// the others have answered or had as long again; a member still copying
// then goes on, and one that fails fetches the file when it applies the
// install entry.
//
// The copies outlive ctx (the client's), so that a member still copying
// when the restore is committed goes on; stop ends them, for a restore
// that is not committed.
//
// It fails as soon as this node stops leading in term.
func (n *Node) stageEverywhere(ctx context.Context, id uint64, size int64, crc uint32, term uint64) (stop func(), err error) {
	members, err := n.raft.Members()
	if err != nil {
		return nil, err
	}
	stageCtx, stop := context.WithCancel(n.ctx)
	var copies sync.WaitGroup
	defer func() {
		go func() {
			copies.Wait()
			stop()
		}()
	}()
	voters, have := 0, 0
	type answer struct {
		m   raft.Member
		err error
	}
	answers := make(chan answer, len(members))
	asked := 0
	payload := binary.BigEndian.AppendUint64(nil, id)
	payload = binary.BigEndian.AppendUint64(payload, uint64(size))
	payload = binary.BigEndian.AppendUint32(payload, crc)
	payload = appendString(payload, n.RaftAddr())
	for _, m := range members {
		if m.Voter {
			voters++
		}
		if m.ID == n.cfg.ID {
			if m.Voter {
				have++
			}
			continue
		}
		asked++
		copies.Add(1)
		go func() {
			defer copies.Done()
			_, err := n.fwd.call(stageCtx, m.Addr, reqStage, n.self(), payload)
			answers <- answer{m: m, err: err}
		}()
	}
	quorum := voters/2 + 1
	var errs []error
	var grace <-chan time.Time
	start := time.Now()
	watch := time.NewTicker(50 * time.Millisecond)
	defer watch.Stop()
	for asked > 0 {
		if have >= quorum && grace == nil {
			grace = time.After(max(5*time.Second, time.Since(start)))
		}
		select {
		case a := <-answers:
			asked--
			if a.err != nil {
				n.log.Warn("a member did not stage the restore; it fetches it when it applies the restore", "id", fmt.Sprintf("%x", id), "member", a.m.ID, "err", a.err)
				errs = append(errs, fmt.Errorf("%s: %w", a.m.ID, a.err))
				continue
			}
			if a.m.Voter {
				have++
			}
		case <-grace:
			n.log.Info("committing the restore while members still copy it", "id", fmt.Sprintf("%x", id), "copying", asked)
			return stop, nil
		case <-watch.C:
			if err := n.stillLeading(term); err != nil {
				return stop, err
			}
		case <-ctx.Done():
			return stop, ctx.Err()
		}
	}
	if have < quorum {
		return stop, fmt.Errorf("restore: only %d of %d voters hold a copy of the file, %d needed: %w", have, voters, quorum, errors.Join(errs...))
	}
	return stop, nil
}

// fileCRC is the CRC-32C of the file at path.
func fileCRC(path string) (uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	if _, err := io.CopyBuffer(h, f, make([]byte, 1<<20)); err != nil {
		return 0, err
	}
	return h.Sum32(), nil
}

// handleRestoreCopy answers reqStage and reqFile.
func (n *Node) handleRestoreCopy(ctx context.Context, env envelope) ([]byte, error) {
	p := env.payload
	switch env.typ {
	case reqStage:
		if len(p) < 20 {
			return nil, errors.New("malformed stage request")
		}
		id, size, crc := binary.BigEndian.Uint64(p), int64(binary.BigEndian.Uint64(p[8:])), binary.BigEndian.Uint32(p[16:])
		src, rest, ok := readString(p[20:])
		if !ok || len(rest) > 0 || size < 0 {
			return nil, errors.New("malformed stage request")
		}
		if limit := n.cfg.MaxRestoreSize; limit > 0 && size > limit {
			return nil, fmt.Errorf("%w (%d bytes, --max-restore-size)", ErrRestoreTooLarge, limit)
		}
		start := time.Now()
		r := &peerFile{n: n, ctx: ctx, addr: src, kind: fileRestore, key: id, size: size}
		defer r.Close()
		if err := n.fsm.StageRestore(ctx, id, size, crc, r); err != nil {
			return nil, err
		}
		n.log.Info("copied a restore from its leader", "id", fmt.Sprintf("%x", id), "from", env.ident.name, "size", size, "took", time.Since(start))
		return nil, nil
	case reqFile:
		return n.answerFile(ctx, p)
	}
	return nil, fmt.Errorf("unknown request type %d", env.typ)
}

// answerFile answers a reqFile: kind, u64 key (a restore id, or the least
// snapshot index), the snapshot id ("" at first), u64 offset, u32 length;
// the answer is u64 file size, the snapshot id, and the bytes.
func (n *Node) answerFile(ctx context.Context, p []byte) (_ []byte, err error) {
	if len(p) < 9 {
		return nil, errors.New("malformed file request")
	}
	kind, key := p[0], binary.BigEndian.Uint64(p[1:])
	snapID, rest, ok := readString(p[9:])
	if !ok || len(rest) != 12 {
		return nil, errors.New("malformed file request")
	}
	off, length := int64(binary.BigEndian.Uint64(rest)), int64(binary.BigEndian.Uint32(rest[8:]))
	if off < 0 || length > copyChunk {
		return nil, errors.New("malformed file request")
	}
	var file *os.File
	switch kind {
	case fileRestore:
		file, err = n.fsm.OpenStaged(key)
	case fileSnapshot:
		var sf raft.SnapshotFile
		if snapID == "" {
			sf, err = n.raft.LatestSnapshot(key)
		} else if s, ok := n.raft.SnapshotByID(snapID); ok {
			sf = s
		} else {
			err = fmt.Errorf("snapshot %s is no longer here", snapID)
		}
		if err == nil {
			snapID = sf.ID
			file, err = os.Open(sf.Path)
		}
	default:
		err = fmt.Errorf("unknown file kind %d", kind)
	}
	if err != nil {
		return nil, err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return nil, err
	}
	length = max(0, min(length, st.Size()-off))
	buf, err := n.fileBufs.get(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			n.fileBufs.put(buf)
		}
	}()
	b := binary.BigEndian.AppendUint64(buf[:0], uint64(st.Size()))
	b = appendString(b, snapID)
	head := len(b)
	if head+int(length) > cap(b) {
		return nil, errors.New("malformed file request") // a snapshot id longer than any
	}
	b = b[:head+int(length)]
	if _, err := file.ReadAt(b[head:], off); err != nil {
		return nil, err
	}
	return b, nil
}

// fileBufPool bounds the memory of the file ranges this node sends
// (answerFile): at most fileBufs ranges are read and sent at once, each in
// a buffer of the pool, however many members copy from it and however
// large the file; a request waits for a buffer.
type fileBufPool struct{ bufs chan []byte }

const (
	// fileBufs is how many ranges a node sends at once (16 MiB).
	fileBufs = 4
	// fileBufSize holds a range and its answer's header, with room for
	// the snapshot id.
	fileBufSize = copyChunk + 512
)

func newFileBufPool() *fileBufPool {
	p := &fileBufPool{bufs: make(chan []byte, fileBufs)}
	for range fileBufs {
		p.bufs <- nil // allocated when first taken
	}
	return p
}

func (p *fileBufPool) get(ctx context.Context) ([]byte, error) {
	select {
	case b := <-p.bufs:
		if b == nil {
			b = make([]byte, fileBufSize)
		}
		return b[:cap(b)], nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// put gives back a buffer get returned (b may be a slice of it).
func (p *fileBufPool) put(b []byte) {
	if cap(b) != fileBufSize {
		return // not one of the pool's
	}
	select {
	case p.bufs <- b[:cap(b)]:
	default: // given back twice: never more than fileBufs
	}
}

// peerFile reads a file of another node with reqFile, a range at a time,
// up to copyAhead ranges ahead of its reader, so that the peer's reads and
// the network overlap the reader's writes.
type peerFile struct {
	n      *Node
	ctx    context.Context
	addr   string
	kind   byte
	key    uint64
	snapID string
	size   int64 // -1 until known, for a snapshot
	off    int64
	buf    []byte
	// start paces the copy at Config.RestoreCopyRate.
	start time.Time
	// ahead carries the ranges fetched ahead once Read has started them;
	// from then on only the fetching goroutine uses the fields above but
	// buf.
	ahead chan fileRange
	stop  context.CancelFunc
}

// copyAhead is how many ranges a peerFile fetches ahead of its reader.
const copyAhead = 2

type fileRange struct {
	data []byte
	err  error
}

func (r *peerFile) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if r.ahead == nil {
			r.startAhead()
		}
		c, ok := <-r.ahead
		if !ok {
			return 0, io.EOF
		}
		if c.err != nil {
			return 0, c.err
		}
		r.buf = c.data
	}
	k := copy(p, r.buf)
	r.buf = r.buf[k:]
	return k, nil
}

// startAhead starts fetching the ranges after those fetched.
func (r *peerFile) startAhead() {
	r.ahead = make(chan fileRange, copyAhead)
	r.ctx, r.stop = context.WithCancel(r.ctx)
	go func() {
		defer close(r.ahead)
		for r.size < 0 || r.off < r.size {
			data, err := r.fetch()
			select {
			case r.ahead <- fileRange{data: data, err: err}:
			case <-r.ctx.Done():
				return
			}
			if err != nil || len(data) == 0 {
				return
			}
		}
	}()
}

func (r *peerFile) Close() error {
	if r.stop != nil {
		r.stop()
	}
	return nil
}

// fetch reads the next range.
func (r *peerFile) fetch() ([]byte, error) {
	req := []byte{r.kind}
	req = binary.BigEndian.AppendUint64(req, r.key)
	req = appendString(req, r.snapID)
	req = binary.BigEndian.AppendUint64(req, uint64(r.off))
	req = binary.BigEndian.AppendUint32(req, copyChunk)
	ctx, cancel := context.WithTimeout(r.ctx, 2*time.Minute)
	defer cancel()
	answer, err := r.n.fwd.call(ctx, r.addr, reqFile, r.n.self(), req)
	if err != nil {
		return nil, fmt.Errorf("copying from %s: %w", r.addr, err)
	}
	if len(answer) < 8 {
		return nil, fmt.Errorf("copying from %s: truncated answer", r.addr)
	}
	size := int64(binary.BigEndian.Uint64(answer))
	snapID, data, ok := readString(answer[8:])
	if !ok || (r.size >= 0 && size != r.size) || (r.snapID != "" && snapID != r.snapID) {
		return nil, fmt.Errorf("copying from %s: the file changed", r.addr)
	}
	r.size, r.snapID = size, snapID
	r.off += int64(len(data))
	return data, r.pace()
}

// pace waits until the bytes fetched so far are within the copy rate.
func (r *peerFile) pace() error {
	rate := r.n.cfg.RestoreCopyRate << 20
	if rate <= 0 {
		return nil
	}
	if r.start.IsZero() {
		r.start = time.Now()
	}
	due := r.start.Add(time.Duration(float64(r.off) / float64(rate) * float64(time.Second)))
	wait := time.Until(due)
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
}

// restoreSource is the node's fsm.RestoreSource: the other members, the
// leader first.
type restoreSource struct{ n *Node }

func (s restoreSource) peers() []string {
	var addrs []string
	leaderID, leader := s.n.raft.Leader()
	if leader != "" && leaderID != s.n.cfg.ID {
		addrs = append(addrs, leader)
	}
	members, _ := s.n.raft.Members()
	for _, m := range members {
		if m.ID != s.n.cfg.ID && m.ID != leaderID {
			addrs = append(addrs, m.Addr)
		}
	}
	return addrs
}

// open returns the file of the first peer that has it.
func (s restoreSource) open(ctx context.Context, kind byte, key uint64, size int64) (io.ReadCloser, error) {
	var errs []error
	for _, addr := range s.peers() {
		r := &peerFile{n: s.n, ctx: ctx, addr: addr, kind: kind, key: key, size: size}
		data, err := r.fetch()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.buf = data
		return r, nil
	}
	if len(errs) == 0 {
		return nil, errors.New("no other member to fetch from")
	}
	return nil, errors.Join(errs...)
}

func (s restoreSource) OpenRestore(ctx context.Context, id uint64, size int64) (io.ReadCloser, error) {
	return s.open(ctx, fileRestore, id, size)
}

func (s restoreSource) OpenState(ctx context.Context, minIndex uint64) (io.ReadCloser, error) {
	return s.open(ctx, fileSnapshot, minIndex, -1)
}
