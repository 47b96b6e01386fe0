package pgsql

import (
	"container/list"
	"sync"
)

// Cache keeps parsed statements by their text, the most recently used
// first, so that a statement prepared once or sent again is parsed once.
// It is safe for concurrent use.
type Cache struct {
	mu      sync.Mutex
	max     int
	maxText int
	order   *list.List // of *Statement, most recent first
	byText  map[string]*list.Element
}

// NewCache returns a cache of at most n statements, each of at most
// maxText bytes of text (longer ones are parsed every time: a statement
// holding a large literal is not worth its memory).
func NewCache(n, maxText int) *Cache {
	return &Cache{max: max(n, 1), maxText: maxText, order: list.New(), byText: make(map[string]*list.Element, n)}
}

// Parse returns the parsed statement of sql, from the cache when it is
// there. The statement is shared: callers must not change it.
func (c *Cache) Parse(sql string) *Statement {
	if c == nil || len(sql) > c.maxText {
		return Parse(sql)
	}
	c.mu.Lock()
	if e, ok := c.byText[sql]; ok {
		c.order.MoveToFront(e)
		c.mu.Unlock()
		return e.Value.(*Statement)
	}
	c.mu.Unlock()
	st := Parse(sql)
	c.mu.Lock()
	if _, ok := c.byText[sql]; !ok {
		c.byText[sql] = c.order.PushFront(st)
		for c.order.Len() > c.max {
			old := c.order.Remove(c.order.Back()).(*Statement)
			delete(c.byText, old.Source)
		}
	}
	c.mu.Unlock()
	return st
}

// Len is the number of statements cached.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
