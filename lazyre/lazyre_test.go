package lazyre

import (
	"sync"
	"testing"
)

func TestGetCompilesOnceAndMatches(t *testing.T) {
	re := &Regexp{Expr: `^v(\d+)\.(\d+)$`}
	if re.re != nil {
		t.Fatal("compiled before first use")
	}
	var wg sync.WaitGroup
	got := make([]any, 8)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = re.Get() }()
	}
	wg.Wait()
	for _, g := range got {
		if g != got[0] {
			t.Fatal("Get returned different compiled values")
		}
	}
	if m := re.Get().FindStringSubmatch("v1.26"); len(m) != 3 || m[2] != "26" {
		t.Fatalf("FindStringSubmatch = %q", m)
	}
	if re.Get().MatchString("1.26") {
		t.Fatal("matched without the v")
	}
}

func TestBadExpressionPanicsOnFirstUse(t *testing.T) {
	re := &Regexp{Expr: `(`}
	defer func() {
		if recover() == nil {
			t.Fatal("an invalid expression did not panic")
		}
	}()
	re.Get()
}
