package workflow

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/backbone"
	"github.com/updraft/updraft/internal/function"
)

// Several nodes may share one backbone. Every node follows every STANDARD
// execution (so any node answers Describe, History and List, and knows
// each execution's state), but only the node holding the executions
// lease drives them: issues their tasks and timers, starts their
// children, answers their parents and writes their summaries. The lease
// is one key of a KV bucket whose entries expire LeaseTTL after their
// last write; its holder renews it every third of that with a
// revision-checked update. A node that fails to renew stops driving at
// once (its running tasks are canceled, their commands forgotten); a
// node that finds the key gone takes it and issues every outstanding
// command, as a restarted node does after its replay. A task of the
// old holder that was cut short runs again: tasks are at least once,
// transitions exactly once (events are facts, appended in one order that
// every node applies; an answer to a command no longer pending is
// dropped).

// BucketLeases holds the executions lease.
const BucketLeases = "updraft_leases"

// LeaseTTLDefault is how long a lease outlives its holder's last renewal.
const LeaseTTLDefault = 10 * time.Second

const leaseKey = "executions"

// ExecutionsConfig configures Executions.
type ExecutionsConfig struct {
	// LeaseTTL is how soon another node takes over the executions of a
	// node that stopped renewing its lease. Default LeaseTTLDefault.
	LeaseTTL time.Duration
	// Node names this node in the lease; a node that restarts with the
	// same name takes its lease back at once instead of waiting for it
	// to expire. Default a random UUID.
	Node string
}

type lease struct {
	kv   jetstream.KeyValue
	node string
	ttl  time.Duration
	rev  atomic.Uint64 // of the key's last write by this node
	held atomic.Bool
}

func openLease(ctx context.Context, bb *backbone.Backbone, cfg ExecutionsConfig) (*lease, error) {
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = LeaseTTLDefault
	}
	if cfg.Node == "" {
		cfg.Node = function.NewUUID()
	}
	kv, err := bb.KeyValue(ctx, jetstream.KeyValueConfig{Bucket: BucketLeases, History: 1, TTL: cfg.LeaseTTL})
	if err != nil {
		return nil, err
	}
	return &lease{kv: kv, node: cfg.Node, ttl: cfg.LeaseTTL}, nil
}

// try takes the lease if it is free or renews it if held; it reports
// whether this node holds it afterwards.
func (l *lease) try(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, l.ttl/3)
	defer cancel()
	var rev uint64
	var err error
	if l.held.Load() {
		rev, err = l.kv.Update(ctx, leaseKey, []byte(l.node), l.rev.Load())
	} else {
		rev, err = l.kv.Create(ctx, leaseKey, []byte(l.node))
		if errors.Is(err, jetstream.ErrKeyExists) {
			// Still ours from before a crash: this node restarted.
			if cur, gerr := l.kv.Get(ctx, leaseKey); gerr == nil && string(cur.Value()) == l.node {
				rev, err = l.kv.Update(ctx, leaseKey, []byte(l.node), cur.Revision())
			}
		}
	}
	if err != nil {
		return false
	}
	l.rev.Store(rev)
	return true
}

// release gives the lease up, so another node takes over at once.
func (l *lease) release(ctx context.Context) {
	if l.held.Swap(false) {
		_ = l.kv.Delete(ctx, leaseKey, jetstream.LastRevision(l.rev.Load()))
	}
}

// driving reports whether this node drives the executions.
func (e *Executions) driving() bool { return e.lease.held.Load() }

// keepLease takes and renews the lease until the node stops.
func (e *Executions) keepLease() {
	defer e.wg.Done()
	t := time.NewTicker(e.lease.ttl / 3)
	defer t.Stop()
	for {
		held := e.lease.try(e.ctx)
		switch {
		case held && !e.driving():
			e.log.Info("driving executions", "node", e.lease.node)
			e.driveMu.Lock()
			e.lease.held.Store(true)
			if e.caughtUp {
				e.issueAll()
				e.summarizeEnded()
			}
			e.driveMu.Unlock()
		case !held && e.driving():
			e.log.Warn("lost the executions lease; another node drives them", "node", e.lease.node)
			e.driveMu.Lock()
			e.lease.held.Store(false)
			e.forgetIssued()
			e.driveMu.Unlock()
		}
		e.writeCheckpoint()
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// summarizeEnded writes the summary of every execution that ended while
// this node did not drive; the fence drops those the driver then wrote.
func (e *Executions) summarizeEnded() {
	e.mu.Lock()
	var ended []*Run
	for _, r := range e.runs {
		if r.ended && !r.closed() {
			ended = append(ended, r)
		}
	}
	e.mu.Unlock()
	for _, r := range ended {
		e.storeEnd(r)
	}
}

// forgetIssued cancels every task and timer this node runs and forgets
// it issued them, so they are issued again if this node drives again.
func (e *Executions) forgetIssued() {
	e.mu.Lock()
	runs := make([]*Run, 0, len(e.runs))
	for _, r := range e.runs {
		runs = append(runs, r)
	}
	e.mu.Unlock()
	for _, r := range runs {
		r.stopAll()
		clear(r.issued)
	}
}
