// Package lazyre holds regular expressions compiled on first use. A package-level
// `var re = &lazyre.Regexp{Expr: ...}` is laid out by the compiler: no code runs at start,
// where regexp.MustCompile or sync.OnceValue in a var would run in every process (and fault in
// a page of the package's code) even when the expression is never used.
package lazyre

import (
	"regexp"
	"sync"
)

// Regexp is Expr, compiled by the first Get. Expr must be valid: a bad constant is a
// programming error and panics, as regexp.MustCompile.
type Regexp struct {
	Expr string
	once sync.Once
	re   *regexp.Regexp
}

// Get returns the compiled expression.
func (r *Regexp) Get() *regexp.Regexp {
	r.once.Do(func() { r.re = regexp.MustCompile(r.Expr) })
	return r.re
}
