package call

import "time"

// refuse gives the caller a tone (or the cause's announcement, if one is
// configured) and then releases it with cause. An unanswered caller gets
// the tone as early media, so it is never answered just to be refused.
func (e *Engine) refuse(c *call, cause int, tone string, result Result, reason string) {
	if e.referFailed(c, cause) {
		return
	}
	c.result, c.reason = result, reason
	if ann := e.cfg.Announcements[cause]; ann != "" {
		e.signal(c, c.caller, sound(ann), true, cause, e.cfg.ToneLimit)
		return
	}
	e.signal(c, c.caller, e.tone(tone), false, cause, e.cfg.ToneLimit)
}

// signal leaves l as the call's only leg, playing media to it until it
// hangs up, the limit passes, or (announcing) the media ends; then l is
// hung up with cause.
func (e *Engine) signal(c *call, l *leg, media []string, announcing bool, cause int, limit time.Duration) {
	e.cancelTimers(c)
	e.stopPlayback(c)
	e.unqueue(c)
	for _, o := range c.legs {
		if o != l {
			e.hangup(c, o, causeNormal, "call released")
		}
	}
	if !l.live() {
		e.finish(c, ResultCompleted, "")
		return
	}
	e.leaveBridge(c, l)
	e.progress(c, l)
	l.role = RoleCaller
	c.caller, c.phone, c.held, c.consult = l, nil, nil, nil
	c.state, c.exitCause = StateSignalling, cause
	e.play(c, l, media, announcing)
	e.startTimer(c, timerTone, limit)
}

// partyLeft: a party of a talking call left. Two or more remaining go on
// talking; one remaining is released.
func (e *Engine) partyLeft(c *call) {
	switch n, last := c.liveParties(); n {
	case 0:
		e.finish(c, ResultCompleted, "every party hung up")
	case 1:
		e.releaseParty(c, last)
	}
}

// releaseParty ends a call whose far end has gone. A phone that wants the
// hang-up tone keeps its line up with the tone until it hangs up (or the
// limit); anything else is hung up at once.
func (e *Engine) releaseParty(c *call, l *leg) {
	if l.live() && l.phone.HangupTone && l.state == LegUp {
		if c.result == ResultNone {
			c.result = ResultCompleted
		}
		e.signal(c, l, e.tone("hangup"), false, causeNormal, e.cfg.HangupToneLimit)
		return
	}
	e.hangup(c, l, causeNormal, "far end hung up")
	e.finish(c, ResultCompleted, "far end hung up")
}
