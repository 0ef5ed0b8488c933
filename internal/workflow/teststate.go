package workflow

import (
	"context"
	"time"

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
	return states.TestState(req)
}
