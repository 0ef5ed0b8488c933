package bench

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/server"
)

// The programs are built once per test binary, on first use.
var (
	buildOnce sync.Once
	buildDir  string
	built     *Code
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func testCode(tb testing.TB) *Code {
	tb.Helper()
	buildOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		var dir string
		if dir, buildErr = ModuleDir(ctx); buildErr != nil {
			return
		}
		if buildDir, buildErr = os.MkdirTemp("", "updraft-bench-test-"); buildErr != nil {
			return
		}
		built, buildErr = Build(ctx, dir, buildDir)
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return built
}

// newRunner starts a node in-process, allowing envs invocations at once
// and burst new environments per 10 s, and returns a Runner against it;
// both end with the test.
func newRunner(tb testing.TB, envs, burst int) *Runner {
	tb.Helper()
	code := testCode(tb)
	srv, err := server.New(server.Config{
		Addr:               "127.0.0.1:0",
		DataDir:            tb.TempDir(),
		AccountConcurrency: envs,
		Burst:              burst,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			tb.Error(err)
		}
	})
	r, err := New(Config{Endpoint: "http://" + srv.Addr(), Code: code, MaxConns: max(envs, 64)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := r.Close(context.Background()); err != nil {
			tb.Error(err)
		}
	})
	return r
}

func TestScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("builds functions and starts a node")
	}
	// Provisioned concurrency must leave 100 of the account unreserved.
	r := newRunner(t, 200, 100)
	ctx := t.Context()

	cold, err := r.Cold(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if cold.Latency.N != 3 || cold.Errors.Count != 0 || cold.NotCold != 0 || cold.Baseline.N != 3 {
		t.Errorf("cold: got %d cold samples, %d errors %v, %d warm hits, %d baseline samples; want 3, 0, 0, 3",
			cold.Latency.N, cold.Errors.Count, cold.Errors.Samples, cold.NotCold, cold.Baseline.N)
	}

	warm, err := r.Warm(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	if warm.Latency.N != 50 || warm.Errors.Count != 0 || warm.Baseline.N != 50 {
		t.Errorf("warm: got %d samples, %d errors %v, %d baseline samples; want 50, 0, 50",
			warm.Latency.N, warm.Errors.Count, warm.Errors.Samples, warm.Baseline.N)
	}

	tp, err := r.Throughput(ctx, 4, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if tp.Invokes == 0 || tp.Errors.Count != 0 || tp.Baseline.Requests == 0 {
		t.Errorf("throughput: got %d invokes, %d errors %v, %d baseline requests; want some, 0, some",
			tp.Invokes, tp.Errors.Count, tp.Errors.Samples, tp.Baseline.Requests)
	}

	burst, err := r.Burst(ctx, 20, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if burst.DistinctEnvs != 20 || burst.Errors.Count != 0 || burst.Baseline.Errors.Count != 0 {
		t.Errorf("burst: got %d environments, %d errors %v, %d baseline errors %v; want 20, 0, 0",
			burst.DistinctEnvs, burst.Errors.Count, burst.Errors.Samples, burst.Baseline.Errors.Count, burst.Baseline.Errors.Samples)
	}

	mem, err := r.Memory(ctx, 20, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if mem.IdleEnvs < 20 || mem.PerEnvBytes <= 0 || mem.NodeMemoryBytes <= 0 {
		t.Errorf("memory: got %d idle envs, %d bytes each, node %d bytes; want ≥ 20 and positive sizes",
			mem.IdleEnvs, mem.PerEnvBytes, mem.NodeMemoryBytes)
	}

	prov, err := r.Provisioned(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if prov.First.N+prov.Initialised != 3 || prov.Errors.Count != 0 || prov.Warm.N != 3*provisionedWarmPerSample {
		t.Errorf("provisioned: got %d first samples, %d with INIT, %d warm, %d errors %v; want 3 in all, 30 warm, 0 errors",
			prov.First.N, prov.Initialised, prov.Warm.N, prov.Errors.Count, prov.Errors.Samples)
	}

	multi, err := r.Multi(ctx, 4, 300*time.Millisecond, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []struct {
		name     string
		got      MultiRun
		min, max int
	}{
		// One environment of 4, perhaps with one started ahead of demand.
		{"one", multi.One, 1, 2}, {"one sleeping", multi.OneSleep, 1, 2},
		// Many: one environment per request in flight; how many were in flight at
		// once depends on the machine, so only "more than one" is certain.
		{"many", multi.Many, 2, 4}, {"many sleeping", multi.ManySleep, 2, 4},
	} {
		if run.got.Requests == 0 || run.got.Errors.Count != 0 || run.got.Envs < run.min || run.got.Envs > run.max {
			t.Errorf("multi %s: got %d requests, %d errors %v, %d envs; want some, 0, %d–%d envs",
				run.name, run.got.Requests, run.got.Errors.Count, run.got.Errors.Samples, run.got.Envs, run.min, run.max)
		}
	}

	rep := Report{Cold: cold, Warm: warm, Throughput: tp, Burst: burst, Memory: mem, Provisioned: prov, Multi: multi}
	if got := len(rep.Rows()); got < 16 {
		t.Errorf("Rows: got %d rows, want at least 16", got)
	}
}

func TestSummarize(t *testing.T) {
	var samples []time.Duration
	for i := 100; i >= 1; i-- {
		samples = append(samples, time.Duration(i)*time.Millisecond)
	}
	got := summarize(samples)
	want := Latency{N: 100, Mean: 50500 * time.Microsecond, P50: 50 * time.Millisecond, P90: 90 * time.Millisecond,
		P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if got != want {
		t.Errorf("summarize: got %+v, want %+v", got, want)
	}
	if got := summarize(nil); got != (Latency{}) {
		t.Errorf("summarize(nil): got %+v, want zero", got)
	}
	if got := summarize([]time.Duration{time.Second}); got.P50 != time.Second || got.P99 != time.Second {
		t.Errorf("summarize(one): got %+v, want every percentile 1s", got)
	}
}

// warmFunction creates the example function on r's node and warms it.
func warmFunction(b *testing.B, r *Runner) string {
	ctx := b.Context()
	name, err := r.function(ctx, "hello", r.cfg.Code.Hello)
	if err != nil {
		b.Fatal(err)
	}
	url := r.invokeURL(name)
	var buf bytes.Buffer
	for range 100 {
		if _, err := post(ctx, r.http, url, helloPayload, &buf, nil); err != nil {
			b.Fatal(err)
		}
	}
	return url
}

// BenchmarkWarmInvoke is one synchronous invocation of a warm
// aws-lambda-go function through the Lambda HTTP API of an in-process
// node. Allocations count the client and the node together.
func BenchmarkWarmInvoke(b *testing.B) {
	r := newRunner(b, 100, 100)
	url := warmFunction(b, r)
	ctx := b.Context()
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		if _, err := post(ctx, r.http, url, helloPayload, &buf, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWarmInvokeParallel is BenchmarkWarmInvoke from 16 clients per
// core; ns/op is the inverse of throughput.
func BenchmarkWarmInvokeParallel(b *testing.B) {
	r := newRunner(b, 1000, 1000)
	url := warmFunction(b, r)
	ctx := b.Context()
	// Start the environments 16 clients per core need before timing.
	load(ctx, r.http, url, 16*runtime.GOMAXPROCS(0), time.Second)
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var buf bytes.Buffer
		for pb.Next() {
			if _, err := post(ctx, r.http, url, helloPayload, &buf, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkColdStart is one invocation that starts a new environment:
// request to response. Changing the configuration between iterations
// (not timed) retires the previous environment.
func BenchmarkColdStart(b *testing.B) {
	r := newRunner(b, 100, 1<<20) // every iteration starts an environment
	url := warmFunction(b, r)
	name := r.prefix + "-hello"
	ctx := b.Context()
	var buf bytes.Buffer
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		_, err := r.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
			FunctionName: aws.String(name),
			Environment:  &types.Environment{Variables: map[string]string{"BENCH_SAMPLE": strconv.Itoa(i)}},
		})
		if err != nil {
			b.Fatal(err)
		}
		time.Sleep(settle)
		b.StartTimer()
		h, err := post(ctx, r.http, url, helloPayload, &buf, tailHeader)
		if err != nil {
			b.Fatal(err)
		}
		if !coldReport(h) {
			b.Fatal("the invocation did not start an environment")
		}
	}
}

var tailHeader = http.Header{"X-Amz-Log-Type": {"Tail"}}

// BenchmarkBaselineHTTP is one request to a minimal Go net/http server
// doing the same work as the example function, over the same client.
func BenchmarkBaselineHTTP(b *testing.B) {
	p, err := startBaseline(testCode(b).Baseline)
	if err != nil {
		b.Fatal(err)
	}
	defer p.stop()
	c := newHTTPClient(64)
	ctx := b.Context()
	var buf bytes.Buffer
	for range 100 {
		if _, err := post(ctx, c, p.url, helloPayload, &buf, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := post(ctx, c, p.url, helloPayload, &buf, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineHTTPParallel is BenchmarkBaselineHTTP from 16 clients
// per core.
func BenchmarkBaselineHTTPParallel(b *testing.B) {
	p, err := startBaseline(testCode(b).Baseline)
	if err != nil {
		b.Fatal(err)
	}
	defer p.stop()
	c := newHTTPClient(1000)
	ctx := b.Context()
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		var buf bytes.Buffer
		for pb.Next() {
			if _, err := post(ctx, c, p.url, helloPayload, &buf, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkBaselineColdStart is fork/exec of the baseline server until
// it has answered its first request.
func BenchmarkBaselineColdStart(b *testing.B) {
	path := testCode(b).Baseline
	ctx := b.Context()
	for b.Loop() {
		b.StopTimer()
		time.Sleep(settle)
		b.StartTimer()
		if _, err := coldBaseline(ctx, path, helloPayload); err != nil {
			b.Fatal(err)
		}
	}
}
