package collectors

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/omniagent/omniagent/inventory"
)

// linuxAV describes how to recognise one security product: an install path, the process
// names that mean it is running, and where its version is written.
type linuxAV struct {
	name, company string
	paths         []string
	procs         []string
	versionFile   string
}

var linuxAVs = []linuxAV{
	{name: "ClamAV", company: "Cisco", paths: []string{"/usr/bin/clamscan", "/usr/sbin/clamd", "/usr/bin/freshclam"}, procs: []string{"clamd", "freshclam"}},
	{name: "Microsoft Defender for Endpoint", company: "Microsoft", paths: []string{"/opt/microsoft/mdatp"}, procs: []string{"wdavdaemon"}},
	{name: "CrowdStrike Falcon", company: "CrowdStrike", paths: []string{"/opt/CrowdStrike"}, procs: []string{"falcon-sensor"}},
	{name: "SentinelOne", company: "SentinelOne", paths: []string{"/opt/sentinelone"}, procs: []string{"sentinelone-agent", "s1-agent"}},
	{name: "Sophos Protection for Linux", company: "Sophos", paths: []string{"/opt/sophos-spl"}, procs: []string{"sophos_threat_detector", "sophos_managementagent"}, versionFile: "/opt/sophos-spl/base/VERSION.ini"},
	{name: "ESET Server Security", company: "ESET", paths: []string{"/opt/eset/efs"}, procs: []string{"oaeventd", "startd"}},
	{name: "Trend Micro Deep Security Agent", company: "Trend Micro", paths: []string{"/opt/ds_agent"}, procs: []string{"ds_agent"}},
	{name: "Bitdefender Endpoint Security Tools", company: "Bitdefender", paths: []string{"/opt/bitdefender-security-tools"}, procs: []string{"bdsecd"}},
}

// collectAntivirus finds installed security products from their files and running processes;
// ClamAV's signature database header gives its signature version and age.
func collectAntivirus(_ context.Context, inv *inventory.Inventory) error {
	var running map[string]bool // the process scan only when a product is installed
	for _, av := range linuxAVs {
		installed := false
		for _, p := range av.paths {
			installed = installed || fileExists(p)
		}
		if !installed {
			continue
		}
		a := inventory.Antivirus{Name: av.name, Company: av.company}
		if running == nil {
			running = processNames()
		}
		for _, p := range av.procs {
			a.Enabled = a.Enabled || running[p]
		}
		if av.versionFile != "" {
			kv := readKV(av.versionFile)
			a.Version = firstSet(kv["PRODUCT_VERSION"], kv["VERSION"])
		}
		if av.name == "ClamAV" {
			a.Signatures, a.UpToDate = clamavSignatures("/var/lib/clamav", time.Now())
		} else {
			a.UpToDate = a.Enabled // the vendor agents update themselves while they run
		}
		inv.Antivirus = append(inv.Antivirus, a)
	}
	return nil
}

// processNames lists the command names of running processes.
func processNames() map[string]bool {
	out := map[string]bool{}
	entries, err := readDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		if c := readStr(filepath.Join("/proc", e.Name(), "comm")); c != "" {
			out[c] = true
		}
	}
	return out
}

// clamavSignatures reads the newest daily database header; signatures are current when the
// database is under a week old.
func clamavSignatures(dir string, now time.Time) (string, bool) {
	var best string
	var bestT time.Time
	for _, n := range []string{"daily.cld", "daily.cvd"} {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			continue
		}
		hdr := make([]byte, 512)
		k, _ := f.Read(hdr)
		f.Close()
		v, t, ok := ParseCVDHeader(hdr[:k])
		if ok && (best == "" || t.After(bestT)) {
			best, bestT = v, t
		}
	}
	if best == "" {
		return "", false
	}
	return best, now.Sub(bestT) < 7*24*time.Hour
}

// ParseCVDHeader reads a ClamAV database header "ClamAV-VDB:<date>:<version>:<sigs>:...".
func ParseCVDHeader(b []byte) (version string, built time.Time, ok bool) {
	f := strings.Split(strings.TrimRight(string(b), " \x00"), ":")
	if len(f) < 4 || f[0] != "ClamAV-VDB" {
		return "", time.Time{}, false
	}
	t, err := time.Parse("02 Jan 2006 15-04 -0700", f[1])
	if err != nil {
		return f[2], time.Time{}, true
	}
	return f[2], t.UTC(), true
}
