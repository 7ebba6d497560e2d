package call

import (
	"github.com/kurodenwa/kurodenwa/internal/route"
)

// Transfers made by Asterisk itself (a softphone's REFER, with the default
// PJSIP transfer handling) are reported after the fact: the transferer's
// legs leave, and channels swap in for them (StasisStart with
// replace_channel: the Local channels that link the bridges), or bridges
// are joined. The engine follows so that its records name the real parties
// and it never hangs up a party that a transfer re-homed. A ChannelTransfer
// (PJSIP_TRANSFER_HANDLING(ari-only)) is the application's to carry out.

// onBlindTransfer: the transferer left; a Local channel (ReplaceChannel)
// took its place in the bridge, or the transferees leave for the dialplan.
func (e *Engine) onBlindTransfer(ev Event) {
	if !ev.TransferOK {
		return
	}
	c, t := e.leg(ev.Channel)
	if !t.live() {
		return
	}
	e.stats.transfers++
	e.handOff(callLeg{c, t})
	if !c.settling() {
		return
	}
	if ev.ReplaceChannel != "" {
		e.swapIn(c, t, ev.ReplaceChannel, "", "", ChannelUp)
	}
	e.settleTransfer(c, false)
}

// onAttendedTransfer: the transferer's two legs left; their far ends are
// now joined in one bridge ("bridge", "threeway") or linked by Local
// channels that swap in for the transferer's legs ("link").
func (e *Engine) onAttendedTransfer(ev Event) {
	if !ev.TransferOK {
		return
	}
	c1, t1 := e.leg(ev.Channel)
	c2, t2 := e.leg(ev.SecondLeg)
	if !t1.live() && !t2.live() {
		return
	}
	e.stats.transfers++
	threeway := ev.DestinationType == "threeway"
	var legs []callLeg
	if t1.live() && !threeway {
		legs = append(legs, callLeg{c1, t1})
	}
	if t2.live() {
		legs = append(legs, callLeg{c2, t2})
	}
	e.handOff(legs...)
	if ev.DestinationType != "link" && c1 != nil && c2 != nil && c1 != c2 && c1.settling() && c2.settling() {
		into, from := c1, c2
		if e.bridges[ev.Bridge] == c2 {
			into, from = c2, c1
		}
		e.merge(into, from, ev.Bridge)
	}
	if ev.ReplaceChannel != "" && !threeway && t1 != nil && c1.settling() {
		e.swapIn(c1, t1, ev.ReplaceChannel, "", "", ChannelUp)
	}
	for _, c := range [...]*call{c1, c2} {
		if c != nil && c.settling() {
			e.settleTransfer(c, false)
		}
	}
}

// handOff lets transferers' legs go without hanging them up: Asterisk owns
// them now. All are dropped before any call reacts, so none is hung up by
// another's reaction. A call that is not simply talking then handles the
// loss as any other leg's end.
func (e *Engine) handOff(legs ...callLeg) {
	var react []callLeg
	for _, x := range legs {
		settling := x.c.settling()
		if e.drop(x.c, x.l) && !settling {
			react = append(react, x)
		}
	}
	for _, x := range react {
		if x.c.state != StateEnded {
			e.afterLegEnded(x.c, x.l, causeNormal)
		}
	}
}

// replace: a channel swapped in for one of ours (StasisStart with
// replace_channel).
func (e *Engine) replace(c *call, old *leg, ev Event) {
	e.swapIn(c, old, ev.Channel, ev.Endpoint, ev.CallerNumber, ev.State)
	if c.state == StateTransferring {
		e.settleTransfer(c, false)
	}
}

// swapIn puts channel in old's place: same role, same bridge.
func (e *Engine) swapIn(c *call, old *leg, channel, endpoint, number string, state ChannelState) {
	if _, known := e.channels[channel]; known {
		return
	}
	if _, dead := e.retired[channel]; dead {
		return
	}
	bridge, ls := old.bridge, LegUp
	if state != ChannelUp && old.live() {
		ls = old.state // not yet answered: it takes the old leg's place as it is
	}
	e.drop(c, old)
	nl := e.addLeg(c, channel, endpoint, number, old.role, ls)
	nl.bridge = bridge
	if nl.bridge == "" && nl.role == RoleParty {
		nl.bridge = c.bridge
	}
	for _, p := range [...]**leg{&c.caller, &c.phone, &c.held, &c.consult} {
		if *p == old {
			*p = nl
		}
	}
}

// merge moves from's live legs into into: they now share into's bridge.
func (e *Engine) merge(into, from *call, bridge string) {
	e.cancelTimers(from)
	e.stopPlayback(from)
	for _, l := range from.legs {
		if !l.live() {
			continue
		}
		l.role = RoleParty
		if bridge != "" && bridge == into.bridge {
			l.bridge = into.bridge
		} else {
			l.bridge = "" // wherever Asterisk put it, it is no bridge of ours
		}
		into.legs = append(into.legs, l)
		e.channels[l.channel] = into
	}
	from.legs = goneOnly(from.legs)
	if into.state != StateTalking && into.state != StateTransferring {
		into.state = StateTalking
	}
	e.finish(from, ResultTransferred, "joined another call by a transfer")
}

func goneOnly(legs []*leg) []*leg {
	out := legs[:0]
	for _, l := range legs {
		if !l.live() {
			out = append(out, l)
		}
	}
	return out
}

// settleTransfer: two parties or more talk on; none left ends the call; a
// lone party waits, bounded, for its new partner.
func (e *Engine) settleTransfer(c *call, timedOut bool) {
	switch n, last := c.liveParties(); {
	case n >= 2:
		e.cancelTimer(c, timerTransfer)
		c.state = StateTalking
	case n == 0:
		e.finish(c, ResultTransferred, "transferred")
	case timedOut:
		c.state = StateTalking
		e.releaseParty(c, last)
	default:
		c.state = StateTransferring
		if c.timers[timerTransfer] == "" {
			e.startTimer(c, timerTransfer, e.cfg.TransferGrace)
		}
	}
}

// onChannelTransfer carries out a REFER the application was given
// (PJSIP_TRANSFER_HANDLING(ari-only)); Asterisk has accepted it (202) and
// the transferer now waits for NOTIFYs, which the engine asks for with
// CmdTransferProgress. Whatever happens, the transferer is told: a REFER
// the engine cannot carry out is declined and changes nothing.
//
// Attended (Replaces names the transferer's other call): the transferee
// joins that call's party at once; both transferer legs leave their
// bridges, hear "200" and hang up themselves (bounded by TransferGrace).
// Blind: the destination is routed as if the transferer had dialled it and
// rung for the transferee, who hears ringing; the transferer waits out of
// the bridge. An answer tells it "200" (then it hangs up); a failure tells
// it 603 or 503 and gives it its call back.
func (e *Engine) onChannelTransfer(ev Event) {
	c, t := e.leg(ev.Channel)
	if !t.live() {
		// A channel in no call of ours (one Asterisk kept through our
		// restart, say): Asterisk has answered the REFER 202 already, so
		// the phone waits for a NOTIFY. Decline; a channel that is gone
		// answers 404, which the adapter ignores.
		e.emit(nil, Command{Kind: CmdTransferProgress, Channel: ev.Channel, TransferState: TransferDeclined,
			Reason: "REFER from a channel in no call"})
		return
	}
	decline := func(why string) { e.transferProgress(c, t, TransferDeclined, why) }
	if c.state != StateTalking || t.role != RoleParty {
		decline("REFER while the call is not simply talking")
		return
	}
	transferee := c.otherParty(t)
	if transferee == nil {
		decline("REFER without exactly one other party")
		return
	}
	if ev.SecondLeg != "" {
		e.attendedREFER(c, t, ev.SecondLeg)
		return
	}
	if ev.Destination == "" {
		decline("blind REFER without a destination")
		return
	}
	d := e.router.Route(route.Request{Endpoint: t.endpoint, Dialled: ev.Destination})
	if d.Kind == route.Reject {
		e.transferProgress(c, t, TransferUnavailable, "transfer destination refused: "+d.Reason)
		return // the transferer stays connected
	}
	e.transferProgress(c, t, TransferProgress, "blind transfer to "+ev.Destination)
	e.leaveBridge(c, t)
	t.role, c.referrer = RoleTransferer, t
	c.preReferDial, c.preReferRoute = c.dialled, c.route
	transferee.role = RoleCaller
	c.caller, c.alerted, c.fallbackTried, c.dialled = transferee, true, true, ev.Destination
	e.ring(c, d)
	if c.state == StateRinging {
		e.play(c, transferee, e.tone("ring"), false)
	}
}

// attendedREFER joins the transferee (c) with the party of the
// transferer's other call.
func (e *Engine) attendedREFER(c *call, t *leg, second string) {
	c2, t2 := e.leg(second)
	if !t2.live() || c2 == c || c2.state != StateTalking || t2.role != RoleParty {
		e.transferProgress(c, t, TransferDeclined, "REFER replaces no call we can join")
		return
	}
	target := c2.otherParty(t2)
	if target == nil {
		e.transferProgress(c, t, TransferDeclined, "REFER replaces a call without exactly one other party")
		return
	}
	e.stats.transfers++
	e.leaveBridge(c2, t2)
	// The target is not removed from its bridge: adding it to c's moves
	// it, and a removal on c2's queue could come after that move.
	e.merge(c, c2, "")
	t2.role = RoleTransferer
	e.transferDone(c, t, TransferAnswered, "attended transfer")
	e.addToBridge(c, target, e.mixing(c))
}

// transferProgress tells a transferer how its REFER goes.
func (e *Engine) transferProgress(c *call, l *leg, state TransferState, reason string) {
	if l.live() {
		e.emit(c, Command{Kind: CmdTransferProgress, Channel: l.channel, TransferState: state, Reason: reason})
	}
}

// transferDone tells the transferer the final outcome of a REFER that
// went through; it leaves its bridge and should hang up, which the refer
// timer makes sure of.
func (e *Engine) transferDone(c *call, t *leg, state TransferState, reason string) {
	if c.referrer == t {
		c.referrer = nil
	}
	if !t.live() {
		return
	}
	e.leaveBridge(c, t)
	t.role = RoleTransferer
	e.transferProgress(c, t, state, reason)
	e.startTimer(c, timerRefer, e.cfg.TransferGrace)
}

// referAnswered: the target of a blind REFER answered.
func (e *Engine) referAnswered(c *call) {
	if t := c.referrer; t != nil {
		// Counted now: a target that never answers gives the call back.
		e.stats.transfers++
		e.transferDone(c, t, TransferAnswered, "transfer target answered")
	}
}

// referFailed: the target of a blind REFER cannot be reached (cause). A
// transferer still waiting is told (603 for busy, no answer or rejected,
// 503 otherwise) and gets its call back; it reports whether it did. With
// the transferer gone, the transferee gets the failure as any caller.
func (e *Engine) referFailed(c *call, cause int) bool {
	t := c.referrer
	if !t.live() || c.state != StateRinging || !c.caller.live() {
		return false
	}
	state := TransferUnavailable
	switch cause {
	case causeBusy, causeNoUserResponse, causeNoAnswer, causeRejected:
		state = TransferDeclined
	}
	for _, l := range c.legs {
		if l.role == RoleTarget {
			e.hangup(c, l, causeNormal, "transfer abandoned")
		}
	}
	e.cancelTimer(c, timerRing)
	e.stopPlayback(c)
	e.unqueue(c)
	e.transferProgress(c, t, state, "transfer failed")
	c.referrer = nil
	c.dialled, c.route = c.preReferDial, c.preReferRoute // the record names the call it is again
	transferee := c.caller
	transferee.role, t.role = RoleParty, RoleParty
	c.caller, c.state = nil, StateTalking
	b := e.mixing(c)
	e.addToBridge(c, transferee, b)
	e.addToBridge(c, t, b)
	return true
}
