package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/fault"
)

// Alias is a named pointer to a version, optionally splitting traffic
// with a second one; Lambda's AliasConfiguration. It is stored in
// BucketAliases under "<function>.<name>".
type Alias struct {
	AliasArn        string         `json:"AliasArn"`
	Name            string         `json:"Name"`
	FunctionVersion string         `json:"FunctionVersion"`
	Description     string         `json:"Description"`
	RoutingConfig   *RoutingConfig `json:"RoutingConfig,omitempty"`
	RevisionId      string         `json:"RevisionId"`

	function string // from the key
	revision uint64
}

// RoutingConfig sends a share of an alias's invocations to a second
// version.
type RoutingConfig struct {
	AdditionalVersionWeights map[string]float64 `json:"AdditionalVersionWeights"`
}

func (a *Alias) rev() uint64 {
	if a == nil {
		return 0
	}
	return a.revision
}

// Function is the name of the function the alias belongs to.
func (a *Alias) Function() string { return a.function }

// weight is the share of invocations routed to version as an additional
// version, or -1 when it is not one.
func (a *Alias) weight(version string) float64 {
	if a.RoutingConfig == nil {
		return -1
	}
	if w, ok := a.RoutingConfig.AdditionalVersionWeights[version]; ok {
		return w
	}
	return -1
}

// Split is how an alias shares invocations between its versions: version
// to weight, summing to 1.
func (a *Alias) Split() map[string]float64 {
	out := map[string]float64{a.FunctionVersion: 1}
	if a.RoutingConfig != nil {
		for v, w := range a.RoutingConfig.AdditionalVersionWeights {
			out[v] = w
			out[a.FunctionVersion] -= w
		}
	}
	return out
}

// pick chooses the version one invocation runs.
func (a *Alias) pick() string {
	if a.RoutingConfig != nil {
		for v, w := range a.RoutingConfig.AdditionalVersionWeights {
			if rand.Float64() < w {
				return v
			}
		}
	}
	return a.FunctionVersion
}

func decodeAlias(key string, data []byte, revision uint64) (*Alias, error) {
	var a Alias
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("decode alias %s: %w", key, err)
	}
	a.function, _, _ = strings.Cut(key, ".")
	a.revision = revision
	return &a, nil
}

var (
	aliasPattern   = newLazyRegexp(`^[a-zA-Z0-9-_]{1,128}$`)
	versionPattern = newLazyRegexp(`^(\$LATEST|[0-9]+)$`)
)

// IsAliasName reports whether q can name an alias.
func IsAliasName(q string) bool { return aliasPattern.MatchString(q) && !IsVersion(q) }

func checkAliasName(name string) error {
	if !IsAliasName(name) {
		return validationError(name, "name", "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)")
	}
	return nil
}

// AliasInput is what CreateAlias and UpdateAlias accept; nil fields of an
// update stay as they are.
type AliasInput struct {
	FunctionVersion *string
	Description     *string
	RoutingConfig   *RoutingConfig
	RevisionID      string
}

// checkAlias validates an alias's versions and routing against the
// function's versions.
func (s *Store) checkAlias(name string, a *Alias) error {
	if !versionPattern.MatchString(a.FunctionVersion) {
		return validationError(a.FunctionVersion, "functionVersion", `Member must satisfy regular expression pattern: (\$LATEST|[0-9]+)`)
	}
	if len(a.Description) > 256 {
		return validationError(a.Description, "description", "Member must have length less than or equal to 256")
	}
	if _, err := s.Get(name, a.FunctionVersion); err != nil {
		return err
	}
	rc := a.RoutingConfig
	if rc == nil || len(rc.AdditionalVersionWeights) == 0 {
		a.RoutingConfig = nil
		return nil
	}
	for v, w := range rc.AdditionalVersionWeights {
		switch {
		case !IsVersion(v):
			return validationError(weightsString(rc.AdditionalVersionWeights), "routingConfig.additionalVersionWeights", "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]")
		case w < 0 || w > 1:
			return validationError(weightsString(rc.AdditionalVersionWeights), "routingConfig.additionalVersionWeights", "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]")
		}
	}
	if len(rc.AdditionalVersionWeights) > 1 {
		return fault.New(fault.InvalidParameter, "Number of items in AdditionalVersionWeights cannot be greater than 1")
	}
	for v := range rc.AdditionalVersionWeights {
		switch {
		case a.FunctionVersion == Latest:
			return fault.NewUntyped(fault.InvalidParameter, "$LATEST is not supported for an alias pointing to more than 1 version")
		case v == a.FunctionVersion:
			return fault.New(fault.InvalidParameter, "Invalid function version %s. Function version %s is already included in routing configuration.", v, v)
		}
		if _, err := s.Get(name, v); err != nil {
			return err
		}
	}
	return nil
}

// weightsString renders routing weights as Lambda's messages quote them,
// a Java map of doubles: {2=2.0}.
func weightsString(m map[string]float64) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+javaDouble(v))
	}
	slices.Sort(parts)
	return "{" + strings.Join(parts, ", ") + "}"
}

// javaDouble formats v as Java's Double.toString does: 2.0, 0.5, 1.0E-4.
func javaDouble(v float64) string {
	if a := math.Abs(v); a != 0 && (a < 1e-3 || a >= 1e7) {
		mant, exp, _ := strings.Cut(strconv.FormatFloat(v, 'E', -1, 64), "E")
		if !strings.Contains(mant, ".") {
			mant += ".0"
		}
		e, _ := strconv.Atoi(exp)
		return mant + "E" + strconv.Itoa(e)
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func (s *Store) aliasNotFound(name, alias string) error {
	return fault.New(fault.NotFound, "Alias not found: %s:%s", s.ARN(name), alias)
}

// CreateAlias creates an alias of a function.
func (s *Store) CreateAlias(ctx context.Context, name, alias string, in AliasInput) (*Alias, error) {
	if err := checkAliasName(alias); err != nil {
		return nil, err
	}
	if in.FunctionVersion == nil {
		return nil, validationError("null", "functionVersion", "Member must not be null")
	}
	if _, err := s.Get(name, ""); err != nil {
		if f := fault.As(err); f != nil && f.Kind == fault.NotFound && versionPattern.MatchString(*in.FunctionVersion) {
			// Lambda names the version asked for: …:function:<name>:1.
			return nil, s.notFound(name, *in.FunctionVersion)
		}
		return nil, err
	}
	a := &Alias{
		AliasArn:        s.ARN(name) + ":" + alias,
		Name:            alias,
		FunctionVersion: *in.FunctionVersion,
		RoutingConfig:   in.RoutingConfig,
		RevisionId:      newRevisionID(),
		function:        name,
	}
	if in.Description != nil {
		a.Description = *in.Description
	}
	if err := s.checkAlias(name, a); err != nil {
		return nil, err
	}
	data, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("encode alias %s:%s: %w", name, alias, err)
	}
	key := qualifiedKey(name, alias)
	rev, err := s.aliasesKV.Create(ctx, key, data)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return nil, fault.New(fault.Conflict, "Alias already exists: %s", a.AliasArn)
		}
		return nil, fmt.Errorf("store alias %s:%s: %w", name, alias, err)
	}
	a.revision = rev
	s.aliases.Apply(key, a, rev)
	return a, nil
}

// UpdateAlias changes an alias, with a revision check.
func (s *Store) UpdateAlias(ctx context.Context, name, alias string, in AliasInput) (*Alias, error) {
	if err := checkAliasName(alias); err != nil {
		return nil, err
	}
	if _, err := s.Get(name, ""); err != nil {
		return nil, err
	}
	key := qualifiedKey(name, alias)
	for attempt := 0; ; attempt++ {
		e, err := s.aliasesKV.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, s.aliasNotFound(name, alias)
		}
		if err != nil {
			return nil, fmt.Errorf("load alias %s:%s: %w", name, alias, err)
		}
		cur, err := decodeAlias(key, e.Value(), e.Revision())
		if err != nil {
			return nil, err
		}
		if in.RevisionID != "" && in.RevisionID != cur.RevisionId {
			return nil, fault.New(fault.PreconditionFailed, "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
		}
		next := *cur
		if in.FunctionVersion != nil {
			next.FunctionVersion = *in.FunctionVersion
		}
		if in.Description != nil {
			next.Description = *in.Description
		}
		if in.RoutingConfig != nil {
			next.RoutingConfig = in.RoutingConfig
		}
		next.RevisionId = newRevisionID()
		if err := s.checkAlias(name, &next); err != nil {
			return nil, err
		}
		data, err := json.Marshal(&next)
		if err != nil {
			return nil, fmt.Errorf("encode alias %s:%s: %w", name, alias, err)
		}
		rev, err := s.aliasesKV.Update(ctx, key, data, cur.revision)
		if err != nil {
			if isWrongRevision(err) && attempt < 10 {
				continue
			}
			return nil, fmt.Errorf("store alias %s:%s: %w", name, alias, err)
		}
		next.revision = rev
		s.aliases.Apply(key, &next, rev)
		return &next, nil
	}
}

// GetAlias returns an alias.
func (s *Store) GetAlias(name, alias string) (*Alias, error) {
	if err := checkAliasName(alias); err != nil {
		return nil, err
	}
	if _, err := s.Get(name, ""); err != nil {
		return nil, err
	}
	a := s.aliases.Get(qualifiedKey(name, alias))
	if a == nil {
		return nil, s.noAlias(name, alias)
	}
	return a, nil
}

// noAlias is the error of GetAlias (and of provisioned concurrency calls)
// for an alias that does not exist; UpdateAlias words it as aliasNotFound.
func (s *Store) noAlias(name, alias string) error {
	return fault.New(fault.NotFound, "Cannot find alias arn: %s:%s", s.ARN(name), alias)
}

// Aliases returns the function's aliases in name order; with version set,
// only those that route to it.
func (s *Store) Aliases(name, version string) ([]*Alias, error) {
	if _, err := s.Get(name, ""); err != nil {
		return nil, err
	}
	out := s.aliasesOf(name)
	if version != "" {
		out = slices.DeleteFunc(out, func(a *Alias) bool { return a.FunctionVersion != version && a.weight(version) < 0 })
	}
	return out, nil
}

func (s *Store) aliasesOf(name string) []*Alias {
	var out []*Alias
	for _, a := range s.aliases.Values() {
		if a.function == name {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b *Alias) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// DeleteAlias removes an alias and the provisioned concurrency config on
// it.
func (s *Store) DeleteAlias(ctx context.Context, name, alias string) error {
	if err := checkAliasName(alias); err != nil {
		return err
	}
	if _, err := s.Get(name, ""); err != nil {
		return err
	}
	key := qualifiedKey(name, alias)
	if s.aliases.Get(key) == nil {
		return nil // Lambda answers 204 for an alias that is not there
	}
	if err := deleteEntry(ctx, s.provisionedKV, s.provisioned, key, s.provisioned.Get(key).rev()); err != nil {
		return err
	}
	if err := s.dropEventInvoke(ctx, name, alias); err != nil {
		return err
	}
	return deleteEntry(ctx, s.aliasesKV, s.aliases, key, s.aliases.Get(key).rev())
}
