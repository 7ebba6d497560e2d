package call

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/kurodenwa/kurodenwa/internal/site"
)

// fuzzer drives an engine with arbitrary events and checks, after each,
// the invariants every sequence must keep.
type fuzzer struct {
	t   *testing.T
	e   *Engine
	now time.Time

	channels  []string // every channel given or created, plus strangers
	bridges   []string
	playbacks []string
	timers    []string
	fresh     int

	given    map[string]bool // IDs the engine was given or created
	released map[string]bool // channels hung up, ended, or handed away
	departed map[string]bool // channels Asterisk ended or took away: never present again
}

func newFuzzer(t *testing.T) *fuzzer {
	cfg := ConfigFromSite(testSite())
	cfg.IDPrefix = "f"
	cfg.Queue.PositionAnnouncement = "kd-queue"
	cfg.NoAnswer = NoAnswerAction{Fallback: &Destination{Name: "soft3", Endpoints: []string{"soft3"}}, Announcement: "kd-na"}
	e, err := New(cfg, testRouter(t))
	if err != nil {
		t.Fatal(err)
	}
	f := &fuzzer{
		t: t, e: e, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		channels: []string{"stranger"}, given: map[string]bool{}, released: map[string]bool{}, departed: map[string]bool{},
	}
	// A few live calls in different states.
	f.start("a", "inbound", site.TwilioEndpoint, "+81312345678")
	f.handle(Event{Kind: EventChannelState, Channel: f.channels[len(f.channels)-1], State: ChannelUp})
	f.start("b", "inbound", site.TwilioEndpoint, "+81312345678")
	f.start("s1", "outbound", "soft1", "203")
	f.start("s3", "outbound", "soft3", "0312345678")
	f.start("p", "inbound", "peer-tokyo", "300")
	return f
}

func (f *fuzzer) start(ch, dir, endpoint, number string) {
	f.handle(Event{Kind: EventStasisStart, Channel: ch, Args: []string{dir, endpoint, number}, State: ChannelRing})
}

func pick(list []string, b byte) string {
	if len(list) == 0 {
		return ""
	}
	return list[int(b)%len(list)]
}

// Values the fuzzer picks from.
const fuzzDigits = "A0123456789*#BA2"

func fuzzCause(b byte) int {
	causes := [...]int{0, 1, 3, 16, 17, 19, 21, 26, 28, 34, 38, 127}
	return causes[int(b)%len(causes)]
}

func fuzzStatus(b byte) string {
	statuses := [...]string{DialRinging, DialProgress, DialAnswer, DialBusy, DialNoAnswer, DialCancel, DialCongestion, DialChanUnavail, ""}
	return statuses[int(b)%len(statuses)]
}

func fuzzStart(b byte) [3]string {
	starts := [...][3]string{
		{"inbound", "twilio", "+81312345678"}, {"inbound", "twilio", "+81312340000"}, {"inbound", "twilio", "+81312340001"},
		{"outbound", "blackphone", "202"}, {"outbound", "soft2", "201"}, {"outbound", "soft1", "0312345678"},
		{"outbound", "soft2", "0999"}, {"inbound", "peer-tokyo", "82001"}, {"sideways", "x", "y"},
	}
	return starts[int(b)%len(starts)]
}

func fuzzDestinationType(b byte) string {
	types := [...]string{"bridge", "link", "threeway", "application", "fail", ""}
	return types[int(b)%len(types)]
}

func (f *fuzzer) newName(prefix string) string {
	f.fresh++
	return prefix + strconv.Itoa(f.fresh)
}

// step decodes one event from three bytes and applies it.
func (f *fuzzer) step(op, a, b byte) {
	ch := pick(f.channels, a)
	ok := b&1 == 1
	switch op % 17 {
	case 0:
		s := fuzzStart(b)
		f.start(f.newName("n"), s[0], s[1], s[2])
	case 1:
		ev := Event{Kind: EventStasisStart, Channel: ch, State: ChannelState(b % 5)}
		if ok {
			ev.Channel, ev.ReplaceChannel = f.newName("r"), ch
		} else if f.departed[ch] {
			return // a channel Asterisk ended never enters the application again
		}
		f.handle(ev)
	case 2:
		f.handle(Event{Kind: EventStasisEnd, Channel: ch})
	case 3:
		f.handle(Event{Kind: EventChannelState, Channel: ch, State: ChannelState(b % 5)})
	case 4:
		f.handle(Event{Kind: EventHangupRequest, Channel: ch, Cause: fuzzCause(b)})
	case 5:
		f.handle(Event{Kind: EventChannelDestroyed, Channel: ch, Cause: fuzzCause(b)})
	case 6:
		f.handle(Event{Kind: EventDial, Channel: ch, DialStatus: fuzzStatus(b), Cause: fuzzCause(b)})
	case 7:
		f.handle(Event{Kind: EventDTMF, Channel: ch, Digit: string(fuzzDigits[int(b)%len(fuzzDigits)])})
	case 8:
		f.handle(Event{Kind: EventPlaybackFinished, Playback: pick(f.playbacks, a)})
	case 9, 10, 11:
		f.handle(Event{Kind: EventTimerFired, Timer: pick(f.timers, a+b)})
	case 12:
		ev := Event{Kind: EventBlindTransfer, Channel: ch, TransferOK: ok}
		if b&2 != 0 {
			ev.ReplaceChannel = f.newName("r")
		}
		f.handle(ev)
	case 13:
		f.handle(Event{Kind: EventAttendedTransfer, Channel: ch, SecondLeg: pick(f.channels, b), TransferOK: ok,
			DestinationType: fuzzDestinationType(b), Bridge: pick(f.bridges, a^b), ReplaceChannel: map[bool]string{true: f.newName("r")}[b&4 != 0]})
	case 14:
		ev := Event{Kind: EventChannelTransfer, Channel: ch}
		if ok {
			ev.SecondLeg = pick(f.channels, b)
		} else {
			ev.Destination = [...]string{"202", "203", "204", "201", "300", "0999"}[int(b)%6]
		}
		f.handle(ev)
	case 15:
		f.reconcile(a, b)
	case 16:
		f.now = f.now.Add(time.Duration(b) * time.Second)
	}
}

func (f *fuzzer) handle(ev Event) {
	f.now = f.now.Add(50 * time.Millisecond)
	ev.At = f.now
	for _, id := range []string{ev.Channel, ev.ReplaceChannel} {
		if id != "" && !f.given[id] && ev.Kind != EventTimerFired {
			if ev.Kind == EventStasisStart || id == ev.ReplaceChannel {
				f.given[id] = true
				f.channels = append(f.channels, id)
			}
		}
	}
	// Asterisk ends or hands away these channels itself.
	var gone []string
	switch ev.Kind {
	case EventStasisEnd, EventHangupRequest, EventChannelDestroyed:
		gone = append(gone, ev.Channel)
	case EventStasisStart:
		gone = append(gone, ev.ReplaceChannel)
	case EventBlindTransfer:
		if ev.TransferOK {
			gone = append(gone, ev.Channel)
		}
	case EventAttendedTransfer:
		if ev.TransferOK {
			if ev.DestinationType != "threeway" {
				gone = append(gone, ev.Channel)
			}
			gone = append(gone, ev.SecondLeg)
		}
	}
	for _, ch := range gone {
		if ch != "" {
			f.released[ch], f.departed[ch] = true, true
		}
	}
	f.check(ev, f.e.Handle(ev), false)
}

// reconcile reports a random subset of the channels as present, all Up or
// as given by a, and the known bridges with what the engine thinks is in
// them.
func (f *fuzzer) reconcile(a, b byte) {
	var chans []ChannelInfo
	for i, ch := range f.channels {
		if !f.departed[ch] && (int(a)+i*int(b|1))%3 != 0 {
			chans = append(chans, ChannelInfo{ID: ch, Endpoint: pick([]string{"blackphone", "soft1", "twilio"}, byte(i)), State: ChannelState((int(b) + i) % 5)})
		}
	}
	bridges := []BridgeInfo{{ID: "old-mix", Type: BridgeMixing, Channels: []string{f.newName("o"), f.newName("o")}}}
	f.given["old-mix"] = true
	for _, ci := range chans {
		f.given[ci.ID] = true
	}
	for _, bi := range bridges {
		for _, ch := range bi.Channels {
			if !f.given[ch] {
				f.given[ch] = true
				f.channels = append(f.channels, ch)
			}
		}
	}
	chans = append(chans, ChannelInfo{ID: bridges[0].Channels[1], State: ChannelUp})
	present := map[string]bool{}
	for _, ci := range chans {
		present[ci.ID] = true
	}
	for _, ch := range f.channels {
		if !present[ch] {
			f.released[ch], f.departed[ch] = true, true // gone while the adapter was away
		}
	}
	f.now = f.now.Add(time.Second)
	f.check(Event{}, f.e.Reconcile(f.now, chans, bridges), true)
}

// describe names what produced a batch, for failure messages only (the
// formatting is too slow to do for every event).
func describe(ev Event) string {
	if ev.Kind == 0 {
		return "reconcile"
	}
	return fmt.Sprintf("%v %+v", ev.Kind, ev)
}

// check applies the invariants to one batch of commands.
func (f *fuzzer) check(ev Event, cmds []Command, reconciling bool) {
	t := f.t
	if testing.Verbose() {
		what := describe(ev)
		t.Logf("%s", what)
		for _, c := range cmds {
			t.Logf("    %v ch=%s br=%s pb=%s tm=%s cause=%d %s", c.Kind, c.Channel, c.Bridge, c.Playback, c.Timer, c.Cause, c.Reason)
		}
	}
	for _, c := range cmds {
		switch c.Kind {
		case CmdDial:
			if f.given[c.Channel] {
				t.Fatalf("%s: dial reuses channel %s", describe(ev), c.Channel)
			}
			f.given[c.Channel] = true
			f.channels = append(f.channels, c.Channel)
		case CmdCreateBridge:
			f.given[c.Bridge] = true
			f.bridges = append(f.bridges, c.Bridge)
		case CmdPlay:
			f.given[c.Playback] = true
			f.playbacks = append(f.playbacks, c.Playback)
		case CmdStartTimer:
			if c.After <= 0 {
				t.Fatalf("%s: timer %s without a duration", describe(ev), c.Timer)
			}
			f.given[c.Timer] = true
			f.timers = append(f.timers, c.Timer)
		}
		// A REFER from a channel in no call is declined by its ID alone
		// (Call ""): the engine cannot tell it from one it released or
		// never saw, and Asterisk answers 404 for a channel gone.
		answersStranger := c.Kind == CmdTransferProgress && c.Call == "" && ev.Kind == EventChannelTransfer && c.Channel == ev.Channel
		for _, id := range [...]string{c.Channel, c.Bridge, c.Playback, c.Timer, c.Originator} {
			if id != "" && !f.given[id] && !answersStranger {
				t.Fatalf("%s: %v names %q, which the engine never created or was given", describe(ev), c.Kind, id)
			}
		}
		if c.Channel != "" && c.Kind != CmdDial {
			if f.released[c.Channel] && !(reconciling && c.Kind == CmdHangup) && !answersStranger {
				t.Fatalf("%s: %v on channel %s after it was released", describe(ev), c.Kind, c.Channel)
			}
			switch c.Kind {
			case CmdHangup:
				f.released[c.Channel] = true
			case CmdContinue:
				// Back in the dialplan: a later StasisStart would be a new entry.
				f.released[c.Channel], f.departed[c.Channel] = true, true
			}
		}
		if c.Kind == CmdCallEnded {
			for _, p := range c.Record.Parties {
				if !f.released[p.Channel] || p.State != LegGone {
					t.Fatalf("%s: call %s ended with leg %s (%v) not released", describe(ev), c.Call, p.Channel, p.State)
				}
			}
		}
	}
	f.checkEngine(ev)
}

// checkEngine looks inside: bookkeeping agrees with the calls, and no live
// call waits without a timer or lives without a live leg.
func (f *fuzzer) checkEngine(ev Event) {
	t, e := f.t, f.e
	busy := map[string]int{}
	for id, c := range e.calls {
		if c.state == StateEnded {
			t.Fatalf("%s: ended call %s still listed", describe(ev), id)
		}
		live := 0
		for _, l := range c.legs {
			if !l.live() {
				continue
			}
			live++
			if e.channels[l.channel] != c {
				t.Fatalf("%s: live leg %s of %s not indexed", describe(ev), l.channel, id)
			}
			if l.endpoint != "" {
				busy[l.endpoint]++
			}
		}
		if live == 0 {
			t.Fatalf("%s: call %s (%v) has no live leg", describe(ev), id, c.state)
		}
		switch c.state {
		case StateTalking, StateConsultTalking:
		default:
			timed := false
			for _, tm := range c.timers {
				timed = timed || tm != ""
			}
			if !timed {
				t.Fatalf("%s: call %s waits in %v with no timer", describe(ev), id, c.state)
			}
		}
		if c.state == StateRinging && c.caller.live() && c.liveTargets() == 0 {
			t.Fatalf("%s: call %s rings nobody", describe(ev), id)
		}
	}
	for ep, n := range busy {
		if e.busy[ep] != n {
			t.Fatalf("%s: busy[%s] = %d, want %d", describe(ev), ep, e.busy[ep], n)
		}
	}
	if len(busy) != len(e.busy) {
		t.Fatalf("%s: busy has stale endpoints: %v vs %v", describe(ev), e.busy, busy)
	}
	for ep, q := range e.queues {
		for _, c := range q {
			if c.state != StateQueued || c.queuedFor != ep {
				t.Fatalf("%s: queue %s holds call %s in %v", describe(ev), ep, c.id, c.state)
			}
		}
	}
}

func FuzzEngine(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{5, 0, 3, 9, 1, 1, 10, 2, 2, 11, 3, 3})
	f.Add([]byte{7, 6, 0, 7, 6, 3, 7, 6, 1, 7, 6, 2, 3, 7, 3, 5, 6, 0})
	f.Add([]byte{0, 0, 3, 3, 9, 3, 12, 1, 3, 13, 2, 0, 14, 3, 1, 15, 4, 4})
	f.Add([]byte{4, 1, 3, 4, 2, 3, 4, 3, 3, 4, 4, 3, 4, 5, 3, 4, 6, 3, 4, 7, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		fz := newFuzzer(t)
		fz.e.SetAppTransfers(len(data)%2 == 1)
		for i := 0; i+2 < len(data); i += 3 {
			fz.step(data[i], data[i+1], data[i+2])
		}
		// Whatever happened, hanging up every channel ends every call.
		for _, ch := range fz.channels {
			fz.handle(Event{Kind: EventChannelDestroyed, Channel: ch, Cause: 16})
		}
		if n := len(fz.e.calls); n != 0 {
			t.Fatalf("%d calls outlive all their channels", n)
		}
	})
}
