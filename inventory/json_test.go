package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sampleInventory has what the indenter must get right: escapes and quotes in strings,
// punctuation inside strings, empty and nested objects and arrays, numbers, booleans, times.
func sampleInventory() *Inventory {
	inv := &Inventory{}
	inv.Meta.AgentVersion = "1.2.3"
	inv.Meta.CollectedAt = time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC)
	inv.Meta.Duration = 0.0123
	inv.Meta.Categories = []CategoryResult{{Name: "cpu", Duration: 1e-6}, {Name: "usb", Skipped: true}, {Name: "x", Error: `bad "quote" \ and {[,:]}`}}
	inv.System.Hostname = `host\"{}[],:`
	inv.Software = []Software{
		{Name: "a", Version: "1:2.3-4", Comment: "tab\tnewline\nnul\x00 <html> & 'q' é 🙂 \u2028", Source: "dpkg", SizeBytes: 42},
		{Name: `back\\slash\`, Source: "dpkg", InstallDate: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)},
		{Name: "", Source: ""},
	}
	inv.Users = []User{{Name: "root", UID: "0"}}
	inv.Processes = []Process{{PID: 1, Name: "init", CPUPercent: 0.5, MemPercent: 1e-9}}
	return inv
}

func TestWriteJSONMatchesMarshalIndent(t *testing.T) {
	tests := []struct {
		name string
		inv  *Inventory
	}{
		{"empty", &Inventory{}},
		{"sample", sampleInventory()},
		{"every list", everyList()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.MarshalIndent(tt.inv, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, '\n')
			var got bytes.Buffer
			if err := WriteJSON(&got, tt.inv); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("differs from MarshalIndent at byte %d:\n got %q\nwant %q", firstDiff(got.Bytes(), want), got.String(), want)
			}
		})
	}
}

// everyList has one zero element in each list field and an empty non-nil list in none.
func everyList() *Inventory {
	inv := sampleInventory()
	v := reflect.ValueOf(inv).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Slice && f.Len() == 0 {
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		}
	}
	return inv
}

func TestStreamable(t *testing.T) {
	if !streamable(reflect.TypeFor[Inventory]()) {
		t.Error("Inventory is encoded whole: its lists would sit in one buffer")
	}
	tests := []struct {
		name string
		typ  reflect.Type
		want bool
	}{
		{"omitempty on a string", reflect.TypeFor[struct {
			A string `json:"a,omitempty"`
		}](), false},
		{"omitzero", reflect.TypeFor[struct {
			A []int `json:"a,omitzero"`
		}](), false},
		{"no tag", reflect.TypeFor[struct{ A []int }](), false},
		{"name needing escapes", reflect.TypeFor[struct {
			A []int `json:"a<b"`
		}](), false},
		{"embedded", reflect.TypeFor[struct {
			Meta `json:"meta"`
		}](), false},
		{"plain", reflect.TypeFor[struct {
			A []int `json:"a,omitempty"`
			B Meta  `json:"b"`
		}](), true},
	}
	for _, tt := range tests {
		if got := streamable(tt.typ); got != tt.want {
			t.Errorf("%s: streamable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestIndentWriterChunks feeds compact JSON in every split, so state carried across writes
// (inside a string, after a backslash, after an opening bracket) is exercised.
func TestIndentWriterChunks(t *testing.T) {
	docs := []string{
		`{"a":[],"b":{},"c":[{},[]],"d":"x\\\"y\\","e":[1,-2.5e-7,true,false,null],"f":{"g":{"h":["\u003c{[,:]}"]}}}`,
		`[]`, `{}`, `"s"`, `12`, `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
	}
	for _, doc := range docs {
		var want bytes.Buffer
		if err := json.Indent(&want, []byte(doc+"\n"), "", "  "); err != nil {
			t.Fatal(err)
		}
		for split := range len(doc) + 1 {
			var got bytes.Buffer
			iw := &indentWriter{w: &got}
			for _, part := range []string{doc[:split], doc[split:] + "\n"} {
				if n, err := iw.Write([]byte(part)); err != nil || n != len(part) {
					t.Fatalf("write = %d, %v", n, err)
				}
			}
			if err := iw.flush(); err != nil {
				t.Fatal(err)
			}
			if got.String()+"\n" != want.String() { // the encoder's trailing newline is dropped
				t.Fatalf("%s split at %d:\n got %q\nwant %q", doc, split, got.String(), want.String())
			}
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteJSONReportsWriteError(t *testing.T) {
	inv := sampleInventory()
	inv.Software = append(inv.Software, Software{Name: strings.Repeat("x", 100<<10)}) // more than the buffer
	if err := WriteJSON(failWriter{}, inv); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("err = %v", err)
	}
	if err := WriteJSON(failWriter{}, &Inventory{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("small inventory: err = %v", err)
	}
}

func TestWriteJSONEncodingError(t *testing.T) {
	inv := sampleInventory()
	inv.Processes[0].CPUPercent = math.NaN()
	if err := WriteJSON(&bytes.Buffer{}, inv); err == nil || !strings.Contains(err.Error(), "encode inventory") {
		t.Errorf("NaN accepted: %v", err)
	}
}

func FuzzIndentWriter(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":"c\\\"d"}],"e":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var compact bytes.Buffer
		if json.Compact(&compact, b) != nil {
			return
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact.Bytes(), "", "  "); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		iw := &indentWriter{w: &got}
		if _, err := iw.Write(compact.Bytes()); err != nil {
			t.Fatal(err)
		}
		_ = iw.flush()
		if got.String() != want.String() { // Compact leaves no newline to drop
			t.Errorf("got %q want %q", got.String(), want.String())
		}
	})
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// BenchmarkWriteJSON is the `omniagent inventory --format json` encoding step on a model the
// size of a desktop's (a thousand packages, a hundred processes).
func BenchmarkWriteJSON(b *testing.B) {
	inv := largeInventory()
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteJSON(discard{}, inv); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshalIndent is what WriteJSON replaces, for comparison.
func BenchmarkMarshalIndent(b *testing.B) {
	inv := largeInventory()
	b.ReportAllocs()
	for b.Loop() {
		enc := json.NewEncoder(discard{})
		enc.SetIndent("", "  ")
		if err := enc.Encode(inv); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func largeInventory() *Inventory {
	inv := sampleInventory()
	for i := range 1000 {
		inv.Software = append(inv.Software, Software{Name: "libexample" + strings.Repeat("x", i%20), Version: "1.2.3-4+deb12u1",
			Publisher: "Debian Example Maintainers <pkg-example@lists.example.org>", InstallDate: time.Unix(1700000000+int64(i), 0).UTC(),
			SizeBytes: uint64(i) * 1024, Arch: "amd64", Source: "dpkg", Comment: "an example library for \"benchmarks\"",
			URL: "https://example.org/", Category: "libs", MultiArch: "same"})
	}
	for i := range 100 {
		inv.Processes = append(inv.Processes, Process{PID: int32(i), PPID: 1, User: "root", Name: "proc", Command: "/usr/bin/proc --flag value",
			MemBytes: 1 << 20, VirtBytes: 1 << 30, MemPercent: 0.01, CPUPercent: 0.2, Started: time.Unix(1700000000, 0).UTC()})
	}
	return inv
}

// BenchmarkIndentWriter is the indenting alone, on the compact encoding of a large model.
func BenchmarkIndentWriter(b *testing.B) {
	compact, err := json.Marshal(largeInventory())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(compact)))
	for b.Loop() {
		if _, err := (&indentWriter{w: discard{}}).Write(compact); err != nil {
			b.Fatal(err)
		}
	}
}
