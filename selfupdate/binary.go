package selfupdate

import (
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"fmt"
	"os"
)

// CheckExecutable refuses a file that is not an executable for goos/goarch: an ELF for
// another machine, a PE for Windows on Linux, and so on.
func CheckExecutable(path, goos, goarch string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var magic [4]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil {
		return fmt.Errorf("%s: too short to be an executable", path)
	}
	got := "an unknown format"
	switch {
	case string(magic[:]) == "\x7fELF":
		ef, err := elf.NewFile(f)
		if err != nil {
			return fmt.Errorf("%s: broken ELF file: %w", path, err)
		}
		got = "linux/" + map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64", elf.EM_386: "386", elf.EM_ARM: "arm"}[ef.Machine]
		if ef.Type != elf.ET_EXEC && ef.Type != elf.ET_DYN {
			got = "an ELF object that is not an executable"
		}
	case magic[0] == 'M' && magic[1] == 'Z':
		pf, err := pe.NewFile(f)
		if err != nil {
			return fmt.Errorf("%s: broken PE file: %w", path, err)
		}
		got = "windows/" + map[uint16]string{pe.IMAGE_FILE_MACHINE_AMD64: "amd64", pe.IMAGE_FILE_MACHINE_ARM64: "arm64", pe.IMAGE_FILE_MACHINE_I386: "386"}[pf.Machine]
		if pf.Characteristics&pe.IMAGE_FILE_DLL != 0 {
			got = "a Windows DLL"
		}
	default:
		mf, err := macho.NewFile(f)
		if err != nil {
			break
		}
		got = "darwin/" + map[macho.Cpu]string{macho.CpuAmd64: "amd64", macho.CpuArm64: "arm64"}[mf.Cpu]
		if mf.Type != macho.TypeExec {
			got = "a Mach-O file that is not an executable"
		}
	}
	if want := goos + "/" + goarch; got != want {
		return fmt.Errorf("%s is %s, not an executable for this machine (%s)", path, got, want)
	}
	return nil
}
