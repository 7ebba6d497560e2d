package call

import (
	"time"

	"github.com/kurodenwa/kurodenwa/internal/route"
	"github.com/kurodenwa/kurodenwa/internal/site"
)

// ring starts dialling a destination for c.caller. The caller is not
// answered: it hears ringing by indication or early media until a target
// answers (unless it already waits answered, in a queue or a transfer).
func (e *Engine) ring(c *call, d route.Decision) {
	c.route, c.member, c.outcome, c.state = d, 0, outcome{}, StateRinging
	switch d.Kind {
	case route.Local:
		if len(d.Endpoints) == 0 {
			e.refuse(c, causeNoRoute, "congestion", ResultFailed, "destination has no endpoints")
			return
		}
		if e.queueable(c) && e.busy[d.Endpoints[0]] > 0 {
			e.enqueue(c, false, false)
			return
		}
		if d.Strategy == site.StrategyInOrder {
			if !e.nextMember(c, 0) {
				e.busyTarget(c)
				return
			}
			e.startTimer(c, timerRing, memberTimeout(d, e.cfg.RingTimeout))
			return
		}
		dialled := 0
		for _, ep := range d.Endpoints {
			if e.free(ep) {
				e.dialEndpoint(c, ep, ringTimeout(d, e.cfg.RingTimeout))
				dialled++
			}
		}
		if dialled == 0 {
			e.busyTarget(c)
			return
		}
		e.startTimer(c, timerRing, ringTimeout(d, e.cfg.RingTimeout))
	case route.Peer, route.PSTN:
		callerID := d.CallerID
		if callerID == "" {
			callerID = c.caller.number
		}
		t := ringTimeout(d, e.cfg.RingTimeout)
		e.dial(c, d.DialString(), d.Trunk, d.Number, callerID, c.caller, RoleTarget, t)
		e.startTimer(c, timerRing, t)
	default:
		e.refuse(c, causeNoRoute, "congestion", ResultRejected, "no route")
	}
}

func ringTimeout(d route.Decision, def time.Duration) time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return def
}

func memberTimeout(d route.Decision, def time.Duration) time.Duration {
	if d.MemberTimeout > 0 {
		return d.MemberTimeout
	}
	return ringTimeout(d, def)
}

// free reports whether a phone may be rung: a phone that queues its
// callers rings only when it is in no call.
func (e *Engine) free(endpoint string) bool {
	return !e.cfg.Phones[endpoint].Queue || e.busy[endpoint] == 0
}

func (e *Engine) dialEndpoint(c *call, endpoint string, timeout time.Duration) {
	e.dial(c, "PJSIP/"+endpoint, endpoint, e.cfg.Phones[endpoint].Number, c.caller.number, c.caller, RoleTarget, timeout)
}

// nextMember dials the first free inorder member from index from.
func (e *Engine) nextMember(c *call, from int) bool {
	eps := c.route.Endpoints
	for i := from; i < len(eps); i++ {
		if e.free(eps[i]) {
			c.member = i
			e.dialEndpoint(c, eps[i], memberTimeout(c.route, e.cfg.RingTimeout))
			return true
		}
	}
	return false
}

// alerting: a dialled leg rings.
func (e *Engine) alerting(c *call, l *leg) {
	if l.state == LegPending {
		l.state = LegAlerting
	}
	if c.state != StateRinging || l.role != RoleTarget || c.alerted {
		return
	}
	c.alerted = true
	e.stats.setup.observe(e.now.Sub(c.created))
	caller := c.caller
	switch {
	case caller.bridge != "" && caller.bridge == c.hold:
		// Waiting answered in a queue: the music goes on.
	case caller.state == LegUp:
		e.play(c, caller, e.tone("ring"), false)
	case e.ringback(c) == RingbackTone:
		e.progress(c, caller)
		e.play(c, caller, e.tone("ring"), false)
	default:
		e.emit(c, Command{Kind: CmdRing, Channel: caller.channel})
	}
}

func (e *Engine) ringback(c *call) Ringback {
	if c.dir == Outbound {
		return e.cfg.OutboundRingback
	}
	return e.cfg.InboundRingback
}

// earlyMedia: a dialled leg sent 183. With PassEarlyMedia the unanswered
// caller is bridged with it, so the far network's own ringback or
// announcement reaches the caller.
func (e *Engine) earlyMedia(c *call, l *leg) {
	if l.state == LegPending {
		l.state = LegAlerting
	}
	caller := c.caller
	if c.state != StateRinging || l.role != RoleTarget || !e.cfg.PassEarlyMedia ||
		caller.state == LegUp || c.liveTargets() != 1 {
		return
	}
	if !c.alerted {
		c.alerted = true
		e.stats.setup.observe(e.now.Sub(c.created))
	}
	e.stopPlayback(c)
	e.progress(c, caller)
	b := e.mixing(c)
	e.addToBridge(c, caller, b)
	e.addToBridge(c, l, b)
}

// answered: a target answered; the first to do so wins.
func (e *Engine) answered(c *call, l *leg) {
	l.state = LegUp
	for _, o := range c.legs {
		if o != l && o.role == RoleTarget {
			e.hangup(c, o, causeAnsweredElse, "answered elsewhere")
		}
	}
	e.cancelTimers(c)
	e.stopPlayback(c)
	e.unqueue(c)
	caller := c.caller
	e.answer(c, caller)
	b := e.mixing(c)
	e.addToBridge(c, caller, b)
	e.addToBridge(c, l, b)
	caller.role, l.role = RoleParty, RoleParty
	c.caller, c.state = nil, StateTalking
	if c.answered.IsZero() {
		c.answered = e.now
	}
	e.referAnswered(c)
}

// targetEnded: a dialled leg ended before answering.
func (e *Engine) targetEnded(c *call, cause int) {
	c.outcome.add(cause)
	if c.liveTargets() > 0 {
		return
	}
	if c.route.Kind == route.Local && c.route.Strategy == site.StrategyInOrder && e.nextMember(c, c.member+1) {
		e.startTimer(c, timerRing, memberTimeout(c.route, e.cfg.RingTimeout))
		return
	}
	e.exhausted(c)
}

// ringTimeout: nobody answered in time (or this inorder member did not).
func (e *Engine) ringTimeout(c *call) {
	for _, l := range c.legs {
		if l.role == RoleTarget {
			e.hangup(c, l, causeNoAnswer, "ring timeout")
		}
	}
	c.outcome.noAnswer = true
	e.targetEnded(c, causeNoAnswer)
}

// exhausted: every target has ended; the caller gets what fits the worst
// of their outcomes, no answer first, then busy, then failure.
func (e *Engine) exhausted(c *call) {
	e.cancelTimer(c, timerRing)
	switch {
	case c.outcome.noAnswer:
		e.noAnswer(c)
	case c.outcome.busy:
		e.busyTarget(c)
	default:
		cause := c.outcome.cause
		if cause == 0 {
			cause = causeCongestion
		}
		e.refuse(c, cause, "congestion", ResultFailed, "dialling failed")
	}
}

// busyTarget: the target is busy; a phone that queues takes the caller
// into its queue, anything else gives busy.
func (e *Engine) busyTarget(c *call) {
	if e.referFailed(c, causeBusy) {
		return
	}
	if e.queueable(c) {
		e.enqueue(c, c.queued, true)
		return
	}
	e.refuse(c, causeBusy, "busy", ResultBusy, "busy")
}

// noAnswer: the ring timeout's action. An inbound caller goes to the
// fallback destination once, then hears the announcement (if any) and is
// released; a phone that wants it hears the hang-up tone.
func (e *Engine) noAnswer(c *call) {
	if e.referFailed(c, causeNoAnswer) {
		return
	}
	caller := c.caller
	if f := e.cfg.NoAnswer.Fallback; f != nil && c.dir == Inbound && !c.fallbackTried {
		c.fallbackTried = true
		e.ring(c, f.decision())
		return
	}
	switch {
	case caller.phone.HangupTone:
		c.result = ResultNoAnswer
		e.signal(c, caller, e.tone("hangup"), false, causeNoAnswer, e.cfg.HangupToneLimit)
	case e.cfg.NoAnswer.Announcement != "":
		c.result = ResultNoAnswer
		e.signal(c, caller, sound(e.cfg.NoAnswer.Announcement), true, causeNoAnswer, e.cfg.ToneLimit)
	default:
		e.hangup(c, caller, causeNoAnswer, "no answer")
		e.finish(c, ResultNoAnswer, "no answer")
	}
}
