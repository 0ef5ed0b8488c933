// Package scheduler places invocations on execution environments. It keeps
// a pool of environments per function configuration on this node, reuses
// warm ones, starts new ones (subject to the scaling rate), retires them
// after an idle time or when the function changes, and enforces account,
// reserved and burst concurrency with Lambda's throttling reasons.
//
// Acquire and Release may be called from any goroutine. Start runs the idle
// reaper; Stop kills every environment and waits for the reaper.
package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/function"
	"github.com/updraft/updraft/internal/sandbox"
)

// Defaults of Config.
const (
	AccountConcurrencyDefault = 1000
	BurstDefault              = 1000
	BurstWindowDefault        = 10 * time.Second
	IdleTimeoutDefault        = 10 * time.Minute
	FreezeAfterDefault        = time.Second
	InitTimeoutDefault        = 10 * time.Second
)

// CodeSource unpacks function code on this node.
type CodeSource interface {
	CodeDir(ctx context.Context, r *function.Record) (string, error)
}

// Config configures a Scheduler.
type Config struct {
	// Driver starts environments. Required.
	Driver sandbox.Driver
	// Code gives each function's unpacked code directory. Required.
	Code CodeSource
	// Logs receives every line environments print. Optional.
	Logs LogSink
	// AccountConcurrency is the most invocations running at once across
	// all functions. Default AccountConcurrencyDefault.
	AccountConcurrency int
	// Burst is how many new environments one function may start in a
	// BurstWindow; the allowance refills continuously. Default BurstDefault
	// (Lambda: 1,000 per 10 s).
	Burst int
	// BurstWindow is the refill period of Burst. Default BurstWindowDefault.
	BurstWindow time.Duration
	// IdleTimeout is how long an unused environment is kept warm. Default
	// IdleTimeoutDefault.
	IdleTimeout time.Duration
	// FreezeAfter is how long an environment stays idle before it is
	// frozen, when its driver can freeze it (sandbox.Freezer); a frozen
	// environment uses no CPU and is thawed when it is next given work.
	// Environments in use more often than this never pay for it. Default
	// FreezeAfterDefault; negative never freezes.
	FreezeAfter time.Duration
	// InitTimeout bounds an environment's INIT phase. Default
	// InitTimeoutDefault (Lambda: 10 s).
	InitTimeout time.Duration
	// Runtimes locates interpreters and runtime clients. Required for
	// Python and Node functions.
	Runtimes Runtimes
	// Region is AWS_REGION inside environments.
	Region string
	// Endpoint is AWS_ENDPOINT_URL inside environments: Updraft itself.
	Endpoint string
	// Credentials gives a function's environments their access key.
	// Required.
	Credentials func(function string) (accessKeyID, secretAccessKey string)
}

// Runtimes says how to start the interpreted runtimes.
type Runtimes struct {
	Python       string // python3 interpreter
	PythonClient string // runtime client script
	Node         string // node binary
	NodeClient   string // runtime client module
}

func (c *Config) setDefaults() {
	if c.AccountConcurrency == 0 {
		c.AccountConcurrency = AccountConcurrencyDefault
	}
	if c.Burst == 0 {
		c.Burst = BurstDefault
	}
	if c.BurstWindow == 0 {
		c.BurstWindow = BurstWindowDefault
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = IdleTimeoutDefault
	}
	if c.InitTimeout == 0 {
		c.InitTimeout = InitTimeoutDefault
	}
	if c.FreezeAfter == 0 {
		c.FreezeAfter = FreezeAfterDefault
	}
}

// Validate reports the first invalid field.
func (c *Config) Validate() error {
	switch {
	case c.Driver == nil:
		return errors.New("scheduler config: Driver is required")
	case c.Code == nil:
		return errors.New("scheduler config: Code is required")
	case c.Credentials == nil:
		return errors.New("scheduler config: Credentials is required")
	case c.AccountConcurrency < 0:
		return errors.New("scheduler config: AccountConcurrency is negative")
	case c.Burst < 0:
		return errors.New("scheduler config: Burst is negative")
	case c.IdleTimeout < 0:
		return errors.New("scheduler config: IdleTimeout is negative")
	}
	return nil
}

// Scheduler owns this node's environments.
type Scheduler struct {
	cfg Config
	log *slog.Logger

	mu            sync.Mutex
	pools         map[string]*pool
	inflight      int // invocations running on unreserved functions
	reservedTotal int
	stopped       bool
	retiring      int // environments being killed

	stop chan struct{}
	done chan struct{}
	wg   sync.WaitGroup // environments being killed
}

type pool struct {
	name     string
	revision string // configuration the pool's environments run
	reserved int    // -1 when the function has no reservation
	idle     []*Env // most recently used last
	busy     map[*Env]struct{}
	starting int
	inflight int
	tokens   float64
	refilled time.Time
}

// New returns a Scheduler.
func New(cfg Config, log *slog.Logger) (*Scheduler, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Scheduler{
		cfg:   cfg,
		log:   log,
		pools: map[string]*pool{},
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}, nil
}

// Start runs the idle reaper.
func (s *Scheduler) Start(ctx context.Context) error {
	go s.reap()
	return nil
}

// Stop kills every environment and waits until they are gone.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	var all []*Env
	for _, p := range s.pools {
		all = append(all, p.idle...)
		for e := range p.busy {
			all = append(all, e)
		}
		p.idle = nil
	}
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	for _, e := range all {
		s.retire(e)
	}
	wait := make(chan struct{})
	go func() { s.wg.Wait(); close(wait) }()
	select {
	case <-wait:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Scheduler) retire(e *Env) {
	s.wg.Add(1)
	s.mu.Lock()
	s.retiring++
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		e.kill()
		s.mu.Lock()
		s.retiring--
		s.mu.Unlock()
	}()
}

// Lease is one acquired environment; Release it when the invocation ends.
type Lease struct {
	Env  *Env
	Cold bool // the environment was started for this invocation
	pool *pool
}

// Acquire reserves concurrency for one invocation of rec and returns a warm
// environment, or starts one. It fails with a fault.Throttled error when a
// limit is reached, and with *InitError when a new environment fails to
// initialise.
func (s *Scheduler) Acquire(ctx context.Context, rec *function.Record, requestID string) (*Lease, error) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil, errStopped
	}
	p, stale := s.poolFor(rec)
	if err := s.admit(p); err != nil {
		s.mu.Unlock()
		s.retireAll(stale)
		return nil, err
	}
	for n := len(p.idle); n > 0; n = len(p.idle) {
		e := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		if e.exited() {
			stale = append(stale, e) // died while idle
			continue
		}
		p.busy[e] = struct{}{}
		e.leased = true
		s.mu.Unlock()
		s.retireAll(stale)
		stale = nil
		if err := e.thaw(); err != nil {
			s.log.Warn("thaw environment", "function", e.Function, "env", e.ID, "err", err)
			s.mu.Lock()
			delete(p.busy, e)
			e.leased = false
			stale = append(stale, e)
			continue
		}
		return &Lease{Env: e, pool: p}, nil
	}
	if !s.takeToken(p) {
		s.unadmit(p)
		reason := "FunctionInvocationRateLimitExceeded"
		if p.reserved >= 0 {
			reason = "ReservedFunctionInvocationRateLimitExceeded"
		}
		s.mu.Unlock()
		s.retireAll(stale)
		return nil, &fault.Error{Kind: fault.Throttled, Reason: reason, Message: "Rate Exceeded."}
	}
	p.starting++
	s.mu.Unlock()
	s.retireAll(stale)

	e, err := s.startEnv(ctx, rec, requestID)

	s.mu.Lock()
	p.starting--
	if err != nil {
		s.unadmit(p)
		s.mu.Unlock()
		return nil, err
	}
	if s.stopped {
		s.unadmit(p)
		s.mu.Unlock()
		s.retire(e)
		return nil, errStopped
	}
	if p.revision != e.Revision {
		e.retired = true // serves this invocation, then goes
	}
	p.busy[e] = struct{}{}
	e.leased = true
	s.mu.Unlock()
	return &Lease{Env: e, Cold: true, pool: p}, nil
}

// Release ends the lease. A healthy environment goes back to the warm pool;
// one that is broken, or runs an outdated configuration, is killed.
func (s *Scheduler) Release(l *Lease, healthy bool) {
	s.mu.Lock()
	p := l.pool
	delete(p.busy, l.Env)
	l.Env.leased = false
	s.unadmit(p)
	keep := healthy && !s.stopped && p.revision == l.Env.Revision && !l.Env.retired
	if keep {
		l.Env.lastUsed = time.Now()
		p.idle = append(p.idle, l.Env)
	}
	s.mu.Unlock()
	if !keep {
		s.retire(l.Env)
	}
}

// poolFor returns the function's pool, switched to rec's configuration;
// environments of an older configuration are returned for retiring.
func (s *Scheduler) poolFor(rec *function.Record) (*pool, []*Env) {
	p := s.pool(rec.Config.FunctionName)
	if p.revision == rec.Config.RevisionId {
		return p, nil
	}
	p.revision = rec.Config.RevisionId
	stale := p.idle
	p.idle = nil
	for e := range p.busy {
		e.retired = true
	}
	return p, stale
}

// pool returns the function's pool, creating it; s.mu must be held.
func (s *Scheduler) pool(name string) *pool {
	p := s.pools[name]
	if p == nil {
		p = &pool{name: name, reserved: -1, busy: map[*Env]struct{}{}, tokens: float64(s.cfg.Burst), refilled: time.Now()}
		s.pools[name] = p
	}
	return p
}

// SetReserved records a function's reserved concurrency (nil: none). The
// reservation leaves the shared pool as soon as it is set, as on Lambda.
func (s *Scheduler) SetReserved(name string, reserved *int) {
	s.mu.Lock()
	s.setReserved(s.pool(name), reserved)
	s.mu.Unlock()
}

func (s *Scheduler) setReserved(p *pool, reserved *int) {
	n := -1
	if reserved != nil {
		n = *reserved
	}
	if n == p.reserved {
		return
	}
	// Move the pool's running invocations between the shared and the
	// reserved accounts.
	if p.reserved < 0 {
		s.inflight -= p.inflight
		s.reservedTotal += n
	} else if n < 0 {
		s.inflight += p.inflight
		s.reservedTotal -= p.reserved
	} else {
		s.reservedTotal += n - p.reserved
	}
	p.reserved = n
}

// admit counts one more running invocation of p, or says which limit
// forbids it.
func (s *Scheduler) admit(p *pool) error {
	if p.reserved >= 0 {
		if p.inflight >= p.reserved {
			return &fault.Error{Kind: fault.Throttled, Reason: "ReservedFunctionConcurrentInvocationLimitExceeded", Message: "Rate Exceeded."}
		}
		p.inflight++
		return nil
	}
	if s.inflight >= s.cfg.AccountConcurrency-s.reservedTotal {
		return &fault.Error{Kind: fault.Throttled, Reason: "ConcurrentInvocationLimitExceeded", Message: "Rate Exceeded."}
	}
	s.inflight++
	p.inflight++
	return nil
}

func (s *Scheduler) unadmit(p *pool) {
	p.inflight--
	if p.reserved < 0 {
		s.inflight--
	}
}

// takeToken spends one unit of the pool's scaling allowance.
func (s *Scheduler) takeToken(p *pool) bool {
	now := time.Now()
	rate := float64(s.cfg.Burst) / s.cfg.BurstWindow.Seconds()
	p.tokens += now.Sub(p.refilled).Seconds() * rate
	if max := float64(s.cfg.Burst); p.tokens > max {
		p.tokens = max
	}
	p.refilled = now
	if p.tokens < 1 {
		return false
	}
	p.tokens--
	return true
}

func (s *Scheduler) retireAll(envs []*Env) {
	for _, e := range envs {
		s.retire(e)
	}
}

// Forget retires every environment of a function (deleted or changed).
func (s *Scheduler) Forget(name string) {
	s.mu.Lock()
	p := s.pools[name]
	var stale []*Env
	if p != nil {
		stale = p.idle
		p.idle = nil
		p.revision = ""
		for e := range p.busy {
			e.retired = true
		}
	}
	s.mu.Unlock()
	s.retireAll(stale)
}

// LogSink is where environments' logs go, when there is one.
func (s *Scheduler) LogSink() (LogSink, bool) { return s.cfg.Logs, s.cfg.Logs != nil }

// AccountConcurrency is the configured account limit.
func (s *Scheduler) AccountConcurrency() int { return s.cfg.AccountConcurrency }

// Stats describes the environments of this node.
type Stats struct {
	// Envs counts every live environment: idle, busy, starting, and
	// being shut down.
	Envs, Idle, Busy, Starting, Retiring, Inflight int
	MemoryBytes                                    int64
}

// Stats counts environments, and with memory set sums their memory.
func (s *Scheduler) Stats(memory bool) Stats {
	s.mu.Lock()
	var st Stats
	var envs []*Env
	for _, p := range s.pools {
		st.Idle += len(p.idle)
		st.Busy += len(p.busy)
		st.Starting += p.starting
		st.Inflight += p.inflight
		if memory {
			envs = append(envs, p.idle...)
			for e := range p.busy {
				envs = append(envs, e)
			}
		}
	}
	st.Retiring = s.retiring
	s.mu.Unlock()
	st.Envs = st.Idle + st.Busy + st.Starting + st.Retiring
	for _, e := range envs {
		st.MemoryBytes += e.MemoryBytes()
	}
	return st
}

// reap retires environments idle longer than IdleTimeout and freezes
// those idle longer than FreezeAfter.
func (s *Scheduler) reap() {
	defer close(s.done)
	every := s.cfg.IdleTimeout / 4
	if s.cfg.FreezeAfter > 0 {
		every = min(every, s.cfg.FreezeAfter/2)
	}
	if every < 10*time.Millisecond {
		every = 10 * time.Millisecond
	}
	if every > 10*time.Second {
		every = 10 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.retireAll(s.expired(now))
			if s.cfg.FreezeAfter > 0 {
				s.freezeIdle(now)
			}
		}
	}
}

// freezeIdle freezes the environments idle for FreezeAfter. An
// environment taken while it is being frozen is thawed by Acquire.
func (s *Scheduler) freezeIdle(now time.Time) {
	s.mu.Lock()
	var idle []*Env
	for _, p := range s.pools {
		for _, e := range p.idle {
			if now.Sub(e.lastUsed) >= s.cfg.FreezeAfter {
				idle = append(idle, e)
			}
		}
	}
	s.mu.Unlock()
	for _, e := range idle {
		err := e.freeze(func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return e.leased || e.retired
		})
		if err != nil {
			s.log.Warn("freeze environment", "function", e.Function, "env", e.ID, "err", err)
		}
	}
}

func (s *Scheduler) expired(now time.Time) []*Env {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Env
	for _, p := range s.pools {
		keep := p.idle[:0]
		for _, e := range p.idle {
			if now.Sub(e.lastUsed) >= s.cfg.IdleTimeout {
				out = append(out, e)
			} else {
				keep = append(keep, e)
			}
		}
		for i := len(keep); i < len(p.idle); i++ {
			p.idle[i] = nil
		}
		p.idle = keep
	}
	return out
}

// command is how an environment of config c starts.
func (s *Scheduler) command(c *function.Config) ([]string, error) {
	switch function.RuntimeFamily(c.Runtime) {
	case "provided":
		return []string{"./bootstrap"}, nil
	case "python":
		if s.cfg.Runtimes.Python == "" {
			return nil, fault.New(fault.InvalidParameter, "Runtime %s is not available on this node: no python3 interpreter was found.", c.Runtime)
		}
		return []string{s.cfg.Runtimes.Python, "-u", s.cfg.Runtimes.PythonClient}, nil
	case "node":
		if s.cfg.Runtimes.Node == "" {
			return nil, fault.New(fault.InvalidParameter, "Runtime %s is not available on this node: no node binary was found.", c.Runtime)
		}
		return []string{s.cfg.Runtimes.Node, s.cfg.Runtimes.NodeClient}, nil
	}
	return nil, fmt.Errorf("runtime %s has no launcher", c.Runtime)
}

// runtimePaths are the host paths an interpreted runtime needs inside an
// isolating sandbox: the runtime client's directory and the interpreter's
// installation (the directory above its bin/).
func (s *Scheduler) runtimePaths(c *function.Config) []string {
	var interp, client string
	switch function.RuntimeFamily(c.Runtime) {
	case "python":
		interp, client = s.cfg.Runtimes.Python, s.cfg.Runtimes.PythonClient
	case "node":
		interp, client = s.cfg.Runtimes.Node, s.cfg.Runtimes.NodeClient
	default:
		return nil
	}
	install := filepath.Dir(interp)
	if filepath.Base(install) == "bin" {
		install = filepath.Dir(install)
	}
	return []string{filepath.Dir(client), install}
}

// environ is the environment of an execution environment, as Lambda sets
// it; codeDir is where the function sees its code.
func (s *Scheduler) environ(c *function.Config, codeDir, runtimeAPI, stream string) []string {
	keyID, secret := s.cfg.Credentials(c.FunctionName)
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin:/opt/bin",
		"LANG=en_US.UTF-8",
		"TZ=:UTC",
		"LD_LIBRARY_PATH=/lib64:/usr/lib64:" + filepath.Join(codeDir, "lib") + ":/opt/lib",
		"_HANDLER=" + c.Handler,
		"AWS_EXECUTION_ENV=AWS_Lambda_" + c.Runtime,
		"AWS_LAMBDA_FUNCTION_NAME=" + c.FunctionName,
		"AWS_LAMBDA_FUNCTION_VERSION=" + function.Latest,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(c.MemorySize),
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(c.Timeout),
		"AWS_LAMBDA_LOG_GROUP_NAME=" + c.LoggingConfig.LogGroup,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + stream,
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_RUNTIME_API=" + runtimeAPI,
		"LAMBDA_TASK_ROOT=" + codeDir,
		"LAMBDA_RUNTIME_DIR=" + filepath.Dir(s.cfg.Runtimes.PythonClient),
		"AWS_REGION=" + s.cfg.Region,
		"AWS_DEFAULT_REGION=" + s.cfg.Region,
		"AWS_ENDPOINT_URL=" + s.cfg.Endpoint,
		"AWS_ACCESS_KEY_ID=" + keyID,
		"AWS_SECRET_ACCESS_KEY=" + secret,
	}
	if c.LoggingConfig.LogFormat == "JSON" {
		env = append(env, "AWS_LAMBDA_LOG_FORMAT=JSON")
	}
	if c.Environment != nil {
		for k, v := range c.Environment.Variables {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func newEnvID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
