package states

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Payload templates: Parameters, ResultSelector, ItemSelector and the
// legacy Map Parameters. A template is copied recursively through objects
// and arrays; a field whose name ends in ".$" takes its value from a path on
// the input, a $$ path on the context object or an intrinsic function call,
// and loses the ".$" from its name.

// EvalTemplate evaluates the payload template tmpl against input, with $$
// paths reading context. A path that selects nothing fails with
// States.Runtime and AWS's cause, "The JSONPath '$.x' specified for the field
// 'x.$' could not be found in the input '{...}'" (the caller adds the
// "An error occurred while executing the state ..." prefix); a path on a
// null input fails with "Unable to apply Path transformation to null or
// empty input."; intrinsic failures are described in intrinsic.go.
//
// The result shares structure with tmpl, input and context.
func EvalTemplate(tmpl any, input, context any, env *IntrinsicEnv) (any, error) {
	switch t := tmpl.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		// Dynamic fields last, so that "a.$" wins over "a"; sorted so the
		// first failure reported does not depend on map order.
		slices.SortFunc(keys, func(a, b string) int {
			da, db := strings.HasSuffix(a, ".$"), strings.HasSuffix(b, ".$")
			if da != db {
				if da {
					return 1
				}
				return -1
			}
			return strings.Compare(a, b)
		})
		for _, k := range keys {
			v := t[k]
			if name, ok := strings.CutSuffix(k, ".$"); ok {
				x, err := evalField(k, v, input, context, env)
				if err != nil {
					return nil, err
				}
				out[name] = x
				continue
			}
			x, err := EvalTemplate(v, input, context, env)
			if err != nil {
				return nil, err
			}
			out[k] = x
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, v := range t {
			x, err := EvalTemplate(v, input, context, env)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	}
	return tmpl, nil
}

// evalField evaluates the value of the dynamic field key.
func evalField(key string, v, input, context any, env *IntrinsicEnv) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, Errorf(ErrRuntime, "The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call", key)
	}
	if !strings.HasPrefix(s, "$") {
		f, err := cachedIntrinsic(s)
		if err != nil {
			return nil, Errorf(ErrRuntime, "The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call", key)
		}
		return f.Eval(input, context, env)
	}
	p, err := cachedPath(s)
	if err != nil {
		return nil, Errorf(ErrRuntime, "The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call", key)
	}
	src, ok := p.Source(input, context, env.vars())
	if !ok {
		return nil, Errorf(ErrRuntime, "The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", s, key, Encode(input))
	}
	if src == nil && !p.Context() && p.Variable() == "" {
		return nil, Errorf(ErrRuntime, "Unable to apply Path transformation to null or empty input.")
	}
	x, ok := p.Get(src)
	if !ok {
		return nil, Errorf(ErrRuntime, "The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", s, key, Encode(src))
	}
	return x, nil
}

// CheckTemplate validates a payload template in a definition: the value of
// every field whose name ends in ".$" must be a string holding a valid path
// or intrinsic function call. The error text is AWS's schema message,
// without the location.
func CheckTemplate(tmpl any) error {
	switch t := tmpl.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := t[k]
			if strings.HasSuffix(k, ".$") {
				if !validDynamic(v) {
					return fmt.Errorf("The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call", k)
				}
				continue
			}
			if err := CheckTemplate(v); err != nil {
				return err
			}
		}
	case []any:
		for _, v := range t {
			if err := CheckTemplate(v); err != nil {
				return err
			}
		}
	}
	return nil
}

func validDynamic(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	if strings.HasPrefix(s, "$") {
		_, err := cachedPath(s)
		return err == nil
	}
	_, err := cachedIntrinsic(s)
	return err == nil
}

// Parsed paths and calls of templates, keyed by their text. Only
// definitions put text here, so the caches stay small.
var (
	pathCache      sync.Map // string → *Path
	intrinsicCache sync.Map // string → *Intrinsic
)

func cachedPath(s string) (*Path, error) {
	if p, ok := pathCache.Load(s); ok {
		return p.(*Path), nil
	}
	p, err := ParsePath(s)
	if err != nil {
		return nil, err
	}
	pathCache.Store(s, p)
	return p, nil
}

func cachedIntrinsic(s string) (*Intrinsic, error) {
	if f, ok := intrinsicCache.Load(s); ok {
		return f.(*Intrinsic), nil
	}
	f, err := ParseIntrinsic(s)
	if err != nil {
		return nil, err
	}
	intrinsicCache.Store(s, f)
	return f, nil
}
