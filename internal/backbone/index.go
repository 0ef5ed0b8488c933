package backbone

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// Index is an in-memory copy of a KV bucket, kept current by a watch and
// by the owner's own writes, so lookups never leave the process. Values
// are pointers (or other types whose zero value means "absent"). A newer
// revision always wins, and a deletion leaves a tombstone so a late watch
// update cannot bring a deleted key back.
//
// Index is safe for concurrent use; change callbacks run one at a time.
type Index[T comparable] struct {
	kv       jetstream.KeyValue
	decode   func(key string, data []byte, revision uint64) (T, error)
	log      *slog.Logger
	watchers []func(old, new T)

	mu    sync.RWMutex
	items map[string]indexed[T]
	tombs map[string]uint64

	watch jetstream.KeyWatcher
	done  chan struct{}
}

type indexed[T any] struct {
	value    T
	revision uint64
}

// NewIndex returns an index of kv; decode turns a stored value into T.
func NewIndex[T comparable](kv jetstream.KeyValue, decode func(key string, data []byte, revision uint64) (T, error), log *slog.Logger) *Index[T] {
	return &Index[T]{kv: kv, decode: decode, log: log, items: map[string]indexed[T]{}, tombs: map[string]uint64{}, done: make(chan struct{})}
}

// OnChange registers fn, called whenever a key is created (old is the
// zero value), changed, or deleted (new is the zero value). Register
// before Start.
func (x *Index[T]) OnChange(fn func(old, new T)) { x.watchers = append(x.watchers, fn) }

// Start loads the bucket and keeps the index current until Stop.
func (x *Index[T]) Start(ctx context.Context) error {
	w, err := x.kv.WatchAll(context.Background())
	if err != nil {
		return fmt.Errorf("watch %s: %w", x.kv.Bucket(), err)
	}
	x.watch = w
	synced := make(chan struct{})
	go x.run(w, synced)
	select {
	case <-synced:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (x *Index[T]) run(w jetstream.KeyWatcher, synced chan struct{}) {
	defer close(x.done)
	once := sync.OnceFunc(func() { close(synced) })
	defer once()
	var zero T
	for e := range w.Updates() {
		if e == nil {
			once()
			continue
		}
		if e.Operation() != jetstream.KeyValuePut {
			x.Apply(e.Key(), zero, e.Revision())
			continue
		}
		v, err := x.decode(e.Key(), e.Value(), e.Revision())
		if err != nil {
			x.log.Error("decode index entry", "bucket", x.kv.Bucket(), "key", e.Key(), "err", err)
			continue
		}
		x.Apply(e.Key(), v, e.Revision())
	}
}

// Stop ends the watch and waits for it.
func (x *Index[T]) Stop(ctx context.Context) error {
	if x.watch == nil {
		return nil
	}
	err := x.watch.Stop()
	select {
	case <-x.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	x.watch = nil
	return err
}

// Apply installs value (the zero value: deleted) for key as of revision,
// unless the index already holds something newer. Writers call it after
// their own successful write so they read it back at once.
func (x *Index[T]) Apply(key string, value T, revision uint64) {
	var zero T
	x.mu.Lock()
	if tomb, ok := x.tombs[key]; ok && revision <= tomb {
		x.mu.Unlock()
		return
	}
	old, had := x.items[key]
	if had && old.revision >= revision {
		x.mu.Unlock()
		return
	}
	if value == zero {
		if !had {
			x.mu.Unlock()
			return
		}
		delete(x.items, key)
		x.tombs[key] = revision
	} else {
		delete(x.tombs, key)
		x.items[key] = indexed[T]{value: value, revision: revision}
	}
	watchers := x.watchers
	x.mu.Unlock()
	for _, fn := range watchers {
		fn(old.value, value)
	}
}

// Get returns the value of key, or the zero value.
func (x *Index[T]) Get(key string) T {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.items[key].value
}

// Values returns every value, in no particular order.
func (x *Index[T]) Values() []T {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]T, 0, len(x.items))
	for _, it := range x.items {
		out = append(out, it.value)
	}
	return out
}
