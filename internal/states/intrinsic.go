package states

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Intrinsic functions: States.Format(...), States.ArrayRange(...) and the
// rest, as they appear in payload templates ("x.$": "States.Array($.a)").
//
// Arguments are string literals in single quotes (\' \{ \} \\ are the only
// escapes), numbers, true, false, null, paths on the input ($.a) or the
// context object ($$.a), and nested calls. ParseIntrinsic checks syntax and
// function names; argument counts and types are checked when the call is
// evaluated, where AWS checks them.
//
// Evaluation failures are States.Runtime errors, as AWS reports them, with
// causes of the form "There was an error while evaluating the intrinsic
// function: States.MathAdd($.a, 1). Invalid arguments in States.MathAdd".
//
// Numeric arguments follow AWS's observed conversions: States.MathAdd rounds
// half up (Java's Math.round) and works in 32-bit integers; ArrayRange,
// ArrayPartition, ArrayGetItem and MathRandom truncate toward zero.

// IntrinsicEnv supplies what intrinsic functions need beyond their input,
// so that evaluation stays deterministic and replayable.
type IntrinsicEnv struct {
	// Rand returns uniformly distributed 64-bit values. States.UUID and
	// States.MathRandom without a seed draw from it. When Rand (or the
	// whole env) is nil they draw from math/rand/v2, which is not
	// replayable.
	Rand func() uint64
	// Vars resolves $name paths to workflow variables; nil: none.
	Vars Vars
}

func (e *IntrinsicEnv) vars() Vars {
	if e == nil {
		return nil
	}
	return e.Vars
}

func (e *IntrinsicEnv) uint64() uint64 {
	if e == nil || e.Rand == nil {
		return rand.Uint64()
	}
	return e.Rand()
}

// Intrinsic is a parsed intrinsic function call. It is immutable and safe
// for concurrent use.
type Intrinsic struct {
	src  string
	call *icall
}

// icall is one call in an intrinsic expression.
type icall struct {
	name string
	src  string // the call as written, for causes
	args []iarg
}

type iargKind int

const (
	argLit iargKind = iota
	argPath
	argCall
)

// iarg is an argument: a literal, a path or a nested call.
type iarg struct {
	kind iargKind
	lit  any    // string, json.Number, bool or nil
	raw  string // a string literal as written between the quotes
	bad  bool   // a string literal with an open escape: fails when evaluated
	path *Path
	call *icall
}

// intrinsicArity gives the minimum and maximum argument counts; -1 means
// any number.
var intrinsicArity = map[string][2]int{
	"States.Format":         {1, -1},
	"States.StringToJson":   {1, 1},
	"States.JsonToString":   {1, 1},
	"States.Array":          {0, -1},
	"States.ArrayPartition": {2, 2},
	"States.ArrayContains":  {2, 2},
	"States.ArrayRange":     {3, 3},
	"States.ArrayGetItem":   {2, 2},
	"States.ArrayLength":    {1, 1},
	"States.ArrayUnique":    {1, 1},
	"States.Base64Encode":   {1, 1},
	"States.Base64Decode":   {1, 1},
	"States.Hash":           {2, 2},
	"States.JsonMerge":      {3, 3},
	"States.MathRandom":     {2, 3},
	"States.MathAdd":        {2, 2},
	"States.StringSplit":    {2, 2},
	"States.UUID":           {0, 0},
}

// IsIntrinsic reports whether s is written as an intrinsic function call
// (States.Name(...)) rather than a path; it does not validate it.
func IsIntrinsic(s string) bool {
	return strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), "States.")
}

// ParseIntrinsic parses an intrinsic function call.
func ParseIntrinsic(s string) (*Intrinsic, error) {
	p := &iparser{s: s}
	p.space()
	c, err := p.call(0)
	if err == nil {
		p.space()
		if p.pos < len(p.s) {
			err = fmt.Errorf("unexpected %q at %d", p.s[p.pos:], p.pos)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("invalid intrinsic function %q: %w", s, err)
	}
	return &Intrinsic{src: s, call: c}, nil
}

// String returns the call as written.
func (f *Intrinsic) String() string { return f.src }

// Eval evaluates the call; input is what $ paths select from and context
// what $$ paths select from. The result shares structure with both.
func (f *Intrinsic) Eval(input, context any, env *IntrinsicEnv) (any, error) {
	return f.call.eval(input, context, env)
}

// maxIntrinsicDepth bounds nesting so parsing cannot exhaust the stack;
// AWS allows 10 nested calls.
const maxIntrinsicDepth = 64

type iparser struct {
	s   string
	pos int
}

func (p *iparser) space() {
	for p.pos < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *iparser) call(depth int) (*icall, error) {
	if depth > maxIntrinsicDepth {
		return nil, errors.New("too deeply nested")
	}
	start := p.pos
	if !strings.HasPrefix(p.s[p.pos:], "States.") {
		return nil, fmt.Errorf("expected States.<function> at %d", p.pos)
	}
	p.pos += len("States.")
	for p.pos < len(p.s) && isIdentByte(p.s[p.pos]) {
		p.pos++
	}
	name := p.s[start:p.pos]
	if _, ok := intrinsicArity[name]; !ok {
		return nil, fmt.Errorf("unknown function %s", name)
	}
	p.space()
	if p.pos >= len(p.s) || p.s[p.pos] != '(' {
		return nil, fmt.Errorf("expected '(' after %s", name)
	}
	p.pos++
	c := &icall{name: name}
	p.space()
	if p.pos < len(p.s) && p.s[p.pos] == ')' {
		p.pos++
		c.src = p.s[start:p.pos]
		return c, nil
	}
	for {
		p.space()
		a, err := p.arg(depth)
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, a)
		p.space()
		if p.pos >= len(p.s) {
			return nil, fmt.Errorf("missing ')' in %s", name)
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
			continue
		case ')':
			p.pos++
			c.src = p.s[start:p.pos]
			return c, nil
		}
		return nil, fmt.Errorf("unexpected %q at %d", p.s[p.pos], p.pos)
	}
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func (p *iparser) arg(depth int) (iarg, error) {
	if p.pos >= len(p.s) {
		return iarg{}, errors.New("missing argument")
	}
	rest := p.s[p.pos:]
	switch c := rest[0]; {
	case c == '\'':
		return p.str()
	case c == '$':
		return p.path()
	case c == '-' || c >= '0' && c <= '9':
		n := len(rest) - len(strings.TrimLeft(rest, "-+.eE0123456789"))
		lit := rest[:n]
		if !isJSONNumber(lit) {
			return iarg{}, fmt.Errorf("bad number %q", lit)
		}
		p.pos += n
		return iarg{kind: argLit, lit: json.Number(lit)}, nil
	case strings.HasPrefix(rest, "States."):
		call, err := p.call(depth + 1)
		if err != nil {
			return iarg{}, err
		}
		return iarg{kind: argCall, call: call}, nil
	}
	for _, kw := range []struct {
		word string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if strings.HasPrefix(rest, kw.word) && (len(rest) == len(kw.word) || !isIdentByte(rest[len(kw.word)])) {
			p.pos += len(kw.word)
			return iarg{kind: argLit, lit: kw.v}, nil
		}
	}
	return iarg{}, fmt.Errorf("unexpected %q at %d", rest[0], p.pos)
}

// str reads a string literal; \' \{ \} \\ are its escapes. Any other
// backslash is an open escape, which AWS reports when the call runs.
func (p *iparser) str() (iarg, error) {
	p.pos++ // '
	start := p.pos
	var b strings.Builder
	bad := false
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '\\':
			if p.pos+1 < len(p.s) && strings.IndexByte(`'{}\`, p.s[p.pos+1]) >= 0 {
				b.WriteByte(p.s[p.pos+1])
				p.pos += 2
				continue
			}
			bad = true
			b.WriteByte(c)
			p.pos++
		case c == '\'':
			raw := p.s[start:p.pos]
			p.pos++
			return iarg{kind: argLit, lit: b.String(), raw: raw, bad: bad}, nil
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return iarg{}, errors.New("unterminated string literal")
}

// path reads a path argument, which ends at a ',' or ')' outside brackets,
// parentheses and quotes.
func (p *iparser) path() (iarg, error) {
	start := p.pos
	depth := 0
	var quote byte
scan:
	for ; p.pos < len(p.s); p.pos++ {
		c := p.s[p.pos]
		switch {
		case quote != 0:
			if c == '\\' {
				p.pos++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '[' || c == '(':
			depth++
		case c == ']':
			depth--
		case c == ')':
			if depth == 0 {
				break scan
			}
			depth--
		case c == ',' && depth == 0:
			break scan
		}
	}
	if p.pos > len(p.s) {
		p.pos = len(p.s)
	}
	text := strings.TrimRight(p.s[start:p.pos], " \t\r\n")
	path, err := ParsePath(text)
	if err != nil {
		return iarg{}, err
	}
	return iarg{kind: argPath, path: path}, nil
}

// eval evaluates the arguments in order, then the function.
func (c *icall) eval(input, context any, env *IntrinsicEnv) (any, error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		switch a.kind {
		case argLit:
			if a.bad {
				return nil, c.fail("Invalid escape sequence in string literal")
			}
			args[i] = a.lit
		case argPath:
			src, ok := a.path.Source(input, context, env.vars())
			var v any
			if ok {
				v, ok = a.path.Get(src)
			}
			if !ok {
				return nil, Errorf(ErrRuntime, "There was an error while evaluating the intrinsic function: %s. The JsonPath argument for the field '%s' could not be found in the input '%s'", c.src, a.path, Encode(src))
			}
			args[i] = v
		case argCall:
			v, err := a.call.eval(input, context, env)
			if err != nil {
				return nil, err
			}
			args[i] = v
		}
	}
	ar := intrinsicArity[c.name]
	if len(args) < ar[0] || ar[1] >= 0 && len(args) > ar[1] {
		return nil, c.invalid()
	}
	switch c.name {
	case "States.Format":
		return c.format(args)
	case "States.StringToJson":
		return c.stringToJSON(args[0])
	case "States.JsonToString":
		return Encode(args[0]), nil
	case "States.Array":
		return args, nil
	case "States.ArrayPartition":
		return c.arrayPartition(args[0], args[1])
	case "States.ArrayContains":
		a, ok := args[0].([]any)
		if !ok {
			return nil, c.invalid()
		}
		for _, e := range a {
			if jacksonEqual(e, args[1]) {
				return true, nil
			}
		}
		return false, nil
	case "States.ArrayRange":
		return c.arrayRange(args[0], args[1], args[2])
	case "States.ArrayGetItem":
		a, aok := args[0].([]any)
		i, iok := truncInt(args[1])
		if !aok || !iok || i < 0 || i >= int64(len(a)) {
			return nil, c.invalid()
		}
		return a[i], nil
	case "States.ArrayLength":
		a, ok := args[0].([]any)
		if !ok {
			return nil, c.invalid()
		}
		return json.Number(strconv.Itoa(len(a))), nil
	case "States.ArrayUnique":
		a, ok := args[0].([]any)
		if !ok {
			return nil, c.invalid()
		}
		out := []any{}
		seen := make(map[string]bool, len(a))
		for _, e := range a {
			k := jacksonKey(e)
			if !seen[k] {
				seen[k] = true
				out = append(out, e)
			}
		}
		return out, nil
	case "States.Base64Encode":
		s, ok := args[0].(string)
		if !ok || javaLen(s) > maxIntrinsicChars {
			return nil, c.invalid()
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "States.Base64Decode":
		return c.base64Decode(args[0])
	case "States.Hash":
		return c.hash(args[0], args[1])
	case "States.JsonMerge":
		a, aok := args[0].(map[string]any)
		b, bok := args[1].(map[string]any)
		deep, dok := args[2].(bool)
		if !aok || !bok || !dok || deep {
			return nil, c.invalid()
		}
		out := make(map[string]any, len(a)+len(b))
		for k, v := range a {
			out[k] = v
		}
		for k, v := range b {
			out[k] = v
		}
		return out, nil
	case "States.MathRandom":
		return c.mathRandom(args, env)
	case "States.MathAdd":
		return c.mathAdd(args[0], args[1])
	case "States.StringSplit":
		return c.stringSplit(args[0], args[1])
	case "States.UUID":
		return uuid4(env), nil
	}
	return nil, c.invalid()
}

// maxIntrinsicChars is the longest string Base64Encode, Base64Decode and
// Hash accept, in UTF-16 code units as Java counts them.
const maxIntrinsicChars = 10000

func (c *icall) fail(detail string) error {
	return Errorf(ErrRuntime, "There was an error while evaluating the intrinsic function: %s. %s", c.src, detail)
}

func (c *icall) invalid() error {
	return c.fail("Invalid arguments in " + c.name)
}

func (c *icall) format(args []any) (any, error) {
	tmpl, ok := args[0].(string)
	if !ok {
		return nil, c.invalid()
	}
	if c.args[0].kind == argLit {
		tmpl = c.args[0].raw // keep \{ and \} apart from placeholders
	}
	parts, holes, err := parseFormat(tmpl)
	if err != nil {
		return nil, c.fail("Invalid template in States.Format: " + err.Error())
	}
	if holes != len(args)-1 {
		return nil, c.fail("Invalid arguments in States.Format: number of arguments do not match the occurrences of {}.")
	}
	var b strings.Builder
	for i, part := range parts {
		b.WriteString(part)
		if i < holes {
			writeJava(&b, args[i+1])
		}
	}
	return b.String(), nil
}

// parseFormat splits a States.Format template at its {} placeholders,
// resolving backslash escapes; parts has one more element than holes.
func parseFormat(t string) (parts []string, holes int, err error) {
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		switch c := t[i]; c {
		case '\\':
			if i+1 < len(t) {
				i++
				b.WriteByte(t[i])
			} else {
				b.WriteByte(c)
			}
		case '{':
			if i+1 >= len(t) || t[i+1] != '}' {
				return nil, 0, errors.New("matching '}' not found for '{'.")
			}
			i++
			parts = append(parts, b.String())
			b.Reset()
			holes++
		case '}':
			return nil, 0, errors.New("matching '{' not found for '}'.")
		default:
			b.WriteByte(c)
		}
	}
	return append(parts, b.String()), holes, nil
}

func (c *icall) stringToJSON(arg any) (any, error) {
	s, ok := arg.(string)
	if !ok {
		return nil, c.invalid()
	}
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	// Like Jackson's readTree, read the first value and ignore the rest.
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, c.invalid()
	}
	return fixNegativeZero(v), nil
}

// fixNegativeZero turns the integer -0, which Jackson reads as 0, into 0.
func fixNegativeZero(v any) any {
	switch x := v.(type) {
	case json.Number:
		if x == "-0" {
			return json.Number("0")
		}
	case []any:
		for i, e := range x {
			x[i] = fixNegativeZero(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = fixNegativeZero(e)
		}
	}
	return v
}

func (c *icall) arrayPartition(arr, size any) (any, error) {
	a, ok := arr.([]any)
	n, nok := truncInt(size)
	if !ok || !nok || n <= 0 || n > math.MaxInt32 {
		return nil, c.invalid()
	}
	out := []any{}
	for i := 0; i < len(a); i += int(n) {
		out = append(out, a[i:min(len(a), i+int(n))])
	}
	return out, nil
}

// maxArrayRange is the most elements States.ArrayRange may produce.
const maxArrayRange = 1000

func (c *icall) arrayRange(first, last, step any) (any, error) {
	f, fok := truncInt32(first)
	l, lok := truncInt32(last)
	s, sok := truncInt32(step)
	if !fok || !lok || !sok || s == 0 {
		return nil, c.invalid()
	}
	count := int64(0)
	if s > 0 && l >= f || s < 0 && l <= f {
		count = (l-f)/s + 1
	}
	if count > maxArrayRange {
		return nil, c.invalid()
	}
	out := make([]any, 0, count)
	for i := int64(0); i < count; i++ {
		out = append(out, json.Number(strconv.FormatInt(f+i*s, 10)))
	}
	return out, nil
}

func (c *icall) base64Decode(arg any) (any, error) {
	s, ok := arg.(string)
	if !ok || javaLen(s) > maxIntrinsicChars {
		return nil, c.invalid()
	}
	// A MIME decoder skips characters outside the alphabet, such as line
	// breaks, and stops at padding.
	var clean strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '=' {
			break
		}
		if ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '+' || ch == '/' {
			clean.WriteByte(ch)
		}
	}
	b, err := base64.RawStdEncoding.DecodeString(clean.String())
	if err != nil {
		return nil, c.invalid()
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), nil
}

// newHash is the hash States.Hash and $hash name, nil for another name.
func newHash(alg string) hash.Hash {
	switch alg {
	case "MD5":
		return md5.New()
	case "SHA-1":
		return sha1.New()
	case "SHA-256":
		return sha256.New()
	case "SHA-384":
		return sha512.New384()
	case "SHA-512":
		return sha512.New()
	}
	return nil
}

func (c *icall) hash(data, alg any) (any, error) {
	s, ok := data.(string)
	a, aok := alg.(string)
	if !ok || !aok || javaLen(s) > maxIntrinsicChars {
		return nil, c.invalid()
	}
	h := newHash(a)
	if h == nil {
		return nil, c.invalid()
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (c *icall) mathRandom(args []any, env *IntrinsicEnv) (any, error) {
	start, sok := truncInt32(args[0])
	end, eok := truncInt32(args[1])
	if !sok || !eok || start >= end || end-start > math.MaxInt32 {
		return nil, c.invalid()
	}
	bound := end - start
	if len(args) == 3 {
		seed, ok := truncInt(args[2])
		if !ok {
			return nil, c.invalid()
		}
		r := newJavaRandom(seed)
		return json.Number(strconv.FormatInt(start+int64(r.nextInt(int32(bound))), 10)), nil
	}
	return json.Number(strconv.FormatInt(start+int64(env.uint64()%uint64(bound)), 10)), nil
}

func (c *icall) mathAdd(a, b any) (any, error) {
	x, xok := roundInt32(a)
	y, yok := roundInt32(b)
	if !xok || !yok {
		return nil, c.invalid()
	}
	sum := x + y
	if sum > math.MaxInt32 || sum < math.MinInt32 {
		return nil, c.invalid()
	}
	return json.Number(strconv.FormatInt(sum, 10)), nil
}

// stringSplit splits at any of the delimiter characters and drops empty
// tokens, as Java's StringTokenizer does.
func (c *icall) stringSplit(str, delims any) (any, error) {
	s, ok := str.(string)
	d, dok := delims.(string)
	if !ok || !dok {
		return nil, c.invalid()
	}
	out := []any{}
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(d, r) }) {
		out = append(out, tok)
	}
	return out, nil
}

// uuid4 returns a random version 4 UUID.
func uuid4(env *IntrinsicEnv) string {
	var b [16]byte
	hi, lo := env.uint64(), env.uint64()
	for i := range 8 {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// javaLen is the length of s in UTF-16 code units.
func javaLen(s string) int {
	n := 0
	for _, r := range s {
		n += max(1, utf16.RuneLen(r))
	}
	return n
}

// numberArgFloat returns a number argument as a float64.
func numberArgFloat(v any) (float64, bool) {
	n, ok := jsonNumberOf(v)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil && !isRangeErr(err) {
		return 0, false
	}
	return f, true
}

// truncInt converts a number argument as Java's longValue does: toward
// zero, saturating.
func truncInt(v any) (int64, bool) {
	n, ok := jsonNumberOf(v)
	if !ok {
		return 0, false
	}
	if isIntegerLiteral(string(n)) {
		if i, ok := new(big.Int).SetString(string(n), 10); ok {
			if i.IsInt64() {
				return i.Int64(), true
			}
			if i.Sign() < 0 {
				return math.MinInt64, true
			}
			return math.MaxInt64, true
		}
	}
	f, ok := numberArgFloat(n)
	if !ok {
		return 0, false
	}
	switch {
	case math.IsNaN(f):
		return 0, true
	case f >= math.MaxInt64:
		return math.MaxInt64, true
	case f <= math.MinInt64:
		return math.MinInt64, true
	}
	return int64(f), true
}

// truncInt32 converts a number argument as Java's intValue of a double
// does: toward zero, saturating at 32 bits.
func truncInt32(v any) (int64, bool) {
	i, ok := truncInt(v)
	return min(max(i, math.MinInt32), math.MaxInt32), ok
}

// roundInt32 rounds a number argument half up, as Java's Math.round does,
// and reports whether it fits in 32 bits.
func roundInt32(v any) (int64, bool) {
	n, ok := jsonNumberOf(v)
	if !ok {
		return 0, false
	}
	if isIntegerLiteral(string(n)) {
		i, err := strconv.ParseInt(string(n), 10, 64)
		return i, err == nil && i >= math.MinInt32 && i <= math.MaxInt32
	}
	f, ok := numberArgFloat(n)
	if !ok || math.IsNaN(f) {
		return 0, false
	}
	r := math.Floor(f + 0.5)
	if r > math.MaxInt32 || r < math.MinInt32 {
		return 0, false
	}
	return int64(r), true
}

// jacksonEqual compares JSON values as Jackson's JsonNode.equals does:
// integers and decimals are never equal to each other.
func jacksonEqual(a, b any) bool { return valuesEqual(a, b, true) }

// jacksonKey returns a string that is the same for two values exactly when
// jacksonEqual holds for them.
func jacksonKey(v any) string {
	var b strings.Builder
	writeJacksonKey(&b, v)
	return b.String()
}

func writeJacksonKey(b *strings.Builder, v any) {
	if n, ok := jsonNumberOf(v); ok {
		if isIntegerLiteral(string(n)) {
			if i, ok := new(big.Int).SetString(string(n), 10); ok {
				b.WriteString("i" + i.String() + ";")
				return
			}
		}
		if f, _, err := big.ParseFloat(string(n), 10, 256, big.ToNearestEven); err == nil {
			if f.Sign() == 0 {
				f.SetInt64(0) // -0.0 equals 0.0
			}
			b.WriteString("d" + f.Text('g', -1) + ";")
			return
		}
		b.WriteString("x" + string(n) + ";")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("n;")
	case bool:
		b.WriteString(strconv.FormatBool(x) + ";")
	case string:
		b.WriteString("s" + strconv.Quote(x) + ";")
	case []any:
		b.WriteString("[")
		for _, e := range x {
			writeJacksonKey(b, e)
		}
		b.WriteString("]")
	case map[string]any:
		b.WriteString("{")
		for _, k := range pathSortedKeys(x) {
			b.WriteString(strconv.Quote(k) + ":")
			writeJacksonKey(b, x[k])
		}
		b.WriteString("}")
	default:
		fmt.Fprintf(b, "?%v;", v)
	}
}

// javaRandom is java.util.Random, which seeded States.MathRandom is taken
// to use (new Random(seed).nextInt(end - start) + start).
type javaRandom struct{ seed int64 }

const (
	javaRandMult = 0x5DEECE66D
	javaRandMask = 1<<48 - 1
)

func newJavaRandom(seed int64) *javaRandom {
	return &javaRandom{seed: (seed ^ javaRandMult) & javaRandMask}
}

func (r *javaRandom) next(bits uint) int32 {
	r.seed = (r.seed*javaRandMult + 0xB) & javaRandMask
	return int32(uint64(r.seed) >> (48 - bits))
}

func (r *javaRandom) nextInt(bound int32) int32 {
	x := r.next(31)
	m := bound - 1
	if bound&m == 0 {
		return int32((int64(bound) * int64(x)) >> 31)
	}
	for u := x; ; u = r.next(31) {
		x = u % bound
		if u-x+m >= 0 { // int32 overflow means a biased draw
			return x
		}
	}
}
