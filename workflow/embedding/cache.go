package embedding

import (
	"container/list"
	"context"
	"fmt"
	"sync"
)

// DefaultCacheEntries is the capacity of a [Cache] whose MaxEntries is 0.
const DefaultCacheEntries = 10000

// CacheOptions configures a [Cache]. A nil *CacheOptions uses the defaults.
type CacheOptions struct {
	// MaxEntries bounds the number of cached vectors; the least recently
	// used are evicted. 0 is DefaultCacheEntries.
	MaxEntries int
}

// Cache is an [Embedder] that remembers the vectors of another, by text:
// each distinct text is sent once (while it stays cached), and the texts
// of one call that are not cached go in one call to the inner Embedder. It
// is safe for concurrent use. Use one Cache per model.
type Cache struct {
	inner Embedder
	max   int

	mu      sync.Mutex
	entries map[string]*list.Element
	lru     *list.List // of *cacheEntry, most recent first
}

type cacheEntry struct {
	text string
	vec  []float64
}

var _ Embedder = (*Cache)(nil)

// NewCache returns a cache in front of inner. It panics if inner is nil.
func NewCache(inner Embedder, opts *CacheOptions) *Cache {
	if inner == nil {
		panic("embedding.NewCache: nil Embedder")
	}
	c := &Cache{inner: inner, max: DefaultCacheEntries, entries: map[string]*list.Element{}, lru: list.New()}
	if opts != nil && opts.MaxEntries > 0 {
		c.max = opts.MaxEntries
	}
	return c
}

// Len returns the number of cached vectors.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Embed returns the vectors of texts, asking the inner Embedder only for
// the distinct texts not cached. The returned vectors are shared with the
// cache: do not modify them.
func (c *Cache) Embed(ctx context.Context, texts []string) ([][]float64, error) {
	out := make([][]float64, len(texts))
	var missing []string
	seen := map[string]bool{}
	c.mu.Lock()
	for i, t := range texts {
		if e, ok := c.entries[t]; ok {
			c.lru.MoveToFront(e)
			out[i] = e.Value.(*cacheEntry).vec
		} else if !seen[t] {
			seen[t] = true
			missing = append(missing, t)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	vecs, err := c.inner.Embed(ctx, missing)
	if err != nil {
		return nil, err
	}
	if len(vecs) != len(missing) {
		return nil, fmt.Errorf("embedding: the embedder returned %d vectors for %d texts", len(vecs), len(missing))
	}
	fetched := make(map[string][]float64, len(missing))
	for i, t := range missing {
		fetched[t] = vecs[i]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range missing {
		if e, ok := c.entries[t]; ok { // stored meanwhile by another call
			c.lru.MoveToFront(e)
			continue
		}
		c.entries[t] = c.lru.PushFront(&cacheEntry{text: t, vec: fetched[t]})
	}
	for c.lru.Len() > c.max {
		e := c.lru.Back()
		c.lru.Remove(e)
		delete(c.entries, e.Value.(*cacheEntry).text)
	}
	for i, t := range texts {
		if out[i] == nil {
			out[i] = fetched[t]
		}
	}
	return out, nil
}
