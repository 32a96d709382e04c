package oco

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGeneratePassword(t *testing.T) {
	tests := []struct {
		alphabet string
		length   int
	}{
		{"abcdefghijklmnopqrstuvwxyz0123456789", 16},
		{"äöü€ß", 40},
		{"x", 3},
	}
	for _, tt := range tests {
		pw, err := generatePassword(tt.alphabet, tt.length)
		if err != nil {
			t.Fatal(err)
		}
		if n := utf8.RuneCount(pw); n != tt.length {
			t.Errorf("alphabet %q: %d characters, want %d", tt.alphabet, n, tt.length)
		}
		for _, r := range string(pw) {
			if !strings.ContainsRune(tt.alphabet, r) {
				t.Errorf("alphabet %q: character %q not in it", tt.alphabet, r)
			}
		}
	}
}

// Every symbol is drawn equally often: with 3 symbols, a modulo of a random byte would favour
// the first (256 = 3·85 + 1) only slightly, so this checks gross bias, at 60,000 draws.
func TestGeneratePasswordUniform(t *testing.T) {
	const n = 60000
	pw, err := generatePassword("abc", n)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[byte]int{}
	for _, b := range pw {
		counts[b]++
	}
	for _, c := range []byte("abc") {
		if got := counts[c]; got < n/3*95/100 || got > n/3*105/100 {
			t.Errorf("%q drawn %d times of %d: not uniform", c, got, n)
		}
	}
}

func TestParsePasswordRules(t *testing.T) {
	tests := []struct {
		raw     string
		want    int
		wantErr bool
	}{
		{`[]`, 0, false},
		{`{}`, 0, false},
		{`null`, 0, false},
		{`[{"username":"admin","alphabet":"abc","length":"12"}]`, 1, false},
		{`[{"username":"admin","alphabet":"abc","length":12,"old_password":"o"}]`, 1, false},
		{`"nonsense"`, 0, true},
	}
	for _, tt := range tests {
		got, err := parsePasswordRules(json.RawMessage(tt.raw))
		if (err != nil) != tt.wantErr || len(got) != tt.want {
			t.Errorf("%s: %d rules, err %v", tt.raw, len(got), err)
		}
	}
	rules, _ := parsePasswordRules(json.RawMessage(`[{"username":"admin","alphabet":"abc","length":"12","old_password":"o"}]`))
	if r := rules[0]; r.Length != 12 || r.Old != "o" || r.check() != nil {
		t.Errorf("rule = %+v (check %v)", r, r.check())
	}
	for _, bad := range []passwordRule{{Alphabet: "a", Length: 1}, {Username: "u", Length: 1}, {Username: "u", Alphabet: "a"}, {Username: "u", Alphabet: "a", Length: 100000}} {
		if bad.check() == nil {
			t.Errorf("rule %+v accepted", bad)
		}
	}
}

func TestParseLocalChecks(t *testing.T) {
	out := "<<<local>>>\n" +
		"0 Disk_root count=15;80;90 15 % used\n" +
		"2 \"Backup job\" - last run failed: disk full\n" +
		"1 Mem - \n" +
		"P Load load=5.2;4;8|procs=120 load is 5.2\n" +
		"P Temp temp=2;10:80;5:90 too cold\n" +
		"P Quiet - nothing measured\n" +
		"X Bad - bad status\n" +
		"0 \"Unterminated - x\n" +
		"0 NoMetrics\n" +
		"\n"
	svcs, bad := parseLocalChecks([]byte(out))
	want := []service{
		{Status: 0, Name: "Disk_root", Metrics: "count=15;80;90", Details: "15 % used"},
		{Status: 2, Name: "Backup job", Metrics: "-", Details: "last run failed: disk full"},
		{Status: 1, Name: "Mem", Metrics: "-", Details: ""},
		{Status: 1, Name: "Load", Metrics: "load=5.2;4;8|procs=120", Details: "load is 5.2"},
		{Status: 2, Name: "Temp", Metrics: "temp=2;10:80;5:90", Details: "too cold"},
		{Status: 0, Name: "Quiet", Metrics: "-", Details: "nothing measured"},
	}
	if len(svcs) != len(want) {
		t.Fatalf("got %d services %+v, want %d", len(svcs), svcs, len(want))
	}
	for i := range want {
		if svcs[i] != want[i] {
			t.Errorf("service %d = %+v, want %+v", i, svcs[i], want[i])
		}
	}
	if len(bad) != 3 {
		t.Errorf("bad lines = %q, want 3", bad)
	}
}

func TestServiceJSONKeys(t *testing.T) {
	b, _ := json.Marshal(service{Status: 1, Name: "n", Metrics: "m", Details: "d"})
	if string(b) != `{"status":1,"name":"n","metrics":"m","details":"d"}` {
		t.Fatalf("wire form %s", b)
	}
}
