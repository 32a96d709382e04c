package glpi

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/omniagent/omniagent/lazyre"
)

var expirationRe = &lazyre.Regexp{Expr: `^(\d+)([smhd]?)$`}

// maxExpiration caps a server-given delay: a typo on the server must not silence the agent
// for years.
const maxExpiration = 90 * 24 * time.Hour

// parseExpiration reads an expiration: a JSON number (hours) or a string "<n>[smhd]" where no
// unit means hours. A missing value returns 0 and no error; anything else is an error naming
// the value.
func parseExpiration(raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("expiration %s: %w", raw, err)
		}
	} else {
		s = string(raw)
	}
	m := expirationRe.Get().FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("expiration %s: want a positive number with an optional unit s, m, h or d (\"24\", \"30m\", \"1d\")", raw)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("expiration %s: want a number above 0", raw)
	}
	unit := time.Hour
	switch m[2] {
	case "s":
		unit = time.Second
	case "m":
		unit = time.Minute
	case "d":
		unit = 24 * time.Hour
	}
	if n > int64(maxExpiration/unit) {
		return maxExpiration, nil
	}
	return time.Duration(n) * unit, nil
}

// minServerDelay is the shortest delay a server may ask for: a GLPI answering "1s" must not
// make 10,000 agents contact it every second.
const minServerDelay = time.Minute

// serverDelay parses a server-given expiration and raises it to minServerDelay, saying so
// once per adapter life.
func (a *Adapter) serverDelay(raw json.RawMessage) (time.Duration, error) {
	d, err := parseExpiration(raw)
	if err != nil || d <= 0 {
		return d, err
	}
	return a.atLeastMinDelay(d, "expiration "+string(raw)), nil
}

// atLeastMinDelay raises d to minServerDelay, logging the first time it does.
func (a *Adapter) atLeastMinDelay(d time.Duration, what string) time.Duration {
	if d >= minServerDelay {
		return d
	}
	if !a.clampLogged {
		a.clampLogged = true
		a.log.Warn("the server asked for a delay under the minimum; using the minimum", "asked", what, "minimum", minServerDelay)
	}
	return minServerDelay
}
