package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// apiErr asserts err is the AWS error code with a message containing want.
func apiErr(t *testing.T, err error, code, want string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got error %v, want %s", err, code)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), want) {
		t.Errorf("got %s: %q, want %s containing %q", ae.ErrorCode(), ae.ErrorMessage(), code, want)
	}
}

func TestLambdaErrors_CreateFunction(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("exists", nil)
	corrupt := []byte("PK\x03\x04 this is not a zip")
	noBootstrap, _ := zipFiles(map[string][]byte{"main": []byte("x")}, 0o755)

	tests := []struct {
		name   string
		adjust func(*lambda.CreateFunctionInput)
		code   string
		want   string
	}{
		{"exists", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String("exists") }, "ResourceConflictException", "Function already exist: exists"},
		{"bad name", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String("bad name!") }, "ValidationException", "functionName"},
		{"long name", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String(strings.Repeat("a", 65)) }, "InvalidParameterValueException",
			"1 validation error detected: Value '" + strings.Repeat("a", 65) + "' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{"unknown runtime", func(in *lambda.CreateFunctionInput) { in.Runtime = "cobol85" }, "InvalidParameterValueException", "Value cobol85 at 'runtime'"},
		{"deprecated runtime", func(in *lambda.CreateFunctionInput) { in.Runtime = "go1.x" }, "InvalidParameterValueException", "go1.x is no longer supported"},
		{"retired java", func(in *lambda.CreateFunctionInput) { in.Runtime = "java8" }, "InvalidParameterValueException",
			"The runtime parameter of java8 is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."},
		{"runtime Updraft lacks", func(in *lambda.CreateFunctionInput) { in.Runtime = "ruby3.3" }, "InvalidParameterValueException", "Updraft does not run the ruby3.3 runtime"},
		{"upper-case runtime", func(in *lambda.CreateFunctionInput) { in.Runtime = "PROVIDED.AL2023" }, "InvalidParameterValueException",
			"Value PROVIDED.AL2023 at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs20.x, python3.14, provided.al2023,"},
		{"corrupt zip", func(in *lambda.CreateFunctionInput) { in.Code.ZipFile = corrupt }, "InvalidParameterValueException", "Could not unzip uploaded file"},
		{"missing bootstrap", func(in *lambda.CreateFunctionInput) { in.Code.ZipFile = noBootstrap }, "InvalidParameterValueException", "bootstrap"},
		{"no code", func(in *lambda.CreateFunctionInput) { in.Code.ZipFile = nil }, "InvalidParameterValueException", "source for function code"},
		{"memory low", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(64) }, "ValidationException", "memorySize"},
		{"memory high", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(20000) }, "ValidationException", "memorySize"},
		{"timeout high", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(901) }, "ValidationException", "timeout"},
		{"bad role", func(in *lambda.CreateFunctionInput) { in.Role = aws.String("admin") }, "ValidationException", "role"},
		{"reserved env", func(in *lambda.CreateFunctionInput) {
			in.Environment = &types.Environment{Variables: map[string]string{"AWS_REGION": "x"}}
		}, "InvalidParameterValueException", "reserved keys"},
		{"ARN of another region", func(in *lambda.CreateFunctionInput) {
			in.FunctionName = aws.String("arn:aws:lambda:sa-east-1:000000000000:function:elsewhere")
		}, "ResourceNotFoundException", "Functions from 'sa-east-1' are not reachable in this region ('us-east-1')"},
		// Lambda's recorded answer: 403 and no message (checked on the wire
		// in TestLambdaErrors_OtherAccount).
		{"ARN of another account", func(in *lambda.CreateFunctionInput) {
			in.FunctionName = aws.String("arn:aws:lambda:us-east-1:123456789012:function:theirs")
		}, "AccessDeniedException", ""},
		{"ARN too long", func(in *lambda.CreateFunctionInput) {
			in.FunctionName = aws.String("arn:aws:lambda:us-east-1:000000000000:function:" + strings.Repeat("b", 95))
		}, "ValidationException", "at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 140"},
		{"python without handler", func(in *lambda.CreateFunctionInput) { in.Runtime = types.RuntimePython312; in.Handler = nil }, "InvalidParameterValueException", "Handler"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &lambda.CreateFunctionInput{
				FunctionName: aws.String("fn-" + strings.ReplaceAll(tt.name, " ", "-")),
				Runtime:      types.RuntimeProvidedal2023,
				Handler:      aws.String("bootstrap"),
				Role:         aws.String("arn:aws:iam::000000000000:role/test"),
				Code:         &types.FunctionCode{ZipFile: fnZip},
			}
			tt.adjust(in)
			_, err := n.lambda.CreateFunction(ctx, in)
			apiErr(t, err, tt.code, tt.want)
		})
	}
	// Nothing was half-created.
	list, err := n.lambda.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Functions) != 1 || aws.ToString(list.Functions[0].FunctionName) != "exists" {
		t.Errorf("got %d functions after rejected creates, want only 'exists'", len(list.Functions))
	}
}

func TestLambdaErrors_Invoke(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("target", nil)

	_, err := n.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("missing")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing")

	_, err = n.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("target"), Payload: []byte("{not json")})
	apiErr(t, err, "InvalidRequestContentException", "Could not parse request body into json")
	// The aws CLI v2 sends an inline payload base64-decoded unless told
	// otherwise: bytes that are not UTF-8, which Lambda refuses as such.
	_, err = n.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("target"), Payload: []byte("j\x8ez\xd1\x13")})
	apiErr(t, err, "InvalidRequestContentException", "Could not parse request body into json: Could not parse payload into json: Invalid UTF-8 start byte 0x8e\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 3]")

	big := []byte(`"` + strings.Repeat("x", 6*1024*1024) + `"`)
	_, err = n.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("target"), Payload: big})
	apiErr(t, err, "RequestTooLargeException", "6291456")

	async := []byte(`"` + strings.Repeat("x", 1024*1024) + `"`)
	_, err = n.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("target"), Payload: async, InvocationType: types.InvocationTypeEvent})
	apiErr(t, err, "RequestTooLargeException", "1048576")

	_, err = n.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("target"), Qualifier: aws.String("7")})
	apiErr(t, err, "ResourceNotFoundException", "function:target:7")

	dry, err := n.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("target"), InvocationType: types.InvocationTypeDryRun})
	if err != nil || dry.StatusCode != 204 {
		t.Errorf("dry run: got %v, %v, want 204", dry, err)
	}
	// An empty payload is an empty JSON object, as on Lambda.
	out := n.invoke("target", nil, func(in *lambda.InvokeInput) { in.Payload = nil })
	if out.FunctionError != nil {
		t.Errorf("empty payload: %s", out.Payload)
	}
}

func TestLambdaErrors_Wire(t *testing.T) {
	n := startNode(t, nil)
	n.create("target", nil)
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		errType                  string
	}{
		{"malformed create", "POST", "/2015-03-31/functions", `{"FunctionName":`, nil, 400, "InvalidRequestContentException"},
		{"wrong type", "POST", "/2015-03-31/functions", `{"FunctionName":42}`, nil, 400, "InvalidRequestContentException"},
		{"malformed update", "PUT", "/2015-03-31/functions/target/configuration", `[`, nil, 400, "InvalidRequestContentException"},
		{"bad invocation type", "POST", "/2015-03-31/functions/target/invocations", `{}`, map[string]string{"X-Amz-Invocation-Type": "Sometimes"}, 400, "ValidationException"},
		{"bad log type", "POST", "/2015-03-31/functions/target/invocations", `{}`, map[string]string{"X-Amz-Log-Type": "All"}, 400, "ValidationException"},
		{"bad client context", "POST", "/2015-03-31/functions/target/invocations", `{}`, map[string]string{"X-Amz-Client-Context": "!!"}, 400, "InvalidRequestContentException"},
		{"missing function", "GET", "/2015-03-31/functions/nope", ``, nil, 404, "ResourceNotFoundException"},
		{"bad name in path", "GET", "/2015-03-31/functions/a%20b", ``, nil, 400, "ValidationException"},
		{"delete missing", "DELETE", "/2015-03-31/functions/nope", ``, nil, 404, "ResourceNotFoundException"},
		{"unsupported operation", "GET", "/2015-03-31/functions/target/policy", ``, nil, 404, "UnknownOperationException"},
		{"unsupported create", "POST", "/2015-03-31/functions/target/policy", `{}`, nil, 404, "UnknownOperationException"},
		{"dead letter config", "POST", "/2015-03-31/functions", `{"FunctionName":"dlq","Runtime":"provided.al2023","Role":"arn:aws:iam::000000000000:role/x","Code":{"ZipFile":"UEs="},"DeadLetterConfig":{"TargetArn":"arn:aws:sqs:us-east-1:000000000000:q"}}`, nil, 400, "InvalidParameterValueException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, n.url+tt.path, bytes.NewBufferString(tt.body))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Type    string `json:"Type"`
				Message string `json:"message"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tt.status || resp.Header.Get("x-amzn-ErrorType") != tt.errType || body.Message == "" || body.Type != "User" {
				t.Errorf("got %d %s %+v, want %d %s with a User message", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), body, tt.status, tt.errType)
			}
			if resp.Header.Get("x-amzn-RequestId") == "" {
				t.Errorf("no x-amzn-RequestId")
			}
		})
	}
}

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

// TestLambdaErrors_Settings checks, word for word, the errors Lambda gives
// for tags, reserved and provisioned concurrency, aliases and versions.
func TestLambdaErrors_Settings(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	const arn = "arn:aws:lambda:us-east-1:000000000000:function:"
	n.create("settings", func(in *lambda.CreateFunctionInput) { in.Publish = true })
	if _, err := n.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("settings"), Name: aws.String("stable"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	many := map[string]string{}
	for i := range 51 {
		many[fmt.Sprintf("key%d", i)] = "v"
	}
	tag := func(resource string, tags map[string]string) error {
		_, err := n.lambda.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(resource), Tags: tags})
		return err
	}
	reserve := func(fn string, count int32) error {
		_, err := n.lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(fn), ReservedConcurrentExecutions: aws.Int32(count)})
		return err
	}
	provision := func(fn, qualifier string, count int32) error {
		_, err := n.lambda.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: aws.String(fn), Qualifier: aws.String(qualifier), ProvisionedConcurrentExecutions: aws.Int32(count)})
		return err
	}
	getProvisioned := func(fn, qualifier string) error {
		_, err := n.lambda.GetProvisionedConcurrencyConfig(ctx, &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String(fn), Qualifier: aws.String(qualifier)})
		return err
	}
	_, createErr := n.lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("overtagged"), Runtime: types.RuntimeProvidedal2023, Role: aws.String("arn:aws:iam::000000000000:role/x"),
		Code: &types.FunctionCode{ZipFile: fnZip}, Tags: many,
	})
	_, publishErr := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("settings"), CodeSha256: aws.String("c2hhLW9mLXNvbWV0aGluZy1lbHNl")})

	tests := []struct {
		name string
		err  error
		code string
		want string
	}{
		{"tag a version", tag(arn+"settings:1", map[string]string{"a": "b"}), "InvalidParameterValueException", "Tags on function aliases and versions are not supported. Please specify a function ARN."},
		{"tag an alias", tag(arn+"settings:stable", map[string]string{"a": "b"}), "InvalidParameterValueException", "Tags on function aliases and versions are not supported. Please specify a function ARN."},
		{"tag a bad ARN", tag("arn:aws:sqs:queue", map[string]string{"a": "b"}), "ValidationException",
			"1 validation error detected: Value 'arn:aws:sqs:queue' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:"},
		{"tag nothing", tag(arn+"settings", map[string]string{}), "InvalidParameterValueException", "An error occurred and the request cannot be processed."},
		{"tag too many", tag(arn+"settings", many), "InvalidParameterValueException", "Number of tags exceeds resource tag limit."},
		{"create with too many tags", createErr, "InvalidParameterValueException", "Number of tags exceeds resource tag limit."},
		{"tag a missing function", tag(arn+"ghost", map[string]string{"a": "b"}), "ResourceNotFoundException", "Function not found: " + arn + "ghost"},
		{"reserve for a version", reserve(arn+"settings:1", 1), "InvalidParameterValueException",
			"This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN."},
		{"reserve for a missing function", reserve("ghost", 1), "ResourceNotFoundException", "Function not found: " + arn + "ghost:$LATEST"},
		{"reserve too much", reserve("settings", 950), "InvalidParameterValueException",
			"Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100]."},
		{"provision $LATEST", provision("settings", "$LATEST", 1), "InvalidParameterValueException", "Provisioned Concurrency Configs cannot be applied to unpublished function versions."},
		{"provision a missing alias", provision("settings", "ghost", 1), "ResourceNotFoundException", "Cannot find alias arn: " + arn + "settings:ghost"},
		{"provision an alias of a missing function", provision("ghost", "stable", 1), "ResourceNotFoundException", "Cannot find alias arn: " + arn + "ghost:stable"},
		{"provision a missing version", provision("settings", "9", 1), "ResourceNotFoundException", "Function not found: " + arn + "settings:9"},
		{"provision beyond the account", provision("settings", "1", 1001), "InvalidParameterValueException",
			"Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [1000]."},
		{"provision into the unreserved minimum", provision("settings", "1", 950), "InvalidParameterValueException",
			"Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100]."},
		{"get provisioned $LATEST", getProvisioned("settings", "$LATEST"), "InvalidParameterValueException", "The function resource provided must be an alias or a published version."},
		{"get provisioned, none", getProvisioned("settings", "1"), "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function"},
		{"publish with another CodeSha256", publishErr, "InvalidParameterValueException",
			"CodeSHA256 (c2hhLW9mLXNvbWV0aGluZy1lbHNl) is different from current CodeSHA256 in $LATEST ("},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { apiErr(t, tt.err, tt.code, tt.want) })
	}

	// Asked for by qualifier, $LATEST answers with a qualified ARN.
	latest, err := n.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("settings"), Qualifier: aws.String("$LATEST")})
	if err != nil || aws.ToString(latest.FunctionArn) != arn+"settings:$LATEST" {
		t.Errorf("get $LATEST: got %v, %v; want FunctionArn %s", aws.ToString(latest.FunctionArn), err, arn+"settings:$LATEST")
	}
	plain, err := n.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("settings")})
	if err != nil || aws.ToString(plain.FunctionArn) != arn+"settings" {
		t.Errorf("get: got %v, %v; want FunctionArn %s", aws.ToString(plain.FunctionArn), err, arn+"settings")
	}

	// A full reservation throttles without suggesting a delay, as Lambda.
	if err := reserve("settings", 0); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(n.url+"/2015-03-31/functions/settings/invocations", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "" || strings.Contains(body, "retryAfterSeconds") ||
		!strings.Contains(body, `"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"`) {
		t.Errorf("throttled invoke: got %d, Retry-After %q, %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}

// TestLambdaErrors_Names checks how Lambda judges FunctionName and
// Qualifier: its patterns, lengths that only mean "not found", both
// violations at once, and qualifiers DeleteFunction refuses before looking.
func TestLambdaErrors_Names(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	const arn = "arn:aws:lambda:us-east-1:000000000000:function:"
	const pathPattern = `Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?`
	long := strings.Repeat("n", 70)
	get := func(name, qualifier string) error {
		in := &lambda.GetFunctionInput{FunctionName: aws.String(name)}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		_, err := n.lambda.GetFunction(ctx, in)
		return err
	}
	del := func(name, qualifier string) error {
		_, err := n.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name), Qualifier: aws.String(qualifier)})
		return err
	}
	invoke := func(name string) error {
		_, err := n.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name)})
		return err
	}
	tests := []struct {
		name string
		err  error
		code string
		want string
	}{
		{"bad character", get("fn!", ""), "ValidationException", "1 validation error detected: Value 'fn!' at 'functionName' failed to satisfy constraint: " + pathPattern},
		{"bad character, invoke", invoke("fn!"), "ValidationException", "Value 'fn!' at 'functionName' failed to satisfy constraint: " + pathPattern},
		{"region missing", get("arn:aws:lambda::000000000000:function:fn", ""), "ValidationException", pathPattern},
		{"two qualifiers", get(arn+"fn:1:2", ""), "ValidationException", pathPattern},
		{"qualifier too long", get("fn", strings.Repeat("q", 129)), "ValidationException",
			"1 validation error detected: Value '" + strings.Repeat("q", 129) + "' at 'qualifier' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"bad qualifier", get("fn", "q!"), "ValidationException",
			"Value 'q!' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"},
		{"both wrong", get("fn!", "q!"), "ValidationException", "2 validation errors detected: "},
		{"name too long", get(long, ""), "ResourceNotFoundException", "Function not found: " + arn + long},
		{"name too long, invoke", invoke(long), "ResourceNotFoundException", "Function not found: " + arn + long},
		{"dotted name", get("my.fn", ""), "ResourceNotFoundException", "Function not found: " + arn + "my.fn"},
		{"other region", get("arn:aws:lambda:eu-west-1:000000000000:function:fn", ""), "ResourceNotFoundException",
			"Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"},
		{"other region, invoke", invoke("arn:aws:lambda:eu-west-1:000000000000:function:fn"), "ResourceNotFoundException",
			"Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"},
		{"other account", get("arn:aws:lambda:us-east-1:123456789012:function:fn", ""), "AccessDeniedException", ""},
		{"other account, partial ARN", get("123456789012:function:fn", ""), "AccessDeniedException", ""},
		{"other account, invoke", invoke("arn:aws:lambda:us-east-1:123456789012:function:fn:live"), "AccessDeniedException", ""},
		{"delete an alias", del("ghost", "live"), "InvalidParameterValueException", "Deletion of aliases is not currently supported."},
		{"delete $LATEST", del("ghost", "$LATEST"), "InvalidParameterValueException", "$LATEST version cannot be deleted without deleting the function."},
		{"delete a version of a missing function", del("ghost", "3"), "ResourceNotFoundException", "Function not found: " + arn + "ghost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { apiErr(t, tt.err, tt.code, tt.want) })
	}
}

// TestLambdaErrors_OtherAccount checks the wire answer to an ARN of
// another account against Lambda's recorded one: 403, the type in
// x-amzn-ErrorType, and a body whose message is null.
func TestLambdaErrors_OtherAccount(t *testing.T) {
	n := startNode(t, nil)
	n.create("mine", nil)
	for _, tt := range []struct{ method, path, body string }{
		{http.MethodPost, "/2015-03-31/functions", `{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:theirs","Runtime":"provided.al2023","Handler":"bootstrap","Role":"arn:aws:iam::000000000000:role/x","Code":{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}`},
		{http.MethodGet, "/2015-03-31/functions/123456789012:function:mine", ""},
		{http.MethodPost, "/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:mine/invocations", "{}"},
	} {
		req, err := http.NewRequest(tt.method, n.url+tt.path, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("x-amzn-ErrorType") != "AccessDeniedException" || strings.TrimSpace(string(body)) != `{"Message":null}` {
			t.Errorf("%s %s: got %d %q %s, want 403 AccessDeniedException {\"Message\":null}", tt.method, tt.path, resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), body)
		}
	}
	// Nothing was created, and the node's own function is untouched.
	list, err := n.lambda.ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Functions) != 1 || aws.ToString(list.Functions[0].FunctionName) != "mine" {
		t.Errorf("got %d functions, want only 'mine'", len(list.Functions))
	}
}
