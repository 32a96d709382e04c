package modules

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestNormalize(t *testing.T) {
	type el struct {
		Zeta  float64 `json:"zeta"`
		Alpha string  `json:"alpha"`
		Big   float64 `json:"big"`
	}
	r, err := Normalize(Result{Success: true, Elements: map[string]el{"b": {Zeta: 2.0, Alpha: "<x>", Big: 1e21}},
		Statistics: struct {
			N int64 `json:"n"`
		}{12345678901234567890 >> 1}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	want := `{"foundanything":false,"success":true,"elements":{"b":{"alpha":"\u003cx\u003e","big":1e+21,"zeta":2}},"statistics":{"n":6172839450617284000},"errors":null}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	if _, err := Normalize(Result{Elements: func() {}}); err == nil {
		t.Fatal("an unencodable element must be an error")
	}
}

func TestFailedAndNames(t *testing.T) {
	b, _ := json.Marshal(Failed(errors.New("module 'x' is not available")))
	if string(b) != `{"foundanything":false,"success":false,"elements":null,"statistics":null,"errors":["module 'x' is not available"]}` {
		t.Fatalf("%s", b)
	}
	if got := (Registry{"b": nil, "a": nil}).Names(); len(got) != 2 || got[0] != "a" {
		t.Fatalf("%v", got)
	}
}
