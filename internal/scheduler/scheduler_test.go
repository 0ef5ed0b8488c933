package scheduler

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/function"
	"github.com/updraft/updraft/internal/sandbox"
)

type noDriver struct{}

func (noDriver) Name() string { return "none" }
func (noDriver) Start(context.Context, sandbox.Spec) (sandbox.Env, error) {
	return nil, errors.New("no environments in this test")
}

type noCode struct{}

func (noCode) CodeDir(context.Context, *function.Record) (string, error) { return "", nil }
func (noCode) OptDir(context.Context, *function.Record) (string, error)  { return "", nil }

func newTestScheduler(t *testing.T, account int) *Scheduler {
	t.Helper()
	s, err := New(Config{
		Driver: noDriver{}, Code: noCode{}, AccountConcurrency: account,
		Credentials: func(string) (string, string) { return "", "" },
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func throttled(err error) string {
	if f := fault.As(err); f != nil && f.Kind == fault.Throttled {
		return f.Reason
	}
	return ""
}

// TestScheduler_AdmitProvisioned checks that provisioned concurrency is
// set aside from the account: a function's invocations up to it are
// admitted however busy the unreserved pool is, and the others share what
// is left.
func TestScheduler_AdmitProvisioned(t *testing.T) {
	s := newTestScheduler(t, 10)
	s.mu.Lock()
	defer s.mu.Unlock()
	prov, other, reserved := s.fn("prov"), s.fn("other"), s.fn("reserved")
	s.account(prov, func() { prov.prov = 3 })
	s.setReserved(reserved, func() *int { n := 2; return &n }())

	// 10 − 2 reserved − 3 provisioned leave 5 for everyone else.
	for i := range 5 {
		if err := s.admit(other); err != nil {
			t.Fatalf("other invocation %d: %v", i, err)
		}
	}
	if got := throttled(s.admit(other)); got != "ConcurrentInvocationLimitExceeded" {
		t.Fatalf("6th other invocation: got %q, want ConcurrentInvocationLimitExceeded", got)
	}
	// The provisioned function still runs its 3.
	for i := range 3 {
		if err := s.admit(prov); err != nil {
			t.Fatalf("provisioned invocation %d with the shared pool full: %v", i, err)
		}
	}
	if got := throttled(s.admit(prov)); got != "ConcurrentInvocationLimitExceeded" {
		t.Errorf("4th provisioned invocation: got %q, want a throttle (it would spill into a full pool)", got)
	}
	// One other invocation ends: the provisioned function may spill into it.
	s.unadmit(other)
	if err := s.admit(prov); err != nil {
		t.Errorf("spill into the freed slot: %v", err)
	}
	if s.inflight != 5 {
		t.Errorf("shared pool carries %d, want 5 (4 other + 1 spilled)", s.inflight)
	}
	// Removing the provisioned concurrency returns it to the pool; the
	// function's 4 running invocations now all count there.
	s.account(prov, func() { prov.prov = 0 })
	if s.inflight != 8 || s.provTotal != 0 {
		t.Errorf("after removing provisioned concurrency: shared %d, set aside %d; want 8, 0", s.inflight, s.provTotal)
	}
	for range 4 {
		s.unadmit(prov)
	}
	for range 4 {
		s.unadmit(other)
	}
	if s.inflight != 0 || s.reservedTotal != 2 {
		t.Errorf("at rest: shared %d, reserved %d; want 0, 2", s.inflight, s.reservedTotal)
	}
}

// TestScheduler_TenantRoom checks Lambda's limit of 2,500 tenant
// environments per 1,000 of a function's concurrency: the reservation,
// else the account's.
func TestScheduler_TenantRoom(t *testing.T) {
	s := newTestScheduler(t, 1000)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := func(v int) *int { return &v }
	tests := []struct {
		reserved *int
		want     int
	}{{nil, 2500}, {n(400), 1000}, {n(1), 2}, {n(0), 1}}
	for _, tt := range tests {
		f := s.fn("saas")
		s.setReserved(f, tt.reserved)
		if got := s.tenantEnvLimit(f); got != tt.want {
			t.Errorf("reserved %v: got limit %d, want %d", tt.reserved, got, tt.want)
		}
		p := s.pool("saas", "$LATEST", "blue")
		shared := s.pool("saas", "$LATEST", "")
		f.tenantEnvs = tt.want - 1
		if err := s.tenantRoom(p); err != nil {
			t.Errorf("reserved %v, %d environments: got %v, want room for one more", tt.reserved, f.tenantEnvs, err)
		}
		s.countEnv(p, 1)
		s.countEnv(shared, 1) // environments of a function without isolation do not count
		if got := throttled(s.tenantRoom(p)); got != "ConcurrentInvocationLimitExceeded" {
			t.Errorf("reserved %v, %d environments: got %q, want a throttle", tt.reserved, f.tenantEnvs, got)
		}
		if err := s.tenantRoom(shared); err != nil {
			t.Errorf("pool without a tenant: got %v, want no tenant limit", err)
		}
	}
}
