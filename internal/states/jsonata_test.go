package states

import (
	"regexp"
	"strings"
	"testing"
)

// JSONata states and workflow variables, as the developer guide describes
// them (transforming-data.html, workflow-variables.html).

func TestJSONata_States(t *testing.T) {
	cases := []struct {
		name, def, input string
		task             taskFunc
		want             string
		wantErr          string // error name; the cause is checked by causeHas
		causeHas         string
	}{
		{
			name:  "pass output expression",
			def:   `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":{"sum":"{% $states.input.a + $states.input.b %}","lit":"plain {% text","n":[1,"{% $states.input.a %}"]},"End":true}}}`,
			input: `{"a":1,"b":2.5}`,
			want:  `{"sum":3.5,"lit":"plain {% text","n":[1,1]}`,
		},
		{
			name:  "pass without output passes its input",
			def:   `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`,
			input: `{"a":[1,null]}`,
			want:  `{"a":[1,null]}`,
		},
		{
			name: "task arguments and result",
			def: `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
				"Arguments":{"FunctionName":"f","Payload":{"n":"{% $states.input.n %}","ctx":"{% $states.context.State.Name %}"}},
				"Output":"{% $states.result.Payload.n * 10 %}","End":true}}}`,
			input: `{"n":4}`,
			task: func(c Command) (any, *Error) {
				p := c.Input.(map[string]any)["Payload"].(map[string]any)
				if p["ctx"] != "T" {
					return nil, &Error{Name: "Bad", Cause: Encode(p)}
				}
				return map[string]any{"Payload": p, "StatusCode": mustNumber("200")}, nil
			},
			want: `40`,
		},
		{
			name:  "task output defaults to the result",
			def:   `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","End":true}}}`,
			input: `{"in":1}`,
			task:  func(c Command) (any, *Error) { return map[string]any{"out": c.Input}, nil },
			want:  `{"out":{"in":1}}`,
		},
		{
			name: "assign then read in a later state",
			def: `{"QueryLanguage":"JSONata","StartAt":"A","States":{
				"A":{"Type":"Pass","Assign":{"x":1,"y":"{% $states.input.y %}","obj":{"k":"{% $states.input.y & '!' %}"}},"Next":"B"},
				"B":{"Type":"Pass","Output":{"x":"{% $x %}","y":"{% $y %}","k":"{% $obj.k %}"},"End":true}}}`,
			input: `{"y":"why"}`,
			want:  `{"x":1,"y":"why","k":"why!"}`,
		},
		{
			name: "assignments are evaluated together: swap",
			def: `{"QueryLanguage":"JSONata","StartAt":"A","States":{
				"A":{"Type":"Pass","Assign":{"x":1,"y":2},"Next":"B"},
				"B":{"Type":"Pass","Assign":{"x":"{% $y %}","y":"{% $x %}"},"Output":{"x":"{% $x %}","y":"{% $y %}"},"Next":"C"},
				"C":{"Type":"Pass","Output":{"before":"{% $states.input %}","x":"{% $x %}","y":"{% $y %}"},"End":true}}}`,
			input: `{}`,
			want:  `{"before":{"x":1,"y":2},"x":2,"y":1}`,
		},
		{
			name: "choice condition with rule output and assign",
			def: `{"QueryLanguage":"JSONata","StartAt":"C","States":{
				"C":{"Type":"Choice","Choices":[
					{"Condition":"{% $states.input.n > 10 %}","Next":"Big","Assign":{"size":"big"}},
					{"Condition":"{% $states.input.n > 5 %}","Next":"Mid","Output":{"m":"{% $states.input.n %}"}}],
					"Default":"Small","Assign":{"size":"default"}},
				"Big":{"Type":"Succeed","Output":"{% $size %}"},
				"Mid":{"Type":"Succeed"},
				"Small":{"Type":"Succeed","Output":"{% $size %}"}}}`,
			input: `{"n":7}`,
			want:  `{"m":7}`,
		},
		{
			name: "choice default takes the state's assign",
			def: `{"QueryLanguage":"JSONata","StartAt":"C","States":{
				"C":{"Type":"Choice","Choices":[{"Condition":"{% $states.input.n > 10 %}","Next":"Big"}],"Default":"Small","Assign":{"size":"default"}},
				"Big":{"Type":"Succeed"},
				"Small":{"Type":"Succeed","Output":"{% $size %}"}}}`,
			input: `{"n":1}`,
			want:  `"default"`,
		},
		{
			name: "choice condition must be boolean",
			def: `{"QueryLanguage":"JSONata","StartAt":"C","States":{
				"C":{"Type":"Choice","Choices":[{"Condition":"{% $states.input.n %}","Next":"D"}],"Default":"D"},
				"D":{"Type":"Succeed"}}}`,
			input:    `{"n":1}`,
			wantErr:  ErrQueryEvaluationError,
			causeHas: "Condition",
		},
		{
			name:     "undefined result fails",
			def:      `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":{"a":"{% $states.input.missing %}"},"End":true}}}`,
			input:    `{}`,
			wantErr:  ErrQueryEvaluationError,
			causeHas: "returned nothing (undefined)",
		},
		{
			name:     "evaluation error fails",
			def:      `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $number('x') %}","End":true}}}`,
			input:    `{}`,
			wantErr:  ErrQueryEvaluationError,
			causeHas: "An error occurred while executing the state 'P'",
		},
		{
			name: "catch output and assign see errorOutput",
			def: `{"QueryLanguage":"JSONata","StartAt":"T","States":{
				"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","Catch":[{"ErrorEquals":["States.ALL"],"Next":"H",
					"Output":{"err":"{% $states.errorOutput.Error %}","in":"{% $states.input.v %}"},"Assign":{"cause":"{% $states.errorOutput.Cause %}"}}],"End":true},
				"H":{"Type":"Pass","Output":{"got":"{% $states.input %}","cause":"{% $cause %}"},"End":true}}}`,
			input: `{"v":3}`,
			task:  func(Command) (any, *Error) { return nil, &Error{Name: "Boom", Cause: "it broke"} },
			want:  `{"got":{"err":"Boom","in":3},"cause":"it broke"}`,
		},
		{
			name: "catch without output passes the error output",
			def: `{"QueryLanguage":"JSONata","StartAt":"T","States":{
				"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","Catch":[{"ErrorEquals":["Boom"],"Next":"H"}],"End":true},
				"H":{"Type":"Succeed"}}}`,
			input: `{}`,
			task:  func(Command) (any, *Error) { return nil, &Error{Name: "Boom", Cause: "c"} },
			want:  `{"Error":"Boom","Cause":"c"}`,
		},
		{
			name: "map items, item selector and outer variables",
			def: `{"QueryLanguage":"JSONata","StartAt":"Init","States":{
				"Init":{"Type":"Pass","Assign":{"factor":3},"Next":"M"},
				"M":{"Type":"Map","Items":"{% $states.input.nums %}",
					"ItemSelector":{"v":"{% $states.context.Map.Item.Value %}","i":"{% $states.context.Map.Item.Index %}"},
					"ItemProcessor":{"StartAt":"Mul","States":{
						"Mul":{"Type":"Pass","Assign":{"factor":100},"Output":"{% $states.input.v * $factor + $states.input.i %}","Next":"Read"},
						"Read":{"Type":"Pass","Output":"{% $states.input + $factor %}","End":true}}},
					"Output":{"r":"{% $states.result %}","factor":"{% $factor %}"},"End":true}}}`,
			input: `{"nums":[1,2]}`,
			want:  `{"r":[103,107],"factor":3}`,
		},
		{
			name: "distributed map iterations cannot read outer variables",
			def: `{"QueryLanguage":"JSONata","StartAt":"Init","States":{
				"Init":{"Type":"Pass","Assign":{"factor":3},"Next":"M"},
				"M":{"Type":"Map","Items":[1],"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{
					"P":{"Type":"Pass","Output":"{% $exists($factor) %}","End":true}}},"End":true}}}`,
			input: `{}`,
			want:  `[false]`,
		},
		{
			name: "parallel arguments and branch outputs",
			def: `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Parallel","Arguments":{"n":"{% $states.input.n + 1 %}"},
				"Branches":[
					{"StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% $states.input.n * 2 %}","End":true}}},
					{"StartAt":"B","States":{"B":{"Type":"Pass","Output":"{% $states.input.n * 3 %}","End":true}}}],
				"Output":"{% $sum($states.result) %}","End":true}}}`,
			input: `{"n":1}`,
			want:  `10`,
		},
		{
			name:     "fail error and cause expressions",
			def:      `{"QueryLanguage":"JSONata","StartAt":"F","States":{"F":{"Type":"Fail","Error":"{% 'E.' & $states.input.code %}","Cause":"{% $string($states.input.n) %}"}}}`,
			input:    `{"code":"Bad","n":5}`,
			wantErr:  "E.Bad",
			causeHas: "5",
		},
		{
			name:  "wait seconds expression",
			def:   `{"QueryLanguage":"JSONata","StartAt":"W","States":{"W":{"Type":"Wait","Seconds":"{% $states.input.s %}","Output":{"waited":"{% $states.input.s %}"},"End":true}}}`,
			input: `{"s":30}`,
			want:  `{"waited":30}`,
		},
		{
			name: "step functions functions",
			def: `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":{
				"partition":"{% $partition([1,2,3,4,5], 2) %}",
				"range":"{% $range(0, 10, 5) %}",
				"hash":"{% $hash('input data', 'SHA-256') %}",
				"parse":"{% $parse('{\"a\":[1,true]}') %}",
				"seeded":"{% $random(7) = $random(7) %}",
				"uuid":"{% $length($uuid()) %}",
				"random":"{% $random() < 1 %}"},"End":true}}}`,
			input: `{}`,
			want:  `{"partition":[[1,2],[3,4],[5]],"range":[0,5,10],"hash":"b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3","parse":{"a":[1,true]},"seeded":true,"uuid":36,"random":true}`,
		},
		{
			name: "JSONata state in a JSONPath machine",
			def: `{"StartAt":"A","States":{
				"A":{"Type":"Pass","Parameters":{"v.$":"$.x"},"Assign":{"saved.$":"$.v"},"Next":"B"},
				"B":{"Type":"Pass","QueryLanguage":"JSONata","Output":{"fromVar":"{% $saved %}","input":"{% $states.input %}"},"End":true}}}`,
			input: `{"x":"X"}`,
			want:  `{"fromVar":"X","input":{"v":"X"}}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fn := tc.task
			if fn == nil {
				fn = echo
			}
			d := execute(t, tc.def, tc.input, fn)
			if tc.wantErr != "" {
				d.wantError(tc.wantErr, tc.causeHas)
				return
			}
			d.wantOutput(tc.want)
		})
	}
}

func mustNumber(s string) any {
	v, _ := Decode([]byte(s))
	return v
}

func TestVariables_JSONPath(t *testing.T) {
	d := execute(t, `{"StartAt":"Start","States":{
		"Start":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","ResultSelector":{"id.$":"$.id"},
			"Assign":{"orderId.$":"$.id","const":7,"ctx.$":"$$.State.Name","fmt.$":"States.Format('o-{}', $.id)"},"ResultPath":"$.r","Next":"Check"},
		"Check":{"Type":"Choice","Choices":[{"Variable":"$orderId","StringEquals":"A1","Next":"Use","Assign":{"branch":"A"}}],"Default":"Use"},
		"Use":{"Type":"Pass","Parameters":{"id.$":"$orderId","c.$":"$const","ctx.$":"$ctx","fmt.$":"$fmt","branch.$":"$branch","fromInput.$":"$.r.id"},"End":true}}}`,
		`{}`, func(Command) (any, *Error) { return map[string]any{"id": "A1", "other": true}, nil })
	d.wantOutput(`{"id":"A1","c":7,"ctx":"Start","fmt":"o-A1","branch":"A","fromInput":"A1"}`)
	// The history shows each assignment with its JSON-encoded value.
	var assigned map[string]any
	for _, h := range d.history {
		if h.Type == "TaskStateExited" {
			assigned, _ = h.Details["assignedVariables"].(map[string]any)
		}
	}
	if assigned["orderId"] != `"A1"` || assigned["const"] != `7` {
		t.Errorf("assignedVariables %v", assigned)
	}
}

func TestVariables_JSONPathCatchAndWait(t *testing.T) {
	d := execute(t, `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:f","Catch":[{"ErrorEquals":["States.ALL"],"Assign":{"err.$":"$.Error"},"ResultPath":null,"Next":"W"}],"End":true},
		"W":{"Type":"Wait","Seconds":1,"Assign":{"waited":true,"in.$":"$.k"},"Next":"P"},
		"P":{"Type":"Pass","Parameters":{"err.$":"$err","waited.$":"$waited","in.$":"$in"},"End":true}}}`,
		`{"k":"v"}`, func(Command) (any, *Error) { return nil, &Error{Name: "Oops", Cause: "c"} })
	d.wantOutput(`{"err":"Oops","waited":true,"in":"v"}`)
}

func TestVariables_UndefinedVariableFails(t *testing.T) {
	d := execute(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"$nope"},"End":true}}}`, `{}`, echo)
	d.wantError(ErrRuntime, "$nope")
}

func TestJSONata_Definitions(t *testing.T) {
	bad := map[string]string{
		"jsonpath field in jsonata state": `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.x","End":true}}}`,
		"parameters in jsonata":           `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{},"End":true}}}`,
		"arguments in jsonpath":           `{"StartAt":"P","States":{"P":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Arguments":{},"End":true}}}`,
		"jsonpath state in jsonata":       `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","QueryLanguage":"JSONPath","End":true}}}`,
		"bad expression":                  `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $foo( %}","End":true}}}`,
		"bad variable name":               `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Assign":{"1x":1},"End":true}}}`,
		"reserved variable name":          `{"StartAt":"P","States":{"P":{"Type":"Pass","Assign":{"states":1},"End":true}}}`,
		"condition not an expression":     `{"QueryLanguage":"JSONata","StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Condition":"true","Next":"D"}]},"D":{"Type":"Succeed"}}}`,
		"result path to a variable":       `{"StartAt":"P","States":{"P":{"Type":"Pass","ResultPath":"$v","End":true}}}`,
		"assign on succeed":               `{"StartAt":"P","States":{"P":{"Type":"Succeed","Assign":{"a":1}}}}`,
		"seconds not integer":             `{"QueryLanguage":"JSONata","StartAt":"W","States":{"W":{"Type":"Wait","Seconds":"ten","End":true}}}`,
	}
	for name, def := range bad {
		if _, err := Parse([]byte(def)); err == nil {
			t.Errorf("%s: parsed without error", name)
		} else if !regexp.MustCompile(`^Invalid State Machine Definition: '`).MatchString(err.Error()) {
			t.Errorf("%s: %v", name, err)
		}
	}
	good := `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":[1,2],"MaxConcurrency":"{% 1 + 1 %}",
		"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"Next":"W"},
		"W":{"Type":"Wait","Timestamp":"{% '2026-01-01T00:00:00Z' %}","Next":"T"},
		"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","TimeoutSeconds":"{% 5 %}","Arguments":{"FunctionName":"f"},"End":true}}}`
	if _, err := Parse([]byte(good)); err != nil {
		t.Fatalf("good definition: %v", err)
	}
}

func TestJSONata_ReplayIsDeterministic(t *testing.T) {
	def := `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":{"u":"{% $uuid() %}","r":"{% $random() %}","now":"{% $now() %}"},"End":true}}}`
	a := execute(t, def, `{}`, echo)
	b := execute(t, def, `{}`, echo)
	if Encode(a.x.Output) != Encode(b.x.Output) {
		t.Fatalf("replays differ: %s vs %s", Encode(a.x.Output), Encode(b.x.Output))
	}
	if !strings.Contains(Encode(a.x.Output), "2026-01-02T03:04:05.000Z") {
		t.Errorf("$now() is not the execution's clock: %s", Encode(a.x.Output))
	}
}

// FuzzJSONataState runs a JSONata Pass state whose Output is a fuzzed
// expression: parsing and evaluating must never panic, and a failure must
// be a States.QueryEvaluationError.
func FuzzJSONataState(f *testing.F) {
	for _, s := range []string{`$states.input.a`, `$sum($states.input.n)`, `$partition([1,2,3],2)`, `{"a": $x}`, `$string($random())`, `$map([1,2], function($v){$v*2})`, `$hash("a","MD5")`, `$parse("[")`} {
		f.Add(s, `{"a":1,"n":[1,2]}`)
	}
	f.Fuzz(func(t *testing.T, expr, input string) {
		in, err := Decode([]byte(input))
		if err != nil {
			return
		}
		def := `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Assign":{"x":1},"Output":` + Encode("{%"+expr+"%}") + `,"End":true}}}`
		m, err := Parse([]byte(def))
		if err != nil {
			return
		}
		x, _ := m.Start(Info{ExecutionID: "id"}, in, t0, Env{})
		if x.Status == Failed && x.Err.Name != ErrQueryEvaluationError {
			t.Fatalf("%q failed with %v", expr, x.Err)
		}
	})
}

// Evaluation errors carry the code and jsonata-js's wording, as AWS shows
// them after "threw an error during evaluation.".
func TestJSONata_ErrorWording(t *testing.T) {
	for expr, want := range map[string]string{
		`$abs('x')`:    `T0410: Argument 1 of function "abs" does not match function signature`,
		`$sum(['a'])`:  `T0412: Argument 1 of function "sum" must be an array of "numbers"`,
		`$nofn(1)`:     `T1006: Attempted to invoke a non-function`,
		`'a' + 1`:      `T2001: The left side of the "+" operator must evaluate to a number`,
		`1 + 'a'`:      `T2002: The right side of the "+" operator must evaluate to a number`,
		`$number('x')`: `D3030: Unable to cast value to a number: "x"`,
	} {
		def := `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":` + Encode("{% "+expr+" %}") + `,"End":true}}}`
		d := execute(t, def, `{}`, echo)
		d.wantError(ErrQueryEvaluationError, "The JSONata expression '"+expr+"' specified for the field 'Output' threw an error during evaluation. "+want)
	}
}

func TestJSONata_ConstantConditionAndNullErrorOutput(t *testing.T) {
	d := execute(t, `{"StartAt":"C","States":{"C":{"Type":"Choice","QueryLanguage":"JSONata","Choices":[{"Condition":true,"Next":"T"}],"Default":"F"},
		"T":{"Type":"Pass","End":true},"F":{"Type":"Fail"}}}`, `{}`, echo)
	d.wantOutput(`{}`)
	// A task failure without error or cause (SendTaskFailure with neither)
	// reaches the catcher as nulls.
	d = execute(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"P"}],"End":true},"P":{"Type":"Pass","End":true}}}`,
		`{}`, func(Command) (any, *Error) { return nil, &Error{} })
	d.wantOutput(`{"err":{"Error":null,"Cause":null}}`)
}
