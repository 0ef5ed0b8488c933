package function

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/updraft/updraft/internal/fault"
)

// UnreservedMin is the concurrency Lambda keeps unreserved in an account.
const UnreservedMin = 100

// PutReservedConcurrency sets the function's reserved concurrency, keeping
// UnreservedMin of account unreserved.
func (s *Store) PutReservedConcurrency(ctx context.Context, name string, n, account int) (*Record, error) {
	if n < 0 {
		return nil, validationError(n, "reservedConcurrentExecutions", "Member must have value greater than or equal to 0")
	}
	if pc := s.TotalProvisioned(name); n < pc {
		return nil, fault.NewUntyped(fault.InvalidParameter, " ReservedConcurrentExecutions  %d should not be lower than function's total provisioned concurrency [%d].", n, pc)
	}
	others := 0
	for _, r := range s.List() {
		if r.Config.FunctionName != name {
			others += r.claimed(s)
		}
	}
	if account-others-n < UnreservedMin {
		return nil, fault.NewUntyped(fault.InvalidParameter, "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", UnreservedMin)
	}
	return s.updateSettings(ctx, name, func(r *Record) error {
		r.ReservedConcurrency = &n
		return nil
	})
}

// DeleteReservedConcurrency removes the function's reservation.
func (s *Store) DeleteReservedConcurrency(ctx context.Context, name string) error {
	_, err := s.updateSettings(ctx, name, func(r *Record) error {
		r.ReservedConcurrency = nil
		return nil
	})
	return err
}

// UnreservedConcurrency is what account leaves to functions without a
// reservation: reservations, and the provisioned concurrency of functions
// without one, are set aside.
func (s *Store) UnreservedConcurrency(account int) int {
	n := account
	for _, r := range s.List() {
		n -= r.claimed(s)
	}
	return n
}

// claimed is the concurrency the function sets aside from the account:
// its reservation, or else its provisioned concurrency.
func (r *Record) claimed(s *Store) int {
	if r.ReservedConcurrency != nil {
		return *r.ReservedConcurrency
	}
	return s.TotalProvisioned(r.Config.FunctionName)
}

// PutEventInvokeConfig replaces (replace=true) or merges the async
// invocation config of a qualifier: "" or $LATEST, a version or an alias.
// Each has its own, as on Lambda.
func (s *Store) PutEventInvokeConfig(ctx context.Context, name, qualifier string, in EventInvokeConfig, replace bool) (*EventInvokeConfig, error) {
	// Lambda judges the request before it looks for the function.
	if in.MaximumRetryAttempts == nil && in.MaximumEventAgeInSeconds == nil && in.DestinationConfig == nil {
		return nil, fault.New(fault.InvalidParameter, "You must specify at least one of error handling or destination setting.")
	}
	qualifier = eventInvokeKey(qualifier)
	if !s.qualifierExists(name, qualifier) {
		return nil, fault.New(fault.NotFound, "The function doesn't exist.")
	}
	if err := s.checkEventInvoke(name, &in); err != nil {
		return nil, err
	}
	var out *EventInvokeConfig
	_, err := s.updateSettings(ctx, name, func(r *Record) error {
		cur := r.EventInvokeFor(qualifier)
		switch {
		case replace:
			c := in
			cur = &c
		case cur == nil:
			return s.noEventInvoke(name, qualifier)
		default:
			c := *cur
			cur = &c
			if in.MaximumRetryAttempts != nil {
				cur.MaximumRetryAttempts = in.MaximumRetryAttempts
			}
			if in.MaximumEventAgeInSeconds != nil {
				cur.MaximumEventAgeInSeconds = in.MaximumEventAgeInSeconds
			}
			if in.DestinationConfig != nil {
				cur.DestinationConfig = in.DestinationConfig
			}
		}
		cur.FunctionArn = s.ARN(name) + ":" + qualifier
		cur.LastModified = float64(time.Now().UnixMilli()) / 1000
		if cur.DestinationConfig == nil {
			cur.DestinationConfig = &DestinationConfig{}
		}
		r.setEventInvoke(qualifier, cur)
		out = cur
		return nil
	})
	if err != nil {
		if fault.Is(err, fault.NotFound) && s.index.Get(name) == nil {
			return nil, fault.New(fault.NotFound, "The function doesn't exist.")
		}
		return nil, err
	}
	return out, nil
}

// eventInvokeKey is the qualifier an event-invoke config is kept under.
func eventInvokeKey(qualifier string) string {
	if qualifier == "" {
		return Latest
	}
	return qualifier
}

// qualifierExists reports whether the function exists and qualifier
// ($LATEST, a version or an alias) names one of its versions.
func (s *Store) qualifierExists(name, qualifier string) bool {
	_, err := s.Get(name, qualifier)
	return err == nil
}

func (s *Store) noEventInvoke(name, qualifier string) error {
	return fault.New(fault.NotFound, "The function %s:%s doesn't have an EventInvokeConfig", s.ARN(name), qualifier)
}

// GetEventInvokeConfig returns the async invocation config of a qualifier.
func (s *Store) GetEventInvokeConfig(name, qualifier string) (*EventInvokeConfig, error) {
	qualifier = eventInvokeKey(qualifier)
	r := s.index.Get(name)
	c := r.EventInvokeFor(qualifier)
	if c == nil || !s.qualifierExists(name, qualifier) {
		return nil, s.noEventInvoke(name, qualifier)
	}
	return c, nil
}

// EventInvokeConfigs lists the function's async invocation configs,
// $LATEST's first, then by qualifier.
func (s *Store) EventInvokeConfigs(name string) ([]*EventInvokeConfig, error) {
	r := s.index.Get(name)
	if r == nil {
		return nil, fault.New(fault.NotFound, "The function doesn't exist.")
	}
	var out []*EventInvokeConfig
	if r.EventInvoke != nil {
		out = append(out, r.EventInvoke)
	}
	for _, q := range slices.Sorted(maps.Keys(r.QualifiedEventInvoke)) {
		if s.qualifierExists(name, q) {
			out = append(out, r.QualifiedEventInvoke[q])
		}
	}
	return out, nil
}

// DeleteEventInvokeConfig removes the async invocation config of a
// qualifier.
func (s *Store) DeleteEventInvokeConfig(ctx context.Context, name, qualifier string) error {
	if _, err := s.GetEventInvokeConfig(name, qualifier); err != nil {
		return err
	}
	_, err := s.updateSettings(ctx, name, func(r *Record) error {
		r.setEventInvoke(eventInvokeKey(qualifier), nil)
		return nil
	})
	return err
}

// dropEventInvoke removes the config of a version or alias being deleted.
func (s *Store) dropEventInvoke(ctx context.Context, name, qualifier string) error {
	if s.index.Get(name).EventInvokeFor(qualifier) == nil {
		return nil
	}
	_, err := s.updateSettings(ctx, name, func(r *Record) error {
		r.setEventInvoke(qualifier, nil)
		return nil
	})
	return err
}

// destinationPattern is Lambda's pattern for a destination ARN.
var destinationPattern = newLazyRegexp(`^(|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*))$`)

// destinationServices are the services Lambda delivers destinations to.
var destinationServices = map[string]bool{"lambda": true, "sqs": true, "sns": true, "events": true, "s3": true}

func (s *Store) checkEventInvoke(name string, c *EventInvokeConfig) error {
	if n := c.MaximumRetryAttempts; n != nil && *n < 0 {
		return validationError(*n, "maximumRetryAttempts", "Member must have value greater than or equal to 0")
	}
	if n := c.MaximumRetryAttempts; n != nil && *n > 2 {
		return validationError(*n, "maximumRetryAttempts", "Member must have value less than or equal to 2")
	}
	if n := c.MaximumEventAgeInSeconds; n != nil && (*n < 60 || *n > 21600) {
		if *n < 60 {
			return validationError(*n, "maximumEventAgeInSeconds", "Member must have value greater than or equal to 60")
		}
		return validationError(*n, "maximumEventAgeInSeconds", "Member must have value less than or equal to 21600")
	}
	d := c.DestinationConfig
	if d == nil {
		return nil
	}
	for _, dst := range []struct {
		field string
		d     *Destination
	}{{"onSuccess", d.OnSuccess}, {"onFailure", d.OnFailure}} {
		if dst.d == nil || dst.d.Destination == "" {
			continue
		}
		arn := dst.d.Destination
		if !destinationPattern.MatchString(arn) {
			return validationError(arn, "destinationConfig."+dst.field+".destination", "Member must satisfy regular expression pattern: "+destinationPatternText)
		}
		var service string
		if parts := strings.SplitN(arn, ":", 4); len(parts) == 4 {
			service = parts[2]
		}
		if !destinationServices[service] {
			return fault.New(fault.InvalidParameter, "The provided destination config %s is invalid.", destinationConfigString(d))
		}
		if service != "lambda" {
			return fault.New(fault.InvalidParameter, "The destination ARN %s is not supported: Updraft delivers destinations to Lambda functions only.", arn)
		}
		target, _, err := ParseName(arn)
		if err != nil || s.index.Get(target) == nil {
			return fault.New(fault.InvalidParameter, "The destination ARN %s is invalid.", arn)
		}
		if target == name {
			return fault.New(fault.InvalidParameter, "You can't specify the function as a destination for itself.")
		}
	}
	return nil
}

// destinationPatternText is destinationPattern as Lambda quotes it.
const destinationPatternText = `$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)`

// destinationConfigString renders d as Lambda's messages quote it.
func destinationConfigString(d *DestinationConfig) string {
	one := func(kind string, dst *Destination) string {
		if dst == nil {
			return "null"
		}
		return kind + "(destination=" + dst.Destination + ")"
	}
	return "DestinationConfig(onSuccess=" + one("OnSuccess", d.OnSuccess) + ", onFailure=" + one("OnFailure", d.OnFailure) + ")"
}

// Tag limits, as Lambda's.
const (
	tagsMax     = 50
	tagKeyMax   = 128
	tagValueMax = 256
)

// checkTags validates tags against Lambda's limits.
func checkTags(tags map[string]string) error {
	if len(tags) > tagsMax {
		return errTooManyTags()
	}
	for k, v := range tags {
		switch {
		case k == "" || len(k) > tagKeyMax:
			return validationError(k, "tags.key", "Member must have length between 1 and 128")
		case len(v) > tagValueMax:
			return validationError(v, "tags.value", "Member must have length less than or equal to 256")
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return fault.New(fault.InvalidParameter, "Tag keys beginning with 'aws:' are reserved: %s", k)
		}
	}
	return nil
}

func errTooManyTags() error {
	return fault.New(fault.InvalidParameter, "Number of tags exceeds resource tag limit.")
}

// TagResource adds or replaces tags on a function.
func (s *Store) TagResource(ctx context.Context, name string, tags map[string]string) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	_, err := s.updateSettings(ctx, name, func(r *Record) error {
		if r.Tags == nil {
			r.Tags = map[string]string{}
		}
		for k, v := range tags {
			r.Tags[k] = v
		}
		if len(r.Tags) > tagsMax {
			return errTooManyTags()
		}
		return nil
	})
	return err
}

// UntagResource removes tags from a function.
func (s *Store) UntagResource(ctx context.Context, name string, keys []string) error {
	_, err := s.updateSettings(ctx, name, func(r *Record) error {
		for _, k := range keys {
			delete(r.Tags, k)
		}
		return nil
	})
	return err
}
