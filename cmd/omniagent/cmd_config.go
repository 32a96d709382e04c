package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/httpclient"
)

func cmdConfig(_ context.Context, e *env, args []string) int {
	fs := newFlagSet("config", "config check [FILE]", e)
	if code, done := parseFlags(fs, args, e); done {
		return code
	}
	if fs.NArg() == 0 || fs.Arg(0) != "check" || fs.NArg() > 2 {
		fs.Usage()
		return 2
	}
	path := ""
	if fs.NArg() == 2 {
		path = fs.Arg(1)
	}
	cfg, err := config.Load(path, e.reg)
	if err != nil {
		return fail(e.stderr, err)
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
		proxies = append(proxies, fmt.Sprintf("%s: proxy %s", s.Name, proxy))
		// A protocol with its own connection (MIG's relay) describes its proxy itself.
		if r, ok := s.Options.(interface{ DescribeRelayProxy() string }); ok {
			proxies = append(proxies, fmt.Sprintf("%s: relay %s", s.Name, r.DescribeRelayProxy()))
		}
	}
	fmt.Fprintf(e.stdout, "%s: OK\n", cfg.Source)
	fmt.Fprintf(e.stdout, "state directory: %s\nlog: %s, %s\n", stateDir, cfg.Agent.LogLevel, cfg.Agent.LogFormat)
	fmt.Fprintf(e.stdout, "jobs: exec %s, shell %s, power %s\n", onOff(cfg.Jobs.AllowExec), onOff(cfg.Jobs.AllowShell), onOff(cfg.Jobs.AllowPower))
	if len(cfg.Servers) == 0 {
		fmt.Fprintln(e.stdout, "no server configured: the agent only collects the inventory")
		return 0
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tPROTOCOL\tURL\tINTERVAL\tEXEC\tSHELL\tPOWER\tSTATE")
	for _, s := range cfg.Servers {
		interval := s.Interval.D().String()
		if s.Interval == 0 {
			interval = "default"
		}
		if p, ok := e.reg.Lookup(s.Protocol); ok {
			// What the scheduler will really use: a heartbeat period wins over interval.
			switch d, hb := p.Interval(s.Interval.D(), s.Options); {
			case hb:
				interval = d.String() + " (heartbeat)"
			case s.Interval == 0 && d > 0:
				interval = d.String() + " (default)"
			}
		}
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
	}
	tw.Flush()
	for _, p := range proxies {
		fmt.Fprintln(e.stdout, p)
	}
	return 0
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
