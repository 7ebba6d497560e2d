// Package clock lets the gateway's timers run on real time in the daemon and
// on a clock the tests move by hand, so that no test sleeps or depends on
// how fast the machine is.
package clock

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock tells the time and runs functions later.
type Clock interface {
	Now() time.Time
	// AfterFunc runs f in its own goroutine (Real) or in the goroutine
	// that advances the clock (Manual) once d has passed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop prevents the function from running; it reports whether it did.
	Stop() bool
}

// Real is the system clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// AfterFunc is time.AfterFunc.
func (Real) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// Sleep waits for d on c, or until ctx ends; it returns ctx's error then.
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	done := make(chan struct{})
	t := c.AfterFunc(d, func() { close(done) })
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
}

// Manual is a clock that moves only when Advance is called. Functions that
// fall due run in Advance's goroutine, in time order, with Now set to their
// due time. It is safe for concurrent use.
type Manual struct {
	mu      sync.Mutex
	now     time.Time
	seq     uint64
	pending []*manualTimer
	changed chan struct{} // closed and replaced whenever pending changes
}

type manualTimer struct {
	m   *Manual
	at  time.Time
	seq uint64 // keeps timers due at the same time in creation order
	f   func()
}

// NewManual returns a Manual clock reading start.
func NewManual(start time.Time) *Manual {
	return &Manual{now: start, changed: make(chan struct{})}
}

// Now returns the clock's time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// AfterFunc schedules f at Now()+d.
func (m *Manual) AfterFunc(d time.Duration, f func()) Timer {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	t := &manualTimer{m: m, at: m.now.Add(d), seq: m.seq, f: f}
	m.pending = append(m.pending, t)
	m.notify()
	return t
}

func (t *manualTimer) Stop() bool {
	m := t.m
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, p := range m.pending {
		if p == t {
			m.pending = append(m.pending[:i], m.pending[i+1:]...)
			m.notify()
			return true
		}
	}
	return false
}

// notify wakes WaitForTimers; m.mu must be held.
func (m *Manual) notify() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// Advance moves the clock forward by d, running every function that falls
// due on the way, including ones scheduled by those functions.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	end := m.now.Add(d)
	m.mu.Unlock()
	m.AdvanceTo(end)
}

// AdvanceTo moves the clock to t (never backwards); see Advance.
func (m *Manual) AdvanceTo(t time.Time) {
	for {
		m.mu.Lock()
		sort.Slice(m.pending, func(i, j int) bool {
			a, b := m.pending[i], m.pending[j]
			if !a.at.Equal(b.at) {
				return a.at.Before(b.at)
			}
			return a.seq < b.seq
		})
		if len(m.pending) == 0 || m.pending[0].at.After(t) {
			if t.After(m.now) {
				m.now = t
			}
			m.mu.Unlock()
			return
		}
		next := m.pending[0]
		m.pending = m.pending[1:]
		if next.at.After(m.now) {
			m.now = next.at
		}
		m.notify()
		m.mu.Unlock()
		next.f()
	}
}

// Pending returns how many functions wait to run.
func (m *Manual) Pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending)
}

// Next returns how long until the earliest pending function is due, and
// false if none is pending.
func (m *Manual) Next() (time.Duration, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.pending) == 0 {
		return 0, false
	}
	first := m.pending[0].at
	for _, p := range m.pending[1:] {
		if p.at.Before(first) {
			first = p.at
		}
	}
	return first.Sub(m.now), true
}

// WaitForTimers blocks until at least n functions are pending or ctx ends,
// so a test can move the clock once a goroutine has armed its timer.
func (m *Manual) WaitForTimers(ctx context.Context, n int) error {
	for {
		m.mu.Lock()
		count, ch := len(m.pending), m.changed
		m.mu.Unlock()
		if count >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
