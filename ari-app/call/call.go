package call

import (
	"time"

	"github.com/kurodenwa/kurodenwa/internal/route"
)

// call is one live call: its legs, bridges, playback and timers.
type call struct {
	id      string
	dir     Direction
	state   State
	dialled string
	// legs holds every leg the call ever had, gone ones included, so the
	// final record lists all parties.
	legs []*leg

	// caller waits for an answer (Ringing, Queued) or hears the final tone
	// (Signalling). phone, held and consult are the hook-flash parties.
	caller, phone, held, consult *leg
	// referrer is the transferer of a REFER being carried out (its
	// target rings for caller, the transferee); nil otherwise. The call's
	// number and route before it are restored if the transfer fails.
	referrer      *leg
	preReferDial  string
	preReferRoute route.Decision

	bridge string // mixing bridge, "" until needed
	hold   string // holding bridge, "" until needed
	moh    bool   // music on hold is playing in hold

	route         route.Decision
	member        int // inorder: index of the endpoint ringing now
	fallbackTried bool
	outcome       outcome
	alerted       bool // the caller was told the target rings
	queued        bool // the call has waited in a queue
	queuedFor     string

	digits     []byte
	playback   string
	playOn     *leg
	announcing bool // the playback's end moves the call on
	exitCause  int  // cause for the caller at the end of Signalling

	timers [timerKinds]string

	created, answered, ended time.Time
	result                   Result
	reason                   string
}

// leg is one channel of a call.
type leg struct {
	channel  string
	endpoint string
	number   string
	role     Role
	state    LegState
	bridge   string // the bridge the leg is in, "" if none
	phone    Phone
	early    bool // progress (183) was sent on this leg
}

func (l *leg) live() bool { return l != nil && l.state != LegGone }

// outcome gathers why dialled legs ended, to pick the caller's signal once
// all of them have.
type outcome struct {
	busy, noAnswer bool
	cause          int
}

func (o *outcome) add(cause int) {
	switch cause {
	case causeBusy:
		o.busy = true
	case causeNoAnswer, causeNoUserResponse:
		o.noAnswer = true
	default:
		if o.cause == 0 {
			o.cause = cause
		}
	}
}

// Q.850 causes the engine uses.
const (
	causeUnallocated     = 1
	causeNoRoute         = 3
	causeNormal          = 16
	causeBusy            = 17
	causeNoUserResponse  = 18
	causeNoAnswer        = 19
	causeSubscriberAbsnt = 20
	causeRejected        = 21
	causeAnsweredElse    = 26
	causeCongestion      = 34
	causeTemporary       = 41
)

// liveParties counts the legs joined in the bridge and returns the last.
func (c *call) liveParties() (int, *leg) {
	n, last := 0, (*leg)(nil)
	for _, l := range c.legs {
		if l.live() && l.role == RoleParty {
			n, last = n+1, l
		}
	}
	return n, last
}

// liveTargets counts the legs still being dialled for the caller.
func (c *call) liveTargets() int {
	n := 0
	for _, l := range c.legs {
		if l.live() && l.role == RoleTarget {
			n++
		}
	}
	return n
}

// otherParty is the one live party that is not l, if there is exactly one.
func (c *call) otherParty(l *leg) *leg {
	var other *leg
	for _, p := range c.legs {
		if p == l || !p.live() || p.role != RoleParty {
			continue
		}
		if other != nil {
			return nil
		}
		other = p
	}
	return other
}

// callLeg names a leg together with its call.
type callLeg struct {
	c *call
	l *leg
}

// settling reports whether a call simply talks (or waits for a transfer's
// replacement), where a party leaving by transfer is no reason to act.
func (c *call) settling() bool { return c.state == StateTalking || c.state == StateTransferring }
