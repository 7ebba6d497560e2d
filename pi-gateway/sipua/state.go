package sipua

import (
	"fmt"
	"slices"
	"time"
)

// RegStatus is where registration stands.
type RegStatus uint8

// Registration states.
const (
	RegNone        RegStatus = iota // no registrar configured, or not started
	RegRegistering                  // a REGISTER is under way
	RegRegistered                   // bound until Expires
	RegFailed                       // the last attempt failed; retrying after back-off
	RegStopped                      // unregistered at shutdown
)

func (s RegStatus) String() string {
	switch s {
	case RegNone:
		return "none"
	case RegRegistering:
		return "registering"
	case RegRegistered:
		return "registered"
	case RegFailed:
		return "failed"
	case RegStopped:
		return "stopped"
	}
	return fmt.Sprintf("RegStatus(%d)", uint8(s))
}

// RegState is a snapshot of registration.
type RegState struct {
	Status  RegStatus
	Expires time.Time // when the binding lapses (Registered)
	Retry   time.Time // when the next attempt starts (Failed)
	Contact string
	// LastStatus is the registrar's last final status code (0: none, or a
	// transport error).
	LastStatus int
	Err        error // why it failed
}

// CallDirection says who placed a call.
type CallDirection uint8

// Call directions.
const (
	Outgoing CallDirection = iota + 1
	Incoming
)

func (d CallDirection) String() string {
	switch d {
	case Outgoing:
		return "outgoing"
	case Incoming:
		return "incoming"
	}
	return fmt.Sprintf("CallDirection(%d)", uint8(d))
}

// CallState is a call's (its INVITE dialog's) state.
type CallState uint8

// Call states. Outgoing: Calling → Proceeding → Early → Confirmed;
// incoming: Ringing → Answering → Confirmed; both end Terminating → Ended.
const (
	StateCalling     CallState = iota + 1 // INVITE sent, nothing heard
	StateProceeding                       // 100 Trying
	StateEarly                            // 18x: ringing or early media
	StateRinging                          // incoming: 180 sent, waiting for Answer
	StateAnswering                        // incoming: 200 sent, waiting for ACK
	StateConfirmed                        // talking
	StateTerminating                      // CANCEL or BYE sent
	StateEnded
)

func (s CallState) String() string {
	switch s {
	case StateCalling:
		return "calling"
	case StateProceeding:
		return "proceeding"
	case StateEarly:
		return "early"
	case StateRinging:
		return "ringing"
	case StateAnswering:
		return "answering"
	case StateConfirmed:
		return "confirmed"
	case StateTerminating:
		return "terminating"
	case StateEnded:
		return "ended"
	}
	return fmt.Sprintf("CallState(%d)", uint8(s))
}

// nextStates lists a state's legal next states: the dialog state machines
// of RFC 3261 §13 and §17 as the gateway lives them.
func nextStates(s CallState) []CallState {
	switch s {
	case StateCalling:
		return []CallState{StateProceeding, StateEarly, StateConfirmed, StateTerminating, StateEnded}
	case StateProceeding:
		return []CallState{StateEarly, StateConfirmed, StateTerminating, StateEnded}
	case StateEarly:
		return []CallState{StateConfirmed, StateTerminating, StateEnded}
	case StateRinging:
		return []CallState{StateAnswering, StateEnded}
	case StateAnswering:
		return []CallState{StateConfirmed, StateTerminating, StateEnded}
	case StateConfirmed:
		return []CallState{StateTerminating, StateEnded}
	case StateTerminating:
		// A 2xx can cross our CANCEL: the call is ACKed, then BYE follows.
		return []CallState{StateConfirmed, StateEnded}
	}
	return nil
}

// canMove reports whether from → to is legal.
func canMove(from, to CallState) bool {
	return slices.Contains(nextStates(from), to)
}

// EventKind is what a CallEvent reports.
type EventKind uint8

// Call events, in the order a call meets them.
const (
	EventTrying     EventKind = iota + 1 // 100 Trying: the far end has the call
	EventRinging                         // 180 (or 183 without media): play local ringback
	EventEarlyMedia                      // 18x with SDP: audio flows, stop local ringback
	EventAnswered                        // 2xx and ACK: talking
	EventHeld                            // the far end put the call on hold
	EventResumed                         // the far end took it off hold
	EventDTMF                            // a digit arrived (RFC 4733 or SIP INFO)
	EventEnded                           // the call is over; the last event
)

func (k EventKind) String() string {
	switch k {
	case EventTrying:
		return "trying"
	case EventRinging:
		return "ringing"
	case EventEarlyMedia:
		return "early-media"
	case EventAnswered:
		return "answered"
	case EventHeld:
		return "held"
	case EventResumed:
		return "resumed"
	case EventDTMF:
		return "dtmf"
	case EventEnded:
		return "ended"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// EndCause says why a call ended.
type EndCause uint8

// End causes.
const (
	CauseLocalHangup  EndCause = iota + 1 // Hangup: BYE or CANCEL sent
	CauseRemoteHangup                     // BYE received
	CauseCancelled                        // the caller gave up before answer (CANCEL received)
	CauseRejected                         // the far end refused our INVITE (Status says how: 486 busy, 404 …)
	CauseDeclined                         // Reject: we refused an incoming call
	CauseFailed                           // timeout, transport error, no ACK, bad SDP (Reason says)
	CauseShutdown                         // the UA stopped
)

func (c EndCause) String() string {
	switch c {
	case CauseLocalHangup:
		return "local-hangup"
	case CauseRemoteHangup:
		return "remote-hangup"
	case CauseCancelled:
		return "cancelled"
	case CauseRejected:
		return "rejected"
	case CauseDeclined:
		return "declined"
	case CauseFailed:
		return "failed"
	case CauseShutdown:
		return "shutdown"
	}
	return fmt.Sprintf("EndCause(%d)", uint8(c))
}

// CallEvent is one thing that happened to a call.
type CallEvent struct {
	Kind   EventKind
	At     time.Time
	Status int      // SIP status: of the 1xx for Ringing/EarlyMedia, the final one for Ended
	Reason string   // the reason phrase or why it failed
	Cause  EndCause // for EventEnded
	Digit  byte     // for EventDTMF
}

func (e CallEvent) String() string {
	switch e.Kind {
	case EventEnded:
		return fmt.Sprintf("ended(%s %d %s)", e.Cause, e.Status, e.Reason)
	case EventDTMF:
		return fmt.Sprintf("dtmf(%c)", e.Digit)
	case EventRinging, EventEarlyMedia:
		return fmt.Sprintf("%s(%d)", e.Kind, e.Status)
	}
	return e.Kind.String()
}
