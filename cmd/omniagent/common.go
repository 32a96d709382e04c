package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/omniagent/omniagent/agent"
	"github.com/omniagent/omniagent/config"
)

// commonFlags are the flags every command that reads the config shares.
type commonFlags struct {
	config    string
	logLevel  string
	logFormat string
	stateDir  string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "config file (default: "+config.DefaultPath()+", else the embedded default)")
	fs.StringVar(&c.logLevel, "log-level", "", "log level: debug, info, warn, error (overrides [agent] log_level)")
	fs.StringVar(&c.logFormat, "log-format", "", "log format: text or json (overrides [agent] log_format)")
	fs.StringVar(&c.stateDir, "state-dir", "", "state directory (overrides [agent] state_dir)")
}

func newFlagSet(name, synopsis string, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: omniagent %s\n", synopsis)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(fs.Output(), "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args; done is true when the command must return code right away (--help,
// bad flag).
func parseFlags(fs *flag.FlagSet, args []string, e *env) (code int, done bool) {
	fs.SetOutput(io.Discard) // the flag package would print usage itself; we choose the stream
	// Global flags given before the command come first, so the same flag after it wins. A
	// command without such a flag (version) ignores it.
	var pre []string
	for _, g := range e.global {
		name, _, _ := strings.Cut(strings.TrimPrefix(g, "--"), "=")
		if fs.Lookup(name) != nil {
			pre = append(pre, g)
		}
	}
	err := fs.Parse(append(pre, args...))
	if err == nil {
		fs.SetOutput(e.stderr)
		return 0, false
	}
	if err == flag.ErrHelp {
		fs.SetOutput(e.stdout)
		fs.Usage()
		return 0, true
	}
	fs.SetOutput(e.stderr)
	fmt.Fprintf(e.stderr, "omniagent %s: %v\n", fs.Name(), err)
	fs.Usage()
	return exitUsage, true
}

// load reads the config and builds the logger the command logs with.
func (c *commonFlags) load(e *env) (*config.Config, *slog.Logger, error) {
	cfg, err := config.Load(c.config, e.reg)
	if err != nil {
		return nil, nil, usageError{err}
	}
	if c.stateDir != "" {
		cfg.Agent.StateDir = c.stateDir
	}
	level, format := cfg.Agent.LogLevel, cfg.Agent.LogFormat
	if c.logLevel != "" {
		level = c.logLevel
	}
	if c.logFormat != "" {
		format = c.logFormat
	}
	log, err := agent.NewLogger(e.stderr, level, format)
	if err != nil {
		return nil, nil, usageError{err}
	}
	return cfg, log, nil
}

// usageError marks an error of the command line or the config: exit code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// fail prints err and returns its exit code: 2 for a usage or config error, else 1.
func fail(w io.Writer, err error) int {
	fmt.Fprintf(w, "omniagent: %v\n", err)
	var ue usageError
	var ce *config.Error
	if errors.As(err, &ue) || errors.As(err, &ce) {
		return exitUsage
	}
	return exitFailed
}
