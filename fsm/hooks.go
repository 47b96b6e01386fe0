package fsm

import (
	"fmt"
	"strings"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// ---- Authorizer ----------------------------------------------------------

// pragmaIntrospect are PRAGMAs that only describe the schema; their argument
// names an object, never sets a value.
var pragmaIntrospect = map[string]bool{
	"table_info": true, "table_xinfo": true, "table_list": true,
	"index_list": true, "index_info": true, "index_xinfo": true,
	"foreign_key_list": true, "foreign_key_check": true,
	"integrity_check": true, "quick_check": true,
	"collation_list": true, "function_list": true, "module_list": true,
	"pragma_list": true, "compile_options": true,
}

// pragmaRead are settings that may be read (without a value), never set.
var pragmaRead = map[string]bool{
	"application_id": true, "auto_vacuum": true, "automatic_index": true,
	"busy_timeout": true, "cache_size": true, "cache_spill": true,
	"cell_size_check": true, "defer_foreign_keys": true, "encoding": true,
	"foreign_keys": true, "freelist_count": true, "ignore_check_constraints": true,
	"journal_mode": true, "journal_size_limit": true, "legacy_alter_table": true,
	"locking_mode": true, "max_page_count": true, "page_count": true,
	"page_size": true, "query_only": true, "recursive_triggers": true,
	"reverse_unordered_selects": true, "schema_version": true,
	"secure_delete": true, "synchronous": true, "temp_store": true,
	"trusted_schema": true, "user_version": true, "wal_autocheckpoint": true,
}

// pragmaSet are settings a command may change: they are stored in the
// database file, inside the transaction, the same on every node.
var pragmaSet = map[string]bool{"user_version": true}

// deniedFunctions depend on the history of the connection or on the
// node's file layout, or reach outside the database.
var deniedFunctions = map[string]string{
	"load_extension": "load_extension() is not allowed",
	"total_changes":  "total_changes() depends on the connection's history and is not allowed",
	"changes":        "changes() depends on the connection's history and is not allowed",
	"sqlite_offset":  "sqlite_offset() depends on the node's file layout and is not allowed",
}

// buildDependent describe the SQLite build of the node: reads may ask for
// them, a write may not store them, since nodes of one cluster may run
// different builds during an upgrade.
var buildDependent = map[string]bool{
	"sqlite_version": true, "sqlite_source_id": true,
	"sqlite_compileoption_used": true, "sqlite_compileoption_get": true,
	// PRAGMAs, also as table-valued functions (pragma_compile_options).
	"compile_options": true, "function_list": true, "module_list": true, "pragma_list": true,
}

// layoutDependent PRAGMAs describe the node's database file rather than
// its data: reads may ask for them, a write may not store them. The pages
// a database has and how many are free depend on where each node's
// transactions ended (with auto_vacuum, which a restored file may have,
// pages are given back at each commit), and Raft hands each node its
// entries in batches of its own.
// The dbstat virtual table (the pages of each table and index: Postgres'
// relation sizes) is one too.
var layoutDependent = map[string]bool{"page_count": true, "freelist_count": true}

// nodeDependent says why a write may not use the PRAGMA or function name,
// or "".
func nodeDependent(name string, pragma bool) string {
	switch {
	case buildDependent[name] && pragma:
		return fmt.Sprintf("PRAGMA %s depends on the node's SQLite build and is not allowed in a write", name)
	case buildDependent[name]:
		return name + "() depends on the node's SQLite build and is not allowed in a write"
	case layoutDependent[name] && pragma:
		return fmt.Sprintf("PRAGMA %s depends on the node's file layout and is not allowed in a write", name)
	case name == "dbstat" && !pragma:
		return "dbstat depends on the node's file layout and is not allowed in a write"
	}
	return ""
}

// nodeDependentUse applies nodeDependent's rule: on a write connection the
// use is refused; while classifying, the reason is kept, so that Classify
// refuses a statement that writes before it is proposed.
func (c *conn) nodeDependentUse(name string, pragma bool) string {
	why := nodeDependent(name, pragma)
	if why == "" {
		return ""
	}
	if c.write {
		return why
	}
	if c.classify && c.prepNodeDep == "" {
		c.prepNodeDep = why
	}
	return ""
}

// allowedModules are the virtual table modules CREATE VIRTUAL TABLE may use.
var allowedModules = map[string]bool{
	"fts3": true, "fts4": true, "fts5": true, "rtree": true, "rtree_i32": true, "geopoly": true,
}

// statsTables hold the statistics the query planner reads.
var statsTables = map[string]bool{"sqlite_stat1": true, "sqlite_stat4": true}

// deniedTables expose the node's file layout.
var deniedTables = map[string]bool{"sqlite_dbpage": true}

func authorizerTrampoline(tls *libc.TLS, id uintptr, action int32, z1, z2, z3, z4 uintptr) int32 {
	connsMu.RLock()
	c := connsByID[id]
	connsMu.RUnlock()
	if c == nil {
		return sqlite3.SQLITE_DENY
	}
	reason := c.authorize(action, z1, z2, z3)
	if reason == "" {
		return sqlite3.SQLITE_OK
	}
	if c.refused == "" {
		c.refused = reason
	}
	return sqlite3.SQLITE_DENY
}

// addTable adds t to the set ts, kept as a short list: the authorizer
// reports a table once per column a statement reads.
func addTable(ts []string, t string) []string {
	for _, x := range ts {
		if x == t {
			return ts
		}
	}
	return append(ts, t)
}

func gostr(p uintptr) string {
	if p == 0 {
		return ""
	}
	return libc.GoString(p)
}

// authorize returns why an action is refused, or "" to allow it. The
// arguments mean what SQLite's documentation of each action code says: z1
// and z2 name the object (for SQLITE_ALTER_TABLE, the database and the
// table), z3 the database for the actions that have one.
func (c *conn) authorize(action int32, z1, z2, z3 uintptr) string {
	switch action {
	case sqlite3.SQLITE_CREATE_INDEX, sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_CREATE_TRIGGER,
		sqlite3.SQLITE_CREATE_VIEW, sqlite3.SQLITE_DROP_INDEX, sqlite3.SQLITE_DROP_TABLE,
		sqlite3.SQLITE_DROP_TRIGGER, sqlite3.SQLITE_DROP_VIEW, sqlite3.SQLITE_ALTER_TABLE,
		sqlite3.SQLITE_CREATE_VTABLE, sqlite3.SQLITE_DROP_VTABLE,
		// New statistics change the plans SQLite compiles.
		sqlite3.SQLITE_ANALYZE, sqlite3.SQLITE_REINDEX:
		c.prepDDL = true
		if c.write && !c.classify {
			c.ddl = true
		}
	case sqlite3.SQLITE_SAVEPOINT:
		c.prepSP = true
	}
	// The statements SQLite's own modules (FTS3/4/5, R*Tree) compile for
	// themselves are the connection's own, wherever the statement that
	// uses them runs: a statement's outcome must not depend on when a
	// module happened to compile them.
	if c.setupSQL {
		return ""
	}
	internal := c.internal || c.moduleStatement()
	switch action {
	case sqlite3.SQLITE_ATTACH:
		return "ATTACH is not allowed"
	case sqlite3.SQLITE_DETACH:
		return "DETACH is not allowed"
	case sqlite3.SQLITE_CREATE_TEMP_TABLE, sqlite3.SQLITE_CREATE_TEMP_INDEX,
		sqlite3.SQLITE_CREATE_TEMP_TRIGGER, sqlite3.SQLITE_CREATE_TEMP_VIEW,
		sqlite3.SQLITE_DROP_TEMP_TABLE, sqlite3.SQLITE_DROP_TEMP_INDEX,
		sqlite3.SQLITE_DROP_TEMP_TRIGGER, sqlite3.SQLITE_DROP_TEMP_VIEW:
		return "temporary tables, indexes, views and triggers are not allowed: they would live on one connection of one node"
	case sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT:
		if internal {
			return ""
		}
		if action == sqlite3.SQLITE_SAVEPOINT && c.write && !c.classify {
			// A transaction block's savepoints run inside the entry's own
			// transaction, nested in it; the names the state machine uses
			// for itself are out of reach.
			if strings.HasPrefix(strings.ToLower(gostr(z2)), reservedSavepointPrefix) {
				return "savepoint names starting with " + reservedSavepointPrefix + " are reserved"
			}
			return ""
		}
		verb := strings.ToUpper(gostr(z1))
		if action == sqlite3.SQLITE_SAVEPOINT {
			switch verb {
			case "BEGIN":
				verb = "SAVEPOINT"
			case "ROLLBACK":
				verb = "ROLLBACK TO"
			}
		}
		if c.classify {
			c.txVerb = verb
			return ""
		}
		return verb + " is not allowed inside a command: transactions are handled by the server"
	case sqlite3.SQLITE_PRAGMA:
		if internal {
			return ""
		}
		name := strings.ToLower(gostr(z1))
		if why := c.nodeDependentUse(name, true); why != "" {
			return why
		}
		switch {
		case pragmaIntrospect[name]:
			return ""
		case z2 == 0 && pragmaRead[name]:
			return ""
		case z2 != 0 && pragmaSet[name]:
			return ""
		case z2 != 0 && pragmaRead[name]:
			return fmt.Sprintf("PRAGMA %s may be read but not set", name)
		}
		return fmt.Sprintf("PRAGMA %s is not allowed", name)
	case sqlite3.SQLITE_FUNCTION:
		fn := strings.ToLower(gostr(z2))
		if c.writeFuncs[fn] {
			c.prepWriteFunc = true
		}
		if why, ok := deniedFunctions[fn]; ok {
			return why
		}
		if v := c.funcSince[fn]; v > c.prepFuncSince {
			c.prepFuncSince, c.prepFunc = v, fn
		}
		if !internal {
			if why := c.nodeDependentUse(fn, false); why != "" {
				return why
			}
		}
	case sqlite3.SQLITE_CREATE_VTABLE, sqlite3.SQLITE_DROP_VTABLE:
		if m := strings.ToLower(gostr(z2)); !allowedModules[m] {
			return fmt.Sprintf("virtual tables of module %q are not allowed", m)
		}
	case sqlite3.SQLITE_READ, sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE:
		t := strings.ToLower(gostr(z1))
		if action == sqlite3.SQLITE_READ {
			c.prepReads = addTable(c.prepReads, t)
		} else {
			c.prepWrites = addTable(c.prepWrites, t)
		}
		if deniedTables[t] {
			return fmt.Sprintf("%s depends on the node's file layout and is not allowed", t)
		}
		if t == "dbstat" {
			if why := c.nodeDependentUse(t, false); why != "" {
				return why
			}
		}
		if action != sqlite3.SQLITE_READ && statsTables[t] {
			// New statistics change the plans SQLite compiles, as ANALYZE's.
			c.prepStats, c.prepDDL = true, true
			if c.write && !c.classify {
				c.ddl = true
			}
		}
		// PRAGMA table-valued functions (pragma_table_info, ...) follow
		// the rules of the PRAGMA statements.
		if name, ok := strings.CutPrefix(t, "pragma_"); ok && !pragmaIntrospect[name] && !pragmaRead[name] {
			return fmt.Sprintf("PRAGMA %s is not allowed", name)
		} else if ok {
			if why := c.nodeDependentUse(name, true); why != "" {
				return why
			}
		}
		if action == sqlite3.SQLITE_UPDATE && gostr(z3) == "temp" && (t == "sqlite_temp_master" || t == "sqlite_master") {
			// ALTER TABLE RENAME rewrites the definitions of temporary
			// triggers and views too; there are none, so nothing changes.
			return ""
		}
	}
	dbArg := z3
	if action == sqlite3.SQLITE_ALTER_TABLE {
		dbArg = z1
	}
	switch db := gostr(dbArg); {
	case db == "" || db == "main":
	case db == "temp" && (action == sqlite3.SQLITE_READ || action == sqlite3.SQLITE_SELECT):
	case db == "temp":
		return "temporary tables, indexes, views and triggers are not allowed: they would live on one connection of one node"
	default:
		return fmt.Sprintf("schema %q is not allowed", db)
	}
	return ""
}

// moduleStatement reports whether the statement being compiled is one a
// virtual table module compiles for itself: a compilation started inside
// another (xCreate, xConnect), or while a statement of ours steps (xFilter,
// xUpdate), or a module's statement compiled again after a schema change;
// but not a statement of ours compiled again, nor the program of a trigger.
func (c *conn) moduleStatement() bool {
	p := (*sqlite3.Tsqlite3)(cptr(c.db)).FpParse
	if p == 0 {
		return false
	}
	ps := (*sqlite3.TParse)(cptr(p))
	if ps.FpToplevel != 0 || ps.FpTriggerTab != 0 {
		return false
	}
	if ps.FpReprepare != 0 {
		return ps.FpReprepare != c.running
	}
	return ps.FpOuterParse != 0 || c.stepping
}

// ---- Deterministic clock and randomness ---------------------------------

// julianEpochMillis is the Unix epoch as a Julian day number in
// milliseconds, the unit of the VFS clock.
const julianEpochMillis = 210866760000000

var vfsSize = unsafe.Sizeof(sqlite3.Tsqlite3_vfs{})

var vfsSeq atomic.Uint64

// applyEnv is C memory that belongs to one state machine: a copy of the
// default VFS whose clock returns the time of the command being applied,
// followed by that time, the state of the command's random generator and
// the command's step budget.
//
//	[Tsqlite3_vfs][clock int64 (Julian ms)][rng uint64][budget][name NUL]
type applyEnv struct {
	mem  uintptr
	name string
	// steps and valueSize are the command's limits as stamped; 0 when the
	// command has none.
	steps, valueSize int64
}

// envHeader is the size of what follows the VFS in applyEnv's memory:
// clock, generator, budget, frames in the WAL.
const envHeader = 16 + budgetSize + 8

func newApplyEnv() (*applyEnv, error) {
	tls := libc.NewTLS()
	defer tls.Close()
	name := fmt.Sprintf("raftsql-apply-%d", vfsSeq.Add(1))
	def := sqlite3.Xsqlite3_vfs_find(tls, 0)
	if def == 0 {
		return nil, fmt.Errorf("fsm: no default VFS")
	}
	mem := libc.Xcalloc(tls, 1, libc.Tsize_t(vfsSize+envHeader+uintptr(len(name))+1))
	if mem == 0 {
		return nil, fmt.Errorf("fsm: out of memory")
	}
	copy(unsafe.Slice((*byte)(cptr(mem)), vfsSize), unsafe.Slice((*byte)(cptr(def)), vfsSize))
	zName := mem + vfsSize + envHeader
	nb := unsafe.Slice((*byte)(cptr(zName)), len(name)+1)
	copy(nb, name)
	nb[len(name)] = 0
	v := (*sqlite3.Tsqlite3_vfs)(cptr(mem))
	v.FpNext = 0
	v.FzName = zName
	v.FxCurrentTime = cFuncPointer(vfsCurrentTime)
	v.FxCurrentTimeInt64 = cFuncPointer(vfsCurrentTimeInt64)
	if v.FiVersion < 2 {
		v.FiVersion = 2
	}
	e := &applyEnv{mem: mem, name: name}
	e.setTime(0)
	if rc := sqlite3.Xsqlite3_vfs_register(tls, mem, 0); rc != sqlite3.SQLITE_OK {
		libc.Xfree(tls, mem)
		return nil, fmt.Errorf("fsm: registering VFS: code %d", rc)
	}
	return e, nil
}

// free unregisters the VFS; no connection may use it any more.
func (e *applyEnv) free() {
	tls := libc.NewTLS()
	defer tls.Close()
	sqlite3.Xsqlite3_vfs_unregister(tls, e.mem)
	libc.Xfree(tls, e.mem)
}

func (e *applyEnv) clock() *int64 { return (*int64)(cptr(e.mem + vfsSize)) }
func (e *applyEnv) rngAddr() uintptr {
	return e.mem + vfsSize + 8
}
func (e *applyEnv) budget() *budget        { return (*budget)(cptr(e.mem + vfsSize + 16)) }
func (e *applyEnv) walFramesAddr() uintptr { return e.mem + vfsSize + 16 + budgetSize }
func (e *applyEnv) walFrames() int64       { return *(*int64)(cptr(e.walFramesAddr())) }

// rngState and setRNGState save and restore the generator, so that a
// statement the speculative transaction does not keep leaves no trace.
func (e *applyEnv) rngState() uint64     { return *(*uint64)(cptr(e.rngAddr())) }
func (e *applyEnv) setRNGState(s uint64) { *(*uint64)(cptr(e.rngAddr())) = s }

// setTime sets the clock of the apply connection to t (Unix nanoseconds).
func (e *applyEnv) setTime(unixNano int64) {
	*e.clock() = julianEpochMillis + unixNano/1e6
}

// seed seeds the random generator of the apply connection.
func (e *applyEnv) seed(s uint64) { *(*uint64)(cptr(e.rngAddr())) = s }

func vfsCurrentTimeInt64(tls *libc.TLS, pVfs, piNow uintptr) int32 {
	*(*int64)(cptr(piNow)) = *(*int64)(cptr(pVfs + vfsSize))
	return sqlite3.SQLITE_OK
}

func vfsCurrentTime(tls *libc.TLS, pVfs, prNow uintptr) int32 {
	*(*float64)(cptr(prNow)) = float64(*(*int64)(cptr(pVfs + vfsSize))) / 86400000.0
	return sqlite3.SQLITE_OK
}

// splitmix64 advances the generator state at p and returns the next value.
func splitmix64(p uintptr) uint64 {
	s := (*uint64)(cptr(p))
	*s += 0x9e3779b97f4a7c15
	z := *s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func randomTrampoline(tls *libc.TLS, ctx uintptr, argc int32, argv uintptr) {
	r := int64(splitmix64(sqlite3.Xsqlite3_user_data(tls, ctx)))
	if r < 0 {
		// As SQLite's random(): never the smallest int64.
		r = -(r & (1<<63 - 1))
	}
	sqlite3.Xsqlite3_result_int64(tls, ctx, r)
}

// maxLength is SQLite's compiled-in SQLITE_MAX_LENGTH, the most any
// SQLITE_LIMIT_LENGTH can be.
const maxLength = 1_000_000_000

func randomblobTrampoline(tls *libc.TLS, ctx uintptr, argc int32, argv uintptr) {
	state := sqlite3.Xsqlite3_user_data(tls, ctx)
	resultRandomBlob(tls, ctx, argv, func(b []byte) {
		for i := 0; i < len(b); i += 8 {
			v := splitmix64(state)
			for j := 0; j < 8 && i+j < len(b); j++ {
				b[i+j] = byte(v >> (8 * j))
			}
		}
	})
}

// resultRandomBlob makes the result of randomblob(N), N given by argv,
// with bytes from fill. As SQLite's own randomblob(): at least one byte,
// and no more than the connection's length limit, checked before anything
// is allocated.
func resultRandomBlob(tls *libc.TLS, ctx, argv uintptr, fill func([]byte)) {
	n := sqlite3.Xsqlite3_value_int64(tls, *(*uintptr)(cptr(argv)))
	if n < 1 {
		n = 1
	}
	db := sqlite3.Xsqlite3_context_db_handle(tls, ctx)
	if n > int64(sqlite3.Xsqlite3_limit(tls, db, sqlite3.SQLITE_LIMIT_LENGTH, -1)) {
		sqlite3.Xsqlite3_result_error_toobig(tls, ctx)
		return
	}
	p := libc.Xmalloc(tls, libc.Tsize_t(n))
	if p == 0 {
		sqlite3.Xsqlite3_result_error_nomem(tls, ctx)
		return
	}
	fill(unsafe.Slice((*byte)(cptr(p)), n))
	sqlite3.Xsqlite3_result_blob(tls, ctx, p, int32(n), sqlite3.SQLITE_TRANSIENT)
	libc.Xfree(tls, p)
}

// registerRandom makes random() and randomblob() on c draw from the
// generator of e, overriding SQLite's own, in column defaults and triggers
// too.
func (c *conn) registerRandom(e *applyEnv) error {
	return c.registerFuncs(e.rngAddr(), cFuncPointer(randomTrampoline), cFuncPointer(randomblobTrampoline))
}
