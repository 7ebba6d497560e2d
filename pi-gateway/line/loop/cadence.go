package loop

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
)

// ErrCadence is wrapped by every invalid-cadence error.
var ErrCadence = errors.New("loop: invalid ring cadence")

// CheckCadence accepts on/off pairs of positive durations.
func CheckCadence(c []time.Duration) error {
	if len(c) == 0 || len(c)%2 != 0 {
		return fmt.Errorf("%w: %v: want on/off pairs", ErrCadence, c)
	}
	for _, d := range c {
		if d <= 0 {
			return fmt.Errorf("%w: %v: every step must be positive", ErrCadence, c)
		}
	}
	return nil
}

// Ringer switches a bell relay on and off with a cadence on a clock.
type Ringer struct {
	mu      sync.Mutex
	clk     clock.Clock
	set     func(on bool) error
	onError func(error)
	cadence []time.Duration
	step    int
	timer   clock.Timer
	gen     uint64 // bumped on every start and stop, so a stale step is ignored
	ringing bool
}

// NewRinger drives the relay through set; errors from steps after the
// first go to onError (which may be nil).
func NewRinger(clk clock.Clock, set func(on bool) error, onError func(error)) *Ringer {
	return &Ringer{clk: clk, set: set, onError: onError}
}

// Start rings with the cadence from its first (on) step, replacing any
// cadence in progress.
func (r *Ringer) Start(cadence []time.Duration) error {
	if err := CheckCadence(cadence); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopLocked()
	r.cadence = append(r.cadence[:0], cadence...)
	r.step = 0
	r.ringing = true
	if err := r.set(true); err != nil {
		r.ringing = false
		return fmt.Errorf("ringer on: %w", err)
	}
	r.schedule()
	return nil
}

// Stop silences the bell.
func (r *Ringer) Stop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopLocked()
	if err := r.set(false); err != nil {
		return fmt.Errorf("ringer off: %w", err)
	}
	return nil
}

// Ringing reports whether a cadence is running.
func (r *Ringer) Ringing() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ringing
}

func (r *Ringer) stopLocked() {
	r.gen++
	r.ringing = false
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
}

// schedule arms the end of the current step; r.mu must be held.
func (r *Ringer) schedule() {
	gen := r.gen
	r.timer = r.clk.AfterFunc(r.cadence[r.step], func() { r.next(gen) })
}

func (r *Ringer) next(gen uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if gen != r.gen || !r.ringing {
		return
	}
	r.step = (r.step + 1) % len(r.cadence)
	if err := r.set(r.step%2 == 0); err != nil && r.onError != nil {
		r.onError(fmt.Errorf("ringer step %d: %w", r.step, err))
	}
	r.schedule()
}
