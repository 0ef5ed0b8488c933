package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/backbone"
	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/function"
	"github.com/updraft/updraft/internal/states"
)

// StreamExpress holds the asynchronous Express executions that have been
// started and have not yet run to their end: one message per execution
// on "express.<machine>", removed (work-queue retention) once a node has
// run it. A node that dies mid-run never acknowledges its message, so
// the backbone hands it to a node again after the ack wait: async
// Express is at-least-once, as on AWS.
const StreamExpress = "UPDRAFT_EXPRESS"

// Defaults of ExpressConfig.
const (
	ExpressAckWaitDefault = 30 * time.Second
	ExpressWorkersDefault = 4096
)

// ExpressConfig configures ExpressQueue.
type ExpressConfig struct {
	// AckWait is how soon an execution cut short by a crash runs again.
	// The node renews it while an execution runs. Default 30 s.
	AckWait time.Duration
	// Workers is how many async Express executions one node runs at once.
	// Default 4096.
	Workers int
}

// expressStart is the stored start of an async Express execution:
// everything a node needs to run it, including the definition as it was
// when it started.
type expressStart struct {
	ExecutionArn string          `json:"executionArn"`
	MachineArn   string          `json:"machineArn"`
	Machine      string          `json:"machine"`
	Definition   string          `json:"definition"`
	RoleArn      string          `json:"roleArn"`
	Name         string          `json:"name"`
	Input        json.RawMessage `json:"input"`
	Time         time.Time       `json:"time"`
}

// ExpressQueue runs asynchronous Express executions (StartExecution on
// an EXPRESS machine). It is safe for concurrent use.
type ExpressQueue struct {
	cfg      ExpressConfig
	machines *Machines
	tasks    *Tasks
	js       jetstream.JetStream
	stream   jetstream.Stream
	log      *slog.Logger

	workers *backbone.Workers

	mu sync.Mutex
	cc jetstream.ConsumeContext
}

// NewExpressQueue opens the stream of async Express starts.
func NewExpressQueue(ctx context.Context, bb *backbone.Backbone, machines *Machines, tasks *Tasks, cfg ExpressConfig, log *slog.Logger) (*ExpressQueue, error) {
	if cfg.AckWait <= 0 {
		cfg.AckWait = ExpressAckWaitDefault
	}
	if cfg.Workers <= 0 {
		cfg.Workers = ExpressWorkersDefault
	}
	st, err := bb.Stream(ctx, jetstream.StreamConfig{
		Name:      StreamExpress,
		Subjects:  []string{"express.>"},
		Retention: jetstream.WorkQueuePolicy,
	})
	if err != nil {
		return nil, err
	}
	return &ExpressQueue{cfg: cfg, machines: machines, tasks: tasks, js: bb.JetStream(), stream: st, log: log, workers: backbone.NewWorkers()}, nil
}

// Start runs stored executions, those left by a crash included, and each
// one started later. Every node shares one durable consumer, so each
// execution runs on one node at a time.
func (q *ExpressQueue) Start(ctx context.Context) error {
	cons, err := q.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       "express",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       q.cfg.AckWait,
		MaxAckPending: q.cfg.Workers,
		MaxDeliver:    -1,
	})
	if err != nil {
		return fmt.Errorf("express consumer: %w", err)
	}
	cc, err := q.workers.Consume(cons, q.cfg.Workers, q.cfg.AckWait, q.run)
	if err != nil {
		return fmt.Errorf("express consume: %w", err)
	}
	q.mu.Lock()
	q.cc = cc
	q.mu.Unlock()
	return nil
}

// Stop stops taking executions and cuts short the ones running, which
// are not acknowledged and so run again (on this node after a restart,
// or on another node).
func (q *ExpressQueue) Stop(ctx context.Context) error {
	q.mu.Lock()
	cc := q.cc
	q.cc = nil
	q.mu.Unlock()
	if cc != nil {
		cc.Stop()
	}
	q.workers.Cancel()
	return q.workers.Close(ctx)
}

// StartExecution stores a new async Express execution, then answers; the
// execution runs in memory on whichever node takes it. Names need not be
// unique: each call starts a new execution.
func (q *ExpressQueue) StartExecution(ctx context.Context, m *Machine, name string, input []byte) (arn string, start time.Time, err error) {
	if m.Type != Express {
		return "", time.Time{}, fault.Typed(fault.InvalidParameter, "StateMachineTypeNotSupported", "This operation is not supported by this type of state machine")
	}
	if name == "" {
		name = function.NewUUID()
	}
	if err := CheckExecutionName(name); err != nil {
		return "", time.Time{}, err
	}
	rec := expressStart{ExecutionArn: q.machines.expressARN(m, name), MachineArn: m.StateMachineArn, Machine: m.Name, Definition: m.Definition,
		RoleArn: m.RoleArn, Name: name, Input: input, Time: time.Now().UTC()}
	data, err := json.Marshal(rec)
	if err != nil {
		return "", time.Time{}, err
	}
	msg := nats.NewMsg("express." + subjectToken(m.Name))
	msg.Data = data
	msg.Header.Set(jetstream.MsgIDHeader, rec.ExecutionArn)
	if _, err := q.js.PublishMsg(ctx, msg); err != nil {
		return "", time.Time{}, fmt.Errorf("store express execution %s: %w", rec.ExecutionArn, err)
	}
	return rec.ExecutionArn, rec.Time, nil
}

// run runs one stored execution and acknowledges it once it has ended.
func (q *ExpressQueue) run(ctx context.Context, m jetstream.Msg) {
	var rec expressStart
	if err := json.Unmarshal(m.Data(), &rec); err != nil {
		q.log.Error("decode express execution", "err", err)
		_ = m.Term()
		return
	}
	res, err := q.execute(ctx, rec)
	if errors.Is(err, context.Canceled) {
		return // the node is stopping: not acknowledged, so it runs again
	}
	if err != nil {
		q.log.Error("run express execution", "execution", rec.ExecutionArn, "err", err)
		_ = m.Term()
		return
	}
	if err := m.Ack(); err != nil {
		q.log.Warn("acknowledge express execution", "execution", rec.ExecutionArn, "err", err)
	}
	q.log.Debug("express execution ended", "execution", res.ExecutionArn, "status", res.Status, "transitions", res.Transitions)
}

func (q *ExpressQueue) execute(ctx context.Context, rec expressStart) (*Result, error) {
	parsed, err := states.Parse([]byte(rec.Definition))
	if err != nil {
		return nil, fmt.Errorf("parse stored definition: %w", err)
	}
	input, err := states.Decode(rec.Input)
	if err != nil {
		return nil, fmt.Errorf("decode stored input: %w", err)
	}
	info := states.Info{ExecutionID: rec.ExecutionArn, ExecutionName: rec.Name, RoleArn: rec.RoleArn, StartTime: rec.Time,
		StateMachineID: rec.MachineArn, StateMachineName: rec.Machine}
	// A run again after a crash keeps the original start and deadline.
	res := runExpress(ctx, q.tasks, parsed, info, input, rec.Time.Add(expressLimit(parsed)))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return res, nil
}
