package states

import (
	"errors"
	"strings"
	"testing"
)

func decodeObject(t testing.TB, s string) map[string]any {
	t.Helper()
	v, err := Decode([]byte(s))
	if err != nil {
		t.Fatalf("Decode(%s): %v", s, err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("Decode(%s) = %T, want an object", s, v)
	}
	return obj
}

func decodeValue(t testing.TB, s string) any {
	t.Helper()
	v, err := Decode([]byte(s))
	if err != nil {
		t.Fatalf("Decode(%s): %v", s, err)
	}
	return v
}

func mustParseRule(t testing.TB, rule string, top bool) *ChoiceRule {
	t.Helper()
	r, err := ParseChoiceRule(decodeObject(t, rule), top)
	if err != nil {
		t.Fatalf("ParseChoiceRule(%s): %v", rule, err)
	}
	return r
}

// TestChoiceRule_DocExample runs the Choice state example of the AWS
// developer guide ("Choice workflow state").
func TestChoiceRule_DocExample(t *testing.T) {
	choices := []string{
		`{"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"}`,
		`{"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"}`,
		`{"And": [
			{"Variable": "$.value", "NumericGreaterThanEquals": 20},
			{"Variable": "$.value", "NumericLessThan": 30}
		], "Next": "ValueInTwenties"}`,
	}
	var rules []*ChoiceRule
	for _, c := range choices {
		rules = append(rules, mustParseRule(t, c, true))
	}
	tests := []struct {
		input string
		want  string
	}{
		{`{"type": "Private", "value": 22}`, "ValueInTwenties"},
		{`{"type": "Public", "value": 22}`, "Public"},
		{`{"type": "Private", "value": 0}`, "ValueIsZero"},
		{`{"type": "Private", "value": 0.0}`, "ValueIsZero"},
		{`{"type": "Private", "value": 30}`, "DefaultState"},
		{`{"type": "Private", "value": 19.999}`, "DefaultState"},
		{`{"type": "Private", "value": 20}`, "ValueInTwenties"},
		{`{"type": "Private", "value": "22"}`, "DefaultState"},
	}
	for _, tt := range tests {
		input := decodeValue(t, tt.input)
		got := "DefaultState"
		for _, r := range rules {
			ok, err := r.Match(input, nil)
			if err != nil {
				t.Fatalf("input %s: Match: %v", tt.input, err)
			}
			if ok {
				got = r.Next()
				break
			}
		}
		if got != tt.want {
			t.Errorf("input %s: got %s, want %s", tt.input, got, tt.want)
		}
	}
}

func TestChoiceRule_Match(t *testing.T) {
	tests := []struct {
		name  string
		rule  string
		input string
		want  bool
	}{
		// String comparisons, including the guide's examples.
		{"StringEquals", `{"Variable": "$.foo", "StringEquals": "MyString"}`, `{"foo": "MyString"}`, true},
		{"StringEquals differs", `{"Variable": "$.foo", "StringEquals": "MyString"}`, `{"foo": "mystring"}`, false},
		{"StringEquals whitespace", `{"Variable": "$.foo", "StringEquals": " "}`, `{"foo": "     "}`, false},
		{"StringEquals empty", `{"Variable": "$.foo", "StringEquals": ""}`, `{"foo": ""}`, true},
		{"StringEquals number", `{"Variable": "$.foo", "StringEquals": "1"}`, `{"foo": 1}`, false},
		{"StringEquals null", `{"Variable": "$.foo", "StringEquals": "null"}`, `{"foo": null}`, false},
		{"StringEquals bool", `{"Variable": "$.foo", "StringEquals": "true"}`, `{"foo": true}`, false},
		{"StringEquals array", `{"Variable": "$.foo", "StringEquals": ""}`, `{"foo": [""]}`, false},
		{"StringEquals timestamp", `{"Variable": "$.foo", "StringEquals": "2016-08-18T17:33:00Z"}`, `{"foo": "2016-08-18T17:33:00Z"}`, true},
		{"StringGreaterThan", `{"Variable": "$.foo", "StringGreaterThan": "MyStringABC"}`, `{"foo": "MyStringABD"}`, true},
		{"StringGreaterThan equal", `{"Variable": "$.foo", "StringGreaterThan": "MyStringABC"}`, `{"foo": "MyStringABC"}`, false},
		{"StringGreaterThan prefix", `{"Variable": "$.foo", "StringGreaterThan": "AB"}`, `{"foo": "ABC"}`, true},
		{"StringGreaterThan case", `{"Variable": "$.foo", "StringGreaterThan": "a"}`, `{"foo": "B"}`, false},
		{"StringGreaterThanEquals equal", `{"Variable": "$.foo", "StringGreaterThanEquals": "A"}`, `{"foo": "A"}`, true},
		{"StringGreaterThanEquals less", `{"Variable": "$.foo", "StringGreaterThanEquals": "AB"}`, `{"foo": "A"}`, false},
		{"StringLessThan", `{"Variable": "$.foo", "StringLessThan": "AB"}`, `{"foo": "A"}`, true},
		{"StringLessThan empty", `{"Variable": "$.foo", "StringLessThan": ""}`, `{"foo": ""}`, false},
		{"StringLessThan number", `{"Variable": "$.foo", "StringLessThan": "9"}`, `{"foo": 1}`, false},
		{"StringLessThanEquals equal", `{"Variable": "$.foo", "StringLessThanEquals": "AB"}`, `{"foo": "AB"}`, true},
		{"StringLessThanEquals greater", `{"Variable": "$.foo", "StringLessThanEquals": "A"}`, `{"foo": "AB"}`, false},
		// Java compareTo orders by UTF-16 code units: U+FF61 sorts after
		// U+1F600, whose high surrogate is 0xD83D.
		{"String UTF-16 order", `{"Variable": "$.foo", "StringLessThan": "\uff61"}`, `{"foo": "\ud83d\ude00"}`, true},
		{"String UTF-16 order reversed", `{"Variable": "$.foo", "StringGreaterThan": "\uff61"}`, `{"foo": "\ud83d\ude00"}`, false},
		{"String BMP order", `{"Variable": "$.foo", "StringLessThan": "é"}`, `{"foo": "z"}`, true},
		{"String astral order", `{"Variable": "$.foo", "StringLessThan": "\ud83d\ude01"}`, `{"foo": "\ud83d\ude00"}`, true},
		{"String no normalization", `{"Variable": "$.foo", "StringEquals": "é"}`, `{"foo": "e\u0301"}`, false},
		{"StringEqualsPath", `{"Variable": "$.a", "StringEqualsPath": "$.b"}`, `{"a": "Hello", "b": "Hello"}`, true},
		{"StringEqualsPath differs", `{"Variable": "$.a", "StringEqualsPath": "$.b"}`, `{"a": "\t\n", "b": "\t\r\n"}`, false},
		{"StringEqualsPath operand number", `{"Variable": "$.a", "StringEqualsPath": "$.b"}`, `{"a": "1", "b": 1}`, false},
		{"StringGreaterThanPath", `{"Variable": "$.a", "StringGreaterThanPath": "$.b"}`, `{"a": "B", "b": "A"}`, true},
		{"StringGreaterThanEqualsPath", `{"Variable": "$.a", "StringGreaterThanEqualsPath": "$.b"}`, `{"a": "A", "b": "AB"}`, false},
		{"StringLessThanPath", `{"Variable": "$.a", "StringLessThanPath": "$.b"}`, `{"a": "A", "b": "AB"}`, true},
		{"StringLessThanEqualsPath", `{"Variable": "$.a", "StringLessThanEqualsPath": "$.b"}`, `{"a": "", "b": ""}`, true},

		// StringMatches: '*' only, with \* and \\ escapes.
		{"StringMatches doc", `{"Variable": "$.foo", "StringMatches": "log-*.txt"}`, `{"foo": "log-2024-01.txt"}`, true},
		{"StringMatches doc no", `{"Variable": "$.foo", "StringMatches": "log-*.txt"}`, `{"foo": "log-2024-01.txt.gz"}`, false},
		{"StringMatches spec 1", `{"Variable": "$.foo", "StringMatches": "foo*.log"}`, `{"foo": "foo23.log"}`, true},
		{"StringMatches spec 2", `{"Variable": "$.foo", "StringMatches": "*.log"}`, `{"foo": "zebra.log"}`, true},
		{"StringMatches spec 3", `{"Variable": "$.foo", "StringMatches": "foo*.*"}`, `{"foo": "foobar.zebra"}`, true},
		{"StringMatches empty star", `{"Variable": "$.foo", "StringMatches": "foo*"}`, `{"foo": "foo"}`, true},
		{"StringMatches only star", `{"Variable": "$.foo", "StringMatches": "*"}`, `{"foo": ""}`, true},
		{"StringMatches stars", `{"Variable": "$.foo", "StringMatches": "**a**"}`, `{"foo": "bab"}`, true},
		{"StringMatches overlap", `{"Variable": "$.foo", "StringMatches": "ab*ba"}`, `{"foo": "aba"}`, false},
		{"StringMatches middle order", `{"Variable": "$.foo", "StringMatches": "*b*a*"}`, `{"foo": "ab"}`, false},
		{"StringMatches no wildcard", `{"Variable": "$.foo", "StringMatches": "abc"}`, `{"foo": "abc"}`, true},
		{"StringMatches no wildcard prefix", `{"Variable": "$.foo", "StringMatches": "abc"}`, `{"foo": "abcd"}`, false},
		{"StringMatches other chars plain", `{"Variable": "$.foo", "StringMatches": "a?c.[x]"}`, `{"foo": "a?c.[x]"}`, true},
		{"StringMatches question literal", `{"Variable": "$.foo", "StringMatches": "a?c"}`, `{"foo": "abc"}`, false},
		{"StringMatches escaped star", `{"Variable": "$.foo", "StringMatches": "a\\*c"}`, `{"foo": "a*c"}`, true},
		{"StringMatches escaped star literal", `{"Variable": "$.foo", "StringMatches": "a\\*c"}`, `{"foo": "abc"}`, false},
		{"StringMatches escaped backslash", `{"Variable": "$.foo", "StringMatches": "a\\\\*"}`, `{"foo": "a\\bc"}`, true},
		{"StringMatches escaped backslash needs it", `{"Variable": "$.foo", "StringMatches": "a\\\\*"}`, `{"foo": "abc"}`, false},
		{"StringMatches escaped other", `{"Variable": "$.foo", "StringMatches": "\\a*"}`, `{"foo": "abc"}`, true},
		{"StringMatches unicode", `{"Variable": "$.foo", "StringMatches": "日*語"}`, `{"foo": "日本語"}`, true},
		{"StringMatches number", `{"Variable": "$.foo", "StringMatches": "*"}`, `{"foo": 1}`, false},

		// Numeric comparisons: exact decimal values.
		{"NumericEquals", `{"Variable": "$.foo", "NumericEquals": 1}`, `{"foo": 1}`, true},
		{"NumericEquals float form", `{"Variable": "$.foo", "NumericEquals": 1}`, `{"foo": 1.0}`, true},
		{"NumericEquals exponent", `{"Variable": "$.foo", "NumericEquals": 100}`, `{"foo": 1E2}`, true},
		{"NumericEquals negative exponent", `{"Variable": "$.foo", "NumericEquals": 0.0125}`, `{"foo": 125e-4}`, true},
		{"NumericEquals zero", `{"Variable": "$.foo", "NumericEquals": 0}`, `{"foo": -0.0}`, true},
		{"NumericEquals string", `{"Variable": "$.foo", "NumericEquals": 1}`, `{"foo": "1"}`, false},
		{"NumericEquals bool", `{"Variable": "$.foo", "NumericEquals": 1}`, `{"foo": true}`, false},
		{"NumericEquals null", `{"Variable": "$.foo", "NumericEquals": 0}`, `{"foo": null}`, false},
		{"NumericEquals 2^53+1", `{"Variable": "$.foo", "NumericEquals": 9007199254740992}`, `{"foo": 9007199254740993}`, false},
		{"NumericGreaterThan 2^53+1", `{"Variable": "$.foo", "NumericGreaterThan": 9007199254740992}`, `{"foo": 9007199254740993}`, true},
		{"NumericEquals big", `{"Variable": "$.foo", "NumericEquals": 123456789012345678901234567890}`, `{"foo": 1.2345678901234567890123456789e29}`, true},
		{"NumericLessThan tiny", `{"Variable": "$.foo", "NumericLessThan": 0.30000000000000004}`, `{"foo": 0.3}`, true},
		{"NumericEquals 0.1", `{"Variable": "$.foo", "NumericEquals": 0.1}`, `{"foo": 0.10000000000000001}`, false},
		{"NumericGreaterThan huge exponent", `{"Variable": "$.foo", "NumericGreaterThan": 1e308}`, `{"foo": 1e400}`, true},
		{"NumericLessThan huge exponent", `{"Variable": "$.foo", "NumericLessThan": 1e99999999999999999999}`, `{"foo": 1e999999999999999999}`, true},
		{"NumericGreaterThan vast exponent", `{"Variable": "$.foo", "NumericGreaterThan": 1e99999999999999999999}`, `{"foo": 1e100000000000000000000}`, true},
		{"NumericLessThan vast negative exponent", `{"Variable": "$.foo", "NumericLessThan": 1e-99999999999999999999}`, `{"foo": 1e-100000000000000000000}`, true},
		{"NumericGreaterThan", `{"Variable": "$.foo", "NumericGreaterThan": 1}`, `{"foo": 1.1}`, true},
		{"NumericGreaterThan equal", `{"Variable": "$.foo", "NumericGreaterThan": 1}`, `{"foo": 1}`, false},
		{"NumericGreaterThan negative", `{"Variable": "$.foo", "NumericGreaterThan": -2}`, `{"foo": -1.5}`, true},
		{"NumericGreaterThan negatives", `{"Variable": "$.foo", "NumericGreaterThan": -1.5}`, `{"foo": -2}`, false},
		{"NumericGreaterThanEquals", `{"Variable": "$.foo", "NumericGreaterThanEquals": 20}`, `{"foo": 20}`, true},
		{"NumericGreaterThanEquals less", `{"Variable": "$.foo", "NumericGreaterThanEquals": 20}`, `{"foo": 19.99}`, false},
		{"NumericLessThan", `{"Variable": "$.foo", "NumericLessThan": 30}`, `{"foo": 29.999}`, true},
		{"NumericLessThan zero", `{"Variable": "$.foo", "NumericLessThan": 0}`, `{"foo": -0.0001}`, true},
		{"NumericLessThanEquals", `{"Variable": "$.foo", "NumericLessThanEquals": 30}`, `{"foo": 30.0}`, true},
		{"NumericLessThanEquals greater", `{"Variable": "$.foo", "NumericLessThanEquals": 30}`, `{"foo": 30.0001}`, false},
		{"NumericEqualsPath", `{"Variable": "$.a", "NumericEqualsPath": "$.b"}`, `{"a": 8, "b": 8.0}`, true},
		{"NumericEqualsPath operand string", `{"Variable": "$.a", "NumericEqualsPath": "$.b"}`, `{"a": 8, "b": "8"}`, false},
		{"NumericEqualsPath operand object", `{"Variable": "$.a", "NumericEqualsPath": "$.b"}`, `{"a": 8, "b": {"value": 8}}`, false},
		{"NumericGreaterThanPath", `{"Variable": "$.rating", "NumericGreaterThanPath": "$.auditThreshold"}`, `{"rating": 53, "auditThreshold": 50}`, true},
		{"NumericGreaterThanEqualsPath", `{"Variable": "$.a", "NumericGreaterThanEqualsPath": "$.b"}`, `{"a": 7, "b": 8}`, false},
		{"NumericLessThanPath", `{"Variable": "$.a", "NumericLessThanPath": "$.b"}`, `{"a": 9007199254740992, "b": 9007199254740993}`, true},
		{"NumericLessThanEqualsPath nested", `{"Variable": "$.p.low", "NumericLessThanEqualsPath": "$.p.high"}`, `{"p": {"low": -2.25, "high": -2.25}}`, true},

		// BooleanEquals.
		{"BooleanEquals true", `{"Variable": "$.foo", "BooleanEquals": true}`, `{"foo": true}`, true},
		{"BooleanEquals false", `{"Variable": "$.foo", "BooleanEquals": false}`, `{"foo": false}`, true},
		{"BooleanEquals mismatch", `{"Variable": "$.foo", "BooleanEquals": true}`, `{"foo": false}`, false},
		{"BooleanEquals string", `{"Variable": "$.foo", "BooleanEquals": true}`, `{"foo": "true"}`, false},
		{"BooleanEquals false vs null", `{"Variable": "$.foo", "BooleanEquals": false}`, `{"foo": null}`, false},
		{"BooleanEquals false vs zero", `{"Variable": "$.foo", "BooleanEquals": false}`, `{"foo": 0}`, false},
		{"BooleanEqualsPath", `{"Variable": "$.a", "BooleanEqualsPath": "$.b"}`, `{"a": false, "b": false}`, true},
		{"BooleanEqualsPath mismatch", `{"Variable": "$.a", "BooleanEqualsPath": "$.b"}`, `{"a": true, "b": false}`, false},
		{"BooleanEqualsPath operand string", `{"Variable": "$.a", "BooleanEqualsPath": "$.b"}`, `{"a": true, "b": "true"}`, false},

		// Timestamps: RFC 3339 instants.
		{"TimestampEquals doc", `{"Variable": "$.foo", "TimestampEquals": "2001-01-01T12:00:00Z"}`, `{"foo": "2001-01-01T12:00:00Z"}`, true},
		{"TimestampEquals offset", `{"Variable": "$.foo", "TimestampEquals": "2001-01-01T12:00:00Z"}`, `{"foo": "2001-01-01T13:00:00+01:00"}`, true},
		{"TimestampEquals negative offset", `{"Variable": "$.foo", "TimestampEquals": "2001-01-01T12:00:00Z"}`, `{"foo": "2001-01-01T06:30:00-05:30"}`, true},
		{"TimestampEquals date change", `{"Variable": "$.foo", "TimestampEquals": "2001-01-01T00:30:00Z"}`, `{"foo": "2000-12-31T23:30:00-01:00"}`, true},
		{"TimestampEquals fraction", `{"Variable": "$.foo", "TimestampEquals": "2001-01-01T12:00:00Z"}`, `{"foo": "2001-01-01T12:00:00.000Z"}`, true},
		{"TimestampEquals fraction differs", `{"Variable": "$.foo", "TimestampEquals": "2001-01-01T12:00:00Z"}`, `{"foo": "2001-01-01T12:00:00.000000001Z"}`, false},
		{"TimestampEquals no offset", `{"Variable": "$.foo", "TimestampEquals": "2012-10-09T19:00:55Z"}`, `{"foo": "2012-10-09T19:00:55"}`, false},
		{"TimestampEquals lowercase t", `{"Variable": "$.foo", "TimestampEquals": "2012-10-09T19:00:55Z"}`, `{"foo": "2012-10-09t19:00:55Z"}`, false},
		{"TimestampEquals lowercase z", `{"Variable": "$.foo", "TimestampEquals": "2012-10-09T19:00:55Z"}`, `{"foo": "2012-10-09T19:00:55z"}`, false},
		{"TimestampEquals space", `{"Variable": "$.foo", "TimestampEquals": "2012-10-09T19:00:55Z"}`, `{"foo": "2012-10-09 19:00:55Z"}`, false},
		{"TimestampEquals number", `{"Variable": "$.foo", "TimestampEquals": "2012-10-09T19:00:55Z"}`, `{"foo": 1349809255}`, false},
		{"TimestampGreaterThan", `{"Variable": "$.foo", "TimestampGreaterThan": "2012-10-09T19:00:55Z"}`, `{"foo": "2012-10-09T19:00:56Z"}`, true},
		{"TimestampGreaterThan fraction", `{"Variable": "$.foo", "TimestampGreaterThan": "2012-10-09T19:00:55Z"}`, `{"foo": "2012-10-09T19:00:55.1Z"}`, true},
		{"TimestampGreaterThan offset", `{"Variable": "$.foo", "TimestampGreaterThan": "2012-10-09T19:00:55Z"}`, `{"foo": "2012-10-09T20:00:55+02:00"}`, false},
		{"TimestampGreaterThanEquals", `{"Variable": "$.foo", "TimestampGreaterThanEquals": "2012-10-09T19:00:55Z"}`, `{"foo": "2012-10-09T19:00:55Z"}`, true},
		{"TimestampLessThan", `{"Variable": "$.foo", "TimestampLessThan": "2012-10-09T19:00:56Z"}`, `{"foo": "2012-10-09T19:00:55.999999999Z"}`, true},
		{"TimestampLessThan invalid", `{"Variable": "$.foo", "TimestampLessThan": "2012-10-09T19:00:56Z"}`, `{"foo": "2023-02-24 12:15:56.832957"}`, false},
		{"TimestampLessThanEquals", `{"Variable": "$.foo", "TimestampLessThanEquals": "2012-10-09T19:00:55Z"}`, `{"foo": "2012-10-09T19:00:56Z"}`, false},
		{"TimestampEqualsPath", `{"Variable": "$.a", "TimestampEqualsPath": "$.b"}`, `{"a": "2012-10-09T19:00:55Z", "b": "2012-10-09T19:00:55.0+00:00"}`, true},
		{"TimestampEqualsPath operand invalid", `{"Variable": "$.a", "TimestampEqualsPath": "$.b"}`, `{"a": "2012-10-09T19:00:55Z", "b": "2012-10-09"}`, false},
		{"TimestampGreaterThanPath", `{"Variable": "$.a", "TimestampGreaterThanPath": "$.b"}`, `{"a": "2012-10-09T19:00:55Z", "b": "2012-10-09T19:00:56Z"}`, false},
		{"TimestampGreaterThanEqualsPath", `{"Variable": "$.a", "TimestampGreaterThanEqualsPath": "$.b"}`, `{"a": "2012-10-09T19:00:56Z", "b": "2012-10-09T19:00:55Z"}`, true},
		{"TimestampLessThanPath", `{"Variable": "$.a", "TimestampLessThanPath": "$.b"}`, `{"a": "2012-10-09T19:00:55Z", "b": "2012-10-09T19:00:56Z"}`, true},
		{"TimestampLessThanEqualsPath", `{"Variable": "$.a", "TimestampLessThanEqualsPath": "$.b"}`, `{"a": "2012-10-09T19:00:56Z", "b": "2012-10-09T19:00:55Z"}`, false},

		// Type tests.
		{"IsNull", `{"Variable": "$.foo", "IsNull": true}`, `{"foo": null}`, true},
		{"IsNull false", `{"Variable": "$.foo", "IsNull": false}`, `{"foo": null}`, false},
		{"IsNull zero", `{"Variable": "$.foo", "IsNull": true}`, `{"foo": 0}`, false},
		{"IsNull not", `{"Variable": "$.foo", "IsNull": false}`, `{"foo": {}}`, true},
		{"IsBoolean", `{"Variable": "$.foo", "IsBoolean": true}`, `{"foo": false}`, true},
		{"IsBoolean string", `{"Variable": "$.foo", "IsBoolean": true}`, `{"foo": "true"}`, false},
		{"IsBoolean false null", `{"Variable": "$.foo", "IsBoolean": false}`, `{"foo": null}`, true},
		{"IsNumeric", `{"Variable": "$.foo", "IsNumeric": true}`, `{"foo": 1.1}`, true},
		{"IsNumeric zero", `{"Variable": "$.foo", "IsNumeric": true}`, `{"foo": 0}`, true},
		{"IsNumeric string", `{"Variable": "$.foo", "IsNumeric": true}`, `{"foo": "1"}`, false},
		{"IsNumeric false array", `{"Variable": "$.foo", "IsNumeric": false}`, `{"foo": []}`, true},
		{"IsString", `{"Variable": "$.foo", "IsString": true}`, `{"foo": ""}`, true},
		{"IsString timestamp", `{"Variable": "$.foo", "IsString": true}`, `{"foo": "2012-10-09T19:00:55Z"}`, true},
		{"IsString null", `{"Variable": "$.foo", "IsString": true}`, `{"foo": null}`, false},
		{"IsString false object", `{"Variable": "$.foo", "IsString": false}`, `{"foo": {"A": 0}}`, true},
		{"IsTimestamp Z", `{"Variable": "$.foo", "IsTimestamp": true}`, `{"foo": "2012-10-09T19:00:55Z"}`, true},
		{"IsTimestamp offset", `{"Variable": "$.foo", "IsTimestamp": true}`, `{"foo": "2012-10-09T19:00:55+01:00"}`, true},
		{"IsTimestamp fraction", `{"Variable": "$.foo", "IsTimestamp": true}`, `{"foo": "2012-10-09T19:00:55.123456Z"}`, true},
		{"IsTimestamp no offset", `{"Variable": "$.foo", "IsTimestamp": true}`, `{"foo": "2012-10-09T19:00:55"}`, false},
		{"IsTimestamp date", `{"Variable": "$.foo", "IsTimestamp": true}`, `{"foo": "2023-02-24"}`, false},
		{"IsTimestamp false date", `{"Variable": "$.foo", "IsTimestamp": false}`, `{"foo": "2023-02-24"}`, true},
		{"IsTimestamp number", `{"Variable": "$.foo", "IsTimestamp": true}`, `{"foo": 0}`, false},
		{"IsPresent", `{"Variable": "$.foo", "IsPresent": true}`, `{"foo": null}`, true},
		{"IsPresent false", `{"Variable": "$.foo", "IsPresent": false}`, `{"foo": null}`, false},
		{"IsPresent missing", `{"Variable": "$.foo", "IsPresent": true}`, `{"bar": 1}`, false},
		{"IsPresent false missing", `{"Variable": "$.foo", "IsPresent": false}`, `{"bar": 1}`, true},
		{"IsPresent missing deep", `{"Variable": "$.foo.bar.baz", "IsPresent": true}`, `{"foo": 1}`, false},
		{"IsPresent root", `{"Variable": "$", "IsPresent": true}`, `{}`, true},

		// Boolean expressions.
		{"And true", `{"And": [{"Variable": "$.a", "IsPresent": true}, {"Variable": "$.a", "StringEquals": "x"}]}`, `{"a": "x"}`, true},
		{"And guards a missing variable", `{"And": [
			{"Variable": "$.keyThatMightNotExist", "IsPresent": true},
			{"Variable": "$.keyThatMightNotExist", "StringEquals": "foo"}
		]}`, `{}`, false},
		{"And false", `{"And": [{"Variable": "$.a", "NumericGreaterThan": 1}, {"Variable": "$.a", "NumericLessThan": 2}]}`, `{"a": 2}`, false},
		{"And one", `{"And": [{"Variable": "$.a", "BooleanEquals": true}]}`, `{"a": true}`, true},
		{"Or first", `{"Or": [{"Variable": "$.a", "IsPresent": false}, {"Variable": "$.a", "StringEquals": "y"}]}`, `{}`, true},
		{"Or second", `{"Or": [{"Variable": "$.a", "StringEquals": "x"}, {"Variable": "$.a", "StringEquals": "y"}]}`, `{"a": "y"}`, true},
		{"Or none", `{"Or": [{"Variable": "$.a", "StringEquals": "x"}, {"Variable": "$.a", "StringEquals": "y"}]}`, `{"a": "z"}`, false},
		{"Not", `{"Not": {"Variable": "$.type", "StringEquals": "Private"}}`, `{"type": "Public"}`, true},
		{"Not false", `{"Not": {"Variable": "$.type", "StringEquals": "Private"}}`, `{"type": "Private"}`, false},
		{"Not type mismatch", `{"Not": {"Variable": "$.type", "StringEquals": "Private"}}`, `{"type": 1}`, true},
		{"Not Not", `{"Not": {"Not": {"Variable": "$.a", "IsNull": true}}}`, `{"a": null}`, true},
		{"Not IsPresent", `{"Not": {"Variable": "$.a", "IsPresent": true}}`, `{}`, true},
		{"nested", `{"Or": [
			{"And": [{"Variable": "$.n", "NumericGreaterThanEquals": 20}, {"Not": {"Variable": "$.n", "NumericGreaterThanEquals": 30}}]},
			{"And": [{"Variable": "$.s", "IsString": true}, {"Variable": "$.s", "StringMatches": "ok*"}]}
		]}`, `{"n": 35, "s": "okay"}`, true},
		{"nested false", `{"Or": [
			{"And": [{"Variable": "$.n", "NumericGreaterThanEquals": 20}, {"Not": {"Variable": "$.n", "NumericGreaterThanEquals": 30}}]},
			{"And": [{"Variable": "$.s", "IsString": true}, {"Variable": "$.s", "StringMatches": "ok*"}]}
		]}`, `{"n": 35, "s": 5}`, false},
		{"Comment", `{"Variable": "$.a", "IsNull": true, "Comment": "anything"}`, `{"a": null}`, true},

		// Paths into arrays and objects.
		{"array index", `{"Variable": "$.items[1].id", "NumericEquals": 2}`, `{"items": [{"id": 1}, {"id": 2}]}`, true},
		{"object value", `{"Variable": "$.o", "IsString": false}`, `{"o": {"k": "v"}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParseRule(t, tt.rule, false)
			got, err := r.Match(decodeValue(t, tt.input), nil)
			if err != nil {
				t.Fatalf("Match(%s): %v", tt.input, err)
			}
			if got != tt.want {
				t.Errorf("rule %s, input %s: got %v, want %v", tt.rule, tt.input, got, tt.want)
			}
		})
	}
}

func TestChoiceRule_MatchContext(t *testing.T) {
	context := decodeValue(t, `{"Execution": {"Name": "run-1", "Input": {"mode": "fast"}}, "State": {"RetryCount": 2}}`)
	input := decodeValue(t, `{"Execution": {"Name": "not-this"}, "limit": 2}`)
	tests := []struct {
		rule string
		want bool
	}{
		{`{"Variable": "$$.Execution.Name", "StringEquals": "run-1"}`, true},
		{`{"Variable": "$.Execution.Name", "StringEquals": "run-1"}`, false},
		{`{"Variable": "$$.Execution.Input.mode", "StringMatches": "f*"}`, true},
		{`{"Variable": "$$.State.RetryCount", "NumericEqualsPath": "$.limit"}`, true},
		{`{"Variable": "$.limit", "NumericEqualsPath": "$$.State.RetryCount"}`, true},
		{`{"Variable": "$$.Missing", "IsPresent": false}`, true},
	}
	for _, tt := range tests {
		got, err := mustParseRule(t, tt.rule, false).Match(input, context)
		if err != nil {
			t.Fatalf("rule %s: Match: %v", tt.rule, err)
		}
		if got != tt.want {
			t.Errorf("rule %s: got %v, want %v", tt.rule, got, tt.want)
		}
	}
}

func TestChoiceRule_MatchErrors(t *testing.T) {
	tests := []struct {
		name  string
		rule  string
		input string
		cause string
	}{
		{"missing variable", `{"Variable": "$.x", "StringEquals": "a"}`, `{}`,
			"Invalid path '$.x': The choice state's condition path references an invalid value."},
		{"missing nested variable", `{"Variable": "$.a.b", "NumericEquals": 1}`, `{"a": 1}`,
			"Invalid path '$.a.b': The choice state's condition path references an invalid value."},
		{"missing index", `{"Variable": "$.a[3]", "BooleanEquals": true}`, `{"a": [true]}`,
			"Invalid path '$.a[3]': The choice state's condition path references an invalid value."},
		{"IsNull on missing", `{"Variable": "$.x", "IsNull": false}`, `{}`,
			"Invalid path '$.x': The choice state's condition path references an invalid value."},
		{"IsString on missing", `{"Variable": "$.x", "IsString": false}`, `{}`,
			"Invalid path '$.x': The choice state's condition path references an invalid value."},
		{"missing context variable", `{"Variable": "$$.Execution.Nope", "StringEquals": "a"}`, `{}`,
			"Invalid path '$$.Execution.Nope': The choice state's condition path references an invalid value."},
		{"missing operand path", `{"Variable": "$.left", "NumericLessThanEqualsPath": "$.right"}`, `{"left": 8}`,
			"Invalid path '$.right': The choice state's condition path references an invalid value."},
		{"variable before operand", `{"Variable": "$.left", "StringEqualsPath": "$.right"}`, `{}`,
			"Invalid path '$.left': The choice state's condition path references an invalid value."},
		{"missing in And", `{"And": [{"Variable": "$.a", "IsPresent": false}, {"Variable": "$.a", "StringEquals": "x"}]}`, `{}`,
			"Invalid path '$.a': The choice state's condition path references an invalid value."},
		{"missing in Not", `{"Not": {"Variable": "$.a", "BooleanEquals": true}}`, `{}`,
			"Invalid path '$.a': The choice state's condition path references an invalid value."},
		{"open escape", `{"Variable": "$.a", "StringMatches": "abc\\"}`, `{"a": "abc"}`,
			"The StringMatches pattern 'abc\\' ends with an open escape character '\\'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParseRule(t, tt.rule, false)
			got, err := r.Match(decodeValue(t, tt.input), map[string]any{"Execution": map[string]any{}})
			var serr *Error
			if !errors.As(err, &serr) {
				t.Fatalf("Match = %v, %v; want a States error", got, err)
			}
			if serr.Name != ErrRuntime || serr.Cause != tt.cause {
				t.Errorf("got %s / %q, want %s / %q", serr.Name, serr.Cause, ErrRuntime, tt.cause)
			}
			if got {
				t.Errorf("got true with an error")
			}
		})
	}
}

func TestChoiceRule_ShortCircuit(t *testing.T) {
	// The second operand would fail on the missing variable; And and Or
	// stop before it.
	for _, rule := range []string{
		`{"And": [{"Variable": "$.a", "IsPresent": true}, {"Variable": "$.a", "StringEquals": "x"}]}`,
		`{"Or": [{"Variable": "$.a", "IsPresent": false}, {"Variable": "$.a", "StringEquals": "x"}]}`,
	} {
		if _, err := mustParseRule(t, rule, false).Match(map[string]any{}, nil); err != nil {
			t.Errorf("rule %s: Match: %v", rule, err)
		}
	}
}

func TestChoiceRule_Next(t *testing.T) {
	r := mustParseRule(t, `{"Variable": "$.a", "IsPresent": true, "Next": "Found"}`, true)
	if got := r.Next(); got != "Found" {
		t.Errorf("Next() = %q, want %q", got, "Found")
	}
	r = mustParseRule(t, `{"And": [{"Variable": "$.a", "IsPresent": true}], "Next": "Both"}`, true)
	if got := r.Next(); got != "Both" {
		t.Errorf("Next() = %q, want %q", got, "Both")
	}
	if got := r.rules[0].Next(); got != "" {
		t.Errorf("nested Next() = %q, want empty", got)
	}
}

func TestParseChoiceRule_Errors(t *testing.T) {
	tests := []struct {
		name    string
		rule    string
		top     bool
		pointer string
		msg     string // substring of the message
	}{
		{"empty", `{}`, false, "", "must contain one of 'And', 'Or', 'Not' or a comparison operator"},
		{"only Variable", `{"Variable": "$.a"}`, false, "", "must contain one of"},
		{"only Next", `{"Next": "X"}`, true, "", "must contain one of"},
		{"unknown operator", `{"Variable": "$.a", "StringContains": "x"}`, false, "/StringContains", "Field 'StringContains' is not supported"},
		{"unknown field", `{"Variable": "$.a", "IsNull": true, "Assign": {}}`, false, "/Assign", "Field 'Assign' is not supported"},
		{"lowercase operator", `{"Variable": "$.a", "stringEquals": "x"}`, false, "/stringEquals", "Field 'stringEquals' is not supported"},
		{"two operators", `{"Variable": "$.a", "StringEquals": "x", "NumericEquals": 1}`, false, "/StringEquals", "found 'NumericEquals', 'StringEquals'"},
		{"operator and And", `{"Variable": "$.a", "StringEquals": "x", "And": [{"Variable": "$.a", "IsNull": true}]}`, false, "/StringEquals", "found 'And', 'StringEquals'"},
		{"And and Or", `{"And": [{"Variable": "$.a", "IsNull": true}], "Or": [{"Variable": "$.a", "IsNull": true}]}`, false, "/Or", "found 'And', 'Or'"},
		{"missing Variable", `{"StringEquals": "x"}`, false, "", "These fields are required: [Variable]"},
		{"Variable with And", `{"Variable": "$.a", "And": [{"Variable": "$.a", "IsNull": true}]}`, false, "/Variable", "Field 'Variable' is not supported in a rule with 'And'"},
		{"Variable not string", `{"Variable": 1, "IsNull": true}`, false, "/Variable", "The value for the field 'Variable' must be a valid JSONPath"},
		{"Variable not path", `{"Variable": "a.b", "IsNull": true}`, false, "/Variable", "The value for the field 'Variable' must be a valid JSONPath"},
		{"Variable wildcard", `{"Variable": "$.a[*]", "IsNull": true}`, false, "/Variable", "The value for the field 'Variable' must be a valid Reference Path"},
		{"Variable deep scan", `{"Variable": "$..a", "StringEquals": "x"}`, false, "/Variable", "'Variable' must be a valid Reference Path"},
		{"operand path filter", `{"Variable": "$.a", "NumericEqualsPath": "$.b[?(@.c > 1)]"}`, false, "/NumericEqualsPath", "'NumericEqualsPath' must be a valid Reference Path"},
		{"Variable empty", `{"Variable": "", "IsNull": true}`, false, "/Variable", "The value for the field 'Variable' must be a valid JSONPath"},
		{"top without Next", `{"Variable": "$.a", "IsNull": true}`, true, "", "These fields are required: [Next]"},
		{"top Next not string", `{"Variable": "$.a", "IsNull": true, "Next": 1}`, true, "/Next", "The value for the field 'Next' must be a non-empty String"},
		{"top Next empty", `{"Variable": "$.a", "IsNull": true, "Next": ""}`, true, "/Next", "The value for the field 'Next'"},
		{"nested with Next", `{"Variable": "$.a", "IsNull": true, "Next": "X"}`, false, "/Next", "Field 'Next' is not supported in a nested choice rule"},
		{"Next inside And", `{"And": [{"Variable": "$.a", "IsNull": true, "Next": "X"}], "Next": "Y"}`, true, "/And/0/Next", "Field 'Next' is not supported in a nested choice rule"},
		{"Next inside Not", `{"Not": {"Variable": "$.a", "IsNull": true, "Next": "X"}, "Next": "Y"}`, true, "/Not/Next", "Field 'Next' is not supported"},
		{"Comment not string", `{"Variable": "$.a", "IsNull": true, "Comment": 1}`, false, "/Comment", "'Comment' must be a String"},

		{"StringEquals number", `{"Variable": "$.a", "StringEquals": 1}`, false, "/StringEquals", "The value for the field 'StringEquals' must be a String"},
		{"StringLessThan null", `{"Variable": "$.a", "StringLessThan": null}`, false, "/StringLessThan", "'StringLessThan' must be a String"},
		{"StringMatches bool", `{"Variable": "$.a", "StringMatches": true}`, false, "/StringMatches", "'StringMatches' must be a String"},
		{"NumericEquals string", `{"Variable": "$.a", "NumericEquals": "1"}`, false, "/NumericEquals", "The value for the field 'NumericEquals' must be a Number"},
		{"NumericGreaterThan bool", `{"Variable": "$.a", "NumericGreaterThan": true}`, false, "/NumericGreaterThan", "'NumericGreaterThan' must be a Number"},
		{"NumericLessThan array", `{"Variable": "$.a", "NumericLessThan": [1]}`, false, "/NumericLessThan", "'NumericLessThan' must be a Number"},
		{"BooleanEquals string", `{"Variable": "$.a", "BooleanEquals": "true"}`, false, "/BooleanEquals", "The value for the field 'BooleanEquals' must be a Boolean"},
		{"IsNull string", `{"Variable": "$.a", "IsNull": "true"}`, false, "/IsNull", "'IsNull' must be a Boolean"},
		{"IsPresent number", `{"Variable": "$.a", "IsPresent": 1}`, false, "/IsPresent", "'IsPresent' must be a Boolean"},
		{"IsTimestamp null", `{"Variable": "$.a", "IsTimestamp": null}`, false, "/IsTimestamp", "'IsTimestamp' must be a Boolean"},
		{"TimestampEquals number", `{"Variable": "$.a", "TimestampEquals": 1}`, false, "/TimestampEquals", "'TimestampEquals' must be a valid RFC 3339 timestamp"},
		{"TimestampEquals no offset", `{"Variable": "$.a", "TimestampEquals": "2016-08-18T17:33:00"}`, false, "/TimestampEquals", "must be a valid RFC 3339 timestamp"},
		{"TimestampEquals date only", `{"Variable": "$.a", "TimestampEquals": "2016-08-18"}`, false, "/TimestampEquals", "must be a valid RFC 3339 timestamp"},
		{"TimestampLessThan lowercase t", `{"Variable": "$.a", "TimestampLessThan": "2016-08-18t17:33:00Z"}`, false, "/TimestampLessThan", "must be a valid RFC 3339 timestamp"},
		{"TimestampLessThan space", `{"Variable": "$.a", "TimestampLessThan": "2016-08-18 17:33:00Z"}`, false, "/TimestampLessThan", "must be a valid RFC 3339 timestamp"},
		{"TimestampGreaterThan bad day", `{"Variable": "$.a", "TimestampGreaterThan": "2016-02-30T17:33:00Z"}`, false, "/TimestampGreaterThan", "must be a valid RFC 3339 timestamp"},
		{"TimestampGreaterThan hour 24", `{"Variable": "$.a", "TimestampGreaterThan": "2016-02-01T24:00:00Z"}`, false, "/TimestampGreaterThan", "must be a valid RFC 3339 timestamp"},
		{"TimestampGreaterThanEquals bad offset", `{"Variable": "$.a", "TimestampGreaterThanEquals": "2016-08-18T17:33:00+0100"}`, false, "/TimestampGreaterThanEquals", "must be a valid RFC 3339 timestamp"},
		{"TimestampLessThanEquals empty", `{"Variable": "$.a", "TimestampLessThanEquals": ""}`, false, "/TimestampLessThanEquals", "must be a valid RFC 3339 timestamp"},

		{"StringEqualsPath not path", `{"Variable": "$.a", "StringEqualsPath": "b"}`, false, "/StringEqualsPath", "The value for the field 'StringEqualsPath' must be a valid JSONPath"},
		{"NumericEqualsPath number", `{"Variable": "$.a", "NumericEqualsPath": 1}`, false, "/NumericEqualsPath", "'NumericEqualsPath' must be a valid JSONPath"},
		{"BooleanEqualsPath bool", `{"Variable": "$.a", "BooleanEqualsPath": true}`, false, "/BooleanEqualsPath", "'BooleanEqualsPath' must be a valid JSONPath"},
		{"TimestampEqualsPath timestamp", `{"Variable": "$.a", "TimestampEqualsPath": "2016-08-18T17:33:00Z"}`, false, "/TimestampEqualsPath", "'TimestampEqualsPath' must be a valid JSONPath"},
		{"StringMatchesPath", `{"Variable": "$.a", "StringMatchesPath": "$.b"}`, false, "/StringMatchesPath", "Field 'StringMatchesPath' is not supported"},
		{"IsNullPath", `{"Variable": "$.a", "IsNullPath": "$.b"}`, false, "/IsNullPath", "Field 'IsNullPath' is not supported"},

		{"And empty", `{"And": []}`, false, "/And", "The value for the field 'And' must be a non-empty array of choice rules"},
		{"Or empty", `{"Or": []}`, false, "/Or", "The value for the field 'Or' must be a non-empty array"},
		{"And object", `{"And": {"Variable": "$.a", "IsNull": true}}`, false, "/And", "'And' must be a non-empty array"},
		{"Or null", `{"Or": null}`, false, "/Or", "'Or' must be a non-empty array"},
		{"And element not object", `{"And": [{"Variable": "$.a", "IsNull": true}, 1]}`, false, "/And/1", "elements of the field 'And' must be choice rule objects"},
		{"Not array", `{"Not": [{"Variable": "$.a", "IsNull": true}]}`, false, "/Not", "The value for the field 'Not' must be a choice rule object"},
		{"Not string", `{"Not": "x"}`, false, "/Not", "'Not' must be a choice rule object"},
		{"Not empty", `{"Not": {}}`, false, "/Not", "must contain one of"},
		{"deep error", `{"Or": [{"Variable": "$.a", "IsNull": true}, {"And": [{"Not": {"Variable": "$.b", "NumericEquals": "x"}}]}]}`, false,
			"/Or/1/And/0/Not/NumericEquals", "'NumericEquals' must be a Number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseChoiceRule(decodeObject(t, tt.rule), tt.top)
			if err == nil {
				t.Fatalf("ParseChoiceRule(%s) = %+v, want an error", tt.rule, r)
			}
			if r != nil {
				t.Errorf("ParseChoiceRule(%s) returned a rule with its error", tt.rule)
			}
			var rerr *ChoiceRuleError
			if !errors.As(err, &rerr) {
				t.Fatalf("error %T %v, want *ChoiceRuleError", err, err)
			}
			if rerr.Pointer != tt.pointer {
				t.Errorf("Pointer = %q, want %q", rerr.Pointer, tt.pointer)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q, want it to contain %q", err, tt.msg)
			}
		})
	}
}

func TestParseChoiceTimestamp(t *testing.T) {
	valid := []string{
		"2016-03-14T01:59:00Z",
		"2016-03-14T01:59:00.1Z",
		"2016-03-14T01:59:00.123456789Z",
		"2016-03-14T01:59:00+01:00",
		"2016-03-14T01:59:00-00:00",
		"2016-03-14T01:59:00.5-23:59",
		"2016-02-29T23:59:59Z",
		"0001-01-01T00:00:00Z",
		"9999-12-31T23:59:59.999999999+14:00",
	}
	invalid := []string{
		"",
		"2016-03-14",
		"2016-03-14T01:59:00",
		"2016-03-14T01:59Z",
		"2016-03-14t01:59:00Z",
		"2016-03-14T01:59:00z",
		"2016-03-14 01:59:00Z",
		"2016-03-14T01:59:00.Z",
		"2016-03-14T01:59:00,5Z",
		"2016-03-14T01:59:00.1234567891Z",
		"2016-03-14T01:59:00+0100",
		"2016-03-14T01:59:00+01",
		"2016-03-14T01:59:00+24:00",
		"2016-03-14T01:59:00+01:60",
		"2016-03-14T01:59:00Z ",
		" 2016-03-14T01:59:00Z",
		"2016-3-14T01:59:00Z",
		"2015-02-29T00:00:00Z",
		"2016-13-01T00:00:00Z",
		"2016-03-14T24:00:00Z",
		"2016-03-14T23:60:00Z",
		"2016-03-14T23:59:60Z",
		"+2016-03-14T01:59:00Z",
		"2016-03-14T01:59:00ZZ",
	}
	for _, s := range valid {
		if _, ok := parseChoiceTimestamp(s); !ok {
			t.Errorf("parseChoiceTimestamp(%q) failed, want a timestamp", s)
		}
	}
	for _, s := range invalid {
		if ts, ok := parseChoiceTimestamp(s); ok {
			t.Errorf("parseChoiceTimestamp(%q) = %v, want failure", s, ts)
		}
	}
}

func TestDecimal_Cmp(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"0", "-0", 0},
		{"0", "0.000e10", 0},
		{"1", "1.0", 0},
		{"1", "10e-1", 0},
		{"100", "1e2", 0},
		{"100", "1E+2", 0},
		{"0.001", "1e-3", 0},
		{"-5", "3", -1},
		{"3", "-5", 1},
		{"-5", "-3", -1},
		{"-0.5", "0", -1},
		{"9007199254740993", "9007199254740992", 1},
		{"9007199254740993", "9007199254740993.0", 0},
		{"123456789012345678901234567890", "123456789012345678901234567891", -1},
		{"0.1", "0.10000000000000001", -1},
		{"12", "123", -1},
		{"13", "123", -1},
		{"0.13", "0.123", 1},
		{"1e400", "1e399", 1},
		{"1e-400", "0", 1},
		{"-1e-400", "0", -1},
		{"1e100000000000000000000", "1e99999999999999999999", 1},
		{"1e100000000000000000000", "10e99999999999999999999", 0},
		{"-1e100000000000000000000", "-1e99999999999999999999", -1},
		{"1e-100000000000000000000", "1e7", -1},
		{"00012", "12", 0},
	}
	for _, tt := range tests {
		a, ok := parseDecimal(tt.a)
		if !ok {
			t.Fatalf("parseDecimal(%q) failed", tt.a)
		}
		b, ok := parseDecimal(tt.b)
		if !ok {
			t.Fatalf("parseDecimal(%q) failed", tt.b)
		}
		if got := a.cmp(b); got != tt.want {
			t.Errorf("cmp(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := b.cmp(a); got != -tt.want {
			t.Errorf("cmp(%s, %s) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
	for _, s := range []string{"", "-", ".", "1.", ".5", "1e", "1e+", "--1", "1x", "0x10", "+1", "NaN", "Infinity", "1.2.3"} {
		if d, ok := parseDecimal(s); ok {
			t.Errorf("parseDecimal(%q) = %+v, want failure", s, d)
		}
	}
}

func TestToDecimal_NonJSONNumbers(t *testing.T) {
	// Values built by Go code rather than Decode still compare.
	r := mustParseRule(t, `{"Variable": "$", "NumericEquals": 0.5}`, false)
	for _, v := range []any{0.5, float64(0.5)} {
		if ok, err := r.Match(v, nil); err != nil || !ok {
			t.Errorf("Match(%v) = %v, %v; want true", v, ok, err)
		}
	}
	r = mustParseRule(t, `{"Variable": "$", "NumericEquals": 3}`, false)
	for _, v := range []any{3, int64(3), 3.0} {
		if ok, err := r.Match(v, nil); err != nil || !ok {
			t.Errorf("Match(%v) = %v, %v; want true", v, ok, err)
		}
	}
}

func TestCompareUTF16(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "a", -1},
		{"a", "b", -1},
		{"ab", "a", 1},
		{"Z", "a", -1},
		{"\uffff", "\U00010000", 1},
		{"\ue000", "\U0010ffff", 1},
		{"\ud7ff", "\U00010000", -1},
		{"\U00010000", "\U00010001", -1},
		{"\U0001f600", "\U0001f600x", -1},
	}
	for _, tt := range tests {
		if got := compareUTF16(tt.a, tt.b); got != tt.want {
			t.Errorf("compareUTF16(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func FuzzParseChoiceRule(f *testing.F) {
	seeds := []string{
		`{"Variable": "$.foo", "NumericEquals": 1, "Next": "A"}`,
		`{"Variable": "$.foo", "StringMatches": "a*b\\*c\\\\d\\", "Next": "A"}`,
		`{"Variable": "$$.Execution.Name", "TimestampEquals": "2001-01-01T12:00:00.5+01:00"}`,
		`{"Variable": "$.a", "TimestampLessThanEqualsPath": "$.b"}`,
		`{"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"}`,
		`{"And": [{"Variable": "$.v", "IsPresent": true}, {"Or": [{"Variable": "$.v", "NumericGreaterThan": 1e400}]}]}`,
		`{"Variable": "$.foo", "NumericLessThan": -1.5e-99999999999999999999}`,
		`{"And": [], "Or": {}, "Not": 1}`,
		`{"Variable": 5, "BooleanEquals": "x"}`,
		`{}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), []byte(`{"foo": 1, "a": "2001-01-01T12:00:00Z", "b": [1, {"c": null}], "v": 2, "type": "x"}`))
	}
	f.Fuzz(func(t *testing.T, rule, input []byte) {
		v, err := Decode(rule)
		if err != nil {
			return
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		in, err := Decode(input)
		if err != nil {
			in = nil
		}
		for _, top := range []bool{false, true} {
			r, err := ParseChoiceRule(obj, top)
			if err != nil {
				if r != nil {
					t.Fatalf("rule and error both returned")
				}
				var rerr *ChoiceRuleError
				if !errors.As(err, &rerr) {
					t.Fatalf("error %T, want *ChoiceRuleError", err)
				}
				continue
			}
			if top && r.Next() == "" {
				t.Fatalf("top-level rule without Next")
			}
			if _, err := r.Match(in, in); err != nil {
				var serr *Error
				if !errors.As(err, &serr) || serr.Name != ErrRuntime {
					t.Fatalf("Match error %v, want States.Runtime", err)
				}
			}
		}
	})
}
