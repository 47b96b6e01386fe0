package server

import "strings"

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

// txControl is a parsed transaction-control statement.
type txControl struct {
	verb     txVerb
	readOnly bool   // BEGIN READ ONLY
	name     string // savepoint name, as written
	bad      string // why the statement is not accepted
}

// parseTxControl recognises the transaction-control statements Postgres
// clients send: BEGIN [WORK|TRANSACTION] [ISOLATION LEVEL …] [READ
// WRITE|READ ONLY] [[NOT] DEFERRABLE], START TRANSACTION …, COMMIT, END,
// ROLLBACK, ABORT, SAVEPOINT, RELEASE and ROLLBACK TO, and SQLite's BEGIN
// DEFERRED|IMMEDIATE|EXCLUSIVE.
func parseTxControl(sql string) txControl {
	if !mayBeTxControl(sql) {
		return txControl{}
	}
	words := txWords(sql)
	if len(words) == 0 {
		return txControl{}
	}
	upper := make([]string, len(words))
	for i, w := range words {
		upper[i] = strings.ToUpper(w)
	}
	switch upper[0] {
	case "BEGIN", "START":
		rest := upper[1:]
		if upper[0] == "START" {
			if len(rest) == 0 || rest[0] != "TRANSACTION" {
				return txControl{}
			}
			rest = rest[1:]
		} else if len(rest) > 0 && (rest[0] == "WORK" || rest[0] == "TRANSACTION") {
			rest = rest[1:]
		}
		c := txControl{verb: txBegin}
		for len(rest) > 0 {
			switch {
			case rest[0] == "DEFERRED" || rest[0] == "IMMEDIATE" || rest[0] == "EXCLUSIVE":
				rest = rest[1:]
			case rest[0] == "ISOLATION" && len(rest) >= 3 && rest[1] == "LEVEL":
				// Every level is given as serializable, which is allowed:
				// it is stronger than any level asked for.
				switch {
				case rest[2] == "SERIALIZABLE":
					rest = rest[3:]
				case (rest[2] == "REPEATABLE" || rest[2] == "READ") && len(rest) >= 4:
					rest = rest[4:]
				default:
					return txControl{verb: txBegin, bad: "unknown isolation level"}
				}
			case rest[0] == "READ" && len(rest) >= 2 && rest[1] == "ONLY":
				c.readOnly = true
				rest = rest[2:]
			case rest[0] == "READ" && len(rest) >= 2 && rest[1] == "WRITE":
				c.readOnly = false
				rest = rest[2:]
			case rest[0] == "DEFERRABLE":
				rest = rest[1:]
			case rest[0] == "NOT" && len(rest) >= 2 && rest[1] == "DEFERRABLE":
				rest = rest[2:]
			default:
				return txControl{verb: txBegin, bad: "unrecognised transaction mode " + words[len(words)-len(rest)]}
			}
		}
		return c
	case "COMMIT", "END":
		if len(upper) > 1 && upper[1] != "WORK" && upper[1] != "TRANSACTION" {
			return txControl{verb: txCommit, bad: "COMMIT " + words[1] + " is not supported"}
		}
		return txControl{verb: txCommit}
	case "ABORT":
		return txControl{verb: txRollback}
	case "ROLLBACK":
		rest := upper[1:]
		if len(rest) > 0 && (rest[0] == "WORK" || rest[0] == "TRANSACTION") {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return txControl{verb: txRollback}
		}
		if rest[0] != "TO" {
			return txControl{verb: txRollback, bad: "ROLLBACK " + rest[0] + " is not supported"}
		}
		rest = rest[1:]
		if len(rest) > 0 && rest[0] == "SAVEPOINT" {
			rest = rest[1:]
		}
		if len(rest) != 1 {
			return txControl{verb: txRollbackTo, bad: "ROLLBACK TO needs a savepoint name"}
		}
		return txControl{verb: txRollbackTo, name: words[len(words)-1]}
	case "SAVEPOINT":
		if len(words) != 2 {
			return txControl{verb: txSavepoint, bad: "SAVEPOINT needs a name"}
		}
		return txControl{verb: txSavepoint, name: words[1]}
	case "RELEASE":
		rest := words[1:]
		if len(rest) > 0 && strings.EqualFold(rest[0], "SAVEPOINT") {
			rest = rest[1:]
		}
		if len(rest) != 1 {
			return txControl{verb: txRelease, bad: "RELEASE needs a savepoint name"}
		}
		return txControl{verb: txRelease, name: rest[0]}
	}
	return txControl{}
}

// txWords splits a short statement into words, dropping comments, commas
// and the trailing semicolon.
func txWords(sql string) []string {
	var b strings.Builder
	for i := 0; i < len(sql); i++ {
		switch {
		case strings.HasPrefix(sql[i:], "--"):
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				i = len(sql)
				continue
			}
			i += j
			b.WriteByte(' ')
		case strings.HasPrefix(sql[i:], "/*"):
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				i = len(sql)
				continue
			}
			i += j + 3
			b.WriteByte(' ')
		case sql[i] == ';' || sql[i] == ',':
			b.WriteByte(' ')
		default:
			b.WriteByte(sql[i])
		}
	}
	return strings.Fields(b.String())
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

// mayBeTxControl is a cheap first look: a statement whose first word
// is not a transaction-control keyword is not one.
func mayBeTxControl(sql string) bool {
	// Skip blanks, comments and parentheses, then look at the first word
	// alone: the words of the whole statement are split only for those
	// that may control transactions, never for a long query.
	i := 0
	for i < len(sql) {
		switch {
		case sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r' || sql[i] == '(':
			i++
		case strings.HasPrefix(sql[i:], "--"):
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				return false
			}
			i += j + 1
		case strings.HasPrefix(sql[i:], "/*"):
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				return false
			}
			i += j + 4
		default:
			j := i
			for j < len(sql) && (sql[j]|0x20 >= 'a' && sql[j]|0x20 <= 'z') {
				j++
			}
			switch strings.ToUpper(sql[i:min(j, i+len("SAVEPOINT")+1)]) {
			case "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE":
				return true
			}
			return false
		}
	}
	return false
}
