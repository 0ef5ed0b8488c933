package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/updraft/updraft/internal/fault"
)

// ProvisionedConfig is what a user asked for with
// PutProvisionedConcurrencyConfig on a version or alias. It is stored in
// BucketProvisioned under "<function>.<qualifier>"; how much of it is
// allocated is the scheduler's to say.
type ProvisionedConfig struct {
	Requested    int    `json:"requested"`
	LastModified string `json:"lastModified"`

	function, qualifier string // from the key
	revision            uint64
}

// Function is the function the config belongs to.
func (p *ProvisionedConfig) Function() string { return p.function }

// Qualifier is the version or alias the config is on.
func (p *ProvisionedConfig) Qualifier() string { return p.qualifier }

func (p *ProvisionedConfig) rev() uint64 {
	if p == nil {
		return 0
	}
	return p.revision
}

func decodeProvisioned(key string, data []byte, revision uint64) (*ProvisionedConfig, error) {
	var p ProvisionedConfig
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decode provisioned concurrency config %s: %w", key, err)
	}
	p.function, p.qualifier, _ = strings.Cut(key, ".")
	p.revision = revision
	return &p, nil
}

func errNoProvisioned() error {
	return fault.Typed(fault.NotFound, "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function")
}

// checkProvisionedQualifier checks that qualifier names a published
// version, or an alias of one; unpublished is the error for $LATEST.
func (s *Store) checkProvisionedQualifier(name, qualifier string, unpublished error) error {
	if qualifier == "" {
		return validationError("null", "qualifier", "Member must not be null")
	}
	if err := CheckQualifier(qualifier); err != nil {
		return err
	}
	if qualifier == Latest {
		return unpublished
	}
	if !IsVersion(qualifier) {
		// Lambda names the alias whether or not the function exists.
		if s.index.Get(name) == nil || s.aliases.Get(qualifiedKey(name, qualifier)) == nil {
			return s.noAlias(name, qualifier)
		}
	}
	if _, err := s.Get(name, qualifier); err != nil {
		return err
	}
	if a := s.aliases.Get(qualifiedKey(name, qualifier)); a != nil && a.FunctionVersion == Latest {
		return errUnpublished()
	}
	return nil
}

func errUnpublished() error {
	return fault.New(fault.InvalidParameter, "Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
}

func errNotPublished() error {
	return fault.New(fault.InvalidParameter, "The function resource provided must be an alias or a published version.")
}

// PutProvisionedConcurrency asks for n environments of a version or alias
// to be kept initialised. Provisioned concurrency comes out of the
// function's reservation when it has one, else out of the account's
// unreserved concurrency, which must keep UnreservedMin. A version and an
// alias that routes to it cannot both have a config.
func (s *Store) PutProvisionedConcurrency(ctx context.Context, name, qualifier string, n, account int) (*ProvisionedConfig, error) {
	if n < 1 {
		return nil, validationError(n, "provisionedConcurrentExecutions", "Member must have value greater than or equal to 1")
	}
	if err := s.checkProvisionedQualifier(name, qualifier, errUnpublished()); err != nil {
		return nil, err
	}
	fn, err := s.Get(name, "")
	if err != nil {
		return nil, err
	}
	if fn.Config.Isolated() {
		// Lambda does not support provisioned concurrency with tenant
		// isolation: an environment kept ready belongs to no tenant yet.
		return nil, fault.New(fault.InvalidParameter, "Provisioned Concurrency is not supported for functions with tenant isolation mode %s.", fn.Config.TenancyConfig.TenantIsolationMode)
	}
	if err := s.checkProvisionedOverlap(name, qualifier); err != nil {
		return nil, err
	}
	key := qualifiedKey(name, qualifier)
	prev := s.provisioned.Get(key)
	others := s.TotalProvisioned(name)
	if prev != nil {
		others -= prev.Requested
	}
	if fn.ReservedConcurrency != nil {
		if others+n > *fn.ReservedConcurrency {
			return nil, fault.New(fault.InvalidParameter, "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function")
		}
	} else {
		unreserved := s.UnreservedConcurrency(account)
		if prev != nil {
			unreserved += prev.Requested
		}
		switch {
		case n > unreserved:
			return nil, fault.NewUntyped(fault.InvalidParameter, "Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [%d].", max(unreserved, 0))
		case unreserved-n < UnreservedMin:
			return nil, fault.NewUntyped(fault.InvalidParameter, "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", UnreservedMin)
		}
	}
	p := &ProvisionedConfig{Requested: n, LastModified: formatTime(time.Now().UTC()), function: name, qualifier: qualifier}
	data, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode provisioned concurrency config %s: %w", key, err)
	}
	rev, err := s.provisionedKV.Put(ctx, key, data)
	if err != nil {
		return nil, fmt.Errorf("store provisioned concurrency config %s: %w", key, err)
	}
	p.revision = rev
	s.provisioned.Apply(key, p, rev)
	return p, nil
}

// GetProvisionedConcurrency returns the config on a version or alias.
func (s *Store) GetProvisionedConcurrency(name, qualifier string) (*ProvisionedConfig, error) {
	if err := s.checkProvisionedQualifier(name, qualifier, errNotPublished()); err != nil {
		var f *fault.Error
		if errors.As(err, &f) && f.Kind == fault.InvalidParameter && qualifier != Latest {
			return nil, errNoProvisioned() // an alias of $LATEST has none
		}
		return nil, err
	}
	p := s.provisioned.Get(qualifiedKey(name, qualifier))
	if p == nil {
		return nil, errNoProvisioned()
	}
	return p, nil
}

// DeleteProvisionedConcurrency removes the config on a version or alias;
// its environments become on-demand ones. A version or alias without a
// config is no error, as on Lambda.
func (s *Store) DeleteProvisionedConcurrency(ctx context.Context, name, qualifier string) error {
	p, err := s.GetProvisionedConcurrency(name, qualifier)
	if f := fault.As(err); f != nil && f.Type == "ProvisionedConcurrencyConfigNotFoundException" {
		return nil
	}
	if err != nil {
		return err
	}
	return deleteEntry(ctx, s.provisionedKV, s.provisioned, qualifiedKey(name, qualifier), p.revision)
}

// ProvisionedConcurrency returns the function's configs, by qualifier.
func (s *Store) ProvisionedConcurrency(name string) ([]*ProvisionedConfig, error) {
	if _, err := s.Get(name, ""); err != nil {
		return nil, err
	}
	return s.provisionedOf(name), nil
}

func (s *Store) provisionedOf(name string) []*ProvisionedConfig {
	var out []*ProvisionedConfig
	for _, p := range s.provisioned.Values() {
		if p.function == name {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *ProvisionedConfig) int { return strings.Compare(a.qualifier, b.qualifier) })
	return out
}

// TotalProvisioned sums the provisioned concurrency asked for on every
// version and alias of a function.
func (s *Store) TotalProvisioned(name string) int {
	n := 0
	for _, p := range s.provisionedOf(name) {
		n += p.Requested
	}
	return n
}

// ProvisionedSplit is how a config's environments are spread over the
// versions its qualifier routes to: all on a version; on an alias, by the
// alias's weights.
func (s *Store) ProvisionedSplit(p *ProvisionedConfig) map[string]int {
	if IsVersion(p.qualifier) {
		return map[string]int{p.qualifier: p.Requested}
	}
	a := s.aliases.Get(qualifiedKey(p.function, p.qualifier))
	if a == nil || a.FunctionVersion == Latest {
		return nil
	}
	out := map[string]int{}
	left := p.Requested
	for v, w := range a.Split() {
		if v == a.FunctionVersion {
			continue
		}
		k := int(math.Round(w * float64(p.Requested)))
		out[v] = k
		left -= k
	}
	out[a.FunctionVersion] = left
	return out
}

// ProvisionedTargets is how many environments to keep initialised for
// each version of a function, summed over its configs.
func (s *Store) ProvisionedTargets(name string) map[string]int {
	out := map[string]int{}
	for _, p := range s.provisionedOf(name) {
		for v, n := range s.ProvisionedSplit(p) {
			if n > 0 {
				out[v] += n
			}
		}
	}
	return out
}

// checkProvisionedOverlap refuses a config on an alias whose versions have
// their own, and on a version an alias with a config routes to, as Lambda
// does.
func (s *Store) checkProvisionedOverlap(name, qualifier string) error {
	if IsVersion(qualifier) {
		for _, a := range s.aliasesOf(name) {
			if s.provisioned.Get(qualifiedKey(name, a.Name)) != nil && (a.FunctionVersion == qualifier || a.weight(qualifier) >= 0) {
				return fault.New(fault.Conflict, "Version is pointed by a Provisioned Concurrency alias")
			}
		}
		return nil
	}
	a := s.aliases.Get(qualifiedKey(name, qualifier))
	if a == nil {
		return nil
	}
	for v := range s.aliasVersions(a) {
		if s.provisioned.Get(qualifiedKey(name, v)) != nil {
			return fault.New(fault.Conflict, "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version")
		}
	}
	return nil
}

// aliasVersions is the set of versions an alias routes to.
func (s *Store) aliasVersions(a *Alias) map[string]bool {
	out := map[string]bool{a.FunctionVersion: true}
	if a.RoutingConfig != nil {
		for v := range a.RoutingConfig.AdditionalVersionWeights {
			out[v] = true
		}
	}
	return out
}
