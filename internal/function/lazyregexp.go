package function

import (
	"regexp"
	"sync"
)

// lazyRegexp is a regular expression compiled on first use, as the
// standard library's internal/lazyregexp. Compiling this package's
// patterns (some with counted repetitions such as {1,256}) at package
// initialisation cost every start of the updraft binary ~1.7 ms and
// 0.75 MB, including each linux sandbox child, which re-executes the
// binary and never validates anything.
type lazyRegexp struct {
	expr string
	re   func() *regexp.Regexp
}

func newLazyRegexp(expr string) *lazyRegexp {
	return &lazyRegexp{expr: expr, re: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })}
}

func (r *lazyRegexp) MatchString(s string) bool            { return r.re().MatchString(s) }
func (r *lazyRegexp) FindStringSubmatch(s string) []string { return r.re().FindStringSubmatch(s) }
func (r *lazyRegexp) String() string                       { return r.expr }
func (r *lazyRegexp) SubexpIndex(name string) int          { return r.re().SubexpIndex(name) }
