// Package pkg is MIG's pkg module: it lists the installed packages whose name matches one of the
// given regular expressions (and whose version matches vermatch), from the inventory's software
// list instead of MIG's scribe package queries.
package pkg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"time"

	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/protocols/mig/modules"
)

// Module is the pkg module. Inventory gives the software list; nil makes every run fail.
type Module struct {
	Inventory inventory.Provider
}

// Params are MIG's pkg parameters.
type Params struct {
	PkgMatch struct {
		Matches []string `json:"matches"`
	} `json:"pkgmatch"`
	VerMatch string `json:"vermatch,omitempty"`
}

// Package is one element, scribe's PackageInfo shape.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Type    string `json:"type"`
	Arch    string `json:"arch"`
}

// Elements are the module's elements.
type Elements struct {
	Packages []Package `json:"packages"`
}

// Statistics are the module's statistics.
type Statistics struct {
	ExecRuntime string `json:"execruntime"`
}

// Run implements modules.Module.
func (m Module) Run(ctx context.Context, raw json.RawMessage) (modules.Result, error) {
	start := time.Now()
	failed := func(err error) (modules.Result, error) {
		return modules.Normalize(modules.Result{Statistics: Statistics{ExecRuntime: time.Since(start).String()},
			Errors: []string{err.Error()}})
	}
	var p Params
	if err := json.Unmarshal(raw, &p); err != nil {
		return failed(fmt.Errorf("invalid pkg parameters: %w", err))
	}
	if len(p.PkgMatch.Matches) == 0 {
		return failed(errors.New("must specify at least one package to match"))
	}
	res := make([]*regexp.Regexp, 0, len(p.PkgMatch.Matches))
	for _, s := range p.PkgMatch.Matches {
		re, err := regexp.Compile(s)
		if err != nil {
			return failed(fmt.Errorf("invalid pkgmatch regex %q: %w", s, err))
		}
		res = append(res, re)
	}
	var ver *regexp.Regexp
	if p.VerMatch != "" {
		var err error
		if ver, err = regexp.Compile(p.VerMatch); err != nil {
			return failed(fmt.Errorf("invalid vermatch regex %q: %w", p.VerMatch, err))
		}
	}
	if m.Inventory == nil {
		return failed(errors.New("no inventory available to list packages"))
	}
	inv, err := m.Inventory.Inventory(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return modules.Result{}, ctx.Err()
		}
		return failed(fmt.Errorf("list installed packages: %w", err))
	}
	native := nativeDebArch(inv.Software)
	el := Elements{Packages: []Package{}}
	// MIG lists the packages regex by regex; a package matching two regexes is listed once.
	seen := map[int]bool{}
	for _, re := range res {
		for i, sw := range inv.Software {
			name := pkgName(sw, native)
			if seen[i] || !re.MatchString(name) || (ver != nil && !ver.MatchString(sw.Version)) {
				continue
			}
			seen[i] = true
			el.Packages = append(el.Packages, Package{Name: name, Version: sw.Version, Type: sw.Source, Arch: sw.Arch})
		}
	}
	return modules.Normalize(modules.Result{FoundAnything: len(el.Packages) > 0, Success: true, Elements: el,
		Statistics: Statistics{ExecRuntime: time.Since(start).String()}})
}

// pkgName names a package as mig-agent does. For dpkg that is dpkg-query's ${binary:Package}:
// the name with ":<arch>" when the package is Multi-Arch: same, or of a foreign architecture
// (neither the native one nor "all"), so "libssl3:amd64" and "bash". Investigators' queries
// are written against those names.
func pkgName(sw inventory.Software, native string) string {
	if sw.Source != "dpkg" || sw.Arch == "" {
		return sw.Name
	}
	if sw.MultiArch == "same" || (sw.Arch != "all" && sw.Arch != native) {
		return sw.Name + ":" + sw.Arch
	}
	return sw.Name
}

// nativeDebArch is dpkg's native architecture: that of the dpkg package itself (always
// native), else the Debian name of the one this binary runs on.
func nativeDebArch(sw []inventory.Software) string {
	for _, s := range sw {
		if s.Source == "dpkg" && s.Name == "dpkg" && s.Arch != "" {
			return s.Arch
		}
	}
	if a, ok := map[string]string{"386": "i386", "arm": "armhf", "mips64le": "mips64el", "mipsle": "mipsel"}[runtime.GOARCH]; ok {
		return a
	}
	return runtime.GOARCH // amd64, arm64, ppc64le, s390x, riscv64, loong64: same names
}
