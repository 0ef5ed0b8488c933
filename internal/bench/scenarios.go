package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// helloPayload is what the example function is invoked with.
var helloPayload = []byte(`{"name":"bench"}`)

// settle is the pause between cold samples, so that the environment
// retired by the previous sample (or the baseline process just killed) is
// gone before the next one is timed.
const settle = 25 * time.Millisecond

// ColdResult is the cold start scenario's outcome: request to response of
// invocations that each start a new environment.
type ColdResult struct {
	Samples int `json:"samples"`
	// Latency is request to response through the Lambda API.
	Latency Latency `json:"latency"`
	// Baseline is fork/exec of the baseline server until it answered its
	// first request.
	Baseline Latency `json:"baseline"`
	// NotCold counts samples the node answered without starting an
	// environment (no Init Duration in the REPORT line); they are left out
	// of Latency.
	NotCold int      `json:"notCold"`
	Errors  errorLog `json:"errors"`
}

// Cold measures n cold starts of the example function. Before each
// sample it changes an environment variable, which retires the function's
// environments, so the invocation starts a new one.
func (r *Runner) Cold(ctx context.Context, n int) (*ColdResult, error) {
	name, err := r.function(ctx, "hello", r.cfg.Code.Hello)
	if err != nil {
		return nil, err
	}
	url := r.invokeURL(name)
	var buf bytes.Buffer
	// The first invocation also unpacks the code on the node: not timed.
	if _, err := post(ctx, r.http, url, helloPayload, &buf, nil); err != nil {
		return nil, fmt.Errorf("cold: first invoke: %w", err)
	}
	r.progress("cold: %d samples of %s", n, name)
	res := &ColdResult{Samples: n}
	tail := http.Header{"X-Amz-Log-Type": {"Tail"}}
	samples := make([]time.Duration, 0, n)
	for i := range n {
		_, err := r.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
			FunctionName: aws.String(name),
			Environment:  &types.Environment{Variables: map[string]string{"BENCH_SAMPLE": strconv.Itoa(i)}},
		})
		if err != nil {
			return nil, fmt.Errorf("cold: update configuration: %w", err)
		}
		if err := sleep(ctx, settle); err != nil {
			return nil, err
		}
		start := time.Now()
		h, err := post(ctx, r.http, url, helloPayload, &buf, tail)
		d := time.Since(start)
		if err != nil {
			res.Errors.add(err)
			continue
		}
		if !coldReport(h) {
			res.NotCold++
			continue
		}
		samples = append(samples, d)
	}
	res.Latency = summarize(samples)

	r.progress("cold: %d baseline samples (fork/exec of a net/http server)", n)
	base := make([]time.Duration, 0, n)
	for range n {
		if err := sleep(ctx, settle); err != nil {
			return nil, err
		}
		d, err := coldBaseline(ctx, r.cfg.Code.Baseline, helloPayload)
		if err != nil {
			return nil, err
		}
		base = append(base, d)
	}
	res.Baseline = summarize(base)
	return res, nil
}

// coldReport reports whether the log tail's REPORT line has an Init
// Duration, which the node writes only for an invocation that started its
// environment.
func coldReport(h http.Header) bool {
	b, err := base64.StdEncoding.DecodeString(h.Get("X-Amz-Log-Result"))
	return err == nil && bytes.Contains(b, []byte("Init Duration"))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WarmResult is the warm invoke scenario's outcome: sequential
// invocations on a warm environment.
type WarmResult struct {
	Samples int `json:"samples"`
	Warmup  int `json:"warmup"`
	// Latency is request to response through the Lambda API.
	Latency Latency `json:"latency"`
	// Baseline is request to response of the baseline server.
	Baseline Latency  `json:"baseline"`
	Errors   errorLog `json:"errors"`
}

// Warm measures n sequential invocations of the example function after
// a warm-up, and the same against the baseline server.
func (r *Runner) Warm(ctx context.Context, n int) (*WarmResult, error) {
	name, err := r.function(ctx, "hello", r.cfg.Code.Hello)
	if err != nil {
		return nil, err
	}
	res := &WarmResult{Samples: n, Warmup: min(max(n/10, 100), 1000)}
	r.progress("warm: %d sequential invokes of %s after %d to warm up", n, name, res.Warmup)
	samples, errs := sequential(ctx, r.http, r.invokeURL(name), res.Warmup, n)
	res.Latency, res.Errors = summarize(samples), errs

	r.progress("warm: %d sequential requests to the baseline server", n)
	p, err := startBaseline(r.cfg.Code.Baseline)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	base, errs := sequential(ctx, r.http, p.url, res.Warmup, n)
	if errs.Count > 0 {
		return nil, fmt.Errorf("warm baseline: %d errors, first: %s", errs.Count, errs.Samples[0])
	}
	res.Baseline = summarize(base)
	return res, nil
}

// sequential posts the hello payload to url warmup times untimed, then n
// times timed, one after another on one connection.
func sequential(ctx context.Context, c *http.Client, url string, warmup, n int) ([]time.Duration, errorLog) {
	var errs errorLog
	var buf bytes.Buffer
	for range warmup {
		if _, err := post(ctx, c, url, helloPayload, &buf, nil); err != nil {
			errs.add(err)
		}
	}
	errs = errorLog{}
	samples := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		_, err := post(ctx, c, url, helloPayload, &buf, nil)
		d := time.Since(start)
		if err != nil {
			errs.add(err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		samples = append(samples, d)
	}
	return samples, errs
}

// ThroughputResult is the throughput scenario's outcome.
type ThroughputResult struct {
	Concurrency int           `json:"concurrency"`
	Duration    time.Duration `json:"durationNs"`
	Invokes     int           `json:"invokes"`
	PerSecond   float64       `json:"perSecond"`
	Errors      errorLog      `json:"errors"`
	// Envs is how many environments the node had afterwards.
	Envs     int         `json:"envs"`
	Baseline LoadOutcome `json:"baseline"`
}

// LoadOutcome is what a closed-loop load run achieved.
type LoadOutcome struct {
	Requests  int      `json:"requests"`
	PerSecond float64  `json:"perSecond"`
	Errors    errorLog `json:"errors"`
}

// Throughput runs c clients invoking the example function in a closed
// loop for d, after a warm-up at the same concurrency that starts the
// environments it needs, and the same against the baseline server.
func (r *Runner) Throughput(ctx context.Context, c int, d time.Duration) (*ThroughputResult, error) {
	name, err := r.function(ctx, "hello", r.cfg.Code.Hello)
	if err != nil {
		return nil, err
	}
	url := r.invokeURL(name)
	warm := min(d/5, time.Second)
	r.progress("throughput: %d clients for %s against %s (warm-up %s)", c, d, name, warm)
	load(ctx, r.http, url, c, warm)
	out := load(ctx, r.http, url, c, d)
	res := &ThroughputResult{Concurrency: c, Duration: d, Invokes: out.Requests, PerSecond: out.PerSecond, Errors: out.Errors}
	if st, err := r.status(ctx, r.http, false); err == nil {
		res.Envs = st.Envs
	}

	r.progress("throughput: %d clients for %s against the baseline server", c, d)
	p, err := startBaseline(r.cfg.Code.Baseline)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	load(ctx, r.http, p.url, c, warm)
	res.Baseline = load(ctx, r.http, p.url, c, d)
	return res, nil
}

// load runs c clients posting the hello payload to url back to back for
// d and counts the answers.
func load(ctx context.Context, client *http.Client, url string, c int, d time.Duration) LoadOutcome {
	return loadPayload(ctx, client, url, helloPayload, c, d)
}

// loadPayload is load with another payload.
func loadPayload(ctx context.Context, client *http.Client, url string, payload []byte, c int, d time.Duration) LoadOutcome {
	var (
		mu    sync.Mutex
		out   LoadOutcome
		wg    sync.WaitGroup
		count atomic.Int64
	)
	start := time.Now()
	end := start.Add(d)
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			var errs errorLog
			n := 0
			for time.Now().Before(end) && ctx.Err() == nil {
				if _, err := post(ctx, client, url, payload, &buf, nil); err != nil {
					errs.add(err)
					continue
				}
				n++
			}
			count.Add(int64(n))
			mu.Lock()
			out.Errors.merge(errs)
			mu.Unlock()
		}()
	}
	wg.Wait()
	out.Requests = int(count.Load())
	out.PerSecond = float64(out.Requests) / time.Since(start).Seconds()
	return out
}
