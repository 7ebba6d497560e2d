// Package gpio is the line backend for a line interface wired to the Pi's
// GPIO pins: a loop-current detector on an input (its edges, with the
// kernel's timestamps, go through the pulse decoder) and relays on three
// outputs (ringing generator, polarity reversal, speech path). It uses the
// GPIO character device (github.com/warthog618/go-gpiocdev) through a small
// interface, so the logic is tested without hardware; on a Pi, see
// README.md for the wiring.
package gpio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/loop"
	"github.com/kurodenwa/kurodenwa/pi-gateway/pulse"
)

// Pin names one GPIO line.
type Pin struct {
	// Chip is a chip's name ("gpiochip0") or label ("pinctrl-bcm2711");
	// empty searches every chip for the line's name.
	Chip string
	// Line is the line's name ("GPIO17") or its offset on Chip ("17").
	Line string
	// ActiveLow inverts the line: for the hook input, low means the loop
	// is closed; for a relay, low energises it.
	ActiveLow bool
}

func (p Pin) String() string {
	s := p.Line
	if p.Chip != "" {
		s = p.Chip + ":" + s
	}
	if p.ActiveLow {
		s += " (active low)"
	}
	return s
}

// Bias is the hook input's pull resistor.
type Bias uint8

// Biases.
const (
	BiasNone Bias = iota
	BiasPullUp
	BiasPullDown
)

func (b Bias) String() string {
	switch b {
	case BiasNone:
		return "none"
	case BiasPullUp:
		return "pull-up"
	case BiasPullDown:
		return "pull-down"
	}
	return fmt.Sprintf("Bias(%d)", uint8(b))
}

// Config is the GPIO line's wiring.
type Config struct {
	Hook     Pin  // input: active while loop current flows (handset up)
	HookPull Bias // the hook input's bias
	Ringer   Pin  // output: connects the ringing generator to the line
	Reverse  Pin  // output: reverses the loop polarity
	Talk     Pin  // output: connects the hybrid (sound card) to the line
	Pulse    pulse.Config
}

// Input is a requested input line.
type Input interface {
	Active() (bool, error)
	Close() error
}

// Output is a requested output line.
type Output interface {
	Set(active bool) error
	Close() error
}

// Chips opens GPIO lines. CharDev is the real one; tests fake it.
type Chips interface {
	// Input requests pin with both-edge events; onEdge gets the new state
	// and the kernel's timestamp (a monotonic clock of unknown origin).
	Input(pin Pin, bias Bias, onEdge func(active bool, ts time.Duration)) (Input, error)
	// Output requests pin as an output, initially inactive.
	Output(pin Pin) (Output, error)
}

// Options are the outside world.
type Options struct {
	Chips  Chips        // default CharDev{}
	Clock  clock.Clock  // default clock.Real
	Logger *slog.Logger // default slog.Default()
}

// ErrOffHook is Ring's error when the handset is up.
var ErrOffHook = errors.New("gpio: off hook")

// Line is the GPIO-backed line. It implements line.Line.
type Line struct {
	cfg    Config
	clk    clock.Clock
	log    *slog.Logger
	queue  *loop.Queue
	driver *loop.Driver
	ringer *loop.Ringer

	hook                Input
	ring, reverse, talk Output

	mu       sync.Mutex
	loopUp   bool      // the raw loop is closed
	tsBase   time.Time // kernel timestamp zero on our clock
	haveBase bool
	lastErr  error
	closed   bool
}

var _ line.Line = (*Line)(nil)

// New requests the four lines and starts watching the hook. Errors name
// the pin and the chip that could not be had.
func New(cfg Config, opts Options) (*Line, error) {
	if len(cfg.Pulse.Rates) == 0 {
		cfg.Pulse = pulse.DefaultJapan()
	}
	if opts.Chips == nil {
		opts.Chips = CharDev{}
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	for name, p := range map[string]Pin{"hook": cfg.Hook, "ringer": cfg.Ringer, "reverse": cfg.Reverse, "talk": cfg.Talk} {
		if p.Line == "" {
			return nil, fmt.Errorf("gpio: %s pin: no line configured", name)
		}
	}
	l := &Line{cfg: cfg, clk: opts.Clock, log: opts.Logger.With("component", "line", "backend", "gpio"), queue: loop.NewQueue()}
	var err error
	fail := func(what string, p Pin, e error) (*Line, error) {
		l.closeLines()
		l.queue.Close()
		return nil, fmt.Errorf("gpio: %s pin %v: %w", what, p, e)
	}
	if l.ring, err = opts.Chips.Output(cfg.Ringer); err != nil {
		return fail("ringer", cfg.Ringer, err)
	}
	if l.reverse, err = opts.Chips.Output(cfg.Reverse); err != nil {
		return fail("reverse", cfg.Reverse, err)
	}
	if l.talk, err = opts.Chips.Output(cfg.Talk); err != nil {
		return fail("talk", cfg.Talk, err)
	}
	l.ringer = loop.NewRinger(l.clk, l.ring.Set, func(err error) { l.fault(err) })
	if l.driver, err = loop.NewDriver(cfg.Pulse, pulse.Break, l.clk, l.queue.Push); err != nil {
		return fail("hook", cfg.Hook, err)
	}
	if l.hook, err = opts.Chips.Input(cfg.Hook, cfg.HookPull, l.edge); err != nil {
		l.driver.Close()
		return fail("hook", cfg.Hook, err)
	}
	up, err := l.hook.Active()
	if err != nil {
		l.driver.Close()
		return fail("hook", cfg.Hook, err)
	}
	if up {
		// The machine starts on hook: let the decoder report the lift.
		l.mu.Lock()
		l.loopUp = true
		l.mu.Unlock()
		l.driver.Edge(pulse.Make)
	}
	return l, nil
}

// edge is the hook input's event handler (gpiocdev's goroutine).
func (l *Line) edge(active bool, ts time.Duration) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	now := l.clk.Now()
	if !l.haveBase {
		l.tsBase, l.haveBase = now.Add(-ts), true
	}
	at := l.tsBase.Add(ts)
	if at.After(now) {
		at = now // the two clocks drifted: never report the future
	}
	wasUp := l.loopUp
	l.loopUp = active
	l.mu.Unlock()
	if active && !wasUp && l.ringer.Ringing() {
		// Ring trip: stop the bell the moment loop current flows, before
		// the debounced off-hook, so the ringing voltage meets the
		// handset for milliseconds only.
		if err := l.ringer.Stop(); err != nil {
			l.fault(err)
		}
	}
	state := pulse.Break
	if active {
		state = pulse.Make
	}
	l.driver.EdgeAt(state, at)
}

func (l *Line) fault(err error) {
	l.mu.Lock()
	l.lastErr = err
	l.mu.Unlock()
	l.log.Error("gpio output failed", "err", err)
}

// Events delivers the decoded line events.
func (l *Line) Events() <-chan line.Event { return l.queue.Events() }

// Ring drives the ringer relay with the cadence; ErrOffHook if the
// handset is up.
func (l *Line) Ring(_ context.Context, cadence []time.Duration) error {
	l.mu.Lock()
	up := l.loopUp
	l.mu.Unlock()
	if up {
		return ErrOffHook
	}
	if err := l.ringer.Start(cadence); err != nil {
		return l.outErr("ringer", l.cfg.Ringer, err)
	}
	return nil
}

// StopRinging releases the ringer relay.
func (l *Line) StopRinging(context.Context) error {
	return l.outErr("ringer", l.cfg.Ringer, l.ringer.Stop())
}

// Reverse switches the polarity relay.
func (l *Line) Reverse(_ context.Context, reversed bool) error {
	return l.outErr("reverse", l.cfg.Reverse, l.reverse.Set(reversed))
}

// Talk switches the speech-path relay.
func (l *Line) Talk(_ context.Context, on bool) error {
	return l.outErr("talk", l.cfg.Talk, l.talk.Set(on))
}

// Idle releases every relay.
func (l *Line) Idle(ctx context.Context) error {
	return errors.Join(l.StopRinging(ctx), l.Reverse(ctx, false), l.Talk(ctx, false))
}

func (l *Line) outErr(what string, p Pin, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("gpio: %s pin %v: %w", what, p, err)
	l.fault(err)
	return err
}

// Status says whether the handset is up and the last output error.
func (l *Line) Status() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	hook := "on hook"
	if l.loopUp {
		hook = "off hook"
	}
	s := fmt.Sprintf("gpio hook %v: %s", l.cfg.Hook, hook)
	if l.lastErr != nil {
		s += "; last error: " + l.lastErr.Error()
	}
	return s
}

// Err is nil: an output error is reported by the call that failed and in
// Status.
func (l *Line) Err() error { return nil }

// Close releases the relays and the lines, and closes the event channel.
func (l *Line) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	err := l.Idle(context.Background())
	l.driver.Close()
	err = errors.Join(err, l.closeLines())
	l.queue.Close()
	return err
}

func (l *Line) closeLines() error {
	var errs []error
	if l.hook != nil {
		errs = append(errs, l.hook.Close())
	}
	for _, o := range []Output{l.ring, l.reverse, l.talk} {
		if o != nil {
			errs = append(errs, o.Close())
		}
	}
	return errors.Join(errs...)
}
