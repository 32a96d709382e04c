package selfupdate

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// CheckExecutable refuses a file that is not an executable for goos/goarch: an ELF for
// another machine, a PE for Windows on Linux, and so on. Only the headers are read, by hand:
// debug/elf, debug/pe and debug/macho cost the agent ~60 KB and the package initialisation of
// debug/dwarf and internal/zstd at every start, for four fields.
func CheckExecutable(path, goos, goarch string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var hdr [64]byte
	n, err := io.ReadFull(f, hdr[:])
	if err != nil && err != io.ErrUnexpectedEOF {
		return fmt.Errorf("%s: read the header: %w", path, err)
	}
	if n < 4 {
		return fmt.Errorf("%s: too short to be an executable", path)
	}
	got, err := executableKind(f, hdr[:n])
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if want := goos + "/" + goarch; got != want {
		return fmt.Errorf("%s is %s, not an executable for this machine (%s)", path, got, want)
	}
	return nil
}

// executableKind names what the file is: "linux/amd64", "windows/arm64", "darwin/amd64", or a
// description of what else it is. r reads beyond the first bytes (a PE header's offset).
func executableKind(r io.ReaderAt, h []byte) (string, error) {
	switch {
	case string(h[:4]) == "\x7fELF":
		// e_ident: class (1: 32-bit, 2: 64-bit), data (1: little, 2: big endian), version 1;
		// then e_type and e_machine, both 16-bit, at 16 and 18.
		if len(h) < 20 || h[4] < 1 || h[4] > 2 || h[5] < 1 || h[5] > 2 || h[6] != 1 {
			return "", fmt.Errorf("broken ELF file: bad identification bytes")
		}
		var bo binary.ByteOrder = binary.LittleEndian
		if h[5] == 2 {
			bo = binary.BigEndian
		}
		if t := bo.Uint16(h[16:]); t != 2 && t != 3 { // ET_EXEC, ET_DYN
			return "an ELF object that is not an executable", nil
		}
		arch := map[uint16]string{62: "amd64", 183: "arm64", 3: "386", 40: "arm"}[bo.Uint16(h[18:])]
		return "linux/" + arch, nil
	case h[0] == 'M' && h[1] == 'Z':
		if len(h) < 64 {
			return "", fmt.Errorf("broken PE file: DOS header truncated")
		}
		// e_lfanew at 0x3c points at "PE\0\0" and the COFF header: Machine (uint16) and, 18
		// bytes further, Characteristics.
		off := int64(binary.LittleEndian.Uint32(h[0x3c:]))
		var coff [24]byte
		if _, err := r.ReadAt(coff[:], off); err != nil {
			return "", fmt.Errorf("broken PE file: read the PE header at %d: %w", off, err)
		}
		if string(coff[:4]) != "PE\x00\x00" {
			return "", fmt.Errorf("broken PE file: no PE signature at %d", off)
		}
		if binary.LittleEndian.Uint16(coff[22:])&0x2000 != 0 { // IMAGE_FILE_DLL
			return "a Windows DLL", nil
		}
		arch := map[uint16]string{0x8664: "amd64", 0xaa64: "arm64", 0x14c: "386"}[binary.LittleEndian.Uint16(coff[4:])]
		return "windows/" + arch, nil
	case len(h) >= 16 && (binary.LittleEndian.Uint32(h) == 0xfeedfacf || binary.LittleEndian.Uint32(h) == 0xfeedface):
		// Mach-O (little-endian, as both Apple architectures): cputype at 4, filetype at 12.
		if binary.LittleEndian.Uint32(h[12:]) != 2 { // MH_EXECUTE
			return "a Mach-O file that is not an executable", nil
		}
		arch := map[uint32]string{0x01000007: "amd64", 0x0100000c: "arm64"}[binary.LittleEndian.Uint32(h[4:])]
		return "darwin/" + arch, nil
	}
	return "an unknown format", nil
}
