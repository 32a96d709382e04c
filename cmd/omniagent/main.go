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

	"github.com/omniagent/omniagent/protocols"
	_ "github.com/omniagent/omniagent/protocols/all"
)

// env is what a command gets: streams and the protocol registry.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	reg            *protocols.Registry
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
		{"mig", "mig run-module NAME 'PARAMS_JSON': run a MIG module locally and print its result JSON", cmdMig},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, reg: protocols.Builtin}, os.Args[1:])
	stop()
	os.Exit(code)
}

func dispatch(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" && args[0] != "-help" {
		return cmdRun(ctx, e, args)
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "-help" || name == "help" {
		usage(e.stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "omniagent: unknown command %q\n\n", name)
	usage(e.stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: omniagent [command] [flags]")
	fmt.Fprintln(w, "\nWith no command, omniagent runs as a daemon; `omniagent --oneshot` runs every server once.")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `omniagent COMMAND --help` for a command's flags.")
}
