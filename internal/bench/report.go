package bench

import (
	"fmt"
	"time"
)

// Targets of ARCHITECTURE.md §7 (process driver, 2 cores) and of the
// linux sandbox (issue 4).
const (
	TargetColdP50        = 10 * time.Millisecond
	TargetWarmP50        = 300 * time.Microsecond
	TargetThroughput     = 10000
	TargetBurstEnvs      = 1000
	TargetBurstTime      = 5 * time.Second
	TargetLinuxColdP50   = 20 * time.Millisecond
	TargetLinuxBurstTime = 10 * time.Second
)

// Report gathers the scenarios' results.
type Report struct {
	// Node is the endpoint measured, or "in-process" for a node the
	// benchmark started.
	Node string `json:"node"`
	// Client says how invocations were sent.
	Client     string            `json:"client"`
	Cold       *ColdResult       `json:"cold,omitempty"`
	Warm       *WarmResult       `json:"warm,omitempty"`
	Throughput *ThroughputResult `json:"throughput,omitempty"`
	Burst      *BurstResult      `json:"burst,omitempty"`
	Memory     *MemoryResult     `json:"memory,omitempty"`
	// Provisioned compares with warm requests, not with the baseline.
	Provisioned *ProvisionedResult `json:"provisioned,omitempty"`
	Workflows   *WorkflowResult    `json:"workflows,omitempty"`
	Recovery    *RecoveryResult    `json:"recovery,omitempty"`
	// Multi compares one multi-concurrent environment with many
	// single-invocation ones: its baseline column is the many.
	Multi *MultiResult `json:"multi,omitempty"`
	// Sandbox is the in-process node's sandbox driver, "" for a node
	// given by endpoint.
	Sandbox string `json:"sandbox,omitempty"`
	// Versus is the same scenarios run on a node with another sandbox
	// driver in the same run (the linux driver is compared with process).
	Versus *Report `json:"versus,omitempty"`
}

// targets are the cold p50 and burst targets for the report's sandbox.
func (rep *Report) targets() (cold, burst time.Duration) {
	if rep.Sandbox == "linux" {
		return TargetLinuxColdP50, TargetLinuxBurstTime
	}
	return TargetColdP50, TargetBurstTime
}

// SandboxRows compares the report with Versus, figure by figure; Updraft
// holds this report's figure, Baseline the other's, Ratio this ÷ other.
func (rep *Report) SandboxRows() []Row {
	v := rep.Versus
	if v == nil {
		return nil
	}
	var rows []Row
	if a, b := rep.Cold, v.Cold; a != nil && b != nil {
		rows = append(rows,
			latencyRow("cold", "p50", a.Latency.P50, b.Latency.P50, "", false),
			latencyRow("cold", "p90", a.Latency.P90, b.Latency.P90, "", false))
	}
	if a, b := rep.Warm, v.Warm; a != nil && b != nil {
		rows = append(rows,
			latencyRow("warm", "p50", a.Latency.P50, b.Latency.P50, "", false),
			latencyRow("warm", "p99", a.Latency.P99, b.Latency.P99, "", false))
	}
	if a, b := rep.Throughput, v.Throughput; a != nil && b != nil {
		rows = append(rows, Row{Scenario: "throughput", Metric: "invokes/s", Updraft: fmt.Sprintf("%.0f", a.PerSecond),
			Baseline: fmt.Sprintf("%.0f", b.PerSecond), Ratio: ratio(a.PerSecond, b.PerSecond)})
	}
	if a, b := rep.Burst, v.Burst; a != nil && b != nil {
		rows = append(rows,
			latencyRow("burst", fmt.Sprintf("time to %d envs ready", a.Envs), a.Ready, b.Ready, "", false),
			latencyRow("burst", "all answered − sleep", a.AllAnswered-a.Sleep, b.AllAnswered-b.Sleep, "", false),
			countRow("burst", "errors", fmt.Sprint(a.Errors.Count), fmt.Sprint(b.Errors.Count)))
	}
	if a, b := rep.Memory, v.Memory; a != nil && b != nil {
		rows = append(rows, Row{Scenario: "memory", Metric: "per idle env", Updraft: mib(a.PerEnvBytes), Baseline: mib(b.PerEnvBytes),
			Ratio: ratio(float64(a.PerEnvBytes), float64(b.PerEnvBytes))})
	}
	return rows
}

// Row is one line of the report's table. Ratio is Updraft ÷ baseline.
type Row struct {
	Scenario, Metric, Updraft, Baseline, Ratio, Target string
	// Verdict is "ok", "MISSED" or "" when there is no target.
	Verdict string
}

// Rows lays the report out as a table.
func (rep *Report) Rows() []Row {
	var rows []Row
	coldTarget, burstTarget := rep.targets()
	if c := rep.Cold; c != nil {
		rows = append(rows,
			latencyRow("cold", "p50", c.Latency.P50, c.Baseline.P50, "≤ "+coldTarget.String(), c.Latency.N > 0 && c.Latency.P50 <= coldTarget),
			latencyRow("cold", "p90", c.Latency.P90, c.Baseline.P90, "", false),
			countRow("cold", "samples cold/errors/warm hits", fmt.Sprintf("%d/%d/%d", c.Latency.N, c.Errors.Count, c.NotCold), fmt.Sprint(c.Baseline.N)),
		)
	}
	if w := rep.Warm; w != nil {
		rows = append(rows,
			latencyRow("warm", "p50", w.Latency.P50, w.Baseline.P50, "≤ 300µs", w.Latency.N > 0 && w.Latency.P50 <= TargetWarmP50),
			latencyRow("warm", "p99", w.Latency.P99, w.Baseline.P99, "", false),
			countRow("warm", "samples/errors", fmt.Sprintf("%d/%d", w.Latency.N, w.Errors.Count), fmt.Sprint(w.Baseline.N)),
		)
	}
	if t := rep.Throughput; t != nil {
		rows = append(rows,
			Row{Scenario: "throughput", Metric: fmt.Sprintf("invokes/s (%d clients, %s)", t.Concurrency, t.Duration),
				Updraft: fmt.Sprintf("%.0f", t.PerSecond), Baseline: fmt.Sprintf("%.0f", t.Baseline.PerSecond),
				Ratio: ratio(t.PerSecond, t.Baseline.PerSecond), Target: "≥ 10000",
				Verdict: verdict(t.PerSecond >= TargetThroughput && t.Errors.Count == 0)},
			countRow("throughput", "errors (envs used)", fmt.Sprintf("%d (%d)", t.Errors.Count, t.Envs), fmt.Sprint(t.Baseline.Errors.Count)),
		)
	}
	if b := rep.Burst; b != nil {
		target, met := "", false
		if b.Envs >= TargetBurstEnvs {
			target = "≤ " + burstTarget.String()
			met = b.Ready > 0 && b.Ready <= burstTarget
		}
		ready := "never"
		if b.Ready > 0 {
			ready = round(b.Ready)
		}
		errs := countRow("burst", "errors", fmt.Sprint(b.Errors.Count), fmt.Sprint(b.Baseline.Errors.Count))
		if target != "" {
			errs.Target, errs.Verdict = "0", verdict(b.Errors.Count == 0)
		}
		readyRow := Row{Scenario: "burst", Metric: fmt.Sprintf("time to %d envs ready", b.Envs), Updraft: ready, Baseline: "-", Ratio: "-", Target: target}
		if target != "" {
			readyRow.Verdict = verdict(met)
		}
		rows = append(rows,
			readyRow,
			latencyRow("burst", fmt.Sprintf("all %d answered (incl. %s sleep)", b.Envs, b.Sleep), b.AllAnswered, b.Baseline.AllAnswered, "", false),
			latencyRow("burst", "all answered − sleep", b.AllAnswered-b.Sleep, b.Baseline.AllAnswered-b.Sleep, "", false),
			latencyRow("burst", "per-request p50", b.Latency.P50, b.Baseline.Latency.P50, "", false),
			errs,
			countRow("burst", "envs answered/peak", fmt.Sprintf("%d/%d", b.DistinctEnvs, b.PeakEnvs), fmt.Sprintf("%d procs", b.Envs-b.Baseline.Errors.Count)),
		)
	}
	if m := rep.Memory; m != nil {
		nodeRSS := "node RSS"
		if rep.Node == "in-process" {
			nodeRSS = "node RSS (incl. the benchmark client)"
		}
		rows = append(rows,
			Row{Scenario: "memory", Metric: fmt.Sprintf("per idle env (%d envs)", m.Envs), Updraft: mib(m.PerEnvBytes),
				Baseline: mib(m.BaselinePerProcessBytes), Ratio: ratio(float64(m.PerEnvBytes), float64(m.BaselinePerProcessBytes))},
			Row{Scenario: "memory", Metric: nodeRSS, Updraft: mib(m.NodeMemoryBytes), Baseline: "-", Ratio: "-"},
		)
	}
	if p := rep.Provisioned; p != nil {
		met := p.First.N > 0 && float64(p.First.P50) <= TargetProvisionedRatio*float64(p.Rested.P50)
		rows = append(rows,
			latencyRow("provisioned", "first request p50 (baseline: warm after the same 25ms pause)", p.First.P50, p.Rested.P50, fmt.Sprintf("≤ %.1fx warm", TargetProvisionedRatio), met),
			latencyRow("provisioned", "first request p90 (baseline: same)", p.First.P90, p.Rested.P90, "", false),
			latencyRow("provisioned", "first request p50 (baseline: warm back to back)", p.First.P50, p.Warm.P50, "", false),
			latencyRow("provisioned", "on-demand cold p50 (baseline: warm after pause)", p.Cold.P50, p.Rested.P50, "", false),
			latencyRow("provisioned", "put config to READY p50", p.Ready.P50, 0, "", false),
			countRow("provisioned", "samples first/warm/rested/cold, errors, INIT on first", fmt.Sprintf("%d/%d/%d/%d, %d, %d", p.First.N, p.Warm.N, p.Rested.N, p.Cold.N, p.Errors.Count, p.Initialised), "-"),
		)
	}
	if m := rep.Multi; m != nil {
		rows = append(rows, multiRows(m)...)
	}
	rows = append(rows, rep.workflowRows()...)
	return rows
}

// workflowRows lays out the workflow scenarios, which have no baseline.
func (rep *Report) workflowRows() []Row {
	var rows []Row
	standard := func(s *StandardResult, what string) {
		if s == nil {
			return
		}
		rows = append(rows, Row{Scenario: "workflows", Metric: fmt.Sprintf("STANDARD %s: transitions/s (%d executions × %d states, %d clients)", what, s.Executions, s.States, s.Concurrency),
			Updraft: fmt.Sprintf("%.0f", s.PerSecond), Baseline: "-", Ratio: "-", Target: "≥ 5000",
			Verdict: verdict(s.PerSecond >= TargetTransitions && s.Failed == 0 && s.Errors.Count == 0)})
	}
	if w := rep.Workflows; w != nil {
		standard(w.PassHeavy, "Pass chain")
		standard(w.TaskHeavy, "Lambda task chain")
		standard(w.WaitHeavy, "Wait(0s) chain, one durable timer per transition")
		rows = append(rows, Row{Scenario: "workflows", Metric: "start to first transition p50 (StartExecution)", Updraft: round(w.StartLatency.P50), Baseline: "-", Ratio: "-"},
			Row{Scenario: "workflows", Metric: "start to first transition p99", Updraft: round(w.StartLatency.P99), Baseline: "-", Ratio: "-"})
		if x := w.Express; x != nil {
			rows = append(rows, Row{Scenario: "workflows", Metric: fmt.Sprintf("Express sync: transitions/s (%d Pass states, %d clients)", x.States, x.Concurrency),
				Updraft: fmt.Sprintf("%.0f", x.PerSecond), Baseline: "-", Ratio: "-", Target: "≥ 50000", Verdict: verdict(x.PerSecond >= TargetExpressTransitions && x.Errors.Count == 0)})
		}
		rows = append(rows, Row{Scenario: "workflows", Metric: fmt.Sprintf("Express Map over %d items p50", w.MapItems), Updraft: round(w.Map.P50), Baseline: "-", Ratio: "-"})
	}
	if r := rep.Recovery; r != nil {
		rows = append(rows,
			Row{Scenario: "recovery", Metric: fmt.Sprintf("kill -9, restart: API ready (%d waiting, %d ended executions)", r.Executions, r.Finished), Updraft: round(r.Ready), Baseline: "-", Ratio: "-"},
			Row{Scenario: "recovery", Metric: fmt.Sprintf("restart until all %d waiting executions ended", r.Executions), Updraft: round(r.Resumed), Baseline: "-", Ratio: "-"},
			countRow("recovery", "succeeded", fmt.Sprintf("%d/%d", r.Succeeded, r.Executions), "-"))
	}
	return rows
}

// multiRows lays out the multi-concurrency comparison: Updraft is one
// environment of C, the baseline column C environments of one.
func multiRows(m *MultiResult) []Row {
	rate := func(what string, one, many MultiRun) []Row {
		return []Row{
			{Scenario: "multi", Metric: fmt.Sprintf("%s invokes/s, %d clients: 1 env of %d (baseline: %d envs of 1)", what, m.Concurrency, m.Concurrency, m.Concurrency),
				Updraft: fmt.Sprintf("%.0f", one.PerSecond), Baseline: fmt.Sprintf("%.0f", many.PerSecond), Ratio: ratio(one.PerSecond, many.PerSecond)},
			{Scenario: "multi", Metric: what + " envs after the run, their memory",
				Updraft: fmt.Sprintf("%d, %s", one.Envs, mib(one.EnvMemoryBytes)), Baseline: fmt.Sprintf("%d, %s", many.Envs, mib(many.EnvMemoryBytes)),
				Ratio: ratio(float64(one.EnvMemoryBytes), float64(many.EnvMemoryBytes))},
			countRow("multi", what+" errors", fmt.Sprint(one.Errors.Count), fmt.Sprint(many.Errors.Count)),
		}
	}
	rows := rate("hello", m.One, m.Many)
	return append(rows, rate(fmt.Sprintf("sleep %s", m.Sleep), m.OneSleep, m.ManySleep)...)
}

func latencyRow(scenario, metric string, got, base time.Duration, target string, met bool) Row {
	r := Row{Scenario: scenario, Metric: metric, Updraft: round(got), Baseline: round(base),
		Ratio: ratio(float64(got), float64(base)), Target: target}
	if target != "" {
		r.Verdict = verdict(met)
	}
	return r
}

func countRow(scenario, metric, got, base string) Row {
	return Row{Scenario: scenario, Metric: metric, Updraft: got, Baseline: base, Ratio: "-"}
}

func verdict(met bool) string {
	if met {
		return "ok"
	}
	return "MISSED"
}

func ratio(got, base float64) string {
	if base <= 0 || got <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", got/base)
}

// round prints a duration with three significant digits.
func round(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

func mib(b int64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}
