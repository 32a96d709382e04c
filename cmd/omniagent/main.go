// Command omniagent is the endpoint agent: it serves every configured management server
// (OCO, GLPI, RDFM, JumpCloud, MIG) from one process.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/omniagent/omniagent/config"
	_ "github.com/omniagent/omniagent/mainstack" // grows the main stack before the initialisers
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/protocols/all"
)

// env is what a command gets: streams and the protocol registry.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	reg            *protocols.Registry
	// global are the global flags given before the command ("--config=FILE"); parseFlags
	// hands them to the command's flag set, so they work on either side of the command.
	global []string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) int
}

func commands() []command {
	return []command{
		{"run", "run as a daemon in the foreground (the default; what the service manager starts)", cmdRun},
		{"inventory", "collect and print the inventory", cmdInventory},
		{"config", "config check [FILE]: validate a config and print what it would do", cmdConfig},
		{"status", "show each server's last contact, result, next run and last error", cmdStatus},
		{"trigger", "trigger [--server NAME] [--force-update]: make the running daemon run its servers now", cmdTrigger},
		{"version", "print version, commit, build date and Go version", cmdVersion},
		{"install", "install [--config FILE]: install and start the omniagent service", cmdInstall},
		{"uninstall", "uninstall [--purge]: stop and remove the service (--purge also deletes config and state)", cmdUninstall},
		{"start", "start the installed service", cmdServiceControl("start")},
		{"stop", "stop the installed service", cmdServiceControl("stop")},
		{"restart", "restart the installed service", cmdServiceControl("restart")},
		{"deregister", "deregister --server NAME --yes: delete this machine's record on that server (JumpCloud)", cmdDeregister},
		{"self-update", "self-update FILE [--signature FILE.minisig]: verify a signed agent binary and install it in place of this one", cmdSelfUpdate},
		{"mig", "mig run-module NAME 'PARAMS_JSON': run a MIG module locally and print its result JSON", cmdMig},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, reg: all.Registry()}, os.Args[1:])
	stop()
	os.Exit(code)
}

// Exit codes, documented in `omniagent --help` and the README.
const (
	exitOK         = 0 // every server ok
	exitFailed     = 1 // an exchange with a server failed, or the command failed
	exitUsage      = 2 // usage or configuration error
	exitJobsFailed = 3 // every exchange worked but a job, package or deploy failed
)

func dispatch(ctx context.Context, e *env, args []string) int {
	global, args, err := splitGlobal(args)
	if err != nil {
		fmt.Fprintf(e.stderr, "omniagent: %v\n\n", err)
		usage(e.stderr)
		return exitUsage
	}
	e.global = append(e.global, global...)
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" && args[0] != "-help" {
		return cmdRun(ctx, e, args)
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "-help" || name == "help" {
		usage(e.stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "omniagent: unknown command %q\n\n", name)
	usage(e.stderr)
	return exitUsage
}

// globalFlags take a value and may come before the command: `omniagent --config FILE status`.
var globalFlags = []struct{ name, arg, help string }{
	{"config", "FILE", "config file (default: " + config.DefaultPath() + ", else the embedded default)"},
	{"log-level", "LEVEL", "debug, info, warn or error (overrides [agent] log_level)"},
	{"log-format", "FORMAT", "text or json (overrides [agent] log_format)"},
	{"state-dir", "DIR", "state directory (overrides [agent] state_dir)"},
}

// splitGlobal takes the global flags off the front of args, as "--name=value".
func splitGlobal(args []string) (global, rest []string, err error) {
	for len(args) > 0 {
		a := args[0]
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		known := false
		for _, g := range globalFlags {
			known = known || g.name == name
		}
		if !known {
			break // a flag of the default command (run), such as --oneshot
		}
		if !hasValue {
			if len(args) < 2 {
				return nil, nil, fmt.Errorf("flag needs an argument: --%s", name)
			}
			value, args = args[1], args[1:]
		}
		global = append(global, "--"+name+"="+value)
		args = args[1:]
	}
	return global, args, nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: omniagent [global flags] [command] [flags]")
	fmt.Fprintln(w, "\nWith no command, omniagent runs as a daemon; `omniagent --oneshot` runs every server once.")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nGlobal flags (before or after the command):")
	for _, g := range globalFlags {
		fmt.Fprintf(w, "  --%-18s %s\n", g.name+" "+g.arg, g.help)
	}
	fmt.Fprintln(w, "\nExit codes:")
	fmt.Fprintln(w, "  0  every server ok")
	fmt.Fprintln(w, "  1  an exchange with a server failed, or the command failed")
	fmt.Fprintln(w, "  2  usage or configuration error")
	fmt.Fprintln(w, "  3  every exchange worked but a job, package or deploy failed")
	fmt.Fprintln(w, "\nRun `omniagent COMMAND --help` for a command's flags.")
}
