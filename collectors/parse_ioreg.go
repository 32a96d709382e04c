package collectors

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// ioregEDIDKeys are the properties that hold a display's EDID in `ioreg -lw0` output:
// IODisplayEDID under IODisplayConnect (Intel Macs), IODisplayEDIDOriginal and EDID under
// AppleCLCD2 / IOMobileFramebufferShim (Apple silicon).
var ioregEDIDKeys = []string{`"IODisplayEDIDOriginal" = <`, `"IODisplayEDID" = <`, `"EDID" = <`}

// edidsFromIoreg returns the distinct EDID blobs in ioreg output, in order. A display lists the
// same EDID under several keys; blobs shorter than an EDID base block are skipped.
func edidsFromIoreg(out []byte) [][]byte {
	var blobs [][]byte
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 4<<20) // EDIDs with extension blocks make long lines
	for sc.Scan() {
		line := sc.Text()
		for _, key := range ioregEDIDKeys {
			i := strings.Index(line, key)
			if i < 0 {
				continue
			}
			rest := line[i+len(key):]
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				continue
			}
			b, err := hex.DecodeString(rest[:end])
			if err != nil || len(b) < 128 || seen[string(b)] {
				continue
			}
			seen[string(b)] = true
			blobs = append(blobs, b)
		}
	}
	return blobs
}

// monitorsFromIoreg decodes the EDIDs found in ioreg output.
func monitorsFromIoreg(out []byte) []inventory.Monitor {
	var ms []inventory.Monitor
	for _, b := range edidsFromIoreg(out) {
		if m, err := ParseEDID(b); err == nil {
			ms = append(ms, m)
		}
	}
	return ms
}

// mergeMonitors adds to the EDID monitors the displays system_profiler knows that have no EDID
// (the built-in panel of Apple silicon Macs), matched by maker and product code.
func mergeMonitors(fromEDID, fromProfiler []inventory.Monitor) []inventory.Monitor {
	out := append([]inventory.Monitor(nil), fromEDID...)
	for _, p := range fromProfiler {
		dup := false
		for _, e := range fromEDID {
			if e.VendorID == p.VendorID && strings.EqualFold(e.ProductCode, p.ProductCode) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, p)
		}
	}
	return out
}
