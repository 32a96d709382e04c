package collectors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// LVM2 on-disk format (lib/format_text/layout.h in lvm2): a label in one of the first four
// 512-byte sectors ("LABELONE" ... "LVM2 001"), then the PV header (uuid, device size, data and
// metadata area lists); each metadata area starts with an mda_header whose first raw_locn points
// at the current metadata text, a ring buffer after the header's first sector. Reading it
// replaces running pvs/vgs/lvs: one 2 KiB read plus the metadata text per device.

const (
	lvmSector       = 512
	lvmLabelSectors = 4
	lvmMDAMagic     = " LVM2 x[5A%r0N*>"
	lvmMaxMetadata  = 4 << 20 // metadata text bound: real VGs use kilobytes
)

// errNotPV says the device carries no LVM2 label.
var errNotPV = errors.New("no LVM2 label")

// LVMMetadata is the current metadata text of one physical volume and the PV's own header.
type LVMMetadata struct {
	PVUUID     string // from the PV header, dashed
	DeviceSize uint64 // bytes
	Text       []byte // empty for a PV without a metadata area or not in a VG
}

// ReadLVMMetadata reads the label, PV header and current metadata text from r (a block device).
func ReadLVMMetadata(r io.ReaderAt) (*LVMMetadata, error) {
	head := make([]byte, lvmSector*lvmLabelSectors)
	if n, err := r.ReadAt(head, 0); n < len(head) {
		return nil, fmt.Errorf("read LVM label: %w", errors.Join(err, io.ErrUnexpectedEOF))
	}
	var label []byte
	for s := 0; s < lvmLabelSectors; s++ {
		sec := head[s*lvmSector : (s+1)*lvmSector]
		if string(sec[:8]) == "LABELONE" && string(sec[24:32]) == "LVM2 001" {
			label = sec
			break
		}
	}
	if label == nil {
		return nil, errNotPV
	}
	off := int(binary.LittleEndian.Uint32(label[20:24]))
	if off < 32 || off+40 > len(label) {
		return nil, fmt.Errorf("LVM label: PV header offset %d out of range", off)
	}
	ph := label[off:]
	m := &LVMMetadata{PVUUID: dashUUID(string(ph[:32])), DeviceSize: binary.LittleEndian.Uint64(ph[32:40])}
	// Two zero-terminated lists of (offset, size): data areas, then metadata areas.
	p, list := 40, 0
	var mdas [][2]uint64
	for p+16 <= len(ph) && list < 2 {
		o, sz := binary.LittleEndian.Uint64(ph[p:]), binary.LittleEndian.Uint64(ph[p+8:])
		p += 16
		if o == 0 && sz == 0 {
			list++
			continue
		}
		if list == 1 {
			mdas = append(mdas, [2]uint64{o, sz})
		}
	}
	for _, a := range mdas {
		text, err := readMDAText(r, a[0], a[1])
		if err != nil {
			return m, err
		}
		if len(text) > 0 {
			m.Text = text
			break
		}
	}
	return m, nil
}

// readMDAText returns the metadata text the first raw location of the area points at.
func readMDAText(r io.ReaderAt, start, size uint64) ([]byte, error) {
	hdr := make([]byte, lvmSector)
	if n, err := r.ReadAt(hdr, int64(start)); n < len(hdr) {
		return nil, fmt.Errorf("read LVM metadata header at %d: %w", start, errors.Join(err, io.ErrUnexpectedEOF))
	}
	if string(hdr[4:20]) != lvmMDAMagic {
		return nil, fmt.Errorf("LVM metadata header at %d: bad magic", start)
	}
	// raw_locn[0] at 40: offset (from the area start), size, checksum, flags.
	off, sz := binary.LittleEndian.Uint64(hdr[40:]), binary.LittleEndian.Uint64(hdr[48:])
	if sz == 0 {
		return nil, nil
	}
	if sz > lvmMaxMetadata || off < lvmSector || off >= size {
		return nil, fmt.Errorf("LVM metadata at %d: location %d+%d out of range", start, off, sz)
	}
	text := make([]byte, sz)
	first := min(sz, size-off) // the text may wrap to just after the header sector
	if n, err := r.ReadAt(text[:first], int64(start+off)); uint64(n) < first {
		return nil, fmt.Errorf("read LVM metadata: %w", errors.Join(err, io.ErrUnexpectedEOF))
	}
	if first < sz {
		if n, err := r.ReadAt(text[first:], int64(start+lvmSector)); uint64(n) < sz-first {
			return nil, fmt.Errorf("read wrapped LVM metadata: %w", errors.Join(err, io.ErrUnexpectedEOF))
		}
	}
	return bytes.TrimRight(text, "\x00"), nil
}

// dashUUID formats LVM's 32-character ids the way lvm prints them (6-4-4-4-4-4-6).
func dashUUID(s string) string {
	if len(s) != 32 {
		return s
	}
	return s[:6] + "-" + s[6:10] + "-" + s[10:14] + "-" + s[14:18] + "-" + s[18:22] + "-" + s[22:26] + "-" + s[26:]
}

// ParseLVMConfig parses LVM's metadata/config syntax: name = value, name { ... }, values are
// numbers, "strings" and [lists]. Sections become maps.
func ParseLVMConfig(b []byte) (map[string]any, error) {
	p := &lvmParser{b: b}
	m, err := p.section(0)
	if err != nil {
		return nil, fmt.Errorf("parse LVM metadata: %w", err)
	}
	return m, nil
}

type lvmParser struct {
	b   []byte
	pos int
}

func (p *lvmParser) skip() {
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		switch {
		case c == '#':
			for p.pos < len(p.b) && p.b[p.pos] != '\n' {
				p.pos++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			p.pos++
		default:
			return
		}
	}
}

func (p *lvmParser) ident() string {
	s := p.pos
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		if c == '=' || c == '{' || c == '}' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '[' || c == ']' || c == '"' || c == ',' {
			break
		}
		p.pos++
	}
	return string(p.b[s:p.pos])
}

const lvmMaxDepth = 16

func (p *lvmParser) section(depth int) (map[string]any, error) {
	if depth > lvmMaxDepth {
		return nil, errors.New("sections nested too deep")
	}
	m := map[string]any{}
	for {
		p.skip()
		if p.pos >= len(p.b) {
			if depth > 0 {
				return nil, errors.New("unterminated section")
			}
			return m, nil
		}
		if p.b[p.pos] == '}' {
			if depth == 0 {
				return nil, errors.New("unexpected }")
			}
			p.pos++
			return m, nil
		}
		name := p.ident()
		if name == "" {
			return nil, fmt.Errorf("unexpected %q at %d", p.b[p.pos], p.pos)
		}
		p.skip()
		if p.pos >= len(p.b) {
			return nil, fmt.Errorf("%s: unexpected end", name)
		}
		switch p.b[p.pos] {
		case '{':
			p.pos++
			sub, err := p.section(depth + 1)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			m[name] = sub
		case '=':
			p.pos++
			p.skip()
			v, err := p.value(true)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			m[name] = v
		default:
			return nil, fmt.Errorf("%s: expected = or {", name)
		}
	}
}

func (p *lvmParser) value(listOK bool) (any, error) {
	if p.pos >= len(p.b) {
		return nil, errors.New("missing value")
	}
	switch c := p.b[p.pos]; {
	case c == '"':
		p.pos++
		var sb strings.Builder
		for p.pos < len(p.b) && p.b[p.pos] != '"' {
			if p.b[p.pos] == '\\' && p.pos+1 < len(p.b) {
				p.pos++
			}
			sb.WriteByte(p.b[p.pos])
			p.pos++
		}
		if p.pos >= len(p.b) {
			return nil, errors.New("unterminated string")
		}
		p.pos++
		return sb.String(), nil
	case c == '[' && listOK:
		p.pos++
		var l []any
		for {
			p.skip()
			if p.pos >= len(p.b) {
				return nil, errors.New("unterminated list")
			}
			if p.b[p.pos] == ']' {
				p.pos++
				return l, nil
			}
			v, err := p.value(false)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
	default:
		w := p.ident()
		if w == "" {
			return nil, fmt.Errorf("unexpected %q", c)
		}
		if n, err := strconv.ParseInt(w, 10, 64); err == nil {
			return n, nil
		}
		if f, err := strconv.ParseFloat(w, 64); err == nil {
			return f, nil
		}
		return w, nil
	}
}

// lvmPV is what one device contributes: its header and parsed metadata.
type lvmPV struct {
	Device string
	Meta   *LVMMetadata
}

// LVMFromMetadata builds the LVM sections from the physical volumes read: each VG once (the
// copy with the highest seqno), its PVs with the devices they were found on, and its visible
// logical volumes. active names the "vg/lv" device-mapper maps now (may be nil).
func LVMFromMetadata(pvs []lvmPV, active map[string]bool) (out struct {
	PVs []inventory.PhysicalVolume
	VGs []inventory.VolumeGroup
	LVs []inventory.LogicalVolume
}) {
	type vgCopy struct {
		name string
		body map[string]any
		seq  int64
	}
	vgs := map[string]vgCopy{} // by VG id
	var order []string
	devByUUID := map[string]string{}
	inVG := map[string]bool{}
	for _, pv := range pvs {
		devByUUID[pv.Meta.PVUUID] = pv.Device
		if len(pv.Meta.Text) == 0 {
			continue
		}
		cfg, err := ParseLVMConfig(pv.Meta.Text)
		if err != nil {
			continue
		}
		for name, v := range cfg {
			body, ok := v.(map[string]any)
			if !ok {
				continue
			}
			id, _ := body["id"].(string)
			if id == "" {
				continue
			}
			seq, _ := body["seqno"].(int64)
			if old, ok := vgs[id]; !ok || seq > old.seq {
				if !ok {
					order = append(order, id)
				}
				vgs[id] = vgCopy{name, body, seq}
			}
		}
	}
	for _, id := range order {
		vg := vgs[id]
		extentSectors, _ := vg.body["extent_size"].(int64)
		extent := uint64(max(extentSectors, 0)) * lvmSector
		pvSec, _ := vg.body["physical_volumes"].(map[string]any)
		lvSec, _ := vg.body["logical_volumes"].(map[string]any)
		// Extents each PV gives to LV segments (stripes = ["pv0", start, ...]).
		used := map[string]uint64{}
		var lvs []inventory.LogicalVolume
		for lvName, v := range lvSec {
			lv, ok := v.(map[string]any)
			if !ok {
				continue
			}
			var extents uint64
			segs := 0
			for k, sv := range lv {
				seg, ok := sv.(map[string]any)
				if !ok || !strings.HasPrefix(k, "segment") {
					continue
				}
				segs++
				count, _ := seg["extent_count"].(int64)
				extents += uint64(max(count, 0))
				stripes, _ := seg["stripes"].([]any)
				n := uint64(len(stripes) / 2)
				for i := 0; i+1 < len(stripes); i += 2 {
					if pvKey, ok := stripes[i].(string); ok && n > 0 {
						used[pvKey] += uint64(max(count, 0)) / n
					}
				}
			}
			if !hasFlag(lv["status"], "VISIBLE") {
				continue // internal sub-volumes (raid images, thin pool data) as lvs hides them
			}
			lvID, _ := lv["id"].(string)
			l := inventory.LogicalVolume{Name: lvName, UUID: lvID, VGName: vg.name, VGUUID: id,
				SizeBytes: extents * extent, Segments: segs, Active: active[vg.name+"/"+lvName]}
			lvs = append(lvs, l)
		}
		var size, free uint64
		pvCount := 0
		for pvKey, v := range pvSec {
			pv, ok := v.(map[string]any)
			if !ok {
				continue
			}
			pvCount++
			pvID, _ := pv["id"].(string)
			peCount, _ := pv["pe_count"].(int64)
			pe := uint64(max(peCount, 0))
			dev := devByUUID[pvID]
			if dev == "" {
				dev, _ = pv["device"].(string) // a PV not readable here: the last path LVM saw
			}
			inVG[pvID] = true
			pvFree := (pe - min(used[pvKey], pe)) * extent
			size += pe * extent
			free += pvFree
			attr := "---"
			if hasFlag(pv["status"], "ALLOCATABLE") {
				attr = "a--"
			}
			out.PVs = append(out.PVs, inventory.PhysicalVolume{Device: dev, Format: "lvm2", UUID: pvID,
				VGName: vg.name, VGUUID: id, SizeBytes: pe * extent, FreeBytes: pvFree, PECount: pe,
				PESizeBytes: extent, Attr: attr})
		}
		// vgs' attr: permissions, resizeable, exported, partial, allocation policy, clustered.
		attr := []byte("r---n-")
		if hasFlag(vg.body["status"], "WRITE") {
			attr[0] = 'w'
		}
		if hasFlag(vg.body["status"], "RESIZEABLE") {
			attr[1] = 'z'
		}
		out.VGs = append(out.VGs, inventory.VolumeGroup{Name: vg.name, UUID: id, SizeBytes: size, FreeBytes: free,
			PVCount: pvCount, LVCount: len(lvs), ExtentBytes: extent, Attr: string(attr)})
		sort.Slice(lvs, func(i, j int) bool { return lvs[i].Name < lvs[j].Name })
		out.LVs = append(out.LVs, lvs...)
	}

	// PVs not (or not yet) in a volume group: their whole device, no extents.
	for _, pv := range pvs {
		if !inVG[pv.Meta.PVUUID] {
			out.PVs = append(out.PVs, inventory.PhysicalVolume{Device: pv.Device, Format: "lvm2", UUID: pv.Meta.PVUUID,
				SizeBytes: pv.Meta.DeviceSize, FreeBytes: pv.Meta.DeviceSize, Attr: "---"})
		}
	}
	sort.SliceStable(out.PVs, func(i, j int) bool { return out.PVs[i].Device < out.PVs[j].Device })
	return out
}

func hasFlag(v any, flag string) bool {
	l, _ := v.([]any)
	for _, x := range l {
		if s, _ := x.(string); s == flag {
			return true
		}
	}
	return false
}
