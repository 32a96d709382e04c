package protocols

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

type nopAdapter struct{}

func (nopAdapter) Cycle(context.Context) (Result, error) { return Result{}, nil }

func newNop(Deps) (Adapter, error) { return nopAdapter{}, nil }

// Protocols added by name are described only when looked up, once.
func TestRegistryAddIsLazy(t *testing.T) {
	r := NewRegistry()
	built := map[string]int{}
	for _, name := range []string{"b", "a"} {
		r.Add(name, func() Protocol {
			built[name]++
			return Protocol{Name: name, New: newNop, NewOptions: func() any { return &struct{}{} }}
		})
	}
	r.Register(Protocol{Name: "c", New: newNop})
	if got := r.Names(); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Fatalf("Names() = %v", got)
	}
	if len(built) != 0 {
		t.Fatalf("builders ran before any lookup: %v", built)
	}
	for i := 0; i < 3; i++ {
		if p, ok := r.Lookup("a"); !ok || p.Name != "a" {
			t.Fatalf("Lookup(a) = %+v, %v", p, ok)
		}
	}
	if _, ok := r.NewOptions("a"); !ok {
		t.Fatal("NewOptions(a) not found")
	}
	if built["a"] != 1 || built["b"] != 0 {
		t.Fatalf("builders ran %v times, want a once and b never", built)
	}
	if _, ok := r.Lookup("nope"); ok {
		t.Fatal("unknown protocol found")
	}
	if got := r.Names(); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Fatalf("Names() after a lookup = %v", got)
	}
}

func TestRegistryMistakesPanic(t *testing.T) {
	tests := []struct {
		name string
		do   func(r *Registry)
		want string
	}{
		{"nil builder", func(r *Registry) { r.Add("x", nil) }, "needs a name and a builder"},
		{"name taken by Register", func(r *Registry) {
			r.Register(Protocol{Name: "x", New: newNop})
			r.Add("x", func() Protocol { return Protocol{Name: "x", New: newNop} })
		}, "registered twice"},
		{"Register after Add", func(r *Registry) {
			r.Add("x", func() Protocol { return Protocol{Name: "x", New: newNop} })
			r.Register(Protocol{Name: "x", New: newNop})
		}, "registered twice"},
		{"builder returns another name", func(r *Registry) {
			r.Add("x", func() Protocol { return Protocol{Name: "y", New: newNop} })
			r.Lookup("x")
		}, `returned "y"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				v := recover()
				if s, _ := v.(string); !strings.Contains(s, tt.want) {
					t.Fatalf("panic %v, want one containing %q", v, tt.want)
				}
			}()
			tt.do(NewRegistry())
		})
	}
}
