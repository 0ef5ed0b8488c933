package states

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/recolabs/gnata"
)

// The JSONata query language (QueryLanguage: JSONata). A field value that
// is a string starting with "{%" and ending with "%}" is an expression;
// any other string is itself. Objects and arrays are evaluated member by
// member. Expressions see:
//
//   - $states: {input, context, result (Output and Assign of Task, Map
//     and Parallel), errorOutput (Output and Assign of a Catch)};
//   - every workflow variable visible from the state, by name;
//   - JSONata's functions plus Step Functions' own: $partition, $range,
//     $hash, $random, $uuid and $parse. $now and $millis read the
//     execution's clock, so replays agree; $eval is not available.
//
// Failures are States.QueryEvaluationError, as are expressions that
// return nothing (undefined).

// jsonataTimeout bounds one expression's evaluation.
const jsonataTimeout = 10 * time.Second

// jsNull is the JSONata evaluator's JSON null; Go nil means undefined.
var jsNull, _ = gnata.DecodeJSON(json.RawMessage("null"))

// jsonataExpr returns the expression text of a "{% ... %}" string.
func jsonataExpr(s string) (string, bool) {
	if len(s) < 4 || !strings.HasPrefix(s, "{%") || !strings.HasSuffix(s, "%}") {
		return "", false
	}
	return s[2 : len(s)-2], true
}

var jsonataCache sync.Map // expression text → *compiled

// compiled is a parsed expression; custom says whether it may call one
// of the functions Step Functions adds or overrides, which need the
// execution's environment (the others evaluate on the shared standard
// library, which is much cheaper).
type compiled struct {
	expr   *gnata.Expression
	custom bool
}

// customNames are the functions jsonataEnv defines. An expression can
// only reach a function through its name in the text ($eval, which could
// build one from a string, is among them).
var customNames = []string{"$partition", "$range", "$hash", "$random", "$uuid", "$parse", "$now", "$millis", "$eval"}

func compileJSONata(src string) (*compiled, error) {
	if e, ok := jsonataCache.Load(src); ok {
		return e.(*compiled), nil
	}
	e, err := gnata.Compile(src)
	if err != nil {
		return nil, err
	}
	c := &compiled{expr: e}
	for _, name := range customNames {
		if strings.Contains(src, name) {
			c.custom = true
		}
	}
	jsonataCache.Store(src, c)
	return c, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Insertion sort: these maps are small.
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// jsonataEval evaluates the JSONata template tmpl of field with bindings
// (the variables and $states, already in the evaluator's form).
func jsonataEval(tmpl any, field string, env *jsonataEnv, bindings map[string]any) (any, *Error) {
	switch t := tmpl.(type) {
	case string:
		src, ok := jsonataExpr(t)
		if !ok {
			return t, nil
		}
		src = strings.TrimSpace(src)
		fail := func(format string, args ...any) *Error {
			e := Errorf(ErrQueryEvaluationError, "The JSONata expression '%s' specified for the field '%s' "+format, append([]any{src, field}, args...)...)
			e.location = field
			return e
		}
		expr, err := compileJSONata(src)
		if err != nil {
			return nil, fail("threw an error during evaluation. %s", jsonataMessage(err))
		}
		var v any
		if expr.custom {
			v, err = env.eval(expr.expr, bindings)
		} else {
			v, err = evalStandard(expr.expr, bindings)
		}
		if err != nil {
			return nil, fail("threw an error during evaluation. %s", jsonataMessage(err))
		}
		if v == nil {
			return nil, fail("returned nothing (undefined).")
		}
		out, cerr := fromJSONata(v)
		if cerr != nil {
			return nil, fail("returned an unsupported result type.")
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for _, k := range sortedKeys(t) {
			v, err := jsonataEval(t[k], field+"/"+k, env, bindings)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			v, err := jsonataEval(x, fmt.Sprintf("%s[%d]", field, i), env, bindings)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return tmpl, nil
}

// jsonataMessage is an evaluation error as AWS shows it: "CODE:
// message" in jsonata-js's words (the evaluator words some differently).
func jsonataMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "JSONata error ")
	code, detail, ok := strings.Cut(msg, ": ")
	if !ok || len(code) != 5 {
		return msg
	}
	fn := ""
	if m := fnPrefixRE.FindStringSubmatch(detail); m != nil {
		fn = m[1]
	}
	index := "1"
	if m := argIndexRE.FindStringSubmatch(detail); m != nil {
		index = m[1]
	}
	quote := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	switch code {
	case "T1006":
		detail = "Attempted to invoke a non-function"
	case "T0410":
		if fn != "" {
			detail = fmt.Sprintf("Argument %s of function %s does not match function signature", index, quote(fn))
		}
	case "T0412":
		if fn != "" {
			typ := "numbers"
			if strings.Contains(detail, "string") {
				typ = "strings"
			}
			detail = fmt.Sprintf("Argument %s of function %s must be an array of %s", index, quote(fn), quote(typ))
		}
	case "T2001", "T2002":
		if m := operandRE.FindStringSubmatch(detail); m != nil {
			code = "T2001"
			if m[1] == "right" {
				code = "T2002"
			}
			detail = fmt.Sprintf("The %s side of the %s operator must evaluate to a number", m[1], m[2])
		}
	case "T2003", "T2004":
		if strings.HasPrefix(detail, "right") {
			code, detail = "T2004", "The right side of the range operator (..) must evaluate to an integer"
		} else if strings.HasPrefix(detail, "left") {
			code, detail = "T2003", "The left side of the range operator (..) must evaluate to an integer"
		}
	case "D3030":
		if m := castRE.FindStringSubmatch(detail); m != nil {
			detail = "Unable to cast value to a number: " + m[1]
		}
	case "D1009":
		if m := dupKeyRE.FindStringSubmatch(detail); m != nil {
			detail = "Multiple key definitions evaluate to same key: " + m[1]
		}
	}
	return code + ": " + detail
}

var (
	fnPrefixRE = regexp.MustCompile(`^\$(\w+):`)
	argIndexRE = regexp.MustCompile(`argument (\d+)`)
	operandRE  = regexp.MustCompile(`^the (left|right) operand of the ("[^"]*") operator`)
	castRE     = regexp.MustCompile(`unable to cast (.*) to a number$`)
	dupKeyRE   = regexp.MustCompile(`duplicate key: (.*)$`)
)

// jsonType names a value's JSON type as AWS's messages do.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}

// toJSONata converts a value to the evaluator's form: JSON null becomes
// its null (Go nil would read as undefined). Values without nulls are
// returned as they are.
func toJSONata(v any) any {
	if !hasNull(v) {
		return v
	}
	switch t := v.(type) {
	case nil:
		return jsNull
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = toJSONata(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = toJSONata(x)
		}
		return out
	}
	return v
}

func hasNull(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case map[string]any:
		for _, x := range t {
			if hasNull(x) {
				return true
			}
		}
	case []any:
		for _, x := range t {
			if hasNull(x) {
				return true
			}
		}
	}
	return false
}

// fromJSONata converts an evaluator result to a JSON value as Decode
// makes them: numbers become json.Number, written as JavaScript writes
// them.
func fromJSONata(v any) (any, error) {
	v = gnata.NormalizeValue(v)
	switch t := v.(type) {
	case nil, bool, string, json.Number:
		return t, nil
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, fmt.Errorf("the number %v cannot be represented in JSON", t)
		}
		return json.Number(jsNumber(t)), nil
	case float32:
		return fromJSONata(float64(t))
	case int:
		return json.Number(strconv.Itoa(t)), nil
	case int64:
		return json.Number(strconv.FormatInt(t, 10)), nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			c, err := fromJSONata(x)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			c, err := fromJSONata(x)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	return nil, fmt.Errorf("a %T is not a JSON value (a function?)", v)
}

// jsNumber formats f as JavaScript's Number.prototype.toString does.
func jsNumber(f float64) string {
	if f == 0 {
		return "0"
	}
	abs := math.Abs(f)
	if abs >= 1e-6 && abs < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1e+21, 1.5e-07
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[0]
	exp = strings.TrimLeft(exp[1:], "0")
	return mant + "e" + string(sign) + exp
}

func jnum(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	}
	return 0, false
}

// evalStandard evaluates an expression that needs only JSONata's own
// functions.
func evalStandard(expr *gnata.Expression, bindings map[string]any) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), jsonataTimeout)
	defer cancel()
	return expr.EvalWithVars(ctx, nil, bindings)
}

// jsonataEnv holds the functions an execution's expressions call: the
// standard library with Step Functions' additions, drawing randomness
// and time from the execution.
type jsonataEnv struct {
	x *Execution
	// eval evaluates an expression with bindings added to a copy of the
	// execution's function environment.
	eval func(expr *gnata.Expression, bindings map[string]any) (any, error)
}

func newJSONataEnv(x *Execution) *jsonataEnv {
	e := &jsonataEnv{x: x}
	base := gnata.NewCustomEnv(map[string]gnata.CustomFunc{
		"partition": jsonataPartition,
		"range":     jsonataRange,
		"hash":      jsonataHash,
		"random":    e.random,
		"uuid": func(args []any, _ any) (any, error) {
			if len(args) != 0 {
				return nil, errors.New("$uuid takes no arguments")
			}
			return uuid4(x.intrinsics()), nil
		},
		"parse": jsonataParse,
		"now": func(args []any, _ any) (any, error) {
			return x.now.UTC().Format("2006-01-02T15:04:05.000Z"), nil
		},
		"millis": func(args []any, _ any) (any, error) {
			return float64(x.now.UnixMilli()), nil
		},
		"eval": func(args []any, _ any) (any, error) {
			return nil, errors.New("the $eval function is not supported")
		},
	})
	e.eval = func(expr *gnata.Expression, bindings map[string]any) (any, error) {
		env := base.Clone()
		for k, v := range bindings {
			env.Bind(k, v)
		}
		// A deadline stops expressions that would run away (JSONata has
		// recursion but no loops; depth is limited separately).
		ctx, cancel := context.WithTimeout(context.Background(), jsonataTimeout)
		defer cancel()
		return expr.EvalWithCustomFuncs(ctx, nil, env)
	}
	return e
}

func (e *jsonataEnv) random(args []any, _ any) (any, error) {
	switch len(args) {
	case 0:
		return float64(e.x.rand()>>11) / (1 << 53), nil
	case 1:
		seed, ok := jnum(args[0])
		if !ok || seed != math.Trunc(seed) {
			return nil, errors.New("$random: the seed must be an integer")
		}
		r := newJavaRandom(int64(seed))
		hi := int64(r.next(26))
		lo := int64(r.next(27))
		return float64(hi<<27+lo) / (1 << 53), nil
	}
	return nil, errors.New("$random takes at most one argument, a seed")
}

func jsonataPartition(args []any, _ any) (any, error) {
	if len(args) != 2 {
		return nil, errors.New("$partition takes two arguments: an array and a chunk size")
	}
	a, ok := args[0].([]any)
	if !ok {
		if args[0] == nil {
			return nil, errors.New("$partition: the first argument must be an array")
		}
		a = []any{args[0]} // a single value is a one-element sequence
	}
	n, ok := jnum(args[1])
	if !ok || n != math.Trunc(n) || n < 1 {
		return nil, errors.New("$partition: the chunk size must be a positive integer")
	}
	size := int(n)
	out := []any{}
	for i := 0; i < len(a); i += size {
		out = append(out, append([]any(nil), a[i:min(len(a), i+size)]...))
	}
	return out, nil
}

func jsonataRange(args []any, _ any) (any, error) {
	if len(args) != 3 {
		return nil, errors.New("$range takes three arguments: start, end and step")
	}
	var n [3]float64
	for i, a := range args {
		f, ok := jnum(a)
		if !ok || f != math.Trunc(f) {
			return nil, errors.New("$range: start, end and step must be integers")
		}
		n[i] = f
	}
	first, last, step := int64(n[0]), int64(n[1]), int64(n[2])
	if step == 0 {
		return nil, errors.New("$range: the step must not be zero")
	}
	count := int64(0)
	if step > 0 && last >= first || step < 0 && last <= first {
		count = (last-first)/step + 1
	}
	if count > maxArrayRange {
		return nil, fmt.Errorf("$range: at most %d elements", maxArrayRange)
	}
	out := make([]any, 0, count)
	for i := int64(0); i < count; i++ {
		out = append(out, float64(first+i*step))
	}
	return out, nil
}

func jsonataHash(args []any, _ any) (any, error) {
	if len(args) != 2 {
		return nil, errors.New("$hash takes two arguments: the data and an algorithm")
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, errors.New("$hash: the data must be a string")
	}
	alg, _ := args[1].(string)
	h := newHash(alg)
	if h == nil {
		return nil, fmt.Errorf("$hash: the algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512, not %v", args[1])
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func jsonataParse(args []any, _ any) (any, error) {
	if len(args) != 1 {
		return nil, errors.New("$parse takes one argument, a JSON string")
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, errors.New("$parse: the argument must be a string")
	}
	v, err := gnata.DecodeJSON(json.RawMessage(s))
	if err != nil {
		return nil, fmt.Errorf("$parse: invalid JSON: %v", err)
	}
	return v, nil
}
