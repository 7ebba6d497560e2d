package call

import (
	"github.com/kurodenwa/kurodenwa/internal/route"
)

// maxFlashDigits bounds what a phone may dial after a hook flash.
const maxFlashDigits = 32

// onDTMF handles digits. A phone's flash digit is consumed here and never
// sent on; other digits count only while the phone dials after a flash.
func (e *Engine) onDTMF(ev Event) {
	c, l := e.leg(ev.Channel)
	if !l.live() {
		return
	}
	if l.phone.FlashDigit != "" && ev.Digit == l.phone.FlashDigit {
		e.flash(c, l)
		return
	}
	if c.state == StateDialTone && l == c.phone {
		e.collect(c, ev.Digit)
		return
	}
	e.passDTMF(c, l, ev.Digit)
}

// passDTMF sends a digit from a phone whose DTMF the bridge absorbs (see
// addToBridge) to the parties it talks with, so a rotary phone can still
// drive a menu at the far end.
func (e *Engine) passDTMF(c *call, from *leg, digit string) {
	if from.phone.FlashDigit == "" || from.bridge == "" || from.bridge != c.bridge || from.state != LegUp {
		return
	}
	for _, o := range c.legs {
		if o != from && o.live() && o.state == LegUp && o.bridge == from.bridge {
			e.emit(c, Command{Kind: CmdSendDTMF, Channel: o.channel, Digits: digit})
		}
	}
}

// flash: on a two-party call the other party goes on hold and the phone
// gets dial tone; during a flash sequence a second flash returns to the
// held party. Anywhere else the flash is ignored.
func (e *Engine) flash(c *call, p *leg) {
	switch c.state {
	case StateTalking:
		if p.role != RoleParty || p.state != LegUp {
			return
		}
		o := c.otherParty(p)
		if o == nil {
			return
		}
		c.phone, c.held, c.consult = p, o, nil
		o.role = RoleHeld
		e.addToBridge(c, o, e.holding(c))
		c.digits = c.digits[:0]
		c.state = StateDialTone
		e.play(c, p, e.tone("dial"), false)
		e.startTimer(c, timerDigits, e.cfg.FirstDigitTimeout)
		e.startTimer(c, timerHold, e.cfg.HoldLimit)
	case StateDialTone, StateConsulting, StateConsultTalking, StateConsultFailed:
		if p == c.phone {
			e.returnToHeld(c)
		}
	}
}

// collect adds a dialled digit; an exact local number dials at once.
func (e *Engine) collect(c *call, digit string) {
	if len(digit) != 1 || !isDialDigit(digit[0]) {
		return
	}
	if len(c.digits) == 0 {
		e.stopPlayback(c)
	}
	c.digits = append(c.digits, digit[0])
	if len(c.digits) > maxFlashDigits {
		e.consultFailed(c, "congestion", "too many digits")
		return
	}
	d := e.router.Route(route.Request{Endpoint: c.phone.endpoint, Dialled: string(c.digits)})
	if d.Kind == route.Local {
		e.consultDial(c, d)
		return
	}
	e.startTimer(c, timerDigits, e.cfg.InterDigitTimeout)
}

func isDialDigit(b byte) bool { return b >= '0' && b <= '9' || b == '*' || b == '#' }

// digitsTimeout: no digit at all returns to the held party; otherwise the
// number is complete and must be a local one.
func (e *Engine) digitsTimeout(c *call) {
	if len(c.digits) == 0 {
		e.returnToHeld(c)
		return
	}
	d := e.router.Route(route.Request{Endpoint: c.phone.endpoint, Dialled: string(c.digits)})
	if d.Kind != route.Local {
		// Only our own phones can take a transfer from the black phone: a
		// held Twilio caller must not be passed out to the PSTN or a peer.
		e.consultFailed(c, "congestion", "not a local number: "+d.Reason)
		return
	}
	e.consultDial(c, d)
}

// consultDial rings the new party; the phone hears the ring tone.
func (e *Engine) consultDial(c *call, d route.Decision) {
	e.cancelTimer(c, timerDigits)
	ep := ""
	for _, cand := range d.Endpoints {
		if cand != c.phone.endpoint && e.free(cand) {
			ep = cand
			break
		}
	}
	if ep == "" {
		e.consultFailed(c, "busy", "busy")
		return
	}
	c.route, c.fallbackTried = d, true
	t := ringTimeout(d, e.cfg.RingTimeout)
	c.consult = e.dial(c, "PJSIP/"+ep, ep, e.cfg.Phones[ep].Number, c.phone.number, c.phone, RoleConsult, t)
	c.state = StateConsulting
	e.play(c, c.phone, e.tone("ring"), false)
	e.startTimer(c, timerRing, t)
}

func (e *Engine) consultAnswered(c *call) {
	n := c.consult
	n.state = LegUp
	e.cancelTimer(c, timerRing)
	e.stopPlayback(c)
	e.addToBridge(c, n, e.mixing(c))
	e.addToBridge(c, c.phone, c.bridge)
	if c.answered.IsZero() {
		c.answered = e.now
	}
	if !c.held.live() {
		// The held party left meanwhile: this is a plain call now.
		n.role, c.phone, c.held, c.consult = RoleParty, nil, nil, nil
		e.cancelTimer(c, timerHold)
		c.state = StateTalking
		return
	}
	c.state = StateConsultTalking
}

// consultFailed: the new party cannot be had; the phone hears tone until
// it flashes back to the held party, or the tone's limit does that.
func (e *Engine) consultFailed(c *call, tone, reason string) {
	e.cancelTimer(c, timerRing)
	e.cancelTimer(c, timerDigits)
	e.hangup(c, c.consult, causeNormal, reason)
	c.consult = nil
	if c.held == nil {
		e.releaseParty(c, c.phone)
		return
	}
	c.state = StateConsultFailed
	e.play(c, c.phone, e.tone(tone), false)
	e.startTimer(c, timerTone, e.cfg.ToneLimit)
}

// returnToHeld ends the flash sequence: the new party (if any) is hung up
// and the held party rejoins the phone.
func (e *Engine) returnToHeld(c *call) {
	for _, k := range [...]timerKind{timerRing, timerDigits, timerTone, timerHold} {
		e.cancelTimer(c, k)
	}
	e.stopPlayback(c)
	e.hangup(c, c.consult, causeNormal, "flash back to the held party")
	p, o := c.phone, c.held
	c.phone, c.held, c.consult = nil, nil, nil
	if !o.live() {
		e.releaseParty(c, p)
		return
	}
	o.role = RoleParty
	b := e.mixing(c)
	e.addToBridge(c, o, b)
	e.addToBridge(c, p, b)
	c.state = StateTalking
}

// flashLegEnded: a leg of a flash sequence ended.
//
// The phone hanging up is the transfer: before the new party answers it
// is blind (the held party hears it ring), after, attended (the held
// party joins it). With no new party the held party is released.
func (e *Engine) flashLegEnded(c *call, l *leg, cause int) {
	p, o, n := c.phone, c.held, c.consult
	switch l {
	case p:
		e.cancelTimer(c, timerHold)
		e.cancelTimer(c, timerDigits)
		e.cancelTimer(c, timerTone)
		e.stopPlayback(c)
		c.phone = nil
		switch {
		case !o.live():
			if n.live() && c.state == StateConsultTalking {
				n.role = RoleParty
				c.consult, c.state = nil, StateTalking
				e.releaseParty(c, n)
				return
			}
			e.finish(c, ResultCompleted, "phone hung up")
		case c.state == StateConsulting && n.live():
			e.stats.transfers++
			e.leaveBridge(c, o)
			o.role, n.role = RoleCaller, RoleTarget
			c.caller, c.held, c.consult = o, nil, nil
			c.state, c.alerted = StateRinging, true
			e.play(c, o, e.tone("ring"), false)
		case c.state == StateConsultTalking && n.live():
			e.stats.transfers++
			o.role, n.role = RoleParty, RoleParty
			c.held, c.consult = nil, nil
			e.addToBridge(c, o, e.mixing(c))
			c.state = StateTalking
		default:
			o.role = RoleParty
			c.held = nil
			c.state = StateTalking
			e.releaseParty(c, o)
		}
	case o:
		e.cancelTimer(c, timerHold)
		c.held = nil
		e.stopMOH(c)
		if c.state == StateConsultTalking {
			n.role = RoleParty
			c.phone, c.consult, c.state = nil, nil, StateTalking
		}
	case n:
		c.consult = nil
		switch {
		case c.state == StateConsultTalking:
			e.consultFailed(c, "hangup", "new party hung up")
		case cause == causeBusy:
			e.consultFailed(c, "busy", "busy")
		default:
			e.consultFailed(c, "congestion", "dialling failed")
		}
	}
}
