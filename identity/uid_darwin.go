package identity

import (
	"context"
	"os/exec"
	"time"

	"github.com/omniagent/omniagent/lazyre"
)

var ioPlatformRe = &lazyre.Regexp{Expr: `"IOPlatformUUID" = "([0-9A-Fa-f-]+)"`}

func machineUID(ctx context.Context) (string, string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/sbin/ioreg", "-rd1", "-c", "IOPlatformExpertDevice").Output()
	if err != nil {
		return "", ""
	}
	if m := ioPlatformRe.Get().FindSubmatch(out); m != nil {
		if u := NormalizeUUID(string(m[1])); u != "" {
			return u, "ioplatform"
		}
	}
	return "", ""
}
