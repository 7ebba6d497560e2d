package directory

import (
	"context"
	"errors"
	"fmt"
)

// Run walks the network now and then every refresh interval until ctx
// ends; it returns nil then. With no start URL it returns at once: only
// the direct peers route.
func (d *Directory) Run(ctx context.Context) error {
	if len(d.startURLs) == 0 {
		d.log.Info("mantela: no peer has a mantela URL and no start URL is set; exchanges beyond the peers are not routed")
		return nil
	}
	err := d.refresher.RunEvery(ctx, d.interval)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// Refresh walks the network once, now. A walk cut short by ctx leaves the
// previous view in place.
func (d *Directory) Refresh(ctx context.Context) error {
	if _, err := d.refresher.RefreshOnce(ctx); err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	return nil
}
