package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	barepkg "github.com/kurodenwa/kurodenwa/internal/baresip"
	"github.com/kurodenwa/kurodenwa/internal/syncbuf"
	"github.com/kurodenwa/kurodenwa/internal/tone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/audio"
	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/config"
	"github.com/kurodenwa/kurodenwa/pi-gateway/daemon"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/sim"
	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/sipua"
	"github.com/kurodenwa/kurodenwa/pi-gateway/status"
)

// micTone is what the daemon's file audio says into the call.
const micTone = 1004.0

// gatewayDaemon is the whole pi-gateway daemon (pi-gateway/daemon: the UA,
// the phone state machine, local tones, the audio pump and the status
// server) on the simulated line, with the file audio device: its
// microphone is a WAV file of micTone, and what reaches the earpiece is
// written to a WAV file and kept in memory for the test to listen to.
type gatewayDaemon struct {
	ua     *sipua.UA
	line   *sim.Line
	ear    *earTap
	zone   tone.Zone
	phone  *history[observed] // every event the phone handled
	outs   *history[sim.Outputs]
	status status.Client // the daemon's status server
}

// observed is one event the phone handled and the state it led to.
type observed struct {
	ev   phone.Event
	st   phone.State
	cmds []phone.Command
}

// startDaemon runs the daemon until the test ends. registrar is where it
// registers ("127.0.0.1:PORT"); calls need no registration.
func startDaemon(t *testing.T, registrar string) *gatewayDaemon {
	t.Helper()
	dir := workDir(t)
	mic := filepath.Join(dir, "mic.wav")
	require.NoError(t, barepkg.WriteToneWAV(mic, micTone, 30*time.Second))
	rtp := freePort(t) &^ 1
	yaml := fmt.Sprintf(`line: {backend: sim}
audio:
  backend: file
  file: {input: %s, loop: true, output: %s, realtime: true}
sip:
  registrar: %s
  bind: 127.0.0.1:0
  rtp_ports: %d-%d
phone:
  digit_map: "(2xx|x.T)"
  tone_zone: jp
http:
  listen: 127.0.0.1:%d
`, mic, filepath.Join(dir, "earpiece.wav"), registrar, rtp, rtp+40, freePort(t))
	cfg, err := config.Parse([]byte(yaml), "daemon test", config.Options{LookupEnv: func(k string) (string, bool) {
		if k == "KURODENWA_SIP_PASSWORD" {
			return testPassword, true
		}
		return "", false
	}})
	require.NoError(t, err)
	zone, err := cfg.Zone()
	require.NoError(t, err)
	pc, err := cfg.PhoneConfig()
	require.NoError(t, err)
	pulses, err := cfg.PulseConfig()
	require.NoError(t, err)

	logs := &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ua, err := sipua.New(daemon.SIPConfig(cfg), log.With("part", "sip"))
	require.NoError(t, err)
	clk := clock.Real{}
	dev, err := cfg.OpenAudio(clk, log.With("part", "audio"))
	require.NoError(t, err)
	g := &gatewayDaemon{ua: ua, ear: newEarTap(dev), zone: zone, phone: newHistory[observed](), outs: newHistory[sim.Outputs](),
		status: status.Client{Base: "http://" + cfg.HTTP.Listen}}
	// OnChange runs under the line's lock: record only.
	g.line, err = sim.New(sim.Options{Pulse: pulses, Clock: clk, OnChange: g.outs.add})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Options{
			Line: g.line, Audio: g.ear, UA: daemon.FromSIPUA(ua), Phone: pc, Zone: zone, Clock: clk, Log: log,
			StatusListen: cfg.HTTP.Listen, Registrar: cfg.SIP.Registrar,
			Observe: func(ev phone.Event, st phone.State, cmds []phone.Command) { g.phone.add(observed{ev, st, cmds}) },
			Started: func(*daemon.Daemon) { close(started) },
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("daemon: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("the daemon did not stop within 20 s")
		}
		g.line.Close()
		if err := dev.Close(); err != nil {
			t.Errorf("audio: %v", err)
		}
		if t.Failed() || os.Getenv("KURODENWA_TEST_UA_LOG") != "" {
			t.Logf("--- daemon log ---\n%s", logs.String())
		}
	})
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("daemon stopped at start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("daemon not running within 10 s")
	}
	g.waitStatus(t)
	return g
}

// uri is the address a peer calls the black phone at.
func (g *gatewayDaemon) uri() string { return fmt.Sprintf("sip:%s@%s", testUser, g.ua.Addr()) }

// waitState waits, bounded, until the phone reaches st; it returns the
// event that led there.
func (g *gatewayDaemon) waitState(t *testing.T, st phone.State) observed {
	t.Helper()
	return g.phone.wait(t, 15*time.Second, "phone state "+st.String(), func(o observed) bool { return o.st == st })
}

// waitEvent waits, bounded, for a phone event of kind k.
func (g *gatewayDaemon) waitEvent(t *testing.T, k phone.EventKind) observed {
	t.Helper()
	return g.phone.wait(t, 15*time.Second, "phone event "+k.String(), func(o observed) bool { return o.ev.Kind == k })
}

// waitOutputs waits, bounded, until the line's outputs are want.
func (g *gatewayDaemon) waitOutputs(t *testing.T, what string, ok func(sim.Outputs) bool) sim.Outputs {
	t.Helper()
	return g.outs.wait(t, 15*time.Second, "line outputs: "+what, ok)
}

// ringCadence is the tone plan's ringing signal.
func (g *gatewayDaemon) ringCadence() []time.Duration {
	var c []time.Duration
	for _, ms := range g.zone.RingCadence {
		c = append(c, time.Duration(ms)*time.Millisecond)
	}
	return c
}

// waitStatus waits, bounded, for the status server to answer.
func (g *gatewayDaemon) waitStatus(t *testing.T) {
	t.Helper()
	require.NoError(t, g.status.Wait(context.Background(), 5*time.Second))
}

// health reads /health: 200, or 503 when not registered, is a document.
func (g *gatewayDaemon) health(t *testing.T) status.Health {
	t.Helper()
	h, err := g.status.Health(context.Background())
	require.NoError(t, err)
	t.Logf("/health: registration %v, line %+v, calls %+v, media %+v", h.Registration, h.Line, h.Calls, h.Media)
	return h
}

// metrics reads /metrics: each sample by its name and labels in the text
// format's spelling, e.g. status.SampleRTPSent.
func (g *gatewayDaemon) metrics(t *testing.T) map[string]float64 {
	t.Helper()
	m, err := g.status.Metrics(context.Background())
	require.NoError(t, err)
	return m.Values
}

// history keeps everything one source reported, for one waiter that
// reads it in order.
type history[T any] struct {
	mu     sync.Mutex
	items  []T
	next   int // the waiter's place
	notify chan struct{}
}

func newHistory[T any]() *history[T] { return &history[T]{notify: make(chan struct{}, 1)} }

// add records v; it never blocks.
func (h *history[T]) add(v T) {
	h.mu.Lock()
	h.items = append(h.items, v)
	h.mu.Unlock()
	select {
	case h.notify <- struct{}{}:
	default:
	}
}

// all returns everything recorded so far.
func (h *history[T]) all() []T {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]T(nil), h.items...)
}

// wait returns the first item from the waiter's place on for which ok
// holds, skipping the others; it fails the test after limit.
func (h *history[T]) wait(t *testing.T, limit time.Duration, what string, ok func(T) bool) T {
	t.Helper()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		h.mu.Lock()
		for h.next < len(h.items) {
			v := h.items[h.next]
			h.next++
			if ok(v) {
				h.mu.Unlock()
				return v
			}
		}
		h.mu.Unlock()
		select {
		case <-h.notify:
		case <-timer.C:
			t.Fatalf("no %s within %v; seen: %v", what, limit, h.all())
		}
	}
}

// earTap is the daemon's audio device with what reaches the earpiece
// also kept in memory, so the test can listen as the call goes.
type earTap struct {
	audio.Device
	mu     sync.Mutex
	heard  []int16
	notify chan struct{}
}

func newEarTap(d audio.Device) *earTap { return &earTap{Device: d, notify: make(chan struct{}, 1)} }

func (e *earTap) Write(ctx context.Context, frame []int16) error {
	if err := e.Device.Write(ctx, frame); err != nil {
		return err
	}
	e.mu.Lock()
	e.heard = append(e.heard, frame...)
	e.mu.Unlock()
	select {
	case e.notify <- struct{}{}:
	default:
	}
	return nil
}

// next returns the next d of what the earpiece hears, from now on.
func (e *earTap) next(t *testing.T, d time.Duration) []int16 {
	t.Helper()
	e.mu.Lock()
	from := len(e.heard)
	e.mu.Unlock()
	want := int(d.Seconds() * audio.SampleRate)
	limit := time.NewTimer(d + 5*time.Second)
	defer limit.Stop()
	for {
		e.mu.Lock()
		if len(e.heard)-from >= want {
			pcm := append([]int16(nil), e.heard[from:from+want]...)
			e.mu.Unlock()
			return pcm
		}
		e.mu.Unlock()
		select {
		case <-e.notify:
		case <-limit.C:
			t.Fatalf("the earpiece got less than %v of audio within %v", d, d+5*time.Second)
		}
	}
}
