package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kurodenwa/kurodenwa/internal/directory"
	"github.com/kurodenwa/kurodenwa/internal/mantela"
	"github.com/kurodenwa/kurodenwa/internal/route"
	"github.com/kurodenwa/kurodenwa/internal/site"
)

// networkFlags configure the exchange network until the site file has keys
// for them.
type networkFlags struct {
	stateDir  string
	startURLs string
	refresh   time.Duration
	costModel string
	maxHops   int
}

func (n *networkFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&n.stateDir, "state-dir", "/var/lib/kurodenwa", "serve: state directory; the last good Mantela documents are kept in its mantela/ folder")
	fs.StringVar(&n.startURLs, "mantela-start", "", "serve: comma-separated Mantela URLs walked besides the peers' own")
	fs.DurationVar(&n.refresh, "mantela-refresh", directory.DefaultRefreshInterval, "serve: how often the Mantela network is walked again")
	fs.StringVar(&n.costModel, "cost-model", "pulse10", "serve: how routes through the network are priced: pulse10, pulse20, push or hops")
	fs.IntVar(&n.maxHops, "max-hops", route.DefaultMaxHops, "serve: the most exchange-to-exchange links a call may cross")
}

func (n networkFlags) config(log *slog.Logger) directory.Config {
	cfg := directory.Config{
		CostModel:       n.costModel,
		RefreshInterval: n.refresh,
		Logger:          log,
	}
	if n.stateDir != "" {
		cfg.CacheDir = filepath.Join(n.stateDir, "mantela")
	}
	if n.startURLs != "" {
		cfg.StartURLs = strings.Split(n.startURLs, ",")
	}
	return cfg
}

// writeMantela writes the exchange's Mantela document for a web server to
// publish (the app serves the same at /.well-known/mantela.json). It holds
// no secret: mode 0644, replaced atomically.
func writeMantela(s *site.Site, path string) error {
	data, err := json.MarshalIndent(mantela.FromSite(s), "", "  ")
	if err != nil {
		return fmt.Errorf("mantela.json: %w", err)
	}
	data = append(data, '\n')
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("mantela.json: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".mantela-*.json")
	if err != nil {
		return fmt.Errorf("mantela.json: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("mantela.json: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("mantela.json: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("mantela.json: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("mantela.json: %w", err)
	}
	return nil
}
