package gateway

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	barepkg "github.com/kurodenwa/kurodenwa/internal/baresip"
	"github.com/kurodenwa/kurodenwa/internal/tone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/sim"
	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/status"
)

func mCalls(result string) string { return status.Labelled(status.MetricCalls, "result", result) }

func mPhoneState(st phone.State) string {
	return status.Labelled(status.MetricPhoneState, "state", st.String())
}

// rings is true for a line whose bell rings.
func rings(o sim.Outputs) bool { return o.Ringing }

// talking is the line of an answered call: bell silent, speech path
// connected, polarity reversed (the answer signal).
func talking(o sim.Outputs) bool { return !o.Ringing && o.Talk && o.Reversed }

// checkRinging: the bell rings with the tone plan's cadence, the phone
// rings, /health and /metrics say so.
func checkRinging(t *testing.T, g *gatewayDaemon) {
	t.Helper()
	o := g.waitOutputs(t, "ringing", rings)
	assert.Equal(t, g.ringCadence(), o.Cadence, "the bell's cadence is the tone plan's")
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, o.Cadence, "Japan: 1 s on, 2 s off")
	assert.False(t, o.Talk, "no speech path while the bell rings")
	ev := g.waitEvent(t, phone.Incoming)
	assert.Equal(t, phone.StateRinging, ev.st)
	h := g.health(t)
	require.NotNil(t, h.Line)
	assert.Equal(t, "ringing", h.Line.State)
	assert.Contains(t, h.Line.Backend, "ringing")
	require.Len(t, h.Calls, 1)
	assert.Equal(t, "in", h.Calls[0].Direction)
	assert.Equal(t, "ringing", h.Calls[0].State)
	m := g.metrics(t)
	assert.Equal(t, 1.0, m[mPhoneState(phone.StateRinging)])
	assert.Equal(t, 1.0, m[status.MetricActiveCalls])
}

// lift answers: the bell stops before the speech path closes, polarity
// reverses, the phone is connected.
func lift(t *testing.T, g *gatewayDaemon) {
	t.Helper()
	g.line.Lift()
	g.waitState(t, phone.StateConnected)
	g.waitOutputs(t, "answered (bell silent, talk, reversed)", talking)
	for _, o := range g.outs.all() {
		assert.False(t, o.Ringing && o.Talk, "the ringing voltage never meets the speech path: %v", o)
	}
}

// checkTalking: /health shows the call confirmed, and the RTP counters of
// /metrics move while it lasts.
func checkTalking(t *testing.T, g *gatewayDaemon) {
	t.Helper()
	h := g.health(t)
	require.NotNil(t, h.Line)
	assert.Equal(t, "connected", h.Line.State)
	require.Len(t, h.Calls, 1)
	assert.Equal(t, "confirmed", h.Calls[0].State)
	before := g.metrics(t)
	g.ear.next(t, time.Second)
	after := g.metrics(t)
	t.Logf("/metrics: sent %v → %v, received %v → %v, lost %v, late %v, jitter %v s",
		before[status.SampleRTPSent], after[status.SampleRTPSent], before[status.SampleRTPReceived], after[status.SampleRTPReceived],
		after[status.MetricRTPLost], after[status.MetricRTPLate], after[status.MetricRTPJitter])
	assert.Greater(t, after[status.SampleRTPSent], before[status.SampleRTPSent], "RTP packets sent move")
	assert.Greater(t, after[status.SampleRTPReceived], before[status.SampleRTPReceived], "RTP packets received move")
	assert.Positive(t, before[status.SampleRTPSent])
	assert.Equal(t, 1.0, after[mPhoneState(phone.StateConnected)])
	assert.Equal(t, 1.0, after[status.MetricActiveCalls])
	assert.Contains(t, after, status.MetricRTPLost)
	assert.Contains(t, after, status.MetricRTPLate)
	assert.Contains(t, after, status.MetricRTPJitter)
}

// checkHangupTone: after the far end's BYE the phone holds the line with
// the hang-up tone (400 Hz, 0.5 s on / 0.5 s off), polarity back to
// normal.
func checkHangupTone(t *testing.T, g *gatewayDaemon) {
	t.Helper()
	ev := g.waitEvent(t, phone.RemoteHangup)
	assert.Equal(t, phone.StateLockout, ev.st)
	assert.Contains(t, ev.cmds, phone.Command{Kind: phone.CmdPlayTone, Tone: phone.ToneHangup})
	o := g.waitOutputs(t, "polarity normal", func(o sim.Outputs) bool { return !o.Reversed })
	assert.True(t, o.Talk, "the speech path stays for the hang-up tone")
	pcm := g.ear.next(t, 2*time.Second)
	det := tone.Detector{Freq: 400}.Detect(pcm)
	assert.True(t, det.Present && det.OnShare > 0.3 && det.OnShare < 0.7 && len(det.Runs) >= 3,
		"hang-up tone 400 Hz 0.5 s on / 0.5 s off: on %.0f%%, runs %v", 100*det.OnShare, det.Runs)
	// The first and last runs are cut by the window; the tone plays
	// from its own samples, so the others are exact but for detection.
	for i, r := range det.Runs {
		if i > 0 && i < len(det.Runs)-1 {
			assert.InDelta(t, float64(500*time.Millisecond), float64(r.Duration), float64(100*time.Millisecond), "hang-up tone runs %v", det.Runs)
		}
	}
}

// replace puts the handset down: the daemon is idle again.
func replace(t *testing.T, g *gatewayDaemon) {
	t.Helper()
	g.line.Replace()
	g.waitState(t, phone.StateIdle)
	assert.Equal(t, sim.Outputs{}, g.line.Outputs(), "every output at rest")
	checkIdle(t, g)
}

// checkIdle: /health and /metrics show no call.
func checkIdle(t *testing.T, g *gatewayDaemon) {
	t.Helper()
	h := g.health(t)
	require.NotNil(t, h.Line)
	assert.Equal(t, "idle", h.Line.State)
	assert.Empty(t, h.Calls)
	m := g.metrics(t)
	assert.Equal(t, 1.0, m[mPhoneState(phone.StateIdle)])
	assert.Zero(t, m[status.MetricActiveCalls])
}

// TestDaemonBaresipCallsPhone: baresip calls the black phone. The bell
// rings (1 s on / 2 s off) and baresip gets 180; the handset is lifted:
// 200, speech path and reversed polarity; the file audio's 1004 Hz is in
// baresip's recording and baresip's 440 Hz reaches the earpiece; /health
// and /metrics follow the call; baresip hangs up and the earpiece hears
// the hang-up tone until the handset goes down.
func TestDaemonBaresipCallsPhone(t *testing.T) {
	b := startBaresip(t)
	g := startDaemon(t, fmt.Sprintf("127.0.0.1:%d", b.SIPPort))
	checkIdle(t, g)
	b.command(t, "dial", g.uri())
	checkRinging(t, g)
	b.waitEvent(t, "CALL_RINGING")

	lift(t, g)
	b.waitEvent(t, "CALL_ESTABLISHED")
	g.ear.next(t, 500*time.Millisecond) // the jitter buffer fills
	pcm := g.ear.next(t, 3*time.Second)
	ok, det := barepkg.ToneFor(pcm, baresipTone, 2*time.Second)
	assert.True(t, ok, "baresip's %v Hz in the earpiece for 2 of 3 s: %v", baresipTone, det.Runs)
	checkTalking(t, g)

	b.command(t, "hangup", "")
	checkHangupTone(t, g)
	b.waitEvent(t, "CALL_CLOSED")
	got, d := barepkg.ToneFor(b.receivedAudio(t), micTone, 2*time.Second)
	assert.True(t, got, "baresip's recording holds the file audio's %v Hz: %v", micTone, d.Runs)

	replace(t, g)
	m := g.metrics(t)
	assert.Equal(t, 1.0, m[mCalls("accepted")])
	assert.Positive(t, m[status.SampleRTPSent])
	assert.Positive(t, m[status.SampleRTPReceived])
}

// TestDaemonBaresipGivesUpWhileRinging: baresip calls and hangs up
// (CANCEL) while the bell rings: the bell stops, the phone is idle, the
// call counts as missed.
func TestDaemonBaresipGivesUpWhileRinging(t *testing.T) {
	b := startBaresip(t)
	g := startDaemon(t, fmt.Sprintf("127.0.0.1:%d", b.SIPPort))
	b.command(t, "dial", g.uri())
	checkRinging(t, g)
	b.waitEvent(t, "CALL_RINGING")
	b.command(t, "hangup", "")
	g.waitOutputs(t, "the bell stops", func(o sim.Outputs) bool { return !o.Ringing })
	ev := g.waitEvent(t, phone.RemoteHangup)
	assert.Equal(t, phone.StateIdle, ev.st)
	b.waitEvent(t, "CALL_CLOSED")
	assert.Equal(t, sim.Outputs{}, g.line.Outputs())
	assert.False(t, g.line.OffHook())
	checkIdle(t, g)
	assert.Equal(t, 1.0, g.metrics(t)[mCalls("missed")])
}

// callDaemon starts a sipp UAC scenario against the daemon.
func callDaemon(t *testing.T, g *gatewayDaemon, dir, scenario string, extra ...string) *proc {
	t.Helper()
	sipp := needBinary(t, "sipp", "sip-tester")
	args := sippArgs(t, dir, scenario, append(extra, "-s", testUser, g.ua.Addr().String())...)
	return startProc(t, dir, "sipp-"+strings.TrimSuffix(scenario, ".xml"), sipp, args...)
}

// TestDaemonSippCall: sipp calls the daemon with PCMU and PCMA offered in
// either order. The dialogue is exactly INVITE, (100), 180, 200, ACK, BYE,
// 200; the answer is the first offered codec with telephone-event;
// sipp's RTP echo brings the file audio's 1004 Hz back to the earpiece;
// the BYE leaves the hang-up tone.
func TestDaemonSippCall(t *testing.T) {
	tests := []struct {
		name, offer string
		answer      string // the answer's m= payload types
		rtpmap      string
	}{
		{"PCMU first", "0 8 101", "0 101", "a=rtpmap:0 PCMU/8000"},
		{"PCMA first", "8 0 101", "8 101", "a=rtpmap:8 PCMA/8000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			needBinary(t, "sipp", "sip-tester")
			// Nobody registers the daemon here: its REGISTERs go to a
			// port with no listener and calls do not need them.
			g := startDaemon(t, fmt.Sprintf("127.0.0.1:%d", freePort(t)))
			dir := workDir(t)
			// -d: how long sipp talks (echoes) before its BYE.
			p := callDaemon(t, g, dir, "daemon_uac_call.xml", "-rtp_echo", "-key", "offer", tt.offer, "-d", "8000")
			checkRinging(t, g)
			lift(t, g)
			g.ear.next(t, 300*time.Millisecond)
			pcm := g.ear.next(t, 1500*time.Millisecond)
			ok, det := barepkg.ToneFor(pcm, micTone, time.Second)
			assert.True(t, ok, "the file audio's %v Hz comes back through sipp's echo: %v", micTone, det.Runs)
			checkTalking(t, g)
			checkHangupTone(t, g)
			require.NoError(t, p.wait(t, 15*time.Second), "sipp scenario")
			replace(t, g)

			msgs := readSippTrace(t, filepath.Join(dir, "sipp-messages.log"))
			var seq []string
			for _, m := range msgs {
				if len(seq) == 0 || seq[len(seq)-1] != m.summary() {
					seq = append(seq, m.summary()) // a retransmission is the same step
				}
			}
			t.Logf("SIP dialogue seen by sipp: %v", seq)
			seq = slices.DeleteFunc(seq, func(s string) bool { return s == "< 100 INVITE" })
			assert.Equal(t, []string{"> INVITE", "< 180 INVITE", "< 200 INVITE", "> ACK", "> BYE", "< 200 BYE"}, seq)
			ok200 := findMessage(msgs, "< 200 INVITE")
			require.NotNil(t, ok200, "a 200 to the INVITE in the trace")
			assert.Contains(t, ok200.lines, "Content-Type: application/sdp")
			var mline string
			for _, l := range ok200.lines {
				if strings.HasPrefix(l, "m=audio ") {
					mline = l
				}
			}
			assert.Regexp(t, `^m=audio [0-9]+ RTP/AVP `+tt.answer+`$`, mline)
			assert.Contains(t, ok200.lines, tt.rtpmap)
			assert.Contains(t, ok200.lines, "a=rtpmap:101 telephone-event/8000")
			assert.Contains(t, ok200.lines, "a=sendrecv")
			assert.Equal(t, 1.0, g.metrics(t)[mCalls("accepted")])
		})
	}
}

// TestDaemonSippCancelWhileRinging: sipp gives up while the bell rings:
// the daemon answers the CANCEL 200 and the INVITE 487, the bell stops
// and the phone is idle.
func TestDaemonSippCancelWhileRinging(t *testing.T) {
	needBinary(t, "sipp", "sip-tester")
	g := startDaemon(t, fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	dir := workDir(t)
	p := callDaemon(t, g, dir, "uac_cancel.xml")
	o := g.waitOutputs(t, "ringing", rings)
	assert.Equal(t, g.ringCadence(), o.Cadence)
	g.waitOutputs(t, "the bell stops", func(o sim.Outputs) bool { return !o.Ringing })
	ev := g.waitEvent(t, phone.RemoteHangup)
	assert.Equal(t, phone.StateIdle, ev.st)
	require.NoError(t, p.wait(t, 15*time.Second), "sipp scenario: 200 to CANCEL, 487 to INVITE")
	assert.False(t, g.line.OffHook())
	checkIdle(t, g)
	assert.Equal(t, 1.0, g.metrics(t)[mCalls("missed")])
}

// sippMessage is one message of sipp's -trace_msg log.
type sippMessage struct {
	sent  bool
	start string // the request or status line
	cseq  string // the CSeq method
	lines []string
}

// summary is "> METHOD" for a request sipp sent, "< CODE METHOD" for a
// response it received (and the other way round).
func (m sippMessage) summary() string {
	dir := "<"
	if m.sent {
		dir = ">"
	}
	if code, ok := strings.CutPrefix(m.start, "SIP/2.0 "); ok {
		code, _, _ = strings.Cut(code, " ")
		return dir + " " + code + " " + m.cseq
	}
	method, _, _ := strings.Cut(m.start, " ")
	return dir + " " + method
}

func findMessage(msgs []sippMessage, summary string) *sippMessage {
	for i := range msgs {
		if msgs[i].summary() == summary {
			return &msgs[i]
		}
	}
	return nil
}

// readSippTrace splits sipp's message trace: each message follows a
// "----…" line and a "UDP message sent/received" line.
func readSippTrace(t *testing.T, path string) []sippMessage {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err, "sipp's message trace")
	defer f.Close()
	var out []sippMessage
	cur := -1 // the message being read, or none
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(l, "-----"):
			cur = -1
		case cur < 0 && strings.Contains(l, "message sent"):
			out = append(out, sippMessage{sent: true})
			cur = len(out) - 1
		case cur < 0 && strings.Contains(l, "message received"):
			out = append(out, sippMessage{})
			cur = len(out) - 1
		case cur >= 0 && l != "":
			m := &out[cur]
			if m.start == "" {
				m.start = l
			}
			if v, ok := strings.CutPrefix(l, "CSeq:"); ok {
				if f := strings.Fields(v); len(f) > 0 {
					m.cseq = f[len(f)-1]
				}
			}
			m.lines = append(m.lines, l)
		}
	}
	require.NoError(t, sc.Err())
	return out
}
