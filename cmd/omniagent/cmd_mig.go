package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/omniagent/omniagent/collectors"
	"github.com/omniagent/omniagent/identity"
	"github.com/omniagent/omniagent/inventory"
	"github.com/omniagent/omniagent/protocols/mig/modules"
	"github.com/omniagent/omniagent/protocols/mig/modules/builtin"
)

const migSynopsis = "mig run-module [--timeout D] [--pretty] [--config FILE] NAME 'PARAMS_JSON'|-"

// cmdMig is the MIG investigator's debugging path: run one module locally, exactly as an action
// would, and print its result object.
func cmdMig(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fs := newFlagSet("mig", migSynopsis, e)
		if len(args) == 0 {
			fs.Usage()
			return 2
		}
		fs.SetOutput(e.stdout)
		fs.Usage()
		return 0
	}
	if args[0] != "run-module" {
		fmt.Fprintf(e.stderr, "omniagent mig: unknown subcommand %q (want run-module)\n", args[0])
		return 2
	}
	fs := newFlagSet("mig run-module", migSynopsis, e)
	var cf commonFlags
	cf.register(fs)
	timeout := fs.Duration("timeout", 300*time.Second, "module timeout (MIG's default module_timeout)")
	pretty := fs.Bool("pretty", false, "indent the JSON (default: MIG's compact bytes)")
	if code, done := parseFlags(fs, args[1:], e); done {
		return code
	}
	if fs.NArg() != 2 {
		fmt.Fprintf(e.stderr, "omniagent mig run-module: want NAME and PARAMS_JSON, got %d arguments\n", fs.NArg())
		fs.Usage()
		return 2
	}
	name, params := fs.Arg(0), fs.Arg(1)
	if params == "-" {
		b, err := io.ReadAll(io.LimitReader(e.stdin, 64<<20))
		if err != nil {
			return fail(e.stderr, fmt.Errorf("read parameters from stdin: %w", err))
		}
		params = string(b)
	}
	if !json.Valid([]byte(params)) {
		fmt.Fprintf(e.stderr, "omniagent mig run-module: PARAMS_JSON is not valid JSON\n")
		return 2
	}
	reg := builtin.Registry(&lazyInventory{cf: cf, e: e})
	mod, ok := reg[name]
	if !ok {
		fmt.Fprintf(e.stderr, "omniagent mig run-module: module %q is not available (have: %s)\n", name, strings.Join(reg.Names(), ", "))
		return 2
	}
	rctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := runModule(rctx, mod, json.RawMessage(params))
	if err != nil {
		return fail(e.stderr, fmt.Errorf("module %s: %w", name, err))
	}
	var out []byte
	if *pretty {
		out, err = json.MarshalIndent(res, "", "  ")
	} else {
		out, err = json.Marshal(res)
	}
	if err != nil {
		return fail(e.stderr, fmt.Errorf("encode result: %w", err))
	}
	if _, err := fmt.Fprintf(e.stdout, "%s\n", out); err != nil {
		return fail(e.stderr, err)
	}
	if !res.Success {
		return 1
	}
	return 0
}

// runModule runs a module and turns a panic into an error (MIG ran modules as child processes:
// a crash never took the agent down).
func runModule(ctx context.Context, m modules.Module, params json.RawMessage) (res modules.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("module panicked: %v", p)
		}
	}()
	res, err = m.Run(ctx, params)
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("timed out: %w", err)
	}
	return res, err
}

// lazyInventory collects the inventory only when a module (pkg) asks for it.
type lazyInventory struct {
	cf   commonFlags
	e    *env
	once sync.Once
	prov inventory.Provider
	err  error
}

func (l *lazyInventory) Inventory(ctx context.Context) (*inventory.Inventory, error) {
	l.once.Do(func() {
		cfg, log, err := l.cf.load(l.e)
		if err != nil {
			l.err = err
			return
		}
		id, err := identity.Resolve(ctx, identity.Options{Hostname: cfg.Agent.Hostname, MachineUID: cfg.Agent.MachineUID}, nil)
		if err != nil {
			l.err = err
			return
		}
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		l.prov = collectors.New(collectors.Options{Identity: id, Disable: cfg.Inventory.Disabled(),
			CategoryTimeout: cfg.Inventory.CategoryTimeout.D(), Logger: log})
	})
	if l.err != nil {
		return nil, l.err
	}
	return l.prov.Inventory(ctx)
}
