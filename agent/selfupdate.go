package agent

import (
	"context"
	"log/slog"
	"os"

	"github.com/omniagent/omniagent/config"
	"github.com/omniagent/omniagent/protocols"
	"github.com/omniagent/omniagent/selfupdate"
	"github.com/omniagent/omniagent/version"
)

// UpdateOptions is the [update] policy of cfg for this machine.
func UpdateOptions(cfg *config.Config, log *slog.Logger) (selfupdate.Options, error) {
	o := selfupdate.Options{
		StateDir:       StateDir(cfg),
		AllowDowngrade: cfg.Update.AllowDowngrade,
		MaxSize:        int64(cfg.Update.MaxSize),
		Running:        version.Version,
		Logger:         log,
	}
	if cfg.Source != config.DefaultSource {
		o.ConfigPath = cfg.Source
	}
	for _, k := range cfg.Update.PublicKeys {
		pk, err := selfupdate.ParsePublicKey(k)
		if err != nil {
			return o, err
		}
		o.Keys = append(o.Keys, pk)
	}
	return o, nil
}

// StateDir is the state folder cfg names, or this OS's default.
func StateDir(cfg *config.Config) string {
	if cfg.Agent.StateDir != "" {
		return cfg.Agent.StateDir
	}
	return config.DefaultStateDir()
}

// selfUpdater is the built-in updater adapters use for releases a server delivers (RDFM);
// nil when no key is pinned, which turns self-update off.
func (a *Agent) selfUpdater() protocols.SelfUpdater {
	if len(a.Config.Update.PublicKeys) == 0 {
		return nil
	}
	return func(ctx context.Context, binary, signature string) (string, error) {
		o, err := UpdateOptions(a.Config, a.Logger)
		if err != nil {
			return "", err
		}
		sig, err := os.Open(signature)
		if err != nil {
			return "", err
		}
		defer sig.Close()
		res, err := selfupdate.Install(ctx, o, binary, sig)
		return res.To, err
	}
}
