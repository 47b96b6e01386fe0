package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/raftsql/raftsql/fsm"
	"github.com/raftsql/raftsql/raft"
)

// Backup formats and compressions.
const (
	BackupSQLite = "sqlite" // a plain SQLite database file
	BackupSQL    = "sql"    // SQL text that sqlite3 and psql load
	BackupPsql   = "psql"   // BackupSQL with trigger bodies as psql -f needs them
	CompressNone = ""
	CompressZstd = "zstd"
)

// HTTP headers of the admin endpoint's backup, restore and snapshot
// answers. The backup's index is sent both before the body and as a
// trailer after it.
const (
	HeaderIndex  = "X-Raftsql-Index"
	HeaderTerm   = "X-Raftsql-Term"
	HeaderDBSize = "X-Raftsql-Database-Size"
)

// HeaderRestoreOutcome, on an error answer to POST /restore, is
// RestoreNotApplied when nothing changed and the file may be sent again
// (to the leader: the answer names it).
const (
	HeaderRestoreOutcome = "X-Raftsql-Restore-Outcome"
	RestoreNotApplied    = "not-applied"
)

var (
	// ErrRestoreRefused is wrapped by every reason a restore is refused
	// before anything changed.
	ErrRestoreRefused = errors.New("restore refused")
	// ErrNeedsLeader is wrapped when an admin operation that only the
	// leader performs reaches another node.
	ErrNeedsLeader = errors.New("not the leader")
	// ErrRestoreTooLarge is wrapped when the file exceeds MaxRestoreSize.
	ErrRestoreTooLarge = errors.New("restore refused: the file is larger than the node's limit")
)

var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// BackupOptions choose what Node.Backup writes.
type BackupOptions struct {
	// Format is BackupSQLite (the default when empty), BackupSQL or
	// BackupPsql.
	Format string
	// Compress is CompressNone or CompressZstd.
	Compress string
	// Consistency is ReadNone to back up this node's own state, whatever
	// its role; anything else (the default) needs the leader, and backs up
	// its state once it has applied every entry committed before the call.
	Consistency string
}

func (o *BackupOptions) validate() error {
	switch o.Format {
	case "":
		o.Format = BackupSQLite
	case BackupSQLite, BackupSQL, BackupPsql:
	default:
		return fmt.Errorf("backup format %q: want sqlite, sql or psql", o.Format)
	}
	switch o.Compress {
	case CompressNone, CompressZstd:
	case "none":
		o.Compress = CompressNone
	default:
		return fmt.Errorf("backup compression %q: want zstd or none", o.Compress)
	}
	switch o.Consistency {
	case "", ReadLinearizable, ReadStrong, ReadWeak, ReadNone:
	default:
		return fmt.Errorf("backup consistency %q: want linearizable or none", o.Consistency)
	}
	return nil
}

// BackupInfo describes a backup: the Raft index and term of the last entry
// it holds, and the size of the SQLite database file it was made from.
type BackupInfo struct {
	Index  uint64 `json:"index"`
	Term   uint64 `json:"term"`
	DBSize int64  `json:"db_size"`
}

// Backup writes a consistent copy of the database to w, streamed: the
// database is copied page by page into a temporary file next to it
// (writes go on meanwhile), and that file is sent in the chosen format.
// Unless opts.Consistency is ReadNone it must run on the leader (elsewhere
// it fails with an error matching ErrNeedsLeader that names the leader) and
// the copy holds every entry committed before the call.
func (n *Node) Backup(ctx context.Context, w io.Writer, opts BackupOptions) (BackupInfo, error) {
	bf, err := n.prepareBackup(ctx, &opts)
	if err != nil {
		return BackupInfo{}, err
	}
	defer bf.Close()
	if err := writeBackup(ctx, w, bf, opts); err != nil {
		return BackupInfo{}, err
	}
	return backupInfo(bf), nil
}

func backupInfo(bf *fsm.BackupFile) BackupInfo {
	return BackupInfo{Index: bf.Header.Index, Term: bf.Header.Term, DBSize: bf.Header.Size}
}

// prepareBackup makes the copy a backup is sent from.
func (n *Node) prepareBackup(ctx context.Context, opts *BackupOptions) (*fsm.BackupFile, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.Consistency != ReadNone {
		rctx, cancel := context.WithTimeout(ctx, n.cfg.ReadTimeout)
		idx, err := n.raft.ReadIndex(rctx)
		if err == nil {
			err = n.raft.WaitApplied(rctx, idx)
		}
		cancel()
		if err != nil {
			var nl *raft.NotLeaderError
			if errors.As(err, &nl) {
				return nil, fmt.Errorf("%w: a backup comes from the leader (%s), or from any node with consistency none", ErrNeedsLeader, nl.LeaderAddr)
			}
			return nil, n.translate(err)
		}
	}
	if opts.Format == BackupSQL || opts.Format == BackupPsql {
		return n.fsm.BackupSQL(ctx)
	}
	return n.fsm.BackupFile(ctx)
}

// writeBackup sends bf to w in opts' format and compression.
func writeBackup(ctx context.Context, w io.Writer, bf *fsm.BackupFile, opts BackupOptions) error {
	var zw *zstd.Encoder
	if opts.Compress == CompressZstd {
		var err error
		if zw, err = zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true)); err != nil {
			return err
		}
		w = zw
	}
	var err error
	switch opts.Format {
	case BackupSQL:
		err = bf.WriteSQL(ctx, w)
	case BackupPsql:
		err = bf.WritePsqlSQL(ctx, w)
	default:
		_, err = io.Copy(w, ctxReader{ctx, bf.Reader()})
	}
	if zw != nil {
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// backupSendIdle is how long a backup's client may stop reading before the
// node gives up sending.
const backupSendIdle = time.Minute

// deadlineWriter sets a write deadline before each write, so that a stalled
// reader fails the response instead of blocking it.
type deadlineWriter struct {
	w    io.Writer
	rc   *http.ResponseController
	idle time.Duration
	last time.Time
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	// Moving the deadline costs a syscall; once a second is enough.
	if now := time.Now(); now.Sub(d.last) > time.Second {
		d.last = now
		d.rc.SetWriteDeadline(now.Add(d.idle))
	}
	return d.w.Write(p)
}

// ctxReader stops a copy once ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// RestoreInfo describes a restore: the Raft index its snapshot became and
// the size of the SQLite database file installed.
type RestoreInfo struct {
	Index  uint64 `json:"index"`
	DBSize int64  `json:"db_size"`
	// ID is the restore's id (RestoreOptions.ID, or the one the leader
	// picked); AlreadyInstalled is set when the restore was installed
	// before, under this id, and was not installed again.
	ID               RestoreID `json:"id,omitempty"`
	AlreadyInstalled bool      `json:"already_installed,omitempty"`
}

// Restore replaces the data of the whole cluster with the SQLite database
// file read from r (plain, or zstd-compressed as Backup writes it). It runs
// on the leader (elsewhere it fails with an error matching ErrNeedsLeader),
// one at a time (a second fails with ErrRestoreBusy). The file is streamed
// into a temporary file next to the database, never held in memory, and
// checked before anything is proposed: a file that is not a SQLite
// database, is truncated, fails integrity_check or has a schema a node
// refuses fails with an error matching ErrRestoreRefused that says why, and
// one larger than Config.MaxRestoreSize with ErrRestoreTooLarge. Then it
// is copied to the other members and committed by one log entry, or, in a
// cluster not yet upgraded, sent through the log (restoreFile); Restore
// returns the index at which every node installs it, once a majority has.
func (n *Node) Restore(ctx context.Context, r io.Reader) (RestoreInfo, error) {
	return n.RestoreWith(ctx, r, RestoreOptions{})
}

// RestoreWith is Restore with options: opts.ID names the restore, so that
// a client that lost the answer can ask any node what became of it
// (RestoreStatus), and so that the same file sent again under the same id
// is installed once: when the id was installed already, RestoreWith
// answers with that install's index (RestoreInfo.AlreadyInstalled) and
// changes nothing.
func (n *Node) RestoreWith(ctx context.Context, r io.Reader, opts RestoreOptions) (RestoreInfo, error) {
	if !n.raft.IsLeader() {
		return RestoreInfo{}, n.notLeaderForAdmin("a restore")
	}
	if err := n.checkRestore(); err != nil {
		return RestoreInfo{}, err // before the upload, not after
	}
	if !n.restoreMu.TryLock() {
		return RestoreInfo{}, ErrRestoreBusy
	}
	defer n.restoreMu.Unlock()
	id := uint64(opts.ID)
	if id == 0 {
		id = newRestoreID()
	}
	n.restoreActive.Store(id)
	defer n.restoreActive.Store(0)
	path, size, crc, err := n.receiveRestore(ctx, r)
	if path != "" {
		defer os.Remove(path)
	}
	if err != nil {
		return RestoreInfo{}, err
	}
	if err := n.prepareRestore(ctx, path); err != nil {
		return RestoreInfo{}, err
	}
	if !n.raft.IsLeader() {
		return RestoreInfo{}, fmt.Errorf("%w: %w", ErrRestoreNotApplied, n.notLeaderForAdmin("a restore"))
	}
	if opts.ID != 0 {
		index, installed, err := n.alreadyInstalled(ctx, id)
		if err != nil {
			return RestoreInfo{}, err
		}
		if installed {
			n.log.Info("a restore sent again was installed already; not installing it again", "id", opts.ID, "index", index)
			return RestoreInfo{Index: index, DBSize: size, ID: opts.ID, AlreadyInstalled: true}, nil
		}
	}
	var info RestoreInfo
	if n.outOfBand() {
		info, err = n.restoreOutOfBand(ctx, path, size, crc, id)
	} else {
		info, err = n.restoreFile(ctx, path, id)
	}
	info.ID = RestoreID(id)
	return info, err
}

// prepareRestore fsyncs the file received at path and checks it.
func (n *Node) prepareRestore(ctx context.Context, path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("receiving the restore: %w", err)
	}
	if err := n.fsm.CheckRestore(ctx, path); err != nil {
		var re *fsm.RefusedError
		if errors.As(err, &re) {
			return fmt.Errorf("%w: %s", ErrRestoreRefused, re.Reason)
		}
		return err
	}
	return nil
}

// receiveRestore streams r into a temporary file next to the database,
// decompressing zstd, and returns its path, size and CRC-32C. The file is
// not yet synced (prepareRestore does it). A SQLite header that marks the
// file as in WAL mode is marked as rollback-journal on the way, as
// fsm.CheckRestore would do to it, so that the checksum is of the file as
// it is installed.
func (n *Node) receiveRestore(ctx context.Context, r io.Reader) (path string, size int64, crc uint32, err error) {
	dir := filepath.Dir(n.cfg.sqlitePath())
	tmp, err := os.CreateTemp(dir, "restore-*.db")
	if err != nil {
		return "", 0, 0, err
	}
	path = tmp.Name()
	defer tmp.Close()
	br := bufio.NewReaderSize(ctxReader{ctx, r}, 256<<10)
	var src io.Reader = br
	if head, _ := br.Peek(len(zstdMagic)); bytes.Equal(head, zstdMagic) {
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return path, 0, 0, err
		}
		defer zr.Close()
		src = zr
	}
	limit := n.cfg.MaxRestoreSize
	if limit > 0 {
		src = io.LimitReader(src, limit+1)
	}
	h := crc32.New(castagnoli)
	w := &headerFix{w: io.MultiWriter(tmp, h)}
	size, err = io.CopyBuffer(w, src, make([]byte, 1<<20))
	if err == nil {
		err = w.flush()
	}
	if err != nil {
		return path, size, 0, fmt.Errorf("receiving the restore: %w", err)
	}
	if limit > 0 && size > limit {
		return path, size, 0, fmt.Errorf("%w (%d bytes, --max-restore-size)", ErrRestoreTooLarge, limit)
	}
	return path, size, h.Sum32(), tmp.Close()
}

// headerFix writes what it is given to w, but for bytes 18 and 19 (the
// file format's write and read versions) of a SQLite database header: 2
// (WAL) in either makes both 1 (rollback journal), as fsm.CheckRestore
// does to the file.
type headerFix struct {
	w    io.Writer
	head []byte
	done bool
}

const headerFixLen = 20

func (h *headerFix) Write(p []byte) (int, error) {
	n := len(p)
	if !h.done {
		take := min(headerFixLen-len(h.head), len(p))
		h.head = append(h.head, p[:take]...)
		p = p[take:]
		if len(h.head) < headerFixLen {
			return n, nil
		}
		if bytes.HasPrefix(h.head, []byte("SQLite format 3\x00")) && (h.head[18] == 2 || h.head[19] == 2) {
			h.head[18], h.head[19] = 1, 1
		}
		if err := h.flush(); err != nil {
			return 0, err
		}
	}
	if len(p) == 0 {
		return n, nil
	}
	if _, err := h.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}

// flush writes the header held back, whole or not.
func (h *headerFix) flush() error {
	if h.done {
		return nil
	}
	h.done = true
	_, err := h.w.Write(h.head)
	return err
}

// notLeaderForAdmin is the error of an admin operation that needs the leader.
func (n *Node) notLeaderForAdmin(what string) error {
	_, addr := n.raft.Leader()
	if addr == "" {
		return fmt.Errorf("%w: %s needs the leader, and none is known", ErrNeedsLeader, what)
	}
	return fmt.Errorf("%w: %s needs the leader (%s)", ErrNeedsLeader, what, addr)
}

// SnapshotInfo describes a snapshot taken on demand.
type SnapshotInfo struct {
	Index uint64 `json:"index"`
}

// Snapshot makes the node take a snapshot now, compacting its log (a node
// snapshots its own state; every node can). It returns the index the newest
// snapshot holds; having nothing new to snapshot is not an error.
func (n *Node) Snapshot() (SnapshotInfo, error) {
	index, err := n.raft.SnapshotNow()
	if err != nil {
		return SnapshotInfo{}, n.translate(err)
	}
	return SnapshotInfo{Index: index}, nil
}

// Automatic snapshots are staggered: with one threshold every node reaches
// it at the same log index, so they would all copy their database and
// compact their log at the same moment, and the cluster would answer slowly
// while they do. Each node waits instead for between 1 and 1.5 times the
// threshold: the voters, sorted by ID, share that range evenly by rank, so
// that no two snapshot at once; until a node knows the configuration, a hash
// of its ID places it.

// staggeredThreshold is the threshold of the node of the given rank among
// n voters.
func staggeredThreshold(threshold uint64, rank, n int) uint64 {
	if threshold < 2 || n < 1 || rank < 0 {
		return threshold
	}
	return threshold + threshold/2*uint64(rank%n)/uint64(n)
}

// hashedThreshold places a node by a hash of its ID, before it knows its
// rank.
func hashedThreshold(threshold uint64, id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return staggeredThreshold(threshold, int(h.Sum64()%1024), 1024)
}

// SnapshotThreshold is the number of log entries since the last snapshot
// after which this node takes one, as staggered among the voters.
func (n *Node) SnapshotThreshold() uint64 { return n.raft.SnapshotThreshold() }

// staggerSnapshots keeps this node's snapshot threshold at its rank among
// the voters, checked every snapshot interval.
func (n *Node) staggerSnapshots() {
	tick := time.NewTicker(max(n.cfg.SnapshotInterval/2, time.Second))
	defer tick.Stop()
	for {
		if members, err := n.raft.Members(); err == nil {
			var voters []string
			for _, m := range members {
				if m.Voter {
					voters = append(voters, m.ID)
				}
			}
			sort.Strings(voters)
			if rank := sort.SearchStrings(voters, n.cfg.ID); rank < len(voters) && voters[rank] == n.cfg.ID {
				want := staggeredThreshold(n.cfg.SnapshotThreshold, rank, len(voters))
				if err := n.raft.SetSnapshotThreshold(want); err != nil {
					n.log.Debug("snapshot threshold", "err", err)
				}
			}
		}
		select {
		case <-n.ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// ---- The admin HTTP endpoint ---------------------------------------------

// backupRoutes registers the admin routes of backups, restores and
// snapshots.
func (n *Node) backupRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /backup", n.serveBackup)
	mux.HandleFunc("POST /restore", n.serveRestore)
	mux.HandleFunc("GET /restore/status", n.serveRestoreStatus)
	mux.HandleFunc("POST /snapshot", n.serveSnapshot)
}

// serveBackup answers GET /backup?format=sqlite|sql|psql&compress=zstd&consistency=none.
// A follower redirects a backup that needs the leader to the leader.
func (n *Node) serveBackup(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	opts := BackupOptions{Format: q.Get("format"), Compress: q.Get("compress"), Consistency: q.Get("consistency")}
	if err := opts.validate(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if opts.Consistency != ReadNone && !n.raft.IsLeader() {
		n.redirectToLeader(w, r)
		return
	}
	bf, err := n.prepareBackup(r.Context(), &opts)
	if err != nil {
		http.Error(w, err.Error(), adminStatus(err))
		return
	}
	defer bf.Close()
	h := w.Header()
	h.Set("Trailer", HeaderIndex)
	h.Set(HeaderIndex, strconv.FormatUint(bf.Header.Index, 10))
	h.Set(HeaderTerm, strconv.FormatUint(bf.Header.Term, 10))
	h.Set(HeaderDBSize, strconv.FormatInt(bf.Header.Size, 10))
	switch {
	case opts.Compress == CompressZstd:
		h.Set("Content-Type", "application/zstd")
	case opts.Format == BackupSQL || opts.Format == BackupPsql:
		h.Set("Content-Type", "application/sql; charset=utf-8")
	default:
		// No Content-Length: the trailer, sent only with a chunked body,
		// is how a client knows the stream is whole. Its length is
		// HeaderDBSize.
		h.Set("Content-Type", "application/vnd.sqlite3")
	}
	// A backup holds the database file (or a read transaction) until it is
	// sent: a client that stops reading must not hold it for ever.
	out := &deadlineWriter{w: w, rc: http.NewResponseController(w), idle: backupSendIdle}
	if err := writeBackup(r.Context(), out, bf, opts); err != nil {
		n.log.Warn("backup failed while sending", "err", err)
		// Cut the response off, so the client cannot take a partial
		// backup for a whole one.
		panic(http.ErrAbortHandler)
	}
	h.Set(HeaderIndex, strconv.FormatUint(bf.Header.Index, 10))
}

// serveRestore answers POST /restore, whose body is the database file.
func (n *Node) serveRestore(w http.ResponseWriter, r *http.Request) {
	if !n.raft.IsLeader() {
		// Sent nowhere yet (or redirected): a client may send it again.
		w.Header().Set(HeaderRestoreOutcome, RestoreNotApplied)
		n.redirectToLeader(w, r)
		return
	}
	if limit := n.cfg.MaxRestoreSize; limit > 0 && r.ContentLength > limit {
		http.Error(w, fmt.Sprintf("%v (%d bytes, --max-restore-size): this file has %d", ErrRestoreTooLarge, limit, r.ContentLength), http.StatusRequestEntityTooLarge)
		return
	}
	var opts RestoreOptions
	if s := r.Header.Get(HeaderRestoreID); s != "" {
		id, err := ParseRestoreID(s)
		if err != nil {
			http.Error(w, fmt.Sprintf("%v: %s: %v", ErrRestoreRefused, HeaderRestoreID, err), http.StatusBadRequest)
			return
		}
		opts.ID = id
		w.Header().Set(HeaderRestoreID, id.String())
	}
	info, err := n.RestoreWith(r.Context(), r.Body, opts)
	if err != nil {
		if errors.Is(err, ErrRestoreNotApplied) || errors.Is(err, ErrNeedsLeader) || errors.Is(err, ErrNoLeader) {
			w.Header().Set(HeaderRestoreOutcome, RestoreNotApplied)
		}
		http.Error(w, err.Error(), adminStatus(err))
		return
	}
	writeJSON(w, info)
}

// serveSnapshot answers POST /snapshot.
func (n *Node) serveSnapshot(w http.ResponseWriter, r *http.Request) {
	info, err := n.Snapshot()
	if err != nil {
		http.Error(w, err.Error(), adminStatus(err))
		return
	}
	writeJSON(w, info)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func adminStatus(err error) int {
	switch {
	case errors.Is(err, ErrRestoreTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrRestoreRefused):
		return http.StatusUnprocessableEntity
	case errors.Is(err, ErrRestoreBusy), errors.Is(err, ErrNotUpgraded):
		return http.StatusConflict
	case errors.Is(err, ErrNeedsLeader), errors.Is(err, ErrNoLeader), errors.Is(err, ErrNotReady), errors.Is(err, ErrRestoreNotApplied):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrOutcomeUnknown):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// redirectToLeader answers 307 with the leader's admin address, so that a
// client sends the same request there.
func (n *Node) redirectToLeader(w http.ResponseWriter, r *http.Request) {
	addr := n.leaderHTTPAddr(r.Context())
	if addr == "" {
		http.Error(w, "this node is not the leader and knows of none; try again, or another node", http.StatusServiceUnavailable)
		return
	}
	u := *r.URL
	u.Scheme, u.Host = "http", addr
	if r.TLS != nil {
		u.Scheme = "https"
	}
	http.Redirect(w, r, u.String(), http.StatusTemporaryRedirect)
}

// leaderHTTPAddr asks the leader for its admin address, "" when unknown.
func (n *Node) leaderHTTPAddr(ctx context.Context) string {
	_, raftAddr := n.raft.Leader()
	if raftAddr == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	answer, err := n.fwd.call(ctx, raftAddr, reqStatus, n.self(), nil)
	var st NodeStatus
	if err == nil {
		err = json.Unmarshal(answer, &st)
	}
	if err != nil || st.State != "leader" {
		return ""
	}
	return st.HTTPAddr
}
