package jumpcloud

import (
	"strings"
	"testing"
)

func TestFieldTemplate(t *testing.T) {
	d := TemplateData{Hostname: "pc1", FQDN: "pc1.example.org", Serial: "SN9", Model: "T14", Manufacturer: "Lenovo", OS: "Debian 12", Summary: "4 CPUs"}
	for _, tc := range []struct{ in, want, err string }{
		{in: "{{.Hostname}}", want: "pc1"},
		{in: "{{.Hostname}}-{{.Serial}}", want: "pc1-SN9"},
		{in: "{{ .FQDN }} ({{.Manufacturer}} {{.Model}}, {{.OS}})", want: "pc1.example.org (Lenovo T14, Debian 12)"},
		{in: "summary", want: "4 CPUs"},
		{in: "literal name", want: "literal name"},
		{in: "a }} b", want: "a }} b"},
		{in: "", want: ""},
		{in: "{{.Hostname", err: "unclosed"},
		{in: "{{.Nope}}", err: "{{.Nope}} is not one of"},
		{in: "{{if .Hostname}}x{{end}}", err: "is not one of"},
		{in: "{{Hostname}}", err: "is not one of"},
	} {
		tmpl, err := parseTemplate(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseTemplate(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("parseTemplate(%q): %v", tc.in, err)
		}
		if got := tmpl.execute(d); got != tc.want {
			t.Errorf("%q rendered %q, want %q", tc.in, got, tc.want)
		}
	}
}
