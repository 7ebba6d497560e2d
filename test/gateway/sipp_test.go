package gateway

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/tone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/media"
	"github.com/kurodenwa/kurodenwa/pi-gateway/sipua"
)

// callUA starts a sipp UAC scenario against the UA.
func callUA(t *testing.T, ua *sipua.UA, scenario string, extra ...string) *proc {
	t.Helper()
	sipp := needBinary(t, "sipp", "sip-tester")
	dir := workDir(t)
	args := sippArgs(t, dir, scenario, append(extra, "-s", testUser, ua.Addr().String())...)
	return startProc(t, dir, "sipp-"+scenario, sipp, args...)
}

// TestSippCallAnsweredByeFromRemote: INVITE → 180 → (Answer) 200 → ACK;
// sipp echoes our RTP (1004 Hz comes back), then BYE from sipp.
func TestSippCallAnsweredByeFromRemote(t *testing.T) {
	needBinary(t, "sipp", "sip-tester")
	ua, _ := startUA(t, sipua.Config{})
	p := callUA(t, ua, "uac_answer_bye.xml", "-rtp_echo")
	call := waitIncoming(t, ua)
	assert.Equal(t, "sipp", call.Remote().User)
	assert.Equal(t, "SIPp", call.Remote().Name)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, call.Answer(ctx))
	waitEvent(t, call, sipua.EventAnswered)
	go speak(ctx, call, 1004)
	_, ok := hear(t, call, 1004, 2500*time.Millisecond)
	assert.True(t, ok, "our 1004 Hz comes back from sipp's RTP echo")
	e := waitEvent(t, call, sipua.EventEnded)
	assert.Equal(t, sipua.CauseRemoteHangup, e.Cause)
	st := call.Stats()
	assert.Positive(t, st.PacketsSent)
	assert.Positive(t, st.PacketsReceived)
	require.NoError(t, p.wait(t, 15*time.Second), "sipp scenario")
}

// TestSippCancelBeforeAnswer: the caller gives up while we ring.
func TestSippCancelBeforeAnswer(t *testing.T) {
	needBinary(t, "sipp", "sip-tester")
	ua, _ := startUA(t, sipua.Config{})
	p := callUA(t, ua, "uac_cancel.xml")
	call := waitIncoming(t, ua)
	e := waitEvent(t, call, sipua.EventEnded)
	assert.Equal(t, sipua.CauseCancelled, e.Cause)
	assert.Equal(t, 487, e.Status)
	require.NoError(t, p.wait(t, 15*time.Second), "sipp scenario: 200 to CANCEL, 487 to INVITE")
}

// TestSippBusy: the phone refuses the call with 486.
func TestSippBusy(t *testing.T) {
	needBinary(t, "sipp", "sip-tester")
	ua, _ := startUA(t, sipua.Config{})
	p := callUA(t, ua, "uac_busy.xml")
	call := waitIncoming(t, ua)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, call.Reject(ctx, 486))
	e := waitEvent(t, call, sipua.EventEnded)
	assert.Equal(t, sipua.CauseDeclined, e.Cause)
	require.NoError(t, p.wait(t, 15*time.Second), "sipp scenario: 486 then ACK")
}

// TestSippHoldReinvite: a re-INVITE with a=sendonly is answered
// a=recvonly and reported as Held; a=sendrecv resumes.
func TestSippHoldReinvite(t *testing.T) {
	needBinary(t, "sipp", "sip-tester")
	ua, _ := startUA(t, sipua.Config{})
	p := callUA(t, ua, "uac_hold.xml")
	call := waitIncoming(t, ua)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, call.Answer(ctx))
	waitEvent(t, call, sipua.EventAnswered)
	waitEvent(t, call, sipua.EventHeld)
	waitEvent(t, call, sipua.EventResumed)
	e := waitEvent(t, call, sipua.EventEnded)
	assert.Equal(t, sipua.CauseRemoteHangup, e.Cause)
	require.NoError(t, p.wait(t, 15*time.Second), "sipp scenario: recvonly, then sendrecv answers")
}

// TestSippBusyWhileInCall: with one call up, a second INVITE gets 486
// from the UA itself.
func TestSippBusyWhileInCall(t *testing.T) {
	needBinary(t, "sipp", "sip-tester")
	ua, _ := startUA(t, sipua.Config{})
	first := callUA(t, ua, "uac_hold.xml")
	call := waitIncoming(t, ua)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, call.Answer(ctx))
	second := callUA(t, ua, "uac_busy.xml")
	require.NoError(t, second.wait(t, 15*time.Second), "the second call gets 486 without the phone being asked")
	select {
	case c := <-ua.Incoming():
		t.Fatalf("a second call was offered: %s", c.ID())
	default:
	}
	waitEvent(t, call, sipua.EventEnded)
	require.NoError(t, first.wait(t, 15*time.Second))
}

// TestSippEarlyMedia: the UA calls sipp, which answers 183 with SDP and
// streams a 440 Hz tone before its 200: the UA reports EarlyMedia (the
// phone stops its local ringback) and the tone is heard before the
// answer; then our BYE.
func TestSippEarlyMedia(t *testing.T) {
	sipp := needBinary(t, "sipp", "sip-tester")
	dir := workDir(t)
	ulaw := filepath.Join(dir, "tone440.ulaw")
	writeToneULaw(t, ulaw, baresipTone, 10*time.Second)
	// sipp reads rtp_stream's file when it loads the scenario, before any
	// keyword is replaced: write the path into a copy.
	tmpl, err := os.ReadFile(filepath.Join("testdata", "uas_early_media.xml"))
	require.NoError(t, err)
	scenario := filepath.Join(dir, "uas_early_media.xml")
	require.NoError(t, os.WriteFile(scenario, []byte(strings.ReplaceAll(string(tmpl), "TONE_FILE", ulaw)), 0o600))
	port := freePort(t)
	args := sippArgs(t, dir, scenario)
	args[5] = fmt.Sprint(port) // -p
	p := startProc(t, dir, "sipp-uas", sipp, args...)
	ua, _ := startUA(t, sipua.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// sipp's UDP socket may still be opening: the INVITE is retransmitted.
	call, err := ua.Dial(ctx, fmt.Sprintf("sip:sipp@127.0.0.1:%d", port))
	require.NoError(t, err)
	e := waitEvent(t, call, sipua.EventEarlyMedia)
	assert.Equal(t, 183, e.Status)
	_, ok := hear(t, call, baresipTone, 2500*time.Millisecond)
	assert.True(t, ok, "the early media tone is heard")
	assert.Equal(t, sipua.StateEarly, call.State(), "before the answer")
	waitEvent(t, call, sipua.EventAnswered)
	require.NoError(t, call.Hangup(ctx))
	require.NoError(t, p.wait(t, 15*time.Second), "sipp scenario")
}

// writeToneULaw writes raw µ-law audio of a sine (sipp's rtp_stream).
func writeToneULaw(t testing.TB, path string, freq float64, d time.Duration) {
	t.Helper()
	g, err := tone.FromList(fmt.Sprint(freq))
	require.NoError(t, err)
	pcm := make([]int16, int(d.Seconds()*8000))
	g.Read(pcm)
	require.NoError(t, os.WriteFile(path, media.PCMU.Encode(nil, pcm), 0o600))
}

// TestSippInviteDigest: the INVITE is challenged with 401 (as Asterisk
// does); the UA ACKs it, answers with Authorization and the call is set
// up; then our BYE.
func TestSippInviteDigest(t *testing.T) {
	sipp := needBinary(t, "sipp", "sip-tester")
	dir := workDir(t)
	port := freePort(t)
	args := sippArgs(t, dir, "uas_auth_invite.xml")
	args[5] = fmt.Sprint(port) // -p
	p := startProc(t, dir, "sipp-uas", sipp, args...)
	ua, _ := startUA(t, sipua.Config{Password: testPassword})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := ua.Dial(ctx, fmt.Sprintf("sip:0312345678@127.0.0.1:%d", port))
	require.NoError(t, err)
	waitEvent(t, call, sipua.EventAnswered)
	require.NoError(t, call.Hangup(ctx))
	require.NoError(t, p.wait(t, 15*time.Second), "sipp scenario: 401, ACK, authenticated INVITE, 200, BYE")
}
