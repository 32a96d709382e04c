package jobs

import (
	"reflect"
	"testing"
)

func TestArgvBuilders(t *testing.T) {
	for _, tc := range []struct {
		c       Command
		unix    []string
		win     []string
		winLine string
	}{
		{Command{Line: `echo "a b" & dir`}, []string{"/bin/sh", "-c", `echo "a b" & dir`}, []string{`C:\Windows\system32\cmd.exe`}, `cmd.exe /S /C "echo "a b" & dir"`},
		{Command{Line: "Get-Date", Shell: "powershell"}, []string{"/usr/bin/pwsh", "-NoProfile", "-NonInteractive", "-Command", "Get-Date"},
			[]string{"powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command", "Get-Date"}, ""},
		{Command{Argv: []string{"prog", "a b"}}, []string{"prog", "a b"}, []string{"prog", "a b"}, ""},
		{Command{Line: "x", Shell: "cmd"}, nil, []string{`C:\Windows\system32\cmd.exe`}, `cmd.exe /S /C "x"`},
		{Command{Line: "x", Shell: "sh"}, []string{"/bin/sh", "-c", "x"}, nil, ""},
		{Command{Line: "x", Shell: "fish"}, nil, nil, ""},
		{Command{}, nil, nil, ""},
		{Command{Line: "x", Argv: []string{"y"}}, nil, nil, ""},
		{Command{Argv: []string{""}}, nil, nil, ""},
	} {
		u, err := unixArgv(tc.c, "/usr/bin/pwsh")
		if !reflect.DeepEqual(u, tc.unix) || (err == nil) != (tc.unix != nil) {
			t.Errorf("unix %+v: %q %v", tc.c, u, err)
		}
		w, line, err := windowsArgv(tc.c, `C:\Windows\system32\cmd.exe`)
		if !reflect.DeepEqual(w, tc.win) || line != tc.winLine || (err == nil) != (tc.win != nil) {
			t.Errorf("windows %+v: %q %q %v", tc.c, w, line, err)
		}
	}
	if _, err := unixArgv(Command{Line: "x", Shell: "powershell"}, ""); err == nil {
		t.Error("powershell without pwsh accepted")
	}
}
