package server

import "github.com/raftsql/raftsql/pgwire/pgsql"

// txVerb is a transaction-control statement.
type txVerb int

const (
	txNone       txVerb = iota
	txBegin             // BEGIN, START TRANSACTION
	txCommit            // COMMIT, END
	txRollback          // ROLLBACK, ABORT
	txSavepoint         // SAVEPOINT name
	txRelease           // RELEASE [SAVEPOINT] name
	txRollbackTo        // ROLLBACK [WORK|TRANSACTION] TO [SAVEPOINT] name
)

// txControl is a transaction-control statement, as the front end parsed it.
type txControl struct {
	verb     txVerb
	readOnly bool   // BEGIN READ ONLY
	name     string // savepoint name, as written
	bad      string // why the statement is not accepted
}

// txControlOf is the transaction control of a parsed statement: txNone for
// any other statement. Every isolation level asked for runs serializable,
// which is allowed: it is stronger than any.
func txControlOf(st *pgsql.Statement) txControl {
	if st.Kind != pgsql.TxControl {
		return txControl{}
	}
	verb := map[pgsql.TxOp]txVerb{
		pgsql.TxBegin: txBegin, pgsql.TxCommit: txCommit, pgsql.TxRollback: txRollback,
		pgsql.TxSavepoint: txSavepoint, pgsql.TxRelease: txRelease, pgsql.TxRollbackTo: txRollbackTo,
	}[st.Tx.Op]
	return txControl{verb: verb, readOnly: st.Tx.ReadOnly, name: st.Tx.Name, bad: st.Tx.Unsupported}
}

// savepointSQL rebuilds a savepoint statement in SQLite's syntax.
func (c txControl) savepointSQL() string {
	switch c.verb {
	case txSavepoint:
		return "SAVEPOINT " + c.name
	case txRelease:
		return "RELEASE SAVEPOINT " + c.name
	case txRollbackTo:
		return "ROLLBACK TO SAVEPOINT " + c.name
	}
	return ""
}
