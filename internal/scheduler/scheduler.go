// Package scheduler places invocations on execution environments. It keeps
// a pool of environments per function version and tenant on this node,
// reuses warm ones, starts new ones (subject to the scaling rate), retires
// them after an idle time or when the function changes, and enforces
// account, reserved and burst concurrency with Lambda's throttling
// reasons. Environments of a tenant-isolated function serve one tenant
// each; environments of a function with a per-environment maximum
// concurrency serve that many invocations at once (see concurrency.go).
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
	"slices"
	"strconv"
	"strings"
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
	// OptDir is the function's layers merged into one directory, or ""
	// when it has none.
	OptDir(ctx context.Context, r *function.Record) (string, error)
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
	// AllCPUs runs every environment on all the node's CPUs. By default
	// an environment runs on as many as its memory buys
	// (function.Config.VCPUs), so that its runtime sizes its threads for
	// its share of the host rather than the whole host.
	AllCPUs bool
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
	funcs         map[string]*fnState
	inflight      int // invocations the unreserved pool carries (see fnState.shared)
	reservedTotal int
	provTotal     int // provisioned concurrency of unreserved functions
	stopped       bool
	retiring      int // environments being killed
	provStarting  int // provisioned environments starting, all functions

	stop     chan struct{}
	done     chan struct{}  // the reaper has ended
	provDone chan struct{}  // the provisioner has ended
	wake     chan struct{}  // asks the provisioner to look now
	wg       sync.WaitGroup // environments being killed or provisioned
}

// fnState is what the scheduler keeps per function: its concurrency
// account, scaling allowance, and one pool per version.
type fnState struct {
	name     string
	reserved int // -1 when the function has no reservation
	prov     int // provisioned environments wanted, all versions
	inflight int
	tokens   float64
	refilled time.Time
	pools    map[poolKey]*pool
	// tenantEnvs counts the environments of tenant pools, starting or
	// started, for Lambda's limit on them (see tenantRoom).
	tenantEnvs int
}

// poolKey names a pool: a version ("$LATEST", "1", …) and, for a
// tenant-isolated function, a tenant.
type poolKey struct{ version, tenant string }

// pool holds the environments of one version of a function for one
// tenant ("" for a function without tenant isolation).
type pool struct {
	fn       *fnState
	version  string
	tenant   string
	revision string            // configuration the pool's environments run
	idle     []*Env            // on-demand, serving nothing, most recently used last
	busy     map[*Env]struct{} // serving at least one invocation
	open     map[*Env]struct{} // busy, with room for another invocation
	active   int               // invocations running in the pool's environments
	starting int
	spare    bool // an environment is starting ahead of demand

	// Provisioned concurrency: provWant environments are kept initialised
	// from provRec, never reaped; they serve before on-demand ones.
	provRec      *function.Record
	provWant     int
	idleProv     []*Env
	provBusy     int
	provStarting int
	provErr      string    // why the last provisioned start failed
	provFails    int       // consecutive failed starts
	provRetry    time.Time // no new start before
}

// provisioned counts the pool's provisioned environments, starting or not.
func (p *pool) provisioned() int { return len(p.idleProv) + p.provBusy + p.provStarting }

// New returns a Scheduler.
func New(cfg Config, log *slog.Logger) (*Scheduler, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Scheduler{
		cfg:      cfg,
		log:      log,
		funcs:    map[string]*fnState{},
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		provDone: make(chan struct{}),
		wake:     make(chan struct{}, 1),
	}, nil
}

// Start runs the idle reaper and the provisioner.
func (s *Scheduler) Start(ctx context.Context) error {
	go s.reap()
	go s.provision()
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
	for _, f := range s.funcs {
		for _, p := range f.pools {
			all = append(all, p.idle...)
			all = append(all, p.idleProv...)
			for e := range p.busy {
				all = append(all, e)
			}
			p.idle, p.idleProv = nil, nil
		}
	}
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	<-s.provDone
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
	if e.tenant != "" {
		s.fn(e.Function).tenantEnvs--
	}
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

// Acquire reserves concurrency for one invocation of rec (a function's
// $LATEST or one of its versions) by tenant ("" for a function without
// tenant isolation) and returns an environment: a busy one with room for
// another invocation, else a warm one, provisioned first, else a new one.
// It fails with a fault.Throttled error when a limit is reached, and with
// *InitError when a new environment fails to initialise.
func (s *Scheduler) Acquire(ctx context.Context, rec *function.Record, tenant, requestID string) (*Lease, error) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil, errStopped
	}
	p, stale := s.poolFor(rec, tenant)
	if err := s.admitReserved(p); err != nil {
		s.mu.Unlock()
		s.retireAll(stale)
		return nil, err
	}
	if err := s.admit(p.fn); err != nil {
		s.mu.Unlock()
		s.retireAll(stale)
		return nil, err
	}
	// A warm environment (the busiest with room, then idle provisioned,
	// then idle on-demand). One taken from an idle list may be frozen: it
	// is thawed outside the lock, and one that cannot be thawed is retired
	// and the next tried.
	for {
		e := p.take(&stale)
		if e == nil {
			break
		}
		spare := s.wantSpare(p, rec)
		s.mu.Unlock()
		s.retireAll(stale)
		stale = nil
		s.startSpare(spare)
		err := e.thaw()
		if err == nil {
			return &Lease{Env: e, pool: p}, nil
		}
		s.log.Warn("thaw environment", "function", e.Function, "env", e.ID, "err", err)
		s.mu.Lock()
		e.retired = true
		p.release(e)
		stale = append(stale, e)
	}
	if err := s.tenantRoom(p); err != nil {
		s.unadmit(p.fn)
		s.mu.Unlock()
		s.retireAll(stale)
		return nil, err
	}
	if !s.takeToken(p.fn) {
		s.unadmit(p.fn)
		reason := "FunctionInvocationRateLimitExceeded"
		if p.fn.reserved >= 0 {
			reason = "ReservedFunctionInvocationRateLimitExceeded"
		}
		s.mu.Unlock()
		s.retireAll(stale)
		return nil, &fault.Error{Kind: fault.Throttled, Reason: reason, Message: "Rate Exceeded."}
	}
	p.starting++
	s.countEnv(p, 1)
	// Stop waits for this start (which may retire what it started), as
	// for every other start, so wg.Add never follows Stop's Wait.
	s.wg.Add(1)
	defer s.wg.Done()
	s.mu.Unlock()
	s.retireAll(stale)

	e, err := s.startForInvoke(ctx, rec, requestID)

	s.mu.Lock()
	p.starting--
	if err != nil {
		s.unadmit(p.fn)
		s.countEnv(p, -1)
		s.mu.Unlock()
		return nil, err
	}
	s.adopt(e, rec, tenant)
	if s.stopped {
		s.unadmit(p.fn)
		s.mu.Unlock()
		s.retire(e)
		return nil, errStopped
	}
	if p.revision != e.Revision {
		e.retired = true // serves this invocation, then goes
	}
	p.lease(e)
	spare := s.wantSpare(p, rec)
	s.mu.Unlock()
	s.startSpare(spare)
	return &Lease{Env: e, Cold: true, pool: p}, nil
}

// adopt records what the scheduler needs of a new environment of rec for
// tenant; s.mu must be held.
func (s *Scheduler) adopt(e *Env, rec *function.Record, tenant string) {
	e.max = rec.Config.MaxConcurrency()
	e.tenant = tenant
}

// popLive takes the most recently used live environment off list; the
// dead ones it meets go to dead.
func popLive(list *[]*Env, dead *[]*Env) *Env {
	for n := len(*list); n > 0; n = len(*list) {
		e := (*list)[n-1]
		(*list)[n-1] = nil
		*list = (*list)[:n-1]
		if e.exited() {
			*dead = append(*dead, e) // died while idle
			continue
		}
		return e
	}
	return nil
}

// Release ends the lease. An environment still serving other invocations
// stays busy; one serving none goes back to the warm pool when healthy, or
// is killed when it is broken or runs an outdated configuration.
func (s *Scheduler) Release(l *Lease, healthy bool) {
	s.mu.Lock()
	p, e := l.pool, l.Env
	s.unadmit(p.fn)
	e.active--
	p.active--
	if !healthy || s.stopped || p.revision != e.Revision {
		e.retired = true
	}
	if e.active > 0 {
		if e.retired {
			delete(p.open, e)
		} else {
			p.open[e] = struct{}{}
		}
		s.mu.Unlock()
		return
	}
	delete(p.busy, e)
	delete(p.open, e)
	keep := !e.retired
	if e.provisioned {
		p.provBusy--
		keep = keep && p.provisioned() < p.provWant
		if keep {
			p.idleProv = append(p.idleProv, e)
		}
	} else if keep {
		e.lastUsed = time.Now()
		p.idle = append(p.idle, e)
	}
	s.mu.Unlock()
	if !keep {
		s.retire(e)
		if e.provisioned {
			s.poke() // a replacement is due
		}
	}
}

// poolFor returns the pool of rec's version for tenant, switched to rec's
// configuration; environments of an older configuration are returned for
// retiring.
func (s *Scheduler) poolFor(rec *function.Record, tenant string) (*pool, []*Env) {
	p := s.pool(rec.Config.FunctionName, rec.Config.Version, tenant)
	if p.revision == rec.EnvRevision() {
		return p, nil
	}
	p.revision = rec.EnvRevision()
	stale := append(p.idle, p.idleProv...)
	p.idle, p.idleProv = nil, nil
	for e := range p.busy {
		e.retired = true
	}
	clear(p.open)
	return p, stale
}

// fn returns the function's state, creating it; s.mu must be held.
func (s *Scheduler) fn(name string) *fnState {
	f := s.funcs[name]
	if f == nil {
		f = &fnState{name: name, reserved: -1, tokens: float64(s.cfg.Burst), refilled: time.Now(), pools: map[poolKey]*pool{}}
		s.funcs[name] = f
	}
	return f
}

// pool returns the pool of a function's version for tenant, creating it;
// s.mu must be held.
func (s *Scheduler) pool(name, version, tenant string) *pool {
	f := s.fn(name)
	k := poolKey{version, tenant}
	p := f.pools[k]
	if p == nil {
		p = &pool{fn: f, version: version, tenant: tenant, busy: map[*Env]struct{}{}, open: map[*Env]struct{}{}}
		f.pools[k] = p
	}
	return p
}

// SetReserved records a function's reserved concurrency (nil: none). The
// reservation leaves the shared pool as soon as it is set, as on Lambda.
func (s *Scheduler) SetReserved(name string, reserved *int) {
	s.mu.Lock()
	s.setReserved(s.fn(name), reserved)
	s.mu.Unlock()
}

func (s *Scheduler) setReserved(f *fnState, reserved *int) {
	n := -1
	if reserved != nil {
		n = *reserved
	}
	s.account(f, func() { f.reserved = n })
}

// shared is the part of f's running invocations that the unreserved pool
// carries: none for a reserved function; beyond its provisioned
// concurrency for the others.
func (f *fnState) shared() int {
	if f.reserved >= 0 {
		return 0
	}
	return max(f.inflight-f.prov, 0)
}

// setAside is the provisioned concurrency f takes out of the unreserved
// pool (a reserved function's comes out of its reservation).
func (f *fnState) setAside() int {
	if f.reserved >= 0 {
		return 0
	}
	return f.prov
}

// account applies change to f and keeps the node-wide totals f
// contributes to (shared running invocations, reservations, provisioned
// concurrency set aside) in step; s.mu must be held.
func (s *Scheduler) account(f *fnState, change func()) {
	s.inflight -= f.shared()
	s.reservedTotal -= max(f.reserved, 0)
	s.provTotal -= f.setAside()
	change()
	s.inflight += f.shared()
	s.reservedTotal += max(f.reserved, 0)
	s.provTotal += f.setAside()
}

// admit counts one more running invocation of f, or says which limit
// forbids it. A reserved function runs within its reservation; another
// runs within its provisioned concurrency, and beyond it in what the
// account leaves after reservations and provisioned concurrency.
func (s *Scheduler) admit(f *fnState) error {
	switch {
	case f.reserved >= 0 && f.inflight >= f.reserved:
		return &fault.Error{Kind: fault.Throttled, Reason: "ReservedFunctionConcurrentInvocationLimitExceeded", Message: "Rate Exceeded."}
	case f.reserved < 0 && f.inflight >= f.prov && s.inflight >= s.cfg.AccountConcurrency-s.reservedTotal-s.provTotal:
		return &fault.Error{Kind: fault.Throttled, Reason: "ConcurrentInvocationLimitExceeded", Message: "Rate Exceeded."}
	}
	s.account(f, func() { f.inflight++ })
	return nil
}

// admitReserved says whether a reserved function may run one more
// invocation in p beyond its provisioned environments: what it runs
// outside them is bounded by what its provisioned concurrency leaves of
// the reservation, as on Lambda (a reservation all provisioned throttles
// $LATEST). A provisioned environment of p with room lets it in; admit
// still applies the reservation itself. s.mu must be held.
func (s *Scheduler) admitReserved(p *pool) error {
	f := p.fn
	if f.reserved < 0 || f.prov == 0 || len(p.idleProv) > 0 {
		return nil
	}
	for e := range p.open {
		if e.provisioned {
			return nil // a provisioned environment with room (multi-concurrency)
		}
	}
	onDemand := f.inflight
	for _, q := range f.pools {
		for e := range q.busy {
			if e.provisioned {
				onDemand -= e.active
			}
		}
	}
	if onDemand >= f.reserved-f.prov {
		return &fault.Error{Kind: fault.Throttled, Reason: "ReservedFunctionConcurrentInvocationLimitExceeded", Message: "Rate Exceeded."}
	}
	return nil
}

func (s *Scheduler) unadmit(f *fnState) {
	s.account(f, func() { f.inflight-- })
}

// takeToken spends one unit of the function's scaling allowance.
func (s *Scheduler) takeToken(f *fnState) bool {
	now := time.Now()
	rate := float64(s.cfg.Burst) / s.cfg.BurstWindow.Seconds()
	f.tokens += now.Sub(f.refilled).Seconds() * rate
	if max := float64(s.cfg.Burst); f.tokens > max {
		f.tokens = max
	}
	f.refilled = now
	if f.tokens < 1 {
		return false
	}
	f.tokens--
	return true
}

func (s *Scheduler) retireAll(envs []*Env) {
	for _, e := range envs {
		s.retire(e)
	}
}

// Forget retires every environment of a function (deleted, or its $LATEST
// changed when version is function.Latest) or of one of its versions;
// version "" means all of them. Provisioned environments go too.
func (s *Scheduler) Forget(name, version string) {
	s.mu.Lock()
	var stale []*Env
	if f := s.funcs[name]; f != nil {
		for _, p := range f.pools {
			if version != "" && p.version != version {
				continue
			}
			stale = append(stale, p.idle...)
			stale = append(stale, p.idleProv...)
			p.idle, p.idleProv = nil, nil
			p.revision = ""
			p.provWant, p.provRec = 0, nil
			for e := range p.busy {
				e.retired = true
			}
			clear(p.open)
		}
		total := 0
		for _, p := range f.pools {
			total += p.provWant
		}
		s.account(f, func() { f.prov = total })
	}
	s.mu.Unlock()
	s.retireAll(stale)
}

// Versions lists the versions this node has pools for.
func (s *Scheduler) Versions(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	if f := s.funcs[name]; f != nil {
		for k := range f.pools {
			if !slices.Contains(out, k.version) {
				out = append(out, k.version)
			}
		}
	}
	return out
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
	// Provisioned counts initialised provisioned environments (idle or
	// busy); they are also in Idle and Busy.
	Provisioned int
	MemoryBytes int64
}

// Stats counts environments, and with memory set sums their memory.
func (s *Scheduler) Stats(memory bool) Stats {
	s.mu.Lock()
	var st Stats
	var envs []*Env
	for _, f := range s.funcs {
		st.Inflight += f.inflight
		for _, p := range f.pools {
			st.Idle += len(p.idle) + len(p.idleProv)
			st.Busy += len(p.busy)
			st.Starting += p.starting + p.provStarting
			st.Provisioned += len(p.idleProv) + p.provBusy
			if memory {
				envs = append(envs, p.idle...)
				envs = append(envs, p.idleProv...)
				for e := range p.busy {
					envs = append(envs, e)
				}
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
	for _, f := range s.funcs {
		for _, p := range f.pools {
			for _, e := range p.idle {
				if now.Sub(e.lastUsed) >= s.cfg.FreezeAfter {
					idle = append(idle, e)
				}
			}
		}
	}
	s.mu.Unlock()
	for _, e := range idle {
		err := e.freeze(func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return e.active > 0 || e.retired
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
	for _, f := range s.funcs {
		for k, p := range f.pools {
			out = append(out, expire(p, now, s.cfg.IdleTimeout)...)
			if p.tenant != "" && p.empty() {
				delete(f.pools, k) // tenants come and go: keep no pool of one that left
			}
		}
	}
	return out
}

// expire takes the on-demand environments idle for timeout off p's idle
// list; provisioned ones are never reaped.
func expire(p *pool, now time.Time, timeout time.Duration) []*Env {
	var out []*Env
	keep := p.idle[:0]
	for _, e := range p.idle {
		if now.Sub(e.lastUsed) >= timeout {
			out = append(out, e)
		} else {
			keep = append(keep, e)
		}
	}
	for i := len(keep); i < len(p.idle); i++ {
		p.idle[i] = nil
	}
	p.idle = keep
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
// it; codeDir is where the function sees its code. initType is on-demand
// or provisioned-concurrency; with layers the runtimes' search paths
// include Lambda's /opt directories.
func (s *Scheduler) environ(c *function.Config, codeDir, runtimeAPI, stream, initType string, layers bool) []string {
	keyID, secret := s.cfg.Credentials(c.FunctionName)
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin:/opt/bin",
		"LANG=en_US.UTF-8",
		"TZ=:UTC",
		"LD_LIBRARY_PATH=/lib64:/usr/lib64:" + codeDir + ":" + filepath.Join(codeDir, "lib") + ":/opt/lib",
		// Lambda starts runtimes from a shell in the task root.
		"PWD=" + codeDir,
		"SHLVL=0",
		"_HANDLER=" + c.Handler,
		"AWS_EXECUTION_ENV=AWS_Lambda_" + c.Runtime,
		"AWS_LAMBDA_FUNCTION_NAME=" + c.FunctionName,
		"AWS_LAMBDA_FUNCTION_VERSION=" + c.Version,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(c.MemorySize),
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(c.Timeout),
		"AWS_LAMBDA_LOG_GROUP_NAME=" + c.LoggingConfig.LogGroup,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + stream,
		"AWS_LAMBDA_INITIALIZATION_TYPE=" + initType,
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
	if c.CapacityProviderConfig != nil {
		// The runtime may take this many invocations at once.
		env = append(env, "AWS_LAMBDA_MAX_CONCURRENCY="+strconv.Itoa(c.MaxConcurrency()))
	}
	if layers {
		switch function.RuntimeFamily(c.Runtime) {
		case "python":
			env = append(env, "PYTHONPATH=/opt/python:/opt/python/lib/"+c.Runtime+"/site-packages")
		case "node":
			major := strings.TrimSuffix(strings.TrimPrefix(c.Runtime, "nodejs"), ".x")
			env = append(env, "NODE_PATH=/opt/nodejs/node"+major+"/node_modules:/opt/nodejs/node_modules")
		}
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
