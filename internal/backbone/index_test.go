package backbone

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

type item struct{ v string }

func TestIndex_WatchApplyAndTombstones(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bb, err := Open(ctx, Config{DataDir: t.TempDir()}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer bb.Close()
	kv, err := bb.KeyValue(ctx, jetstream.KeyValueConfig{Bucket: "index_test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "before", []byte("b")); err != nil {
		t.Fatal(err)
	}
	x := NewIndex(kv, func(_ string, data []byte, _ uint64) (*item, error) { return &item{string(data)}, nil }, log)
	changes := make(chan [2]*item, 16)
	x.OnChange(func(old, new *item) { changes <- [2]*item{old, new} })
	if err := x.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer x.Stop(ctx)
	if got := x.Get("before"); got == nil || got.v != "b" {
		t.Fatalf("after Start got %v, want the key written before", got)
	}
	<-changes

	// A write seen through the watch.
	rev, err := kv.Put(ctx, "k", []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-changes:
		if c[0] != nil || c[1].v != "one" {
			t.Errorf("got change %v → %v, want nil → one", c[0], c[1])
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the watch never delivered the write")
	}
	// An older revision never replaces a newer one.
	x.Apply("k", &item{"stale"}, rev-1)
	if got := x.Get("k"); got.v != "one" {
		t.Errorf("got %q, want the newer value kept", got.v)
	}
	// A deletion leaves a tombstone: a late put at or below it is ignored.
	x.Apply("k", nil, rev+10)
	<-changes
	x.Apply("k", &item{"late"}, rev+5)
	if got := x.Get("k"); got != nil {
		t.Errorf("got %v after delete, want nothing", got)
	}
	x.Apply("k", &item{"again"}, rev+11)
	if got := x.Get("k"); got == nil || got.v != "again" {
		t.Errorf("got %v, want a newer create to win over the tombstone", got)
	}
	if n := len(x.Values()); n != 2 {
		t.Errorf("got %d values, want 2", n)
	}
}
