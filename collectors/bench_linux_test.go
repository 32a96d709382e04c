package collectors

import (
	"os"
	"testing"
)

// BenchmarkDpkgPackages parses this machine's dpkg database (a desktop's is a megabyte).
func BenchmarkDpkgPackages(b *testing.B) {
	if _, err := os.Stat(dpkgStatusPath); err != nil {
		b.Skip("no dpkg database:", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dpkgPackages(dpkgStatusPath); err != nil {
			b.Fatal(err)
		}
	}
}
