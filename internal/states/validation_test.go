package states

import (
	"strings"
	"testing"
)

// Definition errors with the wording and location AWS returns for them.
func TestParse_AWSMessages(t *testing.T) {
	cases := []struct{ name, def, want string }{
		{"empty definition", ``, "SCHEMA_VALIDATION_FAILED: Definition must be a valid JSON object"},
		{"empty object", `{}`, "SCHEMA_VALIDATION_FAILED: These fields are required: [States, StartAt] at /"},
		{"no StartAt", `{"States":{"A":{"Type":"Succeed"}}}`, "SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt] at /"},
		{"bad type", `{"StartAt":"A","States":{"A":{"Type":"Nope"}}}`, "SCHEMA_VALIDATION_FAILED: The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map] at /States/A/Type"},
		{"unknown field at the state", `{"StartAt":"A","States":{"A":{"Type":"Pass","Bogus":1,"End":true}}}`, "SCHEMA_VALIDATION_FAILED: Field 'Bogus' is not supported at /States/A"},
		{"JSONata field in a JSONPath state", `{"StartAt":"A","States":{"A":{"Type":"Pass","Output":{},"End":true}}}`, "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage at /States/A"},
		{"JSONPath field in a JSONata state", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Map","MaxConcurrencyPath":"$.n","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Succeed"}}},"End":true}}}`, "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONata', but field 'MaxConcurrencyPath' is only supported for the 'JSONPath' QueryLanguage at /States/A"},
		{"JSONPath state in a JSONata machine", `{"QueryLanguage":"JSONata","StartAt":"Pass","States":{"Pass":{"Type":"Pass","QueryLanguage":"JSONPath","End":true}}}`, "SCHEMA_VALIDATION_FAILED: 'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine at /States/Pass"},
		{"QueryLanguage on an ItemProcessor", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Succeed"}}},"End":true}}}`, "SCHEMA_VALIDATION_FAILED: Field 'QueryLanguage' is not supported at /States/M/ItemProcessor"},
		{"bad timestamp", `{"StartAt":"WaitUntil","States":{"WaitUntil":{"Type":"Wait","Timestamp":"2016-12-05T21:29:29","End":true}}}`, "SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at /States/WaitUntil/Timestamp"},
		{"empty branches", `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[],"End":true}}}`, "SCHEMA_VALIDATION_FAILED: Value cannot be empty at /States/P/Branches"},
		{"credentials without a role", `{"StartAt":"State0","States":{"State0":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Credentials":{},"End":true}}}`, "SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is required but was missing at /States/State0/Credentials"},
		{"duplicate names across branches", `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"Add","States":{"Add":{"Type":"Succeed"}}},{"StartAt":"Add","States":{"Add":{"Type":"Succeed"}}}],"End":true}}}`, "DUPLICATE_STATE_NAME: Duplicate State name: Add at /States/P/Branches/1/States/Add"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.def))
			if err == nil {
				t.Fatal("parsed without error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestExpressProblems(t *testing.T) {
	m := mustParse(t, `{"StartAt":"Publish","States":{
		"Publish":{"Type":"Task","Resource":"arn:aws:states:::sns:publish.waitForTaskToken","Next":"StartExecution"},
		"StartExecution":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","Next":"ActivityTask"},
		"ActivityTask":{"Type":"Task","Resource":"arn:aws:states:us-east-1:111111111111:activity:a","End":true}}}`)
	got := strings.Join(ExpressProblems(m), "\n")
	for _, want := range []string{
		"Express state machine does not support '.waitForTaskToken' service integration  at /States/Publish/Resource",
		"Express state machine does not support '.sync' service integration at /States/StartExecution/Resource",
		"Express state machine does not support Activity ARN at /States/ActivityTask/Resource",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}

// JSONata expressions are checked when the definition is: AWS's codes,
// the parser's message as jsonata-js words it, and the field's pointer.
func TestParse_JSONataExpressions(t *testing.T) {
	cases := []struct{ expr, want string }{
		{`a[1,2)`, `INVALID_JSONATA_EXPRESSION: Expected "]", got "," at /States/E/Output`},
		{`"unterminated`, `INVALID_JSONATA_EXPRESSION: String literal must be terminated by a matching quote at /States/E/Output`},
		{`1 +`, `INVALID_JSONATA_EXPRESSION: Unexpected end of expression at /States/E/Output`},
		{`{"a":}`, `INVALID_JSONATA_EXPRESSION: The symbol "}" cannot be used as a unary operator at /States/E/Output`},
		{`$x :=`, `INVALID_JSONATA_EXPRESSION: Unexpected end of expression at /States/E/Output`},
		{`$match("a", /abc`, `INVALID_JSONATA_EXPRESSION: No terminating / in regular expression at /States/E/Output`},
		{`phone`, `UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'phone' at the top level is not supported. at /States/E/Output`},
		{`$count(items) + other`, `UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'items' at the top level is not supported. at /States/E/Output`},
	}
	for _, tc := range cases {
		def := `{"QueryLanguage":"JSONata","StartAt":"E","States":{"E":{"Type":"Pass","Output":` + Encode("{% "+tc.expr+" %}") + `,"End":true}}}`
		_, err := Parse([]byte(def))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %s", tc.expr, err, tc.want)
		}
	}
	// Nested fields are located below the field; reads of $states,
	// variables, and names inside predicates and later path steps are fine.
	def := `{"QueryLanguage":"JSONata","StartAt":"E","States":{"E":{"Type":"Pass","Output":{"v":"{% phone %}","ok":"{% $states.input.orders[price > 1].name & $x.y %}"},"End":true}}}`
	if _, err := Parse([]byte(def)); err == nil || !strings.Contains(err.Error(), "Reference to 'phone' at the top level is not supported. at /States/E/Output/v") || strings.Contains(err.Error(), "price") {
		t.Errorf("nested: %v", err)
	}
}
