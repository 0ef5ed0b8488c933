package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/updraft/updraft/internal/bench"
	"github.com/updraft/updraft/internal/server"
)

var benchScenarios = []string{"cold", "warm", "throughput", "burst", "memory", "provisioned", "multi", "workflows", "recovery"}

const benchUsage = `usage: updraft bench [cold|warm|throughput|burst|memory|provisioned|multi|workflows|recovery|all]
       [--endpoint URL] [--n N] [--concurrency C] [--duration D] [--sleep D]
       [--sandbox process|linux] [--json]

Runs the end-to-end benchmark scenarios (default all) and prints each
figure beside the same work done by a minimal Go net/http server, with the
ratio (provisioned: the first request to a provisioned environment beside
warm requests of the same run; multi: one environment serving N requests
at once beside N environments serving one each, N clients, for the example
function and for one that sleeps --sleep, default 20ms there; workflows and
recovery have no baseline). Without --endpoint it starts a node in this
process, with the process sandbox driver unless --sandbox linux is given;
then the same scenarios also run on a process-driver node afterwards, and a
second table compares the two. It builds the benchmark functions with the
go toolchain, so run it inside the Updraft source tree.
`

// benchOptions are updraft bench's flags.
type benchOptions struct {
	endpoint    string
	n           int
	concurrency int
	duration    time.Duration
	sleep       time.Duration
	sandbox     string
	sleepSet    bool
	json        bool
}

func (e *env) bench(ctx context.Context, args []string) error {
	fs := e.newFlags("updraft bench")
	fs.Usage = func() { fmt.Fprint(e.stderr, benchUsage); fs.PrintDefaults() }
	var o benchOptions
	fs.StringVar(&o.endpoint, "endpoint", "", "benchmark the node at this URL (default: start a node in this process)")
	fs.IntVar(&o.n, "n", 0, "samples (cold, warm, provisioned), environments (burst, memory) or clients and per-environment concurrency (multi); defaults: cold 50, warm 5000, provisioned 30, burst and memory 1000, multi 64")
	fs.IntVar(&o.concurrency, "concurrency", bench.ConcurrencyDefault, "throughput: concurrent clients")
	fs.DurationVar(&o.duration, "duration", bench.DurationDefault, "throughput: how long to measure")
	fs.DurationVar(&o.sleep, "sleep", bench.BurstSleepDefault, "burst and memory: how long each invocation sleeps")
	fs.StringVar(&o.sandbox, "sandbox", server.SandboxProcess, "sandbox driver of the in-process node: process, or linux (compared with process in the same run)")
	fs.BoolVar(&o.json, "json", false, "print results as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) { o.sleepSet = o.sleepSet || f.Name == "sleep" })
	scenarios := benchScenarios
	switch {
	case len(pos) > 1:
		fmt.Fprint(e.stderr, benchUsage)
		return errUsage
	case len(pos) == 1 && pos[0] != "all":
		if !slices.Contains(benchScenarios, pos[0]) {
			fmt.Fprintf(e.stderr, "updraft bench: unknown scenario %q\n\n%s", pos[0], benchUsage)
			return errUsage
		}
		scenarios = pos[:1]
	}
	if o.n < 0 || o.concurrency < 1 || o.duration <= 0 || o.sleep < 0 {
		fmt.Fprint(e.stderr, "updraft bench: --n, --concurrency, --duration and --sleep must be positive\n")
		return errUsage
	}
	if o.sandbox != server.SandboxProcess && o.sandbox != server.SandboxLinux {
		fmt.Fprintf(e.stderr, "updraft bench: --sandbox %q: want process or linux\n", o.sandbox)
		return errUsage
	}
	if o.sandbox == server.SandboxLinux && o.endpoint != "" {
		fmt.Fprint(e.stderr, "updraft bench: --sandbox applies to the in-process node, not to --endpoint\n")
		return errUsage
	}
	rep, err := e.runBench(ctx, o, scenarios)
	if err == nil && o.sandbox == server.SandboxLinux {
		fmt.Fprintln(e.stderr, "bench: the same scenarios on a process-driver node, for comparison")
		p := o
		p.sandbox = server.SandboxProcess
		rep.Versus, err = e.runBench(ctx, p, scenarios)
	}
	if rep != nil {
		if perr := e.printBench(rep, o.json); perr != nil && err == nil {
			err = perr
		}
	}
	return err
}

// multiSleep is --sleep when given, else the multi scenario's default.
func (o benchOptions) multiSleep() time.Duration {
	if o.sleepSet {
		return o.sleep
	}
	return bench.MultiSleepDefault
}

// count is --n, or the scenario's default.
func (o benchOptions) count(scenario string) int {
	if o.n > 0 {
		return o.n
	}
	switch scenario {
	case "cold":
		return bench.ColdSamplesDefault
	case "warm":
		return bench.WarmSamplesDefault
	case "provisioned":
		return bench.ProvisionedSamplesDefault
	case "workflows":
		return bench.WorkflowExecutionsDefault
	case "recovery":
		return bench.RecoveryExecutionsDefault
	case "multi":
		return bench.MultiConcurrencyDefault
	}
	return bench.BurstEnvsDefault
}

// runBench builds the programs, starts a node unless given one, and runs
// the scenarios. The report holds what finished even when err is set.
func (e *env) runBench(ctx context.Context, o benchOptions, scenarios []string) (rep *bench.Report, err error) {
	envs := 0
	for _, s := range scenarios {
		if s == "burst" || s == "memory" {
			envs = max(envs, o.count(s))
		}
	}
	// Each environment holds a Runtime API listener and connection, a log
	// pipe and the invoking connection, on both ends.
	if need := uint64(10*envs + 1024); envs > 0 {
		if got, err := bench.RaiseFileLimit(need); err != nil || (got > 0 && got < need) {
			fmt.Fprintf(e.stderr, "bench: warning: open file limit %d is below the %d a burst of %d needs (%v)\n", got, need, envs, err)
		}
	}

	tmp, err := os.MkdirTemp("", "updraft-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintln(e.stderr, "bench: building the benchmark functions and the baseline server")
	dir, err := bench.ModuleDir(ctx)
	if err != nil {
		return nil, err
	}
	code, err := bench.Build(ctx, dir, tmp)
	if err != nil {
		return nil, err
	}

	endpoint, node := o.endpoint, o.endpoint
	if endpoint == "" {
		srv, err := startBenchNode(ctx, tmp, max(envs, bench.BurstEnvsDefault), o.sandbox, e)
		if err != nil {
			return nil, err
		}
		defer func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err = errors.Join(err, srv.Stop(stopCtx))
		}()
		endpoint, node = "http://"+srv.Addr(), "in-process"
	}
	r, err := bench.New(bench.Config{Endpoint: endpoint, Code: code, Progress: e.stderr, MaxConns: max(envs, o.concurrency, o.count("multi"), 64)})
	if err != nil {
		return nil, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err = errors.Join(err, r.Close(cctx))
	}()

	rep = &bench.Report{Node: node, Client: bench.ClientDescription}
	if o.endpoint == "" {
		rep.Sandbox = o.sandbox
	}
	for _, s := range scenarios {
		if s == "recovery" {
			if rep.Recovery, err = e.benchRecovery(ctx, tmp, o); err != nil {
				return rep, fmt.Errorf("bench %s: %w", s, err)
			}
			continue
		}
		if err := runScenario(ctx, r, rep, s, o); err != nil {
			return rep, fmt.Errorf("bench %s: %w", s, err)
		}
	}
	return rep, nil
}

// scenarioTimeout bounds one scenario, so a node that stops answering
// ends the run.
const scenarioTimeout = 10 * time.Minute

func runScenario(ctx context.Context, r *bench.Runner, rep *bench.Report, s string, o benchOptions) error {
	ctx, cancel := context.WithTimeout(ctx, scenarioTimeout)
	defer cancel()
	var err error
	switch s {
	case "cold":
		rep.Cold, err = r.Cold(ctx, o.count(s))
	case "warm":
		rep.Warm, err = r.Warm(ctx, o.count(s))
	case "throughput":
		rep.Throughput, err = r.Throughput(ctx, o.concurrency, o.duration)
	case "burst":
		rep.Burst, err = r.Burst(ctx, o.count(s), o.sleep)
	case "memory":
		rep.Memory, err = r.Memory(ctx, o.count(s), o.sleep)
	case "provisioned":
		rep.Provisioned, err = r.Provisioned(ctx, o.count(s))
	case "workflows":
		rep.Workflows, err = r.Workflows(ctx, o.count(s), o.concurrency, o.duration)
	case "multi":
		rep.Multi, err = r.Multi(ctx, o.count(s), o.duration, o.multiSleep())
	}
	return err
}

// benchRecovery runs the recovery scenario with this very binary as the
// node it kills.
func (e *env) benchRecovery(ctx context.Context, tmp string, o benchOptions) (*bench.RecoveryResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, scenarioTimeout)
	defer cancel()
	return bench.Recovery(ctx, self, tmp, o.count("recovery"), 0, o.concurrency, bench.RecoveryParkDefault, e.stderr)
}

// startBenchNode starts a node in this process with room for envs
// environments at once and the given sandbox driver, logging warnings
// only.
func startBenchNode(ctx context.Context, tmp string, envs int, sandbox string, e *env) (*server.Server, error) {
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.New(server.Config{
		Addr:               "127.0.0.1:0",
		DataDir:            tmp + "/node",
		AccountConcurrency: envs,
		Burst:              envs,
		Sandbox:            sandbox,
	}, log)
	if err != nil {
		return nil, err
	}
	if err := srv.Start(ctx); err != nil {
		return nil, err
	}
	name, why := srv.Sandbox()
	fmt.Fprintf(e.stderr, "bench: node started in-process on %s (account concurrency and burst %d; sandbox %s: %s)\n", srv.Addr(), envs, name, why)
	return srv, nil
}

func (e *env) printBench(rep *bench.Report, asJSON bool) error {
	if asJSON {
		return printJSON(e.stdout, rep)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tMETRIC\tUPDRAFT\tBASELINE\tRATIO\tTARGET\t")
	for _, row := range rep.Rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s %s\t\n", row.Scenario, row.Metric, row.Updraft, row.Baseline, row.Ratio, row.Target, row.Verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	node := rep.Node
	if rep.Sandbox != "" {
		node += ", sandbox " + rep.Sandbox
	}
	fmt.Fprintf(e.stdout, "\nnode: %s\nclient: %s\nbaseline: a minimal Go net/http server doing the same JSON greeting (cold: fork/exec until its first answer); ratio = updraft ÷ baseline\n", node, rep.Client)
	if rep.Versus == nil {
		return nil
	}
	fmt.Fprintf(e.stdout, "\n")
	tw = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SCENARIO\tMETRIC\t%s\t%s\tRATIO\t\n", strings.ToUpper(rep.Sandbox), strings.ToUpper(rep.Versus.Sandbox))
	for _, row := range rep.SandboxRows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", row.Scenario, row.Metric, row.Updraft, row.Baseline, row.Ratio)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nratio = %s ÷ %s, both nodes in-process in this run\n", rep.Sandbox, rep.Versus.Sandbox)
	fmt.Fprintf(e.stdout, "\nnode: %s\nclient: %s\nbaseline: a minimal Go net/http server doing the same JSON greeting (cold: fork/exec until its first answer); ratio = updraft ÷ baseline\n", rep.Node, rep.Client)
	if rep.Multi != nil {
		fmt.Fprintf(e.stdout, "multi: baseline = the same function on single-invocation environments, same %d clients\n", rep.Multi.Concurrency)
	}
	return nil
}
