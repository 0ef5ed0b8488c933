// Package telemetry keeps what functions print: every log line of every
// execution environment is batched per function into a backbone stream
// with a retention limit, so logs can be read and followed from any node
// and survive restarts.
//
// Logs is safe for concurrent use. Start runs the flusher; Stop flushes
// what is buffered and waits for it.
package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/backbone"
)

// Defaults of LogsConfig.
const (
	LogRetentionDefault = 7 * 24 * time.Hour
	LogMaxBytesDefault  = 1 << 30
	LogFlushDefault     = 50 * time.Millisecond
)

// StreamLogs is the backbone stream of function logs; subjects are
// "logs.<function>".
const StreamLogs = "UPDRAFT_LOGS"

// LogsConfig configures Logs.
type LogsConfig struct {
	// Retention is how long lines are kept. Default LogRetentionDefault.
	Retention time.Duration
	// MaxBytes bounds the stream; the oldest lines go first. Default
	// LogMaxBytesDefault.
	MaxBytes int64
	// Flush is how long lines wait to be batched. Default LogFlushDefault.
	// Lines still buffered when the process is killed are lost.
	Flush time.Duration
}

// Entry is one log line.
type Entry struct {
	Time    time.Time `json:"t"`
	Stream  string    `json:"s"`
	Message string    `json:"m"`
}

// Logs stores and serves function logs.
type Logs struct {
	cfg LogsConfig
	js  jetstream.JetStream
	log *slog.Logger

	mu      sync.Mutex
	pending map[string][]Entry
	size    int

	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	started atomic.Bool // Start ran: done will close
}

// NewLogs opens the logs stream.
func NewLogs(ctx context.Context, bb *backbone.Backbone, cfg LogsConfig, log *slog.Logger) (*Logs, error) {
	if cfg.Retention == 0 {
		cfg.Retention = LogRetentionDefault
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = LogMaxBytesDefault
	}
	if cfg.Flush == 0 {
		cfg.Flush = LogFlushDefault
	}
	_, err := bb.Stream(ctx, jetstream.StreamConfig{
		Name:      StreamLogs,
		Subjects:  []string{"logs.>"},
		MaxAge:    cfg.Retention,
		MaxBytes:  cfg.MaxBytes,
		Discard:   jetstream.DiscardOld,
		Retention: jetstream.LimitsPolicy,
	})
	if err != nil {
		return nil, err
	}
	return &Logs{
		cfg:     cfg,
		js:      bb.JetStream(),
		log:     log,
		pending: map[string][]Entry{},
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}, nil
}

// Start runs the flusher.
func (l *Logs) Start(ctx context.Context) error {
	l.started.Store(true)
	go l.run()
	return nil
}

// Stop flushes buffered lines and ends the flusher.
func (l *Logs) Stop(ctx context.Context) error {
	l.once.Do(func() { close(l.stop) })
	if !l.started.Load() {
		return nil // a node that failed to start stops what it made
	}
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Log buffers one line of a function's log.
func (l *Logs) Log(function, stream string, t time.Time, line string) {
	l.mu.Lock()
	l.pending[function] = append(l.pending[function], Entry{Time: t, Stream: stream, Message: line})
	l.size += len(line) + 64
	big := l.size > 256<<10
	l.mu.Unlock()
	if big {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

func (l *Logs) run() {
	defer close(l.done)
	t := time.NewTicker(l.cfg.Flush)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			l.flush()
			return
		case <-t.C:
			l.flush()
		case <-l.kick:
			l.flush()
		}
	}
}

func (l *Logs) flush() {
	l.mu.Lock()
	batch := l.pending
	if len(batch) == 0 {
		l.mu.Unlock()
		return
	}
	l.pending = map[string][]Entry{}
	l.size = 0
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for fn, entries := range batch {
		// Keep each message well under the backbone's payload limit.
		for len(entries) > 0 {
			n := min(len(entries), 2000)
			data, err := json.Marshal(entries[:n])
			if err == nil {
				_, err = l.js.Publish(ctx, "logs."+fn, data)
			}
			if err != nil {
				l.log.Warn("store function logs", "function", fn, "lines", n, "err", err)
			}
			entries = entries[n:]
		}
	}
}

// Read calls emit for each stored line of function's log since the given
// time, in order. With follow it then waits for new lines until ctx ends;
// otherwise it returns after the last stored line.
func (l *Logs) Read(ctx context.Context, function string, since time.Time, follow bool, emit func(Entry) error) error {
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"logs." + function},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	}
	if !since.IsZero() {
		cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		cfg.OptStartTime = &since
	}
	cons, err := l.js.OrderedConsumer(ctx, StreamLogs, cfg)
	if err != nil {
		return fmt.Errorf("read logs of %s: %w", function, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("read logs of %s: %w", function, err)
	}
	if !follow && info.NumPending == 0 {
		return nil
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("read logs of %s: %w", function, err)
	}
	defer it.Stop()
	go func() {
		<-ctx.Done()
		it.Stop()
	}()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			return fmt.Errorf("read logs of %s: %w", function, err)
		}
		var entries []Entry
		if err := json.Unmarshal(msg.Data(), &entries); err != nil {
			continue
		}
		for _, e := range entries {
			if !since.IsZero() && e.Time.Before(since) {
				continue
			}
			if err := emit(e); err != nil {
				return err
			}
		}
		meta, err := msg.Metadata()
		if !follow && err == nil && meta.NumPending == 0 {
			return nil
		}
	}
}
