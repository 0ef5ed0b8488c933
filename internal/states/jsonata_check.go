package states

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/recolabs/gnata"
)

// Definition-time checks of JSONata expressions, as AWS makes them when a
// state machine is created: an expression that does not parse is
// INVALID_JSONATA_EXPRESSION with the parser's message, and one that reads
// the context item at its top level (a bare field name: there is no
// context item in Step Functions, only $states and variables) is
// UNSUPPORTED_JSONATA_EXPRESSION.

// jsonataProblem is one finding, at a JSON pointer below the field.
type jsonataProblem struct {
	code, pointer, msg string
}

// jsonataProblems checks every expression in v, the value of field (a
// JSON pointer such as /States/A/Output).
func jsonataProblems(v any, pointer string) []jsonataProblem {
	var out []jsonataProblem
	switch t := v.(type) {
	case string:
		src, ok := jsonataExpr(t)
		if !ok {
			return nil
		}
		c, err := compileJSONata(strings.TrimSpace(src))
		if err != nil {
			return []jsonataProblem{{"INVALID_JSONATA_EXPRESSION", pointer, jsonataSyntaxMessage(err)}}
		}
		for _, name := range topLevelReferences(c.expr) {
			out = append(out, jsonataProblem{"UNSUPPORTED_JSONATA_EXPRESSION", pointer, fmt.Sprintf("Reference to '%s' at the top level is not supported.", name)})
		}
	case map[string]any:
		for _, k := range sortedKeys(t) {
			out = append(out, jsonataProblems(t[k], pointer+"/"+k)...)
		}
	case []any:
		for i, x := range t {
			out = append(out, jsonataProblems(x, fmt.Sprintf("%s/%d", pointer, i))...)
		}
	}
	return out
}

var parseErrorRE = regexp.MustCompile(`^JSONata error (S\d{4}) at token "((?:[^"\\]|\\.)*)": (.*)$`)

// jsonataSyntax are the messages of jsonata-js, which AWS shows without
// the code; {token} and {value} are quoted as JSON.
var jsonataSyntax = map[string]string{
	"S0101": "String literal must be terminated by a matching quote",
	"S0102": "Number out of range: {token}",
	"S0103": "Unsupported escape sequence: \\{token}",
	"S0104": "The escape sequence \\u must be followed by 4 hex digits",
	"S0105": "Quoted property name must be terminated with a backquote (`)",
	"S0106": "Comment has no closing tag",
	"S0201": "Syntax error: {token}",
	"S0202": "Expected {value}, got {token}",
	"S0203": "Expected {value} before end of expression",
	"S0204": "Unknown operator: {token}",
	"S0205": "Unexpected token: {token}",
	"S0207": "Unexpected end of expression",
	"S0208": "Parameter {value} of function definition must be a variable name (start with $)",
	"S0209": "A predicate cannot follow a grouping expression in a step",
	"S0210": "Each step can only have one grouping expression",
	"S0211": "The symbol {token} cannot be used as a unary operator",
	"S0212": "The left side of := must be a variable name (start with $)",
	"S0213": "The literal value {value} cannot be used as a step within a path expression",
	"S0214": "The right side of {token} must be a variable name (start with $)",
	"S0215": "A context variable binding must precede any predicates on a step",
	"S0216": "A context variable binding must precede the 'order-by' clause on a step",
	"S0301": "Empty regular expressions are not allowed",
	"S0302": "No terminating / in regular expression",
}

var (
	expectedRE      = regexp.MustCompile(`expected (\S+)`)
	expectedTokenRE = regexp.MustCompile(`expected token (\d+)`)
	lexErrorRE      = regexp.MustCompile(`^JSONata error (S\d{4}): `)
)

// punctuation are the evaluator's token numbers of single-character
// tokens, from '.' (7) to '~' (32), to name the token a message expected.
const punctuation = ".[]{}(),@#;:?+-*/%|=<>^&!~"

// jsonataSyntaxMessage words a compile error as jsonata-js does.
func jsonataSyntaxMessage(err error) string {
	m := parseErrorRE.FindStringSubmatch(err.Error())
	if m == nil {
		if lm := lexErrorRE.FindStringSubmatch(err.Error()); lm != nil {
			if tmpl, ok := jsonataSyntax[lm[1]]; ok && !strings.Contains(tmpl, "{") {
				return tmpl
			}
		}
		return err.Error()
	}
	code, token, detail := m[1], m[2], m[3]
	if code == "S0201" && token == "EOF" {
		return jsonataSyntax["S0207"]
	}
	tmpl, ok := jsonataSyntax[code]
	if !ok {
		return detail
	}
	quote := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	if token == "EOF" {
		token = "(end)"
	}
	value := ""
	if tm := expectedTokenRE.FindStringSubmatch(detail); tm != nil {
		var n int
		fmt.Sscan(tm[1], &n)
		if n >= 7 && n-7 < len(punctuation) {
			value = punctuation[n-7 : n-6]
		}
	} else if em := expectedRE.FindStringSubmatch(detail); em != nil {
		value = em[1]
	}
	msg := strings.ReplaceAll(tmpl, "{token}", quote(token))
	return strings.ReplaceAll(msg, "{value}", quote(value))
}

// topLevelReferences lists, once each, the field names an expression
// reads from the context item at its top level.
func topLevelReferences(expr *gnata.Expression) []string {
	ast := reflect.ValueOf(expr).Elem().FieldByName("ast")
	seen := map[string]bool{}
	var out []string
	report := func(name string) {
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	var walk func(n reflect.Value, top bool)
	nodes := func(v reflect.Value, top bool) {
		for i := 0; i < v.Len(); i++ {
			walk(v.Index(i), top)
		}
	}
	walk = func(n reflect.Value, top bool) {
		if !n.IsValid() || n.Kind() == reflect.Pointer && n.IsNil() {
			return
		}
		n = reflect.Indirect(n)
		f := func(name string) reflect.Value { return n.FieldByName(name) }
		switch typ := f("Type").String(); typ {
		case "name":
			if top {
				report(f("Value").String())
			}
		case "path":
			steps := f("Steps")
			for i := 0; i < steps.Len(); i++ {
				// Only the first step reads the context item; the others
				// read what the steps before them selected.
				walk(steps.Index(i), top && i == 0)
				inner := reflect.Indirect(steps.Index(i))
				stages := inner.FieldByName("Stages")
				for j := 0; j < stages.Len(); j++ {
					walk(stages.Index(j).FieldByName("Expression"), false)
				}
			}
		case "binary", "apply", "bind":
			walk(f("Left"), top && typ != "bind")
			walk(f("Right"), top)
			nodes(f("LHS"), top) // object constructors written as binary
		case "unary":
			walk(f("Expression"), top)
			nodes(f("Expressions"), top)
			nodes(f("LHS"), top)
		case "function", "partial":
			walk(f("Procedure"), top)
			nodes(f("Arguments"), top)
		case "condition":
			walk(f("Condition"), top)
			walk(f("Then"), top)
			walk(f("Else"), top)
		case "block":
			nodes(f("Expressions"), top)
		}
	}
	walk(ast, true)
	return out
}
