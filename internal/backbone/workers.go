package backbone

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Workers runs the messages of durable consumers (async invocations,
// async Express executions), each on a goroutine of its own and at most
// a set number at once per consumer. While a handler runs, the backbone
// is told the message is in progress, so that it is not handed out
// again; a message whose handler never settles it (the node stopped or
// died) is handed out again after the consumer's ack wait. It is safe
// for concurrent use.
type Workers struct {
	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
}

// NewWorkers returns a pool that takes messages until Close.
func NewWorkers() *Workers {
	ctx, cancel := context.WithCancel(context.Background())
	return &Workers{ctx: ctx, cancel: cancel}
}

// Consume pulls cons's messages and runs handle for each, at most n at
// once; ackWait is the consumer's AckWait, and its MaxAckPending should
// be n: a message pulled beyond that waits for a free handler without
// being kept alive, and may be handed out again meanwhile. handle's context ends when
// the pool is cancelled. Stop the returned context to stop this
// consumer alone.
func (w *Workers) Consume(cons jetstream.Consumer, n int, ackWait time.Duration, handle func(context.Context, jetstream.Msg)) (jetstream.ConsumeContext, error) {
	sem := make(chan struct{}, n)
	return cons.Consume(func(m jetstream.Msg) {
		w.mu.Lock()
		if w.stopped {
			w.mu.Unlock()
			return // not settled: handed out again after the ack wait
		}
		w.wg.Add(1)
		w.mu.Unlock()
		sem <- struct{}{}
		go func() {
			defer w.wg.Done()
			defer func() { <-sem }()
			stop := KeepAlive(m, ackWait)
			defer stop()
			handle(w.ctx, m)
		}()
	}, jetstream.PullMaxMessages(min(n, 1024)))
}

// Cancel ends the context of every handler, running or to come, to cut
// them short.
func (w *Workers) Cancel() { w.cancel() }

// Close stops running handlers for messages that arrive from now on
// (their consumers should be stopped too), and waits for the running
// ones until ctx ends; then it cancels them and returns ctx's error.
func (w *Workers) Close(ctx context.Context) error {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		w.cancel()
		return ctx.Err()
	}
}

// KeepAlive tells the backbone every third of ackWait that m is still
// being worked on, until stop is called. It costs a timer, no goroutine,
// and nothing is sent to the backbone before a third of ackWait.
func KeepAlive(m jetstream.Msg, ackWait time.Duration) (stop func()) {
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	mu.Lock()
	defer mu.Unlock()
	t = time.AfterFunc(ackWait/3, func() {
		_ = m.InProgress()
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			t.Reset(ackWait / 3)
		}
	})
	return func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
		t.Stop()
	}
}
