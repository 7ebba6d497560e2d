package call

import (
	"errors"
	"strconv"
	"time"

	"github.com/kurodenwa/kurodenwa/internal/route"
)

// Engine owns every live call, dispatches events to them and collects the
// commands they issue. See the package documentation for the contract.
type Engine struct {
	cfg    Config
	router Router
	seq    uint64
	now    time.Time
	out    []Command

	calls     map[string]*call
	channels  map[string]*call // every leg of every live call, gone ones too
	bridges   map[string]*call
	playbacks map[string]*call
	timers    map[string]timerRef

	busy   map[string]int     // live legs by endpoint: a phone with any is busy
	queues map[string][]*call // callers waiting for a phone, first in front
	pumps  []string           // phones that became free during this event

	// retired remembers channels of ended calls, so a late or duplicate
	// StasisStart does not start a ghost call on a dead channel.
	retired     map[string]struct{}
	retiredRing []string
	retiredNext int

	recent     []CallRecord // ended calls, oldest overwritten first
	recentNext int
	stats      counters

	// appTransfers: softphones' REFERs come to the engine (ChannelTransfer)
	// rather than to Asterisk's transfer code; see SetAppTransfers.
	appTransfers bool
}

type timerRef struct {
	call *call
	kind timerKind
}

// retiredKeep bounds the memory of ended channels.
const retiredKeep = 4096

// New returns an engine routing with router.
func New(cfg Config, router Router) (*Engine, error) {
	if router == nil {
		return nil, errors.New("call: no router")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Engine{
		cfg:         cfg,
		router:      router,
		out:         make([]Command, 0, 16),
		calls:       map[string]*call{},
		channels:    map[string]*call{},
		bridges:     map[string]*call{},
		playbacks:   map[string]*call{},
		timers:      map[string]timerRef{},
		busy:        map[string]int{},
		queues:      map[string][]*call{},
		retired:     map[string]struct{}{},
		retiredRing: make([]string, retiredKeep),
	}, nil
}

// SetAppTransfers says whether the engine carries out softphones' REFERs
// itself: the adapter turns it on when Asterisk can hand them over
// (PJSIP_TRANSFER_HANDLING(ari-only)) and the site wants it, and decides
// again on every connection. From then on, the channels of softphones
// (Phone.Refers) that enter a call are given ari-only handling; channels
// already in calls keep theirs.
func (e *Engine) SetAppTransfers(on bool) { e.appTransfers = on }

// Handle applies one event and returns the commands to execute, in order.
// The returned slice is valid until the next call of Handle or Reconcile.
func (e *Engine) Handle(ev Event) []Command {
	e.begin(ev.At)
	switch ev.Kind {
	case EventStasisStart:
		e.onStasisStart(ev)
	case EventStasisEnd:
		e.onLeftApp(ev.Channel)
	case EventChannelState:
		e.onChannelState(ev)
	case EventHangupRequest, EventChannelDestroyed:
		if c, l := e.leg(ev.Channel); l != nil {
			e.legEnded(c, l, ev.Cause)
		}
	case EventDial:
		e.onDial(ev)
	case EventDTMF:
		e.onDTMF(ev)
	case EventPlaybackFinished:
		e.onPlaybackFinished(ev.Playback)
	case EventTimerFired:
		e.onTimer(ev.Timer)
	case EventBlindTransfer:
		e.onBlindTransfer(ev)
	case EventAttendedTransfer:
		e.onAttendedTransfer(ev)
	case EventChannelTransfer:
		e.onChannelTransfer(ev)
	}
	return e.end()
}

func (e *Engine) begin(at time.Time) {
	e.out = e.out[:0]
	if !at.IsZero() {
		e.now = at
	}
}

// end rings phones freed by this event, then hands over the commands.
func (e *Engine) end() []Command {
	for len(e.pumps) > 0 {
		ep := e.pumps[len(e.pumps)-1]
		e.pumps = e.pumps[:len(e.pumps)-1]
		e.pump(ep)
	}
	return e.out
}

// leg finds a channel's call and leg; nil for unknown channels.
func (e *Engine) leg(channel string) (*call, *leg) {
	c, ok := e.channels[channel]
	if !ok {
		return nil, nil
	}
	for _, l := range c.legs {
		if l.channel == channel {
			return c, l
		}
	}
	return nil, nil
}

func (e *Engine) newID(kind string) string {
	e.seq++
	return e.cfg.IDPrefix + "-" + kind + strconv.FormatUint(e.seq, 36)
}

func (e *Engine) emit(c *call, cmd Command) {
	if c != nil {
		cmd.Call = c.id
	}
	e.out = append(e.out, cmd)
}

func (e *Engine) newCall(dir Direction) *call {
	c := &call{id: e.newID("call"), dir: dir, created: e.now}
	e.calls[c.id] = c
	e.stats.started[dir]++
	return c
}

// addLeg puts a channel into a call and counts it against its endpoint.
func (e *Engine) addLeg(c *call, channel, endpoint, number string, role Role, state LegState) *leg {
	l := &leg{channel: channel, endpoint: endpoint, number: number, role: role, state: state, phone: e.cfg.Phones[endpoint]}
	if l.number == "" {
		l.number = l.phone.Number
	}
	c.legs = append(c.legs, l)
	e.channels[channel] = c
	if endpoint != "" {
		e.busy[endpoint]++
	}
	return l
}

// drop marks a leg gone without any command (it ended, left the
// application, or was handed away). It reports whether the leg was live.
func (e *Engine) drop(c *call, l *leg) bool {
	if !l.live() {
		return false
	}
	l.state = LegGone
	l.bridge = ""
	if c.playOn == l {
		delete(e.playbacks, c.playback)
		c.playback, c.playOn, c.announcing = "", nil, false
	}
	if l.endpoint != "" {
		if n := e.busy[l.endpoint] - 1; n > 0 {
			e.busy[l.endpoint] = n
		} else {
			delete(e.busy, l.endpoint)
			if len(e.queues[l.endpoint]) > 0 {
				e.pumps = append(e.pumps, l.endpoint)
			}
		}
	}
	return true
}

// hangup ends a live leg.
func (e *Engine) hangup(c *call, l *leg, cause int, reason string) {
	if !l.live() {
		return
	}
	e.emit(c, Command{Kind: CmdHangup, Channel: l.channel, Cause: cause, Reason: reason})
	e.drop(c, l)
}

func (e *Engine) answer(c *call, l *leg) {
	if l.live() && l.state != LegUp {
		e.emit(c, Command{Kind: CmdAnswer, Channel: l.channel})
		l.state = LegUp
	}
}

// progress opens early media on an unanswered leg, once.
func (e *Engine) progress(c *call, l *leg) {
	if l.live() && l.state != LegUp && !l.early {
		e.emit(c, Command{Kind: CmdProgress, Channel: l.channel})
		l.early = true
	}
}

// dial creates and dials a new leg.
func (e *Engine) dial(c *call, dialString, endpoint, number, callerID string, originator *leg, role Role, timeout time.Duration) *leg {
	l := e.addLeg(c, e.newID("c"), endpoint, number, role, LegPending)
	cmd := Command{Kind: CmdDial, Channel: l.channel, Endpoint: dialString, CallerID: callerID, Timeout: timeout}
	if role == RoleTarget && c.route.Kind == route.Peer {
		cmd.Hops, cmd.Path = c.route.Hops, c.route.Path // the next exchange counts on from here
	}
	if originator.live() {
		cmd.Originator = originator.channel
	}
	cmd.AppTransfers = e.appTransfers && l.phone.Refers
	e.emit(c, cmd)
	return l
}

// takeTransfers hands a softphone channel's REFERs to the engine.
func (e *Engine) takeTransfers(c *call, l *leg) {
	if e.appTransfers && l.phone.Refers && l.live() {
		e.emit(c, Command{Kind: CmdSetVariable, Channel: l.channel, Name: TransferHandlingFunction, Value: TransferHandlingARI,
			Reason: "the application carries out this softphone's transfers"})
	}
}

// mixing returns the call's mixing bridge, creating it on first use.
func (e *Engine) mixing(c *call) string {
	if c.bridge == "" {
		c.bridge = e.newID("b")
		e.bridges[c.bridge] = c
		e.emit(c, Command{Kind: CmdCreateBridge, Bridge: c.bridge, BridgeType: BridgeMixing})
	}
	return c.bridge
}

// holding returns the call's holding bridge, creating it on first use.
func (e *Engine) holding(c *call) string {
	if c.hold == "" {
		c.hold = e.newID("b")
		e.bridges[c.hold] = c
		e.emit(c, Command{Kind: CmdCreateBridge, Bridge: c.hold, BridgeType: BridgeHolding})
	}
	return c.hold
}

func (e *Engine) addToBridge(c *call, l *leg, bridge string) {
	if !l.live() || l.bridge == bridge {
		return
	}
	e.leaveBridge(c, l)
	// A phone with a flash digit has its DTMF absorbed by the bridge:
	// Asterisk would otherwise pass the flash on to the other party.
	// onDTMF sends the phone's other digits on itself.
	e.emit(c, Command{Kind: CmdAddToBridge, Bridge: bridge, Channel: l.channel, AbsorbDTMF: l.phone.FlashDigit != ""})
	l.bridge = bridge
	if bridge == c.hold {
		e.startMOH(c)
	}
}

func (e *Engine) leaveBridge(c *call, l *leg) {
	if !l.live() || l.bridge == "" {
		return
	}
	if l.bridge == c.hold {
		e.stopMOH(c)
	}
	e.emit(c, Command{Kind: CmdRemoveFromBridge, Bridge: l.bridge, Channel: l.channel})
	l.bridge = ""
}

func (e *Engine) startMOH(c *call) {
	if c.hold != "" && !c.moh {
		e.emit(c, Command{Kind: CmdStartMOH, Bridge: c.hold, MOHClass: e.cfg.MOHClass})
		c.moh = true
	}
}

func (e *Engine) stopMOH(c *call) {
	if c.hold != "" && c.moh {
		e.emit(c, Command{Kind: CmdStopMOH, Bridge: c.hold})
		c.moh = false
	}
}

// tone is the media URI of a zone tone.
func (e *Engine) tone(name string) []string {
	return []string{"tone:" + name + ";tonezone=" + e.cfg.ToneZone}
}

func sound(name string) []string { return []string{"sound:" + name} }

// play starts a playback on a leg, stopping the call's previous one. With
// announcing set, the playback's end moves the call on.
func (e *Engine) play(c *call, l *leg, media []string, announcing bool) {
	e.stopPlayback(c)
	if !l.live() {
		return
	}
	id := e.newID("p")
	e.emit(c, Command{Kind: CmdPlay, Channel: l.channel, Playback: id, Media: media})
	c.playback, c.playOn, c.announcing = id, l, announcing
	e.playbacks[id] = c
}

func (e *Engine) stopPlayback(c *call) {
	if c.playback == "" {
		return
	}
	if c.playOn.live() {
		e.emit(c, Command{Kind: CmdStopPlayback, Playback: c.playback})
	}
	delete(e.playbacks, c.playback)
	c.playback, c.playOn, c.announcing = "", nil, false
}

func (e *Engine) startTimer(c *call, kind timerKind, after time.Duration) {
	e.cancelTimer(c, kind)
	id := e.newID("t")
	c.timers[kind] = id
	e.timers[id] = timerRef{call: c, kind: kind}
	e.emit(c, Command{Kind: CmdStartTimer, Timer: id, After: after, Reason: kind.String()})
}

func (e *Engine) cancelTimer(c *call, kind timerKind) {
	id := c.timers[kind]
	if id == "" {
		return
	}
	e.emit(c, Command{Kind: CmdCancelTimer, Timer: id})
	delete(e.timers, id)
	c.timers[kind] = ""
}

func (e *Engine) cancelTimers(c *call) {
	for k := range timerKinds {
		e.cancelTimer(c, k)
	}
}

// finish ends a call: every live leg is hung up, bridges destroyed, timers
// cancelled, and the final record emitted. result applies unless the call
// already chose one (a refusal sets its result before its tone plays).
func (e *Engine) finish(c *call, result Result, reason string) {
	if c.state == StateEnded {
		return
	}
	if c.result == ResultNone {
		c.result = result
	}
	if c.reason == "" {
		c.reason = reason
	}
	e.cancelTimers(c)
	if c.playback != "" {
		delete(e.playbacks, c.playback)
		c.playback, c.playOn = "", nil
	}
	for _, l := range c.legs {
		e.hangup(c, l, causeNormal, "call ended")
	}
	for _, b := range [...]string{c.bridge, c.hold} {
		if b != "" {
			e.emit(c, Command{Kind: CmdDestroyBridge, Bridge: b})
			delete(e.bridges, b)
		}
	}
	e.unqueue(c)
	c.state = StateEnded
	c.ended = e.now
	for _, l := range c.legs {
		if e.channels[l.channel] == c {
			delete(e.channels, l.channel)
			e.retire(l.channel)
		}
	}
	delete(e.calls, c.id)
	rec := e.record(c)
	e.keep(rec)
	e.stats.ended[c.dir][c.result]++
	e.emit(c, Command{Kind: CmdCallEnded, Record: &rec, Reason: c.reason})
}

func (e *Engine) retire(channel string) {
	if old := e.retiredRing[e.retiredNext]; old != "" {
		delete(e.retired, old)
	}
	e.retiredRing[e.retiredNext] = channel
	e.retiredNext = (e.retiredNext + 1) % len(e.retiredRing)
	e.retired[channel] = struct{}{}
}
