package call

import (
	"github.com/kurodenwa/kurodenwa/internal/route"
)

// onStasisStart places a channel that entered the application: one of our
// dial legs (nothing to do: it is dialled already), a channel swapped in by
// a transfer, or a new call described by its Stasis arguments.
func (e *Engine) onStasisStart(ev Event) {
	if ev.Channel == "" {
		return
	}
	if _, known := e.channels[ev.Channel]; known {
		return
	}
	if _, dead := e.retired[ev.Channel]; dead {
		return
	}
	if ev.ReplaceChannel != "" {
		if c, old := e.leg(ev.ReplaceChannel); old != nil {
			e.replace(c, old, ev)
			return
		}
	}
	var dir Direction
	switch {
	case len(ev.Args) != 3 || ev.Args[1] == "" || ev.Args[2] == "":
		e.emit(nil, Command{Kind: CmdContinue, Channel: ev.Channel, Reason: "stasis arguments are not inbound|outbound,endpoint,number"})
		return
	case ev.Args[0] == "inbound":
		dir = Inbound
	case ev.Args[0] == "outbound":
		dir = Outbound
	default:
		e.emit(nil, Command{Kind: CmdContinue, Channel: ev.Channel, Reason: "unknown direction " + ev.Args[0]})
		return
	}
	e.startCall(ev, dir, ev.Args[1], ev.Args[2])
}

// startCall routes a new call and starts ringing or refuses it.
func (e *Engine) startCall(ev Event, dir Direction, endpoint, number string) {
	c := e.newCall(dir)
	state := LegPending
	if ev.State == ChannelUp {
		state = LegUp
	}
	c.caller = e.addLeg(c, ev.Channel, endpoint, ev.CallerNumber, RoleCaller, state)
	c.dialled = number
	if ev.Endpoint == endpoint { // the softphone's own PJSIP channel, not a Local channel on its behalf
		e.takeTransfers(c, c.caller)
	}
	d := e.router.Route(route.Request{Endpoint: endpoint, Dialled: number, Hops: ev.Hops, Path: ev.Path})
	if d.Kind == route.Reject {
		tone := d.Tone
		if tone == "" {
			tone = "congestion"
		}
		e.refuse(c, d.Cause, tone, ResultRejected, d.Reason)
		return
	}
	e.ring(c, d)
}

// onLeftApp: a channel left the application on its own (a transfer sent it
// to the dialplan). It is no longer ours to hang up.
func (e *Engine) onLeftApp(channel string) {
	if c, l := e.leg(channel); l != nil {
		e.legEnded(c, l, 0)
	}
}

func (e *Engine) onChannelState(ev Event) {
	c, l := e.leg(ev.Channel)
	if !l.live() {
		return
	}
	switch ev.State {
	case ChannelRinging:
		e.alerting(c, l)
	case ChannelUp:
		e.legUp(c, l)
	}
}

func (e *Engine) onDial(ev Event) {
	c, l := e.leg(ev.Channel)
	if !l.live() {
		return
	}
	switch ev.DialStatus {
	case DialRinging:
		e.alerting(c, l)
	case DialProgress:
		e.earlyMedia(c, l)
	case DialAnswer:
		e.legUp(c, l)
	case DialBusy:
		e.dialFailed(c, l, causeBusy)
	case DialNoAnswer:
		e.dialFailed(c, l, causeNoAnswer)
	case DialCongestion:
		e.dialFailed(c, l, causeCongestion)
	case DialChanUnavail:
		cause := ev.Cause
		if cause == 0 {
			cause = causeSubscriberAbsnt
		}
		e.dialFailed(c, l, cause)
	}
}

// dialFailed: Asterisk ends a failed dial leg itself; the engine hangs it
// up as well so that no leg outlives its call even if it does not.
func (e *Engine) dialFailed(c *call, l *leg, cause int) {
	if l.role != RoleTarget && l.role != RoleConsult {
		return
	}
	e.emit(c, Command{Kind: CmdHangup, Channel: l.channel, Cause: cause, Reason: "dial failed"})
	e.legEnded(c, l, cause)
}

// legUp: a leg was answered (or found answered).
func (e *Engine) legUp(c *call, l *leg) {
	switch {
	case c.state == StateRinging && l.role == RoleTarget:
		e.answered(c, l)
	case c.state == StateConsulting && l == c.consult:
		e.consultAnswered(c)
	default:
		l.state = LegUp
	}
}

// legEnded: a leg hung up, was destroyed, or left the application.
func (e *Engine) legEnded(c *call, l *leg, cause int) {
	if e.drop(c, l) {
		e.afterLegEnded(c, l, cause)
	}
}

// afterLegEnded moves a call on after one of its legs was dropped.
func (e *Engine) afterLegEnded(c *call, l *leg, cause int) {
	if l.role == RoleTransferer {
		// It handed its party over: the call goes on without it.
		if c.referrer == l {
			c.referrer = nil
		}
		for _, o := range c.legs {
			if o.live() && o.role == RoleTransferer {
				return
			}
		}
		e.cancelTimer(c, timerRefer)
		return
	}
	switch c.state {
	case StateRinging:
		switch l.role {
		case RoleCaller:
			e.transferProgress(c, c.referrer, TransferDeclined, "the transferee hung up")
			e.finish(c, ResultAbandoned, "caller hung up before an answer")
		case RoleTarget:
			e.targetEnded(c, cause)
		}
	case StateQueued:
		if l == c.caller {
			e.finish(c, ResultAbandoned, "caller hung up while queued")
		}
	case StateTalking:
		e.partyLeft(c)
	case StateSignalling:
		if l == c.caller {
			e.finish(c, ResultCompleted, "hung up during a tone")
		}
	case StateTransferring:
		e.settleTransfer(c, false)
	case StateDialTone, StateConsulting, StateConsultTalking, StateConsultFailed:
		e.flashLegEnded(c, l, cause)
	}
}

func (e *Engine) onPlaybackFinished(id string) {
	c, ok := e.playbacks[id]
	if !ok || c.playback != id {
		return
	}
	announcing := c.announcing
	delete(e.playbacks, id)
	c.playback, c.playOn, c.announcing = "", nil, false
	// A tone that ends on its own (a zone missing from indications.conf)
	// changes nothing: the state's timer still bounds it.
	if announcing && c.state == StateSignalling {
		e.hangup(c, c.caller, c.exitCause, "announcement finished")
		e.finish(c, ResultCompleted, "announcement finished")
	}
}

func (e *Engine) onTimer(id string) {
	ref, ok := e.timers[id]
	if !ok {
		return
	}
	delete(e.timers, id)
	c := ref.call
	if c.timers[ref.kind] != id {
		return
	}
	c.timers[ref.kind] = ""
	switch ref.kind {
	case timerRing:
		switch c.state {
		case StateRinging:
			e.ringTimeout(c)
		case StateConsulting:
			e.consultFailed(c, "hangup", "no answer")
		}
	case timerQueue:
		if c.state == StateQueued {
			e.unqueue(c)
			e.refuse(c, causeBusy, "busy", ResultQueueTimeout, "waited the longest time allowed")
		}
	case timerRetry:
		if c.state == StateQueued {
			e.pumps = append(e.pumps, c.queuedFor)
		}
	case timerTone:
		switch c.state {
		case StateSignalling:
			e.hangup(c, c.caller, c.exitCause, "tone limit")
			e.finish(c, ResultCompleted, "tone limit")
		case StateConsultFailed:
			e.returnToHeld(c)
		}
	case timerDigits:
		if c.state == StateDialTone {
			e.digitsTimeout(c)
		}
	case timerHold:
		switch c.state {
		case StateDialTone, StateConsulting, StateConsultTalking, StateConsultFailed:
			e.returnToHeld(c)
		}
	case timerTransfer:
		if c.state == StateTransferring {
			e.settleTransfer(c, true)
		}
	case timerRefer:
		for _, l := range c.legs {
			if l.role == RoleTransferer && l != c.referrer {
				e.hangup(c, l, causeNormal, "transfer done; the transferer did not hang up")
			}
		}
	}
}
