package states

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// JSONPath as Step Functions accepts it.
//
// AWS evaluates JSONPath with Jayway JsonPath, and the behaviour here follows
// Jayway where it shows: a path made only of single names, single indexes and
// merged name lists (['a','b'] as the last step) is definite and yields one
// value or nothing; any other path (wildcard, slice, filter, deep scan,
// several indexes, several names before the last step) is indefinite and
// yields a list of matches, possibly empty, never an error. Objects are
// visited in sorted key order, since map[string]any keeps no document order.
//
// Filters ([?(...)]) test each element of an array, or an object itself, with
// ==, !=, <, <=, >, >=, &&, ||, !, parentheses, existence (@.x) and string,
// number, true, false and null literals, comparing as Jayway does: numbers by
// value, a number and a numeric string as numbers, strings lexically.

// Path is a parsed JSONPath. A Path is immutable and safe for concurrent use.
type Path struct {
	src      string
	context  bool   // starts with $$
	variable string // starts with $name: selects from the workflow variable name
	segs     []pathSegment
}

type segKind int

const (
	segNames    segKind = iota // .a, ['a'], ['a','b']
	segIndexes                 // [0], [-1], [0,2]
	segSlice                   // [1:3], [:2], [-1:]
	segWildcard                // .*, [*]
	segFilter                  // [?(...)]
)

type pathSegment struct {
	kind    segKind
	scan    bool // preceded by ..
	names   []string
	indexes []int
	// slice bounds; hasFrom/hasTo say whether each was given.
	from, to       int
	hasFrom, hasTo bool
	filter         filterExpr
	src            string // Jayway's rendering, for messages: ['a'], [0], [1:2], [*], [?]
	raw            string // the step as written
}

// ParsePath parses a JSONPath: $ or $$ followed by steps.
func ParsePath(s string) (*Path, error) {
	p := &pathParser{s: s}
	path, err := p.parse(false)
	if err != nil {
		return nil, fmt.Errorf("invalid JSONPath %q: %w", s, err)
	}
	return path, nil
}

// MustParsePath is ParsePath for constant paths; it panics on error.
func MustParsePath(s string) *Path {
	p, err := ParsePath(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the path as written.
func (p *Path) String() string { return p.src }

// Context reports whether the path starts with $$ and so selects from the
// context object rather than the state input.
func (p *Path) Context() bool { return p.context }

// Variable is the workflow variable the path selects from ($name.x), or
// "" when it selects from the input or the context object.
func (p *Path) Variable() string { return p.variable }

// Vars looks up workflow variables by name.
type Vars func(name string) (any, bool)

// Source picks what p selects from: the context object for $$ paths, the
// variable for $name paths (ok false when it is not assigned), else input.
func (p *Path) Source(input, context any, vars Vars) (any, bool) {
	switch {
	case p.context:
		return context, true
	case p.variable != "":
		if vars == nil {
			return nil, false
		}
		return vars(p.variable)
	}
	return input, true
}

// Definite reports whether p is a reference path: only names and single
// indexes, so it identifies at most one node. ResultPath, ItemsPath and a
// Choice rule's Variable must be reference paths.
func (p *Path) Definite() bool {
	for _, s := range p.segs {
		switch {
		case s.scan:
			return false
		case s.kind == segNames && len(s.names) == 1:
		case s.kind == segIndexes && len(s.indexes) == 1:
		default:
			return false
		}
	}
	return true
}

// single reports whether Jayway treats the path as definite: its result is a
// single value rather than a list.
func (p *Path) single() bool {
	for i, s := range p.segs {
		switch {
		case s.scan:
			return false
		case s.kind == segNames && (len(s.names) == 1 || i == len(p.segs)-1):
		case s.kind == segIndexes && len(s.indexes) == 1:
		default:
			return false
		}
	}
	return true
}

// Get applies p to v (the context object when p.Context()). A path Jayway
// deems definite (names and single indexes, optionally ending in a list of
// names, which selects an object of those fields) returns the value it
// selects, or ok false when there is none; any other path returns a []any of
// the matches, possibly empty, with ok true (false only when the evaluation
// exceeds its work limit). The result shares structure with v; treat it as
// read-only.
func (p *Path) Get(v any) (any, bool) {
	res, err := p.eval(v)
	return res, err == nil
}

// eval is Get with Jayway's reason when a definite path selects nothing.
func (p *Path) eval(v any) (any, error) {
	return p.evalWith(v, &pathBudget{left: maxPathWork})
}

// maxPathWork bounds the steps one evaluation may take, so that paths such
// as $..*..*..* on deep input cannot run away.
const maxPathWork = 1 << 21

// pathBudget counts the steps left to an evaluation, shared with the paths
// inside its filters.
type pathBudget struct{ left int }

func (b *pathBudget) spend() bool {
	b.left--
	return b.left >= 0
}

var errPathWork = errors.New("path evaluation exceeded its work limit")

func (p *Path) evalWith(v any, b *pathBudget) (any, error) {
	if !p.single() {
		out := []any{}
		pathCollect(p.segs, v, v, b, func(x any) { out = append(out, x) })
		if b.left < 0 {
			return nil, errPathWork
		}
		return out, nil
	}
	cur := v
	at := "$"
	for i, s := range p.segs {
		leaf := i == len(p.segs)-1
		switch s.kind {
		case segNames:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("Expected to find an object with property %s in path %s but found '%s'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'.", s.src, at, javaClass(cur))
			}
			if len(s.names) > 1 { // merged names, always the last step
				merged := make(map[string]any, len(s.names))
				for _, n := range s.names {
					if x, ok := m[n]; ok {
						merged[n] = x
					}
				}
				return merged, nil
			}
			x, ok := m[s.names[0]]
			if !ok {
				if leaf {
					return nil, fmt.Errorf("No results for path: %s", p.normalized())
				}
				return nil, fmt.Errorf("Missing property in path %s%s", at, s.src)
			}
			cur = x
		case segIndexes:
			a, ok := cur.([]any)
			if !ok {
				if cur == nil {
					return nil, fmt.Errorf("The path %s is null", at)
				}
				return nil, fmt.Errorf("Filter: %s can only be applied to arrays. Current context is: %s", s.src, javaString(cur))
			}
			i := s.indexes[0]
			if i < 0 {
				i += len(a)
			}
			if i < 0 || i >= len(a) {
				return nil, fmt.Errorf("No results for path: %s", p.normalized())
			}
			cur = a[i]
		}
		at += s.src
	}
	return cur, nil
}

// normalized renders the path as Jayway does in messages: $['a'][0].
func (p *Path) normalized() string {
	var b strings.Builder
	b.WriteString("$")
	for _, s := range p.segs {
		if s.scan {
			b.WriteString("..")
		}
		b.WriteString(s.src)
	}
	return b.String()
}

// collect calls emit for every node that segs select from v, in order.
func pathCollect(segs []pathSegment, v, root any, b *pathBudget, emit func(any)) {
	if !b.spend() {
		return
	}
	if len(segs) == 0 {
		emit(v)
		return
	}
	s, rest := segs[0], segs[1:]
	next := func(x any) { pathCollect(rest, x, root, b, emit) }
	if !s.scan {
		pathApply(s, len(rest) == 0, v, root, b, next)
		return
	}
	leaf := len(rest) == 0
	pathWalk(v, b, func(node any) {
		switch {
		case s.kind == segFilter:
			// Jayway tests each object met on the walk itself.
			if m, ok := node.(map[string]any); ok && s.filter.test(m, root, b) {
				next(m)
			}
		case s.kind == segNames && len(s.names) > 1 && leaf:
			// A merged name list only matches objects holding every name.
			m, ok := node.(map[string]any)
			if !ok {
				return
			}
			for _, n := range s.names {
				if _, ok := m[n]; !ok {
					return
				}
			}
			pathApply(s, leaf, node, root, b, next)
		default:
			pathApply(s, leaf, node, root, b, next)
		}
	})
}

// walk calls visit for v and every node below it, parents first.
func pathWalk(v any, b *pathBudget, visit func(any)) {
	if !b.spend() {
		return
	}
	visit(v)
	switch x := v.(type) {
	case map[string]any:
		for _, k := range pathSortedKeys(x) {
			pathWalk(x[k], b, visit)
		}
	case []any:
		for _, e := range x {
			pathWalk(e, b, visit)
		}
	}
}

// apply applies one step to v, passing each result to next.
func pathApply(s pathSegment, leaf bool, v, root any, b *pathBudget, next func(any)) {
	switch s.kind {
	case segNames:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if len(s.names) > 1 && leaf {
			merged := make(map[string]any, len(s.names))
			for _, n := range s.names {
				if x, ok := m[n]; ok {
					merged[n] = x
				}
			}
			next(merged)
			return
		}
		for _, n := range s.names {
			if x, ok := m[n]; ok {
				next(x)
			}
		}
	case segIndexes:
		a, ok := v.([]any)
		if !ok {
			return
		}
		for _, i := range s.indexes {
			if i < 0 {
				i += len(a)
			}
			if i >= 0 && i < len(a) {
				next(a[i])
			}
		}
	case segSlice:
		a, ok := v.([]any)
		if !ok {
			return
		}
		from, to := sliceBounds(s, len(a))
		for i := from; i < to; i++ {
			j := i
			if j < 0 {
				j += len(a)
			}
			if j >= 0 && j < len(a) {
				next(a[j])
			}
		}
	case segWildcard:
		switch x := v.(type) {
		case map[string]any:
			for _, k := range pathSortedKeys(x) {
				next(x[k])
			}
		case []any:
			for _, e := range x {
				next(e)
			}
		}
	case segFilter:
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				if s.filter.test(e, root, b) {
					next(e)
				}
			}
		case map[string]any:
			if s.filter.test(x, root, b) {
				next(x)
			}
		}
	}
}

// sliceBounds returns the index range of a slice over n elements, as
// Jayway's ArraySliceToken computes it.
func sliceBounds(s pathSegment, n int) (from, to int) {
	switch {
	case s.hasFrom && s.hasTo:
		return s.from, min(n, s.to)
	case s.hasTo:
		to = s.to
		if to < 0 {
			to += n
		}
		return 0, min(n, to)
	default:
		from = s.from
		if from < 0 {
			from += n
		}
		return max(0, from), n
	}
}

func pathSortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Set returns a copy of root with value placed at p, which must be a
// reference path (ResultPath); $ replaces root. Missing fields on the way
// are created as empty objects. Only the objects and arrays along the path
// are copied; the rest is shared with root and value.
//
// Set fails with a *Error when the path cannot be applied: with
// States.ResultPathMatchFailure, "Unable to apply ReferencePath $.x to input
// <root>", when root is not an object or array; with
// States.ReferencePathConflict, "Unable to apply step "x" to input <node>",
// when a step meets an array where it needs a field, a scalar where it needs
// an object or array, or an index out of range.
func (p *Path) Set(root, value any) (any, error) {
	if p.context || !p.Definite() {
		return nil, Errorf(ErrResultPathMatchFailure, "Unable to apply ReferencePath %s to input %s", p.src, Encode(root))
	}
	if len(p.segs) == 0 {
		return value, nil
	}
	switch root.(type) {
	case map[string]any, []any:
	default:
		return nil, Errorf(ErrResultPathMatchFailure, "Unable to apply ReferencePath %s to input %s", p.src, Encode(root))
	}
	return pathSetAt(p.segs, root, value)
}

func pathSetAt(segs []pathSegment, node, value any) (any, error) {
	if len(segs) == 0 {
		return value, nil
	}
	s := segs[0]
	conflict := func() error {
		return Errorf(ErrReferencePathConflict, "Unable to apply step %q to input %s", pathStepName(s), Encode(node))
	}
	switch s.kind {
	case segNames:
		m, ok := node.(map[string]any)
		if !ok {
			return nil, conflict()
		}
		child, ok := m[s.names[0]]
		if !ok && len(segs) > 1 {
			child = map[string]any{}
		}
		nv, err := pathSetAt(segs[1:], child, value)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m)+1)
		for k, v := range m {
			out[k] = v
		}
		out[s.names[0]] = nv
		return out, nil
	case segIndexes:
		a, ok := node.([]any)
		if !ok {
			return nil, conflict()
		}
		i := s.indexes[0]
		if i < 0 {
			i += len(a)
		}
		if i < 0 || i >= len(a) {
			return nil, conflict()
		}
		nv, err := pathSetAt(segs[1:], a[i], value)
		if err != nil {
			return nil, err
		}
		out := slices.Clone(a)
		out[i] = nv
		return out, nil
	}
	return nil, conflict()
}

func pathStepName(s pathSegment) string {
	if s.kind == segNames {
		return s.names[0]
	}
	return s.src
}

// ApplyPath applies a path field (InputPath, OutputPath, ItemsPath,
// TimeoutSecondsPath, HeartbeatSecondsPath, ErrorPath, CausePath, ...) named
// field to v: the state input, or the context object when p.Context(). A nil
// p selects v. When the path selects nothing it fails with a *Error
// carrying AWS's cause for that field (without the "An error occurred while
// executing the state ..." prefix, which the caller adds):
//
//   - InputPath, OutputPath, TimeoutSecondsPath, HeartbeatSecondsPath:
//     States.Runtime, "Invalid path '$.x' : No results for path: $['x']"
//     (Jayway's message after the colon);
//   - ItemsPath (a reference path): States.ReferencePathConflict,
//     "Unable to apply step "x" to input {...}";
//   - any other field: States.Runtime, "The JSONPath '$.x' specified for
//     the field 'ErrorPath' could not be found in the input '{...}'".
//
// A path other than $ applied to a null input fails with States.Runtime,
// "Unable to apply Path transformation to null or empty input.".
func ApplyPath(field string, p *Path, v any) (any, error) {
	if p == nil {
		return v, nil
	}
	if len(p.segs) == 0 {
		return v, nil
	}
	if v == nil && !p.context {
		return nil, Errorf(ErrRuntime, "Unable to apply Path transformation to null or empty input.")
	}
	if field == "ItemsPath" && p.Definite() {
		return pathGetReference(p, v)
	}
	res, err := p.eval(v)
	if err == nil {
		return res, nil
	}
	switch field {
	case "InputPath", "OutputPath", "TimeoutSecondsPath", "HeartbeatSecondsPath":
		return nil, Errorf(ErrRuntime, "Invalid path '%s' : %s", p.src, err)
	}
	return nil, Errorf(ErrRuntime, "The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", p.src, field, Encode(v))
}

// pathGetReference reads a reference path step by step, failing as AWS's
// reference path evaluation does.
func pathGetReference(p *Path, v any) (any, error) {
	cur := v
	for _, s := range p.segs {
		conflict := Errorf(ErrReferencePathConflict, "Unable to apply step %q to input %s", pathStepName(s), Encode(cur))
		switch s.kind {
		case segNames:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, conflict
			}
			x, ok := m[s.names[0]]
			if !ok {
				return nil, conflict
			}
			cur = x
		case segIndexes:
			a, ok := cur.([]any)
			if !ok {
				return nil, conflict
			}
			i := s.indexes[0]
			if i < 0 {
				i += len(a)
			}
			if i < 0 || i >= len(a) {
				return nil, conflict
			}
			cur = a[i]
		}
	}
	return cur, nil
}

// javaClass names the Java class Jackson maps a value to, for Jayway's
// messages.
func javaClass(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "java.lang.String"
	case bool:
		return "java.lang.Boolean"
	case []any:
		return "java.util.ArrayList"
	case map[string]any:
		return "java.util.LinkedHashMap"
	case json.Number:
		if isIntegerLiteral(string(x)) {
			if _, err := strconv.ParseInt(string(x), 10, 32); err == nil {
				return "java.lang.Integer"
			}
			if _, err := strconv.ParseInt(string(x), 10, 64); err == nil {
				return "java.lang.Long"
			}
			return "java.math.BigInteger"
		}
		return "java.lang.Double"
	}
	return fmt.Sprintf("%T", v)
}

// javaString renders v as Java's toString does for the values Jackson
// produces: strings bare, {k=v, ...} for maps, [a, b] for lists.
func javaString(v any) string {
	var b strings.Builder
	writeJava(&b, v)
	return b.String()
}

func writeJava(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		b.WriteString(x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case json.Number:
		b.WriteString(javaNumber(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJava(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range pathSortedKeys(x) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteByte('=')
			writeJava(b, x[k])
		}
		b.WriteByte('}')
	default:
		if n, ok := jsonNumberOf(v); ok {
			b.WriteString(javaNumber(n))
			return
		}
		fmt.Fprint(b, v)
	}
}

// isIntegerLiteral reports whether a JSON number literal has no fraction or
// exponent, so Jackson reads it as an integer.
func isIntegerLiteral(s string) bool {
	return !strings.ContainsAny(s, ".eE")
}

// javaNumber renders a number as Java does after Jackson parsed it:
// integers as written (without a minus on zero), others as Double.toString.
func javaNumber(n json.Number) string {
	s := string(n)
	if isIntegerLiteral(s) {
		if i, ok := new(big.Int).SetString(s, 10); ok {
			return i.String()
		}
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) {
		return s
	}
	return javaDouble(f)
}

func isRangeErr(err error) bool {
	var ne *strconv.NumError
	return errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange)
}

// javaDouble renders f as Java's Double.toString does.
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// Shortest digits d.ddd and decimal exponent.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	if f >= 1e-3 && f < 1e7 {
		var s string
		switch {
		case exp >= 0:
			if len(digits) <= exp+1 {
				s = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
			} else {
				s = digits[:exp+1] + "." + digits[exp+1:]
			}
		default:
			s = "0." + strings.Repeat("0", -exp-1) + digits
		}
		return sign + s
	}
	frac := digits[1:]
	if frac == "" {
		frac = "0"
	}
	return sign + digits[:1] + "." + frac + "E" + strconv.Itoa(exp)
}

// jsonNumberOf returns v as a json.Number when it is a number.
func jsonNumberOf(v any) (json.Number, bool) {
	switch x := v.(type) {
	case json.Number:
		return x, true
	case float64:
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64)), true
	case float32:
		return json.Number(strconv.FormatFloat(float64(x), 'g', -1, 32)), true
	case int:
		return json.Number(strconv.Itoa(x)), true
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), true
	case int32:
		return json.Number(strconv.FormatInt(int64(x), 10)), true
	case uint64:
		return json.Number(strconv.FormatUint(x, 10)), true
	}
	return "", false
}

// pathParser parses JSONPath text; it is also used for the paths inside
// filters (embedded), which end at the first character that cannot
// continue a path.
type pathParser struct {
	s     string
	pos   int
	depth int // filters being parsed, one inside another
}

func (p *pathParser) parse(embedded bool) (*Path, error) {
	start := p.pos
	path := &Path{}
	switch {
	case p.eat('$'):
		if p.eat('$') {
			path.context = true
		} else if !embedded {
			path.variable = p.ident()
		}
	case embedded && p.eat('@'):
	default:
		return nil, errors.New("must start with '$'")
	}
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if embedded && c != '.' && c != '[' {
			break
		}
		seg, err := p.pathSegment(embedded)
		if err != nil {
			return nil, err
		}
		path.segs = append(path.segs, seg)
	}
	path.src = p.s[start:p.pos]
	return path, nil
}

// ident reads a workflow variable name: a letter or underscore, then
// letters, digits and underscores.
func (p *pathParser) ident() string {
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || p.pos > start && c >= '0' && c <= '9' || c >= 0x80 {
			p.pos++
			continue
		}
		break
	}
	return p.s[start:p.pos]
}

func (p *pathParser) eat(c byte) bool {
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *pathParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *pathParser) pathSegment(embedded bool) (pathSegment, error) {
	switch {
	case strings.HasPrefix(p.s[p.pos:], ".."):
		p.pos += 2
		var seg pathSegment
		var err error
		switch p.peek() {
		case '[':
			seg, err = p.bracket()
		case '*':
			p.pos++
			seg = pathSegment{kind: segWildcard, src: "[*]"}
		default:
			seg, err = p.dotName(embedded)
		}
		if err != nil {
			return seg, err
		}
		seg.scan = true
		return seg, nil
	case p.eat('.'):
		switch p.peek() {
		case '*':
			p.pos++
			return pathSegment{kind: segWildcard, src: "[*]"}, nil
		case '[':
			// Jayway tolerates $.[0] and $.['a'].
			return p.bracket()
		}
		return p.dotName(embedded)
	case p.peek() == '[':
		return p.bracket()
	}
	return pathSegment{}, fmt.Errorf("unexpected %q at %d", p.s[p.pos], p.pos)
}

// dotName reads a name in dot notation.
func (p *pathParser) dotName(embedded bool) (pathSegment, error) {
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '.' || c == '[' {
			break
		}
		if strings.IndexByte("]()'\"\\, \t\n\r", c) >= 0 {
			if embedded {
				break
			}
			return pathSegment{}, fmt.Errorf("unexpected %q at %d", c, p.pos)
		}
		if embedded && strings.IndexByte("=!<>&|", c) >= 0 {
			break
		}
		if c == '*' || c == '?' || c == '@' {
			return pathSegment{}, fmt.Errorf("unexpected %q at %d", c, p.pos)
		}
		p.pos++
	}
	if p.pos == start {
		return pathSegment{}, fmt.Errorf("missing name at %d", p.pos)
	}
	name := p.s[start:p.pos]
	return pathSegment{kind: segNames, names: []string{name}, src: "['" + name + "']"}, nil
}

func (p *pathParser) space() {
	for p.pos < len(p.s) && strings.IndexByte(" \t\n\r", p.s[p.pos]) >= 0 {
		p.pos++
	}
}

// bracket reads [...]: names, indexes, a slice, a wildcard or a filter.
func (p *pathParser) bracket() (pathSegment, error) {
	open := p.pos
	p.pos++ // [
	p.space()
	var seg pathSegment
	switch c := p.peek(); {
	case c == '*':
		p.pos++
		seg = pathSegment{kind: segWildcard}
	case c == '?':
		p.pos++
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxFilterDepth {
			return seg, errors.New("filter nested too deeply")
		}
		p.space()
		if !p.eat('(') {
			return seg, fmt.Errorf("expected '(' after '?' at %d", p.pos)
		}
		f, err := p.filterOr()
		if err != nil {
			return seg, err
		}
		p.space()
		if !p.eat(')') {
			return seg, fmt.Errorf("expected ')' at %d", p.pos)
		}
		seg = pathSegment{kind: segFilter, filter: f}
	case c == '\'' || c == '"':
		var names []string
		for {
			p.space()
			name, err := p.quoted()
			if err != nil {
				return seg, err
			}
			names = append(names, name)
			p.space()
			if !p.eat(',') {
				break
			}
		}
		seg = pathSegment{kind: segNames, names: names}
	case c == '-' || c == ':' || (c >= '0' && c <= '9'):
		var err error
		seg, err = p.indexesOrSlice()
		if err != nil {
			return seg, err
		}
	default:
		return seg, fmt.Errorf("unexpected %q at %d", c, p.pos)
	}
	p.space()
	if !p.eat(']') {
		return seg, fmt.Errorf("expected ']' at %d", p.pos)
	}
	seg.src = p.s[open:p.pos]
	seg.raw = seg.src
	switch seg.kind {
	case segNames:
		parts := make([]string, len(seg.names))
		for i, n := range seg.names {
			parts[i] = "'" + n + "'"
		}
		seg.src = "[" + strings.Join(parts, ",") + "]"
	case segWildcard:
		seg.src = "[*]"
	case segFilter:
		seg.src = "[?]"
	case segIndexes:
		parts := make([]string, len(seg.indexes))
		for i, n := range seg.indexes {
			parts[i] = strconv.Itoa(n)
		}
		seg.src = "[" + strings.Join(parts, ",") + "]"
	}
	return seg, nil
}

// quoted reads a quoted name. As in Jayway, a backslash escapes the
// quote character; any other backslash is part of the name.
func (p *pathParser) quoted() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", fmt.Errorf("expected a quoted name at %d", p.pos)
	}
	p.pos++
	var b strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '\\' && p.pos+1 < len(p.s) && p.s[p.pos+1] == q:
			b.WriteByte(q)
			p.pos += 2
		case c == '\\' && p.pos+1 < len(p.s):
			b.WriteByte(c)
			b.WriteByte(p.s[p.pos+1])
			p.pos += 2
		case c == q:
			p.pos++
			return b.String(), nil
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", errors.New("unterminated quoted name")
}

func (p *pathParser) integer() (int, bool) {
	start := p.pos
	p.eat('-')
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	n, err := strconv.Atoi(p.s[start:p.pos])
	if err != nil || n > math.MaxInt32 || n < math.MinInt32 {
		p.pos = start
		return 0, false
	}
	return n, true
}

func (p *pathParser) indexesOrSlice() (pathSegment, error) {
	var seg pathSegment
	from, hasFrom := p.integer()
	p.space()
	if p.eat(':') {
		p.space()
		to, hasTo := p.integer()
		if p.peek() == '-' {
			return seg, fmt.Errorf("bad slice bound at %d", p.pos)
		}
		p.space()
		if p.peek() == ':' {
			return seg, fmt.Errorf("slice steps are not supported at %d", p.pos)
		}
		return pathSegment{kind: segSlice, from: from, to: to, hasFrom: hasFrom, hasTo: hasTo}, nil
	}
	if !hasFrom {
		return seg, fmt.Errorf("bad index at %d", p.pos)
	}
	seg = pathSegment{kind: segIndexes, indexes: []int{from}}
	for {
		p.space()
		if !p.eat(',') {
			return seg, nil
		}
		p.space()
		i, ok := p.integer()
		if !ok {
			return seg, fmt.Errorf("bad index at %d", p.pos)
		}
		seg.indexes = append(seg.indexes, i)
	}
}

// A filterExpr is the condition of a [?(...)] step.
type filterExpr interface {
	// test reports whether cur (@) passes; root is the document ($).
	test(cur, root any, b *pathBudget) bool
}

type orExpr struct{ l, r filterExpr }
type andExpr struct{ l, r filterExpr }
type notExpr struct{ e filterExpr }

// existsExpr is a bare path: it passes when the path selects something.
type existsExpr struct{ o filterOperand }

// cmpExpr compares two operands.
type cmpExpr struct {
	op   string
	l, r filterOperand
}

// filterOperand is a path relative to @ or $, or a literal.
type filterOperand struct {
	path  *Path
	rel   bool // @ rather than $
	lit   any
	isLit bool
}

func (e orExpr) test(cur, root any, b *pathBudget) bool {
	return e.l.test(cur, root, b) || e.r.test(cur, root, b)
}

func (e andExpr) test(cur, root any, b *pathBudget) bool {
	return e.l.test(cur, root, b) && e.r.test(cur, root, b)
}

func (e notExpr) test(cur, root any, b *pathBudget) bool { return !e.e.test(cur, root, b) }

func (e existsExpr) test(cur, root any, b *pathBudget) bool {
	if e.o.isLit {
		b, ok := e.o.lit.(bool)
		return ok && b
	}
	_, ok := e.o.value(cur, root, b)
	return ok
}

func (e cmpExpr) test(cur, root any, b *pathBudget) bool {
	l, lok := e.l.value(cur, root, b)
	r, rok := e.r.value(cur, root, b)
	if !lok || !rok {
		return e.op == "!="
	}
	switch e.op {
	case "==":
		return filterEqual(l, r)
	case "!=":
		return !filterEqual(l, r)
	}
	c, ok := filterCompare(l, r)
	if !ok {
		return false
	}
	switch e.op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

// value evaluates the filterOperand; ok is false when a path selects nothing.
func (o filterOperand) value(cur, root any, b *pathBudget) (any, bool) {
	if o.isLit {
		return o.lit, true
	}
	base := root
	if o.rel {
		base = cur
	}
	v, err := o.path.evalWith(base, b)
	return v, err == nil
}

// filterEqual is Jayway's ==: numbers by value, a number and a string by
// converting the string to the type of the left side, others by deep
// equality.
func filterEqual(l, r any) bool {
	if ln, ok := jsonNumberOf(l); ok {
		switch rv := r.(type) {
		case string:
			c, ok := cmpNumberLiterals(ln, json.Number(strings.TrimSpace(rv)))
			return ok && c == 0
		default:
			if rn, ok := jsonNumberOf(r); ok {
				c, ok := cmpNumberLiterals(ln, rn)
				return ok && c == 0
			}
			return false
		}
	}
	if ls, ok := l.(string); ok {
		if rn, ok := jsonNumberOf(r); ok {
			return ls == string(rn)
		}
	}
	return jsonValuesEqual(l, r)
}

// filterCompare orders two numbers or two strings.
func filterCompare(l, r any) (int, bool) {
	if ln, ok := jsonNumberOf(l); ok {
		if rn, ok := jsonNumberOf(r); ok {
			return cmpNumberLiterals(ln, rn)
		}
		return 0, false
	}
	ls, lok := l.(string)
	rs, rok := r.(string)
	if lok && rok {
		return strings.Compare(ls, rs), true
	}
	return 0, false
}

// cmpNumberLiterals compares two number literals by value.
func cmpNumberLiterals(a, b json.Number) (int, bool) {
	x, _, err := big.ParseFloat(string(a), 10, 256, big.ToNearestEven)
	if err != nil {
		return 0, false
	}
	y, _, err := big.ParseFloat(string(b), 10, 256, big.ToNearestEven)
	if err != nil {
		return 0, false
	}
	return x.Cmp(y), true
}

// jsonValuesEqual reports whether two JSON values are equal, numbers by value.
func jsonValuesEqual(a, b any) bool { return valuesEqual(a, b, false) }

// valuesEqual compares JSON values; numbers compare by value, and with
// intVsFloat an integer literal never equals a fractional one (1 and 1.0),
// as Jackson's nodes compare.
func valuesEqual(a, b any, intVsFloat bool) bool {
	an, aok := jsonNumberOf(a)
	bn, bok := jsonNumberOf(b)
	if aok || bok {
		if !aok || !bok || intVsFloat && isIntegerLiteral(string(an)) != isIntegerLiteral(string(bn)) {
			return false
		}
		c, ok := cmpNumberLiterals(an, bn)
		return ok && c == 0
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valuesEqual(x[i], y[i], intVsFloat) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !valuesEqual(v, w, intVsFloat) {
				return false
			}
		}
		return true
	}
	return false
}

// maxFilterDepth bounds the nesting of parentheses and ! in a filter.
const maxFilterDepth = 50

func (p *pathParser) filterOr() (filterExpr, error) { return p.filterOrDepth(0) }

func (p *pathParser) filterOrDepth(depth int) (filterExpr, error) {
	if depth > maxFilterDepth {
		return nil, errors.New("filter nested too deeply")
	}
	l, err := p.filterAnd(depth)
	if err != nil {
		return nil, err
	}
	for {
		p.space()
		if !strings.HasPrefix(p.s[p.pos:], "||") {
			return l, nil
		}
		p.pos += 2
		r, err := p.filterAnd(depth)
		if err != nil {
			return nil, err
		}
		l = orExpr{l, r}
	}
}

func (p *pathParser) filterAnd(depth int) (filterExpr, error) {
	l, err := p.filterUnary(depth)
	if err != nil {
		return nil, err
	}
	for {
		p.space()
		if !strings.HasPrefix(p.s[p.pos:], "&&") {
			return l, nil
		}
		p.pos += 2
		r, err := p.filterUnary(depth)
		if err != nil {
			return nil, err
		}
		l = andExpr{l, r}
	}
}

func (p *pathParser) filterUnary(depth int) (filterExpr, error) {
	p.space()
	switch {
	case p.peek() == '!' && !strings.HasPrefix(p.s[p.pos:], "!="):
		if depth > maxFilterDepth {
			return nil, errors.New("filter nested too deeply")
		}
		p.pos++
		e, err := p.filterUnary(depth + 1)
		if err != nil {
			return nil, err
		}
		return notExpr{e}, nil
	case p.eat('('):
		e, err := p.filterOrDepth(depth + 1)
		if err != nil {
			return nil, err
		}
		p.space()
		if !p.eat(')') {
			return nil, fmt.Errorf("expected ')' at %d", p.pos)
		}
		return e, nil
	}
	l, err := p.filterOperand()
	if err != nil {
		return nil, err
	}
	p.space()
	for _, op := range []string{"==", "!=", "<=", ">=", "<", ">"} {
		if strings.HasPrefix(p.s[p.pos:], op) {
			p.pos += len(op)
			p.space()
			r, err := p.filterOperand()
			if err != nil {
				return nil, err
			}
			return cmpExpr{op: op, l: l, r: r}, nil
		}
	}
	return existsExpr{l}, nil
}

func (p *pathParser) filterOperand() (filterOperand, error) {
	p.space()
	rest := p.s[p.pos:]
	switch c := p.peek(); {
	case c == '@' || c == '$':
		path, err := p.parse(true)
		if err != nil {
			return filterOperand{}, err
		}
		return filterOperand{path: path, rel: c == '@'}, nil
	case c == '\'' || c == '"':
		s, err := p.quoted()
		if err != nil {
			return filterOperand{}, err
		}
		return filterOperand{lit: s, isLit: true}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.pos
		for p.pos < len(p.s) && strings.IndexByte("-+.eE0123456789", p.s[p.pos]) >= 0 {
			p.pos++
		}
		n := p.s[start:p.pos]
		if !isJSONNumber(n) {
			return filterOperand{}, fmt.Errorf("bad number %q", n)
		}
		return filterOperand{lit: json.Number(n), isLit: true}, nil
	case strings.HasPrefix(rest, "true"):
		p.pos += 4
		return filterOperand{lit: true, isLit: true}, nil
	case strings.HasPrefix(rest, "false"):
		p.pos += 5
		return filterOperand{lit: false, isLit: true}, nil
	case strings.HasPrefix(rest, "null"):
		p.pos += 4
		return filterOperand{lit: nil, isLit: true}, nil
	}
	return filterOperand{}, fmt.Errorf("unexpected %q in filter at %d", p.peek(), p.pos)
}

// isJSONNumber reports whether s is a JSON number literal.
func isJSONNumber(s string) bool {
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil && s != ""
}
