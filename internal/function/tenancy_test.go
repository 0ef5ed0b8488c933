package function

import (
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/fault"
)

func TestCheckTenancy(t *testing.T) {
	if err := checkTenancy(nil); err != nil {
		t.Errorf("no tenancy config: got %v, want nil", err)
	}
	if err := checkTenancy(&TenancyConfig{TenantIsolationMode: PerTenant}); err != nil {
		t.Errorf("PER_TENANT: got %v, want nil", err)
	}
	wantFault(t, "empty mode", checkTenancy(&TenancyConfig{}), fault.Validation, "tenancyConfig.tenantIsolationMode", "must not be null")
	wantFault(t, "other mode", checkTenancy(&TenancyConfig{TenantIsolationMode: "PER_REQUEST"}), fault.Validation, "'PER_REQUEST'", "[PER_TENANT]")
}

func TestCheckTenant(t *testing.T) {
	isolated := &Config{FunctionName: "f", TenancyConfig: &TenancyConfig{TenantIsolationMode: PerTenant}}
	shared := &Config{FunctionName: "g"}
	if err := CheckTenant(isolated, "blue"); err != nil {
		t.Errorf("isolated with tenant: got %v, want nil", err)
	}
	if err := CheckTenant(shared, ""); err != nil {
		t.Errorf("shared without tenant: got %v, want nil", err)
	}
	wantFault(t, "isolated without tenant", CheckTenant(isolated, ""), fault.InvalidParameter, "tenant isolation")
	wantFault(t, "shared with tenant", CheckTenant(shared, "blue"), fault.InvalidParameter, "does not have tenant isolation")
}

func TestCheckTenantID(t *testing.T) {
	for _, id := range []string{"blue", "a", "tenant-1", "org/team:7", "x@y.z", "a b", "k=v+w", strings.Repeat("t", 256)} {
		if err := CheckTenantID(id); err != nil {
			t.Errorf("CheckTenantID(%q): got %v, want nil", id, err)
		}
	}
	for _, id := range []string{"", strings.Repeat("t", 257), "semi;colon", "new\nline", "ünï"} {
		wantFault(t, "CheckTenantID("+id+")", CheckTenantID(id), fault.Validation, "tenantId")
	}
}

func TestCheckCapacityProvider(t *testing.T) {
	const arn = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:fleet-1"
	n := func(v int) *int { return &v }
	f := func(v float64) *float64 { return &v }
	mi := func(m ManagedInstancesConfig) *CapacityProviderConfig {
		return &CapacityProviderConfig{LambdaManagedInstancesCapacityProviderConfig: &m}
	}
	for _, c := range []*CapacityProviderConfig{
		nil,
		mi(ManagedInstancesConfig{CapacityProviderArn: arn}),
		mi(ManagedInstancesConfig{CapacityProviderArn: arn, PerExecutionEnvironmentMaxConcurrency: n(1)}),
		mi(ManagedInstancesConfig{CapacityProviderArn: arn, PerExecutionEnvironmentMaxConcurrency: n(1600), ExecutionEnvironmentMemoryGiBPerVCpu: f(8)}),
	} {
		if err := checkCapacityProvider(c); err != nil {
			t.Errorf("checkCapacityProvider(%+v): got %v, want nil", c, err)
		}
	}
	tests := []struct {
		in   *CapacityProviderConfig
		want string
	}{
		{&CapacityProviderConfig{}, "lambdaManagedInstancesCapacityProviderConfig' failed to satisfy constraint: Member must not be null"},
		{mi(ManagedInstancesConfig{}), "capacityProviderArn' failed to satisfy constraint: Member must not be null"},
		{mi(ManagedInstancesConfig{CapacityProviderArn: "arn:aws:lambda:us-east-1:123456789012:function:f"}), "regular expression pattern"},
		{mi(ManagedInstancesConfig{CapacityProviderArn: arn, PerExecutionEnvironmentMaxConcurrency: n(0)}), "greater than or equal to 1"},
		{mi(ManagedInstancesConfig{CapacityProviderArn: arn, PerExecutionEnvironmentMaxConcurrency: n(1601)}), "less than or equal to 1600"},
		{mi(ManagedInstancesConfig{CapacityProviderArn: arn, ExecutionEnvironmentMemoryGiBPerVCpu: f(1.5)}), "greater than or equal to 2.0"},
		{mi(ManagedInstancesConfig{CapacityProviderArn: arn, ExecutionEnvironmentMemoryGiBPerVCpu: f(9)}), "less than or equal to 8.0"},
	}
	for _, tt := range tests {
		wantFault(t, tt.want, checkCapacityProvider(tt.in), fault.Validation, tt.want)
	}
}

func TestConfig_MaxConcurrency(t *testing.T) {
	const arn = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:fleet-1"
	n := func(v int) *int { return &v }
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		runtime string
		memory  int
		mi      *ManagedInstancesConfig
		want    int
	}{
		{"provided.al2023", 128, nil, 1},
		{"provided.al2023", 128, &ManagedInstancesConfig{CapacityProviderArn: arn, PerExecutionEnvironmentMaxConcurrency: n(8)}, 8},
		// Defaults: per vCPU by runtime, vCPUs from memory at 2 GiB each.
		{"nodejs22.x", 2048, &ManagedInstancesConfig{CapacityProviderArn: arn}, 64},
		{"python3.13", 4096, &ManagedInstancesConfig{CapacityProviderArn: arn}, 32},
		{"python3.13", 4096, &ManagedInstancesConfig{CapacityProviderArn: arn, ExecutionEnvironmentMemoryGiBPerVCpu: f(4)}, 16},
		{"provided.al2023", 128, &ManagedInstancesConfig{CapacityProviderArn: arn}, 64},
		{"nodejs22.x", 10240 * 8, &ManagedInstancesConfig{CapacityProviderArn: arn}, 1600},
	}
	for _, tt := range tests {
		c := &Config{Runtime: tt.runtime, MemorySize: tt.memory}
		if tt.mi != nil {
			c.CapacityProviderConfig = &CapacityProviderConfig{LambdaManagedInstancesCapacityProviderConfig: tt.mi}
		}
		if got := c.MaxConcurrency(); got != tt.want {
			t.Errorf("%s %d MB %+v: got %d, want %d", tt.runtime, tt.memory, tt.mi, got, tt.want)
		}
	}
}

func TestConfig_VCPUs(t *testing.T) {
	const arn = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:fleet-1"
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		memory int
		mi     *ManagedInstancesConfig
		want   int
	}{
		// One vCPU per 1,769 MB, rounded up, as Lambda allocates CPU.
		{128, nil, 1},
		{1769, nil, 1},
		{1770, nil, 2},
		{3538, nil, 2},
		{10240, nil, 6},
		// Managed instances: memory over GiB per vCPU (default 2), at least 1.
		{2048, &ManagedInstancesConfig{CapacityProviderArn: arn}, 1},
		{8192, &ManagedInstancesConfig{CapacityProviderArn: arn}, 4},
		{8192, &ManagedInstancesConfig{CapacityProviderArn: arn, ExecutionEnvironmentMemoryGiBPerVCpu: f(8)}, 1},
		{1024, &ManagedInstancesConfig{CapacityProviderArn: arn}, 1},
	}
	for _, tt := range tests {
		c := &Config{Runtime: "provided.al2023", MemorySize: tt.memory}
		if tt.mi != nil {
			c.CapacityProviderConfig = &CapacityProviderConfig{LambdaManagedInstancesCapacityProviderConfig: tt.mi}
		}
		if got := c.VCPUs(); got != tt.want {
			t.Errorf("%d MB %+v: got %d vCPUs, want %d", tt.memory, tt.mi, got, tt.want)
		}
	}
}
