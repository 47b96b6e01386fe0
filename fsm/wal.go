package fsm

import (
	"fmt"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// The WAL and SQLite's generator. SQLite draws a new WAL salt from its
// process-wide generator when a writer starts the WAL over (walRestartLog)
// and when it writes the first frame of a new database's WAL. Both happen
// at a frame write: at COMMIT, or in the middle of a statement whose dirty
// pages spill out of the cache. Whether the WAL can start over depends on
// this node's checkpoints and readers, so a draw in the middle of a
// statement would move that statement's later draws (random rowids) on
// this node only. The state machine therefore checkpoints itself instead
// of SQLite's automatic checkpoints, and whenever a checkpoint leaves the
// WAL able to start over, it writes one frame at once (rewriting the
// user_version the file already holds) so that the WAL starts over there,
// outside any statement. A new database gets its first frame the same way
// when it is opened.

// walHookTrampoline records the frames in the WAL after each commit.
func walHookTrampoline(tls *libc.TLS, p, db, zDb uintptr, nFrame int32) int32 {
	*(*int64)(cptr(p)) = int64(nFrame)
	return sqlite3.SQLITE_OK
}

// registerWALHook replaces SQLite's automatic checkpoints on the write
// connection with a count of the WAL's frames.
func (c *conn) registerWALHook(e *applyEnv) {
	sqlite3.Xsqlite3_wal_hook(c.tls, c.db, cFuncPointer(walHookTrampoline), e.walFramesAddr())
}

// afterCommit checkpoints the WAL, as SQLite's automatic checkpoints would,
// once it holds autoCheckpointPage frames and no snapshot is reading the
// file. It is called after a COMMIT of the write connection.
func (f *FSM) afterCommit() error {
	if !f.autockpt || f.env.walFrames() < autoCheckpointPage {
		return nil
	}
	w := f.w
	prngMu.Lock()
	rc := sqlite3.Xsqlite3_wal_checkpoint_v2(w.tls, w.db, 0, sqlite3.SQLITE_CHECKPOINT_PASSIVE, w.out, w.out+8)
	nLog, nCkpt := *(*int32)(cptr(w.out)), *(*int32)(cptr(w.out + 8))
	prngMu.Unlock()
	if rc != sqlite3.SQLITE_OK && rc&0xff != sqlite3.SQLITE_BUSY && rc&0xff != sqlite3.SQLITE_LOCKED {
		return fmt.Errorf("checkpoint: %w", w.errorf(rc))
	}
	*(*int64)(cptr(f.env.walFramesAddr())) = 0
	if nLog > 0 && nLog == nCkpt {
		return restartWAL(w)
	}
	return nil
}

// restartWAL writes one frame, changing nothing, so that a WAL every frame
// of which is in the database file starts over now, and a new WAL gets its
// header now: the salt these draw is drawn here, not inside a statement.
func restartWAL(w *conn) error {
	if err := w.exec("BEGIN IMMEDIATE"); err != nil {
		return err
	}
	v, err := w.query1("PRAGMA user_version")
	if err == nil && len(v) == 1 {
		err = w.exec(fmt.Sprintf("PRAGMA user_version = %d", v[0].Int))
	}
	if err == nil {
		err = w.exec("COMMIT")
	}
	if err != nil && !w.autocommit() {
		w.exec("ROLLBACK")
	}
	return err
}
