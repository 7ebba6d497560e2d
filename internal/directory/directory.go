// Package directory is this exchange's view of the Mantela network: its own
// published document, the documents fetched from the peers outward, and the
// routing graph over both. It is the route.Directory the router asks for
// numbers of exchanges that are not direct peers, and it reports what the
// HTTP API shows (/mantela/status, /routes).
package directory

import (
	"cmp"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kurodenwa/kurodenwa/internal/mantela"
	"github.com/kurodenwa/kurodenwa/internal/site"
)

// Defaults of Config.
const (
	// DefaultCostModel prices numbers as a 10 pps rotary dial does: the
	// black phone is what dials them.
	DefaultCostModel = mantela.Pulse10PPS
	// DefaultRefreshInterval is how often the network is walked again;
	// hobby exchanges change their documents rarely.
	DefaultRefreshInterval = time.Hour
)

// Config says how to build and refresh the view.
type Config struct {
	// CostModel names the model routes are chosen by (see
	// mantela.ParseCostModel); "" selects DefaultCostModel.
	CostModel string
	// StartURLs are walked besides the peers' mantela URLs, e.g. a
	// community collection.
	StartURLs []string
	// CacheDir keeps the last good copy of every document (a state
	// directory); "" keeps none.
	CacheDir string
	// RefreshInterval defaults to DefaultRefreshInterval.
	RefreshInterval time.Duration
	// FetcherOptions change the fetcher's limits (depth, timeout, size,
	// concurrency) or its HTTP client.
	FetcherOptions []mantela.FetcherOption
	Logger         *slog.Logger
}

// Directory is safe for concurrent use: routing reads the current view
// while a refresh replaces it.
type Directory struct {
	self      *mantela.Document
	peers     map[string]peerRef // by identifier
	model     mantela.CostModel
	startURLs []string
	interval  time.Duration
	refresher *mantela.Refresher
	log       *slog.Logger
	view      atomic.Pointer[view]
}

type peerRef struct {
	name, prefix string
}

// view is one generation of the network; it is never modified once stored.
type view struct {
	graph     *mantela.Graph
	network   *mantela.Network // nil before the first walk
	refreshed time.Time
}

// New builds the directory of site s. Until the first walk it knows the
// site's own document only, so nothing beyond the peers routes.
func New(s *site.Site, cfg Config) (*Directory, error) {
	model := DefaultCostModel
	if cfg.CostModel != "" {
		m, err := mantela.ParseCostModel(cfg.CostModel)
		if err != nil {
			return nil, fmt.Errorf("directory: %w", err)
		}
		model = m
	}
	d := &Directory{
		self:      mantela.FromSite(s),
		peers:     map[string]peerRef{},
		model:     model,
		startURLs: StartURLs(s, cfg.StartURLs),
		interval:  cmp.Or(cfg.RefreshInterval, DefaultRefreshInterval),
		log:       cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)),
	}
	for name, p := range s.Peers {
		if p.Identifier != "" {
			d.peers[p.Identifier] = peerRef{name: name, prefix: p.Prefix}
		}
	}
	opts := []mantela.FetcherOption{mantela.WithLogger(d.log)}
	if cfg.CacheDir != "" {
		cache, err := mantela.NewDiskCache(cfg.CacheDir)
		if err != nil {
			// Routing works without the cache; only an outage after a
			// restart loses the exchanges behind it.
			d.log.Warn("mantela: no disk cache", "dir", cfg.CacheDir, "err", err)
		} else {
			opts = append(opts, mantela.WithCache(cache))
		}
	}
	opts = append(opts, cfg.FetcherOptions...)
	d.refresher = mantela.NewRefresher(mantela.NewFetcher(opts...), d.startURLs, d.update)
	d.view.Store(&view{graph: mantela.NewGraph([]*mantela.Document{d.self})})
	return d, nil
}

// StartURLs are where the walk begins: every peer's mantela URL, in peer
// name order, then extra, without repeats.
func StartURLs(s *site.Site, extra []string) []string {
	names := make([]string, 0, len(s.Peers))
	for name := range s.Peers {
		names = append(names, name)
	}
	slices.Sort(names)
	var urls []string
	for _, name := range names {
		if u := s.Peers[name].Mantela; u != "" && !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
	}
	for _, u := range extra {
		if u = strings.TrimSpace(u); u != "" && !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
	}
	return urls
}

// Document is this exchange's own published document.
func (d *Directory) Document() *mantela.Document { return d.self }

// CostModel is the model routes are chosen by.
func (d *Directory) CostModel() mantela.CostModel { return d.model }

// update installs a new walk: the graph over our own document (first, so
// it wins over any copy of it a peer lists) and every fetched one.
func (d *Directory) update(network *mantela.Network) {
	docs := append([]*mantela.Document{d.self}, network.Documents()...)
	d.view.Store(&view{graph: mantela.NewGraph(docs), network: network, refreshed: time.Now()})
	for _, p := range network.Problems {
		refs := make([]string, len(p.ReferencedBy))
		for i, ref := range p.ReferencedBy {
			refs[i] = ref.String()
		}
		d.log.Warn("mantela: document not usable", "url", p.URL, "referenced_by", strings.Join(refs, "; "),
			"err", p.Err, "using_cached_copy", p.UsedCache)
	}
	d.log.Info("mantela: network refreshed", "exchanges", len(network.Exchanges), "problems", len(network.Problems))
}
