package gateway

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	barepkg "github.com/kurodenwa/kurodenwa/internal/baresip"
	"github.com/kurodenwa/kurodenwa/internal/tone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/sipua"
)

// baresip is a running baresip (internal/baresip) with test-failing
// helpers: SIP on 127.0.0.1, audio from a WAV file of a 440 Hz tone, the
// audio it receives dumped to WAV files (module sndfile), driven over
// ctrl_tcp.
type baresip struct {
	*barepkg.Baresip
	dir string
}

const baresipTone = 440.0

// startBaresip starts baresip with the account bob, answering calls at
// once, recording what it receives.
func startBaresip(t testing.TB) *baresip {
	t.Helper()
	return startBaresipOpts(t, true)
}

// startBaresipOpts is startBaresip, recording (module sndfile) or not.
func startBaresipOpts(t testing.TB, record bool) *baresip {
	t.Helper()
	bin := needBinary(t, "baresip", "baresip-core")
	dir := workDir(t)
	br, err := barepkg.Start(context.Background(), bin, barepkg.Options{Dir: dir, ToneFreq: baresipTone, Record: record})
	require.NoError(t, err)
	t.Cleanup(func() {
		br.Close()
		if t.Failed() {
			t.Logf("--- baresip ---\n%s", tail(br.LogPath(), 120))
		}
	})
	return &baresip{Baresip: br, dir: dir}
}

// command sends a ctrl_tcp command and waits for its reply.
func (b *baresip) command(t testing.TB, cmd, params string) map[string]any {
	t.Helper()
	r, err := b.Command(context.Background(), cmd, params)
	require.NoError(t, err)
	return r
}

// waitEvent waits, bounded, for a ctrl_tcp event of type typ.
func (b *baresip) waitEvent(t testing.TB, typ string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	e, err := b.WaitEvent(ctx, typ, func(e barepkg.Event) { t.Logf("baresip event: %v %v", e["type"], e["param"]) })
	require.NoError(t, err)
	return e
}

func (b *baresip) uri() string { return b.URI() }

// receivedAudio reads the WAV file sndfile wrote of the audio baresip
// decoded from the network (dump-…-dec.wav).
func (b *baresip) receivedAudio(t testing.TB) []int16 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pcm, err := b.ReceivedAudio(ctx)
	require.NoError(t, err)
	return pcm
}

// writeToneWAV writes an 8 kHz mono 16-bit WAV of a sine.
func writeToneWAV(t testing.TB, path string, freq float64, d time.Duration) {
	t.Helper()
	require.NoError(t, barepkg.WriteToneWAV(path, freq, d))
}

// readWAV reads a 16-bit PCM WAV (first channel).
func readWAV(path string) ([]int16, int, error) { return barepkg.ReadWAV(path) }

// hasTone reports whether freq is present for at least a second of pcm
// in all: a gap or two (a loaded machine, concealment) is no failure.
func hasTone(pcm []int16, freq float64) (bool, tone.Detection) {
	return barepkg.ToneFor(pcm, freq, time.Second)
}

// TestBaresipAnswersOurCall: the UA calls baresip, which answers at once;
// audio flows both ways (our 1004 Hz is in baresip's recording, its
// 440 Hz reaches us) and our BYE ends it.
func TestBaresipAnswersOurCall(t *testing.T) {
	b := startBaresip(t)
	ua, _ := startUA(t, sipua.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	call, err := ua.Dial(ctx, b.uri())
	require.NoError(t, err)
	waitEvent(t, call, sipua.EventAnswered)
	b.waitEvent(t, "CALL_ESTABLISHED")
	go speak(ctx, call, 1004)
	pcm, ok := hear(t, call, baresipTone, 10*time.Second)
	assert.True(t, ok, "baresip's 440 Hz reaches us (%v)", tone.Detector{Freq: baresipTone}.Detect(pcm).Runs)
	// Talk for two seconds more, for baresip's recording and our counts.
	more := listen(t, call, 2*time.Second)
	got, d := hasTone(more, baresipTone)
	assert.True(t, got, "440 Hz goes on: %v", d.Runs)
	require.NoError(t, call.Hangup(ctx))
	assert.Equal(t, sipua.CauseLocalHangup, call.Ended().Cause)
	b.waitEvent(t, "CALL_CLOSED")
	got, d = hasTone(b.receivedAudio(t), 1004)
	assert.True(t, got, "baresip received our 1004 Hz: %v", d.Runs)
	st := call.Stats()
	t.Logf("media: sent %d received %d lost %d late %d jitter %v latency mean %v max %v",
		st.PacketsSent, st.PacketsReceived, st.Lost, st.Late, st.Jitter, st.LatencyMean, st.LatencyMax)
	assert.Zero(t, st.Lost)
}

// TestBaresipCallsUs: baresip calls the UA (ctrl_tcp dial), the phone
// answers, audio flows both ways, baresip hangs up (BYE from remote).
func TestBaresipCallsUs(t *testing.T) {
	b := startBaresip(t)
	ua, _ := startUA(t, sipua.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b.command(t, "dial", fmt.Sprintf("sip:%s@%s", testUser, ua.Addr()))
	call := waitIncoming(t, ua)
	assert.Equal(t, "bob", call.Remote().User)
	require.NoError(t, call.Answer(ctx))
	waitEvent(t, call, sipua.EventAnswered)
	b.waitEvent(t, "CALL_ESTABLISHED")
	go speak(ctx, call, 1004)
	pcm, ok := hear(t, call, baresipTone, 10*time.Second)
	assert.True(t, ok, "baresip's 440 Hz reaches us (%v)", tone.Detector{Freq: baresipTone}.Detect(pcm).Runs)
	listen(t, call, 2*time.Second)
	b.command(t, "hangup", "")
	e := waitEvent(t, call, sipua.EventEnded)
	assert.Equal(t, sipua.CauseRemoteHangup, e.Cause)
	b.waitEvent(t, "CALL_CLOSED")
	got, d := hasTone(b.receivedAudio(t), 1004)
	assert.True(t, got, "baresip received our 1004 Hz: %v", d.Runs)
}
