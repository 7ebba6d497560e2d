// Package loop holds what the line backends that see the raw loop (GPIO, the
// simulated phone) share: a driver that turns loop edges into line events
// through the pulse decoder, ticking it on a clock; an event queue that
// never blocks the producer; and the ringer's cadence.
package loop

import (
	"fmt"
	"sync"
	"time"

	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line"
	"github.com/kurodenwa/kurodenwa/pi-gateway/pulse"
)

// Driver feeds raw loop edges to a pulse.Decoder and ticks it at its
// deadlines, so that digits, flashes and on-hook are reported when they
// become certain even if no further edge comes. It is safe for concurrent
// use.
type Driver struct {
	mu     sync.Mutex
	clk    clock.Clock
	epoch  time.Time
	dec    *pulse.Decoder
	last   time.Duration // latest decoder time, edges never go behind it
	timer  clock.Timer
	emit   func(line.Event)
	closed bool
}

// NewDriver starts a driver for a loop that is in state initial now (Break
// is on hook). emit receives each event in order; it is called with the
// driver's lock held, so it must not block or call back into the Driver.
func NewDriver(cfg pulse.Config, initial pulse.State, clk clock.Clock, emit func(line.Event)) (*Driver, error) {
	epoch := clk.Now()
	dec, err := pulse.NewDecoder(cfg, initial, 0)
	if err != nil {
		return nil, fmt.Errorf("loop: %w", err)
	}
	return &Driver{clk: clk, epoch: epoch, dec: dec, emit: emit}, nil
}

// Edge reports that the loop changed to s now.
func (d *Driver) Edge(s pulse.State) { d.EdgeAt(s, d.clk.Now()) }

// EdgeAt reports that the loop changed to s at t. An edge older than what
// the driver has already seen (a kernel timestamp that arrived after a
// tick) is taken as happening at that latest time: the error is at most
// the delivery delay, far below any pulse timing.
func (d *Driver) EdgeAt(s pulse.State, t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	at := t.Sub(d.epoch)
	if at < d.last {
		at = d.last
	}
	d.last = at
	d.deliver(d.dec.Edge(s, at))
	d.arm()
}

// OnHook reports whether the decoder considers the handset on hook.
func (d *Driver) OnHook() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, on := d.dec.State()
	return on
}

// Close stops ticking; later edges are ignored.
func (d *Driver) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

// arm sets the timer for the decoder's next deadline; d.mu must be held.
func (d *Driver) arm() {
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	dl, ok := d.dec.Deadline()
	if !ok {
		return
	}
	wait := dl - d.clk.Now().Sub(d.epoch)
	if wait < 0 {
		wait = 0
	}
	// The function learns its own timer through a channel: on the real
	// clock it may run before AfterFunc has returned.
	self := make(chan clock.Timer, 1)
	t := d.clk.AfterFunc(wait, func() { d.tick(<-self) })
	self <- t
	d.timer = t
}

func (d *Driver) tick(self clock.Timer) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.timer != self {
		return // replaced by a newer timer
	}
	d.timer = nil
	now := d.clk.Now().Sub(d.epoch)
	if now > d.last {
		d.last = now
	}
	d.deliver(d.dec.Tick(d.last))
	d.arm()
}

func (d *Driver) deliver(evs []pulse.Event) {
	for _, e := range evs {
		d.emit(Translate(e, d.epoch))
	}
}

// Translate turns a decoder event into a line event; epoch is the
// decoder's time zero.
func Translate(e pulse.Event, epoch time.Time) line.Event {
	out := line.Event{At: epoch.Add(e.At)}
	switch e.Kind {
	case pulse.KindDigit:
		out.Kind, out.Digit = line.Digit, e.Digit
	case pulse.KindFlash:
		out.Kind = line.Flash
	case pulse.KindOnHook:
		out.Kind = line.OnHook
	case pulse.KindOffHook:
		out.Kind = line.OffHook
	default:
		out.Kind, out.Reason = line.DigitError, e.String()
	}
	return out
}
