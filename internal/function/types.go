package function

import "time"

// Config is a function's configuration as Lambda's FunctionConfiguration
// shape names it. It is stored as JSON and served as is.
type Config struct {
	FunctionName     string            `json:"FunctionName"`
	FunctionArn      string            `json:"FunctionArn"`
	Runtime          string            `json:"Runtime,omitempty"`
	Role             string            `json:"Role"`
	Handler          string            `json:"Handler,omitempty"`
	CodeSize         int64             `json:"CodeSize"`
	Description      string            `json:"Description"`
	Timeout          int               `json:"Timeout"`
	MemorySize       int               `json:"MemorySize"`
	LastModified     string            `json:"LastModified"`
	CodeSha256       string            `json:"CodeSha256"`
	Version          string            `json:"Version"`
	Environment      *Environment      `json:"Environment,omitempty"`
	TracingConfig    TracingConfig     `json:"TracingConfig"`
	RevisionId       string            `json:"RevisionId"`
	State            string            `json:"State"`
	LastUpdateStatus string            `json:"LastUpdateStatus"`
	PackageType      string            `json:"PackageType"`
	Architectures    []string          `json:"Architectures"`
	EphemeralStorage EphemeralStorage  `json:"EphemeralStorage"`
	LoggingConfig    LoggingConfig     `json:"LoggingConfig"`
	SnapStart        map[string]string `json:"SnapStart,omitempty"`
	Layers           []Layer           `json:"Layers,omitempty"`
	// TenancyConfig is set at creation only (see tenancy.go).
	TenancyConfig *TenancyConfig `json:"TenancyConfig,omitempty"`
	// CapacityProviderConfig carries the per-environment concurrency.
	CapacityProviderConfig *CapacityProviderConfig `json:"CapacityProviderConfig,omitempty"`
}

// Layer is one layer version a function uses, as FunctionConfiguration
// lists it.
type Layer struct {
	Arn      string `json:"Arn"`
	CodeSize int64  `json:"CodeSize"`
}

// Environment holds a function's environment variables.
type Environment struct {
	Variables map[string]string `json:"Variables"`
	order     []string          // the variables in the order they were sent
}

// TracingConfig is the function's X-Ray mode (PassThrough or Active).
type TracingConfig struct {
	Mode string `json:"Mode"`
}

// EphemeralStorage is the size of /tmp in MB.
type EphemeralStorage struct {
	Size int `json:"Size"`
}

// LoggingConfig says where and how the function's logs go.
type LoggingConfig struct {
	LogFormat string `json:"LogFormat"`
	LogGroup  string `json:"LogGroup"`
	// ApplicationLogLevel and SystemLogLevel are kept and returned, as
	// Lambda does, only with JSON logs (default INFO); Updraft does not
	// filter by them.
	ApplicationLogLevel string `json:"ApplicationLogLevel,omitempty"`
	SystemLogLevel      string `json:"SystemLogLevel,omitempty"`
}

// EventInvokeConfig is a function's asynchronous invocation configuration
// (Lambda's FunctionEventInvokeConfig).
type EventInvokeConfig struct {
	FunctionArn              string             `json:"FunctionArn"`
	LastModified             float64            `json:"LastModified"`
	MaximumRetryAttempts     *int               `json:"MaximumRetryAttempts,omitempty"`
	MaximumEventAgeInSeconds *int               `json:"MaximumEventAgeInSeconds,omitempty"`
	DestinationConfig        *DestinationConfig `json:"DestinationConfig,omitempty"`
}

// DestinationConfig names where async results go.
type DestinationConfig struct {
	OnSuccess *Destination `json:"OnSuccess,omitempty"`
	OnFailure *Destination `json:"OnFailure,omitempty"`
}

// Destination is one destination ARN.
type Destination struct {
	Destination string `json:"Destination,omitempty"`
}

// Async retry defaults and limits, as Lambda's.
const (
	MaximumRetryAttemptsDefault     = 2
	MaximumEventAgeInSecondsDefault = 21600
)

// RetryAttempts is the configured retry count or the default.
func (c *EventInvokeConfig) RetryAttempts() int {
	if c == nil || c.MaximumRetryAttempts == nil {
		return MaximumRetryAttemptsDefault
	}
	return *c.MaximumRetryAttempts
}

// MaxEventAge is the configured maximum event age or the default.
func (c *EventInvokeConfig) MaxEventAge() time.Duration {
	if c == nil || c.MaximumEventAgeInSeconds == nil {
		return MaximumEventAgeInSecondsDefault * time.Second
	}
	return time.Duration(*c.MaximumEventAgeInSeconds) * time.Second
}

// Record is everything stored about one function, under its name, in the
// functions bucket.
type Record struct {
	Config Config            `json:"config"`
	Tags   map[string]string `json:"tags,omitempty"`
	// ReservedConcurrency is the function's reserved concurrency, nil when
	// it has none.
	ReservedConcurrency *int `json:"reservedConcurrency,omitempty"`
	// EventInvoke is the async invocation config of $LATEST (unqualified
	// invocations), nil when none was put.
	EventInvoke *EventInvokeConfig `json:"eventInvoke,omitempty"`
	// QualifiedEventInvoke holds the async invocation configs of versions
	// and aliases, by qualifier.
	QualifiedEventInvoke map[string]*EventInvokeConfig `json:"qualifiedEventInvoke,omitempty"`
	// Created is when the function (or version) was created.
	Created time.Time `json:"created"`
	// LayerCode holds the CodeSha256 of each of Config.Layers, in order,
	// so environments can be given the layers' content even after a
	// layer version is deleted.
	LayerCode []string `json:"layerCode,omitempty"`
	// LastVersion is the number of the last version published ($LATEST
	// only); numbers are never reused.
	LastVersion int `json:"lastVersion,omitempty"`
	// Published is the RevisionId $LATEST had when LastVersion was
	// published, so publishing an unchanged function returns that version.
	Published string `json:"published,omitempty"`
	// Runs is the RevisionId of the last change to what environments run
	// (code or configuration), when a publish has since given the record
	// another; empty means Config.RevisionId. See EnvRevision.
	Runs string `json:"runs,omitempty"`
	// revision is the bucket revision this record was read at.
	revision uint64
}

// Revision is the backbone revision of the record.
func (r *Record) Revision() uint64 { return r.revision }

// clone returns a deep enough copy for mutation.
func (r *Record) clone() *Record {
	c := *r
	if r.Config.Environment != nil {
		vars := make(map[string]string, len(r.Config.Environment.Variables))
		for k, v := range r.Config.Environment.Variables {
			vars[k] = v
		}
		c.Config.Environment = &Environment{Variables: vars}
	}
	c.Config.Architectures = append([]string(nil), r.Config.Architectures...)
	c.Config.Layers = append([]Layer(nil), r.Config.Layers...)
	c.LayerCode = append([]string(nil), r.LayerCode...)
	if r.Tags != nil {
		c.Tags = make(map[string]string, len(r.Tags))
		for k, v := range r.Tags {
			c.Tags[k] = v
		}
	}
	if r.ReservedConcurrency != nil {
		n := *r.ReservedConcurrency
		c.ReservedConcurrency = &n
	}
	if r.EventInvoke != nil {
		e := *r.EventInvoke
		c.EventInvoke = &e
	}
	if r.QualifiedEventInvoke != nil {
		c.QualifiedEventInvoke = make(map[string]*EventInvokeConfig, len(r.QualifiedEventInvoke))
		for q, e := range r.QualifiedEventInvoke {
			e := *e
			c.QualifiedEventInvoke[q] = &e
		}
	}
	return &c
}

// EventInvokeFor returns the async invocation config that invocations of
// qualifier follow ("" and $LATEST: the function's own), or nil.
func (r *Record) EventInvokeFor(qualifier string) *EventInvokeConfig {
	if r == nil {
		return nil
	}
	if qualifier == "" || qualifier == Latest {
		return r.EventInvoke
	}
	return r.QualifiedEventInvoke[qualifier]
}

// setEventInvoke sets (c nil: removes) the config of qualifier.
func (r *Record) setEventInvoke(qualifier string, c *EventInvokeConfig) {
	if qualifier == "" || qualifier == Latest {
		r.EventInvoke = c
		return
	}
	if c == nil {
		delete(r.QualifiedEventInvoke, qualifier)
		if len(r.QualifiedEventInvoke) == 0 {
			r.QualifiedEventInvoke = nil
		}
		return
	}
	if r.QualifiedEventInvoke == nil {
		r.QualifiedEventInvoke = map[string]*EventInvokeConfig{}
	}
	r.QualifiedEventInvoke[qualifier] = c
}

// SuccessTarget is the on-success destination ARN, or "".
func (c *EventInvokeConfig) SuccessTarget() string {
	if c == nil || c.DestinationConfig == nil || c.DestinationConfig.OnSuccess == nil {
		return ""
	}
	return c.DestinationConfig.OnSuccess.Destination
}

// FailureTarget is the on-failure destination ARN, or "".
func (c *EventInvokeConfig) FailureTarget() string {
	if c == nil || c.DestinationConfig == nil || c.DestinationConfig.OnFailure == nil {
		return ""
	}
	return c.DestinationConfig.OnFailure.Destination
}

// EnvRevision identifies what this record's environments run: it changes
// with every change of code or configuration, but not when a publish
// gives $LATEST a new RevisionId (as Lambda does), so that a publish
// does not replace $LATEST's warm environments.
func (r *Record) EnvRevision() string {
	if r.Runs != "" {
		return r.Runs
	}
	return r.Config.RevisionId
}
