package collectors

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/omniagent/omniagent/inventory"
)

func TestParsePlistXML(t *testing.T) {
	src := `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>s</key><string>a &amp; b</string>
	<key>i</key><integer>-42</integer>
	<key>r</key><real>1.5</real>
	<key>t</key><true/>
	<key>f</key><false/>
	<key>d</key><date>2024-03-26T09:12:40Z</date>
	<key>b</key><data>AQID
	BA==</data>
	<key>a</key><array><string>x</string><integer>1</integer><array/></array>
	<key>e</key><dict/>
</dict>
</plist>`
	v, err := parsePlist([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"s": "a & b", "i": int64(-42), "r": 1.5, "t": true, "f": false,
		"d": time.Date(2024, 3, 26, 9, 12, 40, 0, time.UTC), "b": []byte{1, 2, 3, 4},
		"a": []any{"x", int64(1), []any{}}, "e": map[string]any{},
	}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("got %#v\nwant %#v", v, want)
	}
}

func TestParsePlistErrors(t *testing.T) {
	for name, src := range map[string]string{
		"empty":        "",
		"not plist":    "<html></html>",
		"bad int":      "<plist><integer>x</integer></plist>",
		"key no value": "<plist><dict><key>a</key></dict></plist>",
		"no key":       "<plist><dict><string>a</string></dict></plist>",
		"unknown":      "<plist><foo/></plist>",
		"bad date":     "<plist><date>yesterday</date></plist>",
		"unclosed":     "<plist><dict><key>a</key><string>b</string>",
		"bplist short": "bplist00",
		"bplist bad":   "bplist00" + strings.Repeat("\x00", 40),
	} {
		if _, err := parsePlist([]byte(src)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := plistDict([]byte("<plist><array/></plist>")); err == nil {
		t.Error("array accepted as a dictionary")
	}
}

func TestParsePlistBinary(t *testing.T) {
	b, err := os.ReadFile("testdata/darwin/receipts/com.google.Chrome.plist")
	if err != nil {
		t.Fatal(err)
	}
	m, err := plistDict(b)
	if err != nil {
		t.Fatal(err)
	}
	if m["PackageIdentifier"] != "com.google.Chrome" || m["PackageVersion"] != "123.0.6312.58" ||
		!m["InstallDate"].(time.Time).Equal(time.Date(2024, 3, 26, 9, 12, 40, 0, time.UTC)) {
		t.Errorf("receipt = %#v", m)
	}
	u, err := os.ReadFile("testdata/darwin/dslocal/users/jane.plist")
	if err != nil {
		t.Fatal(err)
	}
	um, err := plistDict(u)
	if err != nil {
		t.Fatal(err)
	}
	if plistString(um, "realname") != "Jane Doe" || !reflect.DeepEqual(plistStrings(um, "shell"), []string{"/bin/zsh"}) {
		t.Errorf("user = %#v", um)
	}
	if _, ok := um["ShadowHashData"].([]any)[0].([]byte); !ok {
		t.Errorf("data inside array not decoded: %#v", um["ShadowHashData"])
	}
}

func FuzzParsePlist(f *testing.F) {
	for _, p := range []string{"testdata/darwin/SystemVersion.plist", "testdata/darwin/receipts/com.google.Chrome.plist", "testdata/darwin/dslocal/groups/admin.plist", "testdata/darwin/types.bplist"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parsePlist(b)
	})
}

func TestMacOSFromSystemVersion(t *testing.T) {
	b, err := os.ReadFile("testdata/darwin/SystemVersion.plist")
	if err != nil {
		t.Fatal(err)
	}
	o, err := macOSFromSystemVersion(b)
	want := inventory.OS{Family: "darwin", KernelName: "darwin", Name: "macOS", Version: "14.4.1", VersionMajor: "14", Build: "23E224", Codename: "Sonoma", FullName: "macOS Sonoma 14.4.1"}
	if err != nil || o != want {
		t.Errorf("got %+v, %v\nwant %+v", o, err, want)
	}
	if _, err := macOSFromSystemVersion([]byte("<plist><dict/></plist>")); err == nil {
		t.Error("empty SystemVersion accepted")
	}
}

func TestSoftwareFromReceipts(t *testing.T) {
	sw, err := softwareFromReceipts(os.DirFS("testdata/darwin/receipts"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sw) != 3 {
		t.Fatalf("got %d receipts, want 3 (.bom ignored): %+v", len(sw), sw)
	}
	c := sw[1]
	if c.Name != "com.google.Chrome" || c.Version != "123.0.6312.58" || c.Source != "pkgutil" || c.System ||
		!c.InstallDate.Equal(time.Date(2024, 3, 26, 9, 12, 40, 0, time.UTC)) {
		t.Errorf("chrome = %+v", c)
	}
	if a := sw[0]; !a.System || a.Publisher != "Apple Inc." {
		t.Errorf("apple receipt = %+v", a)
	}
	if m := sw[2]; m.InstallPath != "/Library/Application Support/Microsoft" {
		t.Errorf("microsoft receipt = %+v", m)
	}
	if _, err := softwareFromReceipts(os.DirFS("testdata/darwin/nonexistent")); err == nil {
		t.Error("missing receipts dir: no error")
	}
}

func TestUsersFromDSLocal(t *testing.T) {
	users, groups, err := usersFromDSLocal(os.DirFS("testdata/darwin/dslocal/users"), os.DirFS("testdata/darwin/dslocal/groups"))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]inventory.User{}
	for _, u := range users {
		byName[u.Name] = u
	}
	if len(users) != 5 || len(groups) != 3 {
		t.Fatalf("users %+v groups %+v", users, groups)
	}
	jane := byName["jane"]
	if jane.UID != "501" || jane.FullName != "Jane Doe" || jane.Home != "/Users/jane" || jane.Shell != "/bin/zsh" || jane.System ||
		!reflect.DeepEqual(jane.Groups, []string{"staff", "admin"}) {
		t.Errorf("jane = %+v", jane)
	}
	for _, n := range []string{"_spotlight", "root", "nobody"} {
		if !byName[n].System {
			t.Errorf("%s not marked system: %+v", n, byName[n])
		}
	}
	if g := groups[1]; g.Name != "admin" || g.GID != "80" || !reflect.DeepEqual(g.Members, []string{"root", "jane", "admin2"}) {
		t.Errorf("admin group = %+v", g)
	}
	if _, _, err := usersFromDSLocal(os.DirFS("testdata/darwin/none"), os.DirFS("testdata/darwin/none")); err == nil {
		t.Error("missing dslocal: no error")
	}
}

func TestUsersFromDscl(t *testing.T) {
	ub, err := os.ReadFile("testdata/darwin/dscl_users.plist")
	if err != nil {
		t.Fatal(err)
	}
	gb, err := os.ReadFile("testdata/darwin/dscl_groups.plist")
	if err != nil {
		t.Fatal(err)
	}
	urecs, err := dsclRecords(ub)
	if err != nil {
		t.Fatal(err)
	}
	grecs, err := dsclRecords(gb)
	if err != nil {
		t.Fatal(err)
	}
	users, groups := usersFromDirectoryRecords(urecs, grecs)
	want := []inventory.User{
		{Name: "_spotlight", UID: "89", GID: "89", FullName: "Spotlight", Home: "/var/empty", Shell: "/usr/bin/false", System: true},
		{Name: "jane", UID: "501", GID: "20", FullName: "Jane Doe", Home: "/Users/jane", Shell: "/bin/zsh", Groups: []string{"staff", "admin"}},
		{Name: "root", UID: "0", GID: "0", FullName: "System Administrator", Home: "/var/root", Shell: "/bin/sh", Groups: []string{"admin", "staff"}, System: true},
	}
	if !reflect.DeepEqual(users, want) {
		t.Errorf("users =\n%+v\nwant\n%+v", users, want)
	}
	if len(groups) != 2 || groups[0].Name != "admin" || !reflect.DeepEqual(groups[0].Members, []string{"root", "jane"}) {
		t.Errorf("groups = %+v", groups)
	}
	if _, err := dsclRecords([]byte("<plist><dict/></plist>")); err == nil {
		t.Error("dictionary accepted as dscl output")
	}
}

func TestParseBinaryPlistTypes(t *testing.T) {
	b, err := os.ReadFile("testdata/darwin/types.bplist")
	if err != nil {
		t.Fatal(err)
	}
	m, err := plistDict(b)
	if err != nil {
		t.Fatal(err)
	}
	long := make([]any, 20)
	for i := range long {
		long[i] = int64(i)
	}
	want := map[string]any{
		"ascii": "hello", "unicode": "Jänë Dœ ✓", "small": int64(7), "u16": int64(300), "u32": int64(70000),
		"big": int64(1 << 40), "neg": int64(-5), "real": 2.5, "t": true, "f": false,
		"date": time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "data": []byte{0, 1, 2}, "long": long,
		"nested": map[string]any{"a": []any{map[string]any{"b": "c"}}}, "longstr": strings.Repeat("x", 40),
	}
	for k, w := range want {
		if !reflect.DeepEqual(m[k], w) {
			t.Errorf("%s = %#v, want %#v", k, m[k], w)
		}
	}
	if len(m) != len(want) {
		t.Errorf("%d keys, want %d", len(m), len(want))
	}
}
