package selfupdate

import (
	"strconv"
	"strings"
)

// CompareVersions orders agent versions: the dotted numeric core first ("v" prefix ignored),
// then a release above any pre-release or development build of the same core ("1.2.0" >
// "1.2.0-rc1" > "1.2.0~git1a2b3c"; "0.0.0-dev" is below every release).
func CompareVersions(a, b string) int {
	ca, pa := splitVersion(a)
	cb, pb := splitVersion(b)
	for i := range max(len(ca), len(cb)) {
		x, y := at(ca, i), at(cb, i)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case pa == pb:
		return 0
	case pa == "":
		return 1
	case pb == "":
		return -1
	case pa < pb:
		return -1
	}
	return 1
}

func splitVersion(v string) ([]int, string) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	core, pre := v, ""
	if i := strings.IndexAny(v, "-~+"); i >= 0 {
		core, pre = v[:i], v[i+1:]
	}
	var nums []int
	for p := range strings.SplitSeq(core, ".") {
		n, _ := strconv.Atoi(p)
		nums = append(nums, n)
	}
	return nums, pre
}

func at(s []int, i int) int {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// parseVersionOutput reads the version from `omniagent version` output:
// "omniagent 1.4.0 (commit …)".
func parseVersionOutput(out string) (string, bool) {
	f := strings.Fields(out)
	if len(f) < 2 || f[0] != "omniagent" {
		return "", false
	}
	return f[1], true
}
