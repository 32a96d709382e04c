package identity

import (
	"context"
	"os/exec"
	"regexp"
	"sync"
	"time"
)

var ioPlatformRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`"IOPlatformUUID" = "([0-9A-Fa-f-]+)"`) })

func machineUID(ctx context.Context) (string, string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/sbin/ioreg", "-rd1", "-c", "IOPlatformExpertDevice").Output()
	if err != nil {
		return "", ""
	}
	if m := ioPlatformRe().FindSubmatch(out); m != nil {
		if u := NormalizeUUID(string(m[1])); u != "" {
			return u, "ioplatform"
		}
	}
	return "", ""
}
