package fsm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/raftsql/raftsql/fsm/command"
	"github.com/raftsql/raftsql/snapshot"
	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// backupStepPages is how many pages one sqlite3_backup_step copies, so that
// a cancelled backup stops between steps.
const backupStepPages = 4096

// BackupFile is the database as of one applied index, to be sent as a
// backup: a plain SQLite file in rollback journal mode that sqlite3 opens.
// BackupFile makes one by holding the live database file, as a Raft
// snapshot does, or else by copying it into a temporary file; BackupSQL
// makes one that only writes SQL, from a read transaction. Close releases
// it.
type BackupFile struct {
	// Header is the state it holds: Index, Term and Meta as a Raft snapshot
	// of it would carry them, Size the length of the database file.
	Header snapshot.Header

	file *os.File // the held database file or the temporary copy; nil for BackupSQL
	held *FSM     // set while file is the live database file, held
	temp bool     // file is a temporary copy, removed by Close

	// c is BackupSQL's read connection, in a read transaction of the
	// state; f.swapMu is held for reading until Close.
	c    *conn
	f    *FSM
	done bool
}

// BackupFile returns the database as of the last applied entry at the time
// of the call. It does not stop applies and never holds the database in
// memory. When no snapshot is being persisted it holds the live file the
// way Snapshot does (the WAL checkpointed into it, checkpoints suspended
// until Close; the apply path waits only for the checkpoint), so the backup
// is read straight from the file and takes no disk space; otherwise it
// copies the database, page by page through SQLite's backup API in one read
// transaction, into a temporary file next to it. While a backup holds the
// file, Raft's snapshots wait, as they wait for one another.
func (f *FSM) BackupFile(ctx context.Context) (*BackupFile, error) {
	if b, err := f.holdForBackup(); b != nil || err != nil {
		return b, err
	}
	c, err := f.acquire(ctx)
	if err != nil {
		return nil, err
	}
	name, h, err := f.backupTo(ctx, c)
	f.release(c)
	if err != nil {
		if name != "" {
			os.Remove(name)
		}
		return nil, err
	}
	file, err := os.Open(name)
	if err != nil {
		os.Remove(name)
		return nil, fmt.Errorf("fsm: backup: %w", err)
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		os.Remove(name)
		return nil, fmt.Errorf("fsm: backup: %w", err)
	}
	h.Size = st.Size()
	return &BackupFile{Header: h, file: file, temp: true}, nil
}

// holdForBackup holds the live database file, as Snapshot does, or returns
// nil when it cannot at once (a snapshot is being persisted, or readers of
// older data keep the checkpoint from completing).
func (f *FSM) holdForBackup() (*BackupFile, error) {
	f.applyMu.Lock()
	defer f.applyMu.Unlock()
	if err := f.stopped(); err != nil {
		return nil, err
	}
	if err := f.discardSpec(); err != nil {
		return nil, err
	}
	if f.holds.Load() > 0 {
		return nil, nil
	}
	if err := f.checkpoint(); err != nil {
		if f.stopped() != nil {
			return nil, err
		}
		return nil, nil
	}
	file, h, err := f.holdFile("backup")
	if err != nil {
		return nil, err
	}
	return &BackupFile{Header: h, file: file, held: f}, nil
}

// BackupSQL returns the database as of the last applied entry, for
// WriteSQL only: a read transaction on a connection of its own, which
// neither copies the file nor holds it (applies and snapshots go on). A
// restore of this node waits until Close.
func (f *FSM) BackupSQL(ctx context.Context) (*BackupFile, error) {
	if err := f.stopped(); err != nil {
		return nil, err
	}
	f.swapMu.RLock()
	c, err := openConn(f.path, "", true)
	if err == nil {
		err = c.exec("PRAGMA query_only=1")
	}
	if err != nil {
		if c != nil {
			c.close()
		}
		f.swapMu.RUnlock()
		return nil, err
	}
	b := &BackupFile{c: c, f: f}
	f.stateMu.Lock()
	err = c.exec("BEGIN")
	var row []command.Value
	if err == nil {
		row, err = c.query1("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size")
	}
	b.Header = snapshot.Header{Index: f.index, Term: f.term}
	f.stateMu.Unlock()
	if err != nil {
		b.Close()
		return nil, err
	}
	if len(row) == 1 {
		b.Header.Size = row[0].Int
	}
	return b, nil
}

// Reader returns the SQLite file from its first byte, in rollback journal
// mode. A BackupSQL has no file: its reader fails.
func (b *BackupFile) Reader() io.Reader {
	if b.file == nil {
		return iotestErrReader{errors.New("fsm: a SQL backup has no file")}
	}
	if b.held == nil || b.Header.Size < 100 {
		return io.NewSectionReader(b.file, 0, b.Header.Size)
	}
	// The live file says WAL mode in its header; the backup is one file,
	// complete without a WAL (everything was checkpointed into it).
	var hdr [100]byte
	if _, err := b.file.ReadAt(hdr[:], 0); err != nil {
		return iotestErrReader{err}
	}
	hdr[18], hdr[19] = 1, 1
	return io.MultiReader(bytes.NewReader(hdr[:]), io.NewSectionReader(b.file, 100, b.Header.Size-100))
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

// WriteSnapshot writes the file to w as a snapshot (package snapshot's
// format), which Restore installs.
func (b *BackupFile) WriteSnapshot(w io.Writer) error {
	return snapshot.Write(w, b.Header, b.Reader())
}

// Close releases the backup: a held file lets checkpoints resume (after
// the WAL gathered meanwhile is checkpointed, as a released snapshot does),
// a temporary copy is removed, a read transaction ends.
func (b *BackupFile) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	var err error
	if b.file != nil {
		err = b.file.Close()
	}
	switch {
	case b.held != nil:
		b.held.catchUp()
		b.held.holds.Add(-1)
	case b.temp:
		if rerr := os.Remove(b.file.Name()); err == nil {
			err = rerr
		}
	case b.c != nil:
		b.c.close()
		b.f.swapMu.RUnlock()
	}
	return err
}

// Backup writes a snapshot of the current state to w, in the format of
// Raft snapshots: Restore (and so raft.Restore) installs it, and its body,
// which snapshot.Extract writes out, is a plain SQLite database file. It
// does not stop applies.
func (f *FSM) Backup(ctx context.Context, w io.Writer) (snapshot.Header, error) {
	b, err := f.BackupFile(ctx)
	if err != nil {
		return snapshot.Header{}, err
	}
	defer b.Close()
	if err := b.WriteSnapshot(w); err != nil {
		return snapshot.Header{}, err
	}
	return b.Header, nil
}

// backupTo copies the database, as of one read transaction on c, into a
// new temporary file, with the header of the state it holds.
func (f *FSM) backupTo(ctx context.Context, c *conn) (string, snapshot.Header, error) {
	var h snapshot.Header
	// Apply holds stateMu from before its COMMIT until it has recorded the
	// entry's index, so the read transaction and the index match.
	f.stateMu.Lock()
	err := c.exec("BEGIN")
	if err == nil {
		_, err = c.query1("SELECT count(*) FROM sqlite_schema")
	}
	h.Index, h.Term, h.Meta = f.index, f.term, f.encodeMeta()
	f.stateMu.Unlock()
	defer func() {
		if !c.autocommit() {
			c.exec("ROLLBACK")
		}
	}()
	if err != nil {
		return "", h, err
	}
	tf, err := os.CreateTemp(filepath.Dir(f.path), filepath.Base(f.path)+".backup-*")
	if err != nil {
		return "", h, fmt.Errorf("fsm: backup: %w", err)
	}
	name := tf.Name()
	tf.Close()
	dst, err := openConn(name, "", false)
	if err != nil {
		return name, h, err
	}
	defer dst.close()
	zMain, err := libc.CString("main")
	if err != nil {
		return name, h, err
	}
	defer libc.Xfree(dst.tls, zMain)
	b := sqlite3.Xsqlite3_backup_init(dst.tls, dst.db, zMain, c.db, zMain)
	if b == 0 {
		return name, h, fmt.Errorf("fsm: backup: %w", dst.errorf(sqlite3.Xsqlite3_errcode(dst.tls, dst.db)))
	}
	var rc int32
	for {
		if ctx.Err() != nil {
			sqlite3.Xsqlite3_backup_finish(dst.tls, b)
			return name, h, ctx.Err()
		}
		// The copy writes dst's journal, whose checksum is drawn from
		// SQLite's generator (see prngMu).
		prngMu.RLock()
		rc = sqlite3.Xsqlite3_backup_step(dst.tls, b, backupStepPages)
		prngMu.RUnlock()
		if rc != sqlite3.SQLITE_OK {
			break
		}
	}
	if frc := sqlite3.Xsqlite3_backup_finish(dst.tls, b); rc == sqlite3.SQLITE_DONE {
		rc = frc
	}
	if rc != sqlite3.SQLITE_OK && rc != sqlite3.SQLITE_DONE {
		return name, h, fmt.Errorf("fsm: backup: %w", dst.errorf(rc))
	}
	// The copy carries the source's WAL mode in its header; a backup is a
	// single file, readable where nothing may be written next to it.
	if err := dst.exec("PRAGMA journal_mode=DELETE"); err != nil {
		return name, h, fmt.Errorf("fsm: backup: %w", err)
	}
	return name, h, nil
}

// RestoredAt tells the state machine the Raft index and term of the
// snapshot it was restored from at start, as Raft knows them (a snapshot
// written before restores went through the log may carry none of its own).
// The index only moves forward.
func (f *FSM) RestoredAt(index, term uint64) {
	f.stateMu.Lock()
	defer f.stateMu.Unlock()
	if index > f.index {
		f.index, f.term = index, term
	}
	f.forgetOutcomesTo(index)
}

// ---- Checking a file before it is restored --------------------------------

// ErrRefusedRestore is matched by every reason CheckRestore gives.
var ErrRefusedRestore = errors.New("refused")

// RefusedError is why CheckRestore refuses a file.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string        { return "refused: " + e.Reason }
func (e *RefusedError) Is(target error) bool { return target == ErrRefusedRestore }

func refuse(format string, args ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, args...)}
}

// CheckRestore reports why the SQLite database file at path may not become
// the state of a cluster, or nil if it may. It refuses a file that is not
// a SQLite database, that is shorter than its header says (truncated), that
// fails PRAGMA integrity_check (a corrupt page), and a schema a node would
// refuse to create (temporary objects, virtual table modules that are not
// allowed, reserved names, anything the authorizer refuses): every schema
// entry is created again on an empty database with the authorizer on.
//
// A file in WAL mode is switched to rollback journal mode in its header:
// it arrives alone, so every committed page is already in it. Apart from
// that the file is not changed. Its connections have none of the Go
// functions a state machine registers (Config.Funcs), so a schema that
// calls one fails its checks; FSM.CheckRestore checks with them.
func CheckRestore(ctx context.Context, path string) error {
	return checkRestore(ctx, path, nil)
}

// CheckRestore is the package's CheckRestore on connections that have the
// functions of this state machine's (Config.Funcs): a schema that calls
// them, as a view or trigger of a backup of a cluster may, is checked as
// a node would run it.
func (f *FSM) CheckRestore(ctx context.Context, path string) error {
	return checkRestore(ctx, path, f.funcs)
}

func checkRestore(ctx context.Context, path string, funcs []registeredFunc) error {
	file, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return err
	}
	if st.Size() == 0 {
		// sqlite3 would take it for an empty database; far more often it
		// is the wrong file, and restoring it would empty the cluster.
		return refuse("the file is empty (0 bytes); to empty the cluster, restore a backup of an empty database")
	}
	var hdr [100]byte
	if n, _ := io.ReadFull(file, hdr[:]); n < len(sqliteMagic) || !bytes.Equal(hdr[:len(sqliteMagic)], sqliteMagic) {
		return refuse("not a SQLite database: it does not begin with %q", strings.TrimRight(string(sqliteMagic), "\x00"))
	} else if n < len(hdr) {
		return refuse("truncated: %d bytes is shorter than a SQLite header", n)
	}
	pageSize := int64(binary.BigEndian.Uint16(hdr[16:]))
	if pageSize == 1 {
		pageSize = 65536
	}
	if pageSize < 512 || pageSize&(pageSize-1) != 0 {
		return refuse("not a valid SQLite database: page size %d", pageSize)
	}
	// The page count in the header is valid when the version-valid-for
	// number matches the change counter (SQLite file format, 1.3.8).
	if pages := int64(binary.BigEndian.Uint32(hdr[28:])); pages > 0 && binary.BigEndian.Uint32(hdr[92:]) == binary.BigEndian.Uint32(hdr[24:]) {
		if want := pages * pageSize; st.Size() < want {
			return refuse("truncated: %d bytes, but its header says %d pages of %d bytes (%d bytes)", st.Size(), pages, pageSize, want)
		}
	}
	if st.Size()%pageSize != 0 {
		return refuse("truncated: %d bytes is not a whole number of %d-byte pages", st.Size(), pageSize)
	}
	if hdr[18] == 2 || hdr[19] == 2 {
		if _, err := file.WriteAt([]byte{1, 1}, 18); err != nil {
			return err
		}
	}
	if err := file.Close(); err != nil {
		return err
	}

	c, err := openConn(path, "", true)
	if err != nil {
		return refuse("not a SQLite database that opens: %v", err)
	}
	defer c.close()
	if err := c.setup(funcs, nil); err != nil {
		return err
	}
	if err := checkIntegrity(ctx, c); err != nil {
		return err
	}
	return checkSchema(ctx, c, funcs)
}

// checkIntegrity runs PRAGMA integrity_check on c.
func checkIntegrity(ctx context.Context, c *conn) error {
	var problems []string
	c.internal = true
	err := c.each(ctx, "PRAGMA integrity_check(20)", func(row []command.Value) error {
		if len(row) > 0 && row[0].Text != "ok" {
			problems = append(problems, row[0].Text)
		}
		return nil
	})
	c.internal = false
	if err != nil {
		return refuse("it fails integrity_check: %v", err)
	}
	if len(problems) > 0 {
		return refuse("it fails integrity_check: %s", strings.Join(problems, "; "))
	}
	return nil
}

// internalTables are the sqlite_ tables a database may hold: SQLite makes
// them itself, they are never created by a statement.
var internalTables = map[string]bool{"sqlite_sequence": true, "sqlite_stat1": true, "sqlite_stat4": true}

// checkSchema creates every schema entry of c again on an empty in-memory
// database whose connection has the authorizer of the write connection.
func checkSchema(ctx context.Context, c *conn, funcs []registeredFunc) error {
	type entry struct{ typ, name, sql string }
	var entries []entry
	err := c.each(ctx, "SELECT type, name, sql FROM sqlite_schema ORDER BY rowid", func(row []command.Value) error {
		entries = append(entries, entry{row[0].Text, row[1].Text, row[2].Text})
		return nil
	})
	if err != nil {
		return refuse("its schema does not read: %v", err)
	}
	scratch, err := openConn(":memory:", "", false)
	if err != nil {
		return err
	}
	defer scratch.close()
	if err := scratch.setup(funcs, nil); err != nil {
		return err
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch e.typ {
		case "table", "index", "view", "trigger":
		default:
			return refuse("schema entry %q has unknown type %q", e.name, e.typ)
		}
		lname := strings.ToLower(e.name)
		if strings.HasPrefix(lname, "sqlite_") {
			if internalTables[lname] || (e.typ == "index" && strings.HasPrefix(lname, "sqlite_autoindex_") && e.sql == "") {
				continue
			}
			return refuse("schema entry %s %q uses a name reserved for SQLite", e.typ, e.name)
		}
		if e.sql == "" {
			return refuse("schema entry %s %q has no SQL", e.typ, e.name)
		}
		// The shadow tables of a virtual table exist once the virtual
		// table is created.
		if row, err := scratch.query1("SELECT count(*) FROM sqlite_schema WHERE type = '" + e.typ + "' AND name = " + quoteLiteral(e.name)); err == nil && len(row) == 1 && row[0].Int > 0 {
			continue
		}
		s, err := scratch.prepare(e.sql, nil)
		if err == nil && s == nil {
			err = errors.New("empty statement")
		}
		if err != nil {
			return refuse("schema entry %s %q is not allowed: %v", e.typ, e.name, errMessage(err))
		}
		var sr command.StatementResult
		err = scratch.run(s, nil, &sr)
		scratch.finalize(s)
		if err != nil {
			return refuse("schema entry %s %q does not load: %v", e.typ, e.name, errMessage(err))
		}
		if e.typ == "view" {
			// A view's query is checked only when it is used.
			q := "SELECT * FROM " + quoteIdent(e.name) + " LIMIT 0"
			s, err := scratch.prepare(q, nil)
			if err != nil {
				return refuse("view %q is not allowed: %v", e.name, errMessage(err))
			}
			scratch.finalize(s)
		}
	}
	return nil
}

func errMessage(err error) string {
	var ce *command.Error
	if errors.As(err, &ce) {
		return ce.Message
	}
	return err.Error()
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// each runs sql on c and calls fn with every row, one at a time, so that a
// table of any size passes through bounded memory. fn must not keep row.
func (c *conn) each(ctx context.Context, sql string, fn func(row []command.Value) error) error {
	s, err := c.prepare(sql, nil)
	if err != nil {
		return err
	}
	if s == nil {
		return nil
	}
	defer c.finalize(s)
	n := int(sqlite3.Xsqlite3_column_count(c.tls, s.p))
	for i := 0; ; i++ {
		if i%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rc := sqlite3.Xsqlite3_step(c.tls, s.p)
		switch rc {
		case sqlite3.SQLITE_ROW:
			if err := fn(c.row(s, n)); err != nil {
				return err
			}
			continue
		case sqlite3.SQLITE_DONE:
			return nil
		}
		return c.errorf(rc)
	}
}

// ---- SQL dump ------------------------------------------------------------

// dumpBatchRows and dumpBatchBytes bound the rows of one transaction of a
// SQL dump, so that loading it through a cluster makes log entries of a
// sensible size.
const (
	dumpBatchRows  = 1000
	dumpBatchBytes = 4 << 20
)

// WriteSQL writes the state as SQL text that sqlite3 loads into an empty
// database, and that a raftsql cluster loads through psql when there are no
// triggers (WritePsqlSQL writes them as psql needs): the tables
// (virtual tables with their module, not their shadow tables), then their
// rows in rowid order in transactions of bounded size, parent tables of
// foreign keys before their children, then sqlite_sequence, then indexes,
// views and triggers (so triggers do not fire while rows load). It uses no
// PRAGMA and nothing else a node refuses. Generated columns are computed
// again on load; a table's rowids are not kept, only their order, as with
// sqlite3's .dump.
//
// It works on a BackupSQL and on a temporary copy, not on a held live file
// (a connection opened on it now would see later entries).
func (b *BackupFile) WriteSQL(ctx context.Context, w io.Writer) error {
	return b.writeSQL(ctx, w, false)
}

// WritePsqlSQL writes what WriteSQL writes, for psql -f: psql splits its
// input at every semicolon outside quotes, trigger bodies included, so the
// semicolons inside a trigger are written as psql's \; and psql sends each
// trigger whole. sqlite3 does not read that form.
func (b *BackupFile) WritePsqlSQL(ctx context.Context, w io.Writer) error {
	return b.writeSQL(ctx, w, true)
}

func (b *BackupFile) writeSQL(ctx context.Context, w io.Writer, psql bool) error {
	c := b.c
	switch {
	case c != nil:
		// In its read transaction already.
		gen := c.gen.Load()
		stop := context.AfterFunc(ctx, func() { c.interrupt(gen) })
		defer stop()
	case b.temp:
		var err error
		if c, err = openConn(b.file.Name(), "", true); err != nil {
			return err
		}
		defer c.close()
		if err := c.exec("BEGIN"); err != nil {
			return err
		}
		defer c.exec("ROLLBACK")
	default:
		return errors.New("fsm: WriteSQL needs a BackupSQL or a copy")
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	if err := writeSQL(ctx, c, bw, b.Header, psql); err != nil {
		return err
	}
	return bw.Flush()
}

type dumpTable struct {
	name, sql string
	kind      string // table, virtual
	cols      []string
	parents   []string
}

// writeSQL writes the dump from c, which is in a read transaction.
func writeSQL(ctx context.Context, c *conn, w *bufio.Writer, h snapshot.Header, psql bool) error {
	// The connection is read-only and runs statements of this file's own
	// making; virtual tables (fts5) run PRAGMAs of their own to read.
	c.internal = true
	defer func() { c.internal = false }()
	fmt.Fprintf(w, "-- raftsql SQL dump of the state at index %d (term %d)\n", h.Index, h.Term)

	kinds := map[string]string{}
	err := c.each(ctx, "SELECT name, type FROM pragma_table_list WHERE schema = 'main'", func(row []command.Value) error {
		kinds[row[0].Text] = row[1].Text
		return nil
	})
	if err != nil {
		return err
	}
	type obj struct{ typ, name, sql string }
	var tables []*dumpTable
	var later []obj
	hasSequence := false
	err = c.each(ctx, "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY rowid", func(row []command.Value) error {
		typ, name, sql := row[0].Text, row[1].Text, row[2].Text
		if strings.HasPrefix(strings.ToLower(name), "sqlite_") {
			hasSequence = hasSequence || strings.EqualFold(name, "sqlite_sequence")
			return nil
		}
		if typ != "table" {
			later = append(later, obj{typ, name, sql})
			return nil
		}
		switch k := kinds[name]; k {
		case "shadow":
			return nil
		case "virtual":
			tables = append(tables, &dumpTable{name: name, sql: sql, kind: k})
		default:
			tables = append(tables, &dumpTable{name: name, sql: sql, kind: "table"})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, t := range tables {
		w.WriteString(t.sql)
		w.WriteString(";\n")
		q := "SELECT name, hidden FROM pragma_table_xinfo(" + quoteLiteral(t.name) + ") ORDER BY cid"
		if err := c.each(ctx, q, func(row []command.Value) error {
			if row[1].Int == 0 { // 1: hidden column of a virtual table; 2, 3: generated
				t.cols = append(t.cols, row[0].Text)
			}
			return nil
		}); err != nil {
			return err
		}
		if t.kind == "table" {
			q := "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(" + quoteLiteral(t.name) + ")"
			if err := c.each(ctx, q, func(row []command.Value) error {
				t.parents = append(t.parents, row[0].Text)
				return nil
			}); err != nil {
				return err
			}
		}
	}
	for _, t := range parentsFirst(tables) {
		if err := dumpRows(ctx, c, w, t); err != nil {
			return err
		}
	}
	if hasSequence {
		w.WriteString("BEGIN;\nDELETE FROM sqlite_sequence;\n")
		if err := c.each(ctx, "SELECT name, seq FROM sqlite_sequence ORDER BY rowid", func(row []command.Value) error {
			fmt.Fprintf(w, "INSERT INTO sqlite_sequence(name, seq) VALUES(%s, %s);\n", sqlLiteral(row[0]), sqlLiteral(row[1]))
			return nil
		}); err != nil {
			return err
		}
		w.WriteString("COMMIT;\n")
	}
	for _, o := range later {
		if psql && o.typ == "trigger" {
			w.WriteString(psqlEscapeSemicolons(o.sql))
		} else {
			w.WriteString(o.sql)
		}
		w.WriteString(";\n")
	}
	return nil
}

// psqlEscapeSemicolons writes every semicolon of sql that psql would take
// for the end of a statement (outside '...' and "..." and comments, as
// psql's lexer sees them) as \;, which psql sends as a plain semicolon.
func psqlEscapeSemicolons(sql string) string {
	var b strings.Builder
	for i := 0; i < len(sql); i++ {
		switch ch := sql[i]; {
		case ch == '\'' || ch == '"':
			j := i + 1
			for j < len(sql) {
				if sql[j] == ch {
					if j+1 < len(sql) && sql[j+1] == ch {
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(sql))
			b.WriteString(sql[i:end])
			i = end - 1
		case ch == '-' && strings.HasPrefix(sql[i:], "--"):
			end := strings.IndexByte(sql[i:], '\n')
			if end < 0 {
				end = len(sql) - i
			}
			b.WriteString(sql[i : i+end])
			i += end - 1
		case ch == '/' && strings.HasPrefix(sql[i:], "/*"):
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				end = len(sql) - i
			} else {
				end += 4
			}
			b.WriteString(sql[i : i+end])
			i += end - 1
		case ch == ';':
			b.WriteString("\\;")
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// parentsFirst orders tables so that the parents of a table's foreign keys
// come before it, where the references allow (a cycle keeps schema order).
func parentsFirst(tables []*dumpTable) []*dumpTable {
	byName := map[string]*dumpTable{}
	for _, t := range tables {
		byName[strings.ToLower(t.name)] = t
	}
	state := map[*dumpTable]int{} // 1 visiting, 2 done
	var out []*dumpTable
	var visit func(t *dumpTable)
	visit = func(t *dumpTable) {
		if state[t] != 0 {
			return
		}
		state[t] = 1
		parents := append([]string(nil), t.parents...)
		sort.Strings(parents)
		for _, p := range parents {
			if pt := byName[strings.ToLower(p)]; pt != nil && pt != t {
				visit(pt)
			}
		}
		state[t] = 2
		out = append(out, t)
	}
	for _, t := range tables {
		visit(t)
	}
	return out
}

func dumpRows(ctx context.Context, c *conn, w *bufio.Writer, t *dumpTable) error {
	if len(t.cols) == 0 {
		return nil
	}
	cols := make([]string, len(t.cols))
	for i, col := range t.cols {
		cols[i] = quoteIdent(col)
	}
	list := strings.Join(cols, ", ")
	prefix := "INSERT INTO " + quoteIdent(t.name) + "(" + list + ") VALUES("
	rows, size := 0, 0
	fn := func(row []command.Value) error {
		if rows == 0 {
			w.WriteString("BEGIN;\n")
		}
		w.WriteString(prefix)
		size += len(prefix)
		for i, v := range row {
			if i > 0 {
				w.WriteString(", ")
			}
			lit := sqlLiteral(v)
			size += len(lit)
			w.WriteString(lit)
		}
		w.WriteString(");\n")
		rows++
		if rows >= dumpBatchRows || size >= dumpBatchBytes {
			w.WriteString("COMMIT;\n")
			rows, size = 0, 0
		}
		return nil
	}
	sel := "SELECT " + list + " FROM " + quoteIdent(t.name)
	err := c.each(ctx, sel+" ORDER BY _rowid_", fn)
	if err != nil && rows == 0 && size == 0 {
		// WITHOUT ROWID tables are read in primary key order.
		var se *sqliteError
		var ce *command.Error
		if errors.As(err, &se) || errors.As(err, &ce) {
			err = c.each(ctx, sel, fn)
		}
	}
	if err != nil {
		return err
	}
	if rows > 0 {
		w.WriteString("COMMIT;\n")
	}
	return nil
}

// sqlLiteral writes v as a SQL literal that reads back as exactly v, with
// its storage class, in SQLite and through the Postgres front end.
func sqlLiteral(v command.Value) string {
	switch v.Type {
	case command.TypeInteger:
		return strconv.FormatInt(v.Int, 10)
	case command.TypeFloat:
		switch {
		case math.IsInf(v.Float, 1):
			return "9e999"
		case math.IsInf(v.Float, -1):
			return "-9e999"
		case math.IsNaN(v.Float):
			return "NULL"
		}
		s := strconv.FormatFloat(v.Float, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		return s
	case command.TypeText:
		return quoteLiteral(v.Text)
	case command.TypeBlob:
		return "X'" + hex.EncodeToString(v.Blob) + "'"
	}
	return "NULL"
}
