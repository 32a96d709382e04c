package main

import (
	"context"
	"fmt"

	"github.com/omniagent/omniagent/version"
)

func cmdVersion(_ context.Context, e *env, args []string) int {
	fs := newFlagSet("version", "version", e)
	if code, done := parseFlags(fs, args, e); done {
		return code
	}
	fmt.Fprintln(e.stdout, version.String())
	return 0
}
