package pkg

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/omniagent/omniagent/inventory"
)

type fakeInv struct {
	sw  []inventory.Software
	err error
}

func (f fakeInv) Inventory(context.Context) (*inventory.Inventory, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &inventory.Inventory{Software: f.sw}, nil
}

func TestPkg(t *testing.T) {
	inv := fakeInv{sw: []inventory.Software{
		{Name: "openssl", Version: "3.0.15-1~deb12u1", Arch: "amd64", Source: "dpkg"},
		{Name: "libssl3", Version: "3.0.15-1~deb12u1", Arch: "amd64", Source: "dpkg", MultiArch: "same"},
		{Name: "openssh-server", Version: "1:9.2p1-2+deb12u3", Arch: "amd64", Source: "dpkg"},
		{Name: "bash", Version: "5.2.15-2+b7", Arch: "amd64", Source: "dpkg"},
	}}
	tests := []struct {
		name, params, want string
		success            bool
	}{
		{"one regex", `{"pkgmatch":{"matches":["^openssl$"]}}`,
			`{"foundanything":true,"success":true,"elements":{"packages":[{"arch":"amd64","name":"openssl","type":"dpkg","version":"3.0.15-1~deb12u1"}]},"statistics":{"execruntime":"X"},"errors":null}`, true},
		{"two regexes, order and no duplicate", `{"pkgmatch":{"matches":["ssh","ssl"]}}`,
			`{"foundanything":true,"success":true,"elements":{"packages":[{"arch":"amd64","name":"openssh-server","type":"dpkg","version":"1:9.2p1-2+deb12u3"},{"arch":"amd64","name":"openssl","type":"dpkg","version":"3.0.15-1~deb12u1"},{"arch":"amd64","name":"libssl3:amd64","type":"dpkg","version":"3.0.15-1~deb12u1"}]},"statistics":{"execruntime":"X"},"errors":null}`, true},
		{"vermatch", `{"pkgmatch":{"matches":["."]},"vermatch":"^5\\."}`,
			`{"foundanything":true,"success":true,"elements":{"packages":[{"arch":"amd64","name":"bash","type":"dpkg","version":"5.2.15-2+b7"}]},"statistics":{"execruntime":"X"},"errors":null}`, true},
		{"nothing", `{"pkgmatch":{"matches":["^nginx$"]}}`,
			`{"foundanything":false,"success":true,"elements":{"packages":[]},"statistics":{"execruntime":"X"},"errors":null}`, true},
		{"no matches", `{"pkgmatch":{"matches":[]}}`,
			`{"foundanything":false,"success":false,"elements":null,"statistics":{"execruntime":"X"},"errors":["must specify at least one package to match"]}`, false},
		{"bad regex", `{"pkgmatch":{"matches":["("]}}`, `invalid pkgmatch regex`, false},
		{"bad vermatch", `{"pkgmatch":{"matches":["a"]},"vermatch":"["}`, `invalid vermatch regex`, false},
		{"not json", `[1]`, `invalid pkg parameters`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Module{Inventory: inv}.Run(context.Background(), json.RawMessage(tc.params))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(res)
			got := regexp.MustCompile(`"execruntime":"[^"]*"`).ReplaceAllString(string(b), `"execruntime":"X"`)
			if res.Success != tc.success || !strings.Contains(got, tc.want) {
				t.Fatalf("got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestPkgInventoryFailure(t *testing.T) {
	for _, m := range []Module{{}, {Inventory: fakeInv{err: errors.New("dpkg status unreadable")}}} {
		res, err := m.Run(context.Background(), json.RawMessage(`{"pkgmatch":{"matches":["a"]}}`))
		if err != nil || res.Success || len(res.Errors) != 1 {
			t.Fatalf("%+v %v", res, err)
		}
	}
}

// TestPkgNamesLikeMigAgent: dpkg packages are named as dpkg-query's ${binary:Package}, as
// mig-agent answers; the native architecture is that of the dpkg package.
func TestPkgNamesLikeMigAgent(t *testing.T) {
	sw := []inventory.Software{
		{Name: "dpkg", Arch: "arm64", Source: "dpkg", MultiArch: "foreign"},
		{Name: "libssl3", Arch: "arm64", Source: "dpkg", MultiArch: "same"},
		{Name: "libc6", Arch: "armhf", Source: "dpkg", MultiArch: "same"},
		{Name: "bash", Arch: "arm64", Source: "dpkg", MultiArch: "foreign"},
		{Name: "coreutils", Arch: "arm64", Source: "dpkg"},
		{Name: "tzdata", Arch: "all", Source: "dpkg", MultiArch: "foreign"},
		{Name: "wine32", Arch: "i386", Source: "dpkg"}, // foreign architecture
		{Name: "openssl-libs", Arch: "x86_64", Source: "rpm"},
	}
	native := nativeDebArch(sw)
	var got []string
	for _, s := range sw {
		got = append(got, pkgName(s, native))
	}
	want := "dpkg libssl3:arm64 libc6:armhf bash coreutils tzdata wine32:i386 openssl-libs"
	if strings.Join(got, " ") != want {
		t.Fatalf("names = %q\nwant    %q", strings.Join(got, " "), want)
	}
	res, err := Module{Inventory: fakeInv{sw: sw}}.Run(context.Background(), json.RawMessage(`{"pkgmatch":{"matches":["^libssl3:arm64$"]}}`))
	if err != nil || !res.FoundAnything {
		t.Fatalf("a mig-agent query for libssl3:arm64 finds nothing: %+v %v", res, err)
	}
}
