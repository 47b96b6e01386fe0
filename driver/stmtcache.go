package driver

import "container/list"

// defaultStatementCacheSize is the number of one-shot statements a
// connection keeps parsed when Config.StatementCacheSize is 0.
const defaultStatementCacheSize = 128

// stmtCache remembers, per connection, the one-shot statements (Exec and
// Query with SQL text) it has run, least recently used first out. A
// statement seen a second time is parsed as a named statement on the
// server, so that later runs send only Bind and Execute: the server parses,
// classifies and describes it once. Statements seen once stay unparsed, so
// that SQL built afresh for every call costs nothing extra.
type stmtCache struct {
	size  int
	order *list.List // of *cacheEntry, most recently used first
	bySQL map[string]*list.Element
}

type cacheEntry struct {
	sql  string
	kind kind
	st   *stmt // nil until the statement is seen again
}

func newStmtCache(size int) *stmtCache {
	return &stmtCache{size: size, order: list.New(), bySQL: map[string]*list.Element{}}
}

// lookup returns the entry for sql, adding one (fresh) for a statement it
// does not hold. It returns the entries it evicted to make room, whose
// statements the caller closes.
func (sc *stmtCache) lookup(sql string) (e *cacheEntry, fresh bool, evicted []*cacheEntry) {
	if el, ok := sc.bySQL[sql]; ok {
		sc.order.MoveToFront(el)
		return el.Value.(*cacheEntry), false, nil
	}
	e = &cacheEntry{sql: sql, kind: classify(sql)}
	sc.bySQL[sql] = sc.order.PushFront(e)
	for sc.order.Len() > sc.size {
		old := sc.order.Remove(sc.order.Back()).(*cacheEntry)
		delete(sc.bySQL, old.sql)
		evicted = append(evicted, old)
	}
	return e, true, evicted
}

// clear empties the cache and returns the entries it held.
func (sc *stmtCache) clear() []*cacheEntry {
	var out []*cacheEntry
	for el := sc.order.Front(); el != nil; el = el.Next() {
		out = append(out, el.Value.(*cacheEntry))
	}
	sc.order.Init()
	clear(sc.bySQL)
	return out
}

// changesSchema reports a statement after which cached statement
// descriptions may be stale.
func changesSchema(sql string) bool {
	words := leadingWords(sql, 1)
	if len(words) == 0 {
		return false
	}
	switch words[0] {
	case "CREATE", "DROP", "ALTER", "REINDEX", "ANALYZE", "VACUUM":
		return true
	}
	return false
}
