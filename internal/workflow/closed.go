package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/states"
)

// An execution that has ended gets one more message, on its own subject
// "end.<machine>.<name>" of the executions stream: a summary of how it
// ended (endRecord). A starting node reads the summaries first; then, as
// it replays "exec.>", it skips every record of an execution with a
// summary instead of running the interpreter over it again. So a restart
// costs a little per ended execution and a replay only per running one.
// The summary is written after the execution's last event, fenced to be
// the subject's first message; if the node dies in between, the next
// start replays that execution in full and writes it then.
//
// History of an ended execution is rebuilt from its subject when asked
// for (GetExecutionHistory); its events themselves are never rewritten.

type endRecord struct {
	MachineArn string          `json:"machineArn"`
	Status     string          `json:"status"`
	Input      json.RawMessage `json:"input"`
	Output     json.RawMessage `json:"output,omitempty"`
	Err        *states.Error   `json:"err,omitempty"`
	Start      time.Time       `json:"start"`
	Stop       time.Time       `json:"stop"`
	Parent     string          `json:"parent,omitempty"`
}

// loadClosed reads every end summary and records its execution as
// closed, before the follower starts.
func (e *Executions) loadClosed(ctx context.Context) error {
	cons, err := e.js.OrderedConsumer(ctx, StreamExecutions, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"end.>"}})
	if err != nil {
		return fmt.Errorf("read ended executions: %w", err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("read ended executions: %w", err)
	}
	if info.NumPending == 0 {
		return nil
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(replayBatch))
	if err != nil {
		return fmt.Errorf("read ended executions: %w", err)
	}
	defer it.Stop()
	for {
		msg, err := it.Next()
		if err != nil {
			return fmt.Errorf("read ended executions: %w", err)
		}
		e.closeFromRecord(msg.Subject(), msg.Data())
		if meta, err := msg.Metadata(); err == nil && meta.NumPending == 0 {
			return nil
		}
	}
}

func (e *Executions) closeFromRecord(subject string, data []byte) {
	parts := strings.Split(subject, ".")
	if len(parts) != 3 {
		return
	}
	name, ok := nameFromToken(parts[2])
	if !ok {
		return
	}
	var rec endRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		e.log.Error("decode execution summary", "subject", subject, "err", err)
		return
	}
	arn := e.ExecutionARN(parts[1], name)
	// A light run: it takes no events, so it needs no command maps, and
	// its input and output are decoded only when asked for.
	r := &Run{arn: arn, machine: parts[1], name: name, subject: "exec." + parts[1] + "." + parts[2],
		started: closedStarted, startedOnce: func() {}, ended: true, parent: rec.Parent, rawInput: rec.Input, start: rec.Start,
		final:       &Snapshot{ExecutionArn: arn, MachineArn: rec.MachineArn, Name: name, Status: rec.Status, Start: rec.Start, Stop: rec.Stop, Err: rec.Err},
		finalOutput: rec.Output}
	e.mu.Lock()
	if e.runs[arn] == nil {
		e.runs[arn] = r
	}
	e.mu.Unlock()
}

// closedStarted is the started channel of every run read from a summary.
var closedStarted = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// finalSnapshot is a summarised run's snapshot, its input and output
// decoded on first use. r.mu is held.
func (r *Run) finalSnapshot() Snapshot {
	if !r.finalDecoded {
		r.final.Input, _ = states.Decode(r.rawInput)
		if len(r.finalOutput) > 0 {
			r.final.Output, _ = states.Decode(r.finalOutput)
		}
		r.finalDecoded, r.finalOutput = true, nil
	}
	return *r.final
}

// storeEnd writes r's summary without waiting for the backbone: a
// summary lost to a crash is written again after the replay.
func (e *Executions) storeEnd(r *Run) {
	if r.summarized {
		return
	}
	r.summarized = true
	snap := r.snapshot()
	rec := endRecord{MachineArn: snap.MachineArn, Status: snap.Status, Input: r.rawInput, Err: snap.Err, Start: snap.Start, Stop: snap.Stop, Parent: r.parentOf()}
	if snap.Status == states.Succeeded {
		rec.Output = json.RawMessage(states.Encode(snap.Output))
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return
	}
	msg := nats.NewMsg("end." + r.machine + "." + subjectToken(r.name))
	msg.Data = data
	msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0") // once per execution
	f, err := e.js.PublishMsgAsync(msg)
	if err != nil {
		e.log.Warn("store execution summary", "execution", r.arn, "err", err)
		return
	}
	select {
	case e.summaries <- pendingSummary{r, f}:
	case <-e.ctx.Done():
	}
}

type pendingSummary struct {
	r *Run
	f jetstream.PubAckFuture
}

// confirmSummaries marks each run whose summary the backbone has stored
// (or already had: the fence refused a second one), for checkpoints.
func (e *Executions) confirmSummaries() {
	defer e.wg.Done()
	for {
		select {
		case <-e.ctx.Done():
			return
		case p := <-e.summaries:
			select {
			case <-p.f.Ok():
				p.r.summaryStored.Store(true)
			case err := <-p.f.Err():
				var apiErr *jetstream.APIError
				if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
					p.r.summaryStored.Store(true)
				} else {
					e.log.Warn("store execution summary", "execution", p.r.arn, "err", err)
				}
			case <-e.ctx.Done():
				return
			}
		}
	}
}

// The checkpoint ("ckpt.executions", last message wins) names the
// stream sequence from which a starting node must replay "exec.>": below
// it, every execution that had started had also ended and had its
// summary stored, so a replay from there loses nothing and skips the
// bulk of old histories. The driving node writes it every few seconds.
const subjectCheckpoint = "ckpt.executions"

type checkpoint struct {
	From uint64 `json:"from"`
}

// lowWater is where a replay must start now: the start record of the
// oldest execution this node knows without a stored summary, or just
// past the last record it has applied. driveMu is held.
func (e *Executions) lowWater() uint64 {
	from := e.lastSeq + 1
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.runs {
		if r.startSeq > 0 && r.startSeq < from && !r.summaryStored.Load() && !r.closed() {
			from = r.startSeq
		}
	}
	return from
}

// writeCheckpoint stores the low-water mark if it moved.
func (e *Executions) writeCheckpoint() {
	e.driveMu.Lock()
	if !e.caughtUp || !e.driving() {
		e.driveMu.Unlock()
		return
	}
	from := e.lowWater()
	e.driveMu.Unlock()
	if from <= e.checkpointed.Load() {
		return
	}
	data, _ := json.Marshal(checkpoint{From: from})
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	if _, err := e.js.Publish(ctx, subjectCheckpoint, data); err != nil {
		e.log.Warn("store executions checkpoint", "err", err)
		return
	}
	e.checkpointed.Store(from)
}

// readCheckpoint returns where to start the replay (1 without one).
func (e *Executions) readCheckpoint(ctx context.Context) uint64 {
	msg, err := e.stream.GetLastMsgForSubject(ctx, subjectCheckpoint)
	if err != nil {
		return 1
	}
	var c checkpoint
	if json.Unmarshal(msg.Data, &c) != nil || c.From == 0 {
		return 1
	}
	e.checkpointed.Store(c.From)
	return c.From
}

// History returns an execution's history events. Those of an execution
// that had ended before this node started are read from the backbone.
func (e *Executions) History(ctx context.Context, r *Run) ([]states.History, error) {
	r.mu.Lock()
	closed := r.x == nil && r.final != nil
	r.mu.Unlock()
	if !closed {
		return r.History(), nil
	}
	cons, err := e.js.OrderedConsumer(ctx, StreamExecutions, jetstream.OrderedConsumerConfig{FilterSubjects: []string{r.subject}})
	if err != nil {
		return nil, fmt.Errorf("read execution history: %w", err)
	}
	it, err := cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("read execution history: %w", err)
	}
	defer it.Stop()
	tmp := &Run{arn: r.arn, machine: r.machine, name: r.name, subject: r.subject, outstanding: map[string]states.Command{}, issued: map[string]bool{}}
	for {
		msg, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("read execution history: %w", err)
		}
		e.applyRecord(tmp, msg.Data(), false)
		if meta, err := msg.Metadata(); err != nil || meta.NumPending == 0 {
			return tmp.History(), nil
		}
	}
}

// definitions caches parsed definitions by their text's hash: replaying
// many executions of one machine parses it once. A states.Machine is
// safe for concurrent use.
type definitions struct {
	mu sync.Mutex
	m  map[[32]byte]*states.Machine
}

// definitionsMax bounds the cache; past it, it starts over.
const definitionsMax = 1024

func (d *definitions) parse(definition string) (*states.Machine, error) {
	key := sha256.Sum256([]byte(definition))
	d.mu.Lock()
	m := d.m[key]
	d.mu.Unlock()
	if m != nil {
		return m, nil
	}
	m, err := states.Parse([]byte(definition))
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if d.m == nil || len(d.m) >= definitionsMax {
		d.m = map[[32]byte]*states.Machine{}
	}
	d.m[key] = m
	d.mu.Unlock()
	return m, nil
}
