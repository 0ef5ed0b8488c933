package backbone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// workQueue opens a backbone and a work-queue stream of 20 messages with
// a durable consumer of the given ack wait and at most n unacknowledged.
func workQueue(t *testing.T, ackWait time.Duration, n int) (jetstream.Stream, jetstream.Consumer) {
	t.Helper()
	ctx := context.Background()
	bb, err := Open(ctx, Config{DataDir: t.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bb.Close)
	st, err := bb.Stream(ctx, jetstream.StreamConfig{Name: "WORKERS", Subjects: []string{"w.>"}, Retention: jetstream.WorkQueuePolicy})
	if err != nil {
		t.Fatal(err)
	}
	cons, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: "w", AckPolicy: jetstream.AckExplicitPolicy, AckWait: ackWait, MaxAckPending: n, MaxDeliver: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := bb.JetStream().Publish(ctx, "w.x", fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	return st, cons
}

// TestWorkers_BoundAndKeepAlive: handlers run at most n at once, and a
// handler that runs for several ack waits keeps its message: each of
// the messages is handled once.
func TestWorkers_BoundAndKeepAlive(t *testing.T) {
	const ackWait = 300 * time.Millisecond
	_, cons := workQueue(t, ackWait, 4)
	w := NewWorkers()
	var mu sync.Mutex
	seen := map[string]int{}
	var running, peak atomic.Int32
	done := make(chan struct{}, 20)
	cc, err := w.Consume(cons, 4, ackWait, func(ctx context.Context, m jetstream.Msg) {
		n := running.Add(1)
		defer running.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		mu.Lock()
		seen[string(m.Data())]++
		mu.Unlock()
		time.Sleep(3 * ackWait)
		_ = m.Ack()
		done <- struct{}{}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Stop()
	for range 20 {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("not every message was handled")
		}
	}
	time.Sleep(2 * ackWait) // a redelivery would show by now
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p > 4 || p < 2 {
		t.Errorf("peak concurrency %d, want 2..4", p)
	}
	mu.Lock()
	defer mu.Unlock()
	for k, n := range seen {
		if n != 1 {
			t.Errorf("message %s handled %d times, want once (kept alive)", k, n)
		}
	}
	if len(seen) != 20 {
		t.Errorf("handled %d messages, want 20", len(seen))
	}
}

// TestWorkers_CloseWaitsThenCancels: Close waits for running handlers;
// when its context ends first, handlers' context is cancelled and their
// messages, not settled, are handed out again.
func TestWorkers_CloseWaitsThenCancels(t *testing.T) {
	const ackWait = 500 * time.Millisecond
	st, cons := workQueue(t, ackWait, 2)
	w := NewWorkers()
	started := make(chan struct{}, 20)
	var cancelled atomic.Int32
	cc, err := w.Consume(cons, 2, ackWait, func(ctx context.Context, m jetstream.Msg) {
		started <- struct{}{}
		<-ctx.Done()
		cancelled.Add(1)
	})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	<-started
	cc.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := w.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close got %v, want the deadline (handlers still running)", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for cancelled.Load() != 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := cancelled.Load(); n != 2 {
		t.Fatalf("%d handlers saw their context cancelled, want 2", n)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 20 {
		t.Errorf("stream holds %d messages after Close, want all 20 (none settled)", info.State.Msgs)
	}
	// After Close no handler runs, whatever arrives.
	before := len(started)
	w2cons, _ := st.Consumer(context.Background(), "w")
	cc2, err := w.Consume(w2cons, 2, ackWait, func(context.Context, jetstream.Msg) { started <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	defer cc2.Stop()
	time.Sleep(2 * ackWait)
	if len(started) != before {
		t.Errorf("a handler ran after Close")
	}
}
