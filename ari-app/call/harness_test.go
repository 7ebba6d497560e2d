package call

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/route"
	"github.com/kurodenwa/kurodenwa/internal/site"
)

// testSite is a small site: the black phone (201), three softphones
// (202–204), a ringall group (300), an inorder group (301), a peer
// (prefix 8) and the Twilio trunk with two DIDs.
func testSite() *site.Site {
	return &site.Site{
		Exchange: site.Exchange{Name: "test", ToneZone: "jp", RingTimeout: 30 * time.Second, HangupToneLimit: 60 * time.Second},
		Numbering: site.Numbering{
			CountryCode: "81", TrunkPrefix: "0", InternationalPrefix: "010",
			NationalLengths:   map[string]int{"0": 10, "090": 11},
			ServiceCodePrefix: "1", ServiceCodeLength: 3,
		},
		Twilio: site.Twilio{
			Enabled: true, CallerID: "+815012345678",
			DIDs: map[string]site.DID{
				"main":   {Number: "+81312345678", Destination: "blackphone"},
				"family": {Number: "+81312340000", Destination: "family"},
				"chain":  {Number: "+81312340001", Destination: "chain"},
			},
		},
		Extensions: map[string]site.Extension{
			"blackphone": {Number: "201", Kind: site.KindBlackPhone, SIPUser: "blackphone", HangupTone: true},
			"soft1":      {Number: "202", Kind: site.KindSoftphone, SIPUser: "soft1"},
			"soft2":      {Number: "203", Kind: site.KindSoftphone, SIPUser: "soft2"},
			"soft3":      {Number: "204", Kind: site.KindSoftphone, SIPUser: "soft3"},
		},
		RingGroups: map[string]site.RingGroup{
			"family": {Number: "300", Strategy: site.StrategyRingAll, Members: []string{"soft1", "soft2"}},
			"chain":  {Number: "301", Strategy: site.StrategyInOrder, Members: []string{"soft1", "soft2", "soft3"}, MemberTimeout: 10 * time.Second},
		},
		Peers: map[string]site.Peer{"tokyo": {Prefix: "8", Host: "192.0.2.10"}},
		// The site's defaults for call behaviour (internal/site/defaults.go).
		Calls: site.Calls{
			InboundRingback: site.RingbackIndicate, OutboundRingback: site.RingbackIndicate, PassEarlyMedia: true,
			Queue: site.Queue{MaxLength: 3, MaxWait: 5 * time.Minute}, ToneLimit: 20 * time.Second,
			FlashDigit: "A", HoldLimit: 15 * time.Minute, MOHClass: "default",
		},
	}
}

func testRouter(t testing.TB) *route.Router {
	t.Helper()
	r, err := route.New(testSite())
	require.NoError(t, err)
	return r
}

// harness drives an engine with readable names: channels the test makes
// keep their names, dial legs become leg1, leg2…, bridges mix1, hold2…
type harness struct {
	t      testing.TB
	e      *Engine
	now    time.Time
	alias  map[string]string // engine ID → readable name
	real   map[string]string // readable name → engine ID
	legs   int
	brs    int
	timers map[string]string // live timer ID → reason
	plays  map[string]string // playback ID → channel name
	ended  []CallRecord
}

func newHarness(t testing.TB, tweak ...func(*Config)) *harness {
	t.Helper()
	cfg := ConfigFromSite(testSite())
	cfg.IDPrefix = "t"
	for _, f := range tweak {
		f(&cfg)
	}
	e, err := New(cfg, testRouter(t))
	require.NoError(t, err)
	return &harness{
		t: t, e: e, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		alias: map[string]string{}, real: map[string]string{}, timers: map[string]string{}, plays: map[string]string{},
	}
}

// id maps a readable name back to the engine's ID (test channels map to
// themselves).
func (h *harness) id(name string) string {
	if id, ok := h.real[name]; ok {
		return id
	}
	return name
}

func (h *harness) name(id string) string {
	if n, ok := h.alias[id]; ok {
		return n
	}
	return id
}

func (h *harness) do(ev Event) []string {
	h.t.Helper()
	h.now = h.now.Add(100 * time.Millisecond)
	ev.At = h.now
	ev.Channel = h.id(ev.Channel)
	ev.ReplaceChannel = h.id(ev.ReplaceChannel)
	ev.SecondLeg = h.id(ev.SecondLeg)
	ev.Transferee = h.id(ev.Transferee)
	ev.TransferTarget = h.id(ev.TransferTarget)
	return h.render(h.e.Handle(ev))
}

func (h *harness) render(cmds []Command) []string {
	out := make([]string, 0, len(cmds))
	for _, c := range cmds {
		out = append(out, h.line(c))
	}
	return out
}

func (h *harness) line(c Command) string {
	switch c.Kind {
	case CmdAnswer, CmdRing, CmdProgress, CmdContinue:
		return c.Kind.String() + " " + h.name(c.Channel)
	case CmdHangup:
		return fmt.Sprintf("hangup %s %d", h.name(c.Channel), c.Cause)
	case CmdDial:
		h.legs++
		n := fmt.Sprintf("leg%d", h.legs)
		h.alias[c.Channel], h.real[n] = n, c.Channel
		s := "dial " + n + " " + c.Endpoint
		if c.CallerID != "" {
			s += " cid=" + c.CallerID
		}
		if c.AppTransfers {
			s += " ari-only"
		}
		return s
	case CmdCreateBridge:
		h.brs++
		n := fmt.Sprintf("%s%d", map[BridgeType]string{BridgeMixing: "mix", BridgeHolding: "hold"}[c.BridgeType], h.brs)
		h.alias[c.Bridge], h.real[n] = n, c.Bridge
		return "bridge " + n
	case CmdDestroyBridge:
		return "destroy " + h.name(c.Bridge)
	case CmdAddToBridge:
		if c.AbsorbDTMF {
			return "add " + h.name(c.Channel) + " " + h.name(c.Bridge) + " absorb"
		}
		return "add " + h.name(c.Channel) + " " + h.name(c.Bridge)
	case CmdSendDTMF:
		return "dtmf " + h.name(c.Channel) + " " + c.Digits
	case CmdRemoveFromBridge:
		return "remove " + h.name(c.Channel) + " " + h.name(c.Bridge)
	case CmdStartMOH:
		return "moh " + h.name(c.Bridge)
	case CmdStopMOH:
		return "unmoh " + h.name(c.Bridge)
	case CmdPlay:
		h.plays[c.Playback] = h.name(c.Channel)
		return "play " + h.name(c.Channel) + " " + strings.Join(c.Media, " ")
	case CmdStopPlayback:
		return "stop-play " + h.plays[c.Playback]
	case CmdStartTimer:
		h.timers[c.Timer] = c.Reason
		return fmt.Sprintf("timer %s %s", c.Reason, c.After)
	case CmdCancelTimer:
		r := h.timers[c.Timer]
		delete(h.timers, c.Timer)
		return "cancel " + r
	case CmdCallEnded:
		h.ended = append(h.ended, *c.Record)
		return "ended " + c.Record.Result.String()
	case CmdSetVariable:
		return "set " + h.name(c.Channel) + " " + c.Name + "=" + c.Value
	case CmdTransferProgress:
		return "notify " + h.name(c.Channel) + " " + string(c.TransferState)
	}
	return "unknown"
}

// fire expires the one live timer with reason; with several, the one of
// the call that channel belongs to.
func (h *harness) fire(reason string, channel ...string) []string {
	h.t.Helper()
	var ids []string
	for id, r := range h.timers {
		if r != reason {
			continue
		}
		if len(channel) > 0 {
			ref := h.e.timers[id]
			if ref.call == nil || h.e.channels[h.id(channel[0])] != ref.call {
				continue
			}
		}
		ids = append(ids, id)
	}
	require.Len(h.t, ids, 1, "live %s timers", reason)
	delete(h.timers, ids[0])
	return h.do(Event{Kind: EventTimerFired, Timer: ids[0]})
}

// Event shorthands.

func (h *harness) inbound(channel, endpoint, number string) []string {
	return h.do(Event{Kind: EventStasisStart, Channel: channel, Args: []string{"inbound", endpoint, number}, State: ChannelRing, CallerNumber: "+819011112222"})
}

func (h *harness) outbound(channel, endpoint, number string) []string {
	return h.do(Event{Kind: EventStasisStart, Channel: channel, Args: []string{"outbound", endpoint, number}, State: ChannelRing, CallerNumber: endpoint + "-number"})
}

func (h *harness) ringing(channel string) []string {
	return h.do(Event{Kind: EventChannelState, Channel: channel, State: ChannelRinging})
}

func (h *harness) up(channel string) []string {
	return h.do(Event{Kind: EventChannelState, Channel: channel, State: ChannelUp})
}

func (h *harness) gone(channel string, cause int) []string {
	return h.do(Event{Kind: EventChannelDestroyed, Channel: channel, Cause: cause})
}

func (h *harness) dialStatus(channel, status string) []string {
	return h.do(Event{Kind: EventDial, Channel: channel, DialStatus: status})
}

func (h *harness) dtmf(channel, digits string) []string {
	var out []string
	for _, d := range digits {
		out = append(out, h.do(Event{Kind: EventDTMF, Channel: channel, Digit: string(d)})...)
	}
	return out
}

func (h *harness) finished(channel string) []string {
	var pb string
	for id, ch := range h.plays {
		if ch == channel {
			if c, ok := h.e.playbacks[id]; ok && c.playback == id {
				pb = id
			}
		}
	}
	require.NotEmpty(h.t, pb, "no playback on %s", channel)
	return h.do(Event{Kind: EventPlaybackFinished, Playback: pb})
}

// talk sets up a talking call: an inbound Twilio caller on the black
// phone's DID, answered by the black phone (leg1).
func (h *harness) talk(caller string) {
	h.t.Helper()
	h.inbound(caller, site.TwilioEndpoint, "+81312345678")
	h.up(h.lastLeg())
	require.Equal(h.t, StateTalking, h.state(caller))
}

func (h *harness) lastLeg() string { return fmt.Sprintf("leg%d", h.legs) }

func (h *harness) state(channel string) State {
	c, ok := h.e.channels[h.id(channel)]
	if !ok {
		return StateEnded
	}
	return c.state
}

func (h *harness) record(channel string) CallRecord {
	h.t.Helper()
	c, ok := h.e.channels[h.id(channel)]
	require.True(h.t, ok, "no call for %s", channel)
	return h.e.record(c)
}

func tone(name string) string { return "tone:" + name + ";tonezone=jp" }

func contains(lines []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(lines, w) {
			return false
		}
	}
	return true
}
