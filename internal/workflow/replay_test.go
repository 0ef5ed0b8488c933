package workflow

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/backbone"
	"github.com/updraft/updraft/internal/states"
)

// replayFixture is a backbone with stored executions: waiting ones (a
// Wait of a day) and ended ones (Pass states only).
type replayFixture struct {
	bb       *backbone.Backbone
	machines *Machines
}

func newReplayFixture(tb testing.TB, waiting, ended int) *replayFixture {
	tb.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bb, err := backbone.Open(ctx, backbone.Config{DataDir: tb.TempDir()}, log)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(bb.Close)
	ms, err := NewMachines(ctx, bb, "us-east-1", "000000000000", log)
	if err != nil {
		tb.Fatal(err)
	}
	if err := ms.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = ms.Stop(ctx) })
	role := "arn:aws:iam::000000000000:role/r"
	wait, err := ms.Create(ctx, CreateInput{Name: "wait", RoleArn: role, Definition: `{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 86400, "Next": "P"}, "P": {"Type": "Pass", "End": true}}}`})
	if err != nil {
		tb.Fatal(err)
	}
	pass, err := ms.Create(ctx, CreateInput{Name: "pass", RoleArn: role, Definition: `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}}`})
	if err != nil {
		tb.Fatal(err)
	}
	f := &replayFixture{bb: bb, machines: ms}
	e := f.start(tb)
	var ends []*Run
	for range ended {
		r, err := e.StartExecution(ctx, pass, "", []byte(`{"n": 1}`))
		if err != nil {
			tb.Fatal(err)
		}
		ends = append(ends, r)
	}
	// An ended execution's summary is written after it ends, without
	// waiting; one not yet written when the node stops is lost, and the
	// next start replays that execution's events instead. The fixture
	// wants every summary stored.
	for _, r := range ends {
		for deadline := time.Now().Add(20 * time.Second); !r.summaryStored.Load(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				tb.Fatalf("the summary of %s was not stored", r.arn)
			}
		}
	}
	for range waiting {
		if _, err := e.StartExecution(ctx, wait, "", []byte(`{"n": 1}`)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := e.Stop(ctx); err != nil {
		tb.Fatal(err)
	}
	return f
}

// start starts an Executions on the fixture's backbone and waits for
// its replay.
func (f *replayFixture) start(tb testing.TB) *Executions {
	tb.Helper()
	ctx := context.Background()
	e, err := NewExecutions(ctx, f.bb, f.machines, &Tasks{}, ExecutionsConfig{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	return e
}

func (f *replayFixture) replay(tb testing.TB) *Executions {
	tb.Helper()
	e := f.start(tb)
	select {
	case <-e.Replayed():
	case <-time.After(20 * time.Second):
		tb.Fatal("replay did not finish")
	}
	for deadline := time.Now().Add(20 * time.Second); !e.driving(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatal("the node did not take the executions lease")
		}
	}
	return e
}

func TestExecutions_ReplaySkipsEnded(t *testing.T) {
	f := newReplayFixture(t, 3, 5)
	e := f.replay(t)
	defer func() { _ = e.Stop(context.Background()) }()
	waiting, ended := 0, 0
	for _, m := range []string{"wait", "pass"} {
		for _, r := range e.List(m) {
			switch {
			case r.closed() && r.Snapshot().Status == states.Succeeded:
				ended++
			case !r.closed() && r.Snapshot().Status == states.Running:
				waiting++
			default:
				t.Errorf("%s: closed %v, status %s", r.arn, r.closed(), r.Snapshot().Status)
			}
		}
	}
	if waiting != 3 || ended != 5 {
		t.Errorf("got %d waiting and %d ended from summaries, want 3 and 5", waiting, ended)
	}
	// The history of an ended execution is read back when asked for.
	r := e.List("pass")[0]
	h, err := e.History(context.Background(), r)
	if err != nil || len(h) == 0 || h[0].Type != "ExecutionStarted" || h[len(h)-1].Type != "ExecutionSucceeded" {
		t.Errorf("history of an ended execution: %v %v", h, err)
	}

	// When the last stored record is one of an ended execution, the
	// replay still ends.
	pass, _ := f.machines.Get(f.machines.ARN("pass"))
	if _, err := e.StartExecution(context.Background(), pass, "last", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := e.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	e = f.replay(t)
	if r, err := e.Get(e.ExecutionARN("pass", "last")); err != nil || !r.closed() {
		t.Errorf("the last execution: %v %v", r, err)
	}
}

// BenchmarkExecutions_Replay times a node's start over 10,000 waiting
// executions, with and without 50,000 ended ones stored before them.
func BenchmarkExecutions_Replay(b *testing.B) {
	for _, c := range []struct {
		name           string
		waiting, ended int
	}{{"waiting=10000", 10000, 0}, {"waiting=10000,ended=50000", 10000, 50000}} {
		b.Run(c.name, func(b *testing.B) {
			f := newReplayFixture(b, c.waiting, c.ended)
			for b.Loop() {
				e := f.replay(b)
				b.StopTimer()
				_ = e.Stop(context.Background())
				b.StartTimer()
			}
		})
	}
}

// TestExecutions_Checkpoint: a replay starts at the checkpoint, below
// which every execution had ended and been summarised, and still knows
// every execution.
func TestExecutions_Checkpoint(t *testing.T) {
	f := newReplayFixture(t, 0, 4)
	ctx := context.Background()
	e := f.replay(t)
	wait, _ := f.machines.Get(f.machines.ARN("wait"))
	pass, _ := f.machines.Get(f.machines.ARN("pass"))
	// Running, ended, running, ended: the low-water mark is the first
	// running one's start, though later executions have ended.
	for _, start := range []struct {
		m    *Machine
		name string
	}{{wait, "w1"}, {pass, "p1"}, {wait, "w2"}, {pass, "p2"}} {
		if _, err := e.StartExecution(ctx, start.m, start.name, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	w1, _ := e.Get(e.ExecutionARN("wait", "w1"))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		p2, _ := e.Get(e.ExecutionARN("pass", "p2"))
		if p2.summaryStored.Load() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the summary was not confirmed")
		}
	}
	e.writeCheckpoint()
	if e.checkpointed.Load() != w1.startSeq || w1.startSeq <= 1 {
		t.Fatalf("checkpoint at %d, want w1's start %d", e.checkpointed.Load(), w1.startSeq)
	}
	if err := e.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	e = f.replay(t)
	defer func() { _ = e.Stop(ctx) }()
	if e.checkpointed.Load() != w1.startSeq {
		t.Errorf("replayed from %d, want %d", e.checkpointed.Load(), w1.startSeq)
	}
	for _, c := range []struct {
		machine, name, status string
	}{{"wait", "w1", states.Running}, {"wait", "w2", states.Running}, {"pass", "p1", states.Succeeded}, {"pass", "p2", states.Succeeded}} {
		r, err := e.Get(e.ExecutionARN(c.machine, c.name))
		if err != nil || r.Snapshot().Status != c.status {
			t.Errorf("%s: %v %v, want %s", c.name, r, err, c.status)
			continue
		}
		if c.status == states.Running && len(r.outstanding) != 1 {
			t.Errorf("%s: %d outstanding commands, want its timer", c.name, len(r.outstanding))
		}
	}
	if got := len(e.List("pass")); got != 6 {
		t.Errorf("listed %d ended executions, want 6", got)
	}
}
