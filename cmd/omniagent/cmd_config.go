package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/httpclient"
)

func cmdConfig(_ context.Context, e *env, args []string) int {
	fs := newFlagSet("config", "config check [FILE | --config FILE]", e)
	var cf commonFlags
	cf.register(fs)
	if code, done := parseFlags(fs, args, e); done {
		return code
	}
	if fs.NArg() == 0 || fs.Arg(0) != "check" || fs.NArg() > 2 {
		fs.Usage()
		return exitUsage
	}
	path := cf.config
	if fs.NArg() == 2 {
		path = fs.Arg(1)
	}
	cfg, err := config.Load(path, e.reg)
	if err != nil {
		// Every error of the file, one per line, each at its key's line.
		var es config.Errors
		if errors.As(err, &es) {
			for _, one := range es {
				fmt.Fprintf(e.stderr, "error: %v\n", one)
			}
			if len(es) >= config.MaxErrors {
				fmt.Fprintf(e.stderr, "%d errors shown, there may be more: fix these and check again\n", len(es))
			} else {
				fmt.Fprintf(e.stderr, "%d errors\n", len(es))
			}
			return exitUsage
		}
		fmt.Fprintf(e.stderr, "error: %v\n", err)
		return exitUsage
	}
	if cf.stateDir != "" {
		cfg.Agent.StateDir = cf.stateDir
	}
	stateDir := cfg.Agent.StateDir
	if stateDir == "" {
		stateDir = config.DefaultStateDir() + " (default)"
	}
	// The proxy in effect per server, redacted; a proxy key or HTTPS_PROXY/HTTP_PROXY value
	// that does not parse fails the check as it would fail the agent's start.
	var proxies []string
	for _, s := range cfg.Servers {
		proxy, err := httpclient.ProxyInEffect(httpclient.Options{Server: s.Name, Proxy: s.Proxy, NoProxy: s.NoProxy}, s.URL)
		if err != nil {
			return fail(e.stderr, err)
		}
		proxies = append(proxies, fmt.Sprintf("  %s: proxy %s", s.Name, proxy))
		// A protocol with its own connection (MIG's relay) describes its proxy itself.
		if r, ok := s.Options.(interface{ DescribeRelayProxy() string }); ok {
			proxies = append(proxies, fmt.Sprintf("  %s: relay %s", s.Name, r.DescribeRelayProxy()))
		}
	}
	fmt.Fprintf(e.stdout, "%s: OK", cfg.Source)
	if n := len(cfg.Warnings); n > 0 {
		fmt.Fprintf(e.stdout, " (%d warnings)", n)
	}
	fmt.Fprintln(e.stdout)
	for _, w := range cfg.Warnings {
		fmt.Fprintf(e.stdout, "warning: %v\n", w)
	}
	fmt.Fprintf(e.stdout, "state directory: %s\nlog: %s, %s\n", stateDir, cfg.Agent.LogLevel, cfg.Agent.LogFormat)
	fmt.Fprintf(e.stdout, "jobs: exec %s, shell %s, power %s\n", onOff(cfg.Jobs.AllowExec), onOff(cfg.Jobs.AllowShell), onOff(cfg.Jobs.AllowPower))
	if len(cfg.Servers) == 0 {
		fmt.Fprintln(e.stdout, "no server configured: the agent only collects the inventory")
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tPROTOCOL\tURL\tINTERVAL\tEXEC\tSHELL\tPOWER\tSTATE")
	var schedules []string
	for _, s := range cfg.Servers {
		eff, interval := effectiveInterval(e, s)
		ex, sh, pw := cfg.Policy(s)
		st := "enabled"
		if s.Disabled {
			st = "disabled"
		}
		u := s.URL
		if u == "" {
			u = "(discovered or from the protocol's own files)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Protocol, u, interval, onOff(ex), onOff(sh), onOff(pw), st)
		if s.InsecureSkipVerify {
			fmt.Fprintf(tw, "\t\tWARNING: TLS verification disabled for %s\t\t\t\t\t\n", s.Name)
		}
		sched := "every " + eff.String()
		if d, ok := s.Options.(config.ScheduleDescriber); ok {
			sched = d.Schedule(eff)
		}
		schedules = append(schedules, fmt.Sprintf("  %s: %s", s.Name, sched))
	}
	tw.Flush()
	fmt.Fprintln(e.stdout, "\nschedule:")
	for _, l := range schedules {
		fmt.Fprintln(e.stdout, l)
	}
	fmt.Fprintln(e.stdout, "\nproxies:")
	for _, p := range proxies {
		fmt.Fprintln(e.stdout, p)
	}
	return exitOK
}

// effectiveInterval is the server's cycle period as the scheduler will use it, and how to
// show it: the protocol's heartbeat (MIG's heartbeat_interval), else the server's interval,
// else its protocol's default.
func effectiveInterval(e *env, s config.Server) (time.Duration, string) {
	p, ok := e.reg.Lookup(s.Protocol)
	if !ok {
		return time.Hour, "1h0m0s (default)"
	}
	d, hb := p.Interval(s.Interval.D(), s.Options)
	switch {
	case hb:
		return d, d.String() + " (heartbeat)"
	case s.Interval != 0:
		return d, d.String()
	case d > 0:
		return d, d.String() + " (default)"
	}
	return time.Hour, "1h0m0s (default)"
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
