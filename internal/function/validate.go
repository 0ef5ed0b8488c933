package function

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/updraft/updraft/internal/fault"
)

// Limits as Lambda's.
const (
	MemoryMin        = 128
	MemoryMax        = 10240
	MemoryDefault    = 128
	TimeoutMin       = 1
	TimeoutMax       = 900
	TimeoutDefault   = 3
	EphemeralDefault = 512
	EphemeralMax     = 10240
	// ZipMax is the largest zip accepted in a request (Lambda: 50 MB).
	ZipMax = 50 << 20
	// UnzippedMax is the largest unzipped package (Lambda: 250 MB).
	UnzippedMax = 250 << 20
	// EnvironmentMax is the largest total size of environment variables.
	EnvironmentMax = 4 << 10
)

// Runtimes lists the runtimes Updraft runs, with the family each belongs to.
var runtimes = map[string]string{
	"provided":        "provided",
	"provided.al2":    "provided",
	"provided.al2023": "provided",
	"python3.9":       "python",
	"python3.10":      "python",
	"python3.11":      "python",
	"python3.12":      "python",
	"python3.13":      "python",
	"python3.14":      "python",
	"nodejs18.x":      "node",
	"nodejs20.x":      "node",
	"nodejs22.x":      "node",
	"nodejs24.x":      "node",
}

// deprecated runtimes Lambda no longer accepts for create or update.
var deprecated = map[string]bool{
	"go1.x": true, "python2.7": true, "python3.6": true, "python3.7": true, "python3.8": true,
	"nodejs": true, "nodejs4.3": true, "nodejs6.10": true, "nodejs8.10": true, "nodejs10.x": true,
	"nodejs12.x": true, "nodejs14.x": true, "nodejs16.x": true, "dotnetcore1.0": true,
	"dotnetcore2.0": true, "dotnetcore2.1": true, "dotnetcore3.1": true, "ruby2.5": true, "ruby2.7": true,
}

// RuntimeFamily is "provided", "python" or "node" for a supported runtime,
// and "" otherwise.
func RuntimeFamily(runtime string) string { return runtimes[runtime] }

var (
	namePattern    = newLazyRegexp(`^[a-zA-Z0-9-_]{1,64}$`)
	handlerPattern = newLazyRegexp(`^[^\s]{1,128}$`)
	rolePattern    = newLazyRegexp(`^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	envKeyPattern  = newLazyRegexp(`^[a-zA-Z]([a-zA-Z0-9_])+$`)
	// fullNamePattern is Lambda's pattern for a FunctionName path parameter.
	fullNamePattern = newLazyRegexp(`^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$`)
)

// reservedEnv are variables the platform sets and a function may not.
var reservedEnv = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true,
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true, "AWS_LAMBDA_LOG_GROUP_NAME": true,
	"AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true,
	"AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "AWS_LAMBDA_RUNTIME_API": true,
	"LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
}

func validationError(value any, field, constraint string) *fault.Error {
	return fault.New(fault.Validation, "1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: %s", value, field, constraint)
}

var qualifierPattern = newLazyRegexp(`^[a-zA-Z0-9$_-]{1,128}$`)

// CheckQualifier validates a Qualifier parameter.
func CheckQualifier(q string) error {
	if !qualifierPattern.MatchString(q) {
		return validationError(q, "qualifier", "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]{1,128})")
	}
	return nil
}

// ParseName splits a FunctionName path parameter (a name, a partial ARN
// "123456789012:function:name" or a full ARN, optionally qualified) into
// the function name and the qualifier (empty when none).
func ParseName(s string) (name, qualifier string, err error) {
	if isPlainName(s) {
		return s, "", nil // the common case, without the regexp
	}
	if len(s) > 170 || !fullNamePattern.MatchString(s) {
		return "", "", validationError(s, "functionName", "Member must satisfy regular expression pattern: "+fullNamePattern.String())
	}
	m := fullNamePattern.FindStringSubmatch(s)
	name = m[7]
	qualifier = m[9]
	// A bare "name:qualifier" parses with name in the account slot only when
	// it is 12 digits; otherwise the regexp assigns it as name/qualifier.
	if len(name) > 64 {
		return "", "", validationError(s, "functionName", "Member must have length less than or equal to 64")
	}
	return name, qualifier, nil
}

// isPlainName reports whether s is a bare name: 1–64 of [a-zA-Z0-9-_].
func isPlainName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ValidateName checks a bare function name for CreateFunction.
func ValidateName(name string) error {
	if !namePattern.MatchString(name) {
		n, _, err := ParseName(name)
		if err != nil {
			return err
		}
		name = n
	}
	return nil
}

// checkRuntime validates runtime and handler together.
func checkRuntime(runtime, handler string) error {
	if deprecated[runtime] {
		return fault.New(fault.InvalidParameter, "The runtime parameter of %s is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.", runtime)
	}
	if _, ok := runtimes[runtime]; !ok {
		// Lambda answers InvalidParameterValueException here, not ValidationException.
		names := slices.Sorted(maps.Keys(runtimes))
		return fault.New(fault.InvalidParameter, "Value %s at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [%s] or be a valid ARN", runtime, strings.Join(names, ", "))
	}
	if handler == "" {
		if runtimes[runtime] != "provided" {
			return fault.New(fault.InvalidParameter, "Handler is required for runtime %s.", runtime)
		}
		return nil
	}
	if !handlerPattern.MatchString(handler) {
		return validationError(handler, "handler", `Member must satisfy regular expression pattern: [^\s]+`)
	}
	return nil
}

func checkSizes(memory, timeout, ephemeral int) error {
	switch {
	case memory < MemoryMin:
		return validationError(memory, "memorySize", fmt.Sprintf("Member must have value greater than or equal to %d", MemoryMin))
	case memory > MemoryMax:
		return validationError(memory, "memorySize", fmt.Sprintf("Member must have value less than or equal to %d", MemoryMax))
	case timeout < TimeoutMin:
		return validationError(timeout, "timeout", fmt.Sprintf("Member must have value greater than or equal to %d", TimeoutMin))
	case timeout > TimeoutMax:
		return validationError(timeout, "timeout", fmt.Sprintf("Member must have value less than or equal to %d", TimeoutMax))
	case ephemeral < 512:
		return validationError(ephemeral, "ephemeralStorage.size", "Member must have value greater than or equal to 512")
	case ephemeral > EphemeralMax:
		return validationError(ephemeral, "ephemeralStorage.size", fmt.Sprintf("Member must have value less than or equal to %d", EphemeralMax))
	}
	return nil
}

func checkRole(role string) error {
	if role == "" {
		return validationError("null", "role", "Member must not be null")
	}
	if !rolePattern.MatchString(role) {
		return validationError(role, "role", `Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`)
	}
	return nil
}

func checkEnvironment(env *Environment) error {
	if env == nil {
		return nil
	}
	for k := range env.Variables {
		if !envKeyPattern.MatchString(k) {
			return validationError(k, "environment.variables", "Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+")
		}
		if reservedEnv[k] {
			return fault.New(fault.InvalidParameter, "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s", k)
		}
	}
	// Lambda measures the variables as a compact JSON object.
	measured, err := json.Marshal(env.Variables)
	if err == nil && len(measured) > EnvironmentMax {
		return fault.New(fault.InvalidParameter, "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %s", measured)
	}
	return nil
}

func checkArchitectures(archs []string) error {
	if len(archs) > 1 {
		return validationError(archs, "architectures", "Member must have length less than or equal to 1")
	}
	for _, a := range archs {
		if a != "x86_64" && a != "arm64" {
			return validationError(archs, "architectures", "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]")
		}
	}
	return nil
}
