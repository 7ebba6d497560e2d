// Package pace holds a device to real time, one frame per frame time, the
// way a sound card's clock would.
package pace

import (
	"context"
	"time"

	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
)

// MaxLag is how far behind a Pacer may fall before it starts over from
// now instead of catching up in a burst.
const MaxLag = 200 * time.Millisecond

// Pacer releases one frame per period. The zero value is not usable; see
// New. A nil *Pacer never waits.
type Pacer struct {
	clk    clock.Clock
	period time.Duration
	next   time.Time
}

// New returns a Pacer whose first frame is due at once.
func New(clk clock.Clock, period time.Duration) *Pacer {
	return &Pacer{clk: clk, period: period}
}

// Wait blocks until the next frame is due.
func (p *Pacer) Wait(ctx context.Context) error {
	if p == nil {
		return ctx.Err()
	}
	now := p.clk.Now()
	if p.next.IsZero() || now.Sub(p.next) > MaxLag {
		p.next = now
	}
	if d := p.next.Sub(now); d > 0 {
		if err := clock.Sleep(ctx, p.clk, d); err != nil {
			return err
		}
	}
	p.next = p.next.Add(p.period)
	return nil
}
