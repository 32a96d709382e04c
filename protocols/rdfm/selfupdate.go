package rdfm

import (
	"archive/zip"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/omniagent/omniagent/jobs"
)

// bundleManifest marks an RDFM package as an omniagent release: RDFM's update check carries
// no package metadata, so the mark travels in the payload. A bundle is a ZIP holding this
// manifest (a line rdfm.software.kind=omniagent), the binary and its minisign signature.
const bundleManifest = "omniagent.manifest"

// isAgentBundle says whether the package is a ZIP with an omniagent manifest.
func isAgentBundle(path string) bool {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return false
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == bundleManifest {
			return true
		}
	}
	return false
}

// installAgent hands an omniagent bundle to the built-in updater (signature, version, format
// and trial run checked there) instead of install_command, and returns the new version.
func (a *Adapter) installAgent(ctx context.Context, pkgPath string) (string, error) {
	if a.d.SelfUpdate == nil {
		return "", errors.New("the package is an omniagent release, but self-update is off: pin the release keys in [update] public_keys")
	}
	dir, err := a.d.Jobs.Unpack(ctx, pkgPath, jobs.Limits{MaxBytes: 512 << 20, MaxEntries: 16})
	if err != nil {
		return "", fmt.Errorf("unpack the omniagent release: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := checkManifest(filepath.Join(dir, bundleManifest)); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "omniagent")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("the omniagent release holds no %s: %w", filepath.Base(bin), err)
	}
	v, err := a.d.SelfUpdate(ctx, bin, bin+".minisig")
	if err != nil {
		return "", fmt.Errorf("self-update: %w", err)
	}
	a.log.Warn("rdfm: omniagent release installed; the agent restarts into it", "version", v)
	return v, nil
}

func checkManifest(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("omniagent release manifest: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && k == "rdfm.software.kind" && v == "omniagent" {
			return nil
		}
	}
	return fmt.Errorf("%s does not say rdfm.software.kind=omniagent", bundleManifest)
}
