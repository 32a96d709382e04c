// Package modules holds the MIG investigation modules the agent implements and the result
// object they all return. Modules run in-process: they read files and sockets, never spawn
// processes, and honour their context (the operation's timeout).
package modules

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
)

// Result is MIG's module result object (keys in MIG's order).
type Result struct {
	FoundAnything bool     `json:"foundanything"`
	Success       bool     `json:"success"`
	Elements      any      `json:"elements"`
	Statistics    any      `json:"statistics"`
	Errors        []string `json:"errors"`
}

// Module is one investigation module.
type Module interface {
	// Run executes the module with its raw JSON parameters. A parameter or run problem is a
	// Result with Success false and the reason in Errors, not an error: MIG reports it inside
	// the result and the command still succeeds. Run returns an error only when ctx ended.
	Run(ctx context.Context, params json.RawMessage) (Result, error)
}

// Registry maps module names to implementations.
type Registry map[string]Module

// Names lists the modules, sorted (the heartbeat's environment.modules).
func (r Registry) Names() []string {
	out := make([]string, 0, len(r))
	for n := range r {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Failed is the result of a module that could not run.
func Failed(err error) Result {
	return Result{Errors: []string{err.Error()}}
}

// Normalize re-encodes elements and statistics generically, as MIG does when it decodes a
// module's output before re-encoding the command: keys inside come out sorted and numbers use
// float64 formatting, so our typed structs give MIG's bytes.
func Normalize(r Result) (Result, error) {
	for _, p := range []*any{&r.Elements, &r.Statistics} {
		if *p == nil {
			continue
		}
		b, err := json.Marshal(*p)
		if err != nil {
			return r, fmt.Errorf("encode module output: %w", err)
		}
		var g any
		if err := json.Unmarshal(b, &g); err != nil {
			return r, fmt.Errorf("decode module output: %w", err)
		}
		*p = g
	}
	return r, nil
}
