package jumpcloud

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
)

// attrPrefix marks the custom attributes this adapter owns.
const attrPrefix = "omniagent"

// attribute is one custom attribute of the system record.
type attribute struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// system is the part of the record we read.
type system struct {
	ID          string      `json:"_id"`
	AltID       string      `json:"id"`
	DisplayName string      `json:"displayName"`
	Description string      `json:"description"`
	Hostname    string      `json:"hostname"`
	Attributes  []attribute `json:"attributes"`
	Tags        []string    `json:"tags"`
}

// summary is the inventory summary published as attributes (without the change time).
type summary struct {
	Model, Serial, OS, CPU, MemoryGiB, Version string
}

func summarize(inv *inventory.Inventory, id identity.Identity) summary {
	s := summary{
		Model:   strings.TrimSpace(inv.System.Manufacturer + " " + inv.System.Model),
		Serial:  inv.System.Serial,
		OS:      strings.TrimSpace(inv.OS.Name + " " + inv.OS.Version),
		Version: id.AgentVersion,
	}
	if s.Version == "" {
		s.Version = inv.Meta.AgentVersion
	}
	if len(inv.CPUs) > 0 {
		s.CPU = inv.CPUs[0].Model
	}
	if inv.Memory.TotalBytes > 0 {
		s.MemoryGiB = fmt.Sprintf("%.0f", float64(inv.Memory.TotalBytes)/(1<<30))
	}
	return s
}

// hash identifies the summary, to tell when it changed.
func (s summary) hash() string {
	sum := sha256.Sum256([]byte(strings.Join([]string{s.Model, s.Serial, s.OS, s.CPU, s.MemoryGiB, s.Version}, "\x00")))
	return hex.EncodeToString(sum[:8])
}

// line is the one-line description: vendor model, OS, CPU, RAM, serial; unknown parts skipped.
func (s summary) line() string {
	var parts []string
	for _, p := range []string{s.Model, s.OS, s.CPU} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if s.MemoryGiB != "" {
		parts = append(parts, s.MemoryGiB+" GiB RAM")
	}
	if s.Serial != "" {
		parts = append(parts, "serial "+s.Serial)
	}
	return strings.Join(parts, ", ")
}

// owned returns our attributes, sorted by name, empty values left out.
func (s summary) owned(changed string) []attribute {
	var out []attribute
	for _, a := range []attribute{
		{"omniagentCPU", s.CPU}, {"omniagentInventoryChanged", changed}, {"omniagentMemoryGiB", s.MemoryGiB},
		{"omniagentModel", s.Model}, {"omniagentOS", s.OS}, {"omniagentSerial", s.Serial}, {"omniagentVersion", s.Version},
	} {
		if a.Value != "" {
			out = append(out, a)
		}
	}
	return out
}

// mergeAttributes keeps every attribute we do not own, in its order, then ours. changed tells
// whether the result differs from current (ours compared as a set).
func mergeAttributes(current, ours []attribute) (merged []attribute, changed bool) {
	var mine []attribute
	for _, a := range current {
		if strings.HasPrefix(a.Name, attrPrefix) {
			mine = append(mine, a)
		} else {
			merged = append(merged, a)
		}
	}
	slices.SortFunc(mine, func(a, b attribute) int { return strings.Compare(a.Name, b.Name) })
	merged = append(merged, ours...)
	if merged == nil {
		merged = []attribute{}
	}
	return merged, !slices.Equal(mine, ours)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
