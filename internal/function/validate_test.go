package function

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/fault"
)

// wantFault fails t unless err is a *fault.Error of kind k whose message
// contains every part.
func wantFault(t *testing.T, what string, err error, k fault.Kind, parts ...string) {
	t.Helper()
	f := fault.As(err)
	if f == nil {
		t.Errorf("%s: got error %v, want a fault of kind %d", what, err, k)
		return
	}
	if f.Kind != k {
		t.Errorf("%s: got kind %d (%q), want %d", what, f.Kind, f.Message, k)
	}
	for _, p := range parts {
		if !strings.Contains(f.Message, p) {
			t.Errorf("%s: got message %q, want it to contain %q", what, f.Message, p)
		}
	}
}

func TestParseName(t *testing.T) {
	arnPrefix := "arn:aws:lambda:us-west-2:123456789012:function:"
	name64 := strings.Repeat("a", 64)
	tests := []struct {
		in            string
		name, qualify string
	}{
		{"my-function", "my-function", ""},
		{"My_Function-1", "My_Function-1", ""},
		{"a", "a", ""},
		{name64, name64, ""},
		{"my-function:1", "my-function", "1"},
		{"my-function:$LATEST", "my-function", "$LATEST"},
		{"my-function:prod", "my-function", "prod"},
		{"my-function:blue_green-2", "my-function", "blue_green-2"},
		// Partial ARNs.
		{"123456789012:function:my-function", "my-function", ""},
		{"123456789012:function:my-function:7", "my-function", "7"},
		{"function:my-function", "my-function", ""},
		// The legacy partial ARN "account-id:name".
		{"123456789012:my-function", "my-function", ""},
		// Full ARNs, unqualified and qualified.
		{"arn:aws:lambda:us-west-2:123456789012:function:my-function", "my-function", ""},
		{"arn:aws:lambda:us-west-2:123456789012:function:my-function:$LATEST", "my-function", "$LATEST"},
		{"arn:aws:lambda:us-west-2:123456789012:function:my-function:42", "my-function", "42"},
		{"arn:aws:lambda:eu-central-1:123456789012:function:my-function:live", "my-function", "live"},
		{"arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:my-function", "my-function", ""},
		{"arn:aws-cn:lambda:cn-north-1:123456789012:function:my-function", "my-function", ""},
		{"arn:aws:lambda:us-west-2:123456789012:function:" + name64 + ":$LATEST", name64, "$LATEST"},
		// Lambda's pattern reads an ARN without "function:" as name:qualifier.
		{"arn:aws:lambda:us-west-2:123456789012:layer:my-layer", "layer", "my-layer"},
		// A name that is all digits is still a name.
		{"123456789012", "123456789012", ""},
		// Lambda's pattern allows what no function is named: such names
		// are not found rather than invalid.
		{"my.function", "my.function", ""},
		{strings.Repeat("a", 65), strings.Repeat("a", 65), ""},
		{arnPrefix + strings.Repeat("a", 65) + ":1", strings.Repeat("a", 65), "1"},
		{"my-function:$LATEST.PUBLISHED", "my-function", "$LATEST.PUBLISHED"},
	}
	for _, tt := range tests {
		name, qualifier, err := ParseName(tt.in)
		if err != nil {
			t.Errorf("ParseName(%q): got error %v, want %q, %q", tt.in, err, tt.name, tt.qualify)
			continue
		}
		if name != tt.name || qualifier != tt.qualify {
			t.Errorf("ParseName(%q): got %q, %q, want %q, %q", tt.in, name, qualifier, tt.name, tt.qualify)
		}
	}
}

func TestParseName_invalid(t *testing.T) {
	arnPrefix := "arn:aws:lambda:us-west-2:123456789012:function:"
	tests := []struct {
		in   string
		want string // part of the message
	}{
		{"", "regular expression pattern"},
		{"my function", "regular expression pattern"},
		{"my/function", "regular expression pattern"},
		{"my-function:", "regular expression pattern"},
		{":1", "regular expression pattern"},
		{"my-function:1:2", "regular expression pattern"},
		{"my-function:$latest", "regular expression pattern"},
		{"my-function:v.1", "regular expression pattern"},
		{"arn:aws:lambda:us-west-2:123456789012:function:", "regular expression pattern"},
		{"arn:aws:s3:us-west-2:123456789012:function:my-function", "regular expression pattern"},
		{"arn:aws:lambda:us-west-2:12345:function:my-function", "regular expression pattern"},
		{"arn:aws:lambda:us-west-2:123456789012:function:my-function:1:extra", "regular expression pattern"},
		{"näme", "regular expression pattern"},
		{arnPrefix + strings.Repeat("a", 64) + ":" + strings.Repeat("q", 100) + ":x", "regular expression pattern"},
		{"invalid-account:function:my-function", "regular expression pattern"},
		{"arn:aws:lambda::123456789012:function:my-function", "regular expression pattern"},
		{"arn:aws:lambda:us-west-2:123456789012:function:my-function:$LATES", "regular expression pattern"},
	}
	for _, tt := range tests {
		name, qualifier, err := ParseName(tt.in)
		if err == nil {
			t.Errorf("ParseName(%q): got %q, %q, want an error", tt.in, name, qualifier)
			continue
		}
		wantFault(t, fmt.Sprintf("ParseName(%.40q)", tt.in), err, fault.Validation, "functionName", tt.want)
	}
}

func TestValidateName(t *testing.T) {
	for _, tt := range []struct{ in, name string }{
		{"f", "f"}, {"my-function", "my-function"}, {"My_Function_2", "My_Function_2"}, {strings.Repeat("x", 64), strings.Repeat("x", 64)},
		// CreateFunction accepts the ARN forms too.
		{"arn:aws:lambda:us-west-2:123456789012:function:my-function", "my-function"},
		{"123456789012:function:my-function", "my-function"},
	} {
		if name, err := ValidateName(tt.in); err != nil || name != tt.name {
			t.Errorf("ValidateName(%q): got %q, %v, want %q", tt.in, name, err, tt.name)
		}
	}
	for _, tt := range []struct {
		name string
		kind fault.Kind
		want string
	}{
		{"", fault.Validation, "1 validation error detected: Value '' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:"},
		{"has space", fault.Validation, "regular expression pattern"},
		{"dot.ted", fault.Validation, "regular expression pattern"},
		// Lambda answers an overlong name with InvalidParameterValueException.
		{strings.Repeat("x", 65), fault.InvalidParameter, "1 validation error detected: Value '" + strings.Repeat("x", 65) + "' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{strings.Repeat("x", 141), fault.Validation, "1 validation error detected: Value '" + strings.Repeat("x", 141) + "' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 140"},
		{strings.Repeat("x", 140) + "!", fault.Validation, "2 validation errors detected: "},
	} {
		_, err := ValidateName(tt.name)
		wantFault(t, fmt.Sprintf("ValidateName(%.40q)", tt.name), err, tt.kind, "functionName", tt.want)
	}
}

func TestCheckRuntime(t *testing.T) {
	for _, tt := range []struct{ runtime, handler string }{
		{"provided.al2023", ""},
		{"provided.al2", "bootstrap"},
		{"provided", ""},
		{"python3.12", "app.handler"},
		{"python3.9", "index.handler"},
		{"nodejs22.x", "index.handler"},
		{"nodejs20.x", strings.Repeat("h", 128)},
	} {
		if err := checkRuntime(tt.runtime, tt.handler); err != nil {
			t.Errorf("checkRuntime(%q, %q): got %v, want nil", tt.runtime, tt.handler, err)
		}
	}
	tests := []struct {
		runtime, handler string
		kind             fault.Kind
		parts            []string
	}{
		{"python3.8", "app.handler", fault.InvalidParameter, []string{"python3.8", "no longer supported"}},
		{"go1.x", "main", fault.InvalidParameter, []string{"go1.x", "no longer supported"}},
		{"nodejs16.x", "index.handler", fault.InvalidParameter, []string{"no longer supported"}},
		{"python3.12", "", fault.InvalidParameter, []string{"Handler is required", "python3.12"}},
		{"nodejs22.x", "", fault.InvalidParameter, []string{"Handler is required"}},
		{"python3.12", "app handler", fault.Validation, []string{"'handler'", "regular expression pattern"}},
		{"python3.12", "app.handler\n", fault.Validation, []string{"'handler'"}},
		{"provided.al2023", strings.Repeat("h", 129), fault.Validation, []string{"'handler'"}},
	}
	for _, tt := range tests {
		err := checkRuntime(tt.runtime, tt.handler)
		wantFault(t, fmt.Sprintf("checkRuntime(%q, %.20q)", tt.runtime, tt.handler), err, tt.kind, tt.parts...)
	}
}

func TestCheckRuntime_unknown(t *testing.T) {
	// Lambda's message lists its own enum, in its own order.
	const enum = "Member must satisfy enum value set: [nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2] or be a valid ARN"
	for _, runtime := range []string{"", "python4.0", "PROVIDED", "haskell"} {
		err := checkRuntime(runtime, "h")
		wantFault(t, fmt.Sprintf("checkRuntime(%q)", runtime), err, fault.InvalidParameter, "Value "+runtime+" at 'runtime' failed to satisfy constraint: "+enum)
	}
	// A runtime Lambda has but Updraft does not run is said to be so.
	wantFault(t, `checkRuntime("java21")`, checkRuntime("java21", "h"), fault.InvalidParameter, "Updraft does not run the java21 runtime")
}

func TestCheckRuntime_unknownKind(t *testing.T) {
	// Lambda answers an unknown runtime with InvalidParameterValueException
	// ("Value haskell at 'runtime' failed to satisfy constraint: Member must
	// satisfy enum value set: [...] or be a valid ARN", status 400), not a
	// ValidationException.
	wantFault(t, `checkRuntime("haskell")`, checkRuntime("haskell", "h"), fault.InvalidParameter, "'runtime'")
}

func TestCheckSizes(t *testing.T) {
	ok := []struct{ memory, timeout, ephemeral int }{
		{MemoryMin, TimeoutMin, EphemeralDefault},
		{MemoryMax, TimeoutMax, EphemeralMax},
		{MemoryDefault, TimeoutDefault, EphemeralDefault},
		{1769, 60, 2048},
	}
	for _, tt := range ok {
		if err := checkSizes(tt.memory, tt.timeout, tt.ephemeral); err != nil {
			t.Errorf("checkSizes(%d, %d, %d): got %v, want nil", tt.memory, tt.timeout, tt.ephemeral, err)
		}
	}
	bad := []struct {
		memory, timeout, ephemeral int
		parts                      []string
	}{
		{MemoryMin - 1, 3, 512, []string{"'127'", "'memorySize'", "greater than or equal to 128"}},
		{MemoryMax + 1, 3, 512, []string{"'10241'", "'memorySize'", "less than or equal to 10240"}},
		{128, 0, 512, []string{"'timeout'", "greater than or equal to 1"}},
		{128, -5, 512, []string{"'timeout'", "greater than or equal to 1"}},
		{128, TimeoutMax + 1, 512, []string{"'901'", "'timeout'", "less than or equal to 900"}},
		{128, 3, 511, []string{"'ephemeralStorage.size'", "greater than or equal to 512"}},
		{128, 3, EphemeralMax + 1, []string{"'ephemeralStorage.size'", "less than or equal to 10240"}},
	}
	for _, tt := range bad {
		err := checkSizes(tt.memory, tt.timeout, tt.ephemeral)
		wantFault(t, fmt.Sprintf("checkSizes(%d, %d, %d)", tt.memory, tt.timeout, tt.ephemeral), err, fault.Validation, tt.parts...)
	}
}

func TestCheckRole(t *testing.T) {
	for _, role := range []string{
		"arn:aws:iam::123456789012:role/lambda-role",
		"arn:aws:iam::123456789012:role/service-role/my.role@x+y=z,w",
		"arn:aws-us-gov:iam::123456789012:role/r",
		"arn:aws-cn:iam::123456789012:role/r",
		"arn::iam::123456789012:role/r",
	} {
		if err := checkRole(role); err != nil {
			t.Errorf("checkRole(%q): got %v, want nil", role, err)
		}
	}
	for _, tt := range []struct{ role, want string }{
		{"", "Member must not be null"},
		{"lambda-role", "regular expression pattern"},
		{"arn:aws:iam::12345:role/r", "regular expression pattern"},
		{"arn:aws:iam::123456789012:user/u", "regular expression pattern"},
		{"arn:aws:iam::123456789012:role", "regular expression pattern"},
		{"arn:aws:iam::123456789012:role/has space", "regular expression pattern"},
		{"arn:aws:sts::123456789012:role/r", "regular expression pattern"},
	} {
		wantFault(t, fmt.Sprintf("checkRole(%q)", tt.role), checkRole(tt.role), fault.Validation, "'role'", tt.want)
	}
}

func TestCheckEnvironment(t *testing.T) {
	// {"KK":"v…"} measures 9+n bytes as JSON and 2+n as keys plus values,
	// so this one is within 4 KB either way.
	atLimit := map[string]string{"KK": strings.Repeat("v", EnvironmentMax-9)}
	ok := []*Environment{
		nil,
		{},
		{Variables: map[string]string{}},
		{Variables: map[string]string{"FOO": "bar", "a1_B2": "", "LOG_LEVEL": "debug"}},
		{Variables: map[string]string{"AWS_LAMBDA_EXEC_WRAPPER": "/opt/wrap", "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR"}},
		{Variables: atLimit},
	}
	for _, env := range ok {
		if err := checkEnvironment(env); err != nil {
			t.Errorf("checkEnvironment(%.60v): got %v, want nil", env, err)
		}
	}

	for key := range reservedEnv {
		if !envKeyPattern.MatchString(key) {
			continue // rejected by the key pattern first; see below
		}
		env := &Environment{Variables: map[string]string{"OK_KEY": "1", key: "x"}}
		wantFault(t, fmt.Sprintf("checkEnvironment(%s)", key), checkEnvironment(env), fault.InvalidParameter,
			"reserved keys", "Reserved keys used in this request: "+key)
	}
	for _, key := range []string{"", "A", "1ABC", "A-B", "A.B", "A B", "_HANDLER", "_X_AMZN_TRACE_ID", "ÄB"} {
		env := &Environment{Variables: map[string]string{key: "x"}}
		wantFault(t, fmt.Sprintf("checkEnvironment(%q)", key), checkEnvironment(env), fault.Validation,
			"'environment.variables'", "regular expression pattern")
	}
	tooBig := &Environment{Variables: map[string]string{"KK": strings.Repeat("v", EnvironmentMax-1)}}
	wantFault(t, "checkEnvironment(4097 bytes)", checkEnvironment(tooBig), fault.InvalidParameter, "exceeded the 4KB limit")
	many := map[string]string{}
	for i := range 100 {
		many[fmt.Sprintf("KEY_%03d", i)] = strings.Repeat("v", 40)
	}
	wantFault(t, "checkEnvironment(100 keys)", checkEnvironment(&Environment{Variables: many}), fault.InvalidParameter, "exceeded the 4KB limit")
}

func TestCheckEnvironment_measuredAsJSON(t *testing.T) {
	// Lambda measures the variables as the JSON object it reports back
	// ("String measured: {\"PG_PASSWORD\":\"hunter2\"}"): {"KK":"v…"} with
	// a 4090-byte value is 4099 bytes and over the limit, although its keys
	// and values alone are 4092 bytes.
	env := &Environment{Variables: map[string]string{"KK": strings.Repeat("v", EnvironmentMax-6)}}
	wantFault(t, "checkEnvironment(4099 JSON bytes)", checkEnvironment(env), fault.InvalidParameter, "exceeded the 4KB limit")
}

func TestCheckArchitectures(t *testing.T) {
	for _, archs := range [][]string{nil, {}, {"x86_64"}, {"arm64"}} {
		if err := checkArchitectures(archs); err != nil {
			t.Errorf("checkArchitectures(%q): got %v, want nil", archs, err)
		}
	}
	for _, tt := range []struct {
		archs []string
		want  string
	}{
		{[]string{"x86_64", "arm64"}, "length less than or equal to 1"},
		{[]string{"arm64", "arm64"}, "length less than or equal to 1"},
		{[]string{"amd64"}, "enum value set: [x86_64, arm64]"},
		{[]string{"ARM64"}, "enum value set: [x86_64, arm64]"},
		{[]string{""}, "enum value set: [x86_64, arm64]"},
	} {
		wantFault(t, fmt.Sprintf("checkArchitectures(%q)", tt.archs), checkArchitectures(tt.archs), fault.Validation, "'architectures'", tt.want)
	}
}

var (
	fuzzNameOK      = regexp.MustCompile(`^[a-zA-Z0-9-_.]+$`)
	fuzzQualifierOK = regexp.MustCompile(`^(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+)?$`)
)

func FuzzParseName(f *testing.F) {
	for _, s := range []string{
		"my-function", "my-function:1", "my-function:$LATEST", "123456789012:function:fn",
		"arn:aws:lambda:us-west-2:123456789012:function:fn:alias",
		"arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:fn",
		strings.Repeat("a", 65), strings.Repeat("a", 171), "", ":", "a::b", "arn:aws:lambda:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, qualifier, err := ParseName(s)
		if err != nil {
			if !fault.Is(err, fault.Validation) {
				t.Fatalf("ParseName(%q): got error %v, want a Validation fault", s, err)
			}
			if name != "" || qualifier != "" {
				t.Fatalf("ParseName(%q): got %q, %q with error %v", s, name, qualifier, err)
			}
			return
		}
		if !fuzzNameOK.MatchString(name) {
			t.Fatalf("ParseName(%q): got name %q, want [a-zA-Z0-9-_.]+", s, name)
		}
		if !fuzzQualifierOK.MatchString(qualifier) {
			t.Fatalf("ParseName(%q): got qualifier %q", s, qualifier)
		}
		if !strings.Contains(s, name) {
			t.Fatalf("ParseName(%q): got name %q, not part of the input", s, name)
		}
		if qualifier != "" && !strings.HasSuffix(s, name+":"+qualifier) {
			t.Fatalf("ParseName(%q): got %q, %q; input does not end in name:qualifier", s, name, qualifier)
		}
		if qualifier == "" && !strings.HasSuffix(s, name) {
			t.Fatalf("ParseName(%q): got name %q; input does not end in it", s, name)
		}
		// A bare name of 1-64 of [a-zA-Z0-9-_] is valid for CreateFunction.
		if len(name) <= NameMax && !strings.Contains(name, ".") {
			if _, err := ValidateName(name); err != nil {
				t.Fatalf("ValidateName(%q) (parsed from %q): %v", name, s, err)
			}
		}
	})
}

func TestCheckEnvironment_measuredAsSent(t *testing.T) {
	// Lambda quotes the variables in the order they were sent, and does
	// not escape HTML characters, which count as one byte each.
	big := strings.Repeat("z", EnvironmentMax)
	var env Environment
	if err := json.Unmarshal([]byte(`{"Variables":{"ZED":"<&>","ALPHA":"`+big+`"}}`), &env); err != nil {
		t.Fatal(err)
	}
	want := `String measured: {"ZED":"<&>","ALPHA":"` + big + `"}`
	wantFault(t, "checkEnvironment(sent order)", checkEnvironment(&env), fault.InvalidParameter, want)

	// At the limit with HTML characters: json.Marshal would make it longer.
	var fits Environment
	value := strings.Repeat("<", EnvironmentMax-len(`{"KK":""}`))
	if err := json.Unmarshal([]byte(`{"Variables":{"KK":"`+value+`"}}`), &fits); err != nil {
		t.Fatal(err)
	}
	if err := checkEnvironment(&fits); err != nil {
		t.Errorf("checkEnvironment(4096 bytes of '<'): got %v, want nil", err)
	}
}
