package action

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

// noteExample is the worked example of shared/protocols/mig.md §4.2, as received.
const noteExample = `{"name":"apache <vhost> & ssl","target":"environment->>'os'='linux' AND tags->>'operator'='IT'",
 "validfrom":"2026-11-22T10:00:00.987654+01:00","expireafter":"2026-11-22T09:10:00Z",
 "operations":[{"module":"file","parameters":{"searches":{"vhosts":{"paths":["/etc/apache2"],
     "contents":["^<VirtualHost .*:443>"],"options":{"maxdepth":2.0,"matchlimit":1000,"mismatch":null,
     "matchall":true,"macroal":false,"maxerrors":30}}}}},
   {"module":"timedrift","parameters":{"drift":"5s"},"want_compressed":false}],
 "description":{"author":"Alice"},"syntaxversion":2,"pgpsignatures":["x"]}`

const noteExampleSigned = `name=apache <vhost> & ssl;target=environment->>'os'='linux' AND tags->>'operator'='IT';validfrom=1795338000;expireafter=%!s(int64=1795338600);operations=[{"module":"file","parameters":{"searches":{"vhosts":{"contents":["^\u003cVirtualHost .*:443\u003e"],"options":{"macroal":false,"matchall":true,"matchlimit":1000,"maxdepth":2,"maxerrors":30,"mismatch":null},"paths":["/etc/apache2"]}}}},{"module":"timedrift","parameters":{"drift":"5s"}}];`

func decodeAction(t testing.TB, js string) *Action {
	t.Helper()
	var a Action
	if err := json.Unmarshal([]byte(js), &a); err != nil {
		t.Fatalf("decode action: %v", err)
	}
	return &a
}

// act builds an action JSON with the fixed window 09:00:00Z–09:10:00Z on 2026-11-22.
func act(name, target, ops string) string {
	n, _ := json.Marshal(name)
	tg, _ := json.Marshal(target)
	return `{"name":` + string(n) + `,"target":` + string(tg) +
		`,"validfrom":"2026-11-22T09:00:00Z","expireafter":"2026-11-22T09:10:00Z","operations":` + ops + `}`
}

const prefix = `name=n;target=t;validfrom=1795338000;expireafter=%!s(int64=1795338600);operations=`

func TestSignedStringNoteExample(t *testing.T) {
	got, err := SignedString(decodeAction(t, noteExample))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != noteExampleSigned {
		t.Fatalf("signed string\n got %s\nwant %s", got, noteExampleSigned)
	}
	sum := sha256.Sum256(got)
	if len(got) != 441 || hex.EncodeToString(sum[:]) != "831345ef9b7729278093e2ecc6bd0b8672109a09907fa13272346695672a3879" {
		t.Fatalf("len %d sha256 %x, want 441 and the note's digest", len(got), sum)
	}
}

func TestSignedStringGoldens(t *testing.T) {
	tests := []struct {
		name   string
		action string
		legacy string // expected SignedString
		short  string // expected \b/\f form, when it differs
	}{
		{
			name:   "nested maps sorted at every depth",
			action: act("n", "t", `[{"module":"m","parameters":{"z":{"y":{"b":1,"a":{"d":1,"c":2}},"x":[{"d":1,"c":2}]},"a":"1"}}]`),
			legacy: prefix + `[{"module":"m","parameters":{"a":"1","z":{"x":[{"c":2,"d":1}],"y":{"a":{"c":2,"d":1},"b":1}}}}];`,
		},
		{
			name:   "html characters raw in name and target, escaped in parameters",
			action: act("a<b>&c", "x>'1' & y<2", `[{"module":"m","parameters":{"p":"<a href=\"x\">&</a>"}}]`),
			legacy: `name=a<b>&c;target=x>'1' & y<2;validfrom=1795338000;expireafter=%!s(int64=1795338600);operations=` +
				`[{"module":"m","parameters":{"p":"\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e"}}];`,
		},
		{
			name:   "non-ASCII raw, U+2028 and U+2029 escaped",
			action: act("é ✓", "日本", `[{"module":"m","parameters":{"s":"héllo ✓ 日本 \u2028 \u2029 \ud83d\ude00"}}]`),
			legacy: `name=é ✓;target=日本;validfrom=1795338000;expireafter=%!s(int64=1795338600);operations=` +
				`[{"module":"m","parameters":{"s":"héllo ✓ 日本 \u2028 \u2029 😀"}}];`,
		},
		{
			name:   "numbers as float64",
			action: act("n", "t", `[{"module":"m","parameters":{"n":[1,1.0,1000,1e20,1e21,0.1,1e-6,1e-7,12345678901234567890]}}]`),
			legacy: prefix + `[{"module":"m","parameters":{"n":[1,1,1000,100000000000000000000,1e+21,0.1,0.000001,1e-7,12345678901234567000]}}];`,
		},
		{
			name:   "literals and empty containers",
			action: act("n", "t", `[{"module":"m","parameters":{"e":false,"d":{},"c":[],"b":true,"a":null}}]`),
			legacy: prefix + `[{"module":"m","parameters":{"a":null,"b":true,"c":[],"d":{},"e":false}}];`,
		},
		{
			name:   "null parameters",
			action: act("n", "t", `[{"module":"m","parameters":null}]`),
			legacy: prefix + `[{"module":"m","parameters":null}];`,
		},
		{
			name:   "compressed operation signs the base64 string",
			action: act("n", "t", `[{"module":"file","parameters":"H4sIAAAAAAAA/6pWKk4tSk7NK1ayUlAqzs9NVagBAAD//w==","is_compressed":true,"want_compressed":true}]`),
			legacy: prefix + `[{"module":"file","parameters":"H4sIAAAAAAAA/6pWKk4tSk7NK1ayUlAqzs9NVagBAAD//w==","is_compressed":true,"want_compressed":true}];`,
		},
		{
			name:   "false compression flags vanish",
			action: act("n", "t", `[{"module":"m","parameters":{},"is_compressed":false,"want_compressed":false}]`),
			legacy: prefix + `[{"module":"m","parameters":{}}];`,
		},
		{
			name: "validfrom with fraction and offset",
			action: `{"name":"n","target":"t","validfrom":"2026-11-22T10:00:00.987654+01:00",` +
				`"expireafter":"2026-11-22T04:10:00.5-05:00","operations":[]}`,
			legacy: prefix + `[];`,
		},
		{
			name:   "U+0008 and U+000C in both escape forms",
			action: act("n", "t", `[{"module":"m","parameters":{"s":"a\bb\fc\u0008d\u000ce","t":"\\b\\f"}}]`),
			legacy: prefix + `[{"module":"m","parameters":{"s":"a\u0008b\u000cc\u0008d\u000ce","t":"\\b\\f"}}];`,
			short:  prefix + `[{"module":"m","parameters":{"s":"a\bb\fc\bd\fe","t":"\\b\\f"}}];`,
		},
		{
			name:   "other control characters",
			action: act("n", "t", `[{"module":"m","parameters":{"s":"\u0001\n\r\t\u001f\u007f"}}]`),
			legacy: prefix + `[{"module":"m","parameters":{"s":"\u0001\n\r\t\u001f` + "\x7f" + `"}}];`,
		},
		{
			name:   "invalid UTF-8 decoded as U+FFFD",
			action: act("n", "t", `[{"module":"m","parameters":{"s":"a`+"\xff"+`b"}}]`),
			legacy: prefix + `[{"module":"m","parameters":{"s":"a` + "\uFFFD" + `b"}}];`,
		},
		{
			name:   "percent in name is not a format verb",
			action: act("100%s %d", "t", `[]`),
			legacy: `name=100%s %d;target=t;validfrom=1795338000;expireafter=%!s(int64=1795338600);operations=[];`,
		},
		{
			name:   "operations empty",
			action: act("n", "t", `[]`),
			legacy: prefix + `[];`,
		},
		{
			name:   "operations missing",
			action: `{"name":"n","target":"t","validfrom":"2026-11-22T09:00:00Z","expireafter":"2026-11-22T09:10:00Z"}`,
			legacy: prefix + `null;`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := decodeAction(t, tt.action)
			got, err := SignedString(a)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.legacy {
				t.Errorf("legacy form\n got %s\nwant %s", got, tt.legacy)
			}
			short, err := signedString(a, false)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.short
			if want == "" {
				want = tt.legacy
			}
			if string(short) != want {
				t.Errorf("short form\n got %s\nwant %s", short, want)
			}
		})
	}
}

// A typed parameter struct signs like its generic decode: MIG's client round-trips actions
// through a file before signing.
func TestSignedStringTypedParameters(t *testing.T) {
	type opts struct {
		MaxDepth float64 `json:"maxdepth"`
		MatchAll bool    `json:"matchall"`
	}
	type search struct {
		Paths   []string `json:"paths"`
		Options opts     `json:"options"`
	}
	a := decodeAction(t, act("n", "t", `[]`))
	a.Operations = []Operation{{Module: "file", Parameters: map[string]any{
		"searches": map[string]search{"s1": {Paths: []string{"/etc"}, Options: opts{MaxDepth: 2}}},
	}}}
	got, err := SignedString(a)
	if err != nil {
		t.Fatal(err)
	}
	want := prefix + `[{"module":"file","parameters":{"searches":{"s1":{"options":{"matchall":false,"maxdepth":2},"paths":["/etc"]}}}}];`
	if string(got) != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	if _, ok := a.Operations[0].Parameters.(map[string]any)["searches"].(map[string]search); !ok {
		t.Fatal("SignedString modified the action's parameters")
	}
}

func TestSignedStringNil(t *testing.T) {
	if _, err := SignedString(nil); err == nil || !strings.Contains(err.Error(), "nil action") {
		t.Fatalf("err = %v", err)
	}
}
