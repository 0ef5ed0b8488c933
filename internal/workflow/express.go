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
	// Transitions counts the state transitions the execution made.
	Transitions int
}

// expressLimit is how long an Express execution of m may run: the
// machine's TimeoutSeconds, at most ExpressMax.
func expressLimit(m *states.Machine) time.Duration {
	limit := ExpressMax
	if t := m.TimeoutSeconds; t > 0 && time.Duration(t)*time.Second < limit {
		limit = time.Duration(t) * time.Second
	}
	return limit
}

// expressARN names an Express execution. Express names need not be
// unique, so the ARN ends in a UUID of its own, as on AWS.
func (s *Machines) expressARN(m *Machine, name string) string {
	return "arn:aws:states:" + s.region + ":" + s.account + ":express:" + m.Name + ":" + name + ":" + function.NewUUID()
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
	if err := CheckExecutionName(name); err != nil {
		return nil, err
	}
	start := time.Now().UTC()
	info := states.Info{ExecutionID: s.expressARN(m, name), ExecutionName: name, RoleArn: m.RoleArn, StartTime: start, StateMachineID: m.StateMachineArn, StateMachineName: m.Name}
	// The execution runs to its end even if the caller goes away: it is
	// at most once, never cut short.
	return runExpress(context.WithoutCancel(ctx), tasks, m.parsed, info, input, start.Add(expressLimit(m.parsed))), nil
}

// runExpress runs an execution in memory until it ends or deadline
// passes (then it times out). A driver goroutine applies events one at a
// time while tasks run concurrently and timers are time.AfterFunc. If ctx
// is canceled first, it returns at once with Status still RUNNING.
func runExpress(ctx context.Context, tasks *Tasks, m *states.Machine, info states.Info, input any, deadline time.Time) *Result {
	parent := ctx
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	x, step := m.Start(info, input, info.StartTime, states.Env{})
	res := &Result{ExecutionArn: info.ExecutionID, Name: info.ExecutionName, Start: info.StartTime, Input: input, Transitions: step.Transitions}
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
			res.Transitions += next.Transitions
			d.handle(next)
		case <-ctx.Done():
			if parent.Err() != nil {
				d.stopAll()
				res.Status = states.Running
				return res
			}
			next, _ := x.Apply(states.Event{Kind: states.TimedOut, Time: time.Now().UTC()})
			if next != nil {
				d.handle(next)
			}
		}
	}
	d.stopAll()
	res.Stop, res.Status, res.Output, res.Err = time.Now().UTC(), x.Status, x.Output, x.Err
	return res
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
