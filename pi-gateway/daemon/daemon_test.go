package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/tone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio"
	"github.com/kurodenwa/kurodenwa/pi-gateway/config"
	"github.com/kurodenwa/kurodenwa/pi-gateway/media"
	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/sipua"
)

func TestTranslate(t *testing.T) {
	ended := func(c sipua.EndCause, st int) sipua.CallEvent {
		return sipua.CallEvent{Kind: sipua.EventEnded, Cause: c, Status: st}
	}
	tests := []struct {
		name string
		ev   sipua.CallEvent
		dir  sipua.CallDirection
		want phone.EventKind // 0: nothing for the phone
	}{
		{"trying", sipua.CallEvent{Kind: sipua.EventTrying}, sipua.Outgoing, 0},
		{"ringing", sipua.CallEvent{Kind: sipua.EventRinging, Status: 180}, sipua.Outgoing, phone.Alerting},
		{"early media", sipua.CallEvent{Kind: sipua.EventEarlyMedia, Status: 183}, sipua.Outgoing, phone.EarlyMedia},
		{"answered", sipua.CallEvent{Kind: sipua.EventAnswered}, sipua.Outgoing, phone.Answered},
		{"incoming answered by us", sipua.CallEvent{Kind: sipua.EventAnswered}, sipua.Incoming, 0},
		{"held", sipua.CallEvent{Kind: sipua.EventHeld}, sipua.Outgoing, 0},
		{"486", ended(sipua.CauseRejected, 486), sipua.Outgoing, phone.Busy},
		{"600", ended(sipua.CauseRejected, 600), sipua.Outgoing, phone.Busy},
		{"404", ended(sipua.CauseRejected, 404), sipua.Outgoing, phone.Failed},
		{"timeout", ended(sipua.CauseFailed, 408), sipua.Outgoing, phone.Failed},
		{"BYE", ended(sipua.CauseRemoteHangup, 0), sipua.Outgoing, phone.RemoteHangup},
		{"CANCEL", ended(sipua.CauseCancelled, 0), sipua.Incoming, phone.RemoteHangup},
		{"our BYE", ended(sipua.CauseLocalHangup, 0), sipua.Outgoing, 0},
		{"our reject", ended(sipua.CauseDeclined, 486), sipua.Incoming, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Translate(tt.ev, tt.dir)
			assert.Equal(t, tt.want != 0, ok)
			if ok {
				assert.Equal(t, tt.want, got.Kind)
				assert.Equal(t, tt.ev.Status, got.Status)
			}
		})
	}
}

// fakeCall is a Call driven by the test.
type fakeCall struct {
	id      string
	dir     sipua.CallDirection
	events  chan sipua.CallEvent
	actions chan string
	audio   *fakeAudio
}

func newFakeCall(id string, dir sipua.CallDirection) *fakeCall {
	return &fakeCall{id: id, dir: dir, events: make(chan sipua.CallEvent, 8), actions: make(chan string, 8), audio: &fakeAudio{in: make(chan []int16, 8), out: make(chan []int16, 8)}}
}

func (c *fakeCall) ID() string                     { return c.id }
func (c *fakeCall) Direction() sipua.CallDirection { return c.dir }
func (c *fakeCall) Remote() sipua.Party            { return sipua.Party{User: "bob", URI: "sip:bob@x"} }
func (c *fakeCall) State() sipua.CallState         { return sipua.StateConfirmed }
func (c *fakeCall) Events() <-chan sipua.CallEvent { return c.events }
func (c *fakeCall) Answer(context.Context) error   { c.actions <- "answer"; return nil }
func (c *fakeCall) Reject(_ context.Context, s int) error {
	c.actions <- "reject"
	return nil
}
func (c *fakeCall) Hangup(context.Context) error { c.actions <- "hangup"; return nil }
func (c *fakeCall) SendDigit(_ context.Context, d byte) error {
	c.actions <- "digit " + string(d)
	return nil
}
func (c *fakeCall) Audio() sipua.Audio { return c.audio }
func (c *fakeCall) Stats() media.Stats {
	return media.Stats{PacketsSent: 10, PacketsReceived: 9, Lost: 1}
}

// fakeAudio hands out frames from in and keeps what is written in out.
type fakeAudio struct{ in, out chan []int16 }

func (a *fakeAudio) Read(ctx context.Context, f []int16) error {
	select {
	case fr := <-a.in:
		copy(f, fr)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *fakeAudio) Write(ctx context.Context, f []int16) error {
	select {
	case a.out <- append([]int16(nil), f...):
	case <-ctx.Done():
	}
	return nil
}

type fakeUA struct {
	dialled  chan string
	next     *fakeCall
	incoming chan Call
}

func (u *fakeUA) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (u *fakeUA) Ready() <-chan struct{}        { c := make(chan struct{}); close(c); return c }
func (u *fakeUA) Dial(_ context.Context, n string) (Call, error) {
	u.dialled <- n
	return u.next, nil
}
func (u *fakeUA) NextIncoming(ctx context.Context) (Call, bool) {
	select {
	case c := <-u.incoming:
		return c, true
	case <-ctx.Done():
		return nil, false
	}
}
func (u *fakeUA) Registration() sipua.RegState { return sipua.RegState{Status: sipua.RegRegistered} }

type fakePoster chan phone.Event

func (p fakePoster) Post(_ context.Context, ev phone.Event) error { p <- ev; return nil }

type fakePath struct{ connected chan sipua.Audio }

func (p fakePath) Connect(a sipua.Audio)  { p.connected <- a }
func (p fakePath) Disconnect(sipua.Audio) { p.connected <- nil }

func TestNetworkOutgoingCall(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	call := newFakeCall("abc", sipua.Outgoing)
	ua := &fakeUA{dialled: make(chan string, 1), next: call}
	path := fakePath{make(chan sipua.Audio, 4)}
	posted := make(fakePoster, 8)
	n := NewNetwork(ctx, ua, path, nil)
	n.SetPoster(posted)

	require.NoError(t, n.Dial(ctx, "out-1", "202"))
	assert.Equal(t, "202", within(t, ua.dialled, "ua.dialled"))
	require.Len(t, n.Calls(), 1)
	assert.Equal(t, "out", n.Calls()[0].Direction)

	call.events <- sipua.CallEvent{Kind: sipua.EventRinging, Status: 180}
	assert.Equal(t, phone.Event{Kind: phone.Alerting, Call: "out-1", Status: 180}, within(t, posted, "posted"))
	call.events <- sipua.CallEvent{Kind: sipua.EventAnswered}
	assert.Equal(t, sipua.Audio(call.audio), within(t, path.connected, "path.connected"), "audio attached on answer")
	assert.Equal(t, phone.Answered, within(t, posted, "posted").Kind)

	// Actions go out in order on the call's worker.
	require.NoError(t, n.SendDigit(ctx, "out-1", 'A'))
	require.NoError(t, n.Hangup(ctx, "out-1"))
	assert.Equal(t, "digit A", within(t, call.actions, "call.actions"))
	assert.Equal(t, "hangup", within(t, call.actions, "call.actions"))

	call.events <- sipua.CallEvent{Kind: sipua.EventEnded, Cause: sipua.CauseRemoteHangup}
	close(call.events)
	assert.Nil(t, within(t, path.connected, "path.connected"), "audio detached at the end")
	ev := <-posted
	assert.Equal(t, phone.RemoteHangup, ev.Kind)
	assert.Equal(t, phone.CallID("out-1"), ev.Call)
	cancel()
	n.Wait()
	assert.Empty(t, n.Calls())
	assert.Equal(t, uint64(10), n.Media().PacketsSent, "counters of ended calls stay")
	assert.ErrorIs(t, n.Answer(ctx, "out-1"), ErrNoCall)
}

func TestNetworkIncomingCall(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	call := newFakeCall("sip-call-id", sipua.Incoming)
	ua := &fakeUA{incoming: make(chan Call, 1)}
	posted := make(fakePoster, 8)
	n := NewNetwork(ctx, ua, fakePath{make(chan sipua.Audio, 4)}, nil)
	n.SetPoster(posted)
	go n.Serve(ctx)
	ua.incoming <- call
	ev := <-posted
	assert.Equal(t, phone.Incoming, ev.Kind)
	assert.Equal(t, phone.CallID("sip-call-id"), ev.Call)
	require.NoError(t, n.Answer(ctx, ev.Call))
	assert.Equal(t, "answer", within(t, call.actions, "call.actions"))
	s := SIPStatus{UA: ua, Network: n, Registrar: "pbx"}.Registration()
	assert.Equal(t, "registered", s.State)
	cancel()
	n.Wait()
}

// fakeDevice is a sound card whose microphone and earpiece are channels.
type fakeDevice struct{ mic, ear chan []int16 }

func (d *fakeDevice) Read(ctx context.Context, f []int16) error {
	select {
	case fr := <-d.mic:
		copy(f, fr)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *fakeDevice) Write(ctx context.Context, f []int16) error {
	select {
	case d.ear <- append([]int16(nil), f...):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (d *fakeDevice) Latency() (z time.Duration) { return }
func (d *fakeDevice) Close() error               { return nil }

// earFrames collects n frames from the earpiece, each within a bound.
func earFrames(t *testing.T, d *fakeDevice, n int) []int16 {
	t.Helper()
	var pcm []int16
	for range n {
		pcm = append(pcm, within(t, d.ear, "an earpiece frame")...)
	}
	return pcm
}

// within receives from c or fails the test after 5 s.
func within[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s within 5 s", what)
		var zero T
		return zero
	}
}

// sendWithin sends v on c or fails the test after 5 s.
func sendWithin[T any](t *testing.T, c chan<- T, v T, what string) {
	t.Helper()
	select {
	case c <- v:
	case <-time.After(5 * time.Second):
		t.Fatalf("could not send %s within 5 s", what)
	}
}

func TestPumpTonesAndCall(t *testing.T) {
	zone, err := tone.Lookup("jp")
	require.NoError(t, err)
	dev := &fakeDevice{mic: make(chan []int16), ear: make(chan []int16)}
	p := NewPump(dev, zone, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	require.NoError(t, p.PlayTone(phone.ToneDial))
	// A frame may have been on its way before the tone started.
	earFrames(t, dev, 1)
	det := tone.Detector{Freq: 400}.Detect(earFrames(t, dev, 25))
	assert.InDelta(t, 1.0, det.OnShare, 0.01, "dial tone: 400 Hz continuous")

	require.NoError(t, p.StopTone())
	earFrames(t, dev, 1)
	assert.Zero(t, tone.MeanSquare(earFrames(t, dev, 5)), "silence without a tone")

	// A call's audio takes over both ways.
	a := &fakeAudio{in: make(chan []int16, 1), out: make(chan []int16, 1)}
	p.Connect(a)
	remote := make([]int16, audio.FrameSamples)
	remote[0] = 1234
	sendWithin(t, a.in, remote, "the call's audio")
	// A local frame made before Connect may still be on its way; the pump
	// may equally have switched to the call already.
	heard := false
	for range 2 {
		if earFrames(t, dev, 1)[0] == 1234 {
			heard = true
			break
		}
	}
	assert.True(t, heard, "earpiece hears the call")
	mic := make([]int16, audio.FrameSamples)
	mic[0] = 42
	sendWithin(t, dev.mic, mic, "a microphone frame")
	assert.Equal(t, int16(42), within(t, a.out, "the call's microphone frame")[0], "the call hears the microphone")

	// After the call, the hang-up tone.
	require.NoError(t, p.PlayTone(phone.ToneHangup))
	p.Disconnect(a)
	sendWithin(t, a.in, make([]int16, audio.FrameSamples), "a frame to unblock a pending call Read")
	earFrames(t, dev, 2)
	assert.True(t, tone.Detector{Freq: 400}.Detect(earFrames(t, dev, 20)).Present, "hang-up tone")

	cancel()
	require.NoError(t, within(t, done, "the pump's end"))
}

func TestPumpUnknownTone(t *testing.T) {
	p := NewPump(&fakeDevice{}, tone.Zone{Name: "empty"}, nil)
	assert.Error(t, p.PlayTone(phone.ToneDial))
	assert.NoError(t, p.PlayTone(phone.ToneHowler), "the howler has a fallback")
}

func TestSIPConfig(t *testing.T) {
	env := map[string]string{"KURODENWA_SIP_PASSWORD": "Secret-Password-1"}
	tests := []struct {
		name, yaml string
		check      func(t *testing.T, c sipua.Config)
	}{
		{"asterisk", "sip: {registrar: 'pbx.local:5060', bind: '127.0.0.1:5062'}\n", func(t *testing.T, c sipua.Config) {
			assert.Equal(t, "sip:pbx.local:5060", c.Registrar)
			assert.Empty(t, c.Domain, "the registrar's port stays in dialled numbers")
			assert.Equal(t, "127.0.0.1", c.ContactHost)
			assert.Equal(t, 10000, c.Media.PortMin)
			assert.False(t, c.Media.Symmetric)
		}},
		{"twilio", "sip: {mode: twilio, registrar: 'home.sip.twilio.com', transport: tls, outbound_proxy: 'home.sip.tokyo.twilio.com'}\n", func(t *testing.T, c sipua.Config) {
			assert.Equal(t, sipua.TLS, c.Transport)
			assert.Equal(t, "sip:home.sip.tokyo.twilio.com", c.OutboundProxy)
			assert.True(t, c.Media.Symmetric)
			assert.True(t, c.RewriteContact)
			assert.Empty(t, c.ContactHost, "wildcard bind")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tt.yaml), "t", config.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
			require.NoError(t, err)
			c := SIPConfig(cfg)
			assert.Equal(t, "Secret-Password-1", c.Password)
			tt.check(t, c)
		})
	}
}
