package workflow

import (
	"context"
	"fmt"
	"time"

	"github.com/updraft/updraft/internal/function"
	"github.com/updraft/updraft/internal/states"
)

// TestState runs one state once (the TestState API): without a mock its
// task runs for real through t, except one that waits for a task token,
// which cannot be answered within the call.
func (t *Tasks) TestState(ctx context.Context, req states.TestStateRequest) (*states.TestStateResult, error) {
	req.RunTask = func(c states.Command) (any, *states.Error) {
		if WaitsForToken(c.Resource) {
			return nil, &states.Error{Name: states.ErrTaskFailed, Cause: "TestState cannot wait for a task token; give a mock result instead"}
		}
		tctx := ctx
		if c.TimeoutSeconds > 0 {
			var cancel context.CancelFunc
			tctx, cancel = context.WithTimeout(ctx, time.Duration(c.TimeoutSeconds)*time.Second)
			defer cancel()
		}
		return t.Run(tctx, c.Resource, c.Input)
	}
	if req.Now.IsZero() {
		req.Now = time.Now().UTC()
	}
	if req.Info.ExecutionID == "" {
		// The state runs as one step of an Express execution of a state
		// machine made up for the test, as on AWS.
		machine, name := "TestState-"+function.NewUUID()[:8], function.NewUUID()
		req.Info = states.Info{
			ExecutionID:      fmt.Sprintf("arn:aws:states:%s:%s:express:%s:%s", t.Region, t.Account, machine, name),
			ExecutionName:    name,
			RoleArn:          req.RoleArn,
			StartTime:        req.Now,
			StateMachineID:   fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", t.Region, t.Account, machine),
			StateMachineName: machine,
		}
	}
	return states.TestState(req)
}
