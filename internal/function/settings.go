package function

import (
	"context"
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
		return nil, fault.New(fault.InvalidParameter, "ReservedConcurrentExecutions %d should not be lower than function's total provisioned concurrency [%d].", n, pc)
	}
	others := 0
	for _, r := range s.List() {
		if r.Config.FunctionName != name {
			others += r.claimed(s)
		}
	}
	if account-others-n < UnreservedMin {
		return nil, fault.New(fault.InvalidParameter, "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", UnreservedMin)
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

// PutEventInvokeConfig replaces (replace=true) or merges the function's
// async invocation config. Qualifier may be "" or $LATEST.
func (s *Store) PutEventInvokeConfig(ctx context.Context, name, qualifier string, in EventInvokeConfig, replace bool) (*EventInvokeConfig, error) {
	if qualifier != "" && qualifier != Latest {
		return nil, s.notFound(name, qualifier)
	}
	if err := s.checkEventInvoke(&in); err != nil {
		return nil, err
	}
	if !replace && in.MaximumRetryAttempts == nil && in.MaximumEventAgeInSeconds == nil && in.DestinationConfig == nil {
		return nil, fault.New(fault.InvalidParameter, "You must specify at least one of error handling or destination setting.")
	}
	var out *EventInvokeConfig
	_, err := s.updateSettings(ctx, name, func(r *Record) error {
		cur := r.EventInvoke
		if replace || cur == nil {
			if !replace && cur == nil {
				return s.notFoundEventInvoke(name)
			}
			c := in
			cur = &c
		} else {
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
		cur.FunctionArn = s.ARN(name) + ":" + Latest
		cur.LastModified = float64(time.Now().UnixMilli()) / 1000
		if cur.DestinationConfig == nil {
			cur.DestinationConfig = &DestinationConfig{}
		}
		r.EventInvoke = cur
		out = cur
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) notFoundEventInvoke(name string) error {
	return fault.New(fault.NotFound, "The function %s doesn't have an EventInvokeConfig", s.ARN(name)+":"+Latest)
}

// GetEventInvokeConfig returns the function's async invocation config.
func (s *Store) GetEventInvokeConfig(name, qualifier string) (*EventInvokeConfig, error) {
	r, err := s.Get(name, qualifier)
	if err != nil {
		return nil, err
	}
	if r.EventInvoke == nil {
		return nil, s.notFoundEventInvoke(name)
	}
	return r.EventInvoke, nil
}

// DeleteEventInvokeConfig removes the function's async invocation config.
func (s *Store) DeleteEventInvokeConfig(ctx context.Context, name, qualifier string) error {
	if _, err := s.GetEventInvokeConfig(name, qualifier); err != nil {
		return err
	}
	_, err := s.updateSettings(ctx, name, func(r *Record) error {
		r.EventInvoke = nil
		return nil
	})
	return err
}

func (s *Store) checkEventInvoke(c *EventInvokeConfig) error {
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
	if d := c.DestinationConfig; d != nil {
		for _, dst := range []*Destination{d.OnSuccess, d.OnFailure} {
			if dst == nil || dst.Destination == "" {
				continue
			}
			if !strings.HasPrefix(dst.Destination, "arn:aws:lambda:") {
				return fault.New(fault.InvalidParameter, "The destination ARN %s is invalid or not supported: Updraft delivers destinations to Lambda functions.", dst.Destination)
			}
			if _, _, err := ParseName(dst.Destination); err != nil {
				return fault.New(fault.InvalidParameter, "The destination ARN %s is invalid.", dst.Destination)
			}
		}
	}
	return nil
}

// Tag limits, as Lambda's.
const (
	tagsMax     = 50
	tagKeyMax   = 128
	tagValueMax = 256
)

// TagResource adds or replaces tags on a function.
func (s *Store) TagResource(ctx context.Context, name string, tags map[string]string) error {
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
	_, err := s.updateSettings(ctx, name, func(r *Record) error {
		if r.Tags == nil {
			r.Tags = map[string]string{}
		}
		for k, v := range tags {
			r.Tags[k] = v
		}
		if len(r.Tags) > tagsMax {
			return fault.New(fault.InvalidParameter, "A function may have at most %d tags.", tagsMax)
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
