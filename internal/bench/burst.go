package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// BurstResult is the burst scenario's outcome: n concurrent invocations
// of a function that sleeps, from zero environments.
type BurstResult struct {
	Envs  int           `json:"envs"`
	Sleep time.Duration `json:"sleepNs"`
	// AllAnswered is from the first request sent to the last answer; it
	// includes Sleep.
	AllAnswered time.Duration `json:"allAnsweredNs"`
	// Ready is from the first request sent until the status endpoint
	// showed Envs more initialised environments than before; 0 when it
	// never did.
	Ready time.Duration `json:"readyNs"`
	// PeakEnvs is the most environments (of any state) the status
	// endpoint showed, beyond those there before.
	PeakEnvs int `json:"peakEnvs"`
	// DistinctEnvs is how many environments answered.
	DistinctEnvs int      `json:"distinctEnvs"`
	Latency      Latency  `json:"latency"`
	Errors       errorLog `json:"errors"`
	// Baseline is n baseline servers started at once, each answering one
	// request with the same sleep.
	Baseline BurstBaseline `json:"baseline"`
}

// BurstBaseline is the burst scenario's baseline.
type BurstBaseline struct {
	AllAnswered time.Duration `json:"allAnsweredNs"`
	Latency     Latency       `json:"latency"`
	Errors      errorLog      `json:"errors"`
}

// sleeper makes the function of the burst and memory scenarios once,
// noting how many environments the node had before it.
func (r *Runner) sleeper(ctx context.Context) (string, error) {
	if !r.made[r.prefix+"-sleeper"] {
		st, err := r.status(ctx, r.http, false)
		if err != nil {
			return "", err
		}
		r.sleeperBase = st.Envs
	}
	return r.function(ctx, "sleeper", r.cfg.Code.Sleeper)
}

// Burst sends n invocations at once to a function that sleeps for sleep,
// so the node must run n environments together, and watches the status
// endpoint while they start. The node needs account concurrency and burst
// of at least n.
func (r *Runner) Burst(ctx context.Context, n int, sleep time.Duration) (*BurstResult, error) {
	name, err := r.sleeper(ctx)
	if err != nil {
		return nil, err
	}
	res := &BurstResult{Envs: n, Sleep: sleep}
	// The baseline goes first: forking costs more the more files the
	// forking process has open, and afterwards this process may hold n
	// environments' files (an in-process node).
	r.progress("burst: %d baseline servers started at once", n)
	res.Baseline = burstBaseline(ctx, r.cfg.Code.Baseline, n, sleep, nil)

	before, err := r.status(ctx, r.http, false)
	if err != nil {
		return nil, err
	}
	r.progress("burst: %d concurrent invokes of %s sleeping %s (node had %d envs)", n, name, sleep, before.Envs)
	watch := r.watch(ctx, before, n)
	fired := make(chan time.Time, 1)
	envs, samples, elapsed, errs := r.spawn(ctx, name, n, sleep, fired)
	res.AllAnswered, res.Errors, res.DistinctEnvs, res.Latency = elapsed, errs, len(envs), summarize(samples)
	w := watch.stop()
	res.PeakEnvs = w.peak
	if !w.ready.IsZero() {
		res.Ready = w.ready.Sub(<-fired)
	}
	return res, nil
}

// spawn sends n invocations of the sleeper at once and returns the
// environments that answered, each request's latency, the time from the
// first request to the last answer, and the errors. The start time goes
// to fired.
func (r *Runner) spawn(ctx context.Context, name string, n int, sleep time.Duration, fired chan<- time.Time) (map[string]bool, []time.Duration, time.Duration, errorLog) {
	payload := []byte(`{"sleepMs":` + strconv.FormatInt(sleep.Milliseconds(), 10) + `}`)
	url := r.invokeURL(name)
	var (
		mu      sync.Mutex
		envs    = map[string]bool{}
		samples = make([]time.Duration, 0, n)
		errs    errorLog
	)
	start := time.Now()
	fire(n, func(i int) {
		var buf bytes.Buffer
		t0 := time.Now()
		_, err := post(ctx, r.http, url, payload, &buf, nil)
		d := time.Since(t0)
		var out struct {
			Env string `json:"env"`
		}
		if err == nil {
			err = json.Unmarshal(buf.Bytes(), &out)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs.add(err)
			return
		}
		envs[out.Env] = true
		samples = append(samples, d)
	}, func() {
		start = time.Now()
		if fired != nil {
			fired <- start
		}
	})
	return envs, samples, time.Since(start), errs
}

// fire runs do(0..n-1) on n goroutines released together, calling
// released just before, and waits for them.
func fire(n int, do func(i int), released func()) {
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			do(i)
		}()
	}
	released()
	close(gate)
	wg.Wait()
}

// burstBaseline starts n baseline servers at once, each answering one
// request that sleeps for sleep. With keep set the servers are left
// running and handed to keep; otherwise they are stopped.
func burstBaseline(ctx context.Context, path string, n int, sleep time.Duration, keep func([]*proc)) BurstBaseline {
	payload := []byte(`{"name":"burst","sleepMs":` + strconv.FormatInt(sleep.Milliseconds(), 10) + `}`)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var (
		mu      sync.Mutex
		out     BurstBaseline
		procs   []*proc
		samples = make([]time.Duration, 0, n)
	)
	var start time.Time
	fire(n, func(int) {
		var buf bytes.Buffer
		t0 := time.Now()
		p, err := startBaseline(path)
		if err == nil {
			_, err = post(ctx, client, p.url, payload, &buf, nil)
		}
		d := time.Since(t0)
		mu.Lock()
		defer mu.Unlock()
		if p != nil {
			procs = append(procs, p)
		}
		if err != nil {
			out.Errors.add(err)
			return
		}
		samples = append(samples, d)
	}, func() { start = time.Now() })
	out.AllAnswered = time.Since(start)
	out.Latency = summarize(samples)
	if keep != nil {
		keep(procs)
		return out
	}
	stopAll(procs)
	return out
}

func stopAll(procs []*proc) {
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); p.stop() }()
	}
	wg.Wait()
}

// watcher polls the status endpoint during a burst.
type watcher struct {
	done   chan struct{}
	result chan watched
}

type watched struct {
	peak  int
	ready time.Time
}

// watch polls the status endpoint every 10 ms until stopped, noting the
// peak number of new environments and when n new ones were initialised.
func (r *Runner) watch(ctx context.Context, before status, n int) *watcher {
	w := &watcher{done: make(chan struct{}), result: make(chan watched, 1)}
	client := &http.Client{Transport: newTransport(1)}
	go func() {
		var out watched
		defer func() { w.result <- out }()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			st, err := r.status(ctx, client, false)
			if err != nil {
				continue
			}
			out.peak = max(out.peak, st.Envs-before.Envs)
			if out.ready.IsZero() && st.IdleEnvs+st.BusyEnvs-before.IdleEnvs-before.BusyEnvs >= n {
				out.ready = time.Now()
			}
		}
	}()
	return w
}

func (w *watcher) stop() watched {
	close(w.done)
	return <-w.result
}

// MemoryResult is the memory scenario's outcome, read from the status
// endpoint with idle environments present.
type MemoryResult struct {
	Envs            int   `json:"envs"`
	IdleEnvs        int   `json:"idleEnvs"`
	EnvMemoryBytes  int64 `json:"envMemoryBytes"`
	NodeMemoryBytes int64 `json:"nodeMemoryBytes"`
	// PerEnvBytes is EnvMemoryBytes / Envs.
	PerEnvBytes int64 `json:"perEnvBytes"`
	// BaselineProcs baseline servers, each having answered one request,
	// used BaselinePerProcessBytes of resident memory on average.
	BaselineProcs           int   `json:"baselineProcs"`
	BaselinePerProcessBytes int64 `json:"baselinePerProcessBytes"`
}

// Memory reads the node's memory figures with at least n idle
// environments, starting them (n concurrent invocations of the sleeper)
// unless the node already has them, as after Burst. The baseline is the
// average resident memory of up to MemoryBaselineProcsLimit baseline
// servers that have each answered one request.
func (r *Runner) Memory(ctx context.Context, n int, sleep time.Duration) (*MemoryResult, error) {
	st, err := r.status(ctx, r.http, false)
	if err != nil {
		return nil, err
	}
	if st.IdleEnvs < n {
		name, err := r.sleeper(ctx)
		if err != nil {
			return nil, err
		}
		r.progress("memory: starting %d environments of %s", n, name)
		if _, _, _, errs := r.spawn(ctx, name, n, sleep, nil); errs.Count > 0 {
			return nil, fmt.Errorf("memory: %d of %d invocations failed, first: %s", errs.Count, n, errs.Samples[0])
		}
	}
	st, err = r.status(ctx, r.http, true)
	if err != nil {
		return nil, err
	}
	res := &MemoryResult{Envs: st.Envs, IdleEnvs: st.IdleEnvs, EnvMemoryBytes: st.EnvMemoryBytes, NodeMemoryBytes: st.NodeMemoryBytes}
	if st.Envs > 0 {
		res.PerEnvBytes = st.EnvMemoryBytes / int64(st.Envs)
	}
	// The sleeper's n environments (Burst's, or those started here) go
	// with it, so the scenarios after this one do not share the node with
	// a thousand idle environments.
	if name := r.prefix + "-sleeper"; r.made[name] {
		if err := r.drop(ctx, name, r.sleeperBase); err != nil {
			return nil, fmt.Errorf("memory: %w", err)
		}
	}

	k := min(n, MemoryBaselineProcsLimit)
	r.progress("memory: resident memory of %d baseline servers", k)
	var total int64
	var counted int
	out := burstBaseline(ctx, r.cfg.Code.Baseline, k, 0, func(procs []*proc) {
		for _, p := range procs {
			if b := rssBytes(p.cmd.Process.Pid); b > 0 {
				total += b
				counted++
			}
		}
		stopAll(procs)
	})
	if out.Errors.Count > 0 {
		return nil, fmt.Errorf("memory baseline: %d errors, first: %s", out.Errors.Count, out.Errors.Samples[0])
	}
	if counted > 0 {
		res.BaselineProcs, res.BaselinePerProcessBytes = counted, total/int64(counted)
	}
	return res, nil
}
