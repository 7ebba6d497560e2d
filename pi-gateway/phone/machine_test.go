package phone_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/tone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line"
	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
)

// harness feeds a Machine and remembers the timers it started, so a step
// can let one expire without knowing its sequence number.
type harness struct {
	t      *testing.T
	m      *phone.Machine
	timers map[phone.Timer]uint64
}

func newHarness(t *testing.T, cfg phone.Config) *harness {
	t.Helper()
	m, err := phone.New(cfg)
	require.NoError(t, err)
	return &harness{t: t, m: m, timers: map[phone.Timer]uint64{}}
}

func (h *harness) feed(ev phone.Event) []string {
	var out []string
	for _, c := range h.m.Handle(ev) {
		switch c.Kind {
		case phone.CmdStartTimer:
			h.timers[c.Timer] = c.Seq
		case phone.CmdStopTimer:
			delete(h.timers, c.Timer)
		}
		out = append(out, c.String())
	}
	return out
}

// step is one event and what must follow. ev "expire X" lets timer X
// run out; the others name events by their short form.
type step struct {
	ev    string
	want  []string
	state phone.State
}

func (h *harness) parse(s string) phone.Event {
	h.t.Helper()
	f := strings.Fields(s)
	arg := func(i int) string {
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	switch f[0] {
	case "off":
		return phone.Event{Kind: phone.OffHook}
	case "on":
		return phone.Event{Kind: phone.OnHook}
	case "flash":
		return phone.Event{Kind: phone.Flash}
	case "digit":
		return phone.Event{Kind: phone.Digit, Digit: f[1][0]}
	case "bad-pulses":
		return phone.Event{Kind: phone.DigitError, Reason: "speed"}
	case "incoming":
		return phone.Event{Kind: phone.Incoming, Call: phone.CallID(arg(1)), From: "0312345678"}
	case "alerting":
		return phone.Event{Kind: phone.Alerting, Call: phone.CallID(arg(1))}
	case "early":
		return phone.Event{Kind: phone.EarlyMedia, Call: phone.CallID(arg(1))}
	case "answered":
		return phone.Event{Kind: phone.Answered, Call: phone.CallID(arg(1))}
	case "bye":
		return phone.Event{Kind: phone.RemoteHangup, Call: phone.CallID(arg(1))}
	case "busy":
		return phone.Event{Kind: phone.Busy, Call: phone.CallID(arg(1)), Status: 486}
	case "failed":
		return phone.Event{Kind: phone.Failed, Call: phone.CallID(arg(1)), Status: 503, Reason: "Service Unavailable"}
	case "expire":
		for tm, seq := range h.timers {
			if tm.String() == f[1] {
				return phone.Event{Kind: phone.TimerExpired, Timer: tm, Seq: seq}
			}
		}
		h.t.Fatalf("timer %s is not running", f[1])
	case "stale-timer":
		return phone.Event{Kind: phone.TimerExpired, Timer: phone.TimerInterDigit, Seq: 999}
	}
	h.t.Fatalf("unknown step %q", s)
	return phone.Event{}
}

var (
	liftSteps = step{"off", []string{"talk on", "play dial", "start first-digit 20s"}, phone.StateDialTone}
	firstOne  = step{"digit 1", []string{"stop-tone", "stop first-digit", "start inter-digit 4s"}, phone.StateDialling}
)

func TestFlows(t *testing.T) {
	custom := func(dm string) func(*phone.Config) { return func(c *phone.Config) { c.DigitMap = dm } }
	tests := []struct {
		name  string
		cfg   func(*phone.Config)
		steps []step
	}{
		{"lift and replace", nil, []step{
			liftSteps,
			{"on", []string{"stop first-digit", "stop-tone", "talk off"}, phone.StateIdle},
		}},
		{"110 completes at the third digit", nil, []step{
			liftSteps,
			firstOne,
			{"digit 1", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			{"digit 0", []string{"stop inter-digit", "dial 110"}, phone.StateCalling},
		}},
		{"0ABJ number completes without waiting", nil, append([]step{liftSteps,
			{"digit 0", []string{"stop-tone", "stop first-digit", "start inter-digit 4s"}, phone.StateDialling}},
			step{"digit 3", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			step{"digit 1", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			step{"digit 2", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			step{"digit 3", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			step{"digit 4", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			step{"digit 5", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			step{"digit 6", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			step{"digit 7", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			step{"digit 8", []string{"stop inter-digit", "dial 0312345678"}, phone.StateCalling},
		)},
		{"extension dialled on the inter-digit timer", nil, []step{
			liftSteps,
			{"digit 2", []string{"stop-tone", "stop first-digit", "start inter-digit 4s"}, phone.StateDialling},
			{"digit 0", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			{"digit 1", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			{"expire inter-digit", []string{"dial 201"}, phone.StateCalling},
		}},
		{"incomplete number times out to congestion", custom("(1xx|0xxxxxxxxx)"), []step{
			liftSteps,
			{"digit 0", []string{"stop-tone", "stop first-digit", "start incomplete 15s"}, phone.StateDialling},
			{"expire incomplete", []string{"ended misdial", "play congestion"}, phone.StateLockout},
			{"digit 1", nil, phone.StateLockout},
			{"on", []string{"stop-tone", "talk off"}, phone.StateIdle},
		}},
		{"impossible number is refused at once", custom("1xx"), []step{
			liftSteps,
			{"digit 2", []string{"stop-tone", "stop first-digit", "ended misdial", "play congestion"}, phone.StateLockout},
		}},
		{"pulse error gives the error tone", nil, []step{
			liftSteps,
			firstOne,
			{"bad-pulses", []string{"stop inter-digit", "ended misdial", "play congestion"}, phone.StateLockout},
		}},
		{"howler instead of congestion", func(c *phone.Config) { c.ErrorTone = phone.ToneHowler }, []step{
			liftSteps,
			{"bad-pulses", []string{"stop first-digit", "ended misdial", "play howler"}, phone.StateLockout},
		}},
		{"nothing dialled", nil, []step{
			liftSteps,
			{"expire first-digit", []string{"ended misdial", "play congestion"}, phone.StateLockout},
			{"on", []string{"stop-tone", "talk off"}, phone.StateIdle},
		}},
		{"flash while dialling starts again", nil, []step{
			liftSteps,
			firstOne,
			{"flash", []string{"stop inter-digit", "play dial", "start first-digit 20s"}, phone.StateDialTone},
			{"flash", nil, phone.StateDialTone},
		}},
		{"too many digits", func(c *phone.Config) { c.DigitMap = "x.T"; c.MaxDigits = 2 }, []step{
			liftSteps,
			{"digit 9", []string{"stop-tone", "stop first-digit", "start inter-digit 4s"}, phone.StateDialling},
			{"digit 9", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			{"digit 9", []string{"stop inter-digit", "ended misdial", "play congestion"}, phone.StateLockout},
		}},
		{"outgoing call answered, digits and flash, far end hangs up", nil, []step{
			liftSteps, firstOne,
			{"digit 1", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			{"digit 7", []string{"stop inter-digit", "dial 117"}, phone.StateCalling},
			{"alerting out-1", []string{"play ringback"}, phone.StateCalling},
			{"answered out-1", []string{"stop-tone", "reverse on", "ended answered"}, phone.StateConnected},
			{"digit 5", []string{"send-digit 5"}, phone.StateConnected},
			{"flash", []string{"send-digit A"}, phone.StateConnected},
			{"bad-pulses", nil, phone.StateConnected},
			{"bye out-1", []string{"reverse off", "play hangup"}, phone.StateLockout},
			{"answered out-1", nil, phone.StateLockout},
			{"on", []string{"stop-tone", "talk off"}, phone.StateIdle},
		}},
		{"caller hangs up during the call", nil, []step{
			liftSteps, firstOne,
			{"digit 1", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			{"digit 0", []string{"stop inter-digit", "dial 110"}, phone.StateCalling},
			{"answered out-1", []string{"reverse on", "ended answered"}, phone.StateConnected},
			{"on", []string{"hangup", "reverse off", "talk off"}, phone.StateIdle},
		}},
		{"early media replaces ringback and takes digits", nil, []step{
			liftSteps, firstOne,
			{"digit 1", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			{"digit 0", []string{"stop inter-digit", "dial 110"}, phone.StateCalling},
			{"digit 3", nil, phone.StateCalling},
			{"early out-1", nil, phone.StateCalling},
			{"alerting out-1", nil, phone.StateCalling},
			{"digit 3", []string{"send-digit 3"}, phone.StateCalling},
			{"answered out-1", []string{"reverse on", "ended answered"}, phone.StateConnected},
		}},
		{"early media after alerting stops ringback", nil, []step{
			liftSteps, firstOne,
			{"digit 1", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			{"digit 0", []string{"stop inter-digit", "dial 110"}, phone.StateCalling},
			{"alerting out-1", []string{"play ringback"}, phone.StateCalling},
			{"early out-1", []string{"stop-tone"}, phone.StateCalling},
		}},
		{"busy", nil, []step{
			liftSteps, firstOne,
			{"digit 1", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			{"digit 0", []string{"stop inter-digit", "dial 110"}, phone.StateCalling},
			{"alerting out-1", []string{"play ringback"}, phone.StateCalling},
			{"busy out-1", []string{"ended busy", "play busy"}, phone.StateLockout},
			{"on", []string{"stop-tone", "talk off"}, phone.StateIdle},
		}},
		{"failure gives congestion", nil, []step{
			liftSteps, firstOne,
			{"digit 1", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			{"digit 0", []string{"stop inter-digit", "dial 110"}, phone.StateCalling},
			{"failed out-1", []string{"ended failed", "play congestion"}, phone.StateLockout},
		}},
		{"handset down before answer cancels", nil, []step{
			liftSteps, firstOne,
			{"digit 1", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			{"digit 0", []string{"stop inter-digit", "dial 110"}, phone.StateCalling},
			{"alerting out-1", []string{"play ringback"}, phone.StateCalling},
			{"on", []string{"hangup", "ended abandoned", "stop-tone", "talk off"}, phone.StateIdle},
			{"answered out-1", nil, phone.StateIdle},
		}},
		{"second call gets a new id", nil, []step{
			liftSteps, firstOne,
			{"digit 1", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			{"digit 0", []string{"stop inter-digit", "dial 110"}, phone.StateCalling},
			{"on", []string{"hangup", "ended abandoned", "talk off"}, phone.StateIdle},
			liftSteps, firstOne,
			{"digit 1", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			{"digit 0", []string{"stop inter-digit", "dial 110"}, phone.StateCalling},
			{"answered out-1", nil, phone.StateCalling},
			{"answered out-2", []string{"reverse on", "ended answered"}, phone.StateConnected},
		}},
		{"connection lost during the call", nil, []step{
			liftSteps, firstOne,
			{"digit 1", []string{"stop inter-digit", "start inter-digit 4s"}, phone.StateDialling},
			{"digit 0", []string{"stop inter-digit", "dial 110"}, phone.StateCalling},
			{"answered out-1", []string{"reverse on", "ended answered"}, phone.StateConnected},
			{"failed out-1", []string{"reverse off", "play congestion"}, phone.StateLockout},
		}},
		{"incoming call answered, far end hangs up", nil, []step{
			{"incoming c1", []string{"ring"}, phone.StateRinging},
			{"incoming c1", nil, phone.StateRinging},
			{"off", []string{"stop-ringing", "talk on", "answer", "ended accepted", "reverse on"}, phone.StateConnected},
			{"digit 9", []string{"send-digit 9"}, phone.StateConnected},
			{"bye c1", []string{"reverse off", "play hangup"}, phone.StateLockout},
			{"on", []string{"stop-tone", "talk off"}, phone.StateIdle},
		}},
		{"incoming call answered, handset replaced", func(c *phone.Config) { c.ReverseOnAnswer = false }, []step{
			{"incoming c1", []string{"ring"}, phone.StateRinging},
			{"off", []string{"stop-ringing", "talk on", "answer", "ended accepted"}, phone.StateConnected},
			{"on", []string{"hangup", "talk off"}, phone.StateIdle},
		}},
		{"incoming call missed", nil, []step{
			{"incoming c1", []string{"ring"}, phone.StateRinging},
			{"flash", nil, phone.StateRinging},
			{"bye c2", nil, phone.StateRinging},
			{"bye c1", []string{"stop-ringing", "ended missed"}, phone.StateIdle},
		}},
		{"second incoming call finds the line busy", nil, []step{
			{"incoming c1", []string{"ring"}, phone.StateRinging},
			{"incoming c2", []string{"reject 486", "ended rejected"}, phone.StateRinging},
			{"off", []string{"stop-ringing", "talk on", "answer", "ended accepted", "reverse on"}, phone.StateConnected},
			{"incoming c3", []string{"reject 486", "ended rejected"}, phone.StateConnected},
		}},
		{"incoming call while dialling is refused", nil, []step{
			liftSteps,
			{"incoming c1", []string{"reject 486", "ended rejected"}, phone.StateDialTone},
		}},
		{"incoming call without id is ignored", nil, []step{
			{"incoming", nil, phone.StateIdle},
		}},
		{"flash ignored when configured off", func(c *phone.Config) { c.FlashDigit = 0 }, []step{
			{"incoming c1", []string{"ring"}, phone.StateRinging},
			{"off", []string{"stop-ringing", "talk on", "answer", "ended accepted", "reverse on"}, phone.StateConnected},
			{"flash", nil, phone.StateConnected},
		}},
		{"stale timer and events in idle", nil, []step{
			{"stale-timer", nil, phone.StateIdle},
			{"on", nil, phone.StateIdle},
			{"digit 1", nil, phone.StateIdle},
			{"answered out-1", nil, phone.StateIdle},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := phone.DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			h := newHarness(t, cfg)
			for i, s := range tt.steps {
				got := h.feed(h.parse(s.ev))
				require.Equal(t, s.want, got, "step %d %q", i, s.ev)
				require.Equal(t, s.state, h.m.State(), "step %d %q", i, s.ev)
			}
		})
	}
}

func TestRingCommandCarriesCadence(t *testing.T) {
	m, err := phone.New(phone.DefaultConfig())
	require.NoError(t, err)
	cmds := m.Handle(phone.Event{Kind: phone.Incoming, Call: "c"})
	require.Len(t, cmds, 1)
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, cmds[0].Cadence)
	assert.Equal(t, phone.CallID("c"), m.Call())
}

func TestLastError(t *testing.T) {
	h := newHarness(t, phone.DefaultConfig())
	for _, s := range []string{"off", "digit 1", "digit 1", "digit 0", "failed out-1"} {
		h.feed(h.parse(s))
	}
	assert.Equal(t, "failed 503: Service Unavailable", h.m.LastError())
	assert.Equal(t, "110", h.m.Digits())
	assert.Equal(t, phone.ToneCongestion, h.m.Tone())
	ring, rev, talk := h.m.Outputs()
	assert.False(t, ring)
	assert.False(t, rev)
	assert.True(t, talk)
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*phone.Config)
		want string
	}{
		{"digit map", func(c *phone.Config) { c.DigitMap = "(1xx" }, "digit map"},
		{"cadence empty", func(c *phone.Config) { c.RingCadence = nil }, "ring cadence"},
		{"cadence odd", func(c *phone.Config) { c.RingCadence = []time.Duration{time.Second} }, "on/off pairs"},
		{"cadence zero", func(c *phone.Config) { c.RingCadence = []time.Duration{time.Second, 0} }, "positive"},
		{"flash digit", func(c *phone.Config) { c.FlashDigit = 'x' }, "flash digit"},
		{"error tone", func(c *phone.Config) { c.ErrorTone = phone.ToneBusy }, "error tone"},
		{"timeout", func(c *phone.Config) { c.InterDigitTimeout = 0 }, "timeouts"},
		{"max digits", func(c *phone.Config) { c.MaxDigits = 0 }, "max digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := phone.DefaultConfig()
			tt.mod(&cfg)
			_, err := phone.New(cfg)
			require.ErrorIs(t, err, phone.ErrConfig)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestFromLine(t *testing.T) {
	tests := []struct {
		in   line.Event
		want phone.Event
	}{
		{line.Event{Kind: line.OffHook}, phone.Event{Kind: phone.OffHook}},
		{line.Event{Kind: line.OnHook}, phone.Event{Kind: phone.OnHook}},
		{line.Event{Kind: line.Flash}, phone.Event{Kind: phone.Flash}},
		{line.Event{Kind: line.Digit, Digit: 0}, phone.Event{Kind: phone.Digit, Digit: '0'}},
		{line.Event{Kind: line.Digit, Digit: 9}, phone.Event{Kind: phone.Digit, Digit: '9'}},
		{line.Event{Kind: line.Digit, Digit: 10}, phone.Event{Kind: phone.DigitError, Reason: "digit 10 out of range"}},
		{line.Event{Kind: line.DigitError, Reason: "speed"}, phone.Event{Kind: phone.DigitError, Reason: "speed"}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, phone.FromLine(tt.in), "%v", tt.in)
	}
}

func TestTonelist(t *testing.T) {
	jp, err := tone.Lookup("jp")
	require.NoError(t, err)
	tests := []struct {
		t    phone.Tone
		want string
		ok   bool
	}{
		{phone.ToneDial, "400", true},
		{phone.ToneRingback, "400*16/1000,0/2000", true},
		{phone.ToneBusy, "400/500,0/500", true},
		{phone.ToneCongestion, "400/500,0/500", true},
		{phone.ToneHangup, "400/500,0/500", true},
		{phone.ToneHowler, phone.HowlerTonelist, true},
		{phone.ToneNone, "", false},
	}
	for _, tt := range tests {
		got, ok := tt.t.Tonelist(jp)
		assert.Equal(t, tt.ok, ok, "%v", tt.t)
		assert.Equal(t, tt.want, got, "%v", tt.t)
	}
	// A zone without a hang-up tone falls back to busy.
	z := tone.Zone{Tones: map[string]string{tone.Busy: "480+620/500,0/500"}}
	got, ok := phone.ToneHangup.Tonelist(z)
	assert.True(t, ok)
	assert.Equal(t, "480+620/500,0/500", got)
}

func TestStrings(t *testing.T) {
	for k := phone.OffHook; k <= phone.TimerExpired+1; k++ {
		assert.NotEmpty(t, k.String())
	}
	for k := phone.CmdRing; k <= phone.CmdCallEnded+1; k++ {
		assert.NotEmpty(t, k.String())
	}
	for s := phone.StateIdle; s <= phone.StateLockout+1; s++ {
		assert.NotEmpty(t, s.String())
	}
	for tn := phone.ToneNone; tn <= phone.ToneHowler+1; tn++ {
		assert.NotEmpty(t, tn.String())
	}
	for _, r := range append(phone.Results(), 0) {
		assert.NotEmpty(t, r.String())
	}
	assert.Equal(t, "Timer(9)", phone.Timer(9).String())
	assert.Equal(t, "State(99)", phone.State(99).String())
	evs := []phone.Event{
		{Kind: phone.Digit, Digit: '1'}, {Kind: phone.DigitError, Reason: "x"},
		{Kind: phone.Incoming, Call: "c", From: "f"}, {Kind: phone.Busy, Call: "c", Status: 486},
		{Kind: phone.TimerExpired, Timer: phone.TimerInterDigit, Seq: 3}, {Kind: phone.Answered, Call: "c"},
		{Kind: phone.OffHook},
	}
	for _, e := range evs {
		assert.NotEmpty(t, e.String())
	}
	assert.Equal(t, "ringing", phone.StateRinging.String())
	assert.False(t, phone.StateRinging.OffHook())
	assert.True(t, phone.StateLockout.OffHook())
}
