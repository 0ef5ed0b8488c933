package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/json"
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
	if _, err := e.js.PublishMsgAsync(msg); err != nil {
		e.log.Warn("store execution summary", "execution", r.arn, "err", err)
	}
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
