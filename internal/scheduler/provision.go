package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/updraft/updraft/internal/function"
)

// Provisioning knobs.
const (
	// provisionTick is how often the provisioner checks every pool's
	// provisioned environments even when nothing asked it to.
	provisionTick = 250 * time.Millisecond
	// provisionParallel bounds the provisioned environments starting at
	// once on this node, so provisioning does not starve invocations.
	provisionParallel = 4
	// provisionBackoffMax caps the wait after failed starts.
	provisionBackoffMax = 30 * time.Second
)

// Provisioned is how many initialised environments to keep for one
// version (Record) of a function.
type Provisioned struct {
	Record *function.Record
	N      int
}

// Provision sets the provisioned environments of a function's versions;
// versions not listed keep none. Their total is set aside from the
// account's unreserved concurrency (for a function without a
// reservation): invocations up to it are never throttled by other
// functions' load. Environments are started in the
// background (IN_PROGRESS until they have all finished INIT), are never
// reaped for idleness, serve invocations before on-demand ones, and are
// replaced when they die.
func (s *Scheduler) Provision(name string, want []Provisioned) {
	s.mu.Lock()
	f := s.fn(name)
	for _, p := range f.pools {
		p.provWant = 0
	}
	total := 0
	for _, w := range want {
		p := s.pool(name, w.Record.Config.Version, "")
		if p.revision == "" {
			p.revision = w.Record.EnvRevision()
		}
		p.provWant, p.provRec = w.N, w.Record
		total += w.N
	}
	// Provisioned concurrency is set aside from the account, as on Lambda.
	s.account(f, func() { f.prov = total })
	s.mu.Unlock()
	s.poke()
}

// poke asks the provisioner to look at every pool now.
func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// ProvisionedStatus reports, for a version of a function on this node,
// how many provisioned environments are initialised, how many are wanted,
// and why the last start failed ("" when it did not).
func (s *Scheduler) ProvisionedStatus(name, version string) (ready, want int, failure string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.funcs[name]
	k := poolKey{version, ""}
	if f == nil || f.pools[k] == nil {
		return 0, 0, ""
	}
	p := f.pools[k]
	return len(p.idleProv) + p.provBusy, p.provWant, p.provErr
}

// provision keeps every pool's provisioned environments at their target.
func (s *Scheduler) provision() {
	defer close(s.provDone)
	t := time.NewTicker(provisionTick)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-s.wake:
		case <-t.C:
		}
		s.reconcile(time.Now())
	}
}

// reconcile retires surplus or dead provisioned environments and starts
// the missing ones.
func (s *Scheduler) reconcile(now time.Time) {
	type start struct {
		p   *pool
		rec *function.Record
	}
	var starts []start
	var surplus []*Env
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	for _, f := range s.funcs {
		for _, p := range f.pools {
			live := p.idleProv[:0]
			for _, e := range p.idleProv {
				if e.exited() {
					surplus = append(surplus, e)
				} else {
					live = append(live, e)
				}
			}
			for i := len(live); i < len(p.idleProv); i++ {
				p.idleProv[i] = nil
			}
			p.idleProv = live
			for p.provisioned() > p.provWant && len(p.idleProv) > 0 {
				surplus = append(surplus, p.idleProv[0])
				p.idleProv = p.idleProv[1:]
			}
			if p.provRec == nil || now.Before(p.provRetry) {
				continue
			}
			for p.provisioned() < p.provWant && s.provStarting < provisionParallel {
				p.provStarting++
				s.provStarting++
				starts = append(starts, start{p, p.provRec})
			}
		}
	}
	for range starts {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	s.retireAll(surplus)
	for _, st := range starts {
		go s.startProvisioned(st.p, st.rec)
	}
}

// startProvisioned starts one provisioned environment of p and, once
// initialised, adds it to p's provisioned idle list.
func (s *Scheduler) startProvisioned(p *pool, rec *function.Record) {
	defer s.wg.Done()
	e, err := s.startEnv(context.Background(), rec, "", true)
	s.mu.Lock()
	p.provStarting--
	s.provStarting--
	if err != nil {
		p.provFails++
		p.provErr = describeInitFailure(err)
		p.provRetry = time.Now().Add(min(time.Second<<min(p.provFails-1, 5), provisionBackoffMax))
		s.mu.Unlock()
		s.log.Warn("start provisioned environment", "function", rec.Config.FunctionName, "version", rec.Config.Version, "err", err)
		return
	}
	s.adopt(e, rec, "")
	keep := !s.stopped && p.provRec != nil && p.provRec.Config.RevisionId == rec.Config.RevisionId && p.revision == e.Revision && p.provisioned() < p.provWant
	if keep {
		p.provFails, p.provErr = 0, ""
		e.lastUsed = time.Now()
		p.idleProv = append(p.idleProv, e)
	}
	s.mu.Unlock()
	if !keep {
		s.retire(e)
	}
	s.poke() // more may be due now that a start slot is free
}

// describeInitFailure is the StatusReason of a failed provisioned start.
func describeInitFailure(err error) string {
	var ie *InitError
	if errors.As(err, &ie) {
		return fmt.Sprintf("FUNCTION_ERROR_INIT_FAILURE: %s", ie.Result.ErrorType)
	}
	return "Provisioned environment failed to start: " + err.Error()
}
