package states

import (
	"errors"
	"strings"
	"testing"
)

// jpDecode decodes JSON for a test.
func jpDecode(t testing.TB, s string) any {
	t.Helper()
	v, err := Decode([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// storeDoc is the example document of Jayway JsonPath's README.
const storeDoc = `{
  "store": {
    "book": [
      {"category": "reference", "author": "Nigel Rees", "title": "Sayings of the Century", "price": 8.95},
      {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword of Honour", "price": 12.99},
      {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553-21311-3", "price": 8.99},
      {"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord of the Rings", "isbn": "0-395-19395-8", "price": 22.99}
    ],
    "bicycle": {"color": "red", "price": 19.95}
  },
  "expensive": 10
}`

func TestParsePath(t *testing.T) {
	for _, tt := range []struct {
		in      string
		ok      bool
		context bool
		ref     bool
	}{
		{"$", true, false, true},
		{"$$", true, true, true},
		{"$.a.b", true, false, true},
		{"$$.Execution.Input", true, true, true},
		{"$['a b']", true, false, true},
		{`$["x"]`, true, false, true},
		{`$['it\'s']`, true, false, true},
		{"$.a[0]", true, false, true},
		{"$.a[-1]", true, false, true},
		{"$[0][1]", true, false, true},
		{"$.delivery-partner.name", true, false, true},
		{"$.a[1:3]", true, false, false},
		{"$.a[:2]", true, false, false},
		{"$.a[-1:]", true, false, false},
		{"$.a[ 0 , 2 ]", true, false, false},
		{"$['a','b']", true, false, false},
		{"$.*", true, false, false},
		{"$[*]", true, false, false},
		{"$..name", true, false, false},
		{"$..*", true, false, false},
		{"$..[0]", true, false, false},
		{"$.a[?(@.price < 10)]", true, false, false},
		{"$.a[?(@.isbn)]", true, false, false},
		{"$.a[?(@.x == 'y' && (@.z >= 1 || !@.w))]", true, false, false},
		{`$.a[?(@.x == "y")]`, true, false, false},
		{"$.a[?(@.x != null)]", true, false, false},
		{"$.[?(@.year <= 1998)]", true, false, false},
		{"", false, false, false},
		{"a.b", false, false, false},
		{"$.", false, false, false},
		{"$.a.", false, false, false},
		{"$..", false, false, false},
		{"$[", false, false, false},
		{"$[]", false, false, false},
		{"$['a'", false, false, false},
		{"$['a]", false, false, false},
		{"$.a[1:2:3]", false, false, false},
		{"$.a[x]", false, false, false},
		{"$.a b", false, false, false},
		{"$.list.length()", false, false, false},
		{"$.a[?(@.x ==)]", false, false, false},
		{"$.a[?@.x]", false, false, false},
		{"$.a[?(@.x]", false, false, false},
		{"$ .a", false, false, false},
	} {
		p, err := ParsePath(tt.in)
		if got := err == nil; got != tt.ok {
			t.Errorf("ParsePath(%q) error = %v, want ok %v", tt.in, err, tt.ok)
			continue
		}
		if err != nil {
			continue
		}
		if got := p.String(); got != tt.in {
			t.Errorf("ParsePath(%q).String() = %q, want the input", tt.in, got)
		}
		if got := p.Context(); got != tt.context {
			t.Errorf("ParsePath(%q).Context() = %v, want %v", tt.in, got, tt.context)
		}
		if got := p.Definite(); got != tt.ref {
			t.Errorf("ParsePath(%q).Definite() = %v, want %v", tt.in, got, tt.ref)
		}
	}
}

func TestPath_Get(t *testing.T) {
	const refDoc = `{"foo": 123, "bar": ["a", "b", "c"], "car": {"cdr": true}}`
	for _, tt := range []struct {
		doc, path string
		want      string // JSON; "" means not found
	}{
		// The reference path examples of the AWS docs ("Paths").
		{refDoc, "$.foo", `123`},
		{refDoc, "$.bar", `["a","b","c"]`},
		{refDoc, "$.car.cdr", `true`},
		// "InputPath, Parameters and ResultSelector": a path can yield a selection.
		{`{"a": [1, 2, 3, 4]}`, "$.a[0:2]", `[1,2]`},
		{`{"comment":"x","dataset1":{"val1":1},"dataset2":{"val1":"a","val2":"b","val3":"c"}}`, "$.dataset2", `{"val1":"a","val2":"b","val3":"c"}`},
		// Jayway's README examples.
		{storeDoc, "$.store.book[*].author", `["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]`},
		{storeDoc, "$..author", `["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]`},
		{storeDoc, "$.store..price", `[19.95,8.95,12.99,8.99,22.99]`},
		{storeDoc, "$..book[2].title", `["Moby Dick"]`},
		{storeDoc, "$..book[-2].title", `["Moby Dick"]`},
		{storeDoc, "$..book[0,1].title", `["Sayings of the Century","Sword of Honour"]`},
		{storeDoc, "$..book[:2].title", `["Sayings of the Century","Sword of Honour"]`},
		{storeDoc, "$..book[1:2].title", `["Sword of Honour"]`},
		{storeDoc, "$..book[-2:].title", `["Moby Dick","The Lord of the Rings"]`},
		{storeDoc, "$..book[2:].title", `["Moby Dick","The Lord of the Rings"]`},
		{storeDoc, "$..book[?(@.isbn)].title", `["Moby Dick","The Lord of the Rings"]`},
		{storeDoc, "$.store.book[?(@.price < 10)].title", `["Sayings of the Century","Moby Dick"]`},
		{storeDoc, "$..book[?(@.price <= $['expensive'])].title", `["Sayings of the Century","Moby Dick"]`},
		{storeDoc, "$..book[?(@.author == 'Nigel Rees')].price", `[8.95]`},
		{storeDoc, "$..book[?(@.category != 'fiction')].title", `["Sayings of the Century"]`},
		{storeDoc, "$..book[?(@.price > 10 && @.price < 20)].title", `["Sword of Honour"]`},
		{storeDoc, "$..book[?(@.price < 9 || @.price > 20)].title", `["Sayings of the Century","Moby Dick","The Lord of the Rings"]`},
		{storeDoc, "$..book[?(!@.isbn)].title", `["Sayings of the Century","Sword of Honour"]`},
		{storeDoc, "$..book[?(@.price >= 12.99)].title", `["Sword of Honour","The Lord of the Rings"]`},
		{storeDoc, "$..book[?(@.title > 'S')].title", `["Sayings of the Century","Sword of Honour","The Lord of the Rings"]`},
		{storeDoc, "$.store.book[0]['author','title']", `{"author":"Nigel Rees","title":"Sayings of the Century"}`},
		{storeDoc, "$.store.bicycle['color','nope']", `{"color":"red"}`},
		{storeDoc, "$.store.book[0,1]['title']", `["Sayings of the Century","Sword of Honour"]`},
		{storeDoc, "$.store.*.color", `["red"]`},
		{storeDoc, "$.store.bicycle.*", `["red",19.95]`},
		{storeDoc, "$..[?(@.price > 19)].price", `[19.95,22.99]`},
		{storeDoc, "$.store.book.length()x", ``},
		// AWS's Parameters results recorded against real executions
		// (LocalStack snapshot tests): a single index is a single value, and
		// an indefinite path over missing data is an empty list.
		{`{"items":[{"item_key":0},{"item_key":1}]}`, "$.items[0]", `{"item_key":0}`},
		{`{"items":[{"item_key":0},{"item_key":1}]}`, "$.items[1]", `{"item_key":1}`},
		{`{}`, "$[*]", `[]`},
		{`{}`, "$.items[*]", `[]`},
		{`{}`, "$.items[1:]", `[]`},
		{`{}`, "$.items[:1]", `[]`},
		{`{}`, "$.item.items[*]", `[]`},
		{`{}`, "$.item.items[1:5]", `[]`},
		{`{}`, "$.items[*].itemValue", `[]`},
		{`{"users":[{"year":1997,"status":0},{"year":1998,"status":1}]}`, "$.users[?(@.status == 0)]", `[{"status":0,"year":1997}]`},
		// Definite paths that select nothing.
		{`{}`, "$.missing", ``},
		{`{"a":{}}`, "$.a.b.c", ``},
		{`{"a":"s"}`, "$.a.b", ``},
		{`{"a":[1]}`, "$.a[1]", ``},
		{`{"a":[1]}`, "$.a[-2]", ``},
		{`{"a":{"b":1}}`, "$.a[0]", ``},
		{`{"a":null}`, "$.a", `null`},
		{`[1,2,3]`, "$[-1]", `3`},
		{`[1,2,3]`, "$", `[1,2,3]`},
		{`"x"`, "$", `"x"`},
		// Filters on an object test the object itself, as Jayway does.
		{`{"o":{"x":1}}`, "$.o[?(@.x == 1)]", `[{"x":1}]`},
		{`{"o":{"x":1}}`, "$.o[?(@.x == 2)]", `[]`},
		// Jayway compares a number and a numeric string as numbers.
		{`{"a":[{"v":1},{"v":"1"},{"v":1.0},{"v":true}]}`, "$.a[?(@.v == 1)]", `[{"v":1},{"v":"1"},{"v":1.0}]`},
		{`{"a":[{"v":null},{"v":0}]}`, "$.a[?(@.v == null)]", `[{"v":null}]`},
		{`{"a":[{"v":"b"},{"v":"a"},{"v":2}]}`, "$.a[?(@.v < 'b')]", `[{"v":"a"}]`},
		{`{"a":[{"v":[1,2]},{"v":[1]}]}`, "$.a[?(@.v == $.w)]", `[]`},
		{`{"a":[{"n":{"m":1}},{"n":{}}]}`, "$.a[?(@.n.m)]", `[{"n":{"m":1}}]`},
		{`{"a":[{"v":1},{"w":1}]}`, "$.a[?(@.v != 1)]", `[{"w":1}]`},
		{`{"a":[1,5,10]}`, "$.a[?(@ > 4)]", `[5,10]`},
		{`{"a b":{"c":1}}`, "$['a b'].c", `1`},
		{`{"x":[[1,2],[3]]}`, "$.x[*][*]", `[1,2,3]`},
		{`{"x":[[1,2],[3]]}`, "$.x[*][0]", `[1,3]`},
	} {
		p, err := ParsePath(tt.path)
		if err != nil {
			if tt.want != "" {
				t.Errorf("ParsePath(%q): %v", tt.path, err)
			}
			continue
		}
		got, ok := p.Get(jpDecode(t, tt.doc))
		switch {
		case tt.want == "" && ok:
			t.Errorf("Get(%s) on %s = %s, want not found", tt.path, tt.doc, Encode(got))
		case tt.want != "" && !ok:
			t.Errorf("Get(%s) on %s: not found, want %s", tt.path, tt.doc, tt.want)
		case tt.want != "" && Encode(got) != Encode(jpDecode(t, tt.want)):
			t.Errorf("Get(%s) on %s = %s, want %s", tt.path, tt.doc, Encode(got), tt.want)
		}
	}
}

func TestPath_Set(t *testing.T) {
	const lambdaInput = `{"comment": "This is a test of the input and output of a Task state.", "details": "Default example", "who": "AWS Step Functions"}`
	for _, tt := range []struct {
		root, path, value string
		want              string
		errName, cause    string
	}{
		// The ResultPath examples of the AWS docs.
		{lambdaInput, "$", `"Hello, AWS Step Functions!"`, `"Hello, AWS Step Functions!"`, "", ""},
		{lambdaInput, "$.taskresult", `"Hello, AWS Step Functions!"`,
			`{"comment": "This is a test of the input and output of a Task state.", "details": "Default example", "who": "AWS Step Functions", "taskresult": "Hello, AWS Step Functions!"}`, "", ""},
		{`{"comment": "An input comment.", "strings": {"string1": "foo", "string2": "bar", "string3": "baz"}, "who": "AWS Step Functions"}`,
			"$.strings.lambdaresult", `"Hello, AWS Step Functions!"`,
			`{"comment": "An input comment.", "strings": {"string1": "foo", "string2": "bar", "string3": "baz", "lambdaresult": "Hello, AWS Step Functions!"}, "who": "AWS Step Functions"}`, "", ""},
		{lambdaInput, "$.comment", `"Hello, AWS Step Functions!"`,
			`{"comment": "Hello, AWS Step Functions!", "details": "Default example", "who": "AWS Step Functions"}`, "", ""},
		{`{"x": 1}`, "$.error", `{"Error": "Error here"}`, `{"x": 1, "error": {"Error": "Error here"}}`, "", ""},
		// Missing objects on the way are created.
		{`{}`, "$.a.b.c", `1`, `{"a":{"b":{"c":1}}}`, "", ""},
		{`{"a":{"z":0}}`, "$['a']['b']", `1`, `{"a":{"z":0,"b":1}}`, "", ""},
		{`{"a":[1,{"b":2}]}`, "$.a[1].b", `3`, `{"a":[1,{"b":3}]}`, "", ""},
		{`{"a":[1,2]}`, "$.a[-1]", `3`, `{"a":[1,3]}`, "", ""},
		{`[1,2]`, "$[0]", `9`, `[9,2]`, "", ""},
		{`null`, "$", `9`, `9`, "", ""},
		// Failures.
		{`"just a string"`, "$.partitioned", `1`, "", ErrResultPathMatchFailure, `Unable to apply ReferencePath $.partitioned to input "just a string"`},
		{`null`, "$.a", `1`, "", ErrResultPathMatchFailure, `Unable to apply ReferencePath $.a to input null`},
		{`[{"a":1}]`, "$.catalogBuilderOutput", `1`, "", "States.ReferencePathConflict", `Unable to apply step "catalogBuilderOutput" to input [{"a":1}]`},
		{`{"a":"s"}`, "$.a.b", `1`, "", "States.ReferencePathConflict", `Unable to apply step "b" to input "s"`},
		{`{"a":null}`, "$.a.b", `1`, "", "States.ReferencePathConflict", `Unable to apply step "b" to input null`},
		{`{"a":[1]}`, "$.a[3]", `1`, "", "States.ReferencePathConflict", `Unable to apply step "[3]" to input [1]`},
		{`{"a":{}}`, "$.a[0]", `1`, "", "States.ReferencePathConflict", `Unable to apply step "[0]" to input {}`},
		{`{"a":[1]}`, "$.a[*]", `1`, "", ErrResultPathMatchFailure, `Unable to apply ReferencePath $.a[*] to input {"a":[1]}`},
	} {
		p, err := ParsePath(tt.path)
		if err != nil {
			t.Fatalf("ParsePath(%q): %v", tt.path, err)
		}
		root := jpDecode(t, tt.root)
		before := Encode(root)
		got, err := p.Set(root, jpDecode(t, tt.value))
		if after := Encode(root); after != before {
			t.Errorf("Set(%s) modified its input: %s, was %s", tt.path, after, before)
		}
		if tt.errName != "" {
			var e *Error
			if !errors.As(err, &e) || e.Name != tt.errName || e.Cause != tt.cause {
				t.Errorf("Set(%s) on %s: got %v, want %s: %s", tt.path, tt.root, err, tt.errName, tt.cause)
			}
			continue
		}
		if err != nil {
			t.Errorf("Set(%s) on %s: %v", tt.path, tt.root, err)
			continue
		}
		if Encode(got) != Encode(jpDecode(t, tt.want)) {
			t.Errorf("Set(%s) on %s = %s, want %s", tt.path, tt.root, Encode(got), tt.want)
		}
	}
}

func TestApplyPath(t *testing.T) {
	for _, tt := range []struct {
		field, path, input string
		want               string
		errName, cause     string
	}{
		{"InputPath", "$.dataset2", `{"dataset2":{"val1":"a"}}`, `{"val1":"a"}`, "", ""},
		{"InputPath", "$", `null`, `null`, "", ""},
		{"OutputPath", "$.items[*].id", `{"items":[{"id":1},{"id":2}]}`, `[1,2]`, "", ""},
		{"OutputPath", "$.items[*].id", `{}`, `[]`, "", ""},
		// Causes recorded on AWS (LocalStack snapshot tests).
		{"InputPath", "$.NoSuchInputPath", `{}`, "", ErrRuntime, "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"},
		{"OutputPath", "$.NoSuchOutputPath", `{"a":1}`, "", ErrRuntime, "Invalid path '$.NoSuchOutputPath' : No results for path: $['NoSuchOutputPath']"},
		{"OutputPath", "$.no.such.result.path", `{}`, "", ErrRuntime, "Invalid path '$.no.such.result.path' : Missing property in path $['no']"},
		{"TimeoutSecondsPath", "$.NoSuchTimeoutSecondsPath", `{}`, "", ErrRuntime, "Invalid path '$.NoSuchTimeoutSecondsPath' : No results for path: $['NoSuchTimeoutSecondsPath']"},
		{"ErrorPath", "$.ErrorX", `{"Error":"error-value","Cause":"cause-value"}`, "", ErrRuntime, `The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in the input '{"Cause":"cause-value","Error":"error-value"}'`},
		{"CausePath", "$.NoSuchCausePath", `{}`, "", ErrRuntime, `The JSONPath '$.NoSuchCausePath' specified for the field 'CausePath' could not be found in the input '{}'`},
		// Jayway's other messages.
		{"InputPath", "$.a.b", `{"a":"s"}`, "", ErrRuntime, "Invalid path '$.a.b' : Expected to find an object with property ['b'] in path $['a'] but found 'java.lang.String'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'."},
		{"InputPath", "$.a[3]", `{"a":[1]}`, "", ErrRuntime, "Invalid path '$.a[3]' : No results for path: $['a'][3]"},
		{"InputPath", "$.a[0]", `{"a":null}`, "", ErrRuntime, "Invalid path '$.a[0]' : The path $['a'] is null"},
		{"InputPath", "$.a[0]", `{"a":{"b":[1, "x"]}}`, "", ErrRuntime, "Invalid path '$.a[0]' : Filter: [0] can only be applied to arrays. Current context is: {b=[1, x]}"},
		// AWS: "Unable to apply Path transformation to null or empty input."
		{"InputPath", "$.a", `null`, "", ErrRuntime, "Unable to apply Path transformation to null or empty input."},
		// ItemsPath is a reference path, read step by step.
		{"ItemsPath", "$.items", `{"items":[1,2]}`, `[1,2]`, "", ""},
		{"ItemsPath", "$.items", `{"metadata":{}}`, "", "States.ReferencePathConflict", `Unable to apply step "items" to input {"metadata":{}}`},
		{"ItemsPath", "$.a.b", `{"a":[1]}`, "", "States.ReferencePathConflict", `Unable to apply step "b" to input [1]`},
	} {
		p, err := ParsePath(tt.path)
		if err != nil {
			t.Fatalf("ParsePath(%q): %v", tt.path, err)
		}
		got, err := ApplyPath(tt.field, p, jpDecode(t, tt.input))
		if tt.errName != "" {
			var e *Error
			if !errors.As(err, &e) || e.Name != tt.errName || e.Cause != tt.cause {
				t.Errorf("ApplyPath(%s, %s) on %s: got %v,\nwant %s: %s", tt.field, tt.path, tt.input, err, tt.errName, tt.cause)
			}
			continue
		}
		if err != nil {
			t.Errorf("ApplyPath(%s, %s) on %s: %v", tt.field, tt.path, tt.input, err)
			continue
		}
		if Encode(got) != Encode(jpDecode(t, tt.want)) {
			t.Errorf("ApplyPath(%s, %s) on %s = %s, want %s", tt.field, tt.path, tt.input, Encode(got), tt.want)
		}
	}
	if got, err := ApplyPath("InputPath", nil, "x"); got != "x" || err != nil {
		t.Errorf("ApplyPath with a nil path = %v, %v; want the input", got, err)
	}
}

func TestPath_GetWorkLimit(t *testing.T) {
	deep := jpDecode(t, strings.Repeat(`{"a":`, 2000)+"1"+strings.Repeat("}", 2000))
	if got, ok := MustParsePath("$..*..*..*..*").Get(deep); ok {
		t.Errorf("Get($..*..*..*..*) on 2000 nested objects = %d matches, want the work limit to stop it", len(got.([]any)))
	}
	if got, ok := MustParsePath("$..a").Get(deep); !ok || len(got.([]any)) != 2000 {
		t.Errorf("Get($..a) on 2000 nested objects: ok %v, want 2000 matches", ok)
	}
}

func TestJavaDouble(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want string
	}{
		{1.1, "1.1"}, {3.5, "3.5"}, {100, "100.0"}, {0.001, "0.001"}, {0.0001, "1.0E-4"},
		{1e7, "1.0E7"}, {123456789, "1.23456789E8"}, {9999999, "9999999.0"}, {-2.5, "-2.5"},
		{0, "0.0"}, {1e21, "1.0E21"}, {1.5e-10, "1.5E-10"},
	} {
		if got := javaDouble(tt.in); got != tt.want {
			t.Errorf("javaDouble(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// fuzzDoc is evaluated by FuzzParsePath with every path that parses.
const fuzzDoc = `{"a":[1,{"b":[2,3]},"x",null],"b":{"c":{"a":true}},"n":-1.5,"s":"str","":{"":0}}`

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"$", "$$", "$.a.b", "$['a b']", `$["x"]`, "$.a[-1]", "$.a[1:3]", "$..a", "$.*",
		"$[*]", "$.a[0,2]", "$['a','b']", "$.a[?(@.b < 10 && @.c || !@.d)]", "$..[?(@.a == 'x')]", "$$.Map.Item.Value",
		"$.a[:2]", "$[?(@ > $.n)]", `$['it\'s']`} {
		f.Add(s)
	}
	doc, _ := Decode([]byte(fuzzDoc))
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		if p.String() != s {
			t.Fatalf("String() = %q, want %q", p.String(), s)
		}
		p.Get(doc)
		if _, err := ApplyPath("InputPath", p, doc); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("ApplyPath error %T, want *Error", err)
			}
		}
		before := Encode(doc)
		p.Set(doc, "v")
		if Encode(doc) != before {
			t.Fatalf("Set modified its input")
		}
		// Round trip: the canonical form parses to the same path.
		n := canonicalPath(p)
		q, err := ParsePath(n)
		if err != nil {
			t.Fatalf("normalized %q of %q does not parse: %v", n, s, err)
		}
		if canonicalPath(q) != n || q.Definite() != p.Definite() || q.Context() != p.Context() {
			t.Fatalf("normalized %q of %q parses differently", n, s)
		}
		g1, ok1 := p.Get(doc)
		g2, ok2 := q.Get(doc)
		if ok1 != ok2 || Encode(g1) != Encode(g2) {
			t.Fatalf("%q and its normalized %q select different nodes", s, n)
		}
	})
}

// canonicalPath renders p in bracket notation with quotes escaped, so that
// it parses back to the same path.
func canonicalPath(p *Path) string {
	var b strings.Builder
	b.WriteString("$")
	if p.context {
		b.WriteString("$")
	}
	for _, s := range p.segs {
		if s.scan {
			b.WriteString("..")
		}
		if s.kind == segFilter {
			b.WriteString(s.raw)
			continue
		}
		if s.kind != segNames {
			b.WriteString(s.src)
			continue
		}
		b.WriteString("[")
		for i, n := range s.names {
			if i > 0 {
				b.WriteString(",")
			}
			n = strings.ReplaceAll(n, `\`, `\\`)
			b.WriteString("'" + strings.ReplaceAll(n, "'", `\'`) + "'")
		}
		b.WriteString("]")
	}
	return b.String()
}

// A backslash in a quoted bracket name escapes only the quote character,
// as Jayway reads it (recorded on AWS: $['Test\""Name"'] selects the key
// Test\""Name").
func TestPath_BackslashInQuotedName(t *testing.T) {
	p := MustParsePath(`$['Test\""Name"']`)
	v, ok := p.Get(map[string]any{`Test\""Name"`: "x"})
	if !ok || v != "x" {
		t.Fatalf("got %v %v", v, ok)
	}
	p = MustParsePath(`$['it\'s']`)
	if v, ok := p.Get(map[string]any{`it's`: "y"}); !ok || v != "y" {
		t.Fatalf("escaped quote: got %v %v", v, ok)
	}
}
