package states

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A ChoiceRule is one parsed JSONPath Choice Rule: a Boolean expression
// (And, Or, Not) over nested rules, or a data test of the value a
// Variable path selects. Top-level rules carry the Next state. A
// ChoiceRule is immutable and safe for concurrent use.
type ChoiceRule struct {
	next string

	// A top-level rule's Assign and (JSONata) Output, used when it matches.
	assign, output       any
	hasAssign, hasOutput bool
	// condition is a JSONata rule's Condition expression ("{% ... %}").
	condition string

	// Boolean expressions.
	op    *choiceOp     // nil for And, Or and Not
	logic string        // "And", "Or" or "Not"
	rules []*ChoiceRule // operands of And and Or; the one rule of Not

	// Data tests.
	variable    *Path
	variableSrc string
	str         string    // String* operand; StringMatches source
	num         decimal   // Numeric* operand
	boolean     bool      // BooleanEquals and Is* operand
	ts          time.Time // Timestamp* operand
	path        *Path     // *Path operand
	pathSrc     string    // source text of path
	pattern     []string  // StringMatches literals between the wildcards
	patternErr  bool      // StringMatches pattern ends in an open escape
}

// choiceOp describes one comparison operator.
type choiceOp struct {
	name string
	kind opKind
	cmp  cmpKind // for String*, Numeric* and Timestamp*
	path bool    // the operand is a path on the input
	test func(v any) bool
}

type opKind int

const (
	kindString opKind = iota
	kindNumeric
	kindBoolean
	kindTimestamp
	kindMatches
	kindIs
	kindIsPresent
)

type cmpKind int

const (
	cmpEq cmpKind = iota
	cmpGt
	cmpGe
	cmpLt
	cmpLe
)

// choiceOps holds every comparison operator by name.
var choiceOps = func() map[string]*choiceOp {
	ops := map[string]*choiceOp{}
	cmps := []struct {
		suffix string
		cmp    cmpKind
	}{
		{"Equals", cmpEq},
		{"GreaterThan", cmpGt},
		{"GreaterThanEquals", cmpGe},
		{"LessThan", cmpLt},
		{"LessThanEquals", cmpLe},
	}
	add := func(op *choiceOp) {
		ops[op.name] = op
		withPath := *op
		withPath.name += "Path"
		withPath.path = true
		ops[withPath.name] = &withPath
	}
	for _, c := range cmps {
		add(&choiceOp{name: "String" + c.suffix, kind: kindString, cmp: c.cmp})
		add(&choiceOp{name: "Numeric" + c.suffix, kind: kindNumeric, cmp: c.cmp})
		add(&choiceOp{name: "Timestamp" + c.suffix, kind: kindTimestamp, cmp: c.cmp})
	}
	add(&choiceOp{name: "BooleanEquals", kind: kindBoolean})
	ops["StringMatches"] = &choiceOp{name: "StringMatches", kind: kindMatches}
	is := map[string]func(any) bool{
		"IsBoolean": func(v any) bool { _, ok := v.(bool); return ok },
		"IsNull":    func(v any) bool { return v == nil },
		"IsNumeric": func(v any) bool { _, ok := toDecimal(v); return ok },
		"IsString":  func(v any) bool { _, ok := v.(string); return ok },
		"IsTimestamp": func(v any) bool {
			s, ok := v.(string)
			if !ok {
				return false
			}
			_, ok = parseChoiceTimestamp(s)
			return ok
		},
	}
	for name, test := range is {
		ops[name] = &choiceOp{name: name, kind: kindIs, test: test}
	}
	ops["IsPresent"] = &choiceOp{name: "IsPresent", kind: kindIsPresent}
	return ops
}()

// A ChoiceRuleError reports an invalid Choice Rule. Its message names
// the offending field; Pointer locates that field relative to the rule
// as a JSON Pointer ("/And/1/NumericEquals"), or is "" when the rule
// object itself is at fault, so a validator can report the location as
// the rule's location followed by Pointer.
type ChoiceRuleError struct {
	Pointer string
	Msg     string
}

func (e *ChoiceRuleError) Error() string { return e.Msg }

func ruleErrorf(pointer, format string, args ...any) *ChoiceRuleError {
	return &ChoiceRuleError{Pointer: pointer, Msg: fmt.Sprintf(format, args...)}
}

// ParseChoiceRule parses one JSONPath Choice Rule, the decoded JSON
// object raw (see Decode). top marks a rule directly in a Choice state's
// Choices, which must name its Next state; rules nested in And, Or and
// Not must not. Errors are *ChoiceRuleError.
//
// A rule holds exactly one of And, Or, Not or a comparison operator; a
// comparison also holds Variable, a reference path. Operands must have
// the operator's type: a string for String*, a number for Numeric*, a
// boolean for BooleanEquals and Is*, an RFC 3339 timestamp for
// Timestamp*, a reference path for every *Path operator. Comment is
// allowed and ignored.
func ParseChoiceRule(raw map[string]any, top bool) (*ChoiceRule, error) {
	r, err := parseChoiceRule(raw, top)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func parseChoiceRule(raw map[string]any, top bool) (*ChoiceRule, *ChoiceRuleError) {
	var ops, unknown []string
	for k := range raw {
		switch {
		case k == "Variable" || k == "Next" || k == "Comment":
		case k == "And" || k == "Or" || k == "Not" || choiceOps[k] != nil:
			ops = append(ops, k)
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		k := slices.Min(unknown)
		return nil, ruleErrorf("/"+k, "Field '%s' is not supported", k)
	}
	slices.Sort(ops)
	switch {
	case len(ops) == 0:
		return nil, ruleErrorf("", "A choice rule must contain one of 'And', 'Or', 'Not' or a comparison operator")
	case len(ops) > 1:
		return nil, ruleErrorf("/"+ops[1], "A choice rule must contain exactly one of 'And', 'Or', 'Not' or a comparison operator, found '%s'", strings.Join(ops, "', '"))
	}
	r := &ChoiceRule{}
	if err := r.parseNext(raw, top); err != nil {
		return nil, err
	}
	if c, ok := raw["Comment"]; ok {
		if _, isStr := c.(string); !isStr {
			return nil, ruleErrorf("/Comment", "The value for the field 'Comment' must be a String")
		}
	}
	op := ops[0]
	switch op {
	case "And", "Or", "Not":
		if _, ok := raw["Variable"]; ok {
			return nil, ruleErrorf("/Variable", "Field 'Variable' is not supported in a rule with '%s'", op)
		}
		return r, r.parseLogic(op, raw[op])
	}
	return r, r.parseTest(choiceOps[op], raw)
}

func (r *ChoiceRule) parseNext(raw map[string]any, top bool) *ChoiceRuleError {
	v, ok := raw["Next"]
	switch {
	case !top && ok:
		return ruleErrorf("/Next", "Field 'Next' is not supported in a nested choice rule")
	case !top:
		return nil
	case !ok:
		return ruleErrorf("", "These fields are required: [Next]")
	}
	s, isStr := v.(string)
	if !isStr || s == "" {
		return ruleErrorf("/Next", "The value for the field 'Next' must be a non-empty String")
	}
	r.next = s
	return nil
}

func (r *ChoiceRule) parseLogic(op string, v any) *ChoiceRuleError {
	r.logic = op
	if op == "Not" {
		obj, ok := v.(map[string]any)
		if !ok {
			return ruleErrorf("/Not", "The value for the field 'Not' must be a choice rule object")
		}
		sub, err := parseChoiceRule(obj, false)
		if err != nil {
			err.Pointer = "/Not" + err.Pointer
			return err
		}
		r.rules = []*ChoiceRule{sub}
		return nil
	}
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return ruleErrorf("/"+op, "The value for the field '%s' must be a non-empty array of choice rules", op)
	}
	for i, e := range list {
		at := fmt.Sprintf("/%s/%d", op, i)
		obj, ok := e.(map[string]any)
		if !ok {
			return ruleErrorf(at, "The elements of the field '%s' must be choice rule objects", op)
		}
		sub, err := parseChoiceRule(obj, false)
		if err != nil {
			err.Pointer = at + err.Pointer
			return err
		}
		r.rules = append(r.rules, sub)
	}
	return nil
}

// parseRefPath parses the reference path in field key of raw.
func parseRefPath(raw map[string]any, key string) (*Path, string, *ChoiceRuleError) {
	v, ok := raw[key]
	if !ok {
		return nil, "", ruleErrorf("", "These fields are required: [%s]", key)
	}
	s, isStr := v.(string)
	if !isStr {
		return nil, "", ruleErrorf("/"+key, "The value for the field '%s' must be a valid JSONPath", key)
	}
	p, err := ParsePath(s)
	if err != nil || p == nil {
		return nil, "", ruleErrorf("/"+key, "The value for the field '%s' must be a valid JSONPath", key)
	}
	if !p.Definite() {
		return nil, "", ruleErrorf("/"+key, "The value for the field '%s' must be a valid Reference Path", key)
	}
	return p, s, nil
}

func (r *ChoiceRule) parseTest(op *choiceOp, raw map[string]any) *ChoiceRuleError {
	r.op = op
	var err *ChoiceRuleError
	if r.variable, r.variableSrc, err = parseRefPath(raw, "Variable"); err != nil {
		return err
	}
	if op.path {
		r.path, r.pathSrc, err = parseRefPath(raw, op.name)
		return err
	}
	v := raw[op.name]
	at := "/" + op.name
	switch op.kind {
	case kindString, kindMatches:
		s, ok := v.(string)
		if !ok {
			return ruleErrorf(at, "The value for the field '%s' must be a String", op.name)
		}
		r.str = s
		if op.kind == kindMatches {
			r.pattern, r.patternErr = parsePattern(s)
		}
	case kindNumeric:
		d, ok := v.(json.Number)
		if ok {
			r.num, ok = parseDecimal(string(d))
		}
		if !ok {
			return ruleErrorf(at, "The value for the field '%s' must be a Number", op.name)
		}
	case kindTimestamp:
		s, ok := v.(string)
		if ok {
			r.ts, ok = parseChoiceTimestamp(s)
		}
		if !ok {
			return ruleErrorf(at, "The value for the field '%s' must be a valid RFC 3339 timestamp", op.name)
		}
	case kindBoolean, kindIs, kindIsPresent:
		b, ok := v.(bool)
		if !ok {
			return ruleErrorf(at, "The value for the field '%s' must be a Boolean", op.name)
		}
		r.boolean = b
	}
	return nil
}

// Next returns the state a top-level rule transitions to when it
// matches; "" for a nested rule.
func (r *ChoiceRule) Next() string { return r.next }

// Match evaluates the rule against a state's effective input and the
// context object (which paths starting with "$$" select from).
//
// A comparison whose values are not both of the operator's type is
// false. A Variable or *Path operand that selects nothing fails the
// rule with a States.Runtime *Error whose cause is AWS's ("Invalid path
// '$.x': The choice state's condition path references an invalid
// value."); IsPresent is then simply false. And and Or stop at the first
// operand that decides them, so an earlier IsPresent can guard a later
// comparison.
func (r *ChoiceRule) Match(input, context any) (bool, error) {
	return r.MatchVars(input, context, nil)
}

// MatchVars is Match with $name paths reading workflow variables.
func (r *ChoiceRule) MatchVars(input, context any, vars Vars) (bool, error) {
	switch r.logic {
	case "And", "Or":
		want := r.logic == "Or" // the operand value that decides the result
		for _, sub := range r.rules {
			ok, err := sub.MatchVars(input, context, vars)
			if err != nil {
				return false, err
			}
			if ok == want {
				return want, nil
			}
		}
		return !want, nil
	case "Not":
		ok, err := r.rules[0].MatchVars(input, context, vars)
		return !ok && err == nil, err
	}
	v, ok := choiceGet(r.variable, input, context, vars)
	if r.op.kind == kindIsPresent {
		return ok == r.boolean, nil
	}
	if !ok {
		return false, invalidChoicePath(r.variableSrc)
	}
	operand := any(nil)
	if r.path != nil {
		if operand, ok = choiceGet(r.path, input, context, vars); !ok {
			return false, invalidChoicePath(r.pathSrc)
		}
	}
	return r.test(v, operand)
}

func choiceGet(p *Path, input, context any, vars Vars) (any, bool) {
	src, ok := p.Source(input, context, vars)
	if !ok {
		return nil, false
	}
	return p.Get(src)
}

func invalidChoicePath(path string) *Error {
	return Errorf(ErrRuntime, "Invalid path '%s': The choice state's condition path references an invalid value.", path)
}

// test applies the comparison to the Variable's value v and, for *Path
// operators, the value the operand path selected.
func (r *ChoiceRule) test(v, operand any) (bool, error) {
	op := r.op
	switch op.kind {
	case kindIs:
		return op.test(v) == r.boolean, nil
	case kindBoolean:
		b, ok := v.(bool)
		if !ok {
			return false, nil
		}
		want := r.boolean
		if op.path {
			if want, ok = operand.(bool); !ok {
				return false, nil
			}
		}
		return b == want, nil
	case kindMatches:
		if r.patternErr {
			return false, Errorf(ErrRuntime, "The StringMatches pattern '%s' ends with an open escape character '\\'", r.str)
		}
		s, ok := v.(string)
		return ok && matchPattern(r.pattern, s), nil
	case kindString:
		s, ok := v.(string)
		want := r.str
		if op.path && ok {
			want, ok = operand.(string)
		}
		return ok && cmpResult(op.cmp, compareUTF16(s, want)), nil
	case kindNumeric:
		d, ok := toDecimal(v)
		want := r.num
		if op.path && ok {
			want, ok = toDecimal(operand)
		}
		return ok && cmpResult(op.cmp, d.cmp(want)), nil
	case kindTimestamp:
		t, ok := toTimestamp(v)
		want := r.ts
		if op.path && ok {
			want, ok = toTimestamp(operand)
		}
		return ok && cmpResult(op.cmp, t.Compare(want)), nil
	}
	return false, nil
}

func cmpResult(k cmpKind, c int) bool {
	switch k {
	case cmpEq:
		return c == 0
	case cmpGt:
		return c > 0
	case cmpGe:
		return c >= 0
	case cmpLt:
		return c < 0
	default:
		return c <= 0
	}
}

// compareUTF16 compares strings as Java's String.compareTo does, by
// UTF-16 code units: the order AWS documents for string comparisons.
// It differs from code point order only where a supplementary character
// (encoded as a surrogate pair, 0xD800-0xDFFF) meets a character in
// U+E000-U+FFFF.
func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := firstUnit(ra), firstUnit(rb)
			if ua != ub {
				return cmpInt(ua, ub)
			}
			// Both are surrogate pairs with the same high surrogate, so
			// the low surrogates, and hence the runes, order alike.
			return cmpInt(ra, rb)
		}
		a, b = a[na:], b[nb:]
	}
	return cmpInt(len(a), len(b))
}

// firstUnit returns the first UTF-16 code unit of r.
func firstUnit(r rune) rune {
	if r >= 0x10000 {
		return 0xD800 + (r-0x10000)>>10
	}
	return r
}

func cmpInt[T int | rune](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parsePattern splits a StringMatches pattern at its unescaped '*'
// wildcards into the literal text between them: "\*" is a literal '*',
// "\\" a literal '\', and '\' before any other character escapes it to
// itself. open reports a '\' at the end with nothing to escape, which
// AWS fails at run time.
func parsePattern(s string) (lits []string, open bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			if i+1 == len(s) {
				return nil, true
			}
			i++
			b.WriteByte(s[i])
		case c == '*':
			lits = append(lits, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return append(lits, b.String()), false
}

// matchPattern reports whether s matches the literals of a pattern
// with a '*' (any run of characters) between each pair. Matching bytes
// matches characters: both sides are UTF-8 and literals are whole
// characters.
func matchPattern(lits []string, s string) bool {
	if len(lits) == 1 {
		return s == lits[0]
	}
	first, last := lits[0], lits[len(lits)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, lit := range lits[1 : len(lits)-1] {
		i := strings.Index(s, lit)
		if i < 0 {
			return false
		}
		s = s[i+len(lit):]
	}
	return true
}

// parseChoiceTimestamp parses a timestamp as AWS's documentation
// specifies it: RFC 3339 with an uppercase 'T' between date and time,
// optional fractional seconds (at most nine digits), and an uppercase
// 'Z' or a ±hh:mm offset.
func parseChoiceTimestamp(s string) (time.Time, bool) {
	const base = len("2006-01-02T15:04:05")
	if len(s) < base+1 {
		return time.Time{}, false
	}
	for i := 0; i < base; i++ {
		switch i {
		case 4, 7:
			if s[i] != '-' {
				return time.Time{}, false
			}
		case 10:
			if s[i] != 'T' {
				return time.Time{}, false
			}
		case 13, 16:
			if s[i] != ':' {
				return time.Time{}, false
			}
		default:
			if !isDigit(s[i]) {
				return time.Time{}, false
			}
		}
	}
	rest := s[base:]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && isDigit(rest[n]) {
			n++
		}
		if n == 1 || n > 10 {
			return time.Time{}, false
		}
		rest = rest[n:]
	}
	switch {
	case rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
		isDigit(rest[1]) && isDigit(rest[2]) && isDigit(rest[4]) && isDigit(rest[5]) &&
		rest[1:3] <= "23" && rest[4:6] <= "59":
	default:
		return time.Time{}, false
	}
	// The layout is now certain; time.Parse checks the ranges of the
	// fields and the day of the month.
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func toTimestamp(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	return parseChoiceTimestamp(s)
}

// A decimal is an exact decimal number: 0.digits × 10^exp, negative when
// neg. digits has no leading or trailing zeros and is "" for zero. An
// exponent too large for int64 arithmetic is held in bigExp instead.
type decimal struct {
	neg    bool
	digits string
	exp    int64
	bigExp *big.Int
}

// toDecimal returns the number v holds: a json.Number, or for callers
// that did not decode with UseNumber, a float64 or an int.
func toDecimal(v any) (decimal, bool) {
	switch n := v.(type) {
	case json.Number:
		return parseDecimal(string(n))
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return decimal{}, false
		}
		return parseDecimal(strconv.FormatFloat(n, 'g', -1, 64))
	case int:
		return parseDecimal(strconv.Itoa(n))
	case int64:
		return parseDecimal(strconv.FormatInt(n, 10))
	}
	return decimal{}, false
}

// parseDecimal parses a JSON number exactly.
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	if s != "" && s[0] == '-' {
		d.neg = true
		s = s[1:]
	}
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart := s[:i]
	var frac string
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		frac = s[i+1 : j]
		if frac == "" {
			return decimal{}, false
		}
		i = j
	}
	if intPart == "" {
		return decimal{}, false
	}
	var expStr string
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k == j {
			return decimal{}, false
		}
		expStr = s[i+1 : k]
		i = k
	}
	if i != len(s) {
		return decimal{}, false
	}
	mant := intPart + frac
	point := int64(len(intPart))
	lead := len(mant) - len(strings.TrimLeft(mant, "0"))
	mant = strings.TrimRight(mant[lead:], "0")
	if mant == "" {
		return decimal{neg: false}, true // -0 is 0
	}
	d.digits = mant
	point -= int64(lead)
	if expStr == "" {
		d.exp = point
		return d, true
	}
	digits := strings.TrimLeft(strings.TrimLeft(expStr, "+-"), "0")
	if len(digits) <= 17 {
		e, _ := strconv.ParseInt(strings.TrimLeft(expStr, "+"), 10, 64)
		d.exp = point + e
		return d, true
	}
	e, _ := new(big.Int).SetString(strings.TrimLeft(expStr, "+"), 10)
	d.bigExp = e.Add(e, big.NewInt(point))
	return d, true
}

func (d decimal) sign() int {
	switch {
	case d.digits == "":
		return 0
	case d.neg:
		return -1
	}
	return 1
}

// cmp compares d and e as numbers: -1, 0 or +1.
func (d decimal) cmp(e decimal) int {
	ds, es := d.sign(), e.sign()
	if ds != es || ds == 0 {
		return cmpInt(ds, es)
	}
	c := d.cmpExp(e)
	if c == 0 {
		c = strings.Compare(d.digits, e.digits)
	}
	return c * ds
}

func (d decimal) cmpExp(e decimal) int {
	if d.bigExp == nil && e.bigExp == nil {
		switch {
		case d.exp < e.exp:
			return -1
		case d.exp > e.exp:
			return 1
		}
		return 0
	}
	return d.bigExponent().Cmp(e.bigExponent())
}

func (d decimal) bigExponent() *big.Int {
	if d.bigExp != nil {
		return d.bigExp
	}
	return big.NewInt(d.exp)
}
