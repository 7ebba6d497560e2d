package gateway

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/media"
	"github.com/kurodenwa/kurodenwa/pi-gateway/sipua"
)

// linphone is a headless linphonec: auto-answer, audio from a WAV of
// 440 Hz ("play"), received audio to a WAV ("record"), driven on stdin.
type linphone struct {
	dir     string
	sipPort int
	proc    *proc
	stdin   io.Writer
}

func startLinphone(t *testing.T) *linphone {
	t.Helper()
	bin := needBinary(t, "linphonec", "linphone-cli")
	l := &linphone{dir: workDir(t), sipPort: freePort(t)}
	writeToneWAV(t, filepath.Join(l.dir, "tone.wav"), baresipTone, 60*time.Second)
	rc := fmt.Sprintf(`[sip]
guess_hostname=0
contact="Linphone" <sip:linphone@127.0.0.1>
[rtp]
audio_rtp_port=%d
[sound]
echocancellation=0
`, freePort(t)&^1)
	require.NoError(t, os.WriteFile(filepath.Join(l.dir, "linphonerc"), []byte(rc), 0o600))
	// Without its database directory the core never starts and every
	// call gets 503.
	require.NoError(t, os.MkdirAll(filepath.Join(l.dir, ".local", "share", "linphone"), 0o700))
	var stdin io.WriteCloser
	l.proc, stdin = startProcStdin(t, true, []string{"HOME=" + l.dir}, l.dir, "linphonec", bin,
		"-c", filepath.Join(l.dir, "linphonerc"), "-a", "-d", "4", "-l", filepath.Join(l.dir, "liblinphone.log"))
	l.stdin = stdin
	// linphonec 5.1 ignores sip_port in its configuration: set it here.
	l.cmd(t, fmt.Sprintf("ports sip %d", l.sipPort))
	l.cmd(t, "play "+filepath.Join(l.dir, "tone.wav"))
	l.cmd(t, "record "+filepath.Join(l.dir, "received.wav"))
	return l
}

func (l *linphone) cmd(t *testing.T, line string) {
	t.Helper()
	_, err := fmt.Fprintln(l.stdin, line)
	require.NoError(t, err, "linphonec %q", line)
}

// quit ends linphonec and returns what it recorded.
func (l *linphone) quit(t *testing.T) []int16 {
	t.Helper()
	l.cmd(t, "quit")
	require.NoError(t, l.proc.wait(t, 10*time.Second))
	rec, rate, err := readWAV(filepath.Join(l.dir, "received.wav"))
	require.NoError(t, err)
	require.Equal(t, 8000, rate)
	return rec
}

// TestLinphoneAnswersOurCall: linphonec answers the UA's call; audio flows
// both ways; our BYE ends it.
func TestLinphoneAnswersOurCall(t *testing.T) {
	l := startLinphone(t)
	ua, _ := startUA(t, sipua.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	call, err := ua.Dial(ctx, fmt.Sprintf("sip:linphone@127.0.0.1:%d", l.sipPort))
	require.NoError(t, err)
	waitEvent(t, call, sipua.EventAnswered)
	go speak(ctx, call, 1004)
	_, ok := hear(t, call, baresipTone, 10*time.Second)
	assert.True(t, ok, "linphone's 440 Hz reaches us")
	listen(t, call, 2*time.Second)
	require.NoError(t, call.Hangup(ctx))
	got, d := hasTone(l.quit(t), 1004)
	assert.True(t, got, "linphone received our 1004 Hz: %v", d.Runs)
}

// TestLinphoneCallsUs: linphonec calls the UA, the phone answers, audio
// flows both ways, linphonec hangs up. linphonec offers its guessed
// global address (c=IN IP6 fd00::…) though it sends from 127.0.0.1: only
// symmetric RTP (latching onto where its packets come from) reaches it,
// as with a phone behind NAT.
func TestLinphoneCallsUs(t *testing.T) {
	l := startLinphone(t)
	ua, _ := startUA(t, sipua.Config{Media: media.Config{Symmetric: true}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l.cmd(t, fmt.Sprintf("call sip:%s@%s", testUser, ua.Addr()))
	call := waitIncoming(t, ua)
	require.NoError(t, call.Answer(ctx))
	waitEvent(t, call, sipua.EventAnswered)
	go speak(ctx, call, 1004)
	_, ok := hear(t, call, baresipTone, 10*time.Second)
	assert.True(t, ok, "linphone's 440 Hz reaches us")
	listen(t, call, 2*time.Second)
	l.cmd(t, "terminate")
	assert.Equal(t, sipua.CauseRemoteHangup, waitEvent(t, call, sipua.EventEnded).Cause)
	got, d := hasTone(l.quit(t), 1004)
	assert.True(t, got, "linphone received our 1004 Hz: %v", d.Runs)
}
