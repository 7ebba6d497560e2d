package mantela

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Refresher keeps a current Network by repeating the walk. Documents that
// fail to fetch come from the Fetcher's cache, if it has one, so a refresh
// during an outage does not make exchanges vanish.
type Refresher struct {
	fetcher   *Fetcher
	startURLs []string
	onUpdate  func(*Network)
	current   atomic.Pointer[Network]
	// refreshing serialises refreshes so that an older walk never replaces
	// a newer one.
	refreshing sync.Mutex
}

// NewRefresher refreshes the network reachable from startURLs. onUpdate, if
// not nil, is called with every new network, from the refreshing goroutine.
func NewRefresher(fetcher *Fetcher, startURLs []string, onUpdate func(*Network)) *Refresher {
	return &Refresher{fetcher: fetcher, startURLs: startURLs, onUpdate: onUpdate}
}

// Current returns the latest network, or nil before the first refresh.
func (r *Refresher) Current() *Network {
	return r.current.Load()
}

// RefreshOnce walks the network now. A walk cut short by ctx is discarded
// and the previous network stays current.
func (r *Refresher) RefreshOnce(ctx context.Context) (*Network, error) {
	r.refreshing.Lock()
	defer r.refreshing.Unlock()
	network, err := r.fetcher.Fetch(ctx, r.startURLs...)
	if err != nil {
		return nil, fmt.Errorf("mantela: refresh: %w", err)
	}
	r.current.Store(network)
	if r.onUpdate != nil {
		r.onUpdate(network)
	}
	return network, nil
}

// Run refreshes at once and then on every value from ticks, until ctx ends,
// and returns ctx's error. Pass time.NewTicker(interval).C in production;
// tests pass their own channel so they control time.
func (r *Refresher) Run(ctx context.Context, ticks <-chan time.Time) error {
	for {
		if _, err := r.RefreshOnce(ctx); err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticks:
		}
	}
}

// RunEvery is Run with a ticker of the given interval.
func (r *Refresher) RunEvery(ctx context.Context, interval time.Duration) error {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	return r.Run(ctx, ticker.C)
}
