package phone

import (
	"fmt"

	"github.com/kurodenwa/kurodenwa/pi-gateway/line"
)

// CallID names one call. The machine makes the IDs of outgoing calls
// ("out-1", "out-2", …); the network side names incoming calls (the SIP
// Call-ID, say). Events for a call other than the current one are stale
// and ignored, except Incoming.
type CallID string

// EventKind is what happened.
type EventKind uint8

// Line events (from line.Line), network events (from the SIP side) and
// timer expiries.
const (
	OffHook      EventKind = iota + 1 // handset lifted
	OnHook                            // handset replaced
	Flash                             // hook flash
	Digit                             // a dialled digit (Event.Digit)
	DigitError                        // a pulse train that broke the rules
	Incoming                          // a call arrives (Event.Call, Event.From)
	Alerting                          // the far end rings (180 without media)
	EarlyMedia                        // the far end sends audio before answer (183)
	Answered                          // the far end answered (200)
	RemoteHangup                      // the far end ended the call (BYE, CANCEL)
	Busy                              // the far end is busy (486, 600)
	Failed                            // the call failed otherwise (Event.Status)
	TimerExpired                      // a timer started by CmdStartTimer ran out
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
	case Incoming:
		return "incoming"
	case Alerting:
		return "alerting"
	case EarlyMedia:
		return "early-media"
	case Answered:
		return "answered"
	case RemoteHangup:
		return "remote-hangup"
	case Busy:
		return "busy"
	case Failed:
		return "failed"
	case TimerExpired:
		return "timer"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// IsNetwork reports whether k comes from the network side.
func (k EventKind) IsNetwork() bool { return k >= Incoming && k <= Failed }

// Event is one input to the Machine.
type Event struct {
	Kind   EventKind
	Digit  byte   // Digit: '0'–'9' (also '*', '#', 'A'–'D' from other sources)
	Call   CallID // network events
	From   string // Incoming: the caller, for the log
	Status int    // Busy, Failed, RemoteHangup: the SIP status, 0 if none
	Reason string // DigitError, Failed, RemoteHangup: why, for the log
	Timer  Timer  // TimerExpired
	Seq    uint64 // TimerExpired: the Seq of the CmdStartTimer
}

func (e Event) String() string {
	switch e.Kind {
	case Digit:
		return fmt.Sprintf("digit %c", e.Digit)
	case DigitError:
		return "digit-error: " + e.Reason
	case Incoming:
		return fmt.Sprintf("incoming %s from %q", e.Call, e.From)
	case Busy, Failed, RemoteHangup:
		return fmt.Sprintf("%v %s status %d %s", e.Kind, e.Call, e.Status, e.Reason)
	case TimerExpired:
		return fmt.Sprintf("timer %v #%d", e.Timer, e.Seq)
	}
	if e.Kind.IsNetwork() {
		return fmt.Sprintf("%v %s", e.Kind, e.Call)
	}
	return e.Kind.String()
}

// FromLine converts a line event. A digit outside 0–9 becomes DigitError.
func FromLine(e line.Event) Event {
	switch e.Kind {
	case line.OffHook:
		return Event{Kind: OffHook}
	case line.OnHook:
		return Event{Kind: OnHook}
	case line.Flash:
		return Event{Kind: Flash}
	case line.Digit:
		if e.Digit >= 0 && e.Digit <= 9 {
			return Event{Kind: Digit, Digit: byte('0' + e.Digit)}
		}
		return Event{Kind: DigitError, Reason: fmt.Sprintf("digit %d out of range", e.Digit)}
	}
	return Event{Kind: DigitError, Reason: e.Reason}
}
