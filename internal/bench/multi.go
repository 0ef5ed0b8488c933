package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Defaults of the multi-concurrency scenario.
const (
	// MultiConcurrencyDefault is both the clients and the one
	// environment's PerExecutionEnvironmentMaxConcurrency.
	MultiConcurrencyDefault = 64
	// MultiSleepDefault is how long the I/O-bound pair's handler waits.
	MultiSleepDefault = 20 * time.Millisecond
)

// MultiResult compares one environment serving C invocations at once
// (PerExecutionEnvironmentMaxConcurrency C) with C environments serving
// one each, under the same C closed-loop clients: first with the example
// function (hello, CPU-light), then with a handler that sleeps (I/O-bound).
type MultiResult struct {
	Concurrency int           `json:"concurrency"`
	Duration    time.Duration `json:"durationNs"`
	Sleep       time.Duration `json:"sleepNs"`
	// One and Many are hello on one multi-concurrent environment and on
	// single-invocation environments.
	One  MultiRun `json:"one"`
	Many MultiRun `json:"many"`
	// OneSleep and ManySleep are the same with the sleeping handler.
	OneSleep  MultiRun `json:"oneSleep"`
	ManySleep MultiRun `json:"manySleep"`
}

// MultiRun is one load run and the environments it left.
type MultiRun struct {
	LoadOutcome
	// Envs is how many environments the function had after the run
	// (with multi-concurrency, one more may have started ahead of demand
	// and stayed idle).
	Envs int `json:"envs"`
	// EnvMemoryBytes is their memory after the run.
	EnvMemoryBytes int64 `json:"envMemoryBytes"`
}

// Multi runs the multi-concurrency comparison with c clients for d each.
func (r *Runner) Multi(ctx context.Context, c int, d time.Duration, sleepFor time.Duration) (*MultiResult, error) {
	res := &MultiResult{Concurrency: c, Duration: d, Sleep: sleepFor}
	sleepPayload := []byte(`{"sleepMs":` + strconv.Itoa(int(sleepFor.Milliseconds())) + `}`)
	runs := []struct {
		suffix  string
		zip     []byte
		payload []byte
		multi   bool
		out     *MultiRun
	}{
		{"multi-hello", r.cfg.Code.Hello, helloPayload, true, &res.One},
		{"single-hello", r.cfg.Code.Hello, helloPayload, false, &res.Many},
		{"multi-sleep", r.cfg.Code.Sleeper, sleepPayload, true, &res.OneSleep},
		{"single-sleep", r.cfg.Code.Sleeper, sleepPayload, false, &res.ManySleep},
	}
	for _, run := range runs {
		out, err := r.multiRun(ctx, run.suffix, run.zip, run.payload, run.multi, c, d)
		if err != nil {
			return nil, err
		}
		*run.out = out
	}
	return res, nil
}

// multiRun creates a function (with PerExecutionEnvironmentMaxConcurrency
// c when multi), starts its environments with a warm-up at the same load,
// measures c clients for d, reads how many environments it has, and
// deletes it so the next run starts from an empty node.
func (r *Runner) multiRun(ctx context.Context, suffix string, zip, payload []byte, multi bool, c int, d time.Duration) (MultiRun, error) {
	var out MultiRun
	before, err := r.status(ctx, r.http, false)
	if err != nil {
		return out, err
	}
	name, err := r.function(ctx, suffix, zip, func(in *lambda.CreateFunctionInput) {
		if multi {
			in.CapacityProviderConfig = &types.CapacityProviderConfig{
				LambdaManagedInstancesCapacityProviderConfig: &types.LambdaManagedInstancesCapacityProviderConfig{
					CapacityProviderArn:                   aws.String("arn:aws:lambda:us-east-1:000000000000:capacity-provider:bench"),
					PerExecutionEnvironmentMaxConcurrency: aws.Int32(int32(c)),
				},
			}
		}
	})
	if err != nil {
		return out, err
	}
	url := r.invokeURL(name)
	shape := fmt.Sprintf("%d environments of 1", c)
	if multi {
		shape = fmt.Sprintf("1 environment of %d", c)
		// One invocation first, so the load finds a warm environment with
		// room instead of starting one per client.
		if _, err := sequential(ctx, r.http, url, 0, 1); err.Count > 0 {
			return out, fmt.Errorf("multi: first invoke: %s", err.Samples[0])
		}
	}
	r.progress("multi: %d clients for %s against %s (%s)", c, d, name, shape)
	loadPayload(ctx, r.http, url, payload, c, min(d/5, time.Second))
	out.LoadOutcome = loadPayload(ctx, r.http, url, payload, c, d)
	st, err := r.status(ctx, r.http, true)
	if err != nil {
		return out, err
	}
	out.Envs = st.Envs - before.Envs
	out.EnvMemoryBytes = st.EnvMemoryBytes - before.EnvMemoryBytes
	return out, r.drop(ctx, name, before.Envs)
}

// dropWait bounds how long drop waits for a deleted function's
// environments to go.
const dropWait = time.Minute

// drop deletes a function the Runner created and waits until the node
// is back to envs environments.
func (r *Runner) drop(ctx context.Context, name string, envs int) error {
	if _, err := r.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
		return fmt.Errorf("delete function %s: %w", name, err)
	}
	delete(r.made, name)
	for i, n := range r.created {
		if n == name {
			r.created = append(r.created[:i], r.created[i+1:]...)
			break
		}
	}
	deadline := time.Now().Add(dropWait)
	for {
		st, err := r.status(ctx, r.http, false)
		if err != nil {
			return err
		}
		if st.Envs <= envs {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("deleted %s, but after %s the node still has %d environments (want at most %d)", name, dropWait, st.Envs, envs)
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
}
