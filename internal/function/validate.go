package function

import (
	"bytes"
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
	"java8": true, "nodejs": true, "nodejs4.3": true, "nodejs6.10": true, "nodejs8.10": true, "nodejs10.x": true,
	"nodejs12.x": true, "nodejs14.x": true, "nodejs16.x": true, "dotnetcore1.0": true,
	"dotnetcore2.0": true, "dotnetcore2.1": true, "dotnetcore3.1": true, "ruby2.5": true, "ruby2.7": true,
}

// awsRuntimes is Lambda's Runtime enum, in the order its messages list it
// (CreateFunction, UpdateFunctionConfiguration, PublishLayerVersion).
var awsRuntimes = []string{
	"nodejs20.x", "python3.14", "provided.al2023", "python3.12", "python3.13", "nodejs24.x", "nodejs22.x", "java25",
	"python3.10", "python3.11", "java21", "ruby3.3", "ruby3.4", "ruby3.2", "python3.8", "python3.9", "java17",
	"nodejs16.x", "dotnet10", "dotnet8", "java11", "dotnet6", "nodejs18.x", "provided.al2", "java8.al2",
}

// listRuntimes is the longer enum ListLayers and ListLayerVersions accept
// for CompatibleRuntime, in the order Lambda's messages list it.
var listRuntimes = []string{
	"ruby3.5", "ruby2.6", "dotnetcore1.0", "python3.7", "nodejs8.10", "nasa", "ruby2.7", "python2.7-greengrass",
	"dotnetcore2.0", "python3.8", "java21", "dotnet6", "dotnetcore2.1", "python3.9", "java11", "nodejs6.10", "provided",
	"dotnetcore3.1", "dotnet8", "java25", "java17", "nodejs", "nodejs4.3", "java8.al2", "go1.x", "dotnet10", "nodejs20.x",
	"go1.9", "byol", "nodejs10.x", "provided.al2023", "nodejs22.x", "python3.10", "java8", "nodejs12.x", "python3.11",
	"nodejs24.x", "nodejs8.x", "python3.12", "nodejs14.x", "nodejs8.9", "nodejs26.x", "python3.13", "python3.14",
	"nodejs16.x", "python3.15", "provided.al2", "nodejs4.3-edge", "nodejs18.x", "ruby3.2", "python3.4", "ruby3.3",
	"ruby3.4", "ruby2.5", "python3.6", "python2.7",
}

// listValue renders a list as Lambda's messages quote it: "[a, b]".
func listValue(items []string) string { return "[" + strings.Join(items, ", ") + "]" }

// architecturesConstraint is how Lambda words the Architectures enum.
const architecturesConstraint = "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]"

// CheckLayerFilter validates the CompatibleRuntime and
// CompatibleArchitecture filters of ListLayers and ListLayerVersions.
func CheckLayerFilter(runtime, architecture string) error {
	var violations []string
	if runtime != "" && !slices.Contains(listRuntimes, runtime) {
		violations = append(violations, violation(runtime, "compatibleRuntime", "Member must satisfy enum value set: "+listValue(listRuntimes)))
	}
	if architecture != "" && architecture != "x86_64" && architecture != "arm64" {
		violations = append(violations, violation(architecture, "compatibleArchitecture", "Member must satisfy enum value set: [x86_64, arm64]"))
	}
	if len(violations) > 0 {
		return validationErrors(violations...)
	}
	return nil
}

// RuntimeFamily is "provided", "python" or "node" for a supported runtime,
// and "" otherwise.
func RuntimeFamily(runtime string) string { return runtimes[runtime] }

var (
	handlerPattern = newLazyRegexp(`^[^\s]{1,128}$`)
	rolePattern    = newLazyRegexp(`^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	envKeyPattern  = newLazyRegexp(`^[a-zA-Z]([a-zA-Z0-9_])+$`)
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
	return validationErrors(violation(value, field, constraint))
}

// violation is one failed constraint, worded as Lambda lists them.
func violation(value any, field, constraint string) string {
	return fmt.Sprintf("Value '%v' at '%s' failed to satisfy constraint: %s", value, field, constraint)
}

// validationErrors is Lambda's ValidationException for one or more
// violations, nil for none.
func validationErrors(violations ...string) *fault.Error {
	switch len(violations) {
	case 0:
		return nil
	case 1:
		return fault.New(fault.Validation, "1 validation error detected: %s", violations[0])
	}
	return fault.New(fault.Validation, "%d validation errors detected: %s", len(violations), strings.Join(violations, "; "))
}

// Lambda's patterns for a FunctionName: the operations on an existing
// function (GetFunction, Invoke, DeleteFunction, ...) allow dots and
// $LATEST.PUBLISHED; CreateFunction does not. The texts are quoted in
// messages; the expressions add anchors and group names.
const (
	pathNamePatternText   = `(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?`
	createNamePatternText = `(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`
	qualifierPatternText  = `\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+`
	// createNameMax is CreateFunction's limit on FunctionName, ARN included.
	createNameMax = 140
	// NameMax is the longest function name.
	NameMax      = 64
	qualifierMax = 128
)

var (
	pathNamePattern   = newLazyRegexp(`^(arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:)?((?P<region>(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}):)?((?P<account>\d{12}):)?(function:)?(?P<name>[a-zA-Z0-9-_\.]+)(:(?P<qualifier>\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?$`)
	createNamePattern = newLazyRegexp(`^(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$`)
	qualifierPattern  = newLazyRegexp(`^(\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+)$`)
)

// qualifierViolation is what is wrong with a Qualifier parameter, or "".
func qualifierViolation(q string) string {
	switch {
	case len(q) > qualifierMax:
		return violation(q, "qualifier", fmt.Sprintf("Member must have length less than or equal to %d", qualifierMax))
	case !qualifierPattern.MatchString(q):
		return violation(q, "qualifier", "Member must satisfy regular expression pattern: "+qualifierPatternText)
	}
	return ""
}

// CheckQualifier validates a Qualifier parameter.
func CheckQualifier(q string) error {
	if v := qualifierViolation(q); v != "" {
		return validationErrors(v)
	}
	return nil
}

// ParseName splits a FunctionName path parameter (a name, a partial ARN
// "123456789012:function:name" or a full ARN, optionally qualified) into
// the function name and the qualifier (empty when none). As on Lambda, a
// name that fits the pattern but is too long is not an error here: no
// function has it, so it is not found.
func ParseName(s string) (name, qualifier string, err error) {
	name, qualifier, _, err = parseName(s)
	return name, qualifier, err
}

// ARNAccount is the account a FunctionName parameter names (a full or
// partial ARN), "" for a bare name or one that does not parse.
func ARNAccount(s string) string {
	if isPlainName(s) {
		return ""
	}
	m := pathNamePattern.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[pathNamePattern.SubexpIndex("account")]
}

// CheckAccount refuses a FunctionName parameter that names an account
// other than account, as Lambda does (AccessDeniedException, 403).
func CheckAccount(fn, account string) error {
	if a := ARNAccount(fn); a != "" && a != account {
		return &fault.Error{Kind: fault.AccessDenied, Untyped: true}
	}
	return nil
}

// ParseNameQualifier is ParseName and CheckQualifier together, reporting
// both violations at once as Lambda does. qualifier may be "".
func ParseNameQualifier(s, qualifier string) (name, nameQualifier string, err error) {
	var violations []string
	name, nameQualifier, _, err = parseName(s)
	if err != nil {
		violations = append(violations, violation(s, "functionName", "Member must satisfy regular expression pattern: "+pathNamePatternText))
	}
	if qualifier != "" {
		if v := qualifierViolation(qualifier); v != "" {
			violations = append(violations, v)
		}
	}
	if len(violations) > 0 {
		return "", "", validationErrors(violations...)
	}
	return name, nameQualifier, nil
}

// Locate parses a FunctionName parameter with its Qualifier parameter
// (may be "") as Lambda does: violations of both reported at once, a
// qualifier in the name that disagrees with the parameter refused, and an
// ARN of a region other than region not found, and one of an account
// other than account refused. It returns the function name and the
// qualifier that applies ("" for none).
func Locate(fn, qualifier, region, account string) (string, string, error) {
	name, q, err := ParseNameQualifier(fn, qualifier)
	if err != nil {
		return "", "", err
	}
	if qualifier != "" {
		if q != "" && q != qualifier {
			return "", "", fault.New(fault.InvalidParameter, "The derived qualifier from the function name does not match the specified qualifier.")
		}
		q = qualifier
	}
	if _, _, r, _ := parseName(fn); r != "" && r != region {
		return "", "", errOtherRegion(r, region)
	}
	if err := CheckAccount(fn, account); err != nil {
		return "", "", err
	}
	return name, q, nil
}

func errOtherRegion(arnRegion, region string) error {
	return fault.New(fault.NotFound, "Functions from '%s' are not reachable in this region ('%s')", arnRegion, region)
}

// parseName is ParseName that also returns the ARN's region ("" when the
// name is not a full ARN).
func parseName(s string) (name, qualifier, region string, err error) {
	if isPlainName(s) {
		return s, "", "", nil // the common case, without the regexp
	}
	m := pathNamePattern.FindStringSubmatch(s)
	if m == nil {
		return "", "", "", validationError(s, "functionName", "Member must satisfy regular expression pattern: "+pathNamePatternText)
	}
	g := func(group string) string { return m[pathNamePattern.SubexpIndex(group)] }
	return g("name"), g("qualifier"), g("region"), nil
}

// isPlainName reports whether s is a bare name: 1–64 of [a-zA-Z0-9-_].
func isPlainName(s string) bool {
	if len(s) == 0 || len(s) > NameMax {
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

// ValidateName checks CreateFunction's FunctionName (a name or an ARN)
// and returns the function name.
func ValidateName(s string) (string, error) {
	if isPlainName(s) {
		return s, nil
	}
	var violations []string
	if len(s) > createNameMax {
		violations = append(violations, violation(s, "functionName", fmt.Sprintf("Member must have length less than or equal to %d", createNameMax)))
	}
	if !createNamePattern.MatchString(s) {
		violations = append(violations, violation(s, "functionName", "Member must satisfy regular expression pattern: "+createNamePatternText))
	}
	if len(violations) > 0 {
		return "", validationErrors(violations...)
	}
	name, _, _, err := parseName(s)
	if err != nil {
		return "", err
	}
	if len(name) > NameMax {
		// Lambda reports this one as InvalidParameterValueException.
		return "", fault.New(fault.InvalidParameter, "1 validation error detected: %s", violation(s, "functionName", fmt.Sprintf("Member must have length less than or equal to %d", NameMax)))
	}
	return name, nil
}

// retired are runtimes Lambda no longer takes for creating a function or
// changing its runtime, which Updraft still runs for functions that have
// them already.
var retired = map[string]bool{"provided": true}

// checkNewRuntime refuses a retired runtime given to CreateFunction or
// UpdateFunctionConfiguration, in Lambda's words.
func checkNewRuntime(runtime string) error {
	if retired[runtime] {
		return errDeprecatedRuntime(runtime)
	}
	return nil
}

func errDeprecatedRuntime(runtime string) error {
	return fault.New(fault.InvalidParameter, "The runtime parameter of %s is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.", runtime)
}

// checkRuntime validates runtime and handler together.
func checkRuntime(runtime, handler string) error {
	if deprecated[runtime] {
		return errDeprecatedRuntime(runtime)
	}
	if _, ok := runtimes[runtime]; !ok {
		if slices.Contains(awsRuntimes, runtime) {
			names := slices.Sorted(maps.Keys(runtimes))
			return fault.New(fault.InvalidParameter, "Updraft does not run the %s runtime; it runs %s.", runtime, listValue(names))
		}
		// Lambda answers InvalidParameterValueException here, not ValidationException.
		return fault.New(fault.InvalidParameter, "Value %s at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: %s or be a valid ARN", runtime, listValue(awsRuntimes))
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
	if measured := env.measure(); len(measured) > EnvironmentMax {
		return fault.New(fault.InvalidParameter, "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %s", measured)
	}
	return nil
}

// measure renders the variables as Lambda measures them: compact JSON, in
// the order they were sent, without escaping HTML characters.
func (e *Environment) measure() []byte {
	keys := make([]string, 0, len(e.Variables))
	seen := make(map[string]bool, len(e.Variables))
	for _, k := range e.order {
		if _, ok := e.Variables[k]; ok && !seen[k] {
			keys, seen[k] = append(keys, k), true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(e.Variables)) {
		if !seen[k] {
			keys = append(keys, k)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	quote := func(s string) {
		_ = enc.Encode(s)
		buf.Truncate(buf.Len() - 1) // Encode ends with a newline
	}
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		quote(k)
		buf.WriteByte(':')
		quote(e.Variables[k])
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// UnmarshalJSON decodes an Environment and remembers the order of its
// variables, which Lambda's 4 KB message shows.
func (e *Environment) UnmarshalJSON(b []byte) error {
	type plain Environment // without this method
	*e = Environment{}
	if err := json.Unmarshal(b, (*plain)(e)); err != nil {
		return err
	}
	var raw struct {
		Variables json.RawMessage
	}
	if err := json.Unmarshal(b, &raw); err != nil || e.Variables == nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw.Variables))
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
		e.order = append(e.order, t.(string))
	}
	return nil
}

func checkArchitectures(archs []string) error {
	if len(archs) > 1 {
		return validationError(listValue(archs), "architectures", "Member must have length less than or equal to 1")
	}
	for _, a := range archs {
		if a != "x86_64" && a != "arm64" {
			return validationError(listValue(archs), "architectures", architecturesConstraint)
		}
	}
	return nil
}
