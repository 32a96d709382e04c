package inventory

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// randomFill sets every field of the struct v by kind, zero values included, with the
// strings, numbers and times whose encodings differ most.
func randomFill(r *rand.Rand, v reflect.Value) {
	strs := []string{"", "plain", "with space", `q"uote`, `back\slash`, "<b>&amp;</b>", "tab\tnl\n", "\x00\x1f\x7f",
		"é ünïcödé 🙂", "\u2028\u2029", "bad \xff utf8", "/usr/bin/x --flag=1"}
	floats := []float64{0, 1, -1, 0.5, 1e-7, 1e-6, 123456.789, 1e20, 1e21, 1.5e300, 5e-324, r.Float64() * 100, -0.0001}
	times := []time.Time{{}, time.Unix(1700000000, 0).UTC(), time.Unix(1700000000, 123456789).UTC(),
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600)), time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(r.Int64N(4e9), r.Int64N(1e9)).UTC()}
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(strs[r.IntN(len(strs))])
		case reflect.Bool:
			f.SetBool(r.IntN(2) == 1)
		case reflect.Int32, reflect.Int64, reflect.Int:
			f.SetInt([]int64{0, 1, -5, math.MaxInt32, r.Int64N(1 << 31)}[r.IntN(5)])
		case reflect.Uint64, reflect.Uint32, reflect.Uint:
			f.SetUint([]uint64{0, 1, math.MaxUint32, r.Uint64() >> 1}[r.IntN(4)])
		case reflect.Float64:
			f.SetFloat(floats[r.IntN(len(floats))])
		case reflect.Struct:
			if f.Type() != reflect.TypeFor[time.Time]() {
				panic("randomFill: no case for " + f.Type().String())
			}
			f.Set(reflect.ValueOf(times[r.IntN(len(times))]))
		default:
			panic("randomFill: no case for " + f.Type().String())
		}
	}
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, typ := range []reflect.Type{reflect.TypeFor[Software](), reflect.TypeFor[Process]()} {
		for i := range 5000 {
			v := reflect.New(typ)
			randomFill(r, v.Elem())
			depth := i % 4
			want, wantErr := json.MarshalIndent(v.Interface(), strings.Repeat("  ", depth), "  ")
			got, err := v.Interface().(jsonAppender).appendJSON(nil, depth)
			if (err != nil) != (wantErr != nil) || string(got) != string(want) {
				t.Fatalf("%s #%d %+v:\n got %s (%v)\nwant %s (%v)", typ, i, v.Elem().Interface(), got, err, want, wantErr)
			}
		}
	}
}

func TestAppendJSONUnsupportedFloat(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		p := Process{PID: 1, MemPercent: f}
		if _, err := p.appendJSON(nil, 0); err == nil || !strings.Contains(err.Error(), "unsupported value") {
			t.Errorf("%v: err = %v", f, err)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a<b>&c", "\x00\b\f\n\r\t\x1f\x7f", "\u2028x\u2029", "\xff\xfe", "é🙂", `"\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s want %s", s, got, want)
		}
	})
}
