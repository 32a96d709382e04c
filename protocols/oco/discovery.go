package oco

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// discover resolves _oco._tcp.<domain> for each candidate domain; the first answer wins.
func (a *Adapter) discover(ctx context.Context) (string, error) {
	domains := a.searchDomains()
	if len(domains) == 0 {
		return "", errors.New("oco: no url configured and no DNS domain to search for _oco._tcp (set url, or srv_domain)")
	}
	var errs []error
	for _, dom := range domains {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, srvs, err := a.resolver.LookupSRV(lctx, "oco", "tcp", dom)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("_oco._tcp.%s: %w", dom, err))
			continue
		}
		if len(srvs) == 0 {
			continue
		}
		target := strings.TrimSuffix(srvs[0].Target, ".")
		if target == "" {
			continue
		}
		return "https://" + net.JoinHostPort(target, strconv.Itoa(int(srvs[0].Port))) + "/api-agent.php", nil
	}
	return "", fmt.Errorf("oco: no url configured and no _oco._tcp SRV record found in %s: %w", strings.Join(domains, ", "), errors.Join(errs...))
}

func (a *Adapter) searchDomains() []string {
	var out []string
	add := func(d string) {
		d = strings.Trim(strings.TrimSpace(d), ".")
		if d == "" {
			return
		}
		for _, x := range out {
			if strings.EqualFold(x, d) {
				return
			}
		}
		out = append(out, d)
	}
	if a.opts.SRVDomain != "" {
		add(a.opts.SRVDomain)
		return out
	}
	if f := a.d.Identity.FQDN; strings.Contains(f, ".") && net.ParseIP(f) == nil {
		add(f[strings.IndexByte(f, '.')+1:])
	}
	for _, d := range resolvConfDomains("/etc/resolv.conf") {
		add(d)
	}
	return out
}

// resolvConfDomains reads the "search" and "domain" lines (absent on Windows: nothing).
func resolvConfDomains(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 && (fields[0] == "search" || fields[0] == "domain") {
			out = append(out, fields[1:]...)
		}
	}
	return out
}
