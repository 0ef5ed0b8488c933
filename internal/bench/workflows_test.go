package bench

import (
	"io"
	"os"
	"strconv"
	"testing"
	"time"
)

func TestWorkflowScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("builds functions and starts a node")
	}
	r := newRunner(t, 100, 100)
	ctx := t.Context()
	pass, err := r.standard(ctx, "pass", passChain(5), 5, 50, 4)
	if err != nil {
		t.Fatal(err)
	}
	if pass.Executions != 50 || pass.Failed != 0 || pass.Errors.Count != 0 || pass.Transitions != 250 || pass.PerSecond <= 0 {
		t.Errorf("standard: got %+v; want 50 executions, 250 transitions, no failures", pass)
	}
	lat, err := r.startLatency(ctx, 10)
	if err != nil || lat.N != 10 || lat.P50 <= 0 {
		t.Errorf("start latency: got %+v, %v", lat, err)
	}
	x, err := r.express(ctx, 2, 200*time.Millisecond)
	if err != nil || x.Executions == 0 || x.Errors.Count != 0 {
		t.Errorf("express: got %+v, %v", x, err)
	}
	m, err := r.mapLatency(ctx, 100, 2)
	if err != nil || m.N != 2 {
		t.Errorf("map: got %+v, %v", m, err)
	}
}

// The workflow benchmarks run one scenario per iteration against a node
// in this process and report its figures; see BENCHMARKS.md.

func BenchmarkWorkflowStandardPass(b *testing.B) {
	r := newRunner(b, 1000, 1000)
	for b.Loop() {
		res, err := r.standard(b.Context(), "pass", passChain(WorkflowStatesDefault), WorkflowStatesDefault, WorkflowExecutionsDefault, ConcurrencyDefault)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.PerSecond, "transitions/s")
	}
}

func BenchmarkWorkflowStandardTask(b *testing.B) {
	r := newRunner(b, 1000, 1000)
	for b.Loop() {
		res, err := r.taskHeavy(b.Context(), WorkflowExecutionsDefault/4, ConcurrencyDefault)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.PerSecond, "transitions/s")
	}
}

func BenchmarkWorkflowStandardWait(b *testing.B) {
	r := newRunner(b, 1000, 1000)
	for b.Loop() {
		res, err := r.standard(b.Context(), "wait", waitChain(WorkflowStatesDefault), WorkflowStatesDefault, WorkflowExecutionsDefault, ConcurrencyDefault)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.PerSecond, "transitions/s")
	}
}

func BenchmarkWorkflowStartLatency(b *testing.B) {
	r := newRunner(b, 1000, 1000)
	for b.Loop() {
		lat, err := r.startLatency(b.Context(), StartLatencySamplesDefault)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(lat.P50.Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat.P99.Microseconds()), "p99-µs")
	}
}

func BenchmarkWorkflowExpress(b *testing.B) {
	r := newRunner(b, 1000, 1000)
	for b.Loop() {
		res, err := r.express(b.Context(), ConcurrencyDefault, DurationDefault)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.PerSecond, "transitions/s")
		b.ReportMetric(float64(res.Latency.P50.Microseconds()), "p50-µs")
	}
}

func BenchmarkWorkflowMap10000(b *testing.B) {
	r := newRunner(b, 1000, 1000)
	for b.Loop() {
		lat, err := r.mapLatency(b.Context(), MapItemsDefault, 5)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(lat.P50.Milliseconds()), "p50-ms")
	}
}

// recoveryFinished is how many finished executions BenchmarkWorkflowRecovery
// leaves in the backbone besides the waiting ones: UPDRAFT_BENCH_FINISHED.
var recoveryFinished, _ = strconv.Atoi(os.Getenv("UPDRAFT_BENCH_FINISHED"))

// BenchmarkWorkflowRecovery kills a real node with SIGKILL while
// RecoveryExecutionsDefault executions wait, and times their recovery.
func BenchmarkWorkflowRecovery(b *testing.B) {
	ctx := b.Context()
	dir, err := ModuleDir(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// UPDRAFT_BENCH_BINARY measures another build, to compare versions.
	bin := os.Getenv("UPDRAFT_BENCH_BINARY")
	if bin == "" {
		if bin, err = BuildUpdraft(ctx, dir, b.TempDir()); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		res, err := Recovery(ctx, bin, b.TempDir(), RecoveryExecutionsDefault, recoveryFinished, ConcurrencyDefault, RecoveryParkDefault, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		if res.Succeeded != res.Executions {
			b.Fatalf("%d of %d executions succeeded", res.Succeeded, res.Executions)
		}
		b.ReportMetric(float64(res.Ready.Milliseconds()), "ready-ms")
		b.ReportMetric(float64(res.Resumed.Milliseconds()), "resumed-ms")
		b.ReportMetric(float64(res.Start.Milliseconds()), "start-all-ms")
	}
}
