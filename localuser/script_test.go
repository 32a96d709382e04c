package localuser

import "testing"

func TestDsclScript(t *testing.T) {
	got := string(dsclScript(Change{Username: "admin", Password: []byte(`new pw"\`), Old: []byte("old'1")}))
	want := "passwd /Users/admin old\\'1 new\\ pw\\\"\\\\\nquit\n"
	if got != want {
		t.Fatalf("script = %q, want %q", got, want)
	}
	if got := string(dsclScript(Change{Username: "admin", Password: []byte("p")})); got != "passwd /Users/admin p\nquit\n" {
		t.Fatalf("without old password: %q", got)
	}
}
