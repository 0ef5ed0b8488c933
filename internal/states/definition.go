package states

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Query languages.
const (
	JSONPath = "JSONPath"
	JSONata  = "JSONata"
)

// State types.
const (
	TypeTask     = "Task"
	TypePass     = "Pass"
	TypeChoice   = "Choice"
	TypeWait     = "Wait"
	TypeSucceed  = "Succeed"
	TypeFail     = "Fail"
	TypeParallel = "Parallel"
	TypeMap      = "Map"
)

// Machine is a parsed, valid state machine, or one branch or item
// processor of a Parallel or Map state.
type Machine struct {
	Comment        string
	StartAt        string
	States         map[string]*State
	TimeoutSeconds int // 0: none
	QueryLanguage  string
}

// optPath is an optional path field: absent (default), null, or a path.
type optPath struct {
	set  bool // present in the definition
	null bool // present as null
	path *Path
}

// State is one state of a machine.
type State struct {
	Name    string
	Type    string
	Comment string
	Next    string
	End     bool
	// Lang is the state's query language, JSONPath or JSONata.
	Lang string
	// at is the state's JSON pointer in the definition.
	at string

	// Assign sets workflow variables as the state ends (both languages).
	Assign    any
	hasAssign bool
	// JSONata: Arguments (Task, Parallel), Output, Items (Map). Fields that
	// take a number or an expression keep the expression in exprs, by
	// field name (Seconds, Timestamp, TimeoutSeconds, HeartbeatSeconds,
	// MaxConcurrency, ToleratedFailureCount, ToleratedFailurePercentage,
	// MaxItemsPerBatch, Error, Cause).
	Arguments, Output, Items          any
	hasArguments, hasOutput, hasItems bool
	exprs                             map[string]string

	InputPath, OutputPath, ResultPath optPath
	Parameters                        any // template; nil when absent
	hasParameters                     bool
	ResultSelector                    any
	hasResultSelector                 bool

	// Pass
	Result    any
	hasResult bool

	// Task
	Resource             string
	TimeoutSeconds       int // 0: none (the default 99999999 is the caller's)
	TimeoutSecondsPath   *Path
	HeartbeatSeconds     int
	HeartbeatSecondsPath *Path
	Retry                []*Retrier
	Catch                []*Catcher

	// Choice
	Choices []*ChoiceRule
	Default string

	// Wait
	Seconds       *float64
	Timestamp     *time.Time
	SecondsPath   *Path
	TimestampPath *Path

	// Fail: ErrorPath and CausePath are a path or an intrinsic call.
	Error, Cause             string
	ErrorPath, CausePath     *Path
	ErrorIntrinsic, CauseFun *Intrinsic

	// Parallel
	Branches []*Machine

	// Map
	Processor                  *Machine
	ProcessorMode              string // INLINE or DISTRIBUTED
	ItemsPath                  optPath
	ItemSelector               any
	hasItemSelector            bool
	MaxConcurrency             int
	MaxConcurrencyPath         *Path
	ToleratedFailureCount      int
	ToleratedFailureCountPath  *Path
	ToleratedFailurePercentage float64
	ToleratedFailurePctPath    *Path
	hasTolCount, hasTolPct     bool
	MaxItemsPerBatch           int
	BatchInput                 any
	hasBatcher                 bool
	Label                      string
}

// Retrier is one Retry entry.
type Retrier struct {
	ErrorEquals     []string
	IntervalSeconds float64
	MaxAttempts     int
	BackoffRate     float64
	MaxDelaySeconds float64 // 0: none
	JitterFull      bool
}

// Catcher is one Catch entry.
type Catcher struct {
	ErrorEquals          []string
	Next                 string
	ResultPath           optPath
	Assign, Output       any // Output: JSONata only
	hasAssign, hasOutput bool
}

// DefinitionError lists what is wrong with a definition, in AWS's words.
type DefinitionError struct {
	Problems []string
	// Message, when set, replaces the usual "Invalid State Machine
	// Definition: '...'" text (TestState's refusals).
	Message string
}

func (e *DefinitionError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return "Invalid State Machine Definition: '" + strings.Join(e.Problems, ", ") + "'"
}

// Parse parses and validates a state machine definition.
func Parse(definition []byte) (*Machine, error) {
	if len(bytes.TrimSpace(definition)) == 0 {
		return nil, &DefinitionError{Problems: []string{"SCHEMA_VALIDATION_FAILED: Definition must be a valid JSON object"}}
	}
	raw, err := Decode(definition)
	if err != nil {
		return nil, &DefinitionError{Problems: []string{"INVALID_JSON_DESCRIPTION: " + err.Error()}}
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, &DefinitionError{Problems: []string{"SCHEMA_VALIDATION_FAILED: The definition must be a JSON object at /"}}
	}
	p := &parser{}
	m := p.machine(obj, "", JSONPath, true)
	if len(p.problems) > 0 {
		return nil, &DefinitionError{Problems: p.problems}
	}
	return m, nil
}

type parser struct {
	problems []string
	names    map[string]bool // state names seen, in every sub-machine
}

func (p *parser) fail(code, at, format string, args ...any) {
	if at == "" {
		at = "/"
	}
	p.problems = append(p.problems, fmt.Sprintf("%s: %s at %s", code, fmt.Sprintf(format, args...), at))
}

func (p *parser) schema(at, format string, args ...any) {
	p.fail("SCHEMA_VALIDATION_FAILED", at, format, args...)
}

// langFields is fields for a state: a key allowed only in the other
// query language gets AWS's message saying so.
func (p *parser) langFields(obj map[string]any, at, lang, otherLang string, allowed, other []string) {
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	inOther := map[string]bool{}
	for _, a := range other {
		inOther[a] = true
	}
	for _, k := range sortedKeys(obj) {
		switch {
		case ok[k]:
		case inOther[k]:
			p.schema(at, "The QueryLanguage is set to '%s', but field '%s' is only supported for the '%s' QueryLanguage", lang, k, otherLang)
		default:
			p.schema(at, "Field '%s' is not supported", k)
		}
	}
}

// fields checks that obj has only the allowed keys.
func (p *parser) fields(obj map[string]any, at string, allowed ...string) {
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !ok[k] {
			p.schema(at, "Field '%s' is not supported", k)
		}
	}
}

func (p *parser) str(obj map[string]any, key, at string, required bool) string {
	v, ok := obj[key]
	if !ok {
		if required {
			p.schema(at, "These fields are required: [%s]", key)
		}
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		p.schema(at+"/"+key, "Expected value of type: String")
		return ""
	}
	return s
}

func (p *parser) integer(obj map[string]any, key, at string, min int64) (int, bool) {
	v, ok := obj[key]
	if !ok {
		return 0, false
	}
	n, isNum := v.(json.Number)
	i, err := n.Int64()
	if !isNum || err != nil {
		p.schema(at+"/"+key, "Expected value of type: Integer")
		return 0, false
	}
	if i < min || i > math.MaxInt32 {
		p.schema(at+"/"+key, "Value must be at least %d and at most %d", min, math.MaxInt32)
		return 0, false
	}
	return int(i), true
}

func (p *parser) number(obj map[string]any, key, at string) (float64, bool) {
	v, ok := obj[key]
	if !ok {
		return 0, false
	}
	n, isNum := v.(json.Number)
	f, err := n.Float64()
	if !isNum || err != nil {
		p.schema(at+"/"+key, "Expected value of type: Number")
		return 0, false
	}
	return f, true
}

func (p *parser) path(obj map[string]any, key, at string, reference bool) *Path {
	s := p.str(obj, key, at, false)
	if s == "" {
		if _, present := obj[key]; present {
			p.schema(at+"/"+key, "The value for the field '%s' must be a valid JSONPath", key)
		}
		return nil
	}
	path, err := ParsePath(s)
	if err != nil {
		p.schema(at+"/"+key, "The value for the field '%s' must be a valid JSONPath", key)
		return nil
	}
	if key == "ResultPath" && path.Variable() != "" {
		p.schema(at+"/"+key, "The value for the field '%s' must be a valid Reference Path to the state's data, not a variable", key)
		return nil
	}
	if reference && !path.Definite() {
		p.schema(at+"/"+key, "The value for the field '%s' must be a valid Reference Path", key)
	}
	return path
}

// pathOrIntrinsic parses a field that takes a path or an intrinsic call.
func (p *parser) pathOrIntrinsic(obj map[string]any, key, at string) (*Path, *Intrinsic) {
	if s, ok := obj[key].(string); ok && IsIntrinsic(s) {
		f, err := ParseIntrinsic(s)
		if err != nil {
			p.schema(at+"/"+key, "The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call", key)
		}
		return nil, f
	}
	return p.path(obj, key, at, false), nil
}

func (p *parser) optPath(obj map[string]any, key, at string, reference bool) optPath {
	v, ok := obj[key]
	if !ok {
		return optPath{}
	}
	if v == nil {
		return optPath{set: true, null: true}
	}
	return optPath{set: true, path: p.path(obj, key, at, reference)}
}

func (p *parser) template(obj map[string]any, key, at string) (any, bool) {
	v, ok := obj[key]
	if !ok {
		return nil, false
	}
	if _, isObj := v.(map[string]any); !isObj && key != "Result" {
		p.schema(at+"/"+key, "Expected value of type: Object")
		return nil, false
	}
	if err := CheckTemplate(v); err != nil {
		p.schema(at+"/"+key, "%v", err)
	}
	return v, true
}

// machine parses a machine or sub-machine at JSON pointer at.
func (p *parser) machine(obj map[string]any, at, lang string, top bool) *Machine {
	allowed := []string{"Comment", "StartAt", "States"}
	switch {
	case top:
		allowed = append(allowed, "TimeoutSeconds", "Version", "QueryLanguage")
	case strings.HasSuffix(at, "/ItemProcessor") || strings.HasSuffix(at, "/Iterator"):
		allowed = append(allowed, "ProcessorConfig")
	default:
		allowed = append(allowed, "QueryLanguage")
	}
	p.fields(obj, at, allowed...)
	var missing []string
	for _, k := range []string{"States", "StartAt"} {
		if _, ok := obj[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		p.schema(at, "These fields are required: [%s]", strings.Join(missing, ", "))
	}
	m := &Machine{Comment: p.str(obj, "Comment", at, false), StartAt: p.str(obj, "StartAt", at, false), QueryLanguage: lang}
	if ql := p.str(obj, "QueryLanguage", at, false); ql != "" {
		switch {
		case ql != JSONPath && ql != JSONata:
			p.schema(at+"/QueryLanguage", "Value is not a valid enum value: [JSONPath, JSONata]")
		case lang == JSONata && ql == JSONPath:
			p.schema(at, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine")
		default:
			m.QueryLanguage = ql
		}
	}
	if top {
		m.TimeoutSeconds, _ = p.integer(obj, "TimeoutSeconds", at, 1)
		if v := p.str(obj, "Version", at, false); v != "" && v != "1.0" {
			p.schema(at+"/Version", "The value for the field 'Version' must be '1.0'")
		}
	}
	statesRaw, ok := obj["States"].(map[string]any)
	if !ok {
		if _, present := obj["States"]; present {
			p.schema(at+"/States", "Expected value of type: Object")
		}
		return m
	}
	if len(statesRaw) == 0 {
		p.schema(at+"/States", "The field 'States' must not be empty")
	}
	m.States = map[string]*State{}
	names := make([]string, 0, len(statesRaw))
	for name := range statesRaw {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sat := at + "/States/" + name
		if len(name) > 80 {
			p.schema(sat, "State names must be at most 80 characters")
		}
		if p.names == nil {
			p.names = map[string]bool{}
		}
		if p.names[name] {
			p.fail("DUPLICATE_STATE_NAME", sat, "Duplicate State name: %s", name)
		}
		p.names[name] = true
		sobj, ok := statesRaw[name].(map[string]any)
		if !ok {
			p.schema(sat, "Expected value of type: Object")
			continue
		}
		if st := p.state(name, sobj, sat, m.QueryLanguage); st != nil {
			m.States[name] = st
		}
	}
	if m.StartAt != "" && m.States[m.StartAt] == nil && len(p.problems) == 0 {
		p.fail("MISSING_TRANSITION_TARGET", at+"/StartAt", "Missing 'Next' target: %s", m.StartAt)
	}
	p.transitions(m, at)
	return m
}

// transitions checks every Next, Default and Catch target exists, that
// some state ends the machine, and that every state is reachable.
func (p *parser) transitions(m *Machine, at string) {
	if len(p.problems) > 0 {
		return
	}
	reached := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		if reached[name] || m.States[name] == nil {
			return
		}
		reached[name] = true
		st := m.States[name]
		targets := []string{st.Next, st.Default}
		for _, c := range st.Choices {
			targets = append(targets, c.Next())
		}
		for _, c := range st.Catch {
			targets = append(targets, c.Next)
		}
		for _, t := range targets {
			if t == "" {
				continue
			}
			if m.States[t] == nil {
				p.fail("MISSING_TRANSITION_TARGET", at+"/States/"+name, "Missing 'Next' target: %s", t)
				continue
			}
			visit(t)
		}
	}
	visit(m.StartAt)
	names := make([]string, 0, len(m.States))
	for n := range m.States {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !reached[n] {
			p.fail("UNREACHABLE_STATE", at+"/States/"+n, "State '%s' is not reachable", n)
		}
	}
	terminal := false
	for _, st := range m.States {
		if st.End || st.Type == TypeSucceed || st.Type == TypeFail {
			terminal = true
		}
	}
	if !terminal {
		p.fail("MISSING_TERMINAL_STATE", at, "Workflow has no terminal state")
	}
}

var stateFields = map[string][]string{
	TypeTask:     {"Resource", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials", "Assign"},
	TypePass:     {"Parameters", "Result", "ResultPath", "Assign"},
	TypeChoice:   {"Choices", "Default", "Assign"},
	TypeWait:     {"Seconds", "Timestamp", "SecondsPath", "TimestampPath", "Assign"},
	TypeSucceed:  {},
	TypeFail:     {"Error", "Cause", "ErrorPath", "CausePath"},
	TypeParallel: {"Branches", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "Assign"},
	TypeMap:      {"Iterator", "ItemProcessor", "ItemsPath", "ItemSelector", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailureCount", "ToleratedFailureCountPath", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "ItemBatcher", "ItemReader", "ResultWriter", "Label", "Assign"},
}

// jsonataFields are the fields of each state type in a JSONata state,
// besides Type, Comment, QueryLanguage, Next and End.
var jsonataFields = map[string][]string{
	TypeTask:     {"Resource", "Arguments", "Output", "Assign", "Retry", "Catch", "TimeoutSeconds", "HeartbeatSeconds", "Credentials"},
	TypePass:     {"Output", "Assign"},
	TypeChoice:   {"Choices", "Default", "Output", "Assign"},
	TypeWait:     {"Seconds", "Timestamp", "Output", "Assign"},
	TypeSucceed:  {"Output"},
	TypeFail:     {"Error", "Cause"},
	TypeParallel: {"Branches", "Arguments", "Output", "Assign", "Retry", "Catch"},
	TypeMap:      {"Iterator", "ItemProcessor", "Items", "ItemSelector", "Output", "Assign", "Retry", "Catch", "MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage", "ItemBatcher", "ItemReader", "ResultWriter", "Label"},
}

func (p *parser) state(name string, obj map[string]any, at, lang string) *State {
	st := &State{Name: name, Type: p.str(obj, "Type", at, true), Comment: p.str(obj, "Comment", at, false), Lang: lang, at: at}
	if c, ok := obj["Credentials"]; ok {
		cm, isObj := c.(map[string]any)
		_, plain := cm["RoleArn"]
		_, path := cm["RoleArn.$"]
		if !isObj || !plain && !path {
			p.schema(at+"/Credentials", "The field 'RoleArn' is required but was missing")
		}
	}
	if ql := p.str(obj, "QueryLanguage", at, false); ql != "" {
		switch {
		case ql != JSONPath && ql != JSONata:
			p.schema(at+"/QueryLanguage", "Value is not a valid enum value: [JSONPath, JSONata]")
		case lang == JSONata && ql == JSONPath:
			p.schema(at, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine")
		default:
			st.Lang = ql
		}
	}
	table := stateFields
	if st.Lang == JSONata {
		table = jsonataFields
	}
	extra, known := table[st.Type]
	if !known {
		if st.Type != "" {
			p.schema(at+"/Type", "The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]")
		}
		return nil
	}
	allowed := append([]string{"Type", "Comment", "QueryLanguage"}, extra...)
	flows := st.Type != TypeChoice && st.Type != TypeSucceed && st.Type != TypeFail
	if flows {
		allowed = append(allowed, "Next", "End")
	}
	if st.Type != TypeFail && st.Lang == JSONPath {
		allowed = append(allowed, "InputPath", "OutputPath")
	}
	// A field of the other query language is named as such.
	other, otherLang := jsonataFields[st.Type], JSONata
	if st.Lang == JSONata {
		other, otherLang = append(append([]string{}, stateFields[st.Type]...), "InputPath", "OutputPath"), JSONPath
	}
	p.langFields(obj, at, st.Lang, otherLang, allowed, other)
	if flows {
		st.Next = p.str(obj, "Next", at, false)
		if v, ok := obj["End"]; ok {
			b, isBool := v.(bool)
			if !isBool {
				p.schema(at+"/End", "Expected value of type: Boolean")
			}
			st.End = b
		}
		switch {
		case st.Next != "" && st.End:
			p.schema(at, "Only one of 'Next' or 'End' may be specified")
		case st.Next == "" && !st.End:
			p.schema(at, "One of 'Next' or 'End' is required")
		}
	}
	if _, ok := obj["Assign"]; ok {
		st.Assign, st.hasAssign = p.assign(obj, at, st.Lang)
	}
	if st.Lang == JSONata {
		p.jsonataState(st, obj, at, lang)
		return st
	}
	if st.Type != TypeFail {
		st.InputPath = p.optPath(obj, "InputPath", at, false)
		st.OutputPath = p.optPath(obj, "OutputPath", at, false)
	}
	if _, ok := obj["ResultPath"]; ok {
		st.ResultPath = p.optPath(obj, "ResultPath", at, true)
	}
	if _, ok := obj["Parameters"]; ok && st.Type != TypeMap {
		st.Parameters, st.hasParameters = p.template(obj, "Parameters", at)
	}
	if _, ok := obj["ResultSelector"]; ok {
		st.ResultSelector, st.hasResultSelector = p.template(obj, "ResultSelector", at)
	}
	switch st.Type {
	case TypeTask:
		p.task(st, obj, at)
	case TypePass:
		if v, ok := obj["Result"]; ok {
			st.Result, st.hasResult = v, true
		}
	case TypeChoice:
		p.choice(st, obj, at)
	case TypeWait:
		p.wait(st, obj, at)
	case TypeFail:
		st.Error = p.str(obj, "Error", at, false)
		st.Cause = p.str(obj, "Cause", at, false)
		st.ErrorPath, st.ErrorIntrinsic = p.pathOrIntrinsic(obj, "ErrorPath", at)
		st.CausePath, st.CauseFun = p.pathOrIntrinsic(obj, "CausePath", at)
		if st.Error != "" && (st.ErrorPath != nil || st.ErrorIntrinsic != nil) {
			p.schema(at, "Only one of 'Error' or 'ErrorPath' may be specified")
		}
		if st.Cause != "" && (st.CausePath != nil || st.CauseFun != nil) {
			p.schema(at, "Only one of 'Cause' or 'CausePath' may be specified")
		}
	case TypeParallel:
		p.parallel(st, obj, at, lang)
	case TypeMap:
		p.mapState(st, obj, at, lang)
	}
	return st
}

func (p *parser) parallel(st *State, obj map[string]any, at, lang string) {
	p.retryCatch(st, obj, at)
	switch branches, ok := obj["Branches"].([]any); {
	case !ok && obj["Branches"] == nil:
		p.schema(at, "These fields are required: [Branches]")
	case ok && len(branches) == 0:
		p.schema(at+"/Branches", "Value cannot be empty")
	}
	p.objects(obj, "Branches", at, func(bobj map[string]any, bat string) {
		st.Branches = append(st.Branches, p.machine(bobj, bat, lang, false))
	})
}

// variableName reports whether s may name a workflow variable.
func variableName(s string) bool {
	if s == "" || len(s) > 80 || s == "states" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}

// assign parses an Assign field: an object whose keys name variables. In
// JSONPath states its values are templates ("name.$" keys take a path or
// an intrinsic); in JSONata states they may hold expressions.
func (p *parser) assign(obj map[string]any, at, lang string) (any, bool) {
	m, ok := obj["Assign"].(map[string]any)
	if !ok {
		p.schema(at+"/Assign", "Expected value of type: Object")
		return nil, false
	}
	for _, k := range sortedKeys(m) {
		name := k
		if lang == JSONPath {
			name = strings.TrimSuffix(k, ".$")
		}
		if !variableName(name) {
			p.schema(at+"/Assign/"+k, "The variable name '%s' is invalid: it must start with a letter or '_', hold only letters, digits and '_', be at most 80 characters and not be 'states'", name)
		}
	}
	if lang == JSONata {
		p.checkExpressions(m, at+"/Assign")
		return m, true
	}
	if err := CheckTemplate(m); err != nil {
		p.schema(at+"/Assign", "%v", err)
	}
	return m, true
}

// checkExpressions reports what is wrong with the JSONata expressions in
// v, the value at pointer, as AWS does at creation.
func (p *parser) checkExpressions(v any, pointer string) bool {
	problems := jsonataProblems(v, pointer)
	for _, pr := range problems {
		p.fail(pr.code, pr.pointer, "%s", pr.msg)
	}
	return len(problems) == 0
}

// jsonataValue parses a JSONata field that may hold any JSON with
// expressions inside.
func (p *parser) jsonataValue(obj map[string]any, key, at string) (any, bool) {
	v, ok := obj[key]
	if !ok {
		return nil, false
	}
	p.checkExpressions(v, at+"/"+key)
	return v, true
}

// jsonataNumber parses a field that holds a number or an expression: a
// number goes to set, an expression to st.exprs.
func (p *parser) jsonataNumber(st *State, obj map[string]any, key, at string, set func(obj map[string]any)) {
	v, ok := obj[key]
	if !ok {
		return
	}
	if s, isStr := v.(string); isStr {
		if _, isExpr := jsonataExpr(s); !isExpr {
			p.schema(at+"/"+key, "The value for the field '%s' must be a number or a JSONata expression", key)
			return
		}
		if !p.checkExpressions(s, at+"/"+key) {
			return
		}
		if st.exprs == nil {
			st.exprs = map[string]string{}
		}
		st.exprs[key] = s
		return
	}
	set(obj)
}

// jsonataString parses a field that holds a literal string or an
// expression.
func (p *parser) jsonataString(st *State, obj map[string]any, key, at string) string {
	s := p.str(obj, key, at, false)
	if _, isExpr := jsonataExpr(s); isExpr {
		if !p.checkExpressions(s, at+"/"+key) {
			return ""
		}
		if st.exprs == nil {
			st.exprs = map[string]string{}
		}
		st.exprs[key] = s
		return ""
	}
	return s
}

// jsonataState parses the type-specific fields of a JSONata state.
func (p *parser) jsonataState(st *State, obj map[string]any, at, lang string) {
	st.Output, st.hasOutput = p.jsonataValue(obj, "Output", at)
	st.Arguments, st.hasArguments = p.jsonataValue(obj, "Arguments", at)
	switch st.Type {
	case TypeTask:
		st.Resource = p.str(obj, "Resource", at, true)
		if st.Resource != "" && !strings.HasPrefix(st.Resource, "arn:") {
			p.schema(at+"/Resource", "Value is not a valid resource ARN")
		}
		p.jsonataNumber(st, obj, "TimeoutSeconds", at, func(o map[string]any) { st.TimeoutSeconds, _ = p.integer(o, "TimeoutSeconds", at, 1) })
		p.jsonataNumber(st, obj, "HeartbeatSeconds", at, func(o map[string]any) { st.HeartbeatSeconds, _ = p.integer(o, "HeartbeatSeconds", at, 1) })
		if st.HeartbeatSeconds > 0 && st.TimeoutSeconds > 0 && st.HeartbeatSeconds >= st.TimeoutSeconds {
			p.schema(at+"/HeartbeatSeconds", "HeartbeatSeconds must be smaller than TimeoutSeconds")
		}
		p.retryCatch(st, obj, at)
	case TypeChoice:
		p.choice(st, obj, at)
	case TypeWait:
		set := 0
		if _, ok := obj["Seconds"]; ok {
			set++
			p.jsonataNumber(st, obj, "Seconds", at, func(o map[string]any) {
				if n, ok := p.integer(o, "Seconds", at, 0); ok {
					f := float64(n)
					st.Seconds = &f
				}
			})
		}
		if _, ok := obj["Timestamp"]; ok {
			set++
			if s := p.jsonataString(st, obj, "Timestamp", at); s != "" {
				t, err := ParseTimestamp(s)
				if err != nil {
					p.schema(at+"/Timestamp", "String does not match RFC3339 timestamp")
				}
				st.Timestamp = &t
			}
		}
		if set != 1 {
			p.schema(at, "Exactly one of 'Seconds' or 'Timestamp' is required")
		}
	case TypeFail:
		st.Error = p.jsonataString(st, obj, "Error", at)
		st.Cause = p.jsonataString(st, obj, "Cause", at)
	case TypeParallel:
		p.parallel(st, obj, at, lang)
	case TypeMap:
		p.mapState(st, obj, at, lang)
	}
}

func (p *parser) task(st *State, obj map[string]any, at string) {
	st.Resource = p.str(obj, "Resource", at, true)
	if st.Resource != "" && !strings.HasPrefix(st.Resource, "arn:") {
		p.schema(at+"/Resource", "Value is not a valid resource ARN")
	}
	st.TimeoutSeconds, _ = p.integer(obj, "TimeoutSeconds", at, 1)
	st.TimeoutSecondsPath = p.path(obj, "TimeoutSecondsPath", at, true)
	st.HeartbeatSeconds, _ = p.integer(obj, "HeartbeatSeconds", at, 1)
	st.HeartbeatSecondsPath = p.path(obj, "HeartbeatSecondsPath", at, true)
	if st.TimeoutSeconds > 0 && st.TimeoutSecondsPath != nil {
		p.schema(at, "Only one of 'TimeoutSeconds' or 'TimeoutSecondsPath' may be specified")
	}
	if st.HeartbeatSeconds > 0 && st.HeartbeatSecondsPath != nil {
		p.schema(at, "Only one of 'HeartbeatSeconds' or 'HeartbeatSecondsPath' may be specified")
	}
	if st.HeartbeatSeconds > 0 && st.TimeoutSeconds > 0 && st.HeartbeatSeconds >= st.TimeoutSeconds {
		p.schema(at+"/HeartbeatSeconds", "HeartbeatSeconds must be smaller than TimeoutSeconds")
	}
	p.retryCatch(st, obj, at)
}

func (p *parser) errorEquals(obj map[string]any, at string) []string {
	list, ok := obj["ErrorEquals"].([]any)
	if !ok || len(list) == 0 {
		p.schema(at, "These fields are required: [ErrorEquals]")
		return nil
	}
	out := make([]string, 0, len(list))
	for i, v := range list {
		s, ok := v.(string)
		if !ok {
			p.schema(fmt.Sprintf("%s/ErrorEquals/%d", at, i), "Expected value of type: String")
			continue
		}
		if s == ErrAll && len(list) > 1 {
			p.schema(at+"/ErrorEquals", "States.ALL must appear alone in ErrorEquals")
		}
		out = append(out, s)
	}
	return out
}

func (p *parser) retryCatch(st *State, obj map[string]any, at string) {
	if p.objects(obj, "Retry", at, func(robj map[string]any, rat string) {
		p.fields(robj, rat, "ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment")
		rt := &Retrier{ErrorEquals: p.errorEquals(robj, rat), IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2}
		if n, ok := p.integer(robj, "IntervalSeconds", rat, 1); ok {
			rt.IntervalSeconds = float64(n)
		}
		if n, ok := p.integer(robj, "MaxAttempts", rat, 0); ok {
			rt.MaxAttempts = n
		}
		if f, ok := p.number(robj, "BackoffRate", rat); ok {
			if f < 1 {
				p.schema(rat+"/BackoffRate", "Value must be at least 1.0")
			}
			rt.BackoffRate = f
		}
		if n, ok := p.integer(robj, "MaxDelaySeconds", rat, 1); ok {
			rt.MaxDelaySeconds = float64(n)
		}
		switch js := p.str(robj, "JitterStrategy", rat, false); js {
		case "", "NONE":
		case "FULL":
			rt.JitterFull = true
		default:
			p.schema(rat+"/JitterStrategy", "Value is not a valid enum value: [FULL, NONE]")
		}
		st.Retry = append(st.Retry, rt)
	}) {
		p.allLast(st.retryErrors(), at+"/Retry")
	}
	if p.objects(obj, "Catch", at, func(cobj map[string]any, cat string) {
		c := &Catcher{ErrorEquals: p.errorEquals(cobj, cat), Next: p.str(cobj, "Next", cat, true)}
		if st.Lang == JSONata {
			p.fields(cobj, cat, "ErrorEquals", "Next", "Output", "Assign", "Comment")
			c.Output, c.hasOutput = p.jsonataValue(cobj, "Output", cat)
		} else {
			p.fields(cobj, cat, "ErrorEquals", "Next", "ResultPath", "Assign", "Comment")
			c.ResultPath = p.optPath(cobj, "ResultPath", cat, true)
		}
		if _, ok := cobj["Assign"]; ok {
			c.Assign, c.hasAssign = p.assign(cobj, cat, st.Lang)
		}
		st.Catch = append(st.Catch, c)
	}) {
		var lists [][]string
		for _, c := range st.Catch {
			lists = append(lists, c.ErrorEquals)
		}
		p.allLast(lists, at+"/Catch")
	}
}

// objects calls fn for each object of the array field key, with its JSON
// pointer, reporting entries that are not objects. It reports whether the
// field is present.
func (p *parser) objects(obj map[string]any, key, at string, fn func(o map[string]any, at string)) bool {
	raw, present := obj[key]
	if !present {
		return false
	}
	list, isList := raw.([]any)
	if !isList {
		p.schema(at+"/"+key, "Expected value of type: Array")
		return true
	}
	for i, v := range list {
		eat := fmt.Sprintf("%s/%s/%d", at, key, i)
		o, ok := v.(map[string]any)
		if !ok {
			p.schema(eat, "Expected value of type: Object")
			continue
		}
		fn(o, eat)
	}
	return true
}

func (st *State) retryErrors() [][]string {
	var lists [][]string
	for _, r := range st.Retry {
		lists = append(lists, r.ErrorEquals)
	}
	return lists
}

// allLast checks that a States.ALL retrier or catcher comes last.
func (p *parser) allLast(lists [][]string, at string) {
	for i, l := range lists {
		if len(l) == 1 && l[0] == ErrAll && i != len(lists)-1 {
			p.schema(fmt.Sprintf("%s/%d", at, i), "States.ALL must be the last entry")
		}
	}
}

func (p *parser) choice(st *State, obj map[string]any, at string) {
	st.Default = p.str(obj, "Default", at, false)
	if list, ok := obj["Choices"].([]any); !ok || len(list) == 0 {
		p.schema(at, "These fields are required: [Choices]")
		return
	}
	p.objects(obj, "Choices", at, func(cobj map[string]any, cat string) {
		var rule *ChoiceRule
		if st.Lang == JSONata {
			p.fields(cobj, cat, "Condition", "Next", "Output", "Assign", "Comment")
			rule = &ChoiceRule{next: p.str(cobj, "Next", cat, true)}
			// A Condition is an expression or a boolean constant.
			if b, isBool := cobj["Condition"].(bool); isBool {
				rule.condition = fmt.Sprintf("{%% %t %%}", b)
			} else {
				rule.condition = p.str(cobj, "Condition", cat, true)
			}
			if rule.condition != "" {
				if _, ok := jsonataExpr(rule.condition); !ok {
					p.schema(cat+"/Condition", "The value for the field 'Condition' must be a JSONata expression")
				} else {
					p.checkExpressions(rule.condition, cat+"/Condition")
				}
			}
			rule.output, rule.hasOutput = p.jsonataValue(cobj, "Output", cat)
		} else {
			plain := cobj
			if _, ok := cobj["Assign"]; ok {
				plain = make(map[string]any, len(cobj))
				for k, v := range cobj {
					if k != "Assign" {
						plain[k] = v
					}
				}
			}
			var err error
			rule, err = ParseChoiceRule(plain, true)
			if err != nil {
				var ce *ChoiceRuleError
				if errors.As(err, &ce) {
					p.schema(cat+ce.Pointer, "%s", ce.Msg)
				} else {
					p.schema(cat, "%v", err)
				}
				return
			}
		}
		if _, ok := cobj["Assign"]; ok {
			rule.assign, rule.hasAssign = p.assign(cobj, cat, st.Lang)
		}
		st.Choices = append(st.Choices, rule)
	})
}

func (p *parser) wait(st *State, obj map[string]any, at string) {
	set := 0
	if f, ok := p.number(obj, "Seconds", at); ok {
		if f < 0 || f > 99999999 {
			p.schema(at+"/Seconds", "Value must be between 0 and 99999999")
		}
		st.Seconds = &f
		set++
	}
	if s := p.str(obj, "Timestamp", at, false); s != "" {
		t, err := ParseTimestamp(s)
		if err != nil {
			p.schema(at+"/Timestamp", "String does not match RFC3339 timestamp")
		}
		st.Timestamp = &t
		set++
	}
	if st.SecondsPath = p.path(obj, "SecondsPath", at, true); st.SecondsPath != nil {
		set++
	}
	if st.TimestampPath = p.path(obj, "TimestampPath", at, true); st.TimestampPath != nil {
		set++
	}
	if set != 1 {
		p.schema(at, "Exactly one of 'Seconds', 'Timestamp', 'SecondsPath' or 'TimestampPath' is required")
	}
}

func (p *parser) mapState(st *State, obj map[string]any, at, lang string) {
	p.retryCatch(st, obj, at)
	if _, ok := obj["ItemReader"]; ok {
		p.schema(at+"/ItemReader", "ItemReader is not supported yet")
	}
	if _, ok := obj["ResultWriter"]; ok {
		p.schema(at+"/ResultWriter", "ResultWriter is not supported yet")
	}
	if st.Lang == JSONata {
		st.Items, st.hasItems = p.jsonataValue(obj, "Items", at)
		if st.hasItems {
			switch v := st.Items.(type) {
			case []any:
			case string:
				if _, ok := jsonataExpr(v); !ok {
					p.schema(at+"/Items", "The value for the field 'Items' must be an array or a JSONata expression")
				}
			default:
				p.schema(at+"/Items", "The value for the field 'Items' must be an array or a JSONata expression")
			}
		}
		st.ItemSelector, st.hasItemSelector = p.jsonataValue(obj, "ItemSelector", at)
		p.jsonataNumber(st, obj, "MaxConcurrency", at, func(o map[string]any) { st.MaxConcurrency, _ = p.integer(o, "MaxConcurrency", at, 0) })
		p.jsonataNumber(st, obj, "ToleratedFailureCount", at, func(o map[string]any) {
			st.ToleratedFailureCount, st.hasTolCount = p.integer(o, "ToleratedFailureCount", at, 0)
		})
		p.jsonataNumber(st, obj, "ToleratedFailurePercentage", at, func(o map[string]any) {
			if f, ok := p.number(o, "ToleratedFailurePercentage", at); ok {
				if f < 0 || f > 100 {
					p.schema(at+"/ToleratedFailurePercentage", "Value must be between 0 and 100")
				}
				st.ToleratedFailurePercentage, st.hasTolPct = f, true
			}
		})
		st.hasTolCount = st.hasTolCount || st.exprs["ToleratedFailureCount"] != ""
		st.hasTolPct = st.hasTolPct || st.exprs["ToleratedFailurePercentage"] != ""
		if b, ok := obj["ItemBatcher"].(map[string]any); ok {
			bat := at + "/ItemBatcher"
			p.fields(b, bat, "MaxItemsPerBatch", "MaxInputBytesPerBatch", "BatchInput")
			st.hasBatcher = true
			p.jsonataNumber(st, b, "MaxItemsPerBatch", bat, func(o map[string]any) { st.MaxItemsPerBatch, _ = p.integer(o, "MaxItemsPerBatch", bat, 1) })
			st.BatchInput, _ = p.jsonataValue(b, "BatchInput", bat)
		}
	} else {
		p.jsonPathMapFields(st, obj, at)
	}
	st.Label = p.str(obj, "Label", at, false)
	procKey := "ItemProcessor"
	proc, ok := obj["ItemProcessor"].(map[string]any)
	if ok && st.Lang == JSONata {
		if _, legacy := obj["Iterator"]; legacy {
			p.schema(at+"/Iterator", "Field 'Iterator' is not supported")
		}
	}
	if !ok {
		procKey = "Iterator"
		proc, ok = obj["Iterator"].(map[string]any)
	}
	if !ok {
		p.schema(at, "These fields are required: [ItemProcessor]")
		return
	}
	st.ProcessorMode = "INLINE"
	if cfg, ok := proc["ProcessorConfig"].(map[string]any); ok {
		switch mode := p.str(cfg, "Mode", at+"/"+procKey+"/ProcessorConfig", false); mode {
		case "", "INLINE":
		case "DISTRIBUTED":
			st.ProcessorMode = mode
		default:
			p.schema(at+"/"+procKey+"/ProcessorConfig/Mode", "Value is not a valid enum value: [INLINE, DISTRIBUTED]")
		}
	}
	if (st.hasTolCount || st.hasTolPct) && st.ProcessorMode != "DISTRIBUTED" {
		p.schema(at, "ToleratedFailure fields are only supported in DISTRIBUTED mode")
	}
	st.Processor = p.machine(proc, at+"/"+procKey, lang, false)
}

func (p *parser) jsonPathMapFields(st *State, obj map[string]any, at string) {
	st.ItemsPath = p.optPath(obj, "ItemsPath", at, true)
	_, params := obj["Parameters"]
	_, sel := obj["ItemSelector"]
	if params && sel {
		p.schema(at, "Only one of 'Parameters' or 'ItemSelector' may be specified")
	}
	if params {
		st.ItemSelector, st.hasItemSelector = p.template(obj, "Parameters", at)
	}
	if sel {
		st.ItemSelector, st.hasItemSelector = p.template(obj, "ItemSelector", at)
	}
	st.MaxConcurrency, _ = p.integer(obj, "MaxConcurrency", at, 0)
	st.MaxConcurrencyPath = p.path(obj, "MaxConcurrencyPath", at, true)
	if n, ok := p.integer(obj, "ToleratedFailureCount", at, 0); ok {
		st.ToleratedFailureCount, st.hasTolCount = n, true
	}
	st.ToleratedFailureCountPath = p.path(obj, "ToleratedFailureCountPath", at, true)
	if f, ok := p.number(obj, "ToleratedFailurePercentage", at); ok {
		if f < 0 || f > 100 {
			p.schema(at+"/ToleratedFailurePercentage", "Value must be between 0 and 100")
		}
		st.ToleratedFailurePercentage, st.hasTolPct = f, true
	}
	st.ToleratedFailurePctPath = p.path(obj, "ToleratedFailurePercentagePath", at, true)
	st.hasTolCount = st.hasTolCount || st.ToleratedFailureCountPath != nil
	st.hasTolPct = st.hasTolPct || st.ToleratedFailurePctPath != nil
	if b, ok := obj["ItemBatcher"].(map[string]any); ok {
		bat := at + "/ItemBatcher"
		p.fields(b, bat, "MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath", "BatchInput")
		st.hasBatcher = true
		st.MaxItemsPerBatch, _ = p.integer(b, "MaxItemsPerBatch", bat, 1)
		st.BatchInput = b["BatchInput"]
	}
}

// ExpressProblems lists what an EXPRESS state machine may not use, in
// AWS's words: .waitForTaskToken and .sync integrations and activities.
func ExpressProblems(m *Machine) []string {
	var out []string
	var walk func(m *Machine)
	walk = func(m *Machine) {
		for _, name := range sortedStateNames(m) {
			st := m.States[name]
			switch {
			case st.Type != TypeTask:
			case strings.HasSuffix(st.Resource, ".waitForTaskToken"):
				out = append(out, "SCHEMA_VALIDATION_FAILED: Express state machine does not support '.waitForTaskToken' service integration  at "+st.at+"/Resource")
			case strings.HasSuffix(st.Resource, ".sync") || strings.HasSuffix(st.Resource, ".sync:2"):
				out = append(out, "SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration at "+st.at+"/Resource")
			case strings.Contains(st.Resource, ":activity:"):
				out = append(out, "SCHEMA_VALIDATION_FAILED: Express state machine does not support Activity ARN at "+st.at+"/Resource")
			}
			for _, b := range st.Branches {
				walk(b)
			}
			if st.Processor != nil {
				walk(st.Processor)
			}
		}
	}
	walk(m)
	return out
}

func sortedStateNames(m *Machine) []string {
	names := make([]string, 0, len(m.States))
	for n := range m.States {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ParseTimestamp parses an RFC 3339 timestamp as Step Functions accepts
// it (a 'T' separator and an offset or Z are required), with the same
// strict rules Choice rules apply.
func ParseTimestamp(s string) (time.Time, error) {
	t, ok := parseChoiceTimestamp(s)
	if !ok {
		return time.Time{}, fmt.Errorf("invalid timestamp %q", s)
	}
	return t, nil
}
