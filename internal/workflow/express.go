package workflow

import (
	"context"
	"time"

	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/function"
	"github.com/updraft/updraft/internal/states"
)

// ExpressMax is the longest an Express execution may run (AWS: 5 minutes).
const ExpressMax = 5 * time.Minute

// Result is how an execution ended.
type Result struct {
	ExecutionArn string
	Name         string
	Start, Stop  time.Time
	Status       string
	Input        any
	Output       any
	Err          *states.Error
}

// RunSync runs an Express execution to its end, in memory, and returns
// its result (StartSyncExecution).
func (s *Machines) RunSync(ctx context.Context, tasks *Tasks, m *Machine, name string, input any) (*Result, error) {
	if m.Type != Express {
		return nil, fault.Typed(fault.InvalidParameter, "StateMachineTypeNotSupported", "This operation is not supported by this type of state machine")
	}
	if name == "" {
		name = function.NewUUID()
	}
	if !namePattern.MatchString(name) {
		return nil, fault.Typed(fault.InvalidParameter, "InvalidName", "Invalid Name: '%s'", name)
	}
	limit := ExpressMax
	if t := m.parsed.TimeoutSeconds; t > 0 && time.Duration(t)*time.Second < limit {
		limit = time.Duration(t) * time.Second
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
	defer cancel()
	start := time.Now().UTC()
	arn := "arn:aws:states:" + s.region + ":" + s.account + ":express:" + m.Name + ":" + name + ":" + function.NewUUID()
	info := states.Info{ExecutionID: arn, ExecutionName: name, RoleArn: m.RoleArn, StartTime: start, StateMachineID: m.StateMachineArn, StateMachineName: m.Name}
	x, step := m.parsed.Start(info, input, start, states.Env{})
	d := &driver{ctx: ctx, tasks: tasks, events: make(chan states.Event, 64), cancels: map[string]func(){}}
	d.handle(step)
	for x.Status == states.Running {
		select {
		case ev := <-d.events:
			if _, live := d.cancels[ev.Command]; !live {
				continue // answered after it was withdrawn
			}
			delete(d.cancels, ev.Command)
			ev.Time = time.Now().UTC()
			next, err := x.Apply(ev)
			if err != nil {
				continue
			}
			d.handle(next)
		case <-ctx.Done():
			next, _ := x.Apply(states.Event{Kind: states.TimedOut, Time: time.Now().UTC()})
			if next != nil {
				d.handle(next)
			}
		}
	}
	d.stopAll()
	return &Result{ExecutionArn: arn, Name: name, Start: start, Stop: time.Now().UTC(), Status: x.Status, Input: input, Output: x.Output, Err: x.Err}, nil
}

// driver carries out an in-memory execution's commands.
type driver struct {
	ctx     context.Context
	tasks   *Tasks
	events  chan states.Event
	cancels map[string]func()
}

func (d *driver) handle(step *states.Step) {
	for _, c := range step.Commands {
		switch c.Kind {
		case states.RunTask:
			tctx, cancel := context.WithCancel(d.ctx)
			stop := cancel
			if c.TimeoutSeconds > 0 {
				// Whichever comes first, the answer or the timeout, is applied;
				// the other is dropped as no longer pending.
				id := c.ID
				t := time.AfterFunc(time.Duration(c.TimeoutSeconds)*time.Second, func() {
					d.send(states.Event{Kind: states.TaskFailed, Command: id, Err: &states.Error{Name: states.ErrTimeout, Cause: "The task timed out."}})
				})
				stop = func() { t.Stop(); cancel() }
			}
			d.cancels[c.ID] = stop
			go func(c states.Command) {
				if WaitsForToken(c.Resource) {
					d.send(states.Event{Kind: states.TaskFailed, Command: c.ID, Err: &states.Error{Name: states.ErrRuntime, Cause: "Express workflows do not support the .waitForTaskToken integration pattern."}})
					return
				}
				out, err := d.tasks.Run(tctx, c.Resource, c.Input)
				if err != nil {
					d.send(states.Event{Kind: states.TaskFailed, Command: c.ID, Err: err})
					return
				}
				d.send(states.Event{Kind: states.TaskSucceeded, Command: c.ID, Output: out})
			}(c)
		case states.StartTimer:
			id := c.ID
			t := time.AfterFunc(time.Until(c.At), func() { d.send(states.Event{Kind: states.TimerFired, Command: id}) })
			d.cancels[id] = func() { t.Stop() }
		case states.Cancel:
			if stop, ok := d.cancels[c.ID]; ok {
				stop()
				delete(d.cancels, c.ID)
			}
		}
	}
}

// send delivers an event unless the execution has ended.
func (d *driver) send(ev states.Event) {
	select {
	case d.events <- ev:
	case <-d.ctx.Done():
	}
}

func (d *driver) stopAll() {
	for id, stop := range d.cancels {
		stop()
		delete(d.cancels, id)
	}
}
