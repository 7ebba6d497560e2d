package sipua

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCallTransitions(t *testing.T) {
	tests := []struct {
		from, to CallState
		ok       bool
	}{
		{StateCalling, StateProceeding, true},
		{StateCalling, StateEarly, true},
		{StateCalling, StateConfirmed, true},
		{StateProceeding, StateEarly, true},
		{StateEarly, StateConfirmed, true},
		{StateEarly, StateProceeding, false},
		{StateRinging, StateAnswering, true},
		{StateRinging, StateConfirmed, false},
		{StateRinging, StateTerminating, false},
		{StateAnswering, StateConfirmed, true},
		{StateConfirmed, StateTerminating, true},
		{StateConfirmed, StateEarly, false},
		{StateTerminating, StateConfirmed, true}, // a 2xx crossing our CANCEL
		{StateTerminating, StateEnded, true},
		{StateEnded, StateConfirmed, false},
		{StateEnded, StateCalling, false},
	}
	for _, tt := range tests {
		t.Run(tt.from.String()+"→"+tt.to.String(), func(t *testing.T) {
			assert.Equal(t, tt.ok, canMove(tt.from, tt.to))
		})
	}
	// Every state but Ended can end.
	for s := StateCalling; s < StateEnded; s++ {
		assert.True(t, canMove(s, StateEnded), "%s must be able to end", s)
	}
}

func TestStrings(t *testing.T) {
	for s := StateCalling; s <= StateEnded; s++ {
		assert.NotContains(t, s.String(), "CallState(")
	}
	assert.Equal(t, "CallState(99)", CallState(99).String())
	for k := EventTrying; k <= EventEnded; k++ {
		assert.NotContains(t, k.String(), "EventKind(")
	}
	assert.Equal(t, "EventKind(0)", EventKind(0).String())
	for c := CauseLocalHangup; c <= CauseShutdown; c++ {
		assert.NotContains(t, c.String(), "EndCause(")
	}
	assert.Equal(t, "EndCause(0)", EndCause(0).String())
	for s := RegNone; s <= RegStopped; s++ {
		assert.NotContains(t, s.String(), "RegStatus(")
	}
	assert.Equal(t, "RegStatus(9)", RegStatus(9).String())
	assert.Equal(t, "outgoing", Outgoing.String())
	assert.Equal(t, "incoming", Incoming.String())
	assert.Equal(t, "CallDirection(0)", CallDirection(0).String())
	assert.Equal(t, "ended(rejected 486 Busy Here)", CallEvent{Kind: EventEnded, Cause: CauseRejected, Status: 486, Reason: "Busy Here"}.String())
	assert.Equal(t, "dtmf(5)", CallEvent{Kind: EventDTMF, Digit: '5'}.String())
	assert.Equal(t, "ringing(180)", CallEvent{Kind: EventRinging, Status: 180}.String())
	assert.Equal(t, "answered", CallEvent{Kind: EventAnswered}.String())
	assert.Equal(t, `"Alice" <sip:a@h>`, Party{Name: "Alice", URI: "sip:a@h"}.String())
	assert.Equal(t, "Busy Here", statusText(486))
	assert.Equal(t, "Client Error", statusText(499))
}

func TestEventQueueOrderAndClose(t *testing.T) {
	q := newEventQueue(time.Minute)
	for i := range 100 {
		q.push(CallEvent{Kind: EventDTMF, Digit: byte('0' + i%10)})
	}
	q.push(CallEvent{Kind: EventEnded})
	q.push(CallEvent{Kind: EventDTMF}) // after Ended: dropped
	n := 0
	for e := range q.out {
		if e.Kind == EventEnded {
			assert.Equal(t, 100, n)
			continue
		}
		assert.Equal(t, byte('0'+n%10), e.Digit)
		n++
	}
	// An unread queue closes once its keep time has passed (0 here).
	q = newEventQueue(0)
	q.push(CallEvent{Kind: EventTrying})
	q.push(CallEvent{Kind: EventEnded})
	select {
	case <-q.done():
	case <-time.After(5 * time.Second):
		t.Fatal("unread queue did not give up")
	}
}

func TestRateLimiter(t *testing.T) {
	now := time.Unix(100, 0)
	r := newRateLimiter(5, time.Second)
	r.now = func() time.Time { return now }
	var waits []time.Duration
	for range 7 {
		waits = append(waits, r.reserve())
	}
	assert.Equal(t, []time.Duration{0, 0, 0, 0, 0, time.Second, time.Second}, waits, "the sixth waits a second")
	now = now.Add(3 * time.Second)
	assert.Zero(t, r.reserve())
	assert.NoError(t, r.wait(context.Background()))
}

func TestBackoff(t *testing.T) {
	prev := time.Duration(0)
	for n := range 12 {
		d := backoff(n)
		assert.GreaterOrEqual(t, d, time.Duration(float64(backoffMin)*0.8))
		assert.LessOrEqual(t, d, time.Duration(float64(backoffMax)*1.2))
		if n < 6 {
			assert.Greater(t, d, prev*8/10, "grows")
		}
		prev = d
	}
}

func parseResponse(t testing.TB, raw string) *sip.Response {
	t.Helper()
	m, err := sip.ParseMessage([]byte(raw))
	require.NoError(t, err)
	res, ok := m.(*sip.Response)
	require.True(t, ok)
	return res
}

func TestRegisterResponseReading(t *testing.T) {
	ours := sip.Uri{Scheme: "sip", User: "blackphone", Host: "192.0.2.5", Port: 5062}
	base := "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.5:5062;branch=z9hG4bK1;rport=40000;received=203.0.113.9\r\nFrom: <sip:blackphone@pbx>;tag=1\r\nTo: <sip:blackphone@pbx>;tag=2\r\nCall-ID: x\r\nCSeq: 2 REGISTER\r\n"
	tests := []struct {
		name    string
		headers string
		want    time.Duration
	}{
		{name: "contact expires", headers: "Contact: <sip:blackphone@192.0.2.5:5062>;expires=120\r\nExpires: 600\r\n", want: 120 * time.Second},
		{name: "other bindings ignored", headers: "Contact: <sip:blackphone@10.0.0.9:5060>;expires=30, <sip:blackphone@192.0.2.5:5062>;expires=90\r\n", want: 90 * time.Second},
		{name: "expires header", headers: "Contact: <sip:blackphone@10.0.0.9>;expires=30\r\nExpires: 300\r\n", want: 300 * time.Second},
		{name: "nothing: as asked", headers: "", want: 600 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := parseResponse(t, base+tt.headers+"Content-Length: 0\r\n\r\n")
			assert.Equal(t, tt.want, grantedExpiry(res, ours, 600*time.Second))
		})
	}
	res := parseResponse(t, base+"Retry-After: 120 (maintenance)\r\nMin-Expires: 60\r\nContent-Length: 0\r\n\r\n")
	ap, ok := viaReceived(res)
	require.True(t, ok)
	assert.Equal(t, "203.0.113.9:40000", ap.String())
	assert.Equal(t, 120*time.Second, headerSeconds(res, "Retry-After"))
	assert.Equal(t, time.Minute, headerSeconds(res, "Min-Expires"))
	assert.Zero(t, headerSeconds(res, "Expires"))
}

func TestParseDTMFRelay(t *testing.T) {
	tests := []struct {
		ct, body string
		digit    byte
		ok       bool
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', true},
		{"application/dtmf-relay", "signal= #\r\n", '#', true},
		{"Application/DTMF-Relay; charset=x", "Signal=a\r\n", 'A', true},
		{"application/dtmf-relay", "Signal=16\r\n", 0, false},
		{"application/dtmf-relay", "Duration=160\r\n", 0, false},
		{"application/dtmf", "5", 0, false},
		{"application/dtmf-relay", "Signal=E\r\n", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			req := sip.NewRequest(sip.INFO, sip.Uri{Scheme: "sip", Host: "h"})
			ct := sip.ContentTypeHeader(tt.ct)
			req.AppendHeader(&ct)
			req.SetBody([]byte(tt.body))
			d, ok := parseDTMFRelay(req)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.digit, d)
		})
	}
}

func TestDialTarget(t *testing.T) {
	ua, err := New(Config{User: "blackphone", Registrar: "sip:127.0.0.1:5070", Bind: "127.0.0.1:0"}, nil)
	require.NoError(t, err)
	defer ua.closeListeners()
	tests := []struct {
		in, want, err string
	}{
		{in: "0312345678", want: "sip:0312345678@127.0.0.1:5070"},
		{in: "*67#", want: "sip:*67%23@127.0.0.1:5070"},
		{in: "+81312345678", want: "sip:+81312345678@127.0.0.1:5070"},
		{in: "sip:bob@127.0.0.1:5080", want: "sip:bob@127.0.0.1:5080"},
		{in: "", err: "nothing to dial"},
		{in: "a@b", err: "not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := ua.dialTarget(tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, u.String())
		})
	}
}
