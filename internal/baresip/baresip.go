// Package baresip runs a real baresip (Debian package baresip-core) on
// 127.0.0.1 as the far end of a call: it answers (at once or when told),
// plays a tone from a WAV file, records what it receives (module sndfile)
// and is driven over its ctrl_tcp module (JSON netstrings). The gateway's
// end-to-end tests and its demo share it.
package baresip

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
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kurodenwa/kurodenwa/internal/tone"
)

// ModulesDir is where Debian's baresip-core keeps its modules.
const ModulesDir = "/usr/lib/baresip/modules"

// Options configure a baresip.
type Options struct {
	Dir      string  // its configuration, logs and recordings (required)
	User     string  // the account's user part (default "bob")
	ToneFreq float64 // the tone it plays, Hz (default 440)
	// Record dumps the audio it decodes to Dir/dump-…-dec.wav.
	Record bool
	// ManualAnswer leaves incoming calls ringing until Command "accept".
	ManualAnswer bool
	// SIPPort, CtrlPort and RTPPort are free ports to use (0: pick).
	SIPPort, CtrlPort, RTPPort int
}

// Baresip is a running baresip.
type Baresip struct {
	Dir     string
	SIPPort int
	user    string
	cmd     *exec.Cmd
	exited  chan struct{}
	exitErr error
	ctrl    net.Conn
	events  chan Event

	mu      sync.Mutex
	replies map[string]chan Event
	token   int
}

// Event is a ctrl_tcp message: an event ("type", "class", "param") or a
// reply ("response", "ok", "data").
type Event map[string]any

// Type is an event's type, e.g. CALL_ESTABLISHED.
func (e Event) Type() string { s, _ := e["type"].(string); return s }

// FreePort returns a port free on 127.0.0.1 for both UDP and TCP now.
func FreePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free port on 127.0.0.1")
}

// errAddrInUse is start's error when baresip could not bind a port.
var errAddrInUse = errors.New("baresip: a port is in use")

// startAttempts bounds the tries with fresh ports.
const startAttempts = 3

// Start writes a configuration into o.Dir and starts baresip; it returns
// once its control port answers (bounded). Close stops it. Ports it
// picks itself are picked again if baresip finds one taken: it also
// binds SIPPort+1 (SIP over TLS, which baresip 1.0 cannot turn off), and
// binds without SO_REUSEADDR, so a port that looked free may not be.
func Start(ctx context.Context, bin string, o Options) (*Baresip, error) {
	if o.User == "" {
		o.User = "bob"
	}
	if o.ToneFreq == 0 {
		o.ToneFreq = 440
	}
	if err := WriteToneWAV(filepath.Join(o.Dir, "tone.wav"), o.ToneFreq, 120*time.Second); err != nil {
		return nil, err
	}
	given := o
	for attempt := 1; ; attempt++ {
		o := given
		for _, p := range []*int{&o.SIPPort, &o.CtrlPort, &o.RTPPort} {
			if *p == 0 {
				port, err := FreePort()
				if err != nil {
					return nil, err
				}
				*p = port
			}
		}
		b, err := start(ctx, bin, o)
		pickedAny := given.SIPPort == 0 || given.CtrlPort == 0 || given.RTPPort == 0
		if errors.Is(err, errAddrInUse) && pickedAny && attempt < startAttempts {
			continue
		}
		return b, err
	}
}

// start is one try of Start, with every port chosen and the tone written.
func start(ctx context.Context, bin string, o Options) (*Baresip, error) {
	rtp := o.RTPPort &^ 1
	sndfile := ""
	if o.Record {
		sndfile = "module sndfile.so\n"
	}
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
call_local_timeout 120
audio_player aubridge,nil
audio_source aufile,%s/tone.wav
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
`, o.SIPPort, o.Dir, rtp, rtp+20, ModulesDir, sndfile, o.CtrlPort, o.Dir)
	answer := "auto"
	if o.ManualAnswer {
		answer = "manual"
	}
	files := map[string]string{
		"config":   config,
		"accounts": fmt.Sprintf("<sip:%s@127.0.0.1>;regint=0;answermode=%s;audio_codecs=PCMU,PCMA\n", o.User, answer),
		"contacts": "",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(o.Dir, name), []byte(body), 0o600); err != nil {
			return nil, fmt.Errorf("baresip %s: %w", name, err)
		}
	}
	logf, err := os.Create(filepath.Join(o.Dir, "baresip.log"))
	if err != nil {
		return nil, err
	}
	b := &Baresip{Dir: o.Dir, SIPPort: o.SIPPort, user: o.User, exited: make(chan struct{}), events: make(chan Event, 64), replies: map[string]chan Event{}}
	b.cmd = exec.Command(bin, "-f", o.Dir)
	b.cmd.Dir = o.Dir
	b.cmd.Stdout, b.cmd.Stderr = logf, logf
	// Its own process group, so Close kills everything it started.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := b.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start baresip: %w", err)
	}
	go func() {
		b.exitErr = b.cmd.Wait()
		logf.Close()
		close(b.exited)
	}()

	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", o.CtrlPort))
		if err == nil {
			b.ctrl = c
			break
		}
		select {
		case <-b.exited:
			if log, _ := os.ReadFile(b.LogPath()); strings.Contains(string(log), "Address already in use") {
				return nil, fmt.Errorf("%w: baresip exited at start: %v (log: %s)", errAddrInUse, b.exitErr, b.LogPath())
			}
			return nil, fmt.Errorf("baresip exited at start: %v (log: %s)", b.exitErr, b.LogPath())
		case <-ctx.Done():
			b.Close()
			return nil, fmt.Errorf("baresip's ctrl_tcp did not open within 10 s: %w", err)
		case <-time.After(20 * time.Millisecond): // baresip starts in its own time; nothing to wait on
		}
	}
	go b.readCtrl()
	return b, nil
}

// LogPath is baresip's log file.
func (b *Baresip) LogPath() string { return filepath.Join(b.Dir, "baresip.log") }

// URI is the account's address.
func (b *Baresip) URI() string { return fmt.Sprintf("sip:%s@127.0.0.1:%d", b.user, b.SIPPort) }

// Close stops baresip: SIGTERM to its group, SIGKILL after 3 s.
func (b *Baresip) Close() error {
	if b.ctrl != nil {
		b.ctrl.Close()
	}
	select {
	case <-b.exited:
		return nil
	default:
	}
	pgid := b.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-b.exited
	}
	return nil
}

// readCtrl splits ctrl_tcp's netstrings ("len:json,") into replies and
// events.
func (b *Baresip) readCtrl() {
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
		var m Event
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

// Command sends a ctrl_tcp command ("dial", "accept", "hangup", …) and
// waits, bounded by ctx and 10 s, for its reply.
func (b *Baresip) Command(ctx context.Context, cmd, params string) (Event, error) {
	b.mu.Lock()
	b.token++
	tok := strconv.Itoa(b.token)
	ch := make(chan Event, 1)
	b.replies[tok] = ch
	b.mu.Unlock()
	msg, err := json.Marshal(map[string]string{"command": cmd, "params": params, "token": tok})
	if err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintf(b.ctrl, "%d:%s,", len(msg), msg); err != nil {
		return nil, fmt.Errorf("baresip %s: %w", cmd, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("baresip did not answer %q: %w", cmd, ctx.Err())
	}
}

// WaitEvent waits, bounded by ctx, for an event of type typ; seen, if
// set, is shown every event on the way.
func (b *Baresip) WaitEvent(ctx context.Context, typ string, seen func(Event)) (Event, error) {
	for {
		select {
		case e, ok := <-b.events:
			if !ok {
				return nil, errors.New("baresip's control connection closed")
			}
			if seen != nil {
				seen(e)
			}
			if e.Type() == typ {
				return e, nil
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("no baresip %s event: %w", typ, ctx.Err())
		}
	}
}

// ReceivedAudio reads the WAV file sndfile wrote of the audio baresip
// decoded (dump-…-dec.wav), waiting for it, bounded by ctx: it appears
// when the call ends.
func (b *Baresip) ReceivedAudio(ctx context.Context) ([]int16, error) {
	for {
		m, _ := filepath.Glob(filepath.Join(b.Dir, "dump-*dec.wav"))
		if len(m) > 0 {
			pcm, rate, err := ReadWAV(m[len(m)-1])
			if err != nil {
				return nil, err
			}
			if rate != tone.DefaultSampleRate {
				return nil, fmt.Errorf("baresip's recording is at %d Hz, want 8000", rate)
			}
			return pcm, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("sndfile wrote no dump-*-dec.wav in %s: %w", b.Dir, ctx.Err())
		case <-time.After(50 * time.Millisecond): // a file appearing has no event to wait on
		}
	}
}

// WriteToneWAV writes an 8 kHz mono 16-bit WAV of a sine.
func WriteToneWAV(path string, freq float64, d time.Duration) error {
	g, err := tone.FromList(strconv.FormatFloat(freq, 'f', -1, 64))
	if err != nil {
		return err
	}
	pcm := make([]int16, int(d.Seconds()*8000))
	g.Read(pcm)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	data := len(pcm) * 2
	hdr := []any{[]byte("RIFF"), uint32(36 + data), []byte("WAVEfmt "), uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16), []byte("data"), uint32(data)}
	for _, v := range hdr {
		if err := binary.Write(f, binary.LittleEndian, v); err != nil {
			f.Close()
			return err
		}
	}
	if err := binary.Write(f, binary.LittleEndian, pcm); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadWAV reads a 16-bit PCM WAV (first channel), tolerating a header
// whose sizes were never filled in (sndfile's, when baresip is killed).
func ReadWAV(path string) ([]int16, int, error) {
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
		if size < 0 {
			break
		}
		off += 8 + size + size%2
	}
	return nil, 0, errors.New("no data chunk")
}

// ToneFor reports whether freq is present for at least min of pcm in
// all: a gap or two (a loaded machine, concealment) is no failure.
func ToneFor(pcm []int16, freq float64, minOn time.Duration) (bool, tone.Detection) {
	d := tone.Detector{Freq: freq}.Detect(pcm)
	on := time.Duration(0)
	for _, r := range d.Runs {
		if r.On {
			on += r.Duration
		}
	}
	return on >= minOn, d
}

// Pid is baresip's process id (for CPU figures).
func (b *Baresip) Pid() int { return b.cmd.Process.Pid }
