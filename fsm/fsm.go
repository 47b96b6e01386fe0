package fsm

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	hraft "github.com/hashicorp/raft"
	"github.com/raftsql/raftsql/fsm/command"
	sqlite3 "modernc.org/sqlite/lib"
)

const (
	busyTimeoutMillis  = 5000
	autoCheckpointPage = 1000
	defaultReadConns   = 4
	// DefaultFile is the name of the database file in Config.Dir.
	DefaultFile = "raftsql.db"
)

// Log keys.
const (
	logKeyIndex = "index"
	logKeyErr   = "err"
)

var (
	// ErrStopped is returned by every call once an environmental failure
	// (I/O error, disk full, corruption) has stopped the state machine.
	ErrStopped = errors.New("fsm: stopped after a local failure")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("fsm: closed")
)

// Config configures a state machine.
type Config struct {
	// Path is the SQLite database file. When empty it is DefaultFile in Dir.
	Path string
	Dir  string
	// ReadConns is the number of read-only connections (default 4).
	ReadConns int
	// MaxReadValueSize is the largest string or blob, in bytes, a read
	// may make (0: SQLite's maximum, 1e9). Writes use the limit their
	// command carries, the same on every node.
	MaxReadValueSize int64
	// SnapshotRate bounds how fast a snapshot copies the database file
	// into Raft's snapshot store, in bytes per second (0: no bound). The
	// copy shares the disk with the Raft log's fsyncs: unbounded, a large
	// database's copy queues every commit behind it.
	SnapshotRate int64
	// Funcs are scalar SQL functions every connection registers, and
	// ConnInit statements every connection runs, after registering them,
	// when it opens (the write connection) or is first used (a read
	// connection): the server's catalog views (TEMP VIEWs) live
	// there. They must be deterministic; they may read the database, and
	// never write it.
	Funcs    []Func
	ConnInit []string
	// Logger receives the state machine's logs; nil discards them.
	Logger *slog.Logger
	// OnFatal is called once, from the goroutine that applies entries,
	// when a local failure means this node can no longer guarantee the
	// same state as the others. The node must stop; every later call of
	// the state machine fails with ErrStopped.
	OnFatal func(error)
}

// FSM is the replicated state machine: one SQLite database. It implements
// hraft.FSM and hraft.BatchingFSM.
type FSM struct {
	path    string
	log     *slog.Logger
	onFatal func(error)
	nRead   int
	// readLength is the length limit of read connections.
	readLength int64
	// snapRate is Config.SnapshotRate.
	snapRate int64
	// funcs and connInit are Config.Funcs and Config.ConnInit.
	funcs    []registeredFunc
	connInit []string

	env *applyEnv

	// w is the write connection. Apply, ApplyBatch, Snapshot and Restore
	// use it and are called by Raft from one goroutine; a speculative
	// WriteTx uses it between them. applyMu is held by each of these
	// while it uses w.
	w        *conn
	applyMu  sync.Mutex
	autockpt bool
	// walRestartDue says that a checkpoint outside the apply path (a
	// released snapshot's catch-up) may have left the WAL able to start
	// over; beforeWrite starts it over before the next statement.
	walRestartDue atomic.Bool

	// swapMu is held for reading by every use of a read connection and
	// for writing while Restore swaps the database file.
	swapMu  sync.RWMutex
	readers chan *conn
	// classifiers serve Classify alone, so that a statement can always be
	// classified even while transactions hold every read connection.
	classifiers chan *conn

	// stateMu is held while a transaction commits and the state below
	// changes, so that a snapshot or a backup takes data and state that
	// match. Reads do not take it (syncSchema): they pair their snapshot
	// with readIndex and ddlSeq, and never wait for a commit.
	stateMu  sync.Mutex
	index    uint64
	term     uint64
	dedup    dedup
	lastTime atomic.Int64
	// readIndex is index, stored once the state it names is committed:
	// a read snapshot taken after loading it reflects at least that
	// index. It lags index after a snapshot is installed (Restore,
	// RestoredAt) until the next commit; lower is always safe.
	readIndex atomic.Uint64
	// ddlSeq is odd while a transaction that changed the schema commits,
	// until schemaGen counts it.
	ddlSeq atomic.Uint64

	holds atomic.Int32 // snapshots not yet released

	// staged is the restore being assembled from the log (restore.go),
	// used under applyMu; stagedID is its id, for anyone to read.
	staged   *staging
	stagedID atomic.Uint64
	// oob is the restores staged out of band (stage.go).
	oob oobStaging
	// held is the index and term the database file held when Open kept it
	// (a clean shutdown's state, state.go); zero when Open started empty.
	// ApplyBatch skips the entries up to it, which Raft replays.
	heldIndex, heldTerm uint64
	// Speculation (tx.go), guarded by applyMu. spec holds the commands of
	// transactions proposed but not yet applied, in the order proposed;
	// specOpen says that w holds an open transaction with their effects,
	// which whoever takes applyMu for anything else than a WriteTx
	// discards first (discardSpec).
	spec     []*specEntry
	specOpen bool
	// writing collects the tables the statements running on w write, when
	// it is set; tableWrite is the last applied index that wrote each
	// table (allTables: the schema). Both are guarded by applyMu.
	writing    map[string]struct{}
	tableWrite map[string]uint64
	// restores counts the states restored from a snapshot: one replaces
	// every table.
	restores atomic.Uint64

	// schemaGen counts schema changes the write connection may have made
	// (DDL applied or speculated, a restore), so that readers of the
	// schema know when what they cached is stale.
	schemaGen atomic.Uint64

	failed    atomic.Pointer[error]
	fatalOnce sync.Once
	closed    atomic.Bool
}

var (
	_ hraft.FSM         = (*FSM)(nil)
	_ hraft.BatchingFSM = (*FSM)(nil)
)

// Open creates a state machine. The database file is a cache of "snapshot
// plus applied entries". When the last Close left a record of the state the
// file holds (state.go) and the file still matches it, Open keeps the file
// and HeldIndex tells its index, so that Raft need not restore a snapshot
// into it; otherwise (a crash, a missing or changed file) Open deletes the
// file and starts empty, and Raft restores the latest snapshot and replays
// its log into it.
func Open(cfg Config) (*FSM, error) {
	path := cfg.Path
	if path == "" {
		if cfg.Dir == "" {
			return nil, errors.New("fsm: Config needs Path or Dir")
		}
		path = filepath.Join(cfg.Dir, DefaultFile)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("fsm: %w", err)
	}
	f := &FSM{path: path, log: cfg.Logger, onFatal: cfg.OnFatal, nRead: cfg.ReadConns, readLength: cfg.MaxReadValueSize,
		snapRate: cfg.SnapshotRate, funcs: registerFuncs(cfg.Funcs), connInit: cfg.ConnInit}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	f.log = f.log.With("subsystem", "fsm")
	if f.nRead <= 0 {
		f.nRead = defaultReadConns
	}
	held, err := f.takeCleanState()
	if err != nil {
		return nil, err
	}
	if held == nil {
		if err := removeDB(path); err != nil {
			return nil, err
		}
	}
	if err := f.discardStaging(); err != nil {
		return nil, fmt.Errorf("fsm: %w", err)
	}
	f.removePartials()
	env, err := newApplyEnv()
	if err != nil {
		return nil, err
	}
	f.env = env
	f.dedup.init()
	if err := f.openConns(); err != nil {
		env.free()
		return nil, err
	}
	if held != nil {
		f.index, f.term = held.index, held.term
		f.readIndex.Store(held.index)
		f.heldIndex, f.heldTerm = held.index, held.term
		f.oob.outcomesFrom = held.index
		f.lastTime.Store(held.lastTime)
		for _, e := range held.entries {
			f.dedup.put(e.id, e.res)
		}
		f.log.Info("kept the database file of the last clean shutdown", logKeyIndex, held.index)
	}
	return f, nil
}

// HeldIndex returns the index and term of the state the database file held
// when Open kept it, or zeros when Open started empty. Raft skips the
// snapshot restore at start when this is at or past its latest snapshot,
// and the state machine skips the entries up to it as Raft replays them.
func (f *FSM) HeldIndex() (index, term uint64) { return f.heldIndex, f.heldTerm }

// Reset empties a state machine that has applied nothing since Open: Raft
// calls it when the file Open kept does not fit its log (the log was
// removed, or holds less than the file).
func (f *FSM) Reset() error {
	f.applyMu.Lock()
	defer f.applyMu.Unlock()
	f.swapMu.Lock()
	defer f.swapMu.Unlock()
	defer f.schemaGen.Add(1)
	f.closeConns()
	if err := removeDB(f.path); err != nil {
		return err
	}
	if err := f.openConns(); err != nil {
		return err
	}
	f.stateMu.Lock()
	f.index, f.term, f.heldIndex, f.heldTerm = 0, 0, 0, 0
	f.readIndex.Store(0)
	f.lastTime.Store(0)
	f.dedup.init()
	f.stateMu.Unlock()
	return nil
}

func removeDB(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("fsm: %w", err)
		}
	}
	return nil
}

// openConns opens the write connection and the read pool on f.path.
func (f *FSM) openConns() error {
	w, err := openConn(f.path, f.env.name, false)
	if err != nil {
		return err
	}
	w.apply = true
	for _, p := range []string{
		"PRAGMA journal_mode=WAL",
		"PRAGMA synchronous=OFF",
		"PRAGMA foreign_keys=ON",
		// Sorts and temporary indexes stay in memory: a temporary file
		// would draw its name from SQLite's generator.
		"PRAGMA temp_store=MEMORY",
	} {
		if err := w.exec(p); err != nil {
			w.close()
			return fmt.Errorf("fsm: %s: %w", p, err)
		}
	}
	if err := w.registerRandom(f.env); err != nil {
		w.close()
		return err
	}
	if err := w.setup(f.funcs, f.connInit); err != nil {
		w.close()
		return err
	}
	w.registerProgress(f.env)
	w.registerWALHook(f.env)
	f.autockpt = f.holds.Load() == 0
	if err := restartWAL(w); err != nil {
		w.close()
		return fmt.Errorf("fsm: first WAL frame: %w", err)
	}
	readers := make(chan *conn, f.nRead)
	classifiers := make(chan *conn, classifyConns)
	closeAll := func() {
		for _, ch := range []chan *conn{readers, classifiers} {
			close(ch)
			for r := range ch {
				r.close()
			}
		}
		w.close()
	}
	for i := range f.nRead + classifyConns {
		r, err := openConn(f.path, "", true)
		for _, p := range []string{
			// Setting temp_store drops temporary views: it comes before
			// the setup, which acquire runs when the connection is first
			// used, so that opening (at start and after a restore) does
			// not wait for it.
			"PRAGMA temp_store=MEMORY",
			"PRAGMA query_only=1",
			// Reads report the setting writes are made with.
			"PRAGMA foreign_keys=ON",
		} {
			if err == nil {
				err = r.exec(p)
			}
		}
		if err == nil {
			r.needsSetup = len(f.funcs) > 0 || len(f.connInit) > 0
		}
		if err == nil {
			err = r.registerReadRandom()
		}
		if err == nil {
			r.setLength(f.readLength)
		}
		if err != nil {
			if r != nil {
				r.close()
			}
			closeAll()
			return err
		}
		if i < f.nRead {
			r.home = readers
		} else {
			r.home = classifiers
		}
		r.home <- r
	}
	f.w, f.readers, f.classifiers = w, readers, classifiers
	return nil
}

// closeConns closes the connections, the write connection last: the last
// connection to close removes the WAL and its -shm only if it can write.
func (f *FSM) closeConns() {
	for range f.nRead {
		(<-f.readers).close()
	}
	for range classifyConns {
		(<-f.classifiers).close()
	}
	if f.w != nil {
		f.w.close()
		f.w = nil
	}
}

// Close closes the database. Calls in progress must have returned.
func (f *FSM) Close() error {
	if f.closed.Swap(true) {
		return nil
	}
	f.swapMu.Lock()
	defer f.swapMu.Unlock()
	// A state machine that stopped after a failure, or that is staging a
	// restore (whose chunks are only in the log), starts over at the next
	// Open; so does one whose file a snapshot may still be reading.
	clean := f.failed.Load() == nil && f.staged == nil && f.holds.Load() == 0
	if clean {
		if err := f.checkpointAtClose(); err != nil {
			f.log.Warn("the next start restores the latest snapshot", logKeyErr, err)
			clean = false
		}
	}
	f.discardStaging()
	f.closeConns()
	f.env.free()
	if clean {
		f.stateMu.Lock()
		st := cleanState{index: f.index, term: f.term, lastTime: f.lastTime.Load(), meta: f.encodeMeta()}
		f.stateMu.Unlock()
		if err := f.writeCleanState(st); err != nil {
			f.log.Warn("the next start restores the latest snapshot", logKeyErr, err)
		}
	}
	return nil
}

// Path returns the database file.
func (f *FSM) Path() string { return f.path }

// LastTime returns the effective time, in Unix nanoseconds, of the last
// applied command. Time during apply never goes backwards: a command stamped
// earlier than this runs at this time. A leader stamps commands at or after it.
func (f *FSM) LastTime() int64 { return f.lastTime.Load() }

// AppliedIndex returns the Raft index and term of the last applied entry.
func (f *FSM) AppliedIndex() (index, term uint64) {
	f.stateMu.Lock()
	defer f.stateMu.Unlock()
	return f.index, f.term
}

func (f *FSM) stopped() error {
	if p := f.failed.Load(); p != nil {
		return *p
	}
	if f.closed.Load() {
		return ErrClosed
	}
	return nil
}

// fail stops the state machine after a local failure.
func (f *FSM) fail(cause error) error {
	err := fmt.Errorf("%w: %w", ErrStopped, cause)
	f.failed.CompareAndSwap(nil, &err)
	f.fatalOnce.Do(func() {
		f.log.Error("stopping after a local failure", logKeyErr, cause)
		if f.onFatal != nil {
			f.onFatal(err)
		}
	})
	return *f.failed.Load()
}

// ---- Apply ---------------------------------------------------------------

// Apply applies one log entry. It returns a *command.Result for an entry
// holding one command, a []*command.Result for a group entry (one per
// command, in order), or an error wrapping ErrStopped when the node has
// stopped after a local failure. SQL errors are part of the result, not
// errors.
func (f *FSM) Apply(l *hraft.Log) any {
	var one [1]*hraft.Log
	one[0] = l
	return f.ApplyBatch(one[:])[0]
}

// item is one command of a batch being applied.
type item struct {
	cmd  *command.Command
	res  *command.Result
	eff  int64 // effective time
	dup  int   // index+1 of an earlier item of the batch with the same request id
	sql  bool  // it runs statements
	lost bool  // its statement rolled back the whole transaction
}

// ApplyBatch applies several log entries in one SQLite transaction, with a
// savepoint per command so that a failing command affects no other. A group
// entry contributes one command per member, applied as if each were its own
// entry.
func (f *FSM) ApplyBatch(logs []*hraft.Log) []any {
	out := make([]any, len(logs))
	if len(logs) == 0 {
		return out
	}
	f.applyMu.Lock()
	defer f.applyMu.Unlock()
	if err := f.stopped(); err != nil {
		for i := range out {
			out[i] = err
		}
		return out
	}
	if err := f.discardSpec(); err != nil {
		for i := range out {
			out[i] = err
		}
		return out
	}
	if err := f.beforeWrite(); err != nil {
		for i := range out {
			out[i] = err
		}
		return out
	}
	all := out
	f.writing = map[string]struct{}{}
	defer func() { f.writing = nil }()
	// Restore entries are applied on their own, in log order.
	for len(logs) > 0 {
		// Entries the file already holds are skipped: those Raft replays
		// after a start that kept it (HeldIndex), and those a state
		// fetched in place of a restore holds (stage.go).
		if f.heldIndex > 0 {
			k := 0
			for k < len(logs) && logs[k].Index <= f.heldIndex {
				// Still checked: a log damaged on this node's disk is
				// noticed at the start that replays it, as it would be if
				// the entry were applied again.
				if err := checkEntry(logs[k]); err != nil {
					err = f.fail(err)
					for i := range all {
						all[i] = err
					}
					return all
				}
				k++
			}
			logs, out = logs[k:], out[k:]
			if len(logs) == 0 {
				break
			}
		}
		k := 0
		for k < len(logs) && !isRestoreLog(logs[k]) {
			k++
		}
		if k > 0 {
			f.applyLocked(logs[:k], out[:k])
		}
		if k < len(logs) {
			if err := f.stopped(); err != nil {
				for i := k; i < len(out); i++ {
					out[i] = err
				}
				break
			}
			out[k] = f.applyRestore(logs[k])
			f.stateMu.Lock()
			f.readIndex.Store(f.index)
			f.stateMu.Unlock()
			k++
		}
		logs, out = logs[k:], out[k:]
	}
	return all
}

// checkEntry reports whether a command entry's bytes are damaged, without
// applying it.
func checkEntry(l *hraft.Log) error {
	if l.Type != hraft.LogCommand {
		return nil
	}
	var err error
	if command.IsRestore(l.Data) {
		_, err = command.DecodeRestore(l.Data)
	} else {
		_, err = command.DecodeEntry(l.Data)
	}
	if err != nil && !errors.Is(err, command.ErrUnsupported) {
		return fmt.Errorf("log entry %d cannot be applied: %w", l.Index, err)
	}
	return nil
}

// beforeWrite readies the write connection for statements: checkpoints as
// snapshots allow, and a WAL that a checkpoint on another connection left
// able to start over starts over now, outside any statement (see wal.go).
// f.applyMu is held. An error is a local failure, and stops the node.
func (f *FSM) beforeWrite() error {
	f.syncAutoCheckpoint()
	if f.walRestartDue.Swap(false) {
		if err := restartWAL(f.w); err != nil {
			return f.fail(fmt.Errorf("starting the WAL over: %w", err))
		}
	}
	return nil
}

// applyLocked applies logs and sets their results in out. f.applyMu is held.
// An entry whose bytes are damaged stops the state machine: the entries
// before it are applied, it and those after it are not.
func (f *FSM) applyLocked(logs []*hraft.Log, out []any) {
	p, bad := f.plan(logs)
	if bad != nil {
		k := len(p.first) - 1 // logs[:k] decoded
		if k > 0 {
			f.applyLocked(logs[:k], out[:k])
		}
		err := f.fail(bad)
		for i := k; i < len(out); i++ {
			out[i] = err
		}
		return
	}
	if p.nSQL > 0 {
		if err := f.runBatch(p.items, p.nSQL > 1); err != nil {
			err = f.fail(err)
			for i := range out {
				out[i] = err
			}
			return
		}
	} else {
		f.stateMu.Lock()
	}
	// runBatch returns with stateMu held, after its COMMIT.
	f.finish(logs, p, out)
	if p.nSQL > 0 {
		// The checkpoint changes no data: nothing waits for it.
		if err := f.afterCommit(); err != nil {
			err = f.fail(err)
			for i := range out {
				out[i] = err
			}
		}
	}
}

// batchPlan is a batch of entries decoded into commands, each with its
// effective time and its earlier result if its request id was seen.
type batchPlan struct {
	items []item
	// first[i] is the index of log i's first item; groups[i] its number
	// of items when it is a group entry, else 0.
	first    []int
	groups   []int
	lastTime int64 // the state's last time once the batch is applied
	nSQL     int   // items that run statements
}

// plan decodes logs against the current state. It changes nothing. When an
// entry is damaged it returns the error and a plan of nothing, whose
// first has one element per entry before the damaged one.
func (f *FSM) plan(logs []*hraft.Log) (*batchPlan, error) {
	p := &batchPlan{first: make([]int, len(logs)+1), items: make([]item, 0, len(logs))}
	for i, l := range logs {
		p.first[i] = len(p.items)
		if l.Type != hraft.LogCommand {
			// ApplyBatch also receives configuration entries.
			p.items = append(p.items, item{})
			continue
		}
		cmds, err := command.DecodeEntry(l.Data)
		if errors.Is(err, command.ErrUnsupported) {
			// Intact, and the same on every node: every node gives the
			// same answer.
			f.log.Error("unsupported log entry", logKeyIndex, l.Index, logKeyErr, err)
			p.items = append(p.items, item{res: errorResult(command.CodeRefused, "unsupported log entry: "+err.Error())})
			continue
		}
		if err != nil {
			// Damaged on this node's disk (or never valid): applying
			// anything in its place would make this node differ.
			return &batchPlan{first: make([]int, i+1)}, fmt.Errorf("log entry %d cannot be applied: %w", l.Index, err)
		}
		if command.IsGroup(l.Data) {
			if p.groups == nil {
				p.groups = make([]int, len(logs))
			}
			p.groups[i] = len(cmds)
		}
		for _, c := range cmds {
			p.items = append(p.items, item{cmd: c})
		}
	}
	p.first[len(logs)] = len(p.items)

	lastTime := f.lastTime.Load()
	var pending map[command.RequestID]int
	for i := range p.items {
		it := &p.items[i]
		cmd := it.cmd
		if cmd == nil {
			continue
		}
		lastTime = max(lastTime, cmd.TimeUnixNano)
		it.eff = lastTime
		if cmd.Kind == command.KindExecute && !cmd.RequestID.IsZero() {
			if r := f.dedup.get(cmd.RequestID); r != nil {
				it.res = r
				continue
			}
			if j, ok := pending[cmd.RequestID]; ok {
				it.dup = j + 1
				continue
			}
			if len(p.items) > 1 {
				if pending == nil {
					pending = map[command.RequestID]int{}
				}
				pending[cmd.RequestID] = i
			}
		}
		if cmd.Kind == command.KindExecute || cmd.Kind == command.KindQuery {
			it.sql = true
			p.nSQL++
		} else {
			it.res = &command.Result{}
		}
	}
	p.lastTime = lastTime
	return p, nil
}

// finish records that logs, planned as p and now committed, are applied,
// and sets their results in out. It is called with f.stateMu held and
// releases it.
func (f *FSM) finish(logs []*hraft.Log, p *batchPlan, out []any) {
	last := logs[len(logs)-1]
	f.index, f.term = last.Index, last.Term
	f.readIndex.Store(last.Index)
	f.lastTime.Store(p.lastTime)
	if f.tableWrite == nil {
		f.tableWrite = map[string]uint64{}
	}
	for t := range f.writing {
		f.tableWrite[t] = last.Index
	}
	clear(f.writing)
	for i := range p.items {
		it := &p.items[i]
		if it.cmd != nil {
			f.applied(it.cmd.RequestID)
		}
		if it.dup > 0 {
			it.res = p.items[it.dup-1].res
		} else if it.cmd != nil && it.cmd.Kind == command.KindExecute && !it.cmd.RequestID.IsZero() {
			f.dedup.put(it.cmd.RequestID, it.res)
		}
	}
	f.stateMu.Unlock()
	for i := range logs {
		if p.groups != nil && p.groups[i] > 0 {
			rs := make([]*command.Result, 0, p.groups[i])
			for j := p.first[i]; j < p.first[i+1]; j++ {
				rs = append(rs, p.items[j].res)
			}
			out[i] = rs
		} else if r := p.items[p.first[i]].res; r != nil {
			out[i] = r
		}
	}
}

// runBatch runs the SQL of items in one transaction. On success it returns
// with f.stateMu held, the transaction committed. An error is a local
// failure.
func (f *FSM) runBatch(items []item, savepoints bool) error {
	txOpen, err := f.execute(items, savepoints)
	if err != nil {
		return err
	}
	return f.commit(txOpen)
}

// execute runs the SQL of items and leaves their transaction open, if a
// statement did not end it. An error is a local failure; the transaction
// is then rolled back.
func (f *FSM) execute(items []item, savepoints bool) (txOpen bool, err error) {
	w := f.w
	defer func() {
		if err != nil && !w.autocommit() {
			w.exec("ROLLBACK")
		}
	}()
	for i := range items {
		it := &items[i]
		if !it.sql {
			continue
		}
		if !txOpen {
			if err := f.begin(items[:i], savepoints); err != nil {
				return false, err
			}
			txOpen = true
		}
		open, err := f.runCommand(it, savepoints)
		if err != nil {
			return false, err
		}
		if open {
			continue
		}
		txOpen = false
		if savepoints {
			// A statement ended the transaction (INSERT OR ROLLBACK,
			// RAISE(ROLLBACK)) and took the earlier commands of the
			// batch with it; applied alone, they would have been
			// committed already. Run them again, as they ran before.
			it.lost = true
			if err := f.begin(items[:i+1], savepoints); err != nil {
				return false, err
			}
			txOpen = true
		}
	}
	return txOpen, nil
}

// begin opens a transaction and runs again the commands of done that a
// statement rolling back the whole transaction had undone.
func (f *FSM) begin(done []item, savepoints bool) error {
	if err := f.w.exec("BEGIN"); err != nil {
		return err
	}
	for j := range done {
		if p := &done[j]; p.sql && !p.lost && p.cmd.Kind == command.KindExecute {
			open, err := f.runCommand(p, savepoints)
			if err != nil {
				return err
			}
			if !open {
				return errors.New("fsm: replaying a command lost the transaction again")
			}
		}
	}
	return nil
}

// commit commits the transaction execute left open, if any. On success it
// returns with f.stateMu held.
func (f *FSM) commit(txOpen bool) error {
	w := f.w
	f.stateMu.Lock()
	if w.ddl {
		// A read that takes its snapshot meanwhile cannot tell which
		// schema it sees (syncSchema).
		f.ddlSeq.Add(1)
		defer f.ddlSeq.Add(1)
	}
	if txOpen {
		if err := w.exec("COMMIT"); err != nil {
			f.stateMu.Unlock()
			if !w.autocommit() {
				w.exec("ROLLBACK")
			}
			return err
		}
	}
	f.noteSchema()
	return nil
}

// runCommand runs the statements of one command inside the open
// transaction and sets it.res. It reports whether the transaction is still
// open; an error is a local failure.
func (f *FSM) runCommand(it *item, savepoint bool) (open bool, err error) {
	w, cmd := f.w, it.cmd
	f.env.setTime(it.eff)
	f.env.seed(cmd.Seed)
	f.env.setLimits(w, cmd.MaxSteps, cmd.MaxValueSize)
	w.memo = nil // write functions' memo is the command's
	sqlite3.Xsqlite3_set_last_insert_rowid(w.tls, w.db, 0)
	if savepoint {
		if err := w.exec("SAVEPOINT " + cmdSavepoint); err != nil {
			return false, err
		}
	}
	res := &command.Result{Statements: make([]command.StatementResult, 0, len(cmd.Statements))}
	it.res = res
	undo := cmd.Kind == command.KindQuery
	for i, st := range cmd.Statements {
		res.Statements = append(res.Statements, command.StatementResult{})
		sr := &res.Statements[len(res.Statements)-1]
		err := f.runStatement(cmd.Kind, cmd.Seed, i, st, sr)
		if err == nil {
			continue
		}
		var se *sqliteError
		if errors.As(err, &se) {
			return false, se
		}
		var ce *command.Error
		if !errors.As(err, &ce) {
			return false, err
		}
		if ce.Code < command.CodeRefused && fatalCode(ce.Code) {
			return false, &sqliteError{code: ce.Code, msg: ce.Message}
		}
		sr.Err = ce
		undo = true
		break
	}
	if !undo && len(res.Statements) > 0 && w.deferredFKs() {
		// What COMMIT would report, checked per command so that a batch
		// behaves as commands applied one by one.
		res.Statements[len(res.Statements)-1].Err = &command.Error{Code: codeConstraint, Message: "FOREIGN KEY constraint failed"}
		undo = true
	}
	if !undo && cmd.Expect != 0 && command.ResultDigest(res.Statements) != cmd.Expect {
		// The transaction ran on a state that is not the one it is
		// applied to (an entry ahead of it failed, or was never
		// committed): what it showed its client is not what it would do.
		res.Statements = res.Statements[:1]
		res.Statements[0] = command.StatementResult{Err: &command.Error{Code: command.CodeConflict,
			Message: "could not serialize access: the transaction ran on a state that an earlier transaction's failure changed"}}
		undo = true
	}
	switch {
	case w.autocommit():
		return false, nil
	case !undo && savepoint:
		return true, w.exec("RELEASE " + cmdSavepoint)
	case !undo:
		return true, nil
	case savepoint:
		if err := w.exec("ROLLBACK TO " + cmdSavepoint); err != nil {
			return false, err
		}
		return true, w.exec("RELEASE " + cmdSavepoint)
	default:
		return false, w.exec("ROLLBACK")
	}
}

// runStatement runs statement i of a command stamped with seed on the
// write connection.
func (f *FSM) runStatement(kind command.Kind, seed uint64, i int, st command.Statement, sr *command.StatementResult) error {
	if n := f.env.valueSize; n > 0 && int64(len(st.SQL)) > n {
		// Checked here, not by SQLite's SQLITE_LIMIT_SQL_LENGTH, which
		// applies only when a statement is compiled, and the write
		// connection reuses compiled statements.
		return &command.Error{Code: sqlite3.SQLITE_TOOBIG, Message: fmt.Sprintf(
			"statement of %d bytes is longer than the limit of %d bytes (the cluster's --max-value-size)", len(st.SQL), n)}
	}
	prngMu.Lock()
	defer prngMu.Unlock()
	seedPRNG(f.w.tls, seed, i)
	defer unseedPRNG(f.w.tls)
	s, err := f.w.prepare(st.SQL, f.w.stmts)
	if err != nil || s == nil {
		var ce *command.Error
		if errors.As(err, &ce) {
			return f.w.tooBig(ce)
		}
		return err
	}
	if f.writing != nil {
		for _, t := range s.writes {
			f.writing[t] = struct{}{}
		}
		if s.ddl {
			f.writing[allTables] = struct{}{}
		}
	}
	if kind == command.KindQuery && !s.readOnly {
		return &command.Error{Code: command.CodeReadOnly, Message: "a query through the log may not write"}
	}
	// Compiling may have drawn (the unique column names of a view this
	// connection had not used since its schema was loaded), or not (a
	// statement compiled before, a view whose names are known): whether
	// it did depends on the node's history, so the statement steps from
	// the seed again, and the rowids it picks depend on the command only.
	seedPRNG(f.w.tls, seed, i)
	return f.w.run(s, st.Params, sr)
}

func errorResult(code int, msg string) *command.Result {
	return &command.Result{Statements: []command.StatementResult{{Err: &command.Error{Code: code, Message: msg}}}}
}

// noteSchema moves the schema generation on when the write connection ran
// DDL. It is called once the transaction has ended, so that a reader that
// sees the new generation finds the new schema in the file.
func (f *FSM) noteSchema() {
	if f.w.ddl {
		f.w.ddl = false
		f.schemaGen.Add(1)
	}
}

// SchemaGeneration changes whenever the database schema may have changed:
// a description of a statement made at one generation stays true while it
// does not change.
func (f *FSM) SchemaGeneration() uint64 { return f.schemaGen.Load() }

// syncAutoCheckpoint turns the automatic checkpoints (afterCommit) off
// while a snapshot is reading the database file, and back on after.
func (f *FSM) syncAutoCheckpoint() { f.autockpt = f.holds.Load() == 0 }
