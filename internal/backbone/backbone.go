// Package backbone opens Updraft's NATS JetStream backbone: an embedded
// nats-server started in-process (the default), or a connection to an
// existing NATS cluster. Every service keeps its durable state here: KV
// buckets for configuration, streams for events and logs, the object store
// for code.
//
// Only internal/server creates a Backbone; services receive the JetStream
// handle it exposes. A Backbone is safe for concurrent use.
package backbone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Sync modes for the embedded server's file store.
const (
	// SyncDefault acknowledges a write once it reaches the operating system
	// (it survives kill -9 of the process) and fsyncs every SyncInterval.
	SyncDefault = "default"
	// SyncAlways fsyncs every write before acknowledging it (survives
	// power loss, slower).
	SyncAlways = "always"
)

// SyncIntervalDefault is how often the embedded store fsyncs in SyncDefault mode.
const SyncIntervalDefault = time.Second

// Config configures the backbone.
type Config struct {
	// DataDir is where the embedded server keeps its JetStream file store
	// (DataDir/jetstream). Required unless URL is set.
	DataDir string
	// URL connects to an existing NATS server or cluster instead of
	// embedding one (for example "nats://10.0.0.1:4222"). Empty embeds.
	URL string
	// Sync is SyncDefault or SyncAlways. Empty means SyncDefault.
	Sync string
	// SyncInterval is the fsync interval in SyncDefault mode. Zero means
	// SyncIntervalDefault.
	SyncInterval time.Duration
	// Replicas is the replication factor of streams and buckets (1 on a
	// single node, 3 on a cluster). Zero means 1.
	Replicas int
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.URL == "" && c.DataDir == "" {
		return errors.New("backbone config: DataDir is required when URL is empty")
	}
	switch c.Sync {
	case "", SyncDefault, SyncAlways:
	default:
		return fmt.Errorf("backbone config: Sync %q: want %q or %q", c.Sync, SyncDefault, SyncAlways)
	}
	if c.SyncInterval < 0 {
		return fmt.Errorf("backbone config: SyncInterval %v is negative", c.SyncInterval)
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		return fmt.Errorf("backbone config: Replicas %d: want 1..5", c.Replicas)
	}
	return nil
}

// Backbone is an open connection to JetStream, and the embedded server when
// there is one.
type Backbone struct {
	cfg Config
	srv *server.Server // nil when connected to an external server
	nc  *nats.Conn
	js  jetstream.JetStream
	log *slog.Logger
}

// Open starts the embedded server (unless cfg.URL is set) and connects to it.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Backbone, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	b := &Backbone{cfg: cfg, log: log}
	var opts []nats.Option
	opts = append(opts, nats.Name("updraft"), nats.MaxReconnects(-1))
	url := cfg.URL
	if url == "" {
		srv, err := startEmbedded(cfg)
		if err != nil {
			return nil, err
		}
		b.srv = srv
		opts = append(opts, nats.InProcessServer(srv))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		b.shutdownServer()
		return nil, fmt.Errorf("connect to nats: %w", err)
	}
	b.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("open jetstream: %w", err)
	}
	b.js = js
	if _, err := js.AccountInfo(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("jetstream account info: %w", err)
	}
	return b, nil
}

func startEmbedded(cfg Config) (*server.Server, error) {
	storeDir := filepath.Join(cfg.DataDir, "jetstream")
	if err := os.MkdirAll(storeDir, 0o700); err != nil {
		return nil, fmt.Errorf("create store dir: %w", err)
	}
	opts := &server.Options{
		ServerName:         "updraft",
		JetStream:          true,
		StoreDir:           storeDir,
		DontListen:         true,
		NoSigs:             true,
		NoLog:              true,
		JetStreamMaxMemory: -1,
		JetStreamMaxStore:  -1,
		MaxPayload:         8 << 20,
	}
	switch cfg.Sync {
	case SyncAlways:
		opts.SyncAlways = true
	default:
		opts.SyncInterval = cfg.SyncInterval
		if opts.SyncInterval == 0 {
			opts.SyncInterval = SyncIntervalDefault
		}
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("new embedded nats server: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("embedded nats server not ready after 30s")
	}
	return srv, nil
}

// Conn is the core NATS connection.
func (b *Backbone) Conn() *nats.Conn { return b.nc }

// JetStream is the JetStream handle every service uses.
func (b *Backbone) JetStream() jetstream.JetStream { return b.js }

// Replicas is the replication factor to give new streams and buckets.
func (b *Backbone) Replicas() int { return b.cfg.Replicas }

// Embedded reports whether the backbone runs in this process.
func (b *Backbone) Embedded() bool { return b.srv != nil }

// Close drains the connection and shuts the embedded server down. It is
// safe to call more than once.
func (b *Backbone) Close() {
	if b.nc != nil && !b.nc.IsClosed() {
		if err := b.nc.Drain(); err != nil {
			b.nc.Close()
		}
		for i := 0; i < 200 && !b.nc.IsClosed(); i++ {
			time.Sleep(5 * time.Millisecond)
		}
		b.nc.Close()
	}
	b.shutdownServer()
}

func (b *Backbone) shutdownServer() {
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
		b.srv = nil
	}
}

// KeyValue opens the bucket, creating or updating it to cfg.
func (b *Backbone) KeyValue(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	cfg.Replicas = b.cfg.Replicas
	if cfg.Storage == 0 {
		cfg.Storage = jetstream.FileStorage
	}
	kv, err := b.js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open kv %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// ObjectStore opens the object store, creating it when missing.
func (b *Backbone) ObjectStore(ctx context.Context, cfg jetstream.ObjectStoreConfig) (jetstream.ObjectStore, error) {
	cfg.Replicas = b.cfg.Replicas
	cfg.Storage = jetstream.FileStorage
	os, err := b.js.CreateOrUpdateObjectStore(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open object store %s: %w", cfg.Bucket, err)
	}
	return os, nil
}

// Stream opens the stream, creating or updating it to cfg.
func (b *Backbone) Stream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	cfg.Replicas = b.cfg.Replicas
	if cfg.Storage == 0 {
		cfg.Storage = jetstream.FileStorage
	}
	s, err := b.js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open stream %s: %w", cfg.Name, err)
	}
	return s, nil
}
