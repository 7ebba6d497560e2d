package call

import (
	"slices"
	"time"
)

// ChannelInfo is a channel found in the application after a reconnect
// (GET /applications/{app} and GET /channels/{id}).
type ChannelInfo struct {
	ID       string
	Endpoint string // PJSIP endpoint, from the channel name
	Number   string // caller ID number
	State    ChannelState
}

// BridgeInfo is a bridge found in the application after a reconnect.
type BridgeInfo struct {
	ID       string
	Type     BridgeType
	Channels []string
}

// Reconcile re-adopts what is still in the application after the adapter
// reconnects (events during a disconnect are lost), and returns the
// commands that put things right:
//
//   - A leg of a known call that is no longer there ended while the
//     engine was away: the call goes on as if it had hung up then (its
//     other legs are released or re-homed as usual). A leg now found Up
//     was answered meanwhile, and is handled as an answer.
//   - Unknown channels that share a mixing bridge, two or more and all
//     Up, are a talking call: adopted (direction Adopted) with the bridge.
//   - Any other unknown channel is alone: an answered phone that wants
//     the hang-up tone hears it (bounded) and is then released; any other
//     is hung up (cause 16 if answered, 41 temporary failure if not, so a
//     caller may try again). Unknown bridges left empty are destroyed.
//
// Like Handle, it returns a slice valid until the next call.
func (e *Engine) Reconcile(at time.Time, channels []ChannelInfo, bridges []BridgeInfo) []Command {
	e.begin(at)
	present := make(map[string]ChannelInfo, len(channels))
	for _, ch := range channels {
		if ch.ID != "" {
			present[ch.ID] = ch
		}
	}
	handled := map[string]bool{}
	for _, ch := range channels {
		// Hung up before, yet still here: the hang-up was lost.
		if _, dead := e.retired[ch.ID]; dead && !handled[ch.ID] {
			handled[ch.ID] = true
			e.emit(nil, Command{Kind: CmdHangup, Channel: ch.ID, Cause: causeNormal, Reason: "reconcile: its call has ended"})
		}
	}
	e.reconcileKnown(present)

	for _, b := range bridges {
		if b.ID == "" || e.bridges[b.ID] != nil {
			continue
		}
		var members []ChannelInfo
		allUp := true
		for _, id := range b.Channels {
			ch, ok := present[id]
			if !ok || handled[id] || !e.unknown(id) {
				continue
			}
			members = append(members, ch)
			allUp = allUp && ch.State == ChannelUp
		}
		if b.Type != BridgeMixing || len(members) < 2 || !allUp {
			e.emit(nil, Command{Kind: CmdDestroyBridge, Bridge: b.ID, Reason: "reconcile: no call to adopt"})
			continue
		}
		e.adopt(b.ID, members)
		for _, m := range members {
			handled[m.ID] = true
		}
	}
	for _, ch := range channels {
		if ch.ID != "" && !handled[ch.ID] && e.unknown(ch.ID) {
			handled[ch.ID] = true
			e.adoptLone(ch)
		}
	}
	return e.end()
}

func (e *Engine) unknown(channel string) bool {
	_, known := e.channels[channel]
	_, dead := e.retired[channel]
	return !known && !dead
}

// reconcileKnown replays what the engine missed on its own calls. Every
// vanished leg is dropped before any call reacts, so that no call re-homes
// a party onto a channel that has gone as well.
func (e *Engine) reconcileKnown(present map[string]ChannelInfo) {
	ids := make([]string, 0, len(e.calls))
	for id := range e.calls {
		ids = append(ids, id)
	}
	slices.Sort(ids) // deterministic commands
	var lost, answered []callLeg
	for _, id := range ids {
		c := e.calls[id]
		for _, l := range c.legs {
			if !l.live() || e.channels[l.channel] != c {
				continue
			}
			ch, ok := present[l.channel]
			switch {
			case !ok:
				lost = append(lost, callLeg{c, l})
			case ch.State == ChannelUp && l.state != LegUp:
				answered = append(answered, callLeg{c, l})
			}
		}
	}
	for _, x := range lost {
		e.drop(x.c, x.l)
	}
	for _, x := range lost {
		if x.c.state != StateEnded {
			e.afterLegEnded(x.c, x.l, 0)
		}
	}
	for _, x := range answered {
		if x.c.state != StateEnded && x.l.live() && e.channels[x.l.channel] == x.c {
			e.legUp(x.c, x.l)
		}
	}
}

// adopt takes on a talking call found in a mixing bridge.
func (e *Engine) adopt(bridge string, members []ChannelInfo) {
	c := e.newCall(Adopted)
	c.bridge, c.state, c.answered = bridge, StateTalking, e.now
	e.bridges[bridge] = c
	for _, m := range members {
		l := e.addLeg(c, m.ID, m.Endpoint, m.Number, RoleParty, LegUp)
		l.bridge = bridge
	}
}

// adoptLone ends a channel found alone, through a call record so that it
// is counted and, for a phone that wants it, hears the hang-up tone.
func (e *Engine) adoptLone(ch ChannelInfo) {
	c := e.newCall(Adopted)
	state := LegPending
	if ch.State == ChannelUp {
		state = LegUp
	}
	l := e.addLeg(c, ch.ID, ch.Endpoint, ch.Number, RoleParty, state)
	c.result = ResultLost
	if state == LegUp && l.phone.HangupTone {
		e.signal(c, l, e.tone("hangup"), false, causeNormal, e.cfg.HangupToneLimit)
		return
	}
	cause := causeNormal
	if state != LegUp {
		cause = causeTemporary
	}
	e.hangup(c, l, cause, "reconcile: found alone")
	e.finish(c, ResultLost, "found alone after a reconnect")
}
