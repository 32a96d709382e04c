package collectors

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/omniagent/omniagent/inventory"
)

// edidHeader starts every EDID 1.x base block.
var edidHeader = [8]byte{0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}

// ErrNoEDID says the blob is empty: a connector with nothing plugged in.
var ErrNoEDID = errors.New("no EDID data")

// ParseEDID decodes an EDID 1.x base block (128 bytes; extension blocks after it are ignored)
// into a Monitor. It is shared by every OS: Linux reads the blob from sysfs, Windows from the
// registry, macOS from ioreg. The checksum is not enforced: firmware and registry copies with a
// wrong checksum are common and the identifying fields are still right.
func ParseEDID(b []byte) (inventory.Monitor, error) {
	var m inventory.Monitor
	if len(b) == 0 {
		return m, ErrNoEDID
	}
	if len(b) < 128 {
		return m, fmt.Errorf("parse EDID: %d bytes, want at least 128", len(b))
	}
	if [8]byte(b[:8]) != edidHeader {
		return m, fmt.Errorf("parse EDID: bad header % x", b[:8])
	}
	base := b[:128]
	m.VendorID = pnpID(binary.BigEndian.Uint16(base[8:10]))
	m.Manufacturer = pnpVendorName(m.VendorID)
	m.ProductCode = fmt.Sprintf("%04X", binary.LittleEndian.Uint16(base[10:12]))
	numSerial := binary.LittleEndian.Uint32(base[12:16])
	week, year := int(base[16]), int(base[17])
	if year > 0 {
		m.Year = 1990 + year
	}
	if week >= 1 && week <= 54 {
		m.Week = week
	}
	m.EDIDVersion = fmt.Sprintf("%d.%d", base[18], base[19])
	m.DigitalInput = base[20]&0x80 != 0
	wcm, hcm := int(base[21]), int(base[22])

	var textSerial, text string
	for i := range 4 {
		d := base[54+18*i : 54+18*(i+1)]
		if d[0] != 0 || d[1] != 0 {
			// Detailed timing: the first one is the preferred (native) mode.
			if m.WidthPx == 0 {
				m.WidthPx = int(d[2]) | int(d[4]&0xf0)<<4
				m.HeightPx = int(d[5]) | int(d[7]&0xf0)<<4
				wmm := int(d[12]) | int(d[14]&0xf0)<<4
				hmm := int(d[13]) | int(d[14]&0x0f)<<8
				// Some panels put the aspect ratio (16x9) here instead of millimetres.
				if wmm > 20 && hmm > 20 {
					m.WidthMM, m.HeightMM = wmm, hmm
				}
			}
			continue
		}
		if d[2] != 0 {
			continue
		}
		switch d[3] {
		case 0xfc:
			m.Name = edidText(d[5:18])
		case 0xff:
			textSerial = edidText(d[5:18])
		case 0xfe:
			// Laptop panels carry the panel maker then the panel model: keep the last.
			if t := edidText(d[5:18]); t != "" {
				text = t
			}
		}
	}
	if m.WidthMM == 0 && wcm > 0 && hcm > 0 {
		m.WidthMM, m.HeightMM = wcm*10, hcm*10
	}
	if m.WidthMM > 0 && m.HeightMM > 0 {
		d := math.Hypot(float64(m.WidthMM), float64(m.HeightMM)) / 25.4
		m.DiagonalInch = math.Round(d*10) / 10
	}
	if m.Name == "" {
		// Laptop panels usually carry only an unspecified text string (the panel model).
		m.Name = text
	}
	numStr := ""
	if numSerial != 0 && numSerial != 0x01010101 {
		numStr = strconv.FormatUint(uint64(numSerial), 10)
	}
	switch {
	case textSerial != "":
		m.Serial, m.AltSerialCode = textSerial, numStr
	default:
		m.Serial = numStr
	}
	m.EDIDBase64 = base64.StdEncoding.EncodeToString(b)
	return m, nil
}

// pnpID decodes the three 5-bit letters of the EDID manufacturer id.
func pnpID(v uint16) string {
	var s [3]byte
	for i, shift := range []uint{10, 5, 0} {
		c := (v >> shift) & 0x1f
		if c < 1 || c > 26 {
			return ""
		}
		s[i] = byte('A' + c - 1)
	}
	return string(s[:])
}

// edidText returns a descriptor string: ASCII ended by a newline, padded with spaces.
func edidText(b []byte) string {
	if i := strings.IndexByte(string(b), '\n'); i >= 0 {
		b = b[:i]
	}
	var sb strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			sb.WriteByte(c)
		}
	}
	return strings.TrimSpace(sb.String())
}

// pnpVendorName maps the common PNP ids to a readable maker; unknown ids stay as the id.
func pnpVendorName(id string) string {
	if n, ok := pnpVendors.get(id); ok {
		return n
	}
	return id
}

var pnpVendors = pairs{
	{"AAC", "AcerView"}, {"ACI", "Asus"}, {"ACR", "Acer"}, {"AOC", "AOC"}, {"APP", "Apple"},
	{"AUO", "AU Optronics"}, {"AUS", "Asus"}, {"BNQ", "BenQ"}, {"BOE", "BOE"},
	{"CMN", "Chimei Innolux"}, {"CMO", "Chi Mei Optoelectronics"}, {"CPQ", "Compaq"}, {"DEL", "Dell"},
	{"EIZ", "Eizo"}, {"ENC", "Eizo"}, {"FUS", "Fujitsu"}, {"GBT", "Gigabyte"},
	{"GSM", "LG Electronics"}, {"HPN", "HP"}, {"HWP", "HP"}, {"HSD", "HannStar"}, {"HRE", "Haier"},
	{"IVM", "Iiyama"}, {"IVO", "InfoVision"}, {"LEN", "Lenovo"}, {"LGD", "LG Display"},
	{"LPL", "LG Philips"}, {"MAX", "Belinea"}, {"MEI", "Panasonic"}, {"MSI", "MSI"},
	{"MS_", "Panasonic"}, {"NEC", "NEC"}, {"NOK", "Nokia"}, {"PHL", "Philips"},
	{"QDS", "Quanta Display"}, {"RHT", "Red Hat"}, {"SAM", "Samsung"}, {"SDC", "Samsung Display"},
	{"SEC", "Seiko Epson"}, {"SHP", "Sharp"}, {"SNY", "Sony"}, {"TSB", "Toshiba"},
	{"VSC", "ViewSonic"}, {"WAM", "Wacom"}, {"XMI", "Xiaomi"}, {"HKC", "HKC"},
	{"MZI", "Digital Vision"}, {"KGN", "Kogan"}, {"ONN", "onn"}, {"VIZ", "Vizio"}, {"TCL", "TCL"},
	{"HIS", "Hisense"}, {"HIQ", "Hyundai ImageQuest"}, {"PNR", "Planar"}, {"ELO", "Elo Touch"},
	{"SPT", "Sceptre"}, {"INL", "InnoLux"}, {"LGS", "LG Semicom"}, {"NCP", "Najing CEC Panda"},
	{"CSO", "CSOT"}, {"TMX", "Tianma"}, {"STN", "Samsung"}, {"MED", "Medion"}, {"TAR", "Targa"},
	{"VMW", "VMware"}, {"QEM", "QEMU"},
}
