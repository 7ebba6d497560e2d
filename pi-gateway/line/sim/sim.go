// Package sim is a simulated telephone line: a handset that can be lifted,
// replaced and flashed, and a rotary dial that sends real pulse trains
// (pulse.Generator) through the same decoder the GPIO backend uses. Tests
// drive it on a manual clock; the terminal phone runs it on real time.
package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/loop"
	"github.com/kurodenwa/kurodenwa/pi-gateway/pulse"
)

// Outputs is what the gateway asks of the line, as the phone would feel it.
type Outputs struct {
	Ringing  bool
	Cadence  []time.Duration // while Ringing
	Reversed bool
	Talk     bool
}

func (o Outputs) String() string {
	var parts []string
	if o.Ringing {
		parts = append(parts, fmt.Sprintf("ringing %v", o.Cadence))
	}
	if o.Reversed {
		parts = append(parts, "reversed")
	}
	if o.Talk {
		parts = append(parts, "talk")
	}
	if len(parts) == 0 {
		return "idle"
	}
	return strings.Join(parts, ", ")
}

// Options configure a simulated line. The zero value is a Japanese line on
// real time with a 10 pps dial.
type Options struct {
	Pulse pulse.Config    // the decoder's rules; default pulse.DefaultJapan()
	Dial  pulse.Generator // the dial; default 10 pps, standard encoding
	// FlashLength is how long Flash opens the loop; default the middle of
	// the decoder's flash window.
	FlashLength time.Duration
	Clock       clock.Clock // default clock.Real
	// OnChange, if set, sees the outputs after every change. It is called
	// with the line's lock held: it must not call back into the Line.
	OnChange func(Outputs)
	// OnEdge, if set, sees every raw loop edge (for showing pulses).
	OnEdge func(pulse.State)
}

// ErrOffHook is Ring's error when the handset is up, as the Arduino's.
var ErrOffHook = errors.New("sim: off hook")

// ErrOnHook is Dial's and Flash's error when the handset is down.
var ErrOnHook = errors.New("sim: on hook")

// Line is a simulated line. It implements line.Line.
type Line struct {
	opts   Options
	clk    clock.Clock
	queue  *loop.Queue
	driver *loop.Driver

	mu      sync.Mutex
	loop    pulse.State   // the raw loop: Make when the handset is up
	out     Outputs       // what the gateway asked for
	pending []pulse.Edge  // dial edges still to come, At since epoch
	busy    time.Duration // when the last queued digit's pause ends, since epoch
	timer   clock.Timer
	epoch   time.Time
	closed  bool
}

var _ line.Line = (*Line)(nil)

// New returns an idle line with the handset on hook.
func New(opts Options) (*Line, error) {
	if len(opts.Pulse.Rates) == 0 {
		opts.Pulse = pulse.DefaultJapan()
	}
	if opts.Dial.PPS == 0 {
		opts.Dial = pulse.GeneratorFor(opts.Pulse.Encoding, pulse.Rate10PPS())
	}
	if err := opts.Dial.Validate(); err != nil {
		return nil, fmt.Errorf("sim: dial: %w", err)
	}
	if opts.FlashLength == 0 {
		opts.FlashLength = (opts.Pulse.FlashMin + opts.Pulse.FlashMax) / 2
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	l := &Line{opts: opts, clk: opts.Clock, queue: loop.NewQueue(), loop: pulse.Break, epoch: opts.Clock.Now()}
	d, err := loop.NewDriver(opts.Pulse, pulse.Break, opts.Clock, l.queue.Push)
	if err != nil {
		l.queue.Close()
		return nil, fmt.Errorf("sim: %w", err)
	}
	l.driver = d
	return l, nil
}

// Lift takes the handset off hook; a ringing bell stops at once (ring trip).
// Dialling in progress is abandoned. The first digit starts no sooner than
// the dial's pause after lifting, as a finger needs to reach the dial.
func (l *Line) Lift() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cancelDial()
	l.setLoop(pulse.Make)
	l.busy = l.clk.Now().Sub(l.epoch) + l.opts.Dial.Pause
}

// Replace puts the handset down.
func (l *Line) Replace() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cancelDial()
	l.setLoop(pulse.Break)
}

// OffHook reports whether the handset is up.
func (l *Line) OffHook() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.loop == pulse.Make
}

// Dial turns the dial for each digit ("0"–"9"), after any digits still
// being dialled. It returns once the pulses are scheduled; they are sent
// as the clock runs.
func (l *Line) Dial(digits string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.loop != pulse.Make && len(l.pending) == 0 {
		return ErrOnHook
	}
	edges, end, err := l.opts.Dial.Dial(digits, 0)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	l.appendEdges(edges, end)
	return nil
}

// Flash opens the loop for FlashLength, after any digits still being
// dialled.
func (l *Line) Flash() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.loop != pulse.Make && len(l.pending) == 0 {
		return ErrOnHook
	}
	n := l.opts.FlashLength
	l.appendEdges([]pulse.Edge{{State: pulse.Break, At: 0}, {State: pulse.Make, At: n}}, n+l.opts.Pulse.FlashMax)
	return nil
}

// Dialling reports whether pulses are still to be sent.
func (l *Line) Dialling() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending) > 0
}

// Outputs returns what the gateway currently asks of the line.
func (l *Line) Outputs() Outputs {
	l.mu.Lock()
	defer l.mu.Unlock()
	o := l.out
	o.Cadence = slices.Clone(o.Cadence)
	return o
}

// appendEdges queues edges (At relative to their own start), starting
// once what is queued, pause included, is over; end is how long they take
// with their own pause. l.mu must be held.
func (l *Line) appendEdges(edges []pulse.Edge, end time.Duration) {
	start := max(l.clk.Now().Sub(l.epoch), l.busy)
	for _, e := range edges {
		l.pending = append(l.pending, pulse.Edge{State: e.State, At: start + e.At})
	}
	l.busy = start + end
	if l.timer == nil {
		l.schedule()
	}
}

// schedule arms the timer for the next pending edge; l.mu must be held.
func (l *Line) schedule() {
	if len(l.pending) == 0 || l.closed {
		l.timer = nil
		return
	}
	wait := l.pending[0].At - l.clk.Now().Sub(l.epoch)
	if wait < 0 {
		wait = 0
	}
	// The function learns its own timer through a channel: on the real
	// clock it may run before AfterFunc has returned.
	self := make(chan clock.Timer, 1)
	t := l.clk.AfterFunc(wait, func() { l.fire(<-self) })
	self <- t
	l.timer = t
}

func (l *Line) fire(self clock.Timer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer != self || len(l.pending) == 0 {
		return
	}
	e := l.pending[0]
	l.pending = l.pending[1:]
	// Stamped when the edge was due, not when the timer ran: a real dial's
	// pulses keep their speed however busy the Pi is, and the GPIO backend
	// stamps edges with the kernel's time in the same way.
	l.setLoopAt(e.State, l.epoch.Add(e.At))
	l.schedule()
}

// cancelDial drops pending edges; l.mu must be held.
func (l *Line) cancelDial() {
	l.pending = nil
	l.busy = 0
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
}

// setLoop changes the raw loop now; l.mu must be held.
func (l *Line) setLoop(s pulse.State) { l.setLoopAt(s, l.clk.Now()) }

// setLoopAt changes the raw loop, stamped at; l.mu must be held.
func (l *Line) setLoopAt(s pulse.State, at time.Time) {
	if l.closed || s == l.loop {
		return
	}
	l.loop = s
	if l.opts.OnEdge != nil {
		l.opts.OnEdge(s)
	}
	if s == pulse.Make && l.out.Ringing {
		// Ring trip: the exchange stops the bell the moment the loop
		// closes, before any event is decoded.
		l.out.Ringing, l.out.Cadence = false, nil
		l.changed()
	}
	l.driver.EdgeAt(s, at)
}

func (l *Line) changed() {
	if l.opts.OnChange != nil {
		o := l.out
		o.Cadence = slices.Clone(o.Cadence)
		l.opts.OnChange(o)
	}
}

// Events delivers the decoded line events.
func (l *Line) Events() <-chan line.Event { return l.queue.Events() }

// Ring starts the bell; it fails with ErrOffHook if the handset is up.
func (l *Line) Ring(_ context.Context, cadence []time.Duration) error {
	if err := loop.CheckCadence(cadence); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.loop == pulse.Make {
		return ErrOffHook
	}
	l.out.Ringing, l.out.Cadence = true, slices.Clone(cadence)
	l.changed()
	return nil
}

// StopRinging silences the bell.
func (l *Line) StopRinging(context.Context) error {
	l.set(func(o *Outputs) { o.Ringing, o.Cadence = false, nil })
	return nil
}

// Reverse sets the loop polarity.
func (l *Line) Reverse(_ context.Context, reversed bool) error {
	l.set(func(o *Outputs) { o.Reversed = reversed })
	return nil
}

// Talk connects or disconnects the speech path.
func (l *Line) Talk(_ context.Context, on bool) error {
	l.set(func(o *Outputs) { o.Talk = on })
	return nil
}

// Idle returns every output to rest.
func (l *Line) Idle(context.Context) error {
	l.set(func(o *Outputs) { *o = Outputs{} })
	return nil
}

func (l *Line) set(f func(*Outputs)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	before := l.out
	f(&l.out)
	if before.Ringing != l.out.Ringing || before.Reversed != l.out.Reversed || before.Talk != l.out.Talk ||
		!slices.Equal(before.Cadence, l.out.Cadence) {
		l.changed()
	}
}

// Status describes the line for /health.
func (l *Line) Status() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	hook := "on hook"
	if l.loop == pulse.Make {
		hook = "off hook"
	}
	return fmt.Sprintf("sim: %s, %v", hook, l.out)
}

// Err is always nil: a simulated line does not fail.
func (l *Line) Err() error { return nil }

// Close stops the line and closes the event channel.
func (l *Line) Close() error {
	l.mu.Lock()
	l.closed = true
	l.cancelDial()
	l.mu.Unlock()
	l.driver.Close()
	l.queue.Close()
	return nil
}
