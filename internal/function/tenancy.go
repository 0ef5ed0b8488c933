package function

import (
	"fmt"

	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/sandbox"
)

// TenancyConfig is a function's tenant isolation mode (Lambda's
// TenancyConfig). It is set at creation and never changes; a function
// that has one is invoked with a tenant ID, and its environments each
// serve one tenant only.
type TenancyConfig struct {
	TenantIsolationMode string `json:"TenantIsolationMode"`
}

// PerTenant is the only tenant isolation mode.
const PerTenant = "PER_TENANT"

// CapacityProviderConfig is Lambda's CapacityProviderConfig. Updraft has
// no capacity providers: it takes the Lambda Managed Instances settings
// for what they say about one execution environment (how many requests
// it serves at once) and runs the function on the node like any other.
type CapacityProviderConfig struct {
	LambdaManagedInstancesCapacityProviderConfig *ManagedInstancesConfig `json:"LambdaManagedInstancesCapacityProviderConfig"`
}

// ManagedInstancesConfig is Lambda's
// LambdaManagedInstancesCapacityProviderConfig.
type ManagedInstancesConfig struct {
	// CapacityProviderArn is checked for shape, kept and returned; it
	// names no resource in Updraft.
	CapacityProviderArn string `json:"CapacityProviderArn"`
	// ExecutionEnvironmentMemoryGiBPerVCpu sizes the vCPUs an environment
	// is counted as having (2.0–8.0, default 2.0) when the default
	// concurrency is worked out.
	ExecutionEnvironmentMemoryGiBPerVCpu *float64 `json:"ExecutionEnvironmentMemoryGiBPerVCpu,omitempty"`
	// PerExecutionEnvironmentMaxConcurrency is the most requests one
	// environment serves at once (1–1600).
	PerExecutionEnvironmentMaxConcurrency *int `json:"PerExecutionEnvironmentMaxConcurrency,omitempty"`
}

// Limits of the Lambda Managed Instances settings, as Lambda's.
const (
	MaxConcurrencyMin    = 1
	MaxConcurrencyMax    = 1600
	memoryPerVCPUMin     = 2.0
	memoryPerVCPUMax     = 8.0
	memoryPerVCPUDefault = 2.0
)

// Default requests per vCPU when PerExecutionEnvironmentMaxConcurrency is
// not given, by runtime family, as Lambda Managed Instances documents
// them (Node.js 64, Python 16); OS-only runtimes take Node's.
var concurrencyPerVCPU = map[string]int{"node": 64, "python": 16, "provided": 64}

var (
	capacityProviderPattern = newLazyRegexp(`^arn:aws[a-zA-Z-]*:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:capacity-provider:[a-zA-Z0-9-_]+$`)
	tenantIDPattern         = newLazyRegexp(`^[a-zA-Z0-9._:/=+\-@ ]{1,256}$`)
)

// Isolated reports whether the function keeps each tenant's invocations
// in environments of their own.
func (c *Config) Isolated() bool { return c.TenancyConfig != nil }

// MaxConcurrency is how many requests one environment of c serves at
// once: 1 unless the function has Lambda Managed Instances settings.
func (c *Config) MaxConcurrency() int {
	if c.CapacityProviderConfig == nil || c.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig == nil {
		return 1
	}
	mi := c.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig
	if mi.PerExecutionEnvironmentMaxConcurrency != nil {
		return *mi.PerExecutionEnvironmentMaxConcurrency
	}
	vcpus := c.VCPUs()
	perVCPU := concurrencyPerVCPU[RuntimeFamily(c.Runtime)]
	if perVCPU == 0 {
		perVCPU = concurrencyPerVCPU["provided"]
	}
	return min(perVCPU*vcpus, MaxConcurrencyMax)
}

// MemoryPerVCPU is the memory, in MB, that comes with one vCPU of
// Lambda's; the linux sandbox limits CPU by the same ratio.
const MemoryPerVCPU = sandbox.MemoryPerVCPU

// VCPUs is how many vCPUs one environment of c is entitled to: with Lambda
// Managed Instances settings, its memory over
// ExecutionEnvironmentMemoryGiBPerVCpu (at least 1); otherwise one per
// 1,769 MB, rounded up, as Lambda allocates CPU in proportion to memory.
func (c *Config) VCPUs() int {
	if c.CapacityProviderConfig != nil && c.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig != nil {
		mi := c.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig
		perGiB := memoryPerVCPUDefault
		if mi.ExecutionEnvironmentMemoryGiBPerVCpu != nil {
			perGiB = *mi.ExecutionEnvironmentMemoryGiBPerVCpu
		}
		return max(int(float64(c.MemorySize)/(1024*perGiB)), 1)
	}
	return max((c.MemorySize+MemoryPerVCPU-1)/MemoryPerVCPU, 1)
}

// CheckTenantID validates an Invoke's TenantId (the X-Amz-Tenant-Id
// header) against Lambda's constraint.
func CheckTenantID(id string) error {
	if !tenantIDPattern.MatchString(id) {
		return validationError(id, "tenantId", `Member must satisfy regular expression pattern: [a-zA-Z0-9\._:\/=+\-@ ]+ and have length between 1 and 256`)
	}
	return nil
}

// CheckTenant says whether an invocation of c with tenant ID tenant ("" for
// none) may run: a tenant-isolated function needs one, and any other
// function refuses one.
func CheckTenant(c *Config, tenant string) error {
	switch {
	case c.Isolated() && tenant == "":
		return fault.New(fault.InvalidParameter, "The function %s has tenant isolation mode %s: invoke it with a tenant ID (X-Amz-Tenant-Id).", c.FunctionName, c.TenancyConfig.TenantIsolationMode)
	case !c.Isolated() && tenant != "":
		return fault.New(fault.InvalidParameter, "The function %s does not have tenant isolation enabled: invoke it without a tenant ID (X-Amz-Tenant-Id).", c.FunctionName)
	}
	return nil
}

func checkTenancy(t *TenancyConfig) error {
	if t == nil {
		return nil
	}
	if t.TenantIsolationMode == "" {
		return validationError("null", "tenancyConfig.tenantIsolationMode", "Member must not be null")
	}
	if t.TenantIsolationMode != PerTenant {
		return validationError(t.TenantIsolationMode, "tenancyConfig.tenantIsolationMode", "Member must satisfy enum value set: [PER_TENANT]")
	}
	return nil
}

func checkCapacityProvider(c *CapacityProviderConfig) error {
	if c == nil {
		return nil
	}
	mi := c.LambdaManagedInstancesCapacityProviderConfig
	const prefix = "capacityProviderConfig.lambdaManagedInstancesCapacityProviderConfig"
	if mi == nil {
		return validationError("null", prefix, "Member must not be null")
	}
	switch {
	case mi.CapacityProviderArn == "":
		return validationError("null", prefix+".capacityProviderArn", "Member must not be null")
	case len(mi.CapacityProviderArn) > 140:
		return validationError(mi.CapacityProviderArn, prefix+".capacityProviderArn", "Member must have length less than or equal to 140")
	case !capacityProviderPattern.MatchString(mi.CapacityProviderArn):
		return validationError(mi.CapacityProviderArn, prefix+".capacityProviderArn", `Member must satisfy regular expression pattern: arn:aws[a-zA-Z-]*:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:capacity-provider:[a-zA-Z0-9-_]+`)
	}
	if v := mi.ExecutionEnvironmentMemoryGiBPerVCpu; v != nil {
		if *v < memoryPerVCPUMin {
			return validationError(*v, prefix+".executionEnvironmentMemoryGiBPerVCpu", fmt.Sprintf("Member must have value greater than or equal to %.1f", memoryPerVCPUMin))
		}
		if *v > memoryPerVCPUMax {
			return validationError(*v, prefix+".executionEnvironmentMemoryGiBPerVCpu", fmt.Sprintf("Member must have value less than or equal to %.1f", memoryPerVCPUMax))
		}
	}
	if v := mi.PerExecutionEnvironmentMaxConcurrency; v != nil {
		if *v < MaxConcurrencyMin {
			return validationError(*v, prefix+".perExecutionEnvironmentMaxConcurrency", fmt.Sprintf("Member must have value greater than or equal to %d", MaxConcurrencyMin))
		}
		if *v > MaxConcurrencyMax {
			return validationError(*v, prefix+".perExecutionEnvironmentMaxConcurrency", fmt.Sprintf("Member must have value less than or equal to %d", MaxConcurrencyMax))
		}
	}
	return nil
}
