package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Defaults of the provisioned scenario.
const (
	ProvisionedSamplesDefault = 30
	// provisionedWarmPerSample is how many warm requests follow each first
	// request on the same provisioned environment.
	provisionedWarmPerSample = 10
	// TargetProvisionedRatio bounds a provisioned environment's first
	// request p50 against the p50 of warm requests after the same pause,
	// in the same run.
	TargetProvisionedRatio = 1.5
)

// ProvisionedResult is the provisioned concurrency scenario's outcome:
// the first request to an environment that provisioned concurrency
// initialised ahead of time, against warm requests and on-demand cold
// starts of the same function in the same run.
type ProvisionedResult struct {
	Samples int `json:"samples"`
	// First is request to response of the first invocation each
	// provisioned environment served.
	First Latency `json:"first"`
	// Warm is request to response of the later invocations on the same
	// environments, back to back.
	Warm Latency `json:"warm"`
	// Rested is a warm request to the same environment after the same
	// pause that preceded the first one: how much of First is the pause.
	Rested Latency `json:"rested"`
	// Cold is request to response of the first invocation of an on-demand
	// environment ($LATEST after a configuration change).
	Cold Latency `json:"cold"`
	// Ready is how long each config took from Put to READY.
	Ready Latency `json:"ready"`
	// Initialised counts first requests that nevertheless ran INIT (an
	// Init Duration in REPORT); they are left out of First.
	Initialised int      `json:"initialised"`
	Errors      errorLog `json:"errors"`
}

// Provisioned measures n samples. Each publishes a new version of the
// example function, puts provisioned concurrency 1 on it, waits for
// READY, then times the first request and provisionedWarmPerSample warm
// ones on that version, one more after the same pause that preceded the
// first, and one cold request of $LATEST.
func (r *Runner) Provisioned(ctx context.Context, n int) (*ProvisionedResult, error) {
	name, err := r.function(ctx, "hello", r.cfg.Code.Hello)
	if err != nil {
		return nil, err
	}
	r.progress("provisioned: %d samples of %s (publish, provision 1, wait READY, first + %d warm requests; a cold $LATEST request)", n, name, provisionedWarmPerSample)
	res := &ProvisionedResult{Samples: n}
	var first, warm, rested, cold, ready []time.Duration
	tail := http.Header{"X-Amz-Log-Type": {"Tail"}}
	var buf bytes.Buffer
	for i := range n {
		version, readyIn, err := r.provisionVersion(ctx, name, i)
		if err != nil {
			return nil, err
		}
		ready = append(ready, readyIn)
		if err := sleep(ctx, settle); err != nil {
			return nil, err
		}
		url := r.invokeURL(name) + "?Qualifier=" + version
		start := time.Now()
		h, err := post(ctx, r.http, url, helloPayload, &buf, tail)
		d := time.Since(start)
		switch {
		case err != nil:
			res.Errors.add(err)
		case coldReport(h):
			res.Initialised++
		default:
			first = append(first, d)
		}
		samples, errs := sequential(ctx, r.http, url, 0, provisionedWarmPerSample)
		warm = append(warm, samples...)
		res.Errors.merge(errs)
		if err := sleep(ctx, settle); err != nil {
			return nil, err
		}
		start = time.Now()
		_, err = post(ctx, r.http, url, helloPayload, &buf, tail)
		if d := time.Since(start); err == nil {
			rested = append(rested, d)
		} else {
			res.Errors.add(err)
		}

		// $LATEST's configuration changed for this sample: its first
		// request starts an on-demand environment.
		start = time.Now()
		h, err = post(ctx, r.http, r.invokeURL(name), helloPayload, &buf, tail)
		d = time.Since(start)
		if err == nil && coldReport(h) {
			cold = append(cold, d)
		} else if err != nil {
			res.Errors.add(err)
		}
		if _, err := r.lambda.DeleteProvisionedConcurrencyConfig(ctx, &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String(name), Qualifier: aws.String(version)}); err != nil {
			return nil, fmt.Errorf("provisioned: delete config: %w", err)
		}
		if _, err := r.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name), Qualifier: aws.String(version)}); err != nil {
			return nil, fmt.Errorf("provisioned: delete version: %w", err)
		}
	}
	res.First, res.Warm, res.Rested = summarize(first), summarize(warm), summarize(rested)
	res.Cold, res.Ready = summarize(cold), summarize(ready)
	return res, nil
}

// provisionVersion changes the function's configuration, publishes it,
// asks for one provisioned environment of the new version and waits until
// it is READY.
func (r *Runner) provisionVersion(ctx context.Context, name string, sample int) (string, time.Duration, error) {
	if _, err := r.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(name),
		Environment:  &types.Environment{Variables: map[string]string{"BENCH_SAMPLE": strconv.Itoa(sample)}},
	}); err != nil {
		return "", 0, fmt.Errorf("provisioned: update configuration: %w", err)
	}
	v, err := r.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name)})
	if err != nil {
		return "", 0, fmt.Errorf("provisioned: publish: %w", err)
	}
	version := aws.ToString(v.Version)
	start := time.Now()
	if _, err := r.lambda.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{
		FunctionName: aws.String(name), Qualifier: aws.String(version), ProvisionedConcurrentExecutions: aws.Int32(1),
	}); err != nil {
		return "", 0, fmt.Errorf("provisioned: put config: %w", err)
	}
	for {
		out, err := r.lambda.GetProvisionedConcurrencyConfig(ctx, &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String(name), Qualifier: aws.String(version)})
		if err != nil {
			return "", 0, fmt.Errorf("provisioned: get config: %w", err)
		}
		switch out.Status {
		case types.ProvisionedConcurrencyStatusEnumReady:
			return version, time.Since(start), nil
		case types.ProvisionedConcurrencyStatusEnumFailed:
			return "", 0, fmt.Errorf("provisioned: config FAILED: %s", aws.ToString(out.StatusReason))
		}
		if err := sleep(ctx, 2*time.Millisecond); err != nil {
			return "", 0, err
		}
	}
}
