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
	el := Elements{Packages: []Package{}}
	// MIG lists the packages regex by regex; a package matching two regexes is listed once.
	seen := map[int]bool{}
	for _, re := range res {
		for i, sw := range inv.Software {
			if seen[i] || !re.MatchString(sw.Name) || (ver != nil && !ver.MatchString(sw.Version)) {
				continue
			}
			seen[i] = true
			el.Packages = append(el.Packages, Package{Name: sw.Name, Version: sw.Version, Type: sw.Source, Arch: sw.Arch})
		}
	}
	return modules.Normalize(modules.Result{FoundAnything: len(el.Packages) > 0, Success: true, Elements: el,
		Statistics: Statistics{ExecRuntime: time.Since(start).String()}})
}
