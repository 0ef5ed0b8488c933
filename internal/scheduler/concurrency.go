package scheduler

import (
	"context"
	"time"

	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/function"
)

// Multi-concurrency: an environment of a function whose configuration
// allows several requests at once (function.Config.MaxConcurrency, from
// PerExecutionEnvironmentMaxConcurrency) is told so
// (AWS_LAMBDA_MAX_CONCURRENCY) and handed up to that many invocations at
// once. The scheduler packs invocations: one goes to the busiest
// environment that still has room, then to a warm idle one, and only when
// every environment is full does an invocation start a new one, as on
// Lambda. So that the pool rarely gets there, it scales out ahead of
// demand: when the invocations running in a pool exceed ScaleOutAt of
// what its environments can take, one more environment starts in the
// background and waits idle until the others fill up. Concurrency limits
// (reserved, account) count invocations, never environments.

// ScaleOutAt is the target utilisation of a pool of multi-concurrent
// environments: running invocations over the invocations its environments
// (started or starting) can take. Above it, one more environment is
// started ahead of demand.
const ScaleOutAt = 0.7

// tenantEnvsPer1000 is Lambda's limit on tenant-isolated environments,
// active or idle: 2,500 for every 1,000 concurrent executions configured
// for the function.
const tenantEnvsPer1000 = 2500

// take leases the environment that should serve the next invocation in p:
// the busiest one with room for another, else an idle provisioned one,
// else the most recently used idle one; nil when there is none. Idle
// environments found dead go to dead. s.mu must be held.
func (p *pool) take(dead *[]*Env) *Env {
	if e := p.fullest(); e != nil {
		p.lease(e)
		return e
	}
	if e := popLive(&p.idleProv, dead); e != nil {
		p.provBusy++
		p.lease(e)
		return e
	}
	if e := popLive(&p.idle, dead); e != nil {
		p.lease(e)
		return e
	}
	return nil
}

// fullest returns the busy environment with the most invocations that
// still has room for one more, or nil.
func (p *pool) fullest() *Env {
	var best *Env
	for e := range p.open {
		if e.retired || e.exited() {
			delete(p.open, e) // its invocations end on their own
			continue
		}
		if best == nil || e.active > best.active {
			best = e
		}
	}
	return best
}

// lease counts one more invocation on e.
func (p *pool) lease(e *Env) {
	e.active++
	p.active++
	p.busy[e] = struct{}{}
	if e.active < e.max {
		p.open[e] = struct{}{}
	} else {
		delete(p.open, e)
	}
}

// release undoes lease for an environment taken but not used (one that
// could not be thawed); s.mu must be held.
func (p *pool) release(e *Env) {
	e.active--
	p.active--
	if e.provisioned && e.active == 0 {
		p.provBusy--
	}
	if e.active == 0 {
		delete(p.busy, e)
	}
	delete(p.open, e)
}

// empty reports whether p holds no environment and expects none.
func (p *pool) empty() bool {
	return len(p.idle) == 0 && len(p.busy) == 0 && len(p.idleProv) == 0 &&
		p.starting == 0 && p.provStarting == 0 && p.provWant == 0
}

// spareStart is an environment to start ahead of demand.
type spareStart struct {
	p   *pool
	rec *function.Record
}

// wantSpare decides whether p, of configuration rec, should scale out now
// and, if so, books the start (scaling allowance, tenant limit); s.mu
// must be held. Start it with startSpare after unlocking.
func (s *Scheduler) wantSpare(p *pool, rec *function.Record) *spareStart {
	limit := rec.Config.MaxConcurrency()
	if limit <= 1 || p.spare || s.stopped || p.revision != rec.EnvRevision() {
		return nil
	}
	envs := len(p.busy) + len(p.idle) + len(p.idleProv) + p.starting + p.provStarting
	if float64(p.active) <= ScaleOutAt*float64(envs*limit) {
		return nil
	}
	if s.tenantRoom(p) != nil || !s.takeToken(p.fn) {
		return nil // the next invocation that finds no room starts one, or is throttled
	}
	p.spare = true
	p.starting++
	s.countEnv(p, 1)
	s.wg.Add(1)
	return &spareStart{p: p, rec: rec}
}

// startSpare starts the environment wantSpare booked, in the background;
// once initialised it waits in the pool's idle list.
func (s *Scheduler) startSpare(st *spareStart) {
	if st == nil {
		return
	}
	go func() {
		defer s.wg.Done()
		p := st.p
		e, err := s.startEnv(context.Background(), st.rec, "", false)
		s.mu.Lock()
		p.starting--
		p.spare = false
		if err != nil {
			s.countEnv(p, -1)
			s.mu.Unlock()
			s.log.Warn("start environment ahead of demand", "function", st.rec.Config.FunctionName, "version", st.rec.Config.Version, "err", err)
			return
		}
		s.adopt(e, st.rec, p.tenant)
		keep := !s.stopped && p.revision == e.Revision
		if keep {
			e.lastUsed = time.Now()
			p.idle = append(p.idle, e)
		}
		s.mu.Unlock()
		if !keep {
			s.retire(e)
		}
	}()
}

// tenantEnvLimit is how many tenant-isolated environments f may have:
// 2,500 per 1,000 of its concurrency (its reservation, else the account's).
func (s *Scheduler) tenantEnvLimit(f *fnState) int {
	c := s.cfg.AccountConcurrency
	if f.reserved >= 0 {
		c = f.reserved
	}
	return max(c*tenantEnvsPer1000/1000, 1)
}

// tenantRoom says whether p may start another environment under Lambda's
// limit on tenant-isolated environments; s.mu must be held.
func (s *Scheduler) tenantRoom(p *pool) error {
	if p.tenant == "" || p.fn.tenantEnvs < s.tenantEnvLimit(p.fn) {
		return nil
	}
	return &fault.Error{Kind: fault.Throttled, Reason: "ConcurrentInvocationLimitExceeded", Message: "Rate Exceeded."}
}

// countEnv counts an environment of p starting (+1) or one that failed to
// start (-1) towards the tenant limit; retire counts the others out.
func (s *Scheduler) countEnv(p *pool, d int) {
	if p.tenant != "" {
		p.fn.tenantEnvs += d
	}
}
