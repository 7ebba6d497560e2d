// Package line is the telephone line as the gateway sees it: hook and dial
// events from the phone, and the outputs that drive it (bell, polarity,
// speech path). Each backend (Linux GPIO, an Arduino over serial, the
// simulated phone) implements Line; everything above works the same on all.
package line

import (
	"context"
	"fmt"
	"time"
)

// EventKind is what happened on the line.
type EventKind uint8

// Line events.
const (
	OffHook    EventKind = iota + 1 // the handset was lifted (also answers ringing)
	OnHook                          // the handset was replaced
	Flash                           // a hook flash (a short on-hook within the flash window)
	Digit                           // a dialled digit
	DigitError                      // a pulse train that broke the rules; never guessed
)

func (k EventKind) String() string {
	switch k {
	case OffHook:
		return "off-hook"
	case OnHook:
		return "on-hook"
	case Flash:
		return "flash"
	case Digit:
		return "digit"
	case DigitError:
		return "digit-error"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is one thing the phone did.
type Event struct {
	Kind   EventKind
	Digit  int    // 0–9 for Digit
	Reason string // why, for DigitError
	At     time.Time
}

// Line is one telephone line. Events are delivered in order on the channel
// returned by Events, which is closed when the line is closed or fails for
// good (Err then says why). Output methods are safe for concurrent use and
// return when the backend has acted (or failed).
type Line interface {
	Events() <-chan Event
	// Ring starts the bell with the cadence (on, off, on, off, … durations;
	// Japan: 1 s on, 2 s off) until StopRinging, or off-hook (ring trip).
	Ring(ctx context.Context, cadence []time.Duration) error
	StopRinging(ctx context.Context) error
	// Reverse reverses the loop polarity: the answer signal towards the
	// phone, as Japanese exchanges give it.
	Reverse(ctx context.Context, reversed bool) error
	// Talk connects or disconnects the speech path to the Pi's audio.
	Talk(ctx context.Context, on bool) error
	// Idle returns every output to rest: no bell, normal polarity, no talk.
	Idle(ctx context.Context) error
	// Status says, for /health, how the backend is (e.g. "serial
	// /dev/ttyACM0: ready", "gpiochip0: ok", "retrying: …").
	Status() string
	Err() error
	Close() error
}
