package identity

import (
	"context"
	"math/rand/v2"
	"regexp"
	"testing"
)

func TestNormalizeUUID(t *testing.T) {
	for in, want := range map[string]string{
		"4C4C4544-0042-3510-8052-B2C04F395A31\n": "4c4c4544-0042-3510-8052-b2c04f395a31",
		"3d1219c7c4c5404aaa1f6d2a48adfda4":       "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4",
		"00000000-0000-0000-0000-000000000000":   "",
		"FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF":   "",
		"03000200-0400-0500-0006-000700080009":   "",
		"Not Settable":                           "",
		"":                                       "",
	} {
		if got := NormalizeUUID(in); got != want {
			t.Errorf("NormalizeUUID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShortName(t *testing.T) {
	for in, want := range map[string]string{"pc1.corp.example": "pc1", "pc1": "pc1", "10.0.0.1": "10.0.0.1"} {
		if got := ShortName(in); got != want {
			t.Errorf("ShortName(%q) = %q", in, got)
		}
	}
}

type memStore struct {
	saved *Identity
	saves int
}

func (m *memStore) Load(v any) (bool, error) {
	if m.saved == nil {
		return false, nil
	}
	*(v.(*Identity)) = *m.saved
	return true, nil
}

func (m *memStore) Save(v any) error {
	id := v.(Identity)
	m.saved = &id
	m.saves++
	return nil
}

func TestResolvePersistsUID(t *testing.T) {
	ctx := context.Background()
	st := &memStore{saved: &Identity{MachineUID: "11111111-2222-3333-4444-555555555555", UIDSource: "smbios"}}
	id, err := Resolve(ctx, Options{Hostname: "pc1.corp.example"}, st)
	if err != nil {
		t.Fatal(err)
	}
	if id.MachineUID != "11111111-2222-3333-4444-555555555555" || id.Hostname != "pc1" || id.FQDN != "pc1.corp.example" {
		t.Fatalf("identity = %+v: a persisted UID must win over what the system says now", id)
	}
	if st.saves != 0 {
		t.Fatalf("unchanged identity rewritten %d times", st.saves)
	}
	id, err = Resolve(ctx, Options{Hostname: "pc1", MachineUID: "from-config"}, st)
	if err != nil || id.MachineUID != "from-config" || id.UIDSource != "config" {
		t.Fatalf("config override: %+v %v", id, err)
	}
	fresh := &memStore{}
	id, err = Resolve(ctx, Options{Hostname: "pc1"}, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if id.MachineUID != "" && (fresh.saved == nil || fresh.saved.MachineUID != id.MachineUID) {
		t.Fatalf("first UID not persisted: %+v / %+v", id, fresh.saved)
	}
}

// TestIsUUIDMatchesTheRegexp: the hand-written check accepts exactly what the regexp it
// replaced accepted, on edge cases and on random strings over the characters that matter.
func TestIsUUIDMatchesTheRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)
	cases := []string{
		"", "-", "4c4c4544-0042-3510-8052-b2c04f395a31", "4C4C45440042-3510-8052B2C04F395A31",
		"4c4c4544-0042-3510-8052-b2c04f395a3", "4c4c4544-0042-3510-8052-b2c04f395a311",
		"4c4c4544--0042-3510-8052-b2c04f395a31", "-4c4c4544-0042-3510-8052-b2c04f395a31",
		"4c4c4544-0042-3510-8052-b2c04f395a31-", "4c4c4544-0042-3510-8052-b2c04f395a3g",
		"4c4c4544-0042-3510-8052-b2c04f395a31\n", "4c4c4544-00423-510-8052-b2c04f395a31",
	}
	rng := rand.New(rand.NewPCG(7, 11))
	const alphabet = "0123456789abcdefABCDEF-g \n"
	for range 20000 {
		b := make([]byte, 28+rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
			if rng.IntN(4) > 0 { // mostly hex, so that many strings get far
				b[i] = alphabet[rng.IntN(22)]
			}
		}
		cases = append(cases, string(b))
	}
	matched := 0
	for _, s := range cases {
		want := re.MatchString(s)
		if got := isUUID(s); got != want {
			t.Fatalf("isUUID(%q) = %v, the regexp says %v", s, got, want)
		}
		if want {
			matched++
		}
	}
	if matched < 100 {
		t.Fatalf("only %d random strings were UUIDs: the comparison says little", matched)
	}
}
