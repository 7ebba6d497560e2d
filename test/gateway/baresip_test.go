package gateway

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/tone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/sipua"
)

// baresip is a running baresip: SIP on 127.0.0.1:sipPort, audio from a
// WAV file of a 440 Hz tone, the audio it receives dumped to WAV files
// (module sndfile), driven over ctrl_tcp.
type baresip struct {
	dir     string
	sipPort int
	proc    *proc
	ctrl    net.Conn
	events  chan map[string]any
	mu      sync.Mutex
	replies map[string]chan map[string]any
	token   int
}

const baresipTone = 440.0

// startBaresip writes a configuration into dir and starts baresip with
// the account bob, answering calls at once, recording what it receives.
func startBaresip(t testing.TB) *baresip {
	t.Helper()
	return startBaresipOpts(t, true)
}

// startBaresipOpts is startBaresip, recording (module sndfile) or not.
func startBaresipOpts(t testing.TB, record bool) *baresip {
	t.Helper()
	bin := needBinary(t, "baresip", "baresip-core")
	dir := workDir(t)
	b := &baresip{dir: dir, sipPort: freePort(t), events: make(chan map[string]any, 64), replies: map[string]chan map[string]any{}}
	ctrlPort := freePort(t)
	rtp := freePort(t) &^ 1
	writeToneWAV(t, filepath.Join(dir, "tone440.wav"), baresipTone, 60*time.Second)
	modules := "/usr/lib/baresip/modules"
	sndfile := ""
	if record {
		sndfile = "module sndfile.so\n"
	}
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
call_local_timeout 120
audio_player aubridge,nil
audio_source aufile,%s/tone440.wav
audio_alert aubridge,nil
audio_buffer 20-160
rtp_ports %d-%d
jitter_buffer_delay 1-5
module_path %s
module g711.so
module aufile.so
module aubridge.so
%smodule_tmp account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:%d
snd_path %s
`, b.sipPort, dir, rtp, rtp+20, modules, sndfile, ctrlPort, dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600))
	// answermode=auto: baresip answers as soon as a call comes in.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "accounts"), []byte("<sip:bob@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "contacts"), nil, 0o600))
	b.proc = startProc(t, dir, "baresip", bin, "-f", dir)

	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ctrlPort))
		if err == nil {
			b.ctrl = c
			break
		}
		select {
		case <-b.proc.exited:
			t.Fatalf("baresip exited: %v", b.proc.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("baresip's ctrl_tcp did not open: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // baresip starts in its own time
	}
	t.Cleanup(func() { b.ctrl.Close() })
	go b.readCtrl()
	return b
}

// readCtrl splits ctrl_tcp's netstrings ("len:json,") into replies and
// events.
func (b *baresip) readCtrl() {
	r := bufio.NewReader(b.ctrl)
	defer close(b.events)
	for {
		lenStr, err := r.ReadString(':')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(lenStr, ":")))
		if err != nil || n < 0 || n > 1<<20 {
			return
		}
		buf := make([]byte, n+1)
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		var m map[string]any
		if json.Unmarshal(buf[:n], &m) != nil {
			continue
		}
		if m["response"] == true {
			tok, _ := m["token"].(string)
			b.mu.Lock()
			ch := b.replies[tok]
			delete(b.replies, tok)
			b.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		b.events <- m
	}
}

// command sends a ctrl_tcp command and waits for its reply.
func (b *baresip) command(t testing.TB, cmd, params string) map[string]any {
	t.Helper()
	b.mu.Lock()
	b.token++
	tok := strconv.Itoa(b.token)
	ch := make(chan map[string]any, 1)
	b.replies[tok] = ch
	b.mu.Unlock()
	msg, err := json.Marshal(map[string]string{"command": cmd, "params": params, "token": tok})
	require.NoError(t, err)
	_, err = fmt.Fprintf(b.ctrl, "%d:%s,", len(msg), msg)
	require.NoError(t, err)
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("baresip did not answer %q", cmd)
	}
	return nil
}

// waitEvent waits, bounded, for a ctrl_tcp event of type typ.
func (b *baresip) waitEvent(t testing.TB, typ string) map[string]any {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case e, ok := <-b.events:
			require.True(t, ok, "baresip's control connection closed")
			t.Logf("baresip event: %v %v", e["type"], e["param"])
			if e["type"] == typ {
				return e
			}
		case <-deadline:
			t.Fatalf("no baresip %s event within 15 s", typ)
		}
	}
}

func (b *baresip) uri() string { return fmt.Sprintf("sip:bob@127.0.0.1:%d", b.sipPort) }

// receivedAudio reads the WAV file sndfile wrote of the audio baresip
// decoded from the network (dump-…-dec.wav).
func (b *baresip) receivedAudio(t testing.TB) []int16 {
	t.Helper()
	var path string
	deadline := time.Now().Add(10 * time.Second)
	for path == "" {
		m, _ := filepath.Glob(filepath.Join(b.dir, "dump-*dec.wav"))
		if len(m) > 0 {
			path = m[len(m)-1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sndfile wrote no dump-*-dec.wav in %s", b.dir)
		}
		time.Sleep(50 * time.Millisecond) // written when the call ends
	}
	pcm, rate, err := readWAV(path)
	require.NoError(t, err)
	require.Equal(t, 8000, rate, "the decoder's rate")
	return pcm
}

// writeToneWAV writes an 8 kHz mono 16-bit WAV of a sine.
func writeToneWAV(t testing.TB, path string, freq float64, d time.Duration) {
	t.Helper()
	g, err := tone.FromList(fmt.Sprint(freq))
	require.NoError(t, err)
	pcm := make([]int16, int(d.Seconds()*8000))
	g.Read(pcm)
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	data := len(pcm) * 2
	hdr := []any{[]byte("RIFF"), uint32(36 + data), []byte("WAVEfmt "), uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16), []byte("data"), uint32(data)}
	for _, v := range hdr {
		require.NoError(t, binary.Write(f, binary.LittleEndian, v))
	}
	require.NoError(t, binary.Write(f, binary.LittleEndian, pcm))
}

// readWAV reads a 16-bit PCM WAV (first channel), tolerating a header
// whose sizes were never filled in.
func readWAV(path string) ([]int16, int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return nil, 0, errors.New("not a WAV file")
	}
	var rate, channels int
	for off := 12; off+8 <= len(data); {
		id, size := string(data[off:off+4]), int(binary.LittleEndian.Uint32(data[off+4:off+8]))
		body := data[off+8:]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return nil, 0, errors.New("short fmt chunk")
			}
			channels = int(binary.LittleEndian.Uint16(body[2:4]))
			rate = int(binary.LittleEndian.Uint32(body[4:8]))
			if bits := binary.LittleEndian.Uint16(body[14:16]); bits != 16 {
				return nil, 0, fmt.Errorf("%d-bit samples", bits)
			}
		case "data":
			if size <= 0 || size > len(body) {
				size = len(body)
			}
			step := 2 * max(channels, 1)
			pcm := make([]int16, 0, size/step)
			for i := 0; i+1 < size; i += step {
				pcm = append(pcm, int16(binary.LittleEndian.Uint16(body[i:])))
			}
			return pcm, rate, nil
		}
		off += 8 + size + size%2
	}
	return nil, 0, errors.New("no data chunk")
}

// hasTone reports whether freq is present for at least a second of pcm
// in all: a gap or two (a loaded machine, concealment) is no failure.
func hasTone(pcm []int16, freq float64) (bool, tone.Detection) {
	d := tone.Detector{Freq: freq}.Detect(pcm)
	on := time.Duration(0)
	for _, r := range d.Runs {
		if r.On {
			on += r.Duration
		}
	}
	return on >= time.Second, d
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
