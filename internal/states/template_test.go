package states

import (
	"errors"
	"testing"
)

const templateContext = `{
  "Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:stateMachineName:executionName", "Input": {"key": "value"}, "Name": "executionName", "StartTime": "2019-03-26T20:14:13.192Z"},
  "State": {"EnteredTime": "2019-03-26T20:14:13.192Z", "Name": "Test", "RetryCount": 3},
  "StateMachine": {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:stateMachineName", "Name": "name"},
  "Map": {"Item": {"Index": 1, "Value": {"who": "bob"}}}
}`

func TestEvalTemplate(t *testing.T) {
	for _, tt := range []struct {
		name, tmpl, input, want string
	}{
		{"docs Parameters example",
			`{"comment": "Selecting what I care about.", "MyDetails": {"size.$": "$.product.details.size", "exists.$": "$.product.availability", "StaticValue": "foo"}}`,
			`{"comment": "Example for Parameters.", "product": {"details": {"color": "blue", "size": "small", "material": "cotton"}, "availability": "in stock", "sku": "2317", "cost": "$23"}}`,
			`{"comment": "Selecting what I care about.", "MyDetails": {"size": "small", "exists": "in stock", "StaticValue": "foo"}}`},
		{"docs ResultSelector example",
			`{"ClusterId.$": "$.output.ClusterId", "ResourceType.$": "$.resourceType"}`,
			`{"resourceType": "elasticmapreduce", "resource": "createCluster.sync", "output": {"SdkHttpMetadata": {"HttpStatusCode": 200}, "SdkResponseMetadata": {"RequestId": "1234-5678-9012"}, "ClusterId": "AKIAIOSFODNN7EXAMPLE"}}`,
			`{"ResourceType": "elasticmapreduce", "ClusterId": "AKIAIOSFODNN7EXAMPLE"}`},
		{"docs context object example",
			`{"Execution.$": "$$.Execution.Id", "startTime.$": "$$.Execution.StartTime", "execName.$": "$$.Execution.Name"}`,
			`{}`,
			`{"Execution": "arn:aws:states:us-east-1:123456789012:execution:stateMachineName:executionName", "startTime": "2019-03-26T20:14:13.192Z", "execName": "executionName"}`},
		{"docs Map context example",
			`{"ContextIndex.$": "$$.Map.Item.Index", "ContextValue.$": "$$.Map.Item.Value"}`,
			`{}`,
			`{"ContextIndex": 1, "ContextValue": {"who": "bob"}}`},
		{"docs intrinsic example",
			`{"foo.$": "States.Array('Foo', 2022, $.someJson, null)"}`,
			`{"someJson": {"random": "abcdefg"}, "zebra": "stripe"}`,
			`{"foo": ["Foo", 2022, {"random": "abcdefg"}, null]}`},
		{"whole input and context",
			`{"in.$": "$", "ctx.$": "$$.State"}`,
			`[1, 2]`,
			`{"in": [1, 2], "ctx": {"EnteredTime": "2019-03-26T20:14:13.192Z", "Name": "Test", "RetryCount": 3}}`},
		{"fields inside arrays",
			`{"list": [{"a.$": "$.x"}, "$.x", 3, [{"b.$": "States.Format('{}!', $.x)"}]], "n": null}`,
			`{"x": "hi"}`,
			`{"list": [{"a": "hi"}, "$.x", 3, [{"b": "hi!"}]], "n": null}`},
		{"single index and indefinite paths (recorded on AWS)",
			`{"first.$": "$.items[0]", "all.$": "$.items[*].v", "none.$": "$.nothing[*]", "sel.$": "$.items[?(@.v > 1)]"}`,
			`{"items": [{"v": 1}, {"v": 2}]}`,
			`{"first": {"v": 1}, "all": [1, 2], "none": [], "sel": [{"v": 2}]}`},
		{"dynamic field wins over static twin",
			`{"a": "static", "a.$": "$.x"}`,
			`{"x": 1}`,
			`{"a": 1}`},
		{"scalar template", `"just a string"`, `{}`, `"just a string"`},
		{"Result-like keys are only renamed at .$",
			`{"x.$.y": "$.a", "z$": "$.a"}`,
			`{}`,
			`{"x.$.y": "$.a", "z$": "$.a"}`},
	} {
		tmpl := jpDecode(t, tt.tmpl)
		before := Encode(tmpl)
		input := jpDecode(t, tt.input)
		got, err := EvalTemplate(tmpl, input, jpDecode(t, templateContext), seqEnv())
		if err != nil {
			t.Errorf("%s: EvalTemplate: %v", tt.name, err)
			continue
		}
		if Encode(got) != Encode(jpDecode(t, tt.want)) {
			t.Errorf("%s: EvalTemplate = %s, want %s", tt.name, Encode(got), Encode(jpDecode(t, tt.want)))
		}
		if Encode(tmpl) != before {
			t.Errorf("%s: EvalTemplate modified the template", tt.name)
		}
	}
}

func TestEvalTemplate_Errors(t *testing.T) {
	for _, tt := range []struct {
		name, tmpl, input, cause string
	}{
		// Recorded on AWS.
		{"missing path",
			`{"address.$": "$.application.address"}`, `{"flagged": false}`,
			`The JSONPath '$.application.address' specified for the field 'address.$' could not be found in the input '{"flagged":false}'`},
		{"missing path in a nested object",
			`{"outer": {"missing.$": "$.nope.deep"}}`, `{"other": 1}`,
			`The JSONPath '$.nope.deep' specified for the field 'missing.$' could not be found in the input '{"other":1}'`},
		{"missing context path",
			`{"value.$": "$$.Execution.Input.no_such_jsonpath"}`, `{}`,
			`The JSONPath '$$.Execution.Input.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '` + Encode(jpDecode(t, templateContext)) + `'`},
		{"null input", `{"Input.$": "$"}`, `null`, "Unable to apply Path transformation to null or empty input."},
		{"intrinsic failure",
			`{"sum.$": "States.MathAdd($.a, 1)"}`, `{"a": "x"}`,
			"There was an error while evaluating the intrinsic function: States.MathAdd($.a, 1). Invalid arguments in States.MathAdd"},
		{"not a string", `{"x.$": 1}`, `{}`, "The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic function call"},
		{"bad path", `{"x.$": "$.a["}`, `{}`, "The value for the field 'x.$' must be a valid JSONPath or a valid intrinsic function call"},
	} {
		_, err := EvalTemplate(jpDecode(t, tt.tmpl), jpDecode(t, tt.input), jpDecode(t, templateContext), nil)
		var e *Error
		if !errors.As(err, &e) || e.Name != ErrRuntime || e.Cause != tt.cause {
			t.Errorf("%s: got %v,\nwant States.Runtime: %s", tt.name, err, tt.cause)
		}
	}
}

func TestCheckTemplate(t *testing.T) {
	for _, tt := range []struct {
		tmpl string
		err  string
	}{
		{`{"a": 1, "b.$": "$.x", "c.$": "$$.Map.Item.Value", "d.$": "States.UUID()", "e": [{"f.$": "$..g"}]}`, ""},
		{`{"a": {"b": [1, "$.x", {"c": null}]}}`, ""},
		{`"x"`, ""},
		{`{"b.$": 1}`, "The value for the field 'b.$' must be a valid JSONPath or a valid intrinsic function call"},
		{`{"b.$": null}`, "The value for the field 'b.$' must be a valid JSONPath or a valid intrinsic function call"},
		{`{"b.$": "x"}`, "The value for the field 'b.$' must be a valid JSONPath or a valid intrinsic function call"},
		{`{"b.$": "$.a b"}`, "The value for the field 'b.$' must be a valid JSONPath or a valid intrinsic function call"},
		{`{"b.$": "States.Nope()"}`, "The value for the field 'b.$' must be a valid JSONPath or a valid intrinsic function call"},
		{`{"b.$": "States.Format('x'"}`, "The value for the field 'b.$' must be a valid JSONPath or a valid intrinsic function call"},
		{`{"a": [{"out.$": "States.ArrayRange(1, 2, 1"}]}`, "The value for the field 'out.$' must be a valid JSONPath or a valid intrinsic function call"},
	} {
		err := CheckTemplate(jpDecode(t, tt.tmpl))
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.err {
			t.Errorf("CheckTemplate(%s) = %q, want %q", tt.tmpl, got, tt.err)
		}
	}
}

func FuzzEvalTemplate(f *testing.F) {
	f.Add(`{"a.$": "$.x", "b": [{"c.$": "States.Format('{}', $.x)"}], "d.$": "$$.Map.Item.Value"}`, `{"x": 1}`)
	f.Add(`{"a.$": "$..x", "b.$": "States.ArrayRange(1, 3, 1)"}`, `{"x": [1, {"x": 2}]}`)
	ctx, _ := Decode([]byte(templateContext))
	f.Fuzz(func(t *testing.T, tmplJSON, inputJSON string) {
		tmpl, err := Decode([]byte(tmplJSON))
		if err != nil {
			return
		}
		input, err := Decode([]byte(inputJSON))
		if err != nil {
			return
		}
		if CheckTemplate(tmpl) != nil {
			return
		}
		before := Encode(tmpl) + Encode(input)
		_, err = EvalTemplate(tmpl, input, ctx, seqEnv(1, 2, 3))
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("EvalTemplate error %T, want *Error", err)
			}
		}
		if Encode(tmpl)+Encode(input) != before {
			t.Fatalf("EvalTemplate modified its arguments")
		}
	})
}
