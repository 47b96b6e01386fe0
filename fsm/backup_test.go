package fsm

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/raftsql/raftsql/fsm/command"
	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// complete reports whether s ends a whole SQL statement (sqlite3_complete).
func complete(s string) bool {
	tls := libc.NewTLS()
	defer tls.Close()
	z, err := libc.CString(s)
	if err != nil {
		panic(err)
	}
	defer libc.Xfree(tls, z)
	return sqlite3.Xsqlite3_complete(tls, z) != 0
}

// backupDB writes f's state as a plain SQLite file and returns its path.
func backupDB(t testing.TB, f *FSM) string {
	t.Helper()
	b, err := f.BackupFile(context.Background())
	if err != nil {
		t.Fatalf("BackupFile: %v", err)
	}
	defer b.Close()
	path := filepath.Join(t.TempDir(), "backup.db")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, b.Reader()); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// restoreFile installs a plain SQLite file into g as a restore would:
// checked, then applied as restore entries after g's last entry.
func restoreFile(t testing.TB, g *FSM, path string) {
	t.Helper()
	if err := CheckRestore(context.Background(), path); err != nil {
		t.Fatalf("CheckRestore: %v", err)
	}
	index, _ := g.AppliedIndex()
	for _, l := range restoreLogs(t, path, 0xabc, index+1, 64<<10) {
		if r, ok := g.Apply(l).(*command.Result); !ok || r.Err() != nil {
			t.Fatalf("restore entry %d: %v", l.Index, g.Apply(l))
		}
	}
}

const richSchema = `CREATE TABLE parent(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE);
CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), v ANY, g INTEGER GENERATED ALWAYS AS (id * 2) VIRTUAL);
CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;
CREATE TABLE plain(a, b);
CREATE INDEX child_v ON child(v);
CREATE VIEW names AS SELECT name FROM parent;
CREATE TRIGGER plain_ins AFTER INSERT ON plain BEGIN UPDATE kv SET v = NEW.a WHERE k = 'last'; END;
CREATE VIRTUAL TABLE docs USING fts5(body);`

func loadRich(t testing.TB, a *applier) {
	t.Helper()
	for _, s := range strings.Split(richSchema, ";\n") {
		a.mustExec(t, strings.TrimSuffix(s, ";"))
	}
	a.mustExec(t,
		"INSERT INTO parent(name) VALUES ('a'), ('b'), ('it''s'), ('line\nbreak')",
		"DELETE FROM parent WHERE name = 'b'",
		"INSERT INTO child(id, parent_id, v) VALUES (1, 1, 1.5), (2, 3, x'00ff10'), (3, NULL, 'text'), (4, 1, 42), (5, 1, NULL), (6, 1, 1e300), (7, 1, -0.0), (8, 1, 3.0)",
		"INSERT INTO kv VALUES ('last', NULL), ('b', x'')",
		"INSERT INTO plain VALUES (1, 2), (3, 4)",
		"DELETE FROM plain WHERE a = 1",
		"INSERT INTO plain VALUES (5, 6)",
	)
	// Rows of the fts5 table are left out: inserting into one runs PRAGMA
	// data_version, which the authorizer refuses today.
}

func TestBackupFileIsAPlainSQLiteFile(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	loadRich(t, a)
	path := backupDB(t, f)
	head := make([]byte, 20)
	file, _ := os.Open(path)
	file.Read(head)
	file.Close()
	if head[18] != 1 || head[19] != 1 {
		t.Errorf("backup file header says WAL mode (%d, %d), want rollback journal", head[18], head[19])
	}
	if out, err := exec.Command("sqlite3", path, "PRAGMA integrity_check").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("sqlite3 integrity_check: %v %s", err, out)
	}
	g := openTest(t)
	restoreFile(t, g, path)
	if d, e := dump(t, g), dump(t, f); d != e {
		t.Fatalf("restored state differs:\n--- restored\n%s\n--- source\n%s", d, e)
	}
	// A restore keeps the last effective time of the state it replaces.
	before := f.LastTime()
	restoreFile(t, f, path)
	if f.LastTime() != before {
		t.Errorf("restore kept last time %d, want %d", f.LastTime(), before)
	}
}

func TestWriteSQLLoadsIntoSQLite3AndAnFSM(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	loadRich(t, a)
	b, err := f.BackupSQL(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var sql bytes.Buffer
	if err := b.WriteSQL(context.Background(), &sql); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToUpper(sql.String()), "PRAGMA") {
		t.Fatalf("dump uses a PRAGMA, which a node refuses:\n%s", sql.String())
	}
	// sqlite3 loads it.
	dbPath := filepath.Join(t.TempDir(), "loaded.db")
	cmd := exec.Command("sqlite3", "-bail", dbPath)
	cmd.Stdin = bytes.NewReader(sql.Bytes())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sqlite3 load: %v %s\n%s", err, out, sql.String())
	}
	g := openTest(t)
	restoreFile(t, g, dbPath)
	if d, e := dump(t, g), dump(t, f); d != e {
		t.Fatalf("state loaded by sqlite3 differs:\n--- loaded\n%s\n--- source\n%s\n--- dump\n%s", d, e, sql.String())
	}
	// The state machine loads it too, statement by statement as a client
	// would send them (transaction control stripped: the server handles it).
	h := openTest(t)
	ha := &applier{f: h}
	for _, st := range splitSQL(sql.String()) {
		if st == "BEGIN" || st == "COMMIT" {
			continue
		}
		ha.mustExec(t, st)
	}
	if d, e := dump(t, h), dump(t, f); d != e {
		t.Fatalf("state loaded statement by statement differs:\n--- loaded\n%s\n--- source\n%s", d, e)
	}
}

// splitSQL splits a dump at the semicolons that end its lines.
func splitSQL(s string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.HasPrefix(line, "--") && cur.Len() == 0 {
			continue
		}
		cur.WriteString(line)
		if strings.HasSuffix(line, ";\n") && complete(cur.String()) {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	return out
}

func TestCheckRestoreRefuses(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(v)", "INSERT INTO t VALUES (randomblob(20000)), (randomblob(20000))")
	good := backupDB(t, f)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sqlite3DB := func(name, script string) string {
		p := filepath.Join(t.TempDir(), name)
		cmd := exec.Command("sqlite3", p)
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sqlite3: %v %s", err, out)
		}
		return p
	}
	corrupt := bytes.Clone(data)
	// The last page holds row data: scribble over its cell pointers.
	pageSize := 4096
	last := len(corrupt) - pageSize
	for i := last; i < last+64; i++ {
		corrupt[i] = 0xa5
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"text file", write("notes.txt", []byte("this is not a database\n")), "not a SQLite database"},
		{"empty", write("empty.db", nil), "the file is empty"},
		{"truncated", write("trunc.db", data[:len(data)-pageSize-100]), "truncated"},
		{"truncated whole pages", write("trunc2.db", data[:len(data)-pageSize]), "truncated"},
		{"corrupt page", write("corrupt.db", corrupt), "integrity_check"},
		{"virtual table module", sqlite3DB("vt.db", "CREATE VIRTUAL TABLE s USING dbstat;"), "not allowed"},
		{"reserved name", sqlite3DB("rsv.db", "PRAGMA writable_schema=ON; CREATE TABLE x(a); UPDATE sqlite_schema SET name='sqlite_x', tbl_name='sqlite_x', sql='CREATE TABLE sqlite_x(a)' WHERE name='x';"), "reserved"},
		{"temp object in schema", sqlite3DB("tmp.db", "PRAGMA writable_schema=ON; CREATE TABLE x(a); UPDATE sqlite_schema SET sql='CREATE TEMP TABLE x(a)' WHERE name='x';"), "not allowed"},
		{"view with a refused function", sqlite3DB("view.db", "CREATE VIEW v AS SELECT total_changes();"), "not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckRestore(context.Background(), tc.path)
			if err == nil || !errors.Is(err, ErrRefusedRestore) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckRestore: got %v, want a refusal saying %q", err, tc.want)
			}
			t.Log(err)
		})
	}
	if err := CheckRestore(context.Background(), good); err != nil {
		t.Fatalf("CheckRestore of a good backup: %v", err)
	}
}

// FuzzCheckRestore hands CheckRestore arbitrary files, most of them a
// valid database with bytes changed: it must return, never panic, and a
// file it accepts must open and dump.
func FuzzCheckRestore(f *testing.F) {
	src := openTest(f)
	a := &applier{f: src}
	a.mustExec(f, "CREATE TABLE t(id INTEGER PRIMARY KEY, v)", "CREATE INDEX tv ON t(v)", "INSERT INTO t(v) VALUES (1), ('x'), (x'00'), (randomblob(3000))")
	good, err := os.ReadFile(backupDB(f, src))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, uint32(0), byte(0))
	f.Add(good, uint32(100), byte(0xff))
	f.Add(good, uint32(4096+8), byte(1))
	f.Add(good[:1000], uint32(0), byte(0))
	f.Add([]byte("SQLite format 3\x00"), uint32(0), byte(0))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, at uint32, x byte) {
		data = bytes.Clone(data)
		if len(data) > 0 {
			data[int(at)%len(data)] ^= x
		}
		path := filepath.Join(dir, "fuzz.db")
		os.Remove(path + "-journal")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := CheckRestore(context.Background(), path); err != nil {
			if !errors.Is(err, ErrRefusedRestore) {
				t.Fatalf("CheckRestore failed without saying why the file is refused: %v", err)
			}
			return
		}
		c, err := openConn(path, "", true)
		if err != nil {
			t.Fatalf("an accepted file does not open: %v", err)
		}
		defer c.close()
		if _, err := c.query1("SELECT count(*) FROM sqlite_schema"); err != nil {
			t.Fatalf("an accepted file does not read: %v", err)
		}
	})
}

// A backup taken while entries are applied holds exactly the entries up to
// the index it reports.
func TestBackupFileIsConsistentUnderWrites(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	a.mustExec(t, "CREATE TABLE t(i INTEGER PRIMARY KEY, pad BLOB)")
	base := a.index
	insert := func() {
		a.mustExec(t, "INSERT INTO t(i, pad) VALUES ("+strconv.FormatUint(a.index+1, 10)+", randomblob(20000))")
	}
	// Rows enough that a backup takes several steps.
	for range 250 {
		insert()
	}
	type seen struct{ index, n, lo, hi, appliedAfter uint64 }
	dir := t.TempDir()
	results := make(chan seen, 20)
	errs := make(chan error, 1)
	go func() {
		defer close(results)
		for range 5 {
			b, err := f.BackupFile(context.Background())
			if err != nil {
				errs <- err
				return
			}
			after, _ := f.AppliedIndex()
			// Read the backup as it is sent, while entries go on.
			path := filepath.Join(dir, "b.db")
			out, err := os.Create(path)
			if err == nil {
				_, err = io.Copy(out, b.Reader())
				out.Close()
			}
			b.Close()
			if err != nil {
				errs <- err
				return
			}
			c, err := openConn(path, "", true)
			if err != nil {
				errs <- err
				return
			}
			row, err := c.query1("SELECT count(*), min(i), max(i) FROM t")
			c.close()
			if err != nil {
				errs <- err
				return
			}
			results <- seen{b.Header.Index, uint64(row[0].Int), uint64(row[1].Int), uint64(row[2].Int), after}
		}
	}()
	var all []seen
	for running := true; running; {
		select {
		case r, ok := <-results:
			if !ok {
				running = false
				break
			}
			all = append(all, r)
		default:
			insert()
		}
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	overlapped := 0
	for _, r := range all {
		if r.hi != r.index || r.lo != base+1 || r.n != r.index-base {
			t.Fatalf("backup at index %d holds rows %d..%d (%d rows); want %d..%d", r.index, r.lo, r.hi, r.n, base+1, r.index)
		}
		if r.appliedAfter > r.index {
			overlapped++
		}
	}
	t.Logf("%d backups, %d with entries applied while they ran", len(all), overlapped)
}

// A backup holds the live file when it can, and copies it while a snapshot
// is being persisted; both are the same plain SQLite file of the state.
func TestBackupFileHoldsOrCopies(t *testing.T) {
	f := openTest(t)
	a := &applier{f: f}
	loadRich(t, a)
	want := dump(t, f)

	held, err := f.BackupFile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if held.held == nil {
		t.Fatal("with no snapshot in progress, the backup copied the file instead of holding it")
	}
	// Raft's snapshot waits for the backup, as for another snapshot.
	if _, err := f.Snapshot(); err == nil {
		t.Fatal("a snapshot was taken while a backup held the file")
	}
	a.mustExec(t, "INSERT INTO plain VALUES ('after', 'the backup began')")
	heldPath := filepath.Join(t.TempDir(), "held.db")
	out, _ := os.Create(heldPath)
	io.Copy(out, held.Reader())
	out.Close()
	held.Close()

	s, err := f.Snapshot()
	if err != nil {
		t.Fatalf("a snapshot after the backup: %v", err)
	}
	copied, err := f.BackupFile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !copied.temp {
		t.Fatal("while a snapshot is persisted, the backup did not copy the file")
	}
	var sql bytes.Buffer
	if err := copied.WriteSQL(context.Background(), &sql); err != nil {
		t.Fatalf("WriteSQL of a copy: %v", err)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	out, _ = os.Create(copyPath)
	io.Copy(out, copied.Reader())
	out.Close()
	copied.Close()
	s.Release()
	if _, err := os.Stat(copied.file.Name()); !os.IsNotExist(err) {
		t.Fatalf("the temporary copy is still there: %v", err)
	}

	for _, p := range []string{heldPath, copyPath} {
		if out, err := exec.Command("sqlite3", p, "PRAGMA integrity_check").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "ok" {
			t.Fatalf("sqlite3 integrity_check of %s: %v %s", filepath.Base(p), err, out)
		}
	}
	g := openTest(t)
	restoreFile(t, g, heldPath)
	if got := dump(t, g); got != want {
		t.Fatalf("the held backup holds an entry applied after it began:\n%s", got)
	}
	restoreFile(t, g, copyPath)
	if got, now := dump(t, g), dump(t, f); got != now {
		t.Fatalf("the copied backup differs from the state")
	}
}

func TestPsqlEscapeSemicolons(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO l VALUES (1); END", `CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO l VALUES (1)\; END`},
		{"BEGIN SELECT 'a;b'; SELECT \"c;\"\"d\"; END", `BEGIN SELECT 'a;b'\; SELECT "c;""d"\; END`},
		{"BEGIN SELECT 'it''s;'; -- x;y\nSELECT [p;q]; /* ; */ END", "BEGIN SELECT 'it''s;'\\; -- x;y\nSELECT [p\\;q]\\; /* ; */ END"},
		{"unterminated 'quote;", "unterminated 'quote;"},
	} {
		if got := psqlEscapeSemicolons(tc.in); got != tc.want {
			t.Errorf("psqlEscapeSemicolons(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
